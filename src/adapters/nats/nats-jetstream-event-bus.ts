import { createHash } from 'node:crypto';
import {
  AckPolicy,
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import type { AllotEvent } from '../../core/events/allot-event.js';
import type { BatchHandler, EventBus, SubscribeOptions, Subscription } from '../../core/ports/event-bus.js';
import { createBackPressureGate, REFRESH_MIN_MS } from '../shared/back-pressure-gate.js';
import { chunkEvents } from '../shared/chunk-events.js';

export interface NatsJetStreamEventBusOptions {
  /** Server URL(s) to connect to; the bus then owns the connection and closes it in `close()`. */
  servers?: string | string[];
  /** An existing connection, shared with the caller, who keeps ownership of it. */
  connection?: NatsConnection;
  /** Stream name; one bus = one stream bound to one subject. */
  stream: string;
  /** Default `allot.events.<stream>`. */
  subject?: string;
  /** Most events per handler call and per stored message (default 1000); a message also holds
   *  at most ~96 KiB of JSON (`MESSAGE_BYTES`, adapters/shared/chunk-events.ts). */
  maxBatch?: number;
  /** Acknowledged publishes outstanding at once (default 64). */
  maxInFlight?: number;
  /**
   * `publish` waits while any consumer of the stream has more events than this outstanding.
   * Every durable counts, running or not (the consumers may live in other processes): delete a
   * retired group's consumer, or its backlog holds publishers at this limit.
   */
  capacity?: number;
  /** How long a delivered message may stay unacknowledged before redelivery (default 30 s). */
  ackWaitMs?: number;
  /** First redelivery delay after a handler failure; doubles per delivery up to 5 s. */
  retryDelayMs?: number;
  /** Stream retention for events no consumer needs any more (default 7 days); set at creation. */
  maxAgeMs?: number;
  /** Longest `close()` waits for subscribers to drain (default 30 s). */
  drainTimeoutMs?: number;
  onHandlerError?: (group: string, err: unknown) => void;
}

interface Sub {
  readonly group: string;
  readonly durable: string;
  readonly maxBatch: number;
  readonly lingerMs: number;
  stopped: boolean;
  iter: ConsumerMessages | null;
  done?: Promise<void>;
}

/** Messages a consumer buffers ahead of the handler (each up to `maxBatch` events). */
const PULL_MESSAGES = 32;
const PUBLISH_ATTEMPTS = 3;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const isApiError = (err: unknown, code: number) => err instanceof JetStreamApiError && err.code === code;

/** Durable names may not contain `.`, `*`, `>` or spaces; the hash keeps mapped names distinct. */
function durableName(group: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(group)) return group;
  const hash = createHash('sha1').update(group).digest('hex').slice(0, 8);
  return `${group.replace(/[^A-Za-z0-9_-]/g, '_')}_${hash}`;
}

/**
 * Derived from the events' ids only, so re-publishing the same batch (a retry after a timeout, or
 * a restarted process replaying its buffer) yields the same ids and JetStream's duplicate window
 * stores it once. Event ids are deterministic (see `AllotEvent.id`), which makes this sound.
 */
function messageId(chunk: readonly AllotEvent[]): string {
  const h = createHash('sha1');
  for (const e of chunk) h.update(e.id).update('\n');
  return h.digest('base64url');
}

async function ensureStream(jsm: JetStreamManager, stream: string, subject: string, maxAgeMs: number) {
  try {
    const info = await jsm.streams.info(stream);
    // Respect the rest of an existing stream's config (an operator may have tuned its limits).
    if (!info.config.subjects.includes(subject)) {
      await jsm.streams.update(stream, { ...info.config, subjects: [...info.config.subjects, subject] });
    }
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
    await jsm.streams.add({
      name: stream,
      subjects: [subject],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_age: nanos(maxAgeMs),
    });
  }
}

function decode(m: JsMsg): AllotEvent[] | null {
  try {
    const value = m.json<unknown>();
    // Only this adapter writes the subject; the shape check guards against a stray publisher.
    return Array.isArray(value) ? (value as AllotEvent[]) : null;
  } catch {
    return null;
  }
}

/**
 * `EventBus` on NATS JetStream (server 2.9): durable, shared between processes. Events are
 * batched into JSON-array messages (one acked publish per message, not per event: see
 * STACK.md, ~6K msg/s vs ~500K events/s); each consumer group is a durable pull consumer.
 * Delivery is at-least-once and in stream order until a handler fails: the failed messages
 * are nak'ed with a delay and come back after later ones.
 */
