import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { AckPolicy, DeliverPolicy, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createNatsJetStreamEventBus } from '../../src/adapters/nats/nats-jetstream-event-bus.js';
import { createRedisConnection, type RedisConnection } from '../../src/adapters/redis/redis-client.js';
import { createRedisCounterStore } from '../../src/adapters/redis/redis-counter-store.js';
import { redisKeys } from '../../src/adapters/redis/redis-keys.js';
import { createRedisStreamsEventBus } from '../../src/adapters/redis/redis-streams-event-bus.js';
import type { AllotEvent } from '../../src/core/events/allot-event.js';
import type { EventBus } from '../../src/core/ports/event-bus.js';
import { AGGREGATOR_GROUP } from '../../src/pipeline/aggregator.js';
import { stopProcess } from '../support/nats-server.js';
import { deleteRedisPrefix } from '../support/redis.js';

const REDIS_URL = process.env.ALLOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NATS_URL = process.env.ALLOT_TEST_NATS_URL ?? '127.0.0.1:4222';
const ROOT = new URL('../..', import.meta.url).pathname;
const HOUR = 3_600_000;
const T = Math.floor(Date.now() / HOUR) * HOUR;
/** Events per handler call in the worker: ten or so batches in all, so the kill lands early. */
const MAX_BATCH = 500;
/** The first worker's pause after counting a batch, before the bus acknowledges it: the kill's window. */
const SLOW_MS = 1500;
/** NATS redelivers what a dead consumer held after this; longer than a batch plus the pause. */
const NATS_ACK_WAIT_MS = 6000;

/** A worker's running totals, as it prints them after counting each batch. */
interface Progress {
  batch: number;
  counted: number;
  duplicates: number;
}

interface Worker {
  child: ChildProcess;
  /** Resolves with the first progress line (the latest, if already seen) satisfying `pred`. */
  until(pred: (p: Progress) => boolean, ms: number): Promise<Progress>;
  /** The progress line before the latest one. */
  previous(): Progress;
}

function startWorker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/aggregator-worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL, MAX_BATCH: String(MAX_BATCH), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let last: Progress = { batch: 0, counted: 0, duplicates: 0 };
  let before = last;
  const waiting = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    before = last;
    last = JSON.parse(line) as Progress;
    for (const w of waiting) w();
  });
  return {
    child,
    previous: () => before,
    until(pred, ms) {
      return new Promise((resolve, reject) => {
        const done = (err: Error | null) => {
          clearTimeout(timer);
          waiting.delete(check);
          child.off('exit', onExit);
          if (err === null) resolve(last);
          else reject(err);
        };
        const check = () => {
          if (pred(last)) done(null);
        };
        const onExit = (code: number | null) =>
          done(new Error(`worker exited (${code}) at ${JSON.stringify(last)}`));
        const timer = setTimeout(() => done(new Error(`timed out at ${JSON.stringify(last)}`)), ms);
        waiting.add(check);
        child.once('exit', onExit);
        check();
      });
    },
  };
}

/**
 * 6,000 impressions of 5,000 decisions: the last 1,000 repeat earlier ones (beacons fired twice),
 * shifted so that no published message repeats an earlier one whole (NATS would drop that by
 * message id before any consumer saw it): the repeats reach the consumer.
 */
