import type { MixSnapshot, MixStore } from '../../core/ports/mix-store.js';
import type { RequestContext } from '../../core/targeting/targeting-rule.js';

interface Entry {
  candidateKey: string;
  adIds: readonly string[];
  counts: Map<string, number>;
  samples: number;
  decayedAtMs: number;
  /** Ring of recent contexts; kept across candidate changes (contexts do not depend on them). */
  contexts: RequestContext[];
  nextContext: number;
  /** 2^((scaleAtMs − scaleFrom) / halfLife): the last request's scale, reused within its ms. */
  scale: number;
  scaleAtMs: number;
  scaleFrom: number;
}

/**
 * Request mix in process memory. Decay is applied lazily on read: every count is multiplied
 * by 2^(−Δt / halfLife). At most `maxKeys` distinct keys per placement are kept (the
 * lightest dropped first), which bounds memory whatever the targeting combinatorics.
 */
export function createMemoryMixStore(opts: {
  halfLifeMs: number;
  maxKeys?: number;
  maxContexts?: number;
}): MixStore {
  const maxKeys = opts.maxKeys ?? 1024;
  const maxContexts = opts.maxContexts ?? 2000;
  const entries = new Map<string, Entry>();

  const decay = (e: Entry, nowMs: number): void => {
    const dt = nowMs - e.decayedAtMs;
    if (dt <= 0) return;
    const f = 2 ** (-dt / opts.halfLifeMs);
    for (const [k, v] of e.counts) e.counts.set(k, v * f);
    e.decayedAtMs = nowMs;
  };

  const prune = (e: Entry): void => {
    const sorted = [...e.counts].sort((a, b) => b[1] - a[1]);
    e.counts = new Map(sorted.slice(0, Math.floor(maxKeys / 2)));
  };

  return {
    record(placementId, candidateKey, adIds, key, context, nowMs) {
      let e = entries.get(placementId);
      if (e === undefined) {
        e = {
          candidateKey,
          adIds,
          counts: new Map(),
          samples: 0,
          decayedAtMs: nowMs,
          contexts: [],
          nextContext: 0,
          scale: 1,
          scaleAtMs: Number.NaN,
          scaleFrom: Number.NaN,
        };
        entries.set(placementId, e);
      } else if (e.candidateKey !== candidateKey) {
        Object.assign(e, { candidateKey, adIds, counts: new Map(), samples: 0, decayedAtMs: nowMs });
      }
      if (e.contexts.length < maxContexts) e.contexts.push(context);
      else e.contexts[e.nextContext] = context;
      e.nextContext = (e.nextContext + 1) % maxContexts;
      const weight = 1;
      e.samples++;
      if (nowMs - e.decayedAtMs > opts.halfLifeMs) decay(e, nowMs);
      // Recorded mass is scaled back to "now" so lazy decay treats old and new samples alike;
      // the factor is computed once per millisecond (pow per request was ~1 % of a decision).
      if (e.scaleAtMs !== nowMs || e.scaleFrom !== e.decayedAtMs) {
        e.scale = 2 ** ((nowMs - e.decayedAtMs) / opts.halfLifeMs);
        e.scaleAtMs = nowMs;
        e.scaleFrom = e.decayedAtMs;
      }
      const scaled = weight * e.scale;
      const prev = e.counts.get(key);
      if (prev === undefined && e.counts.size >= maxKeys) prune(e);
      e.counts.set(key, (prev ?? 0) + scaled);
    },

    async read(placementId, nowMs) {
      const e = entries.get(placementId);
      if (e === undefined || e.samples === 0) return null;
      decay(e, nowMs);
      const snapshot: MixSnapshot = { adIds: e.adIds, counts: new Map(e.counts), samples: e.samples };
      return snapshot;
    },

    async recentContexts(placementId) {
      return entries.get(placementId)?.contexts.slice() ?? [];
    },
  };
}
