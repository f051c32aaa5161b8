import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AllotEvent } from '../../core/events/allot-event.js';
import type { BatchHandler, EventBus, SubscribeOptions, Subscription } from '../../core/ports/event-bus.js';
import { createBackPressureGate, REFRESH_MIN_MS } from '../shared/back-pressure-gate.js';
import { chunkEvents } from '../shared/chunk-events.js';
import {
  createRedisConnection,
  duplicateConnection,
  evalLua,
  luaScript,
  type RedisConnection,
} from './redis-client.js';
import { redisKeys } from './redis-keys.js';

export interface RedisStreamsEventBusOptions {
  /** Either a connection shared with the caller (who keeps it), or a URL (closed by `close()`). */
  client?: RedisConnection;
  url?: string;
  prefix: string;
  /** Logical stream name (default `events`); one bus = one stream. */
  stream?: string;
  /**
   * This process's name inside each group; must be unique among live processes. Default
   * `<host>-<pid>-<random>`; a fixed name lets a restarted process resume its own pending entries.
   */
  consumerName?: string;
  /** Most events per handler call (default 1000). */
  maxBatch?: number;
  /**
   * `publish` waits while the most backlogged group has more than this many stream entries
   * undelivered or unacknowledged (default 10,000: the archive consumer holds seconds of
   * entries). Counted in entries, as Redis reports them; an entry holds up to 500 events (one
   * per `publish` when publishes are small).
   */
  capacity?: number;
  /** How long an idle XREADGROUP blocks: bounds `stop()` latency and reclaim checks (default 200). */
  blockMs?: number;
  /** Entries unacknowledged this long are taken over from their consumer, presumed dead (default 30 s). */
  claimIdleMs?: number;
  /** First redelivery delay after a handler failure; doubles up to 5 s (default 50). */
  retryDelayMs?: number;
  /** Longest `close()` waits for subscribers to drain (default 30 s). */
  drainTimeoutMs?: number;
  onHandlerError?: (group: string, err: unknown) => void;
  /** Redis errors in background work (reads, acks, trimming); all of it retries by itself. */
  onError?: (err: unknown) => void;
}

interface Sub {
  readonly group: string;
  readonly handler: BatchHandler;
  readonly maxBatch: number;
  readonly lingerMs: number;
  stopped: boolean;
  failures: number;
  /** Average events per stream entry read lately: sizes COUNT so a read ≈ `maxBatch` events. */
  perEntry: number;
  done?: Promise<void>;
}

interface GroupInfo {
  name: string;
  pending: number;
  lag: number;
}

const EVENTS_PER_ENTRY = 500;
const TRIM_INTERVAL_MS = 1000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const replyIs = (err: unknown, code: string): boolean => err instanceof Error && err.message.startsWith(code);

const isList = (x: unknown): x is readonly unknown[] => Array.isArray(x);

/**
 * A raw RESP3 XREADGROUP reply (`{ [stream]: [[id, fields | nil], ...] }`) → entries; `events`
 * null = undecodable (acknowledged and reported). Raw, as node-redis's transform throws on the
 * nil fields of an entry deleted while pending, which would wedge the loop.
 */
function parseRead(reply: unknown): Array<{ id: string; events: AllotEvent[] | null }> {
  const out: Array<{ id: string; events: AllotEvent[] | null }> = [];
  for (const list of reply !== null && typeof reply === 'object' ? Object.values(reply) : []) {
    for (const m of isList(list) ? list : []) {
      if (isList(m) && typeof m[0] === 'string') out.push({ id: m[0], events: decodeEntry(m[1]) });
    }
  }
  return out;
}

const eventsIn = (read: ReturnType<typeof parseRead>): number =>
  read.reduce((n, m) => n + (m.events?.length ?? 0), 0);

