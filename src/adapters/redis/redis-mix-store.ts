import type { MixSnapshot, MixStore } from '../../core/ports/mix-store.js';
import type { RequestContext } from '../../core/targeting/targeting-rule.js';
import type { RedisConnection } from './redis-client.js';
import { redisKeys } from './redis-keys.js';
import { addSample, boundBuffer, mergeBack, type PlacementBuffer } from './redis-mix-buffer.js';
import { atMostOncePerMinute, copySnapshot, parseCandidates, parseContext } from './redis-mix-codec.js';

export interface RedisMixStoreOptions {
  /** Shared connection; the store never closes it. */
  client: RedisConnection;
  prefix: string;
  /** Decay half-life; must be the same in every process sharing the prefix (it sets the slices). */
  halfLifeMs: number;
  /** How often the buffer is written to Redis (default 2 s). */
  flushIntervalMs?: number;
  /** How often recent contexts are written (default 10 s; they serve what-if analyses only). */
  contextsIntervalMs?: number;
  /**
   * A read is reused this long (default 5 s): with a half-life of minutes, the mix barely moves
   * in seconds, and the controller steps every placement every second. 0 = always read.
   */
  readCacheMs?: number;
  /** Recent contexts kept per placement (default 2000). */
  maxContexts?: number;
  /** A failed background flush (its samples are kept for the next one). Default: a line on
   *  stderr, at most one a minute. */
  onError?: (err: unknown) => void;
}

export type RedisMixStore = MixStore & {
  /** Writes the buffer now; rejects (keeping the samples) when Redis is unreachable. */
  flush(): Promise<void>;
  /** Stops the timer and flushes (rejecting like `flush`); later records are dropped. The
   *  connection stays open. */
  close(): Promise<void>;
};

const MINUTE_MS = 60_000;
/** Samples older than this many half-lives weigh ≤ 1/32: not read, and left to expire. */
const HORIZON_HALF_LIVES = 5;
/** Slices per horizon at most: a long half-life gets wider slices, so a read stays ~50 HGETALLs. */
const MAX_SLICES = 50;
/** Garbage collection of the contexts of a placement that stopped receiving traffic. */
const CONTEXTS_TTL_SECONDS = 7 * 86_400;

/** A closed slice changes only after a failed flush; it is read again this often at most. */
const CLOSED_SLICE_REFRESH_MS = 300_000;
/** How soon the samples of a placement new to this process (or to its candidates) are written. */
const NEW_PLACEMENT_TICK_MS = 250;
/** A read is reused only once the mix holds this many samples (before, every read is fresh). */
const MATURE_SAMPLES = 10_000;

/**
 * The request mix of a fleet in Redis: each decision server buffers its samples in memory
 * (`record` is on the decision hot path and never waits on I/O) and flushes them every
 * `flushIntervalMs`; all servers' counts add up in per-slice hashes, so the controller reads
 * the whole fleet's mix (GUIDE §3: buffer swapped before the await, merged back on failure).
 *
 * Decay: instead of rescaling stored counts, each slice is weighed at read time by
 * 2^(−age / halfLife), age measured from the middle of the slice (of its elapsed part, for
 * the current one). Slices are one minute long, a tenth of the half-life for half-lives over
 * 10 minutes (≤ 50 slices per read); a sample's weight is then off by at most
 * 2^(slice / 2 / halfLife) − 1 ≈ 3.5 % (more for half-lives under 10 minutes).
 *
 * Differences from the memory store, by design: samples older than 5 half-lives are gone, not
 * just light (`samples` counts only those read); candidate changes are resolved at read time —
 * only fields of the candidates in `mixcand` (the last flush to write it wins) are read, so
 * returning to earlier candidates within the horizon brings their samples back (they describe
 * the same candidates, so they are still valid).
 *
 * Round trips: a flush is one pipeline of plain commands (skipped, samples kept, while the connection is down,
 * so node-redis's offline queue never holds an unbounded backlog); a read is one pipeline of
 * GET + one HGETALL per slice; `recentContexts` one LRANGE. A flush whose connection dies after
 * Redis applied some of it is merged back and those samples counted twice: the mix is a
 * sampled estimate and this needs a failure at that instant.
 */
