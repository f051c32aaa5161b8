import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScenario, renders, scenarioRequests } from '../support/allocation-scenario.js';
import { eventually, imageAd, pool, type Running, startAllot } from '../support/start-allot.js';

interface Decision {
  ad: { id: string };
  impressionUrl: string;
}
interface StatusEntry {
  adId: string;
  targetShare: number;
  impressions: number;
  share: number;
  achievableShare: number | null;
  feasible: boolean;
  reasons: string[];
}
interface StatusBody {
  totalImpressions: number;
  feasible: boolean;
  ads: StatusEntry[];
}

// The allocation engine's acceptance, through HTTP as a new user would try it: overlapping
// targeting, unequal render rates (some decisions never fire their impression), an
// infeasible ad and a fallback; 60,000 decisions on default settings.
describe('allocation engine through HTTP', () => {
  let s: Running;
  beforeAll(async () => {
    s = await startAllot();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('feasible ads within 0.5 pp of target; the infeasible one gets ≥ 99 % of its achievable share and is flagged', async () => {
    await createScenario(s.call);

    const N = 60_000;
    const requests = scenarioRequests(20261126, N);
    let fired = 0;
    await pool(N, 32, async (i) => {
      const res = await s.call('POST', '/v1/decisions', requests[i]!.body, { admin: false });
      expect(res.status).toBe(200);
      const d = (await res.json()) as Decision;
      if (renders(d.ad.id, requests[i]!)) {
        fired++;
        expect((await fetch(`${s.base}${d.impressionUrl}`)).status).toBe(204);
      }
    });

    let status!: StatusBody;
    expect(
      await eventually(async () => {
        status = (await s.json<StatusBody>('GET', '/v1/placements/news/status')).body;
        return status.totalImpressions === fired;
      }),
    ).toBe(true);
    const by = new Map(status.ads.map((e) => [e.adId, e]));
    const report = status.ads.map(
      (e) => `${e.adId}: share ${e.share.toFixed(4)} target ${e.targetShare} achievable ${e.achievableShare}`,
    );
    console.info(`allocation acceptance (${N} decisions, ${fired} impressions):\n${report.join('\n')}`);
    for (const id of ['a', 'b']) {
      const e = by.get(id)!;
      expect(Math.abs(e.share - e.targetShare), report.join('\n')).toBeLessThanOrEqual(0.005);
      expect(e.feasible).toBe(true);
    }
    const c = by.get('c')!;
    expect(c.feasible).toBe(false);
    expect(c.reasons).toContain('targeting');
    expect(c.achievableShare).not.toBeNull();
    expect(c.achievableShare!).toBeLessThan(0.2);
    expect(c.share, report.join('\n')).toBeGreaterThanOrEqual(0.99 * c.achievableShare!);
    expect(status.feasible).toBe(false);
  }, 300_000);

  it('what-if: judges proposed targets on recent traffic, refuses invalid ones, saves nothing', async () => {
    for (const ad of [
      imageAd('de1', { targeting: { key: 'country', in: ['DE'] } }),
      imageAd('de2', { targeting: { key: 'country', in: ['DE'] } }),
      imageAd('any1'),
      imageAd('fill'),
    ]) {
      expect((await s.call('POST', '/v1/ads', ad)).status).toBe(201);
    }
    await s.call('POST', '/v1/placements', {
      id: 'side',
      name: 'Side',
      fallbackAdId: 'fill',
      window: { lengthHours: 24, timeZone: 'Europe/Berlin' },
    });
    const proposal = {
      targets: [
        { adId: 'de1', share: 0.3 },
        { adId: 'de2', share: 0.3 },
        { adId: 'any1', share: 0.2 },
      ],
    };
    type WhatIf = {
      feasible: boolean | null;
      basis: { sampledRequests: number };
      ads: Array<{ adId: string; achievableShare: number | null; reasons: string[] }>;
    };
    const before = await s.json<WhatIf>('POST', '/v1/placements/side/targets/check', proposal);
    expect(before.status).toBe(200);
    expect(before.body.feasible).toBeNull();
    expect(before.body.basis.sampledRequests).toBe(0);

    // Traffic: 40 % DE, every ad rendered. Two DE-only ads at 30 % each overbook the DE segment.
    for (let i = 0; i < 500; i++) {
      const res = await s.call(
        'POST',
        '/v1/decisions',
        { placementId: 'side', context: { country: i % 5 < 2 ? 'DE' : 'US' } },
        { admin: false },
      );
      expect(res.status).toBe(200);
      expect((await fetch(`${s.base}${((await res.json()) as Decision).impressionUrl}`)).status).toBe(204);
    }
    await s.allot.controller.step();
    const after = await s.json<WhatIf>('POST', '/v1/placements/side/targets/check', proposal);
    expect(after.body.feasible).toBe(false);
    expect(after.body.basis.sampledRequests).toBe(500);
    const by = new Map(after.body.ads.map((a) => [a.adId, a]));
    expect(by.get('de1')!.reasons).toEqual(['overbooked']);
    expect(by.get('de2')!.reasons).toEqual(['overbooked']);
    expect(by.get('any1')!.reasons).toEqual([]);
    expect(by.get('any1')!.achievableShare).toBeCloseTo(0.2, 6);
    expect(by.get('de1')!.achievableShare!).toBeCloseTo(by.get('de2')!.achievableShare!, 6);
    expect(by.get('de1')!.achievableShare!).toBeLessThan(0.3);

    const ok = await s.json<WhatIf>('POST', '/v1/placements/side/targets/check', {
      targets: [
        { adId: 'de1', share: 0.3 },
        { adId: 'any1', share: 0.2 },
      ],
    });
    expect(ok.body.feasible).toBe(true);

    const bad = await s.json<{ error: { problems: Array<{ path: string }> } }>(
      'POST',
      '/v1/placements/side/targets/check',
      {
        targets: [
          { adId: 'ghost', share: 0.9 },
          { adId: 'de1', share: 0.3 },
        ],
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.problems.map((p) => p.path)).toEqual(['/targets/0/adId', '/targets']);
    expect((await s.json<{ version: number }>('GET', '/v1/placements/side/targets')).body.version).toBe(0);

    const status = (await s.json<{ window: { start: string } }>('GET', '/v1/placements/side/status')).body;
    const offsetH = (24 - new Date(status.window.start).getUTCHours()) % 24;
    expect([1, 2]).toContain(offsetH);
  });
});
