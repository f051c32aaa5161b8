import type { FrequencyCap } from '../../core/domain/ad.js';
import type { FrequencyStore } from '../../core/ports/frequency-store.js';
import { evalLua, luaScript, type RedisConnection } from './redis-client.js';
import { redisKeys } from './redis-keys.js';

export interface RedisFrequencyStoreOptions {
  /** Shared connection; the store never closes it. */
  client: RedisConnection;
  prefix: string;
  /** How often this server's new serves are written (default 20 ms). */
  syncIntervalMs?: number;
  /** A user's shared state older than this is re-read before a capped decision (default 100 ms). */
  refreshMs?: number;
  /** Longest a decision waits for that read; then it decides on what it knows (default 100 ms:
   *  a read takes about a millisecond, so this only bounds the wait while Redis struggles). */
  readyTimeoutMs?: number;
  /** Users kept in memory, least recently used dropped first (default 1,000,000). */
  maxUsers?: number;
  clock?: () => number;
  onError?: (err: unknown) => void;
}

export type RedisFrequencyStore = FrequencyStore & {
  ready(userId: string, nowMs: number): Promise<void> | null;
  /** Writes pending serves and re-reads the users waiting for it; resolves when done. */
  sync(): Promise<void>;
  /** Stops the timer after a last sync. The connection stays open. */
  close(): Promise<void>;
  users(): number;
};

interface Serve {
  ts: number;
  decisionId: string;
}

interface User {
  /** ad → serves of every server as last read, plus this server's own since. */
  ads: Map<string, Serve[]>;
  /** Serves of this server not yet written: "<adId> <windowMs> <ts> <decisionId>". */
  pending: string[];
  /** Longest cap window among the pending serves (the key's expiry). */
  pendingWindowMs: number;
  fetchedAtMs: number;
  wanted: boolean;
}

const syncScript = luaScript('frequency-sync.lua');
/** Users per script call (one call runs a few commands per user inside Redis). */
const SYNC_BATCH = 256;

/**
 * Frequency caps shared by a fleet of decision servers. Each server keeps what it knows of a
 * user — its own serves at once, other servers' as last read — and syncs in the background:
 * every `syncIntervalMs` one script call for all the users with news (up to 256 per call, one
 * round trip) writes their serves and returns every serve of each. Serves are identified by
 * decision id, so a retried sync adds nothing twice.
 *
 * Only a request with a capped candidate, from a user last read over `refreshMs` ago (or
 * never), waits for a read (`ready`, batched with the other users waiting, at most
 * `readyTimeoutMs`, 100 ms); every other decision makes no Redis round trip. So a cap holds
 * fleet-wide up to a race: a user served by two servers within `refreshMs` + `syncIntervalMs`
 * (≈ 120 ms) can exceed it by the serves the other server made meanwhile. A user whose
 * requests all go to one server (sticky load balancing) is capped exactly.
 *
 * In a fleet a serve counts for the whole cap window whether or not it rendered (decision
 * servers never see impressions), as with a decision server's memory store: counted
 * impressions never exceed the cap. Cost: a read (if stale) and a write per capped decision,
 * about five Redis commands each inside the script, but batched: the decision server sends one
 * script call per sync for all its users; requests without a capped candidate cost nothing.
 */
