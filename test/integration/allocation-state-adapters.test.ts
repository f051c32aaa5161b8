import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryAllocationStateStore } from '../../src/adapters/memory/memory-allocation-state-store.js';
import { createMemoryMixStore } from '../../src/adapters/memory/memory-mix-store.js';
import { createRedisAllocationStateStore } from '../../src/adapters/redis/redis-allocation-state-store.js';
import { createRedisConnection, type RedisConnection } from '../../src/adapters/redis/redis-client.js';
import { redisKeys } from '../../src/adapters/redis/redis-keys.js';
import { createRedisMixStore } from '../../src/adapters/redis/redis-mix-store.js';
import { describeAllocationStateStoreConformance } from '../conformance/allocation-state-store.conformance.js';
import { describeMixStoreConformance } from '../conformance/mix-store.conformance.js';
import { freePort } from '../support/net.js';
import { commandCallsDuring, deleteRedisPrefix, redisTestKeyspace } from '../support/redis.js';

const REDIS_URL = process.env.ALLOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MIN = 60_000;
const HALF_LIFE = 10 * MIN;
const T = Date.parse('2026-06-01T00:00:00Z');
/** Long enough that only explicit flushes write, in tests that count what a flush does. */
const MANUAL = 3_600_000;

// One connection for the file; every store gets its own key prefix, all deleted at the end.
const { connection, newPrefix, cleanup } = redisTestKeyspace(REDIS_URL);

afterAll(async () => {
  await cleanup();
});

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeMixStoreConformance('memory', async (opts) => ({
  store: createMemoryMixStore(opts),
  flush: async () => {},
  cleanup: async () => {},
}));
describeMixStoreConformance('redis', async (opts) => {
  const client = await connection();
  const prefix = newPrefix();
  const store = createRedisMixStore({ client, prefix, ...opts, flushIntervalMs: MANUAL });
  return {
    store,
    flush: () => store.flush(),
    cleanup: async () => {
      await store.close();
      await deleteRedisPrefix(client, prefix);
    },
  };
});

describeAllocationStateStoreConformance('memory', async () => ({
  store: createMemoryAllocationStateStore(),
  cleanup: async () => {},
}));
describeAllocationStateStoreConformance('redis', async () => {
  const client = await connection();
  const prefix = newPrefix();
  return {
    store: createRedisAllocationStateStore({ client, prefix }),
    cleanup: () => deleteRedisPrefix(client, prefix),
  };
});

describe('redis mix store: a fleet', () => {
  it("sums what two decision servers record; a third process's read sees both", async () => {
    const client = await connection();
    const prefix = newPrefix();
    const server = () =>
      createRedisMixStore({ client, prefix, halfLifeMs: HALF_LIFE, flushIntervalMs: MANUAL });
    const [one, two, controller] = [server(), server(), server()];
    const ids = ['a', 'b'];
    for (let i = 0; i < 30; i++) one.record('p', 'a,b', ids, '22', { from: 'one' }, T);
    for (let i = 0; i < 10; i++) one.record('p', 'a,b', ids, '20', { from: 'one' }, T);
    for (let i = 0; i < 20; i++) two.record('p', 'a,b', ids, '22', { from: 'two' }, T);
    for (let i = 0; i < 5; i++) two.record('p', 'a,b', ids, '02', { from: 'two' }, T);
    await Promise.all([one.flush(), two.flush()]);
    const snap = await controller.read('p', T);
    expect(snap?.adIds).toEqual(ids);
    expect(Object.fromEntries(snap!.counts)).toEqual({ '22': 50, '20': 10, '02': 5 });
    expect(snap?.samples).toBe(65);
    const from = (await controller.recentContexts('p')).map((c) => c.from);
    expect(from.filter((f) => f === 'one')).toHaveLength(40);
    expect(from.filter((f) => f === 'two')).toHaveLength(25);
    await Promise.all([one.close(), two.close(), controller.close()]);
  });

  it('flushes on its own timer', async () => {
    const client = await connection();
    const prefix = newPrefix();
    const store = createRedisMixStore({ client, prefix, halfLifeMs: HALF_LIFE, flushIntervalMs: 20 });
    const reader = createRedisMixStore({ client, prefix, halfLifeMs: HALF_LIFE, flushIntervalMs: MANUAL });
    store.record('p', 'a', ['a'], '2', {}, T);
    await waitFor(async () => (await reader.read('p', T))?.samples === 1);
    await Promise.all([store.close(), reader.close()]);
  });
});

