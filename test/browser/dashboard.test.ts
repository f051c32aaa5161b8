import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli-process.js';
import { ADMIN_TOKEN, imageAd, pool, type Running, startAllot } from '../support/start-allot.js';

/** Screenshots for the docs are rewritten only when asked for (ALLOT_SCREENSHOTS=1). */
const SCREENSHOTS = process.env.ALLOT_SCREENSHOTS === '1';
const IMG_DIR = join(ROOT, 'docs', 'img');

type TargetSet = { version: number; targets: Array<{ adId: string; share: number }> };

describe('manager dashboard in Chromium', () => {
  let allot: Running;
  let browser: Browser;

  /** `n` decisions for `home`, each followed by its impression beacon (if `impressions`); the ads served. */
  const traffic = async (n: number, impressions = true): Promise<string[]> =>
    pool(n, 8, async (i) => {
      const res = await allot.call(
        'POST',
        '/v1/decisions',
        { placementId: 'home', userId: `u${i % 500}`, context: { country: i % 3 === 0 ? 'FR' : 'DE' } },
        { admin: false },
      );
      expect(res.status).toBe(200);
      const d = (await res.json()) as { ad: { id: string }; impressionUrl: string };
      if (impressions) {
        const beacon = await fetch(new URL(d.impressionUrl, allot.base), { redirect: 'manual' });
        expect(beacon.status).toBe(204);
      }
      return d.ad.id;
    });
  const targets = async () => (await allot.json<TargetSet>('GET', '/v1/placements/home/targets')).body;

  beforeAll(async () => {
    // The dashboard is a build product (npm test builds first); a direct vitest run builds it here.
    execFileSync(process.execPath, ['scripts/build-web.mjs'], { cwd: ROOT, stdio: 'ignore' });
    allot = await startAllot({ ALLOT_ARCHIVE_FLUSH_MS: '200' });
    for (const id of ['a', 'b']) await allot.json('POST', '/v1/ads', imageAd(id));
    await allot.json('POST', '/v1/ads', imageAd('house', { name: 'House ad' }));
    await allot.json('POST', '/v1/ads', imageAd('spare', { name: 'Spare ad' }));
    await allot.json('POST', '/v1/placements', { id: 'home', name: 'Home page top', fallbackAdId: 'house' });
    await allot.json('POST', '/v1/placements', { id: 'side', name: 'Sidebar' });
    const put = await allot.json('PUT', '/v1/placements/home/targets', {
      targets: [
        { adId: 'a', share: 0.5 },
        { adId: 'b', share: 0.3 },
      ],
    });
    expect(put.status).toBe(200);
    await traffic(SCREENSHOTS ? 3000 : 300);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await allot?.stop();
  });

  it('serves the page and its assets, nothing else under /dashboard', async () => {
    const page = await allot.call('GET', '/dashboard', undefined, { admin: false });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('/dashboard/main.js');
    const slash = await allot.call('GET', '/dashboard/', undefined, { admin: false });
    expect(slash.headers.get('content-type')).toMatch(/^text\/html/);
    const js = await allot.call('GET', '/dashboard/main.js', undefined, { admin: false });
    expect(js.headers.get('content-type')).toMatch(/^application\/javascript/);
    const css = await allot.call('GET', '/dashboard/styles.css', undefined, { admin: false });
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    for (const path of [
      '/dashboard/..%2Ftag.js',
      '/dashboard/..%2F..%2Fpackage.json',
      '/dashboard/nope.js',
    ]) {
      expect((await allot.call('GET', path, undefined, { admin: false })).status).toBe(404);
    }
  });

  it('signs in, shows the overview, refuses invalid targets field by field, saves valid ones', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(String(e)));
    tab.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });

    // Sign in: the token is kept in sessionStorage and sent as a bearer token.
    await tab.goto(`${allot.base}/dashboard`);
    await tab.fill('#token', ADMIN_TOKEN);
    await tab.click('button[type="submit"]');

    // Overview: both placements, home's ads with target and realized share and a delivery state.
    const home = tab.locator('[data-placement="home"]');
    await home.locator('tr[data-ad="a"]').waitFor();
    await tab.locator('[data-placement="side"]').waitFor();
    expect(await tab.evaluate("sessionStorage.getItem('allot.adminToken')")).toBe(ADMIN_TOKEN);
    const rowA = await home.locator('tr[data-ad="a"]').textContent();
    expect(rowA).toContain('50.0 %');
    expect(rowA).toMatch(/on target|behind|ahead|infeasible/);
    expect(await home.locator('tr[data-ad="house"]').textContent()).toContain('20.0 %');
    if (SCREENSHOTS) await shot(tab, 'dashboard-overview.png');

    // The placement page: one row per target.
    await home.locator('h2 a').click();
    const row = (i: number) => tab.locator(`.editor [data-row="${i}"]`);
    await row(1).waitFor();
    expect(await row(0).getAttribute('data-ad')).toBe('a');
    expect(await row(0).locator('input').inputValue()).toBe('50');
    expect(await tab.locator('#targets-sum').textContent()).toMatch(/80\.00 %.*house.*20\.00 %/s);
    const before = await targets();

    // A negative share: the API's problem is shown next to that row; nothing saved.
    await row(1).locator('input').fill('-5');
    await tab.click('#save');
    await row(1).locator('.field-error').waitFor();
    expect(await row(1).locator('.field-error').textContent()).toMatch(/>= 0/);
    expect(await row(0).locator('.field-error').count()).toBe(0);
    expect(await tab.locator('#editor-notice').textContent()).toMatch(/Not saved/);
    expect(await targets()).toEqual(before);

    // Shares summing over 100 %: the live sum says so, the API's problem is shown by the sum.
    await row(1).locator('input').fill('70');
    expect(await tab.locator('#targets-sum').textContent()).toMatch(/120\.00 %.*over 100 %/s);
    await tab.click('#save');
    await tab.locator('#targets-error').waitFor();
    expect(await tab.locator('#targets-error').textContent()).toMatch(/sum/);
    expect(await row(1).locator('.field-error').count()).toBe(0);
    expect(await targets()).toEqual(before);

    // The what-if check of a valid set shows achievable shares before saving.
    await row(1).locator('input').fill('30');
    await tab.click('#check');
    await tab.locator('#whatif').waitFor();
    expect(await row(0).locator('.achievable').textContent()).toMatch(/achievable \d+\.\d %/);
    expect(await targets()).toEqual(before);

    // A valid set: b removed, a at 100 % → saved, and every decision goes to a right away.
    await row(1).locator('button.remove').click();
    await row(0).locator('input').fill('100');
    expect(await tab.locator('#targets-sum').textContent()).toMatch(/100\.00 %.*0\.00 %/s);
    await tab.click('#save');
    await tab.locator('#editor-notice', { hasText: 'Saved' }).waitFor();
    const savedAt = Date.now();
    const served = await traffic(400, false);
    expect(Date.now() - savedAt).toBeLessThan(SCREENSHOTS ? 10_000 : 5_000);
    expect(new Set(served)).toEqual(new Set(['a']));
    const after = await targets();
    expect(after.targets).toEqual([{ adId: 'a', share: 1 }]);
    expect(after.version).toBe(before.version + 1);

    // Adding an ad from the ads list, then the live chart with its polled points.
    await tab.selectOption('select[aria-label="Ad to add"]', 'spare');
    await tab.click('#add-ad');
    expect(await row(1).getAttribute('data-ad')).toBe('spare');
    await traffic(SCREENSHOTS ? 1500 : 100);
    await tab.locator('#live-chart canvas').waitFor();
    await tab.waitForTimeout(2500);
    expect(await tab.locator('#live-chart canvas').count()).toBe(1);
    // The status under it follows the saved targets: a's target is now 100 %.
    expect(await tab.locator('#live tr[data-ad="a"] td').nth(1).textContent()).toBe('100.0 %');

    // The history chart, from the archive's hourly report (a reload fetches it again).
    await tab.reload();
    await tab.locator('#history-chart canvas').waitFor({ timeout: 15_000 });

    if (SCREENSHOTS) {
      // A realistic picture: a 50/30 split saved, then traffic while the live chart polls.
      await row(0).locator('input').fill('50');
      await tab.selectOption('select[aria-label="Ad to add"]', 'b');
      await tab.click('#add-ad');
      await row(1).locator('input').fill('30');
      await tab.click('#save');
      await tab.locator('#editor-notice', { hasText: 'Saved' }).waitFor();
      for (let i = 0; i < 8; i++) {
        await traffic(400);
        await tab.waitForTimeout(1000);
      }
      await shot(tab, 'dashboard-placement.png');
      await tab.screenshot({ path: '/tmp/dashboard-full.png', fullPage: true });
    }

    // Phone width: the page reflows instead of scrolling sideways.
    await tab.setViewportSize({ width: 390, height: 844 });
    await tab.waitForTimeout(300);
    expect(await tab.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);

    // The only console errors are the browser's own notes on the two refused saves (HTTP 400).
    const refused = (e: string) => /status of 400/.test(e);
    expect(errors.filter(refused).length).toBe(2);
    expect(errors.filter((e) => !refused(e))).toEqual([]);
    await context.close();
  }, 120_000);
});

async function shot(tab: Page, name: string): Promise<void> {
  mkdirSync(IMG_DIR, { recursive: true });
  await tab.screenshot({ path: join(IMG_DIR, name), fullPage: false });
}
