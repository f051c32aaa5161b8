import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli-process.js';
import { ADMIN_TOKEN, imageAd, type Running, startAllot } from '../support/start-allot.js';

/** Slots of the same placement on one publisher page, all in view. */
const SLOTS = 3;
/** Browser contexts loading the page in parallel, and page loads in each. */
const TABS = 4;
const LOADS = 4;
const EXPECTED = SLOTS * TABS * LOADS;

/** A publisher's page on another origin than Allot, with SLOTS small ads of placement `live`. */
const page = (allot: string) => `<!doctype html><html><head><meta charset="utf-8"><title>News</title></head>
<body style="margin:0;display:flex;flex-wrap:wrap;gap:8px">
  ${Array.from({ length: SLOTS }, (_, i) => `<div class="slot" id="s${i}" data-allot-placement="live" data-allot-ctx-country="DE"></div>`).join('\n  ')}
  <script async src="${allot}/tag.js"></script>
</body></html>`;

describe('publisher tag → live dashboard, in Chromium', () => {
  let allot: Running;
  let publisher: Server;
  let publisherUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    // The tag and the dashboard are build products (npm test builds first); a direct vitest run builds here.
    execFileSync(process.execPath, ['scripts/build-web.mjs'], { cwd: ROOT, stdio: 'ignore' });
    allot = await startAllot({ ALLOT_ARCHIVE_DIR: 'off' });
    const html = page(allot.base);
    publisher = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((r) => publisher.listen(0, '127.0.0.1', r));
    const address = publisher.address();
    publisherUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/`;
    const small = { type: 'image', url: 'https://cdn.example.com/a.png', width: 200, height: 100 };
    expect((await allot.json('POST', '/v1/ads', imageAd('a', { creative: small }))).status).toBe(201);
    expect((await allot.json('POST', '/v1/placements', { id: 'live', name: 'Live test' })).status).toBe(201);
    const put = await allot.json('PUT', '/v1/placements/live/targets', {
      targets: [{ adId: 'a', share: 1 }],
    });
    expect(put.status).toBe(200);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    publisher?.close();
    await allot?.stop();
  });

  it('viewable impressions from publisher pages move the open dashboard without a reload', async () => {
    // The manager opens the placement's page: no impressions yet.
    const manager = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const dash = await manager.newPage();
    const errors: string[] = [];
    dash.on('pageerror', (e) => errors.push(String(e)));
    await dash.goto(`${allot.base}/dashboard#/placements/live`);
    await dash.fill('#token', ADMIN_TOKEN);
    await dash.click('button[type="submit"]');
    const cell = dash.locator('#live tr[data-ad="a"] td').nth(4);
    await cell.waitFor();
    expect(await cell.textContent()).toBe('0');
    expect(await dash.getAttribute('#live-chart', 'data-impressions')).toBe('0');
    // A marker that a reload would lose.
    await dash.evaluate('window.__noReload = true');
    const pointsBefore = Number(await dash.getAttribute('#live-chart', 'data-points'));

    // Readers load the publisher page in parallel; every slot must be viewed (≥ 1 s in view).
    await Promise.all(
      Array.from({ length: TABS }, async () => {
        const reader = await browser.newContext({ viewport: { width: 1024, height: 600 } });
        await reader.route('https://cdn.example.com/**', (route) =>
          route.fulfill({
            contentType: 'image/svg+xml',
            body: '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"/>',
          }),
        );
        const tab = await reader.newPage();
        for (let n = 0; n < LOADS; n++) {
          await tab.goto(publisherUrl);
          for (let i = 0; i < SLOTS; i++) {
            await tab.waitForSelector(`#s${i}[data-allot-state="viewed"]`, { timeout: 15_000 });
          }
        }
        await reader.close();
      }),
    );

    // The open dashboard follows: the impressions cell and the chart's data reach every impression.
    await dash.waitForFunction(
      `Number(document.querySelector('#live tr[data-ad="a"] td:nth-child(5)')?.textContent) >= ${EXPECTED}`,
      undefined,
      { timeout: 15_000 },
    );
    expect(Number(await cell.textContent())).toBe(EXPECTED);
    expect(Number(await dash.getAttribute('#live-chart', 'data-impressions'))).toBe(EXPECTED);
    expect(Number(await dash.getAttribute('#live-chart', 'data-points'))).toBeGreaterThan(pointsBefore);
    expect(await dash.evaluate('window.__noReload')).toBe(true);
    // The realized share of the only ad is all of them.
    expect(await dash.locator('#live tr[data-ad="a"] td').nth(2).textContent()).toMatch(/^100\.0 %/);
    expect(errors).toEqual([]);
    await manager.close();
  }, 90_000);
});