/** An entry's only field, `e`, holds a JSON array of events; a deleted entry has none. */
function decodeEntry(fields: unknown): AllotEvent[] | null {
  if (fields === null) return [];
  if (!isList(fields) || fields[0] !== 'e' || typeof fields[1] !== 'string') return null;
  try {
    const value: unknown = JSON.parse(fields[1]);
    return Array.isArray(value) ? (value as AllotEvent[]) : null;
  } catch {
    return null;
  }
}

/**
 * `EventBus` on Redis Streams: durable per Redis's persistence settings, shared between
 * processes. One stream; a `publish` becomes XADD entries of up to 500 events (field `e`, a
 * JSON array) in one MULTI, so it is stored whole or not at all. Each consumer group is a Redis
 * consumer group created at `$` (it sees what is published after it subscribed, and keeps its
 * position while no consumer runs); each subscription reads with XREADGROUP on its own
 * connection and acknowledges after its handler resolved. A failed batch stays pending and is
 * re-read from this consumer's pending list after a backoff, so order holds; entries left
 * pending by a dead consumer are taken over (XAUTOCLAIM) after `claimIdleMs`. At-least-once:
 * consumers dedupe by event id. No dead-letter: an entry that always fails is retried forever.
 *
 * The stream is trimmed below the oldest entry any group still needs. A stream without any
 * group is not trimmed (see `lua/trim-stream.lua`): create the groups before publishing.
 */
