import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageAd, type Running, startAllot, TestClock } from '../support/start-allot.js';
import { referenceMatches, targetingArbs } from '../support/targeting-reference.js';

interface Decision {
  ad: { id: string };
  impressionUrl: string;
}

describe('eligibility through HTTP', () => {
  let s: Running;
  const clock = new TestClock(Date.parse('2026-06-01T10:00:00Z'));
  const decide = async (placementId: string, body: Record<string, unknown> = {}) => {
    const res = await s.call('POST', '/v1/decisions', { placementId, ...body }, { admin: false });
    return { status: res.status, d: res.status === 200 ? ((await res.json()) as Decision) : null };
  };
  const setup = async (
    placement: string,
    ads: Array<{ id: string; share: number; extra?: Record<string, unknown> }>,
    fallback?: string,
  ) => {
    for (const a of ads) expect((await s.call('POST', '/v1/ads', imageAd(a.id, a.extra))).status).toBe(201);
    await s.call('POST', '/v1/placements', {
      id: placement,
      name: placement,
      fallbackAdId: fallback ?? null,
    });
    const res = await s.call('PUT', `/v1/placements/${placement}/targets`, {
      targets: ads.filter((a) => a.id !== fallback).map((a) => ({ adId: a.id, share: a.share })),
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    s = await startAllot({}, clock);
  });
  afterAll(async () => {
    await s.stop();
  });

  it('unknown placement → 404 with a code; nothing eligible and no fallback → 204', async () => {
    const r = await s.call('POST', '/v1/decisions', { placementId: 'nope' }, { admin: false });
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe(
      'ALLOT_ERR_PLACEMENT_NOT_FOUND',
    );
    await setup('de-only', [{ id: 'de', share: 1, extra: { targeting: { key: 'country', in: ['DE'] } } }]);
    expect((await decide('de-only', { context: { country: 'FR' } })).status).toBe(204);
    expect((await decide('de-only', { context: { country: 'DE' } })).d?.ad.id).toBe('de');
    expect((await decide('de-only')).status).toBe(204);
  });

  it('rejects bad decision requests with every problem listed', async () => {
    const r = await s.call(
      'POST',
      '/v1/decisions',
      { placementId: 5, userId: '', context: { nested: { a: 1 } }, extra: true },
      { admin: false },
    );
    expect(r.status).toBe(400);
    const paths = ((await r.json()) as { error: { problems: Array<{ path: string }> } }).error.problems.map(
      (p) => p.path,
    );
    expect(paths).toEqual(expect.arrayContaining(['/placementId', '/userId', '/context/nested', '/extra']));
  });

  it('flight dates and pause: never served outside them; the fallback takes over', async () => {
    await setup(
      'flight',
      [
        { id: 'fl', share: 0.5, extra: { startAt: '2026-06-01T12:00:00Z', endAt: '2026-06-01T14:00:00Z' } },
        { id: 'fl-house', share: 0 },
      ],
      'fl-house',
    );
    const served = async (n: number) => {
      const ids = new Set<string>();
      for (let i = 0; i < n; i++) ids.add((await decide('flight')).d!.ad.id);
      return ids;
    };
    expect(await served(10)).toEqual(new Set(['fl-house']));
    clock.ms = Date.parse('2026-06-01T12:00:00Z');
    expect(await served(10)).toEqual(new Set(['fl', 'fl-house']));
    await s.call('PATCH', '/v1/ads/fl', { status: 'paused' });
    expect(await served(10)).toEqual(new Set(['fl-house']));
    await s.call('PATCH', '/v1/ads/fl', { status: 'active' });
    expect(await served(10)).toEqual(new Set(['fl', 'fl-house']));
    clock.ms = Date.parse('2026-06-01T14:00:00Z');
    expect(await served(10)).toEqual(new Set(['fl-house']));
    const st = (
      await s.json<{ feasible: boolean; ads: Array<{ adId: string; reasons: string[] }> }>(
        'GET',
        '/v1/placements/flight/status',
      )
    ).body;
    expect(st.feasible).toBe(false);
    expect(st.ads.find((a) => a.adId === 'fl')?.reasons).toEqual(['notInFlight']);
    clock.ms = Date.parse('2026-06-01T10:00:00Z');
  });

  it('frequency caps: never more than the cap per user and window, even with impressions in flight', async () => {
    await setup('capped', [
      { id: 'cap2', share: 1, extra: { frequencyCap: { impressions: 2, windowSeconds: 3600 } } },
    ]);
    // Decisions reserve the cap before any impression arrives.
    expect((await decide('capped', { userId: 'u1' })).d?.ad.id).toBe('cap2');
    const second = await decide('capped', { userId: 'u1' });
    expect(second.d?.ad.id).toBe('cap2');
    expect((await decide('capped', { userId: 'u1' })).status).toBe(204);
    expect((await decide('capped', { userId: 'u2' })).status).toBe(200);
    // A capped ad never serves an anonymous request.
    expect((await decide('capped')).status).toBe(204);
    // Impressions keep the cap; an hour later the window has passed.
    await fetch(`${s.base}${second.d!.impressionUrl}`);
    expect((await decide('capped', { userId: 'u1' })).status).toBe(204);
    clock.advance(3_601_000);
    expect((await decide('capped', { userId: 'u1' })).status).toBe(200);
    clock.ms = Date.parse('2026-06-01T10:00:00Z');
  });

  it('property: a served ad is always active, in flight, matching and under its cap', async () => {
    const age = fc.integer({ min: 10, max: 60 });
    const country = fc.constantFrom('DE', 'FR', 'US');
    // Numeric comparisons only on age; all / any / not one level above the conditions.
    const { rule, context: ctx } = targetingArbs({
      context: { country, age, member: fc.boolean() },
      listValue: fc.oneof(country, age, fc.boolean()),
      maxListLength: 3,
      bound: age,
      numericKeys: ['age'],
      ops: ['in', 'notIn', 'gte', 'lt', 'exists'],
      maxDepth: 1,
    });
    const adSpec = fc.record({
      targeting: fc.option(rule, { nil: undefined }),
      paused: fc.boolean(),
      flight: fc.constantFrom('open', 'past', 'future', 'now'),
      cap: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      share: fc.double({ min: 0.05, max: 0.3, noNaN: true }),
    });
    const flights = {
      open: {},
      past: { endAt: '2026-05-01T00:00:00Z' },
      future: { startAt: '2026-07-01T00:00:00Z' },
      now: { startAt: '2026-06-01T00:00:00Z', endAt: '2026-06-02T00:00:00Z' },
    } as const;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(adSpec, { minLength: 2, maxLength: 5 }),
        fc.array(fc.record({ ctx, user: fc.option(fc.constantFrom('x', 'y', 'z'), { nil: undefined }) }), {
          minLength: 20,
          maxLength: 40,
        }),
        async (specs, requests) => {
          run++;
          const placement = `prop${run}`;
          const ids = specs.map((_, i) => `${placement}-ad${i}`);
          for (const [i, sp] of specs.entries()) {
            const extra: Record<string, unknown> = {
              ...flights[sp.flight],
              status: sp.paused ? 'paused' : 'active',
            };
            if (sp.targeting) extra.targeting = sp.targeting;
            if (sp.cap) extra.frequencyCap = { impressions: sp.cap, windowSeconds: 86_400 };
            expect((await s.call('POST', '/v1/ads', imageAd(ids[i]!, extra))).status).toBe(201);
          }
          await s.call('POST', '/v1/placements', { id: placement, name: placement });
          const put = await s.call('PUT', `/v1/placements/${placement}/targets`, {
            targets: specs.map((sp, i) => ({ adId: ids[i], share: sp.share })),
          });
          expect(put.status).toBe(200);
          const served = new Map<string, number>();
          for (const r of requests) {
            const { status, d } = await decide(placement, {
              context: r.ctx,
              ...(r.user ? { userId: r.user } : {}),
            });
            expect([200, 204]).toContain(status);
            if (d === null) continue;
            const i = ids.indexOf(d.ad.id);
            const sp = specs[i]!;
            expect(sp.paused).toBe(false);
            expect(['open', 'now']).toContain(sp.flight);
            expect(referenceMatches(sp.targeting, r.ctx)).toBe(true);
            if (sp.cap) {
              expect(r.user).toBeDefined();
              const k = `${d.ad.id}|${r.user}`;
              served.set(k, (served.get(k) ?? 0) + 1);
              expect(served.get(k)!).toBeLessThanOrEqual(sp.cap);
            }
          }
        },
      ),
      { numRuns: 40, seed: 20261126 },
    );
  });
});
