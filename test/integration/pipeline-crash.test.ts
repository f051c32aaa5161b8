import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisConnection, type RedisConnection } from '../../src/adapters/redis/redis-client.js';
import { createRedisCounterStore } from '../../src/adapters/redis/redis-counter-store.js';
import { redisKeys } from '../../src/adapters/redis/redis-keys.js';
import { createRedisStreamsEventBus } from '../../src/adapters/redis/redis-streams-event-bus.js';
import type { AllotEvent } from '../../src/core/events/allot-event.js';
import { AGGREGATOR_GROUP } from '../../src/pipeline/aggregator.js';
import { deleteRedisPrefix } from '../support/redis.js';

const REDIS_URL = process.env.ALLOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = new URL('../..', import.meta.url).pathname;
const HOUR = 3_600_000;
const T = Math.floor(Date.now() / HOUR) * HOUR;

function startWorker(prefix: string, slowMs: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'test/support/aggregator-worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL, PREFIX: prefix, CONSUMER: 'worker-1', SLOW_MS: String(slowMs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

const waitFor = async (probe: () => Promise<boolean>, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return probe();
};

// The distributed issue's crash acceptance: a pipeline consumer SIGKILLed mid-stream and
// restarted loses and doubles nothing in the live counters (checked against ground truth).
describe('pipeline consumer killed mid-batch', () => {
  const prefix = `allot-crash-${process.pid}-${randomBytes(3).toString('hex')}`;
  let client: RedisConnection;
  const workers: ChildProcess[] = [];
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await deleteRedisPrefix(client, prefix);
    await client.quit();
  });

  it('counts every event exactly once across a SIGKILL and restart', async () => {
    client = await createRedisConnection(REDIS_URL);
    // The group exists before anything is published, so no event predates it.
    await client.xGroupCreate(redisKeys(prefix).eventStream('events'), AGGREGATOR_GROUP, '0', {
      MKSTREAM: true,
    });

    const truth = new Map<string, number>();
    const events: AllotEvent[] = [];
    for (let i = 0; i < 6000; i++) {
      const d = i < 5000 ? i : i - 5000; // the last 1,000 repeat earlier events (beacons fired twice)
      const adId = `ad${d % 3}`;
      if (i < 5000) truth.set(adId, (truth.get(adId) ?? 0) + 1);
      events.push({
        id: `d${d}:i`,
        type: 'impression',
        ts: T + 1000,
        decisionId: `d${d}`,
        placementId: 'p',
        adId,
        userId: null,
      });
    }
    const publisher = await createRedisStreamsEventBus({ client, prefix, capacity: 1000 });
    for (let i = 0; i < events.length; i += 500) await publisher.publish(events.slice(i, i + 500));

    const counters = createRedisCounterStore({ client, prefix });
    const total = async () => {
      let n = 0;
      for (const c of (await counters.read('p', T, T + HOUR)).values()) n += c.impressions;
      return n;
    };
    const first = startWorker(prefix, 40);
    workers.push(first);
    expect(await waitFor(async () => (await total()) >= 1000, 60_000)).toBe(true);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const atKill = await total();
    expect(atKill).toBeLessThan(5000);

    const second = startWorker(prefix, 0);
    workers.push(second);
    expect(await waitFor(async () => (await total()) >= 5000, 60_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    const counts = await counters.read('p', T, T + HOUR);
    for (const [adId, n] of truth) expect(counts.get(adId)?.impressions, adId).toBe(n);
    expect(await total()).toBe(5000);
    second.kill('SIGTERM');
  }, 180_000);
});