export function createRedisFrequencyStore(opts: RedisFrequencyStoreOptions): RedisFrequencyStore {
  const { client } = opts;
  const keys = redisKeys(opts.prefix);
  const clock = opts.clock ?? Date.now;
  const refreshMs = opts.refreshMs ?? 100;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 100;
  /** The sync that `ready` callers wait for, started on the next tick. */
  let soon: Promise<void> | null = null;
  const maxUsers = opts.maxUsers ?? 1_000_000;
  const onError = opts.onError ?? (() => undefined);
  const users = new Map<string, User>();
  /** Users with pending serves or waiting for a read. */
  const dirty = new Set<string>();
  let syncing: Promise<void> | null = null;
  let closed = false;

  const user = (userId: string, touch: boolean): User => {
    let u = users.get(userId);
    if (u === undefined) {
      if (users.size >= maxUsers) {
        const oldest = users.keys().next().value;
        if (oldest !== undefined) {
          users.delete(oldest);
          dirty.delete(oldest);
        }
      }
      u = {
        ads: new Map(),
        pending: [],
        pendingWindowMs: 0,
        fetchedAtMs: Number.NEGATIVE_INFINITY,
        wanted: false,
      };
      users.set(userId, u);
    } else if (touch) {
      users.delete(userId);
      users.set(userId, u);
    }
    return u;
  };

  const want = (userId: string, u: User, nowMs: number): void => {
    if (!u.wanted && nowMs - u.fetchedAtMs >= refreshMs) {
      u.wanted = true;
      dirty.add(userId);
    }
  };

  async function syncOnce(): Promise<void> {
    if (dirty.size === 0) return;
    const batch = [...dirty];
    dirty.clear();
    const nowMs = clock();
    const calls: Promise<void>[] = [];
    for (let i = 0; i < batch.length; i += SYNC_BATCH)
      calls.push(syncUsers(batch.slice(i, i + SYNC_BATCH), nowMs));
    await Promise.all(calls);
  }

  /** One script call for these users: writes their pending serves, reads back all of theirs. */
  async function syncUsers(ids: readonly string[], nowMs: number): Promise<void> {
    const taken: Array<{ userId: string; u: User; pending: string[]; keepMs: number }> = [];
    const keyList: string[] = [];
    const args: string[] = [String(nowMs)];
    for (const userId of ids) {
      const u = users.get(userId);
      if (u === undefined) continue;
      const pending = u.pending;
      const keepMs = u.pendingWindowMs;
      u.pending = [];
      u.pendingWindowMs = 0;
      u.wanted = false;
      taken.push({ userId, u, pending, keepMs });
      keyList.push(keys.frequencyUser(userId));
      args.push(String(keepMs), String(pending.length));
      for (const p of pending) args.push(p);
    }
    if (taken.length === 0) return;
    let reply: unknown;
    try {
      reply = await evalLua(client, syncScript, keyList, args);
    } catch (err) {
      // Kept for the next sync (a retried write adds nothing twice).
      for (const { userId, u, pending, keepMs } of taken) {
        u.pending = pending.concat(u.pending);
        u.pendingWindowMs = Math.max(u.pendingWindowMs, keepMs);
        dirty.add(userId);
      }
      throw err;
    }
    const perUser = Array.isArray(reply) ? reply : [];
    for (const [i, { u }] of taken.entries()) {
      u.fetchedAtMs = nowMs;
      merge(u, perUser[i]);
    }
  }

  /**
   * Adopts the stored serves, keeping own serves the read does not show yet: those reserved
   * since the sync took the user's pending list (none, usually — then nothing is compared).
   */
  function merge(u: User, reply: unknown): void {
    if (!Array.isArray(reply)) return;
    const stored = new Map<string, Serve[]>();
    for (let i = 0; i + 1 < reply.length; i += 2)
      stored.set(String(reply[i]), parseServes(String(reply[i + 1])));
    if (u.pending.length > 0) {
      const unwritten = new Set(u.pending.map((p) => p.slice(p.lastIndexOf(' ') + 1)));
      for (const [adId, own] of u.ads) {
        const keep = own.filter((s) => unwritten.has(s.decisionId));
        if (keep.length === 0) continue;
        stored.set(adId, (stored.get(adId) ?? []).concat(keep));
      }
    }
    u.ads = stored;
  }

  const sync = (): Promise<void> => {
    // One sync at a time; a call during one waits for it and then runs its own.
    const run = (syncing ?? Promise.resolve()).then(syncOnce);
    const settled: Promise<void> = run
      .catch(() => undefined)
      .finally(() => {
        if (syncing === settled) syncing = null;
      });
    syncing = settled;
    return run;
  };

  const timer = setInterval(() => {
    if (syncing !== null || dirty.size === 0) return;
    sync().catch(onError);
  }, opts.syncIntervalMs ?? 20);
  timer.unref();

  return {
    isCapped(userId: string, adId: string, cap: FrequencyCap, nowMs: number) {
      if (cap.impressions <= 0) return true;
      const u = user(userId, false);
      want(userId, u, nowMs);
      const serves = u.ads.get(adId);
      if (serves === undefined) return false;
      const since = nowMs - cap.windowSeconds * 1000;
      let n = 0;
      for (const s of serves) if (s.ts > since) n++;
      return n >= cap.impressions;
    },

    reserve(userId, adId, decisionId, cap, nowMs) {
      if (closed) return;
      const u = user(userId, true);
      const windowMs = cap.windowSeconds * 1000;
      const since = nowMs - windowMs;
      const serves = (u.ads.get(adId) ?? []).filter((s) => s.ts > since);
      serves.push({ ts: nowMs, decisionId });
      u.ads.set(adId, serves);
      u.pending.push(`${adId} ${windowMs} ${nowMs} ${decisionId}`);
      u.pendingWindowMs = Math.max(u.pendingWindowMs, windowMs);
      dirty.add(userId);
    },

    ready(userId, nowMs) {
      const u = user(userId, false);
      if (closed || nowMs - u.fetchedAtMs < refreshMs) return null;
      want(userId, u, nowMs);
      // One sync and one deadline for every caller of this tick (a timer per caller cost a
      // timer, two promises and a race per capped decision).
      soon ??= new Promise<void>((resolve) => {
        const deadline = setTimeout(resolve, readyTimeoutMs);
        setImmediate(() => {
          soon = null;
          sync().then(
            () => {
              clearTimeout(deadline);
              resolve();
            },
            (err: unknown) => {
              clearTimeout(deadline);
              onError(err);
              resolve();
            },
          );
        });
      });
      return soon;
    },

    recordImpression() {
      // Serves count whether or not they rendered: nothing to confirm.
    },

    sync,

    async close() {
      closed = true;
      clearInterval(timer);
      await sync();
    },

    users: () => users.size,
  };
}

/** A stored field's serves, "<ts> <decisionId>;…" (frequency-sync.lua). */
function parseServes(value: string): Serve[] {
  const serves: Serve[] = [];
  let start = 0;
  while (start < value.length) {
    let end = value.indexOf(';', start);
    if (end === -1) end = value.length;
    const sep = value.indexOf(' ', start);
    if (sep > start && sep < end)
      serves.push({ ts: Number(value.slice(start, sep)), decisionId: value.slice(sep + 1, end) });
    start = end + 1;
  }
  return serves;
}
