import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection, type RedisConnection } from '../../src/adapters/redis/redis-client.js';
import { createRedisCounterStore } from '../../src/adapters/redis/redis-counter-store.js';
import { redisKeys } from '../../src/adapters/redis/redis-keys.js';
import { createRedisStreamsEventBus } from '../../src/adapters/redis/redis-streams-event-bus.js';
import type { AllotEvent } from '../../src/core/events/allot-event.js';
import type { CounterIncrement } from '../../src/core/ports/counter-store.js';
import type { EventBus } from '../../src/core/ports/event-bus.js';
import { describeCounterStoreConformance } from '../conformance/counter-store.conformance.js';
import { describeEventBusConformance } from '../conformance/event-bus.conformance.js';
import { sampleEvent, sampleEvents } from '../support/events.js';
import { freePort } from '../support/net.js';
import { commandCallsDuring, redisTestKeyspace } from '../support/redis.js';

const REDIS_URL = process.env.ALLOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const H = 3_600_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');

// One connection for the file; every test gets its own key prefix, all deleted at the end.
const { connection, newPrefix, cleanup } = redisTestKeyspace(REDIS_URL);
// Buses a failed test left open would keep their reader connections (and the worker) alive.
const buses: EventBus[] = [];
const track = (bus: EventBus): EventBus => {
  buses.push(bus);
  return bus;
};

afterAll(async () => {
  // Bounded: a failed test may leave a bus whose handler never returns.
  const giveUp = new Promise((r) => setTimeout(r, 5000));
  await Promise.race([Promise.allSettled(buses.map((b) => b.close())), giveUp]);
  await cleanup();
});

const row = (placementId: string, adId: string, hour: number, n = 1): CounterIncrement => ({
  placementId,
  adId,
  bucketStartMs: T0 + hour * H,
  decisions: n,
  impressions: n,
  clicks: 0,
});

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeCounterStoreConformance('redis', async () =>
  createRedisCounterStore({ client: await connection(), prefix: newPrefix() }),
);
describeEventBusConformance('redis streams', async () =>
  track(
    await createRedisStreamsEventBus({
      client: await connection(),
      prefix: newPrefix(),
      capacity: 100,
      retryDelayMs: 5,
      blockMs: 100,
    }),
  ),
);

describe('redis counter store', () => {
  it('sets the retention TTL on every bucket it touches', async () => {
    const client = await connection();
    const prefix = newPrefix();
    const store = createRedisCounterStore({ client, prefix, retentionHours: 2 });
    await store.add([row('p', 'a', 0), row('q', 'b', 1)]);
    const keys = redisKeys(prefix);
    for (const key of [keys.counterBucket(T0), keys.counterBucket(T0 + H)]) {
      const ttl = await client.pTTL(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2 * H);
    }
  });

  it('rejects non-finite counts before writing anything', async () => {
    const client = await connection();
    const prefix = newPrefix();
    const store = createRedisCounterStore({ client, prefix });
    await expect(store.add([row('p', 'a', 0), { ...row('p', 'b', 0), clicks: Number.NaN }])).rejects.toThrow(
      RangeError,
    );
    expect((await store.read('p', T0, T0 + H)).size).toBe(0);
  });
});