export async function createNatsJetStreamEventBus(opts: NatsJetStreamEventBusOptions): Promise<EventBus> {
  const { stream } = opts;
  const subject = opts.subject ?? `allot.events.${stream}`;
  const maxBatch = opts.maxBatch ?? 1000;
  const maxInFlight = opts.maxInFlight ?? 64;
  const capacity = opts.capacity ?? 100_000;
  const ackWaitMs = opts.ackWaitMs ?? 30_000;
  const retryDelayMs = opts.retryDelayMs ?? 50;
  const drainTimeoutMs = opts.drainTimeoutMs ?? 30_000;
  const report = (group: string, err: unknown) => opts.onHandlerError?.(group, err);

  if (opts.connection === undefined && opts.servers === undefined) throw new Error('servers or connection');
  const owned = opts.connection === undefined;
  // Reconnect for as long as it takes: nats.js gives up after 10 attempts (~20 s) by default,
  // after which publishes fail and consumers stop for good even once the server is back.
  const nc = opts.connection ?? (await connect({ servers: opts.servers, maxReconnectAttempts: -1 }));
  const jsm = await jetstreamManager(nc)
    .then(async (m) => {
      await ensureStream(m, stream, subject, opts.maxAgeMs ?? 7 * 24 * 3_600_000);
      return m;
    })
    .catch(async (err: unknown) => {
      if (owned) await nc.close();
      throw err;
    });
  const js = jetstream(nc);
  const encoder = new TextEncoder();

  let closed = false;
  const subs = new Map<string, Sub>();
  /** Consumer creations still running: a publish waits for them (see `subscribe`). */
  const creating = new Set<Promise<Consumer>>();
  const publishing = new Set<Promise<void>>();
  const track = <T>(set: Set<Promise<T>>, p: Promise<T>): Promise<T> => {
    set.add(p);
    void p.finally(() => set.delete(p)).catch(() => {});
    return p;
  };

  // Back-pressure view. The server reports messages, the limit is in events: convert with the
  // average events per message this bus published. Events admitted since a refresh started are
  // not in the server's figure yet, so they are added from the local counters.
  let stored = 0; // events acked by the stream, cumulative
  let storedMessages = 0;
  const gate = createBackPressureGate({
    capacity,
    counted: () => stored,
    isClosed: () => closed,
    async readBacklog() {
      let maxMsgs = 0;
      for await (const ci of jsm.consumers.list(stream)) {
        maxMsgs = Math.max(maxMsgs, ci.num_pending + ci.num_ack_pending);
      }
      return Math.ceil(maxMsgs * (storedMessages > 0 ? stored / storedMessages : maxBatch));
    },
  });

  // A freed slot is handed straight to the oldest waiter (FIFO), so chunks reach the
  // connection in the order they were queued and the stream keeps the caller's order.
  let inFlight = 0;
  const slotWaiters: Array<() => void> = [];
  async function publishChunk(chunk: readonly AllotEvent[]): Promise<void> {
    if (inFlight < maxInFlight && slotWaiters.length === 0) inFlight++;
    else await new Promise<void>((r) => slotWaiters.push(r));
    try {
      const data = encoder.encode(JSON.stringify(chunk));
      const msgID = messageId(chunk);
      for (let attempt = 1; ; attempt++) {
        try {
          await js.publish(subject, data, { msgID });
          break;
        } catch (err) {
          // Safe to retry: the same msgID is dropped by the duplicate window if the first one landed.
          if (attempt >= PUBLISH_ATTEMPTS || nc.isClosed()) throw err;
          await sleep(retryDelayMs * attempt);
        }
      }
      stored += chunk.length;
      storedMessages++;
    } finally {
      const next = slotWaiters.shift();
      if (next === undefined) inFlight--;
      else next();
    }
  }

  async function publishAll(events: readonly AllotEvent[]): Promise<void> {
    await Promise.allSettled(creating);
    await gate.admit(events.length);
    const storedBefore = stored;
    const acks: Promise<void>[] = [];
    for (const chunk of chunkEvents(events, maxBatch)) acks.push(publishChunk(chunk));
    const failed = (await Promise.allSettled(acks)).find((r) => r.status === 'rejected');
    if (failed !== undefined) {
      // Give back the events that never reached the stream (a concurrent publish may skew this
      // a little; the next refresh corrects it).
      gate.release(Math.max(0, events.length - (stored - storedBefore)));
      throw failed.reason;
    }
  }

  async function ensureConsumer(durable: string): Promise<Consumer> {
    try {
      await jsm.consumers.info(stream, durable);
    } catch (err) {
      if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
      // DeliverPolicy.New: a new group starts at the next event. An existing durable (found
      // above) keeps its position, which is what lets a restarted consumer resume.
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(ackWaitMs),
        deliver_policy: DeliverPolicy.New,
        filter_subject: subject,
      });
    }
    return js.consumers.get(stream, durable);
  }

  async function deliver(s: Sub, handler: BatchHandler, msgs: JsMsg[], events: AllotEvent[]) {
    try {
      // A message is acknowledged whole: a message larger than the subscription's maxBatch is
      // handed over in slices, and a failure redelivers every slice (consumers dedupe).
      for (let i = 0; i < events.length; i += s.maxBatch) await handler(events.slice(i, i + s.maxBatch));
      for (const m of msgs) m.ack();
    } catch (err) {
      report(s.group, err);
      for (const m of msgs) m.nak(Math.min(5000, retryDelayMs * 2 ** (m.info.deliveryCount - 1)));
    }
  }

  async function run(s: Sub, handler: BatchHandler, ready: Promise<Consumer>): Promise<void> {
    let consumer: Consumer | null = await ready.catch((err: unknown) => {
      report(s.group, err);
      return null;
    });
    while (!s.stopped && !nc.isClosed()) {
      try {
        consumer ??= await ensureConsumer(s.durable);
        const iter = await consumer.consume({ max_messages: PULL_MESSAGES });
        s.iter = iter;
        if (s.stopped) iter.stop();
        let msgs: JsMsg[] = [];
        let events: AllotEvent[] = [];
        let firstAt = 0;
        let timer: NodeJS.Timeout | null = null;
        // Handler calls run one after another; a linger timer may start one while the loop
        // is waiting for the next message.
        let delivering: Promise<void> = Promise.resolve();
        const flush = (): Promise<void> => {
          if (timer !== null) clearTimeout(timer);
          timer = null;
          if (msgs.length === 0) return delivering;
          const m = msgs;
          const e = events;
          msgs = [];
          events = [];
          delivering = delivering.then(() => deliver(s, handler, m, e));
          return delivering;
        };
        for await (const m of iter) {
          // Messages already buffered when `stop()` came: hand them back at once rather than
          // letting them sit out ack_wait.
          if (s.stopped) {
            m.nak();
            continue;
          }
          const batch = decode(m);
          if (batch === null) {
            report(s.group, new Error(`undecodable message ${m.seq} on ${stream}`));
            m.term();
            continue;
          }
          if (events.length > 0 && events.length + batch.length > s.maxBatch) await flush();
          if (msgs.length === 0) {
            firstAt = Date.now();
            if (s.lingerMs > 0) {
              timer = setTimeout(() => {
                void flush();
              }, s.lingerMs);
            }
          }
          msgs.push(m);
          for (const e of batch) events.push(e);
          // Concatenate what is already buffered; deliver once nothing more is waiting and the
          // linger is over, or the batch is full.
          if (
            events.length >= s.maxBatch ||
            (iter.getPending() === 0 && Date.now() - firstAt >= s.lingerMs)
          ) {
            await flush();
          }
        }
        if (timer !== null) clearTimeout(timer);
        await delivering;
        for (const m of msgs) m.nak();
      } catch (err) {
        if (s.stopped || nc.isClosed()) break;
        report(s.group, err);
        consumer = null;
        await sleep(Math.max(retryDelayMs, 250));
      }
    }
  }

  /** Polls until every subscribed group has nothing pending or unacknowledged, or the deadline. */
  async function drain(): Promise<void> {
    const deadline = Date.now() + drainTimeoutMs;
    for (const s of subs.values()) {
      while (!s.stopped && Date.now() < deadline) {
        const ci = await jsm.consumers.info(stream, s.durable).catch(() => null);
        if (ci === null || ci.num_pending + ci.num_ack_pending === 0) break;
        await sleep(REFRESH_MIN_MS);
      }
    }
  }

  async function stop(s: Sub): Promise<void> {
    s.stopped = true;
    s.iter?.stop();
    await s.done;
    if (subs.get(s.group) === s) subs.delete(s.group);
  }

  return {
    async publish(events) {
      if (closed) throw new Error('event bus is closed');
      if (events.length > 0) await track(publishing, publishAll(events));
    },

    subscribe(group, handler, options: SubscribeOptions = {}): Subscription {
      if (closed) throw new Error('event bus is closed');
      if (subs.has(group)) throw new Error(`consumer group "${group}" already subscribed`);
      const s: Sub = {
        group,
        durable: durableName(group),
        maxBatch: options.maxBatch ?? maxBatch,
        lingerMs: options.lingerMs ?? 0,
        stopped: false,
        iter: null,
      };
      // Creating the durable is a round trip but `subscribe` is synchronous: publishes wait for
      // it, so "every event published after it subscribed" holds for this bus's own publishes.
      s.done = run(s, handler, track(creating, ensureConsumer(s.durable)));
      subs.set(group, s);
      return { stop: () => stop(s) };
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...publishing, ...creating]);
      if (!nc.isClosed()) await drain();
      await Promise.all([...subs.values()].map(stop));
      if (owned && !nc.isClosed()) await nc.close();
    },
  };
}