/** Stopped and restarted, and read through INFO commandstats: a Redis nobody else uses. */
describe('redis adapters on a private redis-server', () => {
  let port = 0;
  let dir = '';
  let proc: ChildProcess | undefined;
  let client: RedisConnection;

  // Append-only with fsync always, so that a restart loses nothing the adapters wrote.
  const start = (): void => {
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir].concat([
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
      ]),
      { stdio: 'ignore' },
    );
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (p === undefined || p.exitCode !== null) return;
    await new Promise((resolve) => {
      p.once('exit', resolve);
      p.kill('SIGTERM');
    });
  };

  beforeAll(async () => {
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'allot-redis-'));
    start();
    client = await createRedisConnection(`redis://127.0.0.1:${port}`, { onError: () => {} });
  });
  afterAll(async () => {
    client?.destroy();
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const callsDuring = (action: () => Promise<unknown>) => commandCallsDuring(client, action);

  it('mix flush: plain commands in one round trip, candidates only when changed', async () => {
    const store = createRedisMixStore({
      client,
      prefix: 'stats',
      halfLifeMs: HALF_LIFE,
      flushIntervalMs: MANUAL,
    });
    store.record('p', 'a,b', ['a', 'b'], '22', {}, T);
    store.record('p', 'a,b', ['a', 'b'], '20', {}, T + MIN);
    store.record('q', 'c', ['c'], '2', {}, T);
    const calls = await callsDuring(() => store.flush());
    expect(calls).toEqual({ hincrby: 3, expire: 5, set: 2, lpush: 2, ltrim: 2 });
    store.record('p', 'a,b', ['a', 'b'], '22', {}, T);
    const again = await callsDuring(() => store.flush());
    // Same candidates as written a moment ago, and the slice's expiry already set: neither again.
    expect(again).toEqual({ hincrby: 1, expire: 1, lpush: 1, ltrim: 1 });
    await store.close();
  });

  it('allocation state: publish is one script (with its PUBLISH), a poll one EVALSHA', async () => {
    const store = createRedisAllocationStateStore({ client, prefix: 'stats' });
    const w = new Map([['p', { targetsVersion: 1, weights: new Map([['a', 1]]) }]]);
    await store.publish(w, new Map()); // loads the script
    const published = await callsDuring(() => store.publish(w, new Map()));
    expect(published).toEqual({ evalsha: 1, hset: 1, incr: 1, publish: 1 });
    const version = (await store.readWeights(-1))!.version;
    const polled = await callsDuring(() => store.readWeights(version));
    expect(polled).toMatchObject({ evalsha: 1 });
    expect(polled.hgetall).toBeUndefined();
    const changed = await callsDuring(() => store.readWeights(version - 1));
    expect(changed).toMatchObject({ evalsha: 1 });
    expect(changed.hgetall).toBe(1);
  });

  it('mix store: a flush cut off in flight is merged back and written once', async () => {
    const store = createRedisMixStore({
      client,
      prefix: 'cut',
      halfLifeMs: HALF_LIFE,
      flushIntervalMs: MANUAL,
    });
    const admin = await createRedisConnection(`redis://127.0.0.1:${port}`, { onError: () => {} });
    try {
      for (let n = 0; n < 3; n++) store.record('p', 'a', ['a'], '2', { n }, T);
      // EXEC blocks (flag b) while writes are paused; killing its connection then drops the
      // transaction unapplied, and the adapter sees a failed flush.
      const id = await client.clientId();
      await admin.sendCommand(['CLIENT', 'PAUSE', '5000', 'WRITE']);
      const cut = store.flush();
      await waitFor(
        async () =>
          (await admin.sendCommand(['CLIENT', 'LIST', 'ID', String(id)]))!.toString().match(/ flags=\S*b/) !==
          null,
      );
      await admin.sendCommand(['CLIENT', 'KILL', 'ID', String(id)]);
      await expect(cut).rejects.toThrow();
      await admin.sendCommand(['CLIENT', 'UNPAUSE']);
      store.record('p', 'a', ['a'], '2', { n: 3 }, T);
      await waitFor(() => client.isReady);
      await store.flush();
      const snap = await store.read('p', T);
      expect(snap?.samples).toBe(4);
      expect((await store.recentContexts('p')).map((c) => c.n)).toEqual([0, 1, 2, 3]);
    } finally {
      await admin.sendCommand(['CLIENT', 'UNPAUSE']);
      admin.destroy();
      await store.close();
    }
  });

  it('mix store: keeps its samples while Redis is down and writes them once it is back', async () => {
    const errors: unknown[] = [];
    const store = createRedisMixStore({
      client,
      prefix: 'outage',
      halfLifeMs: HALF_LIFE,
      flushIntervalMs: 50,
      contextsIntervalMs: 50,
      onError: (err) => errors.push(err),
    });
    await waitFor(() => client.isReady);
    store.record('p', 'a,b', ['a', 'b'], '22', { n: 0 }, T);
    await store.flush();
    await stop();
    await waitFor(() => !client.isReady);

    // Older than the read horizon (5 half-lives) by the time the rest is written: dropped, not kept.
    const stale = T - 6 * HALF_LIFE;
    store.record('p', 'a,b', ['a', 'b'], '00', { n: 9 }, stale);
    for (let n = 1; n <= 4; n++) store.record('p', 'a,b', ['a', 'b'], '22', { n }, T);
    await expect(store.flush()).rejects.toThrow();
    await waitFor(() => errors.length >= 2); // the timer kept trying
    store.record('p', 'a,b', ['a', 'b'], '20', { n: 5 }, T);

    start();
    await waitFor(() => client.isReady);
    // No explicit flush: the timer's next tick writes what the failed ones kept.
    await waitFor(async () => (await store.read('p', T))?.samples === 6);
    const snap = await store.read('p', T);
    expect(Object.fromEntries(snap!.counts)).toEqual({ '22': 5, '20': 1 });
    const contexts = await store.recentContexts('p');
    expect(contexts.map((c) => c.n)).toEqual([0, 9, 1, 2, 3, 4, 5]);
    expect(await client.exists(redisKeys('outage').mixSlice('p', stale))).toBe(0);
    await store.close();
  });
});