function impressions(): { events: AllotEvent[]; truth: Map<string, number> } {
  const truth = new Map<string, number>();
  const events: AllotEvent[] = [];
  for (let i = 0; i < 6000; i++) {
    const d = i < 5000 ? i : (i - 5000 + 7) % 1000;
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
  return { events, truth };
}

// The distributed issue's crash acceptance, on both durable buses: a pipeline consumer SIGKILLed
// after counting a batch and before acknowledging it, then restarted, loses and doubles nothing in
// the live counters (checked against ground truth); the batch it held comes back and is dropped
// as already counted.
describe.each([{ bus: 'redis' as const }, { bus: 'nats' as const }])(
  'pipeline consumer killed mid-batch ($bus bus)',
  ({ bus }) => {
    const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
    const prefix = `allot-crash-${bus}-${tag}`;
    const stream = `ALLOT_CRASH_${tag}`;
    let client: RedisConnection | null = null;
    const workers: ChildProcess[] = [];
    afterAll(async () => {
      for (const w of workers) await stopProcess(w);
      if (client !== null) {
        await deleteRedisPrefix(client, prefix);
        await client.quit();
      }
      if (bus === 'nats') {
        const nc = await connect({ servers: NATS_URL });
        await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
        await nc.close();
      }
    });

    it('counts every event exactly once across a SIGKILL between counting and acknowledging, and a restart', async () => {
      const redis = await createRedisConnection(REDIS_URL);
      client = redis;
      // The group exists before anything is published, so no event predates it.
      let publisher: EventBus;
      if (bus === 'redis') {
        await redis.xGroupCreate(redisKeys(prefix).eventStream('events'), AGGREGATOR_GROUP, '0', {
          MKSTREAM: true,
        });
        publisher = await createRedisStreamsEventBus({ client: redis, prefix, capacity: 1000 });
      } else {
        // Small messages, so a worker's batch spans several of them. The bus creates the stream;
        // the durable is the one the worker's bus subscribes under (its group name), made here with
        // a short ack wait so the restart does not wait out the default 30 s.
        publisher = await createNatsJetStreamEventBus({ servers: NATS_URL, stream, maxBatch: 50 });
        const nc = await connect({ servers: NATS_URL });
        await (await jetstreamManager(nc)).consumers.add(stream, {
          durable_name: AGGREGATOR_GROUP,
          ack_policy: AckPolicy.Explicit,
          ack_wait: nanos(NATS_ACK_WAIT_MS),
          deliver_policy: DeliverPolicy.All,
          filter_subject: `allot.events.${stream}`,
        });
        await nc.close();
      }
      const { events, truth } = impressions();
      for (let i = 0; i < events.length; i += 500) await publisher.publish(events.slice(i, i + 500));
      if (bus === 'nats') await publisher.close();

      const counters = createRedisCounterStore({ client: redis, prefix });
      const total = async () => {
        let n = 0;
        for (const c of (await counters.read('p', T, T + HOUR)).values()) n += c.impressions;
        return n;
      };
      const workerEnv = (slowMs: number) => ({
        BUS: bus,
        PREFIX: prefix,
        CONSUMER: 'worker-1',
        NATS_URL,
        STREAM: stream,
        SLOW_MS: String(slowMs),
      });

      // Killed right after it reports a batch counted that takes it to 1,000 or more: the batch is
      // in the counters, and the bus has not been told (the worker pauses before acknowledging).
      const first = startWorker(workerEnv(SLOW_MS));
      workers.push(first.child);
      const atLine = await first.until((p) => p.counted >= 1000, 60_000);
      await stopProcess(first.child, 'SIGKILL');
      const heldBatch = atLine.counted - first.previous().counted;
      const atKill = await total();
      console.log(
        `${bus}: killed after batch ${atLine.batch}, ${atKill} counted, ${heldBatch} counted but unacked`,
      );
      expect(atKill).toBe(atLine.counted); // nothing counted after the line: the kill was before the ack
      expect(atKill).toBeLessThan(5000);
      expect(heldBatch).toBeGreaterThan(0);

      // The restart resumes (Redis: its own pending entries; NATS: the durable's unacked messages
      // once ack_wait passes) and finishes the stream: the held batch and the 1,000 repeats come
      // back as duplicates, and nothing is counted twice.
      const second = startWorker(workerEnv(0));
      workers.push(second.child);
      const end = await second.until(
        (p) => atKill + p.counted >= 5000 && atLine.duplicates + p.duplicates >= 1000 + heldBatch,
        60_000,
      );
      console.log(`${bus}: restart counted ${end.counted}, dropped ${end.duplicates} duplicates`);
      expect(atKill + end.counted).toBe(5000);
      const counts = await counters.read('p', T, T + HOUR);
      for (const [adId, n] of truth) expect(counts.get(adId)?.impressions, adId).toBe(n);
      expect(await total()).toBe(5000);
      await stopProcess(second.child, 'SIGTERM');
    }, 120_000);
  },
);
