import { createHash } from 'node:crypto';
import type { AllocationReport, PlacementWeights } from '../../core/allocation/allocation-report.js';
import type { AllocationStateStore } from '../../core/ports/allocation-state-store.js';
import { duplicateConnection, evalLua, type LuaScript, type RedisConnection } from './redis-client.js';
import { redisKeys } from './redis-keys.js';

export interface RedisAllocationStateStoreOptions {
  /** Shared connection; the store never closes it. */
  client: RedisConnection;
  prefix: string;
}

/*
 * read-weights: the serving weights, unless the caller already has their version.
 * Decision servers poll this a few times a second; one script makes every poll one round trip
 * and returns a version and weights that belong together (no publish can fall between them).
 *
 * KEYS[1]  version string (INCR'd by every publish and forget; missing = 0)
 * KEYS[2]  weights hash, field placementId → JSON
 * ARGV[1]  the caller's version
 * Returns  { version } when it equals ARGV[1], else { version, { field, value, ... } }.
 */
const READ_WEIGHTS_SOURCE = `
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v == tonumber(ARGV[1]) then return { v } end
return { v, redis.call('HGETALL', KEYS[2]) }
`;
// Inline rather than in lua/: the script is four lines and this adapter its only user.
const readWeightsScript: LuaScript = {
  source: READ_WEIGHTS_SOURCE,
  sha: createHash('sha1').update(READ_WEIGHTS_SOURCE).digest('hex'),
};

const PUBLISH_SOURCE = `
local v = redis.call('INCR', KEYS[1])
local nw = tonumber(ARGV[2])
if nw > 0 then redis.call('HSET', KEYS[2], unpack(ARGV, 4, 3 + 2 * nw)) end
if #ARGV > 3 + 2 * nw then redis.call('HSET', KEYS[3], unpack(ARGV, 4 + 2 * nw)) end
redis.call('PUBLISH', ARGV[1], v .. ' ' .. ARGV[3])
return v
`;
// INCR, both HSETs and the PUBLISH of the new version with the weights, atomically: a watcher
// that sees version v has every write of v (ARGV: channel, n weights, payload, fields…).
const publishScript: LuaScript = {
  source: PUBLISH_SOURCE,
  sha: createHash('sha1').update(PUBLISH_SOURCE).digest('hex'),
};

interface WeightsJson {
  targetsVersion: number;
  weights: Record<string, number>;
}

const encodeWeights = (w: PlacementWeights): string =>
  JSON.stringify({
    targetsVersion: w.targetsVersion,
    weights: Object.fromEntries(w.weights),
  } satisfies WeightsJson);

function decodeWeights(json: string): PlacementWeights | null {
  const v: unknown = JSON.parse(json);
  if (typeof v !== 'object' || v === null) return null;
  const { targetsVersion, weights } = v as Partial<WeightsJson>;
  if (typeof targetsVersion !== 'number' || typeof weights !== 'object' || weights === null) return null;
  const map = new Map<string, number>();
  for (const [adId, w] of Object.entries(weights)) {
    if (typeof w !== 'number') return null;
    map.set(adId, w);
  }
  return { targetsVersion, weights: map };
}

/*
 * Reports are plain JSON (arrays stay arrays) except for two values JSON cannot carry, tagged so
 * that a report reads back exactly as published: a Map (should a report field ever be one)
 * becomes { $map: [[k, v], ...] }, a non-finite number (JSON would turn it into null) becomes
 * { $num: "Infinity" }. Report keys are fixed field names, never data, so the tags cannot clash.
 */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Map) return { $map: [...value] };
  if (typeof value === 'number' && !Number.isFinite(value)) return { $num: String(value) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const tagged = value as { $map?: unknown; $num?: unknown };
  if (Array.isArray(tagged.$map) && Object.keys(value).length === 1) {
    return new Map(tagged.$map as Array<[unknown, unknown]>);
  }
  if (typeof tagged.$num === 'string' && Object.keys(value).length === 1) return Number(tagged.$num);
  return value;
}

/**
 * The controller's output in Redis, for a fleet: weights in one hash, reports in another, and a
 * version INCR'd in the same MULTI as the writes (layout in `redis-keys.ts`, one hash tag).
 *
 * Round trips: `publish` and `forget` one MULTI/EXEC each; `readWeights` one EVALSHA, which
 * returns only the version when it has not changed (an extra SCRIPT LOAD after Redis lost its
 * script cache); `readReport` one HGET.
 *
 * A weights entry that does not parse (written by an incompatible release) is skipped rather
 * than failing the poll: the decision servers keep serving that placement's previous weights.
 */
export function createRedisAllocationStateStore(
  opts: RedisAllocationStateStoreOptions,
): AllocationStateStore {
  const { client } = opts;
  const keys = redisKeys(opts.prefix);
  const versionKey = keys.allocationVersion();
  const weightsKey = keys.allocationWeights();
  const reportsKey = keys.allocationReports();
  const channel = keys.allocationChannel();

  return {
    async publish(weights, reports) {
      const encoded = [...weights].map(([id, w]) => [id, encodeWeights(w)] as const);
      const args = [channel, String(encoded.length), JSON.stringify(encoded)];
      for (const [id, json] of encoded) args.push(id, json);
      for (const [id, r] of reports) args.push(id, JSON.stringify(r, replacer));
      await evalLua(client, publishScript, [versionKey, weightsKey, reportsKey], args);
    },

    async watch(listener) {
      const subscriber = await duplicateConnection(client, { onError: () => {} });
      await subscriber.subscribe(channel, (message) => {
        const sep = message.indexOf(' ');
        const version = Number(message.slice(0, sep));
        const out = new Map<string, PlacementWeights>();
        const pairs = safe(() => JSON.parse(message.slice(sep + 1)) as unknown);
        if (!Number.isSafeInteger(version) || !Array.isArray(pairs)) return;
        for (const pair of pairs) {
          if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') continue;
          const w = safe(() => decodeWeights(pair[1] as string));
          if (w !== null) out.set(pair[0], w);
        }
        listener(version, out);
      });
      return async () => {
        await subscriber.close().catch(() => subscriber.destroy());
      };
    },

    async readWeights(sinceVersion) {
      const reply = await evalLua(
        client,
        readWeightsScript,
        [versionKey, weightsKey],
        [String(sinceVersion)],
      );
      if (!Array.isArray(reply) || typeof reply[0] !== 'number') {
        throw new Error('read-weights: unexpected reply from Redis');
      }
      const version = reply[0];
      if (reply.length === 1) return null;
      const flat: unknown = reply[1];
      const out = new Map<string, PlacementWeights>();
      if (!Array.isArray(flat)) return { version, weights: out };
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const [id, json] = [flat[i], flat[i + 1]];
        if (typeof id !== 'string' || typeof json !== 'string') continue;
        const w = safe(() => decodeWeights(json));
        if (w !== null) out.set(id, w);
      }
      return { version, weights: out };
    },

    async readReport(placementId) {
      const json = await client.hGet(reportsKey, placementId);
      if (typeof json !== 'string') return null;
      return JSON.parse(json, reviver) as AllocationReport;
    },

    async forget(placementIds) {
      // HDEL needs at least one field; nothing to forget, nothing to bump.
      if (placementIds.length === 0) return;
      const ids = [...placementIds];
      await client.multi().hDel(weightsKey, ids).hDel(reportsKey, ids).incr(versionKey).exec();
    },

    async close() {
      // The connection belongs to the caller.
    },
  };
}

function safe<T>(f: () => T | null): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}
