import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryFrequencyStore } from '../../../src/adapters/memory/memory-frequency-store.js';
import type { FrequencyCap } from '../../../src/core/domain/ad.js';

const T0 = 1_735_689_600_000;
const cap2: FrequencyCap = { impressions: 2, windowSeconds: 60 };
const cap1: FrequencyCap = { impressions: 1, windowSeconds: 60 };

describe('memory frequency store: reservations', () => {
  it('an unknown user or ad is not capped, and asking creates no state', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 10_000 });
    expect(s.isCapped('u1', 'a', cap1, T0)).toBe(false);
    expect(s.users()).toBe(0);
  });

  it('a cap of 0 impressions is always reached', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 10_000 });
    const cap0 = { impressions: 0, windowSeconds: 60 };
    expect(s.isCapped('u1', 'a', cap0, T0)).toBe(true);
    s.reserve('u2', 'b', 'd0', cap1, T0);
    expect(s.isCapped('u2', 'a', cap0, T0)).toBe(true);
  });

  it('reservations count toward the cap', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 10_000 });
    s.reserve('u1', 'a', 'd1', cap2, T0);
    expect(s.isCapped('u1', 'a', cap2, T0 + 1)).toBe(false);
    s.reserve('u1', 'a', 'd2', cap2, T0 + 1);
    expect(s.isCapped('u1', 'a', cap2, T0 + 2)).toBe(true);
  });

  it('counts per user and per ad', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 10_000 });
    s.reserve('u1', 'a', 'd1', cap1, T0);
    expect(s.isCapped('u1', 'a', cap1, T0)).toBe(true);
    expect(s.isCapped('u1', 'b', cap1, T0)).toBe(false);
    expect(s.isCapped('u2', 'a', cap1, T0)).toBe(false);
  });

  it('a reservation lapses once more than pendingMs has passed', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 1000 });
    s.reserve('u1', 'a', 'd1', cap1, T0);
    expect(s.isCapped('u1', 'a', cap1, T0 + 1000)).toBe(true);
    expect(s.isCapped('u1', 'a', cap1, T0 + 1001)).toBe(false);
  });

  it('a reservation also ends with the cap window when that is shorter than pendingMs', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 600_000 });
    const short = { impressions: 1, windowSeconds: 5 };
    s.reserve('u1', 'a', 'd1', short, T0);
    expect(s.isCapped('u1', 'a', short, T0 + 4999)).toBe(true);
    expect(s.isCapped('u1', 'a', short, T0 + 5000)).toBe(false);
  });

  it('lapsed reservations free the cap for new ones', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 1000 });
    s.reserve('u1', 'a', 'd1', cap2, T0);
    s.reserve('u1', 'a', 'd2', cap2, T0 + 500);
    expect(s.isCapped('u1', 'a', cap2, T0 + 1000)).toBe(true);
    expect(s.isCapped('u1', 'a', cap2, T0 + 1001)).toBe(false);
    s.reserve('u1', 'a', 'd3', cap2, T0 + 1001);
    expect(s.isCapped('u1', 'a', cap2, T0 + 1001)).toBe(true);
    expect(s.isCapped('u1', 'a', cap2, T0 + 1501)).toBe(false);
  });
});

describe('memory frequency store: impressions', () => {
  it('an impression counts for the whole cap window, then expires', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 1000 });
    s.reserve('u1', 'a', 'd1', cap1, T0);
    s.recordImpression('u1', 'a', 'd1', T0 + 500);
    expect(s.isCapped('u1', 'a', cap1, T0 + 1000)).toBe(true);
    expect(s.isCapped('u1', 'a', cap1, T0 + 30_000)).toBe(true);
    // The window is measured from the serve (the reservation's time).
    expect(s.isCapped('u1', 'a', cap1, T0 + 59_999)).toBe(true);
    expect(s.isCapped('u1', 'a', cap1, T0 + 60_000)).toBe(false);
  });

  it('impressions and live reservations add up', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 1000 });
    s.reserve('u1', 'a', 'd1', cap2, T0);
    s.recordImpression('u1', 'a', 'd1', T0 + 100);
    s.reserve('u1', 'a', 'd2', cap2, T0 + 5000);
    expect(s.isCapped('u1', 'a', cap2, T0 + 5500)).toBe(true);
    // d2 lapses un-impressed; d1 still counts.
    expect(s.isCapped('u1', 'a', cap2, T0 + 6001)).toBe(false);
    expect(s.isCapped('u1', 'a', cap1, T0 + 6001)).toBe(true);
  });

  it('recording the same impression twice counts it once', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 1000 });
    s.reserve('u1', 'a', 'd1', cap2, T0);
    s.recordImpression('u1', 'a', 'd1', T0 + 10);
    s.recordImpression('u1', 'a', 'd1', T0 + 20);
    expect(s.isCapped('u1', 'a', cap2, T0 + 2000)).toBe(false);
    expect(s.isCapped('u1', 'a', cap1, T0 + 2000)).toBe(true);
  });

  it('an impression for an unknown decision still counts, from its own time', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 1000 });
    s.recordImpression('u1', 'a', 'never-reserved', T0);
    expect(s.users()).toBe(1);
    expect(s.isCapped('u1', 'a', cap1, T0 + 5000)).toBe(true);
    expect(s.isCapped('u1', 'a', cap1, T0 + 59_999)).toBe(true);
    expect(s.isCapped('u1', 'a', cap1, T0 + 60_000)).toBe(false);
    expect(s.isCapped('u1', 'b', cap1, T0 + 5000)).toBe(false);
  });

  it('an impression for a decision of another ad does not convert this ad’s reservation', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 1000 });
    s.reserve('u1', 'a', 'd1', cap2, T0);
    s.recordImpression('u1', 'b', 'd1', T0 + 10);
    expect(s.isCapped('u1', 'a', cap1, T0 + 2000)).toBe(false);
    expect(s.isCapped('u1', 'b', cap1, T0 + 2000)).toBe(true);
  });
});

