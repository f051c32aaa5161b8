import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, imageAd, pool, type Running, startAllot } from '../support/start-allot.js';

interface Decision {
  decisionId: string;
  placementId: string;
  ad: { id: string; creative: unknown };
  impressionUrl: string;
  clickUrl: string;
}
interface StatusBody {
  totalImpressions: number;
  feasible: boolean;
  window: { start: string; end: string };
  ads: Array<{
    adId: string;
    targetShare: number;
    impressions: number;
    share: number;
    ci95: [number, number];
  }>;
}

// The foundation's acceptance, as a new user would try it: 30/50 with a fallback, 10,000
// decisions, every impression fired over HTTP; status within 0.5 pp and exact counts.
describe('realized shares through HTTP', () => {
  let s: Running;
  beforeAll(async () => {
    s = await startAllot();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('10,000 decisions at 30/50 + fallback: shares within 0.5 pp, counts equal impressions fired', async () => {
    for (const id of ['a', 'b', 'house'])
      expect((await s.call('POST', '/v1/ads', imageAd(id))).status).toBe(201);
    expect(
      (await s.call('POST', '/v1/placements', { id: 'home', name: 'Home', fallbackAdId: 'house' })).status,
    ).toBe(201);
    const put = await s.call('PUT', '/v1/placements/home/targets', {
      targets: [
        { adId: 'a', share: 0.3 },
        { adId: 'b', share: 0.5 },
      ],
    });
    expect(put.status).toBe(200);

    const fired = new Map<string, number>();
    const N = 10_000;
    await pool(N, 16, async (i) => {
      const res = await s.call(
        'POST',
        '/v1/decisions',
        { placementId: 'home', userId: `u${i % 500}` },
        { admin: false },
      );
      expect(res.status).toBe(200);
      const d = (await res.json()) as Decision;
      const imp = await fetch(`${s.base}${d.impressionUrl}`);
      expect(imp.status).toBe(204);
      fired.set(d.ad.id, (fired.get(d.ad.id) ?? 0) + 1);
    });
    expect([...fired.values()].reduce((a, b) => a + b, 0)).toBe(N);

    let status: StatusBody | undefined;
    const done = await eventually(async () => {
      status = (await s.json<StatusBody>('GET', '/v1/placements/home/status')).body;
      return status.totalImpressions === N;
    });
    expect(done).toBe(true);
    const byId = new Map(status!.ads.map((a) => [a.adId, a]));
    const expected: Record<string, number> = { a: 0.3, b: 0.5, house: 0.2 };
    for (const [adId, target] of Object.entries(expected)) {
      const e = byId.get(adId)!;
      expect(e.targetShare).toBeCloseTo(target, 9);
      expect(e.impressions).toBe(fired.get(adId));
      expect(Math.abs(e.share - target)).toBeLessThanOrEqual(0.005);
      expect(e.ci95[0]).toBeLessThanOrEqual(e.share);
      expect(e.ci95[1]).toBeGreaterThanOrEqual(e.share);
    }
    expect(status!.feasible).toBe(true);
    const start = Date.parse(status!.window.start);
    expect(start % 86_400_000).toBe(0);
    expect(Date.parse(status!.window.end) - start).toBe(86_400_000);

    // Firing every impression again changes nothing: one impression per decision.
    const again = await s.call('POST', '/v1/decisions', { placementId: 'home' }, { admin: false });
    const d = (await again.json()) as Decision;
    for (let k = 0; k < 5; k++) expect((await fetch(`${s.base}${d.impressionUrl}`)).status).toBe(204);
    expect(
      await eventually(async () => {
        const st = (await s.json<StatusBody>('GET', '/v1/placements/home/status')).body;
        return st.totalImpressions === N + 1;
      }),
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    const final = (await s.json<StatusBody>('GET', '/v1/placements/home/status')).body;
    expect(final.totalImpressions).toBe(N + 1);
  });
});
