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

    // A valid set: b removed, a at 100 % → saved, and every decision from the moment the save is
    // acknowledged goes to a (the decision path obeys at once, well within the second asked).
    await row(1).locator('button.remove').click();
    await row(0).locator('input').fill('100');
    expect(await tab.locator('#targets-sum').textContent()).toMatch(/100\.00 %.*0\.00 %/s);
    await tab.click('#save');
    await tab.locator('#editor-notice', { hasText: 'Saved' }).waitFor();
    const served = await traffic(400, false);
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

  it('creates an ad with a targeting rule and a frequency cap, and a placement, through the editors', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(String(e)));
    await tab.goto(`${allot.base}/dashboard#/ads`);
    await tab.fill('#token', ADMIN_TOKEN);
    await tab.click('button[type="submit"]');
    await tab.locator('tr[data-ad="house"]').waitFor();
    const ads = async () => (await allot.json<{ ads: unknown[] }>('GET', '/v1/ads')).body.ads.length;
    const adCount = await ads();

    // The form: an invalid click URL first.
    await tab.click('#new-ad');
    const editor = tab.locator('#ad-editor');
    const field = (path: string) => editor.locator(`[data-field="${path}"]`);
    await field('/id').locator('input').fill('geo');
    await field('/name').locator('input').fill('Spring sale DE/FR');
    await field('/clickUrl').locator('input').fill('not a url');
    await field('/creative/url').locator('input').fill('https://cdn.example.com/geo.png');
    await field('/creative/width').locator('input').fill('300');
    await field('/creative/height').locator('input').fill('250');
    await field('/frequencyCap/impressions').locator('input').fill('3');
    await field('/frequencyCap/windowSeconds').locator('input').fill('3600');
    // Targeting: country in DE, FR and age ≥ 18, matched with "all".
    const cond = (i: number) => editor.locator(`[data-condition="${i}"]`);
    await tab.click('#add-condition');
    await cond(0).locator('[name="cond-key"]').fill('country');
    await cond(0).locator('[name="cond-value"]').fill('DE, FR');
    await tab.click('#add-condition');
    await cond(1).locator('[name="cond-key"]').fill('age');
    await cond(1).locator('[name="cond-op"]').selectOption('gte');
    await cond(1).locator('[name="cond-value"]').fill('18');
    await tab.click('#ad-save');
    await field('/clickUrl').locator('.field-error').waitFor();
    expect(await field('/clickUrl').locator('.field-error').textContent()).toMatch(/url|uri|http/i);
    expect(await editor.locator('.field-error').count()).toBe(1);
    expect(await tab.locator('#ad-notice').textContent()).toMatch(/Not saved/);
    expect((await allot.call('GET', '/v1/ads/geo')).status).toBe(404);
    expect(await ads()).toBe(adCount);

    // A bad condition value is shown on its condition row.
    await cond(1).locator('[name="cond-value"]').fill('old');
    await field('/clickUrl').locator('input').fill('https://advertiser.example.com/spring');
    await tab.click('#ad-save');
    await cond(1).locator('.field-error').waitFor();
    expect(await cond(0).locator('.field-error').count()).toBe(0);
    expect(await field('/clickUrl').locator('.field-error').count()).toBe(0);
    expect((await allot.call('GET', '/v1/ads/geo')).status).toBe(404);

    // Valid: saved, with exactly the rule and the cap typed.
    await cond(1).locator('[name="cond-value"]').fill('18');
    await tab.click('#ad-save');
    await tab.locator('#ads-notice', { hasText: 'Saved ad geo' }).waitFor();
    const saved = await allot.json<Record<string, unknown>>('GET', '/v1/ads/geo');
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({
      name: 'Spring sale DE/FR',
      status: 'active',
      clickUrl: 'https://advertiser.example.com/spring',
      creative: { type: 'image', url: 'https://cdn.example.com/geo.png', width: 300, height: 250 },
      frequencyCap: { impressions: 3, windowSeconds: 3600 },
      startAt: null,
      endAt: null,
    });
    expect(saved.body.targeting).toEqual({
      all: [
        { key: 'country', in: ['DE', 'FR'] },
        { key: 'age', gte: 18 },
      ],
    });
    expect(await tab.locator('tr[data-ad="geo"]').textContent()).toContain('3 / 3600 s');

    // Editing: the form is filled from the ad; the advanced mode shows the same rule as JSON;
    // a change of status saves through PATCH.
    await tab.locator('tr[data-ad="geo"] button.edit').click();
    expect(await field('/name').locator('input').inputValue()).toBe('Spring sale DE/FR');
    expect(await cond(1).locator('[name="cond-op"]').inputValue()).toBe('gte');
    if (SCREENSHOTS) {
      await tab.setViewportSize({ width: 1280, height: 1320 });
      await shot(tab, 'dashboard-ad-editor.png');
      await tab.setViewportSize({ width: 1280, height: 900 });
    }
    await tab.click('#targeting-advanced');
    expect(JSON.parse(await tab.locator('#targeting-json').inputValue())).toEqual(saved.body.targeting);
    await tab.locator('#targeting-json').fill('{ "not": { "key": "country", "in": ["FR"] } }');
    await field('/status').locator('select').selectOption('paused');
    await tab.click('#ad-save');
    await tab.locator('#ads-notice', { hasText: 'Saved ad geo' }).waitFor();
    const edited = (await allot.json<Record<string, unknown>>('GET', '/v1/ads/geo')).body;
    expect(edited.targeting).toEqual({ not: { key: 'country', in: ['FR'] } });
    expect(edited.status).toBe('paused');

    // The placement editor: an unknown time zone is refused next to its field, then saved.
    await tab.goto(`${allot.base}/dashboard#/`);
    await tab.click('#new-placement');
    const pe = tab.locator('#placement-editor');
    const pf = (path: string) => pe.locator(`[data-field="${path}"]`);
    await pf('/id').locator('input').fill('promo');
    await pf('/name').locator('input').fill('Promo strip');
    await pf('/fallbackAdId').locator('select').selectOption('house');
    await pf('/window/lengthHours').locator('select').selectOption('6');
    await pf('/window/timeZone').locator('input').fill('Mars/Olympus');
    await tab.click('#placement-save');
    await pf('/window/timeZone').locator('.field-error').waitFor();
    expect((await allot.call('GET', '/v1/placements/promo')).status).toBe(404);
    await pf('/window/timeZone').locator('input').fill('Europe/Berlin');
    await tab.click('#placement-save');
    await tab.waitForURL(/#\/placements\/promo$/);
    const promo = await allot.json<Record<string, unknown>>('GET', '/v1/placements/promo');
    expect(promo.body).toMatchObject({
      name: 'Promo strip',
      fallbackAdId: 'house',
      window: { lengthHours: 6, timeZone: 'Europe/Berlin' },
    });
    // On the placement page, the same editor changes it (PATCH).
    await pf('/name').locator('input').fill('Promo strip (top)');
    await pf('/fallbackAdId').locator('select').selectOption('');
    await tab.click('#placement-save');
    await tab.locator('#placement-notice', { hasText: 'Saved' }).waitFor();
    expect((await allot.json<Record<string, unknown>>('GET', '/v1/placements/promo')).body).toMatchObject({
      name: 'Promo strip (top)',
      fallbackAdId: null,
    });
    // Phone width: the editors reflow too (the ad editor open on the ads page).
    await tab.setViewportSize({ width: 390, height: 844 });
    await tab.goto(`${allot.base}/dashboard#/ads`);
    await tab.click('#new-ad');
    await tab.locator('#ad-editor').waitFor();
    await tab.waitForTimeout(300);
    expect(await tab.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);
});

async function shot(tab: Page, name: string): Promise<void> {
  mkdirSync(IMG_DIR, { recursive: true });
  await tab.screenshot({ path: join(IMG_DIR, name), fullPage: false });
}