export async function createRedisStreamsEventBus(opts: RedisStreamsEventBusOptions): Promise<EventBus> {
  if ((opts.client === undefined) === (opts.url === undefined)) throw new Error('pass one of client or url');
  const key = redisKeys(opts.prefix).eventStream(opts.stream ?? 'events');
  const consumer = opts.consumerName ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const maxBatch = opts.maxBatch ?? 1000;
  const capacity = opts.capacity ?? 10_000;
  const blockMs = opts.blockMs ?? 200;
  const claimIdleMs = opts.claimIdleMs ?? 30_000;
  const retryDelayMs = opts.retryDelayMs ?? 50;
  const drainTimeoutMs = opts.drainTimeoutMs ?? 30_000;
  const reportError = (err: unknown) => opts.onError?.(err);
  const owned = opts.client === undefined;
  const client = opts.client ?? (await createRedisConnection(opts.url ?? ''));

  let closed = false;
  let closing: Promise<void> | undefined;
  const subs = new Map<string, Sub>();
  /** Group creations still running: a publish waits for them (see `subscribe`). */
  const creating = new Set<Promise<unknown>>();
  const publishing = new Set<Promise<void>>();

  async function groupsInfo(): Promise<GroupInfo[]> {
    try {
      return (await client.xInfoGroups(key)).map((g) => ({
        name: String(g.name),
        pending: Number(g.pending),
        // Null only after entries were deleted in the middle of the stream (XDEL; trimming
        // from the start keeps it valid): unknown then, so only `pending` counts.
        lag: Number(g.lag ?? 0),
      }));
    } catch (err) {
      if (replyIs(err, 'ERR no such key')) return [];
      throw err;
    }
  }

  // Back-pressure view: the largest group backlog Redis reported at the last refresh, plus the
  // entries this bus admitted since (other publishers show up at the next refresh).
  const gate = createBackPressureGate({
    capacity,
    isClosed: () => closed,
    readBacklog: async () => Math.max(0, ...(await groupsInfo()).map((g) => g.lag + g.pending)),
  });

  async function publishAll(events: readonly AllotEvent[]): Promise<void> {
    await Promise.all(creating);
    const chunks = chunkEvents(events, EVENTS_PER_ENTRY);
    const entries = chunks.length;
    await gate.admit(entries);
    // One entry: a bare XADD (atomic by itself); more: one MULTI, stored whole or not at all.
    const added =
      entries === 1
        ? client.xAdd(key, '*', { e: JSON.stringify(events) })
        : (() => {
            const tx = client.multi();
            for (const chunk of chunks) tx.xAdd(key, '*', { e: JSON.stringify(chunk) });
            return tx.exec();
          })();
    await added.catch((err: unknown) => {
      gate.release(entries);
      throw err;
    });
  }

  const ensureGroup = (group: string): Promise<void> =>
    client.xGroupCreate(key, group, '$', { MKSTREAM: true }).then(
      () => undefined,
      (err: unknown) => {
        if (!replyIs(err, 'BUSYGROUP')) throw err;
      },
    );

  /** Hands the entries to the handler in ≤ maxBatch chunks; acks what succeeded; true = all. */
  async function deliver(s: Sub, reader: RedisConnection, read: ReturnType<typeof parseRead>) {
    const events: AllotEvent[] = [];
    const ends: number[] = [];
    for (const m of read) {
      if (m.events === null) reportError(new Error(`undecodable entry ${m.id} in ${key}: acknowledged`));
      else for (const e of m.events) events.push(e);
      ends.push(events.length);
    }
    s.perEntry = 0.8 * s.perEntry + 0.2 * Math.max(1, events.length / read.length);
    let done = 0;
    try {
      for (; done < events.length; done += s.maxBatch) await s.handler(events.slice(done, done + s.maxBatch));
      s.failures = 0;
    } catch (err) {
      s.failures++;
      opts.onHandlerError?.(s.group, err);
    }
    const acked = read.filter((_, i) => ends[i]! <= done).map((m) => m.id);
    // Not awaited: sent ahead of the next read on the same connection, so it costs no round trip
    // and is applied before that read. A lost ack means a redelivery, which consumers dedupe.
    if (acked.length > 0) reader.xAck(key, s.group, acked).catch(reportError);
    return acked.length === read.length;
  }

  async function run(s: Sub, created: Promise<void>): Promise<void> {
    let reader: RedisConnection | null = null;
    let group: Promise<void> | null = created;
    // Own pending list first: a restarted consumer with a fixed name resumes there.
    let ownPending = true;
    let claimAt = Date.now();
    let claimCursor = '0-0';
    while (!s.stopped) {
      try {
        if (group !== null) {
          await group;
          group = null;
        }
        reader ??= await duplicateConnection(client, opts.onError ? { onError: opts.onError } : {});
        if (Date.now() >= claimAt) {
          const r = await reader.xAutoClaimJustId(key, s.group, consumer, claimIdleMs, claimCursor, {
            COUNT: 100,
          });
          claimCursor = r.nextId;
          if (r.messages.length > 0) ownPending = true;
          if (claimCursor === '0-0') claimAt = Date.now() + Math.max(100, claimIdleMs / 2);
        }
        const count = (events: number) =>
          String(Math.min(1000, Math.max(1, Math.round((s.maxBatch - events) / s.perEntry))));
        const wait = ownPending ? [] : ['BLOCK', String(blockMs)];
        const cmd = ['XREADGROUP', 'GROUP', s.group, consumer, 'COUNT'];
        const first = count(0);
        let read = parseRead(
          await reader.sendCommand([...cmd, first, ...wait, 'STREAMS', key, ownPending ? '0' : '>']),
        );
        if (read.length === 0) {
          ownPending = false;
          continue;
        }
        if (!ownPending && s.lingerMs > 0) {
          // Linger: a few more non-blocking reads (≤ 3 per linger, not one per entry) until
          // maxBatch events are in hand or lingerMs passed since the first read returned. A
          // read that got all the entries it asked for leaves a backlog behind it: the next
          // one follows at once (a consumer catching up must not sleep with events waiting).
          const until = Date.now() + s.lingerMs;
          let events = eventsIn(read);
          let backlog = read.length >= Number(first);
          while (events < s.maxBatch && !s.stopped && Date.now() < until) {
            if (!backlog) await sleep(Math.min(until - Date.now(), Math.max(10, s.lingerMs / 3)));
            const n = count(events);
            const more = parseRead(await reader.sendCommand([...cmd, n, 'STREAMS', key, '>']));
            read = read.concat(more);
            events += eventsIn(more);
            backlog = more.length >= Number(n);
          }
        }
        if (!(await deliver(s, reader, read))) {
          ownPending = true;
          await sleep(Math.min(5000, retryDelayMs * 2 ** (s.failures - 1)));
        }
      } catch (err) {
        if (s.stopped) break;
        reportError(err);
        // Creating the group failed, or it vanished (Redis restarted without persistence, or
        // was flushed): create it again (at `$`: what was published meanwhile is lost anyway).
        if (group !== null || replyIs(err, 'NOGROUP')) {
          group = ensureGroup(s.group);
          group.catch(() => {});
        }
        await sleep(Math.max(retryDelayMs, 250));
      }
    }
    if (reader === null) return;
    try {
      // Forget this consumer name unless it still holds entries (those wait for a reclaim).
      const mine = await reader.xPendingRange(key, s.group, '-', '+', 1, { consumer });
      if (mine.length === 0) await reader.xGroupDelConsumer(key, s.group, consumer);
      await reader.close();
    } catch {
      reader.destroy();
    }
  }

  /** Polls until every live group has nothing undelivered or unacknowledged, or the deadline. */
  async function drain(): Promise<void> {
    const deadline = Date.now() + drainTimeoutMs;
    while (Date.now() < deadline) {
      const live = [...subs.values()].filter((s) => !s.stopped);
      // A group stuck on a failing batch would hold `close` until the deadline for nothing.
      if (live.every((s) => s.failures > 5)) return;
      const info = await groupsInfo().catch(() => null);
      if (info === null) return;
      const busy = live.some((s) => {
        const g = info.find((x) => x.name === s.group);
        return g !== undefined && g.lag + g.pending > 0;
      });
      if (!busy) return;
      await sleep(REFRESH_MIN_MS);
    }
  }

  // Drops what no group needs any more (`lua/trim-stream.lua`): one atomic call per second.
  const trimScript = luaScript('trim-stream.lua');
  let trimming = false;
  // Trimming is the consumers' business: a process that only publishes (a decision server)
  // sends no trim commands.
  const trimTimer = setInterval(() => {
    if (trimming || closed || subs.size === 0) return;
    trimming = true;
    void evalLua(client, trimScript, [key])
      .catch(reportError)
      .finally(() => (trimming = false));
  }, TRIM_INTERVAL_MS).unref();

  return {
    async publish(events) {
      if (closed) throw new Error('event bus is closed');
      if (events.length === 0) return;
      const p = publishAll(events);
      publishing.add(p);
      await p.finally(() => publishing.delete(p));
    },

    subscribe(group, handler, options: SubscribeOptions = {}): Subscription {
      if (closed) throw new Error('event bus is closed');
      if (subs.has(group)) throw new Error(`consumer group "${group}" already subscribed`);
      // Creating the group is a round trip but `subscribe` is synchronous: publishes wait for
      // it, so "every event published after it subscribed" holds for this bus's own publishes.
      const created = ensureGroup(group);
      const settled = created.catch(() => {});
      creating.add(settled);
      void settled.then(() => creating.delete(settled));
      const s: Sub = {
        group,
        handler,
        maxBatch: options.maxBatch ?? maxBatch,
        lingerMs: options.lingerMs ?? 0,
        stopped: false,
        failures: 0,
        perEntry: EVENTS_PER_ENTRY,
      };
      s.done = run(s, created);
      subs.set(group, s);
      return {
        async stop() {
          s.stopped = true;
          await s.done;
          if (subs.get(group) === s) subs.delete(group);
        },
      };
    },

    close() {
      closing ??= (async () => {
        closed = true;
        clearInterval(trimTimer);
        await Promise.allSettled([...publishing, ...creating]);
        await drain();
        await Promise.all(
          [...subs.values()].map(async (s) => {
            s.stopped = true;
            await s.done;
          }),
        );
        subs.clear();
        if (owned) await client.close();
      })();
      return closing;
    },
  };
}
