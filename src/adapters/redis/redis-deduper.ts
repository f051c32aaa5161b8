import type { Deduper } from '../../core/ports/deduper.js';
import { isNoScript, luaScript, type RedisConnection } from './redis-client.js';
import { dedupShard, redisKeys } from './redis-keys.js';

export interface RedisDeduperOptions {
  /** Shared connection; the deduper never closes it. */
  client: RedisConnection;
  prefix: string;
  /**
   * Hash tags the ids are spread over (default 16): one script call per shard touched, all in
   * one round trip. More shards spread a Cluster's load over more nodes; changing the count
   * forgets every remembered id once (a replay inside the TTL would then count twice).
   */
  shards?: number;
}

/**
 * Seen event ids in Redis, shared by every aggregator (`lua/first-seen.lua`). One round trip per
 * batch: one EVALSHA per shard touched, sent together. Only after Redis lost its script cache
 * (restart, failover, SCRIPT FLUSH) does a batch take two more: SCRIPT LOAD, then the calls
 * that failed; calls that succeeded are not repeated, so no id is recorded twice.
 *
 * Clocks: whether an id has expired is decided on the caller's clock (`nowMs`), as in the
 * memory deduper, so aggregators on several hosts disagree by their clock skew (keep the TTL
 * above the beacon token lifetime by more than that; NTP). Redis's own expiry (PX ttlMs, on
 * Redis's clock) only frees memory, ttlMs of real time after the id was recorded: a caller
 * whose clock runs slower than real time (a frozen test clock) sees ids vanish early.
 */
export function createRedisDeduper(opts: RedisDeduperOptions): Deduper {
  const { client } = opts;
  const keys = redisKeys(opts.prefix);
  const shards = opts.shards ?? 16;
  if (!Number.isInteger(shards) || shards < 1) throw new Error('shards must be a positive integer');
  const script = luaScript('first-seen.lua');

  return {
    async firstSeen(ids, ttlMs, nowMs) {
      const out = new Array<boolean>(ids.length).fill(false);
      // Repeats inside the batch are answered here (only the first is new), so each key is sent once.
      const calls = new Map<number, { keys: string[]; indexes: number[] }>();
      const offered = new Set<string>();
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        if (offered.has(id)) continue;
        offered.add(id);
        const shard = dedupShard(id, shards);
        let call = calls.get(shard);
        if (call === undefined) {
          call = { keys: [], indexes: [] };
          calls.set(shard, call);
        }
        call.keys.push(keys.dedup(shard, id));
        call.indexes.push(i);
      }
      if (calls.size === 0) return out;

      const ttl = Math.max(1, Math.ceil(ttlMs));
      const args = [String(nowMs), String(ttl), String(nowMs + ttl)];
      const run = (k: string[]) => client.evalSha(script.sha, { keys: k, arguments: args });
      let pending = [...calls.values()];
      for (let attempt = 0; pending.length > 0; attempt++) {
        // Started in one tick: node-redis writes them as one pipeline.
        const settled = await Promise.allSettled(pending.map((c) => run(c.keys)));
        const retry: typeof pending = [];
        settled.forEach((r, j) => {
          const call = pending[j]!;
          if (r.status === 'rejected') {
            if (attempt > 0 || !isNoScript(r.reason)) throw r.reason;
            retry.push(call);
            return;
          }
          const flags = r.value;
          if (!Array.isArray(flags) || flags.length !== call.indexes.length) {
            throw new Error('first-seen.lua returned an unexpected reply');
          }
          call.indexes.forEach((idx, k) => {
            out[idx] = flags[k] === 1;
          });
        });
        if (retry.length > 0) await client.scriptLoad(script.source);
        pending = retry;
      }
      return out;
    },
  };
}