describe('redis streams event bus', () => {
  const options = async () => ({
    client: await connection(),
    prefix: newPrefix(),
    blockMs: 100,
    retryDelayMs: 10,
  });

  it('a live consumer takes over entries a dead one read and never acknowledged', async () => {
    const common = { ...(await options()), claimIdleMs: 500 };
    // "Dead": its handler never returns, so it neither acknowledges nor reads again.
    const dying = track(await createRedisStreamsEventBus({ ...common, consumerName: 'dying' }));
    let release!: () => void;
    const never = new Promise<void>((r) => {
      release = r;
    });
    const stuck: string[] = [];
    dying.subscribe('g', async (batch) => {
      stuck.push(...batch.map((e) => e.id));
      await never;
    });
    try {
      const all = sampleEvents(0, 1200);
      await dying.publish(all);
      await waitFor(() => stuck.length > 0);

      const live = track(await createRedisStreamsEventBus({ ...common, consumerName: 'live' }));
      const got = new Set<string>();
      live.subscribe('g', async (batch) => {
        for (const e of batch) got.add(e.id);
      });
      await waitFor(() => all.every((e) => got.has(e.id)));
      expect(stuck.every((id) => got.has(id))).toBe(true);
      const key = redisKeys(common.prefix).eventStream('events');
      await waitFor(async () => (await common.client.xPending(key, 'g')).pending === 0);
      await live.close();
    } finally {
      release();
    }
    await dying.close();
  });

  it('leaves a failed batch pending in Redis and delivers it again', async () => {
    const opts = await options();
    const key = redisKeys(opts.prefix).eventStream('events');
    const bus = track(await createRedisStreamsEventBus(opts));
    const attempts: string[][] = [];
    const pendingWhileFailing: number[] = [];
    bus.subscribe('g', async (batch) => {
      attempts.push(batch.map((e) => e.id));
      if (attempts.length <= 2) {
        pendingWhileFailing.push((await opts.client.xPending(key, 'g')).pending);
        throw new Error('transient');
      }
    });
    await bus.publish(sampleEvents(0, 3));
    await waitFor(() => attempts.length >= 3);
    expect(attempts).toEqual([0, 1, 2].map(() => ['d0:i', 'd1:i', 'd2:i']));
    expect(pendingWhileFailing).toEqual([1, 1]);
    await waitFor(async () => (await opts.client.xPending(key, 'g')).pending === 0);
    await bus.close();
  });

  it('a lingering consumer with a backlog reads on without waiting out its linger', async () => {
    const opts = await options();
    const bus = track(await createRedisStreamsEventBus(opts));
    await bus.subscribe('g', async () => {}).stop(); // the group, created before the events
    // A backlog of 20 entries of 100 events (a consumer that was down, or fell behind).
    for (let i = 0; i < 20; i++) await bus.publish(sampleEvents(i * 100, (i + 1) * 100));
    const batches: number[] = [];
    bus.subscribe(
      'g',
      async (batch) => {
        batches.push(batch.length);
      },
      { lingerMs: 60_000, maxBatch: 1000 },
    );
    // Without reading on, the first read (2 entries, sized for the default 500 per entry) would
    // sleep a third of the linger (20 s) before the next: the batches would not come in 15 s.
    await waitFor(() => batches.length >= 2, 15_000);
    expect(batches).toEqual([1000, 1000]);
    await bus.close();
  });

  it('a group keeps its position while no consumer runs', async () => {
    const opts = await options();
    const first = track(await createRedisStreamsEventBus({ ...opts, consumerName: 'first' }));
    const before: string[] = [];
    first.subscribe('g', async (batch) => {
      before.push(...batch.map((e) => e.id));
    });
    await first.publish(sampleEvents(0, 10));
    await waitFor(() => before.length === 10);
    await first.close();

    const publisher = track(await createRedisStreamsEventBus(opts));
    await publisher.publish(sampleEvents(10, 20));
    await publisher.publish(sampleEvents(20, 30));

    const second = track(await createRedisStreamsEventBus({ ...opts, consumerName: 'second' }));
    const after: string[] = [];
    second.subscribe('g', async (batch) => {
      after.push(...batch.map((e) => e.id));
    });
    await waitFor(() => after.length >= 20);
    expect(after).toEqual(sampleEvents(10, 30).map((e) => e.id));
    await second.close();
    await publisher.close();
    expect(await opts.client.ping()).toBe('PONG'); // a given client stays open
  });

  it('trims entries every group has acknowledged', async () => {
    const opts = await options();
    const key = redisKeys(opts.prefix).eventStream('events');
    const bus = track(await createRedisStreamsEventBus(opts));
    let n = 0;
    bus.subscribe('g', async (batch) => {
      n += batch.length;
    });
    // One entry per publish; trimming works in whole stream nodes of 100 entries.
    for (let i = 0; i < 300; i++) await bus.publish([sampleEvent(i)]);
    await waitFor(() => n === 300);
    await waitFor(async () => (await opts.client.xLen(key)) < 300);
    await bus.close();
  });
});

