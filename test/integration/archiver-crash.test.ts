import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection, type RedisConnection } from '../../src/adapters/redis/redis-client.js';
import { redisKeys } from '../../src/adapters/redis/redis-keys.js';
import { createRedisStreamsEventBus } from '../../src/adapters/redis/redis-streams-event-bus.js';
import { createS3ArchiveStore } from '../../src/adapters/s3/s3-archive-store.js';
import { syncArchiveCache } from '../../src/archive/archive-cache.js';
import { ARCHIVER_GROUP } from '../../src/archive/archiver.js';
import type { AllotEvent, EventType } from '../../src/core/events/allot-event.js';
import { archiveCounts } from '../support/archive-counts.js';
import { deleteRedisPrefix } from '../support/redis.js';
import { S3RVER_CREDENTIALS, startS3rver, testS3Client } from '../support/s3rver.js';

const REDIS_URL = process.env.ALLOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = new URL('../..', import.meta.url).pathname;
const HOUR = 3_600_000;
const T = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;

// The archive issue's crash acceptance in a fleet: the archiver (its own consumer group on
// Redis Streams, writing to S3) is SIGKILLed between the files of one batch, restarted, and the
// archive still holds every event exactly once (checked against ground truth).
describe('archiver killed mid-flush (Redis Streams → S3)', () => {
  const prefix = `allot-arch-crash-${process.pid}-${randomBytes(3).toString('hex')}`;
  const dirs: string[] = [];
  const workers: ChildProcess[] = [];
  let client: RedisConnection;
  let s3: Awaited<ReturnType<typeof startS3rver>>;
  beforeAll(async () => {
    s3 = await startS3rver();
    client = await createRedisConnection(REDIS_URL);
  }, 60_000);
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await deleteRedisPrefix(client, prefix);
    await client.quit();
    await s3.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function startWorker(slowMs: number): ChildProcess & { out: () => string } {
    const staging = mkdtempSync(join(tmpdir(), 'allot-arch-staging-'));
    dirs.push(staging);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/archiver-worker.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        REDIS_URL,
        PREFIX: prefix,
        CONSUMER: 'archiver-1',
        S3_ENDPOINT: s3.endpoint,
        S3_URL: `s3://${s3.bucket}/crash`,
        STAGING: staging,
        SLOW_MS: String(slowMs),
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    }) as ChildProcess & { out: () => string };
    let out = '';
    child.stdout!.on('data', (b) => {
      out += b;
    });
    child.out = () => out;
    workers.push(child);
    return child;
  }

  it('archives every event exactly once across a SIGKILL between two files of a batch', {
    timeout: 180_000,
  }, async () => {
    await client.xGroupCreate(redisKeys(prefix).eventStream('events'), ARCHIVER_GROUP, '0', {
      MKSTREAM: true,
    });
    const TYPES: EventType[] = ['decision', 'impression', 'click'];
    const events: AllotEvent[] = [];
    for (let i = 0; i < 9000; i++) {
      const d = Math.floor(i / 3);
      const type = TYPES[i % 3]!;
      // Two hours interleaved: every batch writes two files (two partitions).
      events.push({
        id: `d${d}:${type[0]}`,
        type,
        ts: T + (d % 2) * HOUR + i,
        decisionId: `d${d}`,
        placementId: 'p',
        adId: `a${d % 4}`,
        userId: null,
      });
    }
    const publisher = await createRedisStreamsEventBus({ client, prefix, capacity: 20_000 });
    for (let i = 0; i < events.length; i += 500) await publisher.publish(events.slice(i, i + 500));
    // A beacon fired twice: the same event published again.
    await publisher.publish(events.slice(0, 300));

    const first = startWorker(400);
    // Kill right after the first file of a batch landed, before its second (mid-flush).
    const end = Date.now() + 60_000;
    while ((first.out().match(/^put /gm)?.length ?? 0) < 3 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 10));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const puts = first.out().match(/^put /gm)?.length ?? 0;
    expect(puts).toBeGreaterThanOrEqual(3);
    expect(puts % 2).toBe(1); // killed between the two files of one batch

    startWorker(0);
    const store = createS3ArchiveStore({ url: `s3://${s3.bucket}/crash`, client: testS3Client(s3.endpoint) });
    const cache = mkdtempSync(join(tmpdir(), 'allot-arch-cache-'));
    dirs.push(cache);
    const truth = new Map<string, number>();
    for (const e of events) truth.set(`${e.adId}/${e.type}`, (truth.get(`${e.adId}/${e.type}`) ?? 0) + 1);
    const read = async () => {
      await syncArchiveCache({ store, dir: join(cache, 'events'), prefix: 'events/' });
      return new Map((await archiveCounts(cache)).map((c) => [`${c.adId}/${c.type}`, c.events]));
    };
    let counts = await read();
    const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    for (let i = 0; i < 100 && total(counts) < events.length; i++) {
      await new Promise((r) => setTimeout(r, 300));
      counts = await read();
    }
    expect(counts).toEqual(truth);
    await publisher.close();
    await store.close();
  });
});
