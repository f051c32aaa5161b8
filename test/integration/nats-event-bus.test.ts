import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createNatsJetStreamEventBus,
  type NatsJetStreamEventBusOptions,
} from '../../src/adapters/nats/nats-jetstream-event-bus.js';
import type { AllotEvent } from '../../src/core/events/allot-event.js';
import type { EventBus } from '../../src/core/ports/event-bus.js';
import { describeEventBusConformance } from '../conformance/event-bus.conformance.js';
import { sampleEvents } from '../support/events.js';
import { freePort } from '../support/net.js';

// Needs the JetStream-enabled server of STACK.md; it fails loudly rather than skipping when absent.
const SERVERS = '127.0.0.1:4222';

let admin: NatsConnection;
let jsm: JetStreamManager;
const streams: string[] = [];
const buses: EventBus[] = [];

beforeAll(async () => {
  admin = await connect({ servers: SERVERS });
  jsm = await jetstreamManager(admin);
});

afterEach(async () => {
  // Buses a failed test left open; bounded because `close` waits for handlers in progress.
  const open = buses.splice(0);
  await Promise.race([Promise.allSettled(open.map((b) => b.close())), sleep(5000)]);
  for (const s of streams.splice(0)) await jsm.streams.delete(s).catch(() => false);
});

afterAll(async () => {
  await admin.close();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls instead of timing: the 2-core CI machine is shared and slow at times. */
async function waitFor(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for condition');
    await sleep(20);
  }
}

function newStream(): string {
  const name = `ALLOT_TEST_${process.pid}_${randomBytes(4).toString('hex')}`;
  streams.push(name);
  return name;
}

async function bus(opts: Omit<NatsJetStreamEventBusOptions, 'servers' | 'connection'>): Promise<EventBus> {
  const b = await createNatsJetStreamEventBus({ servers: SERVERS, retryDelayMs: 5, ...opts });
  buses.push(b);
  return b;
}

describeEventBusConformance('nats-jetstream', () => bus({ stream: newStream(), capacity: 50_000 }));

describe('NATS JetStream event bus', () => {
  it('redelivers to another instance of the group after ack_wait when a consumer crashes', async () => {
    const stream = newStream();
    // The crashed bus gets its own connection so that closing it is the crash; it is never
    // closed through `close()` (its handler never resolves), so it is not tracked in `buses`.
    const crashConn = await connect({ servers: SERVERS });
    const crashed = await createNatsJetStreamEventBus({ connection: crashConn, stream, ackWaitMs: 1500 });
    let crashedGot = 0;
    crashed.subscribe('agg', (batch) => {
      crashedGot += batch.length;
      return new Promise<void>(() => {});
    });
    const events = sampleEvents(0, 50);
    await crashed.publish(events);
    await waitFor(() => crashedGot > 0);
    await crashConn.close();

    const survivor = await bus({ stream, ackWaitMs: 1500 });
    const got = new Set<string>();
    const sub = survivor.subscribe('agg', async (batch) => {
      for (const e of batch) got.add(e.id);
    });
    await waitFor(() => got.size === events.length);
    expect([...got].sort()).toEqual(events.map((e) => e.id).sort());
    await sub.stop();
    await survivor.close();
  });

  it('redelivers each failed batch with its events and reports the failure', async () => {
    const errors: string[] = [];
    const b = await bus({ stream: newStream(), maxBatch: 10, onHandlerError: (g) => errors.push(g) });
    const attempts = new Map<string, number>();
    const delivered: string[] = [];
    const sub = b.subscribe('g', async (batch) => {
      const key = batch.map((e) => e.id).join(',');
      const n = attempts.get(key) ?? 0;
      attempts.set(key, n + 1);
      if (n === 0) throw new Error('first attempt fails');
      delivered.push(...batch.map((e) => e.id));
    });
    const events = sampleEvents(0, 100);
    await b.publish(events);
    await waitFor(() => new Set(delivered).size === events.length);
    // Every batch that succeeded had failed once before with exactly the same events.
    expect([...attempts.values()].every((n) => n >= 1)).toBe(true);
    expect([...attempts.values()].filter((n) => n >= 2).length).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(0);
    expect(new Set(errors)).toEqual(new Set(['g']));
    expect([...new Set(delivered)].sort()).toEqual(events.map((e) => e.id).sort());
    await sub.stop();
    await b.close();
  });

  it('stores a retried publish of the same batch once (Nats-Msg-Id), even from another instance', async () => {
    const stream = newStream();
    const first = await bus({ stream, maxBatch: 100 });
    const got: string[] = [];
    first.subscribe('g', async (batch) => {
      got.push(...batch.map((e) => e.id));
    });
    const events = sampleEvents(0, 250);
    await first.publish(events);
    await first.publish(events);
    const restarted = await bus({ stream, maxBatch: 100 });
    await restarted.publish(events);
    expect((await jsm.streams.info(stream)).state.messages).toBe(3);
    await restarted.close();
    await first.close(); // drains the group
    expect(got).toEqual(events.map((e) => e.id));
  });

  it('stores at most ~96 KiB of JSON per message, however few events that is', async () => {
    const stream = newStream();
    const b = await bus({ stream });
    // ~560 bytes of JSON each: 1,000 would make one ~560 KB message (large objects for V8).
    const long = sampleEvents(0, 1000).map((e, i) => ({ ...e, userId: `${'u'.repeat(400)}${i}` }));
    const got: AllotEvent[] = [];
    b.subscribe('g', async (batch) => {
      got.push(...batch);
    });
    await b.publish(long);
    const info = await jsm.streams.info(stream);
    expect(info.state.messages).toBeGreaterThanOrEqual(6);
    // Each stored message's payload stays under the bound.
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq });
      expect(m?.data.length).toBeLessThanOrEqual(96 * 1024);
    }
    await waitFor(() => got.length === long.length);
    expect(got).toEqual(long); // all of them, in order
  });

  it('starts a new group at its subscription, and resumes a stopped one where it left off', async () => {
    const stream = newStream();
    const publisher = await bus({ stream });
    const got: string[] = [];
    const handler = async (batch: readonly AllotEvent[]) => {
      got.push(...batch.map((e) => e.id));
    };
    // Stored before the group existed: a new group must not replay the stream's history.
    await publisher.publish(sampleEvents(100, 105));
    const first = publisher.subscribe('archiver', handler);
    await publisher.publish(sampleEvents(0, 10));
    await waitFor(() => got.length === 10);
    await first.stop();

    await publisher.publish(sampleEvents(10, 30));
    const restarted = await bus({ stream });
    const again = restarted.subscribe('archiver', handler);
    await waitFor(() => got.length >= 30);
    await again.stop();
    expect(got).toEqual(sampleEvents(0, 30).map((e) => e.id));
    await restarted.close();
    await publisher.close();
  });

  it('holds back a publisher while a consumer in another instance lags', async () => {
    const stream = newStream();
    const consumerSide = await bus({ stream });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let n = 0;
    const sub = consumerSide.subscribe('slow', async (batch) => {
      await gate;
      n += batch.length;
    });
    // The publisher has no subscription of its own: it only sees the lag through the server.
    const publisher = await bus({ stream, capacity: 20_000 });
    const publishes = Array.from({ length: 20 }, (_, k) =>
      publisher.publish(sampleEvents(k * 5000, (k + 1) * 5000)),
    );
    let settled = 0;
    for (const p of publishes) p.then(() => settled++).catch(() => {});
    await waitFor(() => settled > 0);
    await sleep(1000);
    // Without back-pressure all 100 messages (100K events) would be stored by now; with it the
    // stream holds about capacity + one publish while the handler is stuck.
    const storedEvents = (await jsm.streams.info(stream)).state.messages * 1000;
    expect(storedEvents).toBeLessThanOrEqual(20_000 + 2 * 5000);
    expect(settled).toBeLessThan(20);
    release();
    await Promise.all(publishes);
    await publisher.close();
    await consumerSide.close();
    expect(n).toBe(100_000);
    await sub.stop();
  });

  it('survives a server restart: durable state and the stream come back, nothing is lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'allot-nats-'));
    const port = await freePort();
    let server = startServer(port, dir);
    try {
      const conn = await connectWhenUp(port);
      const stream = 'ALLOT_RESTART';
      const b = await createNatsJetStreamEventBus({ connection: conn, stream, retryDelayMs: 100 });
      const got = new Set<string>();
      const sub = b.subscribe('agg', async (batch) => {
        for (const e of batch) got.add(e.id);
      });
      await b.publish(sampleEvents(0, 2000));
      await waitFor(() => got.size === 2000);
      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
      server = startServer(port, dir);
      // Like a pipeline flush that failed: the caller keeps the batch and publishes it again
      // (same Nats-Msg-Id, so a copy stored before the error is not stored twice).
      let published = false;
      while (!published) {
        published = await b.publish(sampleEvents(2000, 4000)).then(
          () => true,
          () => sleep(200).then(() => false),
        );
      }
      await waitFor(() => got.size === 4000, 30_000);
      await sub.stop();
      await b.close();
      await conn.close();
    } finally {
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

function startServer(port: number, dir: string): ChildProcess {
  return spawn('nats-server', ['-p', String(port), '-js', '-sd', dir, '-a', '127.0.0.1'], {
    stdio: 'ignore',
  });
}

async function connectWhenUp(port: number): Promise<NatsConnection> {
  for (let i = 0; ; i++) {
    try {
      // Unlimited reconnects: the restart below must not end the connection.
      return await connect({
        servers: `127.0.0.1:${port}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 100,
      });
    } catch (err) {
      if (i > 100) throw err;
      await sleep(100);
    }
  }
}