/** Command counts come from INFO commandstats, so these run on a Redis nobody else uses. */
describe('redis adapters on a private redis-server: commands per batch', () => {
  let proc: ChildProcess | undefined;
  let client: RedisConnection;

  beforeAll(async () => {
    const port = await freePort();
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    client = await createRedisConnection(`redis://127.0.0.1:${port}`, { onError: () => {} });
  });
  afterAll(async () => {
    client?.destroy();
    proc?.kill();
  });

  const callsDuring = (action: () => Promise<unknown>) => commandCallsDuring(client, action);

  it('counter add: one script, one HMGET + HSET + EXPIRE per hour bucket', async () => {
    const store = createRedisCounterStore({ client, prefix: 'stats' });
    await store.add([row('warm', 'a', 0)]); // loads the script
    const batch = [row('p', 'a', 0), row('p', 'b', 0), row('p', 'a', 1), row('q', 'a', 0), row('p', 'a', 0)];
    const calls = await callsDuring(() => store.add(batch));
    expect(calls).toEqual({ evalsha: 1, hmget: 2, hset: 2, expire: 2 });
  });

  it('countOnce: commands per batch, not per event (5,000 events of 20 placements: 10 commands)', async () => {
    const store = createRedisCounterStore({ client, prefix: 'stats' });
    const ttl = { decision: 60_000, impression: 60_000, click: 60_000 };
    const events = Array.from({ length: 5000 }, (_, i) => ({
      id: `e${i}`,
      type: i % 2 === 0 ? ('decision' as const) : ('impression' as const),
      ts: T0 + 1000,
      decisionId: `e${i}`,
      placementId: `pl${i % 20}`,
      adId: `ad${i % 7}`,
      userId: null,
    }));
    await store.countOnce(events.slice(0, 1), ttl, T0);
    const calls = await callsDuring(() => store.countOnce(events, ttl, T0));
    // Two chunks of ids (ZMSCORE + ZADD each), expiry sweep, one bucket's HMGET/HSET/EXPIRE.
    expect(calls).toEqual({
      evalsha: 1,
      zmscore: 2,
      zadd: 2,
      zremrangebyscore: 1,
      pexpire: 1,
      hmget: 1,
      hset: 1,
      expire: 1,
    });
    const again = await callsDuring(() => store.countOnce(events, ttl, T0 + 1));
    expect(again).toEqual({ evalsha: 1, zmscore: 2, zremrangebyscore: 1, pexpire: 1 });
    // A batch over 5,000 events goes as several atomic calls (25,000 → 5), all counted once.
    const big = Array.from({ length: 25_000 }, (_, i) => ({ ...events[i % 5000]!, id: `big${i}` }));
    const bigCalls = await callsDuring(() => store.countOnce(big, ttl, T0));
    expect(bigCalls.evalsha).toBe(5);
    expect(Object.values(bigCalls).reduce((a, b) => a + b, 0)).toBe(50); // 10 per call, as above
    expect((await store.countOnce(big, ttl, T0 + 2)).every((c) => !c)).toBe(true);
    const counts = await store.read('pl3', T0, T0 + H);
    expect(counts.get('ad3')?.impressions).toBeGreaterThan(0);
    let total = 0;
    for (let p = 0; p < 20; p++) {
      for (const c of (await store.read(`pl${p}`, T0, T0 + H)).values()) total += c.decisions + c.impressions;
    }
    expect(total).toBe(30_000);
  });

  it('publish: one XADD per 500 events, in one MULTI when more than one', async () => {
    const bus = track(await createRedisStreamsEventBus({ client, prefix: 'stats' }));
    const calls = await callsDuring(() => bus.publish(sampleEvents(0, 1200)));
    expect(calls).toMatchObject({ multi: 1, exec: 1, xadd: 3 });
    const small = await callsDuring(() => bus.publish(sampleEvents(0, 500)));
    expect(small.xadd).toBe(1);
    expect(small.multi).toBeUndefined();
    await bus.close();
  });

  it('publish: an entry holds at most ~96 KiB of JSON, however few events that is', async () => {
    const bus = track(await createRedisStreamsEventBus({ client, prefix: 'sized' }));
    // ~560 bytes of JSON each: 500 events would be one ~280 KB entry (a large object for V8).
    const long = sampleEvents(0, 500).map((e, i) => ({ ...e, userId: `${'u'.repeat(400)}${i}` }));
    const calls = await callsDuring(() => bus.publish(long));
    expect(calls).toMatchObject({ multi: 1, exec: 1 });
    expect(calls.xadd).toBeGreaterThanOrEqual(3);
    const entries = (await client.xRange(redisKeys('sized').eventStream('events'), '-', '+')) ?? [];
    expect(entries).toHaveLength(calls.xadd!);
    const stored = entries.flatMap((m) => {
      const text = String(m?.message.e);
      expect(text.length).toBeLessThanOrEqual(96 * 1024);
      return JSON.parse(text) as AllotEvent[];
    });
    expect(stored).toEqual(long); // all of them, in order
    await bus.close();
  });
});
