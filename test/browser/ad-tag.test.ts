import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_DIR } from '../../src/server/routes/tag-routes.js';
import { ROOT } from '../support/cli-process.js';
import { imageAd, type Running, startAllot } from '../support/start-allot.js';

/** A publisher's page on another origin than Allot: one ad at the top, one far below the fold. */
const page = (allot: string) => `<!doctype html><html><head><meta charset="utf-8"><title>News</title></head>
<body style="margin:0">
  <div id="top" data-allot-placement="top" data-allot-user="reader-1" data-allot-ctx-country="DE"></div>
  <div id="empty" data-allot-placement="nothing"></div>
  <div style="height:4000px">article…</div>
  <div id="below" data-allot-placement="below" data-allot-user="reader-1"></div>
  <div style="height:2000px"></div>
  <script async src="${allot}/tag.js"></script>
</body></html>`;

type Status = { ads: Array<{ adId: string; decisions: number; impressions: number; clicks: number }> };

describe('publisher ad tag in Chromium', () => {
  let allot: Running;
  let publisher: Server;
  let publisherUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    // The tag is a build product (npm test builds first); a direct vitest run builds it here.
    execFileSync(process.execPath, ['scripts/build-web.mjs'], { cwd: ROOT, stdio: 'ignore' });
    allot = await startAllot({ ALLOT_ARCHIVE_DIR: 'off' });
    const html = page(allot.base);
    // The publisher's page, and (at /landing) the advertiser's landing page.
    const retryPage = `<!doctype html><html><body>
  <div id="retry" data-allot-placement="retry" data-allot-user="reader-2" data-allot-ctx-country="DE"></div>
  <script async src="${allot.base}/tag.js"></script></body></html>`;
    const pages: Record<string, string> = { '/landing': 'advertiser', '/retry': retryPage };
    publisher = createServer((req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end(pages[req.url ?? ''] ?? html),
    );
    await new Promise<void>((r) => publisher.listen(0, '127.0.0.1', r));
    const address = publisher.address();
    publisherUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/`;
    await allot.json(
      'POST',
      '/v1/ads',
      imageAd('a', { targeting: { key: 'country', in: ['DE'] }, clickUrl: `${publisherUrl}landing` }),
    );
    await allot.json('POST', '/v1/ads', {
      id: 'h',
      name: 'HTML ad',
      creative: {
        type: 'html',
        html: '<p id="x">hello</p><script>parent.document.title = "pwned"</script>',
        width: 300,
        height: 250,
      },
      clickUrl: 'https://advertiser.example.com/h',
    });
    for (const [id, ad] of [
      ['top', 'a'],
      ['below', 'h'],
      ['retry', 'a'],
    ] as const) {
      await allot.json('POST', '/v1/placements', { id, name: id });
      await allot.json('PUT', `/v1/placements/${id}/targets`, { targets: [{ adId: ad, share: 1 }] });
    }
    await allot.json('POST', '/v1/placements', { id: 'nothing', name: 'no ads here' });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    publisher?.close();
    await allot?.stop();
  });

  const status = async (placementId: string) =>
    (await allot.json<Status>('GET', `/v1/placements/${placementId}/status`)).body.ads;
  const counts = async (placementId: string, adId: string) => {
    const ad = (await status(placementId)).find((x) => x.adId === adId);
    return { decisions: ad?.decisions ?? 0, impressions: ad?.impressions ?? 0, clicks: ad?.clicks ?? 0 };
  };
  const eventually = async <T>(probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> => {
    for (let i = 0; i < 50; i++) {
      const v = await probe();
      if (ok(v)) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    return probe();
  };

  it('renders, counts a viewable impression, never one for an ad not scrolled into view, hides no-fill', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    await context.route('https://advertiser.example.com/**', (route) =>
      route.fulfill({ body: 'advertiser' }),
    );
    await context.route('https://cdn.example.com/**', (route) =>
      route.fulfill({
        contentType: 'image/svg+xml',
        body: '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="250"/>',
      }),
    );
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(String(e)));
    tab.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await tab.goto(publisherUrl);

    // The top ad is in view: its impression fires after 1 s of viewability.
    await tab.waitForSelector('#top[data-allot-state="viewed"]', { timeout: 10_000 });
    expect(await tab.getAttribute('#top', 'data-allot-ad')).toBe('a');
    expect(await tab.locator('#top a').getAttribute('href')).toMatch(/\/v1\/events\/click\?t=/);
    expect(
      await eventually(
        () => counts('top', 'a'),
        (c) => c.impressions === 1,
      ),
    ).toEqual({
      decisions: 1,
      impressions: 1,
      clicks: 0,
    });
    // No fill: nothing shown, the page unchanged.
    expect(await tab.getAttribute('#empty', 'data-allot-state')).toBe('empty');
    expect(await tab.locator('#empty').isVisible()).toBe(false);

    // The ad below the fold was rendered but never seen: no impression, even after a while.
    await tab.waitForSelector('#below[data-allot-state="rendered"]');
    await tab.waitForTimeout(2000);
    expect(await counts('below', 'h')).toEqual({ decisions: 1, impressions: 0, clicks: 0 });

    // Scrolled past in under a second: still not viewable.
    await tab.locator('#below').scrollIntoViewIfNeeded();
    await tab.waitForTimeout(400);
    await tab.evaluate('window.scrollTo(0, 0)');
    await tab.waitForTimeout(1500);
    expect((await counts('below', 'h')).impressions).toBe(0);

    // Scrolled into view and left there: counted once.
    await tab.locator('#below').scrollIntoViewIfNeeded();
    await tab.waitForSelector('#below[data-allot-state="viewed"]', { timeout: 5000 });
    expect(
      await eventually(
        () => counts('below', 'h'),
        (c) => c.impressions === 1,
      ),
    ).toEqual({
      decisions: 1,
      impressions: 1,
      clicks: 0,
    });
    // The HTML creative ran sandboxed: it could not reach the publisher's page.
    expect(await tab.title()).toBe('News');
    expect(await tab.getAttribute('#below iframe', 'sandbox')).not.toContain('allow-same-origin');

    // A click goes through Allot's click URL to the advertiser, and is counted.
    await tab.evaluate('window.scrollTo(0, 0)');
    const [landing] = await Promise.all([context.waitForEvent('page'), tab.click('#top a')]);
    await landing.waitForLoadState();
    expect(landing.url()).toBe(`${publisherUrl}landing`);
    expect(
      await eventually(
        () => counts('top', 'a'),
        (c) => c.clicks === 1,
      ),
    ).toEqual({
      decisions: 1,
      impressions: 1,
      clicks: 1,
    });
    // The only error on the page is the sandbox stopping the hostile creative.
    const blocked = (e: string) =>
      /Blocked a frame with origin "null" from accessing a cross-origin frame/.test(e);
    expect(errors.filter(blocked).length).toBeGreaterThan(0);
    expect(errors.filter((e) => !blocked(e))).toEqual([]);
    await context.close();
  }, 60_000);

  it('retries an impression Allot could not record (503) until it is counted, once', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    await context.route('https://cdn.example.com/**', (route) =>
      route.fulfill({
        contentType: 'image/svg+xml',
        body: '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="250"/>',
      }),
    );
    // The first two impression beacons meet an Allot whose broker is down.
    let refused = 0;
    await context.route(`${allot.base}/v1/events/impression**`, (route) => {
      if (refused < 2) {
        refused++;
        return route.fulfill({
          status: 503,
          headers: { 'access-control-allow-origin': '*' },
          contentType: 'application/json',
          body: '{"error":{"code":"ALLOT_ERR_UNAVAILABLE","message":"retry"}}',
        });
      }
      return route.continue();
    });
    const tab = await context.newPage();
    await tab.goto(`${publisherUrl}retry`);
    await tab.waitForSelector('#retry[data-allot-state="viewed"]', { timeout: 10_000 });
    // Retried after 1 s and 2 s more: the third attempt is counted.
    expect(
      await eventually(
        () => counts('retry', 'a'),
        (c) => c.impressions === 1,
      ),
    ).toEqual({ decisions: 1, impressions: 1, clicks: 0 });
    expect(refused).toBe(2);
    // Counted once: no further attempt after the one that succeeded.
    await tab.waitForTimeout(1500);
    expect(await counts('retry', 'a')).toEqual({ decisions: 1, impressions: 1, clicks: 0 });
    await context.close();
  }, 60_000);

  it('is small and served cacheable to any origin', async () => {
    const res = await allot.call('GET', '/tag.js', undefined, { admin: false });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(readFileSync(join(PUBLIC_DIR, 'tag.js')))).toBe(true);
    const again = await allot.call('GET', '/tag.js', undefined, {
      admin: false,
      headers: { 'if-none-match': res.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
    const gz = gzipSync(body).length;
    console.log(`tag.js: ${body.length} bytes, ${gz} gzipped`);
    expect(gz).toBeLessThan(3000);
  });
});
