import { afterAll, describe, expect, it } from 'vitest';
import { createRedisConnection } from '../../src/adapters/redis/redis-client.js';
import {
  createRedisFrequencyStore,
  type RedisFrequencyStore,
} from '../../src/adapters/redis/redis-frequency-store.js';
import { redisKeys } from '../../src/adapters/redis/redis-keys.js';
import { redisTestKeyspace } from '../support/redis.js';

const REDIS_URL = process.env.ALLOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const T = Date.parse('2026-06-01T00:00:00Z');
const CAP = { impressions: 3, windowSeconds: 3600 };

const { connection, newPrefix, cleanup } = redisTestKeyspace(REDIS_URL);
const stores: RedisFrequencyStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
  await cleanup();
});

/** Two decision servers of one fleet; syncs are driven by the test (timers far apart). */
async function fleet(refreshMs = 0) {
  const client = await connection();
  const prefix = newPrefix();
  const server = () => {
    const s = createRedisFrequencyStore({
      client,
      prefix,
      syncIntervalMs: 3_600_000,
      refreshMs,
      clock: () => T,
    });
    stores.push(s);
    return s;
  };
  return { a: server(), b: server(), client, prefix };
}

describe('Redis frequency store: caps shared by decision servers', () => {
  it("a server counts another server's serves once it has read them", async () => {
    const { a, b } = await fleet();
    a.reserve('u1', 'ad', 'd1', CAP, T);
    a.reserve('u1', 'ad', 'd2', CAP, T + 1);
    expect(a.isCapped('u1', 'ad', CAP, T + 2)).toBe(false);
    await a.sync();
    // b has never seen u1: it answers from what it knows and asks for the rest.
    expect(b.isCapped('u1', 'ad', CAP, T + 3)).toBe(false);
    await b.sync();
    expect(b.isCapped('u1', 'ad', CAP, T + 4)).toBe(false); // 2 of 3
    b.reserve('u1', 'ad', 'd3', CAP, T + 5);
    expect(b.isCapped('u1', 'ad', CAP, T + 6)).toBe(true);
    await b.sync();
    expect(a.isCapped('u1', 'ad', CAP, T + 7)).toBe(false); // stale until its re-read
    await a.sync();
    expect(a.isCapped('u1', 'ad', CAP, T + 8)).toBe(true);
    // Other users and ads are untouched.
    expect(a.isCapped('u2', 'ad', CAP, T + 9)).toBe(false);
    expect(a.isCapped('u1', 'other', CAP, T + 9)).toBe(false);
  });

  it('own serves count once, however often they are synced and read back', async () => {
    const { a } = await fleet();
    a.reserve('u', 'ad', 'd1', CAP, T);
    a.reserve('u', 'ad', 'd2', CAP, T);
    for (let i = 0; i < 3; i++) {
      a.isCapped('u', 'ad', CAP, T + i); // asks for a re-read
      await a.sync();
    }
    expect(a.isCapped('u', 'ad', CAP, T + 10)).toBe(false);
    a.reserve('u', 'ad', 'd3', CAP, T + 11);
    expect(a.isCapped('u', 'ad', CAP, T + 12)).toBe(true);
  });

  it('serves leave the window; the key expires after the longest window written', async () => {
    const { a, b, client, prefix } = await fleet();
    for (const d of ['d1', 'd2', 'd3']) a.reserve('u', 'ad', d, CAP, T);
    await a.sync();
    b.isCapped('u', 'ad', CAP, T + 1);
    await b.sync();
    expect(b.isCapped('u', 'ad', CAP, T + 1)).toBe(true);
    expect(b.isCapped('u', 'ad', CAP, T + 3_600_001)).toBe(false);
    const ttl = await client.pTTL(redisKeys(prefix).frequencyUser('u'));
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  it('a serve written twice (a retried sync) counts once', async () => {
    const { a, b } = await fleet();
    a.reserve('u{x}', 'ad', 'd1', CAP, T);
    await a.sync();
    // Re-sending what was written (a retry after a lost reply) adds nothing.
    a.reserve('u{x}', 'ad', 'd1', CAP, T);
    a.reserve('u{x}', 'ad', 'd2', CAP, T);
    await a.sync();
    b.isCapped('u{x}', 'ad', CAP, T);
    await b.sync();
    expect(b.isCapped('u{x}', 'ad', { impressions: 2, windowSeconds: 3600 }, T + 1)).toBe(true);
    expect(b.isCapped('u{x}', 'ad', CAP, T + 1)).toBe(false);
  });

  it('a sync carries every user with news, several script calls of users; the other server reads each back', async () => {
    const { a, b } = await fleet();
    const one = { impressions: 1, windowSeconds: 3600 };
    const two = { impressions: 2, windowSeconds: 3600 };
    // 600 users: more than one script call's batch (256), some with two serves in one call.
    for (let i = 0; i < 600; i++) a.reserve(`user${i}`, 'ad', `d${i}`, one, T);
    for (let i = 0; i < 600; i += 3) a.reserve(`user${i}`, 'ad', `e${i}`, two, T);
    // A user with nothing to write, only a read, rides in the same sync.
    a.isCapped('nobody', 'ad', one, T);
    await a.sync();
    for (let i = 0; i < 600; i++) expect(b.isCapped(`user${i}`, 'ad', one, T)).toBe(false);
    await b.sync();
    for (let i = 0; i < 600; i++) {
      expect(b.isCapped(`user${i}`, 'ad', one, T + 1)).toBe(true);
      expect(b.isCapped(`user${i}`, 'ad', two, T + 1)).toBe(i % 3 === 0);
    }
    expect(b.users()).toBe(600);
    expect(a.isCapped('nobody', 'ad', one, T + 1)).toBe(false);
  });

  it('ready: a stale user is re-read before a capped decision, a fresh one costs nothing', async () => {
    const client = await connection();
    const prefix = newPrefix();
    const now = { ms: T };
    const make = () => {
      const s = createRedisFrequencyStore({ client, prefix, syncIntervalMs: 3_600_000, clock: () => now.ms });
      stores.push(s);
      return s;
    };
    const [a, b] = [make(), make()];
    a.reserve('u', 'ad', 'd1', { impressions: 1, windowSeconds: 60 }, T);
    await a.sync();
    const wait = b.ready('u', T);
    expect(wait).toBeInstanceOf(Promise);
    await wait;
    expect(b.isCapped('u', 'ad', { impressions: 1, windowSeconds: 60 }, T)).toBe(true);
    expect(b.ready('u', T + 50)).toBeNull(); // read 50 ms ago: fresh
    now.ms = T + 150;
    expect(b.ready('u', T + 150)).toBeInstanceOf(Promise); // stale again
  });
  it('a serve reserved while a sync is on its way is kept by the read-back, and written by the next sync', async () => {
    // A connection of its own, held up by a blocking command queued before the sync's script.
    const client = await createRedisConnection(REDIS_URL);
    try {
      const prefix = newPrefix();
      const make = () => {
        const s = createRedisFrequencyStore({
          client,
          prefix,
          syncIntervalMs: 3_600_000,
          refreshMs: 0,
          clock: () => T,
        });
        stores.push(s);
        return s;
      };
      const [a, b] = [make(), make()];
      const cap = { impressions: 2, windowSeconds: 60 };
      a.reserve('u', 'ad', 'd1', cap, T);
      const blocked = client.blPop(`${prefix}:never`, 0.3);
      const first = a.sync(); // takes d1, then waits behind BLPOP
      await new Promise((r) => setTimeout(r, 50));
      a.reserve('u', 'ad', 'd2', cap, T); // after d1 was taken, before the read-back
      await first;
      await blocked;
      expect(a.isCapped('u', 'ad', cap, T)).toBe(true); // d1 (read back) and d2 (kept)
      await b.sync(); // nothing of b's own; nothing read for u yet
      expect(b.isCapped('u', 'ad', cap, T)).toBe(false);
      await a.sync(); // writes d2
      b.ready('u', T);
      await b.sync();
      expect(b.isCapped('u', 'ad', cap, T)).toBe(true);
    } finally {
      for (const s of stores.splice(0)) await s.close();
      client.destroy();
    }
  });

  it('ready waits at most readyTimeoutMs for a slow read, then the decision goes on', async () => {
    const client = await createRedisConnection(REDIS_URL);
    try {
      const prefix = newPrefix();
      const s = createRedisFrequencyStore({
        client,
        prefix,
        syncIntervalMs: 3_600_000,
        readyTimeoutMs: 40,
        clock: () => T,
      });
      stores.push(s);
      const blocked = client.blPop(`${prefix}:never`, 1);
      const t0 = performance.now();
      const waits = [s.ready('u1', T), s.ready('u2', T)];
      expect(waits[0]).toBeInstanceOf(Promise);
      await Promise.all(waits);
      const waited = performance.now() - t0;
      await blocked;
      expect(waited).toBeLessThan(900); // the read behind BLPOP took 1 s; ready gave up long before
      expect(waited).toBeGreaterThanOrEqual(35);
    } finally {
      for (const s of stores.splice(0)) await s.close();
      client.destroy();
    }
  });
});