export function createRedisMixStore(opts: RedisMixStoreOptions): RedisMixStore {
  const { client, halfLifeMs } = opts;
  if (!(halfLifeMs > 0)) throw new RangeError('halfLifeMs must be positive');
  const keys = redisKeys(opts.prefix);
  const maxContexts = opts.maxContexts ?? 2000;
  const horizonMs = HORIZON_HALF_LIVES * halfLifeMs;
  const sliceMs = Math.max(MINUTE_MS, Math.ceil(horizonMs / MAX_SLICES / 1000) * 1000);
  // A slice lives a horizon after its last write, plus slack for slow flushes and clock skew.
  const sliceTtlSeconds = Math.ceil((horizonMs + 2 * sliceMs) / 1000);
  const onError = opts.onError ?? atMostOncePerMinute();

  let buffer = new Map<string, PlacementBuffer>();
  const contextsIntervalMs = opts.contextsIntervalMs ?? 10_000;
  const readCacheMs = opts.readCacheMs ?? 5000;
  let contextsDueMs = Date.now() + contextsIntervalMs;
  /** Contexts held back until the next contexts write (the newest `maxContexts` per placement). */
  const pendingContexts = new Map<string, RequestContext[]>();
  /** What this process last wrote as each placement's candidates, and when. */
  const candidatesWritten = new Map<string, { key: string; atMs: number }>();
  /** Slice keys this process has set the expiry of, with their start (once per slice: the
   *  expiry, a horizon and two slices long, outlives the slice's writes). */
  const expirySet = new Map<string, number>();
  /** placement → the last read (whole snapshot) and the closed slices' hashes. */
  const readCache = new Map<
    string,
    {
      /** Wall clock of the read, and this process's flush count then. */
      atMs: number;
      /** The time the snapshot was decayed to. */
      nowMs: number;
      generation: number;
      snapshot: MixSnapshot | null;
      closedSlices: Map<number, { atMs: number; hash: Record<string, string> }>;
    }
  >();
  /** Successful flushes of this process: a read older than the last one is not reused. */
  let generation = 0;
  let closed = false;
  let running = 0;
  let tail: Promise<void> = Promise.resolve();

  function flushOnce(forceContexts: boolean): Promise<void> {
    if (buffer.size === 0) return Promise.resolve();
    if (!client.isReady) {
      // The buffer stays where it is and keeps growing while Redis is down: bound it here.
      boundBuffer(buffer, horizonMs);
      return Promise.reject(new Error('Redis mix store: not connected, samples kept'));
    }
    const batch = buffer;
    buffer = new Map();
    const now = Date.now();
    // Forget slices past the horizon of the newest written (sample times, not this clock).
    let newest = Number.NEGATIVE_INFINITY;
    for (const b of batch.values()) for (const start of b.slices.keys()) newest = Math.max(newest, start);
    for (const [key, start] of expirySet) if (start < newest - horizonMs - sliceMs) expirySet.delete(key);
    const withContexts = forceContexts || now >= contextsDueMs;
    if (withContexts) contextsDueMs = now + contextsIntervalMs;
    // Plain commands, all sent in one tick: one round trip (node-redis pipelines them). Each
    // placement's keys share a hash tag. A placement whose commands failed is merged back
    // alone; those of its commands Redis did apply are then counted twice — the mix is a
    // sampled estimate, and this needs a failure mid-flush.
    const writes: Array<Promise<unknown>> = [];
    for (const [placementId, b] of batch) {
      const tx: Array<Promise<unknown>> = [];
      for (const [start, fields] of b.slices) {
        const key = keys.mixSlice(placementId, start);
        for (const [cand, counts] of fields)
          for (const [eligibility, n] of counts) tx.push(client.hIncrBy(key, `${cand}|${eligibility}`, n));
        if (!expirySet.has(key)) {
          tx.push(client.expire(key, sliceTtlSeconds));
          expirySet.set(key, start);
        }
      }
      // The candidates only when they changed, or to renew their expiry once a slice long.
      const written = candidatesWritten.get(placementId);
      if (written?.key !== b.candidateKey || now - written.atMs > sliceMs) {
        const cand = JSON.stringify({ candidateKey: b.candidateKey, adIds: b.adIds });
        tx.push(client.set(keys.mixCandidates(placementId), cand, { EX: sliceTtlSeconds }));
        candidatesWritten.set(placementId, { key: b.candidateKey, atMs: now });
      }
      if (!withContexts) {
        if (b.contexts.length > 0) pendingContexts.set(placementId, b.contexts);
        b.contexts = [];
      } else {
        const earlier = pendingContexts.get(placementId);
        if (earlier !== undefined) b.contexts = earlier.concat(b.contexts).slice(-maxContexts);
        pendingContexts.delete(placementId);
        if (b.contexts.length > 0) {
          const ctxKey = keys.mixContexts(placementId);
          tx.push(
            client.lPush(
              ctxKey,
              b.contexts.slice(-maxContexts).map((c) => JSON.stringify(c)),
            ),
          );
          tx.push(client.lTrim(ctxKey, 0, maxContexts - 1));
          tx.push(client.expire(ctxKey, CONTEXTS_TTL_SECONDS));
        }
      }
      writes.push(
        Promise.all(tx).catch((err: unknown) => {
          candidatesWritten.delete(placementId);
          for (const start of b.slices.keys()) expirySet.delete(keys.mixSlice(placementId, start));
          mergeBack(buffer, new Map([[placementId, b]]), maxContexts, horizonMs);
          throw err;
        }),
      );
    }
    return Promise.allSettled(writes).then((results) => {
      generation++;
      const failed = results.find((r) => r.status === 'rejected');
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    });
  }

  const flush = (forceContexts = true): Promise<void> => {
    running++;
    // Serialised: a second flush waits for the first, then writes what was recorded meanwhile.
    const run = tail
      .then(() => flushOnce(forceContexts))
      .finally(() => {
        running--;
      });
    tail = run.catch(() => undefined);
    return run;
  };

  const flushIntervalMs = opts.flushIntervalMs ?? 2000;
  /** Ramp: after samples of candidates this process never wrote, flushes come 250 ms, then
   *  500 ms, 1 s… apart up to the interval, so the controller fits a new placement on its first
   *  samples without every placement being written four times a second. */
  let rampMs = flushIntervalMs;
  let nextFlushMs = Date.now() + flushIntervalMs;
  const hasNewCandidates = (): boolean => {
    for (const [id, b] of buffer) if (candidatesWritten.get(id)?.key !== b.candidateKey) return true;
    return false;
  };
  const timer: NodeJS.Timeout = setInterval(
    () => {
      // A flush still waiting on Redis holds its batch; the next tick takes what came since.
      if (running > 0) return;
      const now = Date.now();
      if (hasNewCandidates()) rampMs = Math.min(flushIntervalMs, NEW_PLACEMENT_TICK_MS);
      else if (now < nextFlushMs) return;
      nextFlushMs = now + rampMs;
      rampMs = Math.min(flushIntervalMs, rampMs * 2);
      flush(false).catch(onError);
    },
    Math.min(flushIntervalMs, NEW_PLACEMENT_TICK_MS),
  );
  // The timer must not keep the process alive; shutdown calls close(), which flushes.
  timer.unref();

  return {
    record(placementId, candidateKey, adIds, key, context, nowMs) {
      if (closed) return;
      addSample(
        buffer,
        placementId,
        candidateKey,
        adIds,
        key,
        context,
        Math.floor(nowMs / sliceMs) * sliceMs,
        maxContexts,
      );
    },

    async read(placementId, nowMs) {
      let cache = readCache.get(placementId);
      // A placement without samples is not served from the cache: its first ones are read at once.
      const wallMs = Date.now();
      const fresh = (c: NonNullable<typeof cache>): boolean =>
        wallMs - c.atMs < readCacheMs &&
        Math.abs(nowMs - c.nowMs) < readCacheMs &&
        c.generation === generation;
      if (cache?.snapshot && cache.snapshot.samples >= MATURE_SAMPLES && fresh(cache)) {
        return copySnapshot(cache.snapshot);
      }
      const readGeneration = generation;
      const last = Math.floor(nowMs / sliceMs) * sliceMs;
      const starts: number[] = [];
      for (let s = Math.floor((nowMs - horizonMs) / sliceMs) * sliceMs; s <= last; s += sliceMs) {
        starts.push(s);
      }
      // A slice is settled once every process has flushed past its end (two flush intervals,
      // plus slack); settled slices are reused from the cache.
      const settledBefore = nowMs - 2 * (opts.flushIntervalMs ?? 2000) - 5000;
      const closedSlices =
        cache?.closedSlices ?? new Map<number, { atMs: number; hash: Record<string, string> }>();
      // Issued in one tick: node-redis writes them as one pipeline, one round trip.
      const [candJson, hashes] = await Promise.all([
        client.get(keys.mixCandidates(placementId)),
        Promise.all(
          starts.map(async (s) => {
            const settled = s + sliceMs <= settledBefore;
            const hit = settled ? closedSlices.get(s) : undefined;
            if (hit !== undefined && nowMs - hit.atMs < CLOSED_SLICE_REFRESH_MS) return hit.hash;
            const hash = await client.hGetAll(keys.mixSlice(placementId, s));
            if (settled) closedSlices.set(s, { atMs: nowMs, hash });
            return hash;
          }),
        ),
      ]);
      for (const s of closedSlices.keys()) if (s < starts[0]!) closedSlices.delete(s);
      // Tagged with the flush count at its start: a flush meanwhile makes it stale at once.
      cache = { atMs: wallMs, nowMs, generation: readGeneration, snapshot: null, closedSlices };
      readCache.set(placementId, cache);
      const cand = typeof candJson === 'string' ? parseCandidates(candJson) : null;
      if (cand === null) return null;
      const counts = new Map<string, number>();
      let samples = 0;
      hashes.forEach((hash, i) => {
        const start = starts[i]!;
        const mid = start + Math.min(sliceMs, Math.max(0, nowMs - start)) / 2;
        const factor = 2 ** (-Math.max(0, nowMs - mid) / halfLifeMs);
        for (const [field, value] of Object.entries(hash)) {
          // Eligibility keys never contain "|"; candidate keys (ad ids) might.
          const sep = field.lastIndexOf('|');
          if (sep !== cand.candidateKey.length || !field.startsWith(cand.candidateKey)) continue;
          const n = Number(value);
          if (!(n > 0)) continue;
          const key = field.slice(sep + 1);
          counts.set(key, (counts.get(key) ?? 0) + n * factor);
          samples += n;
        }
      });
      if (samples === 0) return null;
      const snapshot: MixSnapshot = { adIds: cand.adIds, counts, samples };
      cache.snapshot = snapshot;
      return copySnapshot(snapshot);
    },

    async recentContexts(placementId) {
      const list = await client.lRange(keys.mixContexts(placementId), 0, maxContexts - 1);
      const out: RequestContext[] = [];
      // Stored newest first; returned oldest first, like the memory store.
      for (let i = list.length - 1; i >= 0; i--) {
        const ctx = parseContext(list[i]!);
        if (ctx !== null) out.push(ctx);
      }
      return out;
    },

    flush: () => flush(true),

    async close() {
      closed = true;
      clearInterval(timer);
      await flush();
    },
  };
}
