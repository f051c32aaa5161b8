import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCounterStore } from '../../src/adapters/memory/memory-counter-store.js';
import { createMemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { createMemoryFrequencyStore } from '../../src/adapters/memory/memory-frequency-store.js';
import { createSqliteConfigStore } from '../../src/adapters/sqlite/sqlite-config-store.js';
import type { AllotEvent } from '../../src/core/events/allot-event.js';
import { EMPTY_PLAN } from '../../src/core/plan/plan.js';
import type { ConfigStore } from '../../src/core/ports/config-store.js';
import { mulberry32 } from '../../src/core/random/mulberry32.js';
import { createStatusService } from '../../src/manager/status-service.js';
import { startAggregator } from '../../src/pipeline/aggregator.js';
import {
  createSamplingPolicy,
  fixedSamplingPolicy,
  type SamplingPolicy,
} from '../../src/pipeline/sampling-policy.js';
import { makeAd } from '../support/fixtures.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const TTL = { decision: 3_600_000, impression: 3_600_000, click: 3_600_000 };
const SHARES = [0.3, 0.5, 0.2];

/**
 * Impression events of one placement through the real aggregator (with `sampling`) into fresh
 * counters, then the real status service. Returns the status and the realized truth.
 */
async function run(store: ConfigStore, sampling: SamplingPolicy, n: number, seed: number) {
  const rnd = mulberry32(seed);
  const counters = createMemoryCounterStore();
  const bus = createMemoryEventBus({ capacity: 1_000_000 });
  const sub = startAggregator({
    bus,
    counters,
    frequency: createMemoryFrequencyStore({ pendingMs: 60_000 }),
    plan: () => EMPTY_PLAN,
    dedupTtlMs: TTL,
    clock: () => NOW,
    sampling,
  });
  const truth = [0, 0, 0];
  const events: AllotEvent[] = [];
  for (let i = 0; i < n; i++) {
    const x = rnd();
    const k = x < SHARES[0]! ? 0 : x < SHARES[0]! + SHARES[1]! ? 1 : 2;
    truth[k]!++;
    const decisionId = `s${seed}-${i}`;
    events.push({
      id: `${decisionId}:i`,
      type: 'impression',
      ts: NOW,
      decisionId,
      placementId: 'p',
      adId: `a${k}`,
      userId: null,
    });
  }
  await bus.publish(events);
  await bus.close();
  await sub.stop();
  const status = await createStatusService({
    store,
    counters,
    clock: { now: () => NOW },
    report: () => undefined,
  }).get('p');
  return { status, truth: truth.map((t) => t / n) };
}

// The distributed issue's statistical acceptance, at the status level: with sampling on, the
// 95 % interval /status reports covers the true (realized) share in ≥ 95 % of repeated checks.
describe('sampled live counters → /status estimates', () => {
  let store: ConfigStore;
  beforeAll(async () => {
    store = createSqliteConfigStore({ path: ':memory:' });
    for (const id of ['a0', 'a1', 'a2']) await store.createAd(makeAd(id));
    await store.createPlacement({
      id: 'p',
      name: 'p',
      fallbackAdId: null,
      window: { lengthHours: 24, timeZone: 'UTC' },
      createdAt: '2026-06-01T00:00:00.000Z',
      updatedAt: '2026-06-01T00:00:00.000Z',
    });
    await store.putTargets(
      'p',
      SHARES.map((share, k) => ({ adId: `a${k}`, share })),
      '2026-06-01T00:00:00.000Z',
    );
  });
  afterAll(async () => {
    await store.close();
  });

  it('exact mode reports exact counts and says so', async () => {
    const { status, truth } = await run(store, fixedSamplingPolicy(1), 5000, 1);
    expect(status.totalImpressions).toBe(5000);
    for (const [k, e] of status.ads.entries()) {
      expect(e.estimated).toBe(false);
      expect(e.sampleRate).toBe(1);
      expect(e.share).toBeCloseTo(truth[k]!, 12);
    }
  });

  it('at a 10 % sample, the interval covers the true share in ≥ 95 % of 300 seeded runs', async () => {
    let covered = 0;
    let checks = 0;
    let halfWidth = 0;
    for (let seed = 100; seed < 400; seed++) {
      const { status, truth } = await run(store, fixedSamplingPolicy(0.1), 10_000, seed);
      for (const [k, e] of status.ads.entries()) {
        expect(e.estimated).toBe(true);
        checks++;
        if (e.ci95[0] <= truth[k]! && truth[k]! <= e.ci95[1]) covered++;
        halfWidth += (e.ci95[1] - e.ci95[0]) / 2;
      }
    }
    // 900 checks: a true coverage of 0.95 falls below 0.935 with probability < 2 % (sd 0.73 pp).
    expect(covered / checks).toBeGreaterThanOrEqual(0.935);
    // About 1,000 samples per run: a half-width near 1.96·√(0.25/1000) ≈ 3 pp, not wider.
    expect(halfWidth / checks).toBeLessThan(0.035);
  }, 60_000);

  it('the confidence-driven policy samples busy placements and counts quiet ones exactly', () => {
    const policy = createSamplingPolicy({ margin: 0.01, confidence: 0.95, intervalMs: 60_000 });
    for (let t = 0; t <= 120_000; t += 100) {
      policy.observe('busy', 100, NOW + t); // 1,000 impressions/s → 60,000 per interval
      policy.observe('quiet', 1, NOW + t); // 10/s → 600 per interval
    }
    expect(policy.rateFor('quiet')).toBe(1);
    // 9,604 samples needed at ±1 pp, 95 %, worst-case share: 9,604 / 60,000 ≈ 0.16.
    expect(policy.rateFor('busy')).toBeCloseTo(9604 / 60_000, 2);
  });
});
