import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, imageAd, type Running, startAllot, TestClock } from '../support/start-allot.js';

interface Decision {
  decisionId: string;
  ad: { id: string };
  impressionUrl: string;
  clickUrl: string;
}
interface StatusBody {
  totalImpressions: number;
  ads: Array<{ adId: string; impressions: number; clicks: number; decisions: number }>;
}

describe('beacons', () => {
  let s: Running;
  const clock = new TestClock();
  const decide = async (): Promise<Decision> => {
    const res = await s.call('POST', '/v1/decisions', { placementId: 'pl', userId: 'u1' }, { admin: false });
    expect(res.status).toBe(200);
    return (await res.json()) as Decision;
  };
  const status = async () => (await s.json<StatusBody>('GET', '/v1/placements/pl/status')).body;
  const get = (url: string) =>
    fetch(url.startsWith('http') ? url : `${s.base}${url}`, { redirect: 'manual' });

  beforeAll(async () => {
    s = await startAllot({ ALLOT_IMPRESSION_TTL_SECONDS: '60', ALLOT_CLICK_TTL_SECONDS: '600' }, clock);
    await s.call('POST', '/v1/ads', imageAd('only'));
    await s.call('POST', '/v1/placements', { id: 'pl', name: 'PL' });
    await s.call('PUT', '/v1/placements/pl/targets', { targets: [{ adId: 'only', share: 1 }] });
  });
  afterAll(async () => {
    await s.stop();
  });

  it('counts an impression once however often it is fired; the GIF variant counts the same event', async () => {
    const d = await decide();
    const r1 = await get(d.impressionUrl);
    expect(r1.status).toBe(204);
    expect(r1.headers.get('access-control-allow-origin')).toBe('*');
    expect((await get(d.impressionUrl)).status).toBe(204);
    const gif = await get(d.impressionUrl.replace('/impression?', '/impression.gif?'));
    expect(gif.status).toBe(200);
    expect(gif.headers.get('content-type')).toBe('image/gif');
    expect(
      Buffer.from(await gif.arrayBuffer())
        .subarray(0, 6)
        .toString(),
    ).toBe('GIF89a');
    expect(await eventually(async () => (await status()).totalImpressions === 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect((await status()).totalImpressions).toBe(1);
  });

  it('click redirects to the ad’s clickUrl and counts once', async () => {
    const d = await decide();
    const before = (await status()).ads[0]!.clicks;
    for (let i = 0; i < 3; i++) {
      const res = await get(d.clickUrl);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('https://advertiser.example.com/only');
    }
    expect(await eventually(async () => (await status()).ads[0]!.clicks === before + 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect((await status()).ads[0]!.clicks).toBe(before + 1);
  });

  it('refuses forged, altered and malformed tokens (4xx, never counted)', async () => {
    const d = await decide();
    const t = new URL(d.impressionUrl, s.base).searchParams.get('t')!;
    const [kid, body, mac] = t.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as unknown[];
    claims[2] = 'other-ad';
    const altered = `${kid}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${mac}`;
    const flipped = `${kid}.${body}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`;
    const before = (await status()).totalImpressions;
    for (const bad of [
      altered,
      flipped,
      `k9.${body}.${mac}`,
      'garbage',
      `${kid}.${body}`,
      'a'.repeat(3000),
    ]) {
      const res = await get(`/v1/events/impression?t=${encodeURIComponent(bad)}`);
      expect(res.status, bad.slice(0, 40)).toBe(400);
      const err = (await res.json()) as { error: { code: string } };
      expect(['ALLOT_ERR_INVALID_TOKEN', 'ALLOT_ERR_VALIDATION']).toContain(err.error.code);
    }
    expect((await get('/v1/events/impression')).status).toBe(400);
    expect((await get(`/v1/events/click?t=${encodeURIComponent(altered)}`)).status).toBe(400);
    await new Promise((r) => setTimeout(r, 50));
    expect((await status()).totalImpressions).toBe(before);
  });

  it('refuses expired tokens: impressions after their TTL, clicks after theirs', async () => {
    const d = await decide();
    const before = (await status()).totalImpressions;
    clock.advance(61_000);
    const imp = await get(d.impressionUrl);
    expect(imp.status).toBe(410);
    expect(((await imp.json()) as { error: { code: string } }).error.code).toBe('ALLOT_ERR_TOKEN_EXPIRED');
    expect((await get(d.clickUrl)).status).toBe(302);
    clock.advance(600_000);
    expect((await get(d.clickUrl)).status).toBe(410);
    await new Promise((r) => setTimeout(r, 50));
    expect((await status()).totalImpressions).toBe(before);
  });

  it('exports every rejection reason as a metric', async () => {
    const text = await (await get('/metrics')).text();
    expect(text).toMatch(/allot_beacons_total\{kind="impression",result="accepted"\} [1-9]/);
    expect(text).toMatch(/allot_beacons_total\{kind="impression",result="badSignature"\} [1-9]/);
    expect(text).toMatch(/allot_beacons_total\{kind="impression",result="expired"\} 1/);
    expect(text).toMatch(/allot_events_duplicate_total\{type="impression"\} [1-9]/);
    expect(text).toMatch(/allot_decisions_total\{result="filled"\} [1-9]/);
    // Embedded: the dedup window's size (decision and impression ids so far) and early evictions.
    expect(Number(/^allot_dedup_window_ids (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(1);
    expect(text).toMatch(/^allot_dedup_window_evicted_ids 0$/m);
    expect(text).toContain('allot_decision_duration_seconds_bucket');
    // One decision in 8 is timed (TIMED_EVERY); all are counted.
    const decisions = [...text.matchAll(/^allot_decisions_total\{[^}]*\} (\d+)$/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
    const timed = Number(/^allot_decision_duration_seconds_count (\d+)$/m.exec(text)?.[1]);
    expect(decisions).toBeGreaterThan(0);
    expect(timed).toBe(Math.floor(decisions / 8));
  });
});