describe('memory frequency store: maxUsers', () => {
  it('evicts the least recently served user when full', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 600_000, maxUsers: 2 });
    s.reserve('u1', 'a', 'd1', cap1, T0);
    s.reserve('u2', 'a', 'd2', cap1, T0 + 1);
    s.reserve('u1', 'b', 'd3', cap1, T0 + 2); // u1 served again: u2 is now the oldest
    s.reserve('u3', 'a', 'd4', cap1, T0 + 3);
    expect(s.users()).toBe(2);
    expect(s.isCapped('u1', 'a', cap1, T0 + 4)).toBe(true);
    expect(s.isCapped('u2', 'a', cap1, T0 + 4)).toBe(false);
    expect(s.isCapped('u3', 'a', cap1, T0 + 4)).toBe(true);
  });

  it('checking a cap does not refresh a user; neither does an impression', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 600_000, maxUsers: 2 });
    s.reserve('u1', 'a', 'd1', cap1, T0);
    s.reserve('u2', 'a', 'd2', cap1, T0 + 1);
    expect(s.isCapped('u1', 'a', cap1, T0 + 2)).toBe(true);
    s.recordImpression('u1', 'a', 'd1', T0 + 2);
    s.reserve('u3', 'a', 'd3', cap1, T0 + 3);
    expect(s.isCapped('u1', 'a', cap1, T0 + 4)).toBe(false);
    expect(s.isCapped('u2', 'a', cap1, T0 + 4)).toBe(true);
  });

  it('an impression for a new user also respects the bound', () => {
    const s = createMemoryFrequencyStore({ pendingMs: 600_000, maxUsers: 1 });
    s.reserve('u1', 'a', 'd1', cap1, T0);
    s.recordImpression('u2', 'a', 'd2', T0 + 1);
    expect(s.users()).toBe(1);
    expect(s.isCapped('u1', 'a', cap1, T0 + 2)).toBe(false);
    expect(s.isCapped('u2', 'a', cap1, T0 + 2)).toBe(true);
  });

  it('property: never holds more than maxUsers users', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.boolean()), { maxLength: 100 }),
        (maxUsers, ops) => {
          const s = createMemoryFrequencyStore({ pendingMs: 1000, maxUsers });
          ops.forEach(([u, impress], k) => {
            if (impress) s.recordImpression(`u${u}`, 'a', `d${k}`, T0 + k);
            else s.reserve(`u${u}`, 'a', `d${k}`, cap1, T0 + k);
            expect(s.users()).toBeLessThanOrEqual(maxUsers);
          });
          expect(s.users()).toBe(Math.min(maxUsers, new Set(ops.map(([u]) => u)).size));
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe('memory frequency store: model check', () => {
  it('property: isCapped agrees with a reference count of live serves', () => {
    const pendingMs = 3000;
    const cap: FrequencyCap = { impressions: 2, windowSeconds: 10 };
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            op: fc.constantFrom('reserve', 'impress', 'impressUnknown'),
            user: fc.constantFrom('u1', 'u2'),
            dt: fc.integer({ min: 0, max: 4 }).map((n) => n * 1000),
          }),
          { maxLength: 60 },
        ),
        (ops) => {
          const s = createMemoryFrequencyStore({ pendingMs });
          const ref: { user: string; id: string; ts: number; impressed: boolean }[] = [];
          let now = T0;
          ops.forEach(({ op, user, dt }, k) => {
            now += dt;
            if (op === 'reserve') {
              s.reserve(user, 'a', `d${k}`, cap, now);
              ref.push({ user, id: `d${k}`, ts: now, impressed: false });
            } else if (op === 'impress') {
              // Beacons arrive only while the token lives (pendingMs), so only live reservations.
              const last = ref.findLast((r) => r.user === user && !r.impressed && r.ts >= now - pendingMs);
              if (last === undefined) return;
              s.recordImpression(user, 'a', last.id, now);
              last.impressed = true;
            } else {
              s.recordImpression(user, 'a', `x${k}`, now);
              ref.push({ user, id: `x${k}`, ts: now, impressed: true });
            }
            for (const u of ['u1', 'u2']) {
              const live = ref.filter(
                (r) =>
                  r.user === u &&
                  r.ts > now - cap.windowSeconds * 1000 &&
                  (r.impressed || r.ts >= now - pendingMs),
              ).length;
              expect(s.isCapped(u, 'a', cap, now), `${u} at +${now - T0}`).toBe(live >= cap.impressions);
            }
          });
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});
