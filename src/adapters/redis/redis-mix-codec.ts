import type { MixSnapshot } from '../../core/ports/mix-store.js';
import type { RequestContext } from '../../core/targeting/targeting-rule.js';

/** Decoding what `redis-mix-store.ts` stores, and its small helpers. */

const MINUTE_MS = 60_000;

/** Snapshots handed out are the caller's: the cached one stays untouched. */
export const copySnapshot = (s: MixSnapshot | null): MixSnapshot | null =>
  s === null ? null : { adIds: s.adIds, counts: new Map(s.counts), samples: s.samples };

export function parseCandidates(json: string): { candidateKey: string; adIds: string[] } | null {
  try {
    const v: unknown = JSON.parse(json);
    if (typeof v !== 'object' || v === null) return null;
    const { candidateKey, adIds } = v as { candidateKey?: unknown; adIds?: unknown };
    if (typeof candidateKey !== 'string' || !Array.isArray(adIds)) return null;
    if (!adIds.every((id): id is string => typeof id === 'string')) return null;
    return { candidateKey, adIds };
  } catch {
    return null;
  }
}

export function parseContext(json: string): RequestContext | null {
  try {
    const v: unknown = JSON.parse(json);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as RequestContext) : null;
  } catch {
    return null;
  }
}

/** The timer retries every tick while Redis is down: an outage stays visible without flooding the log. */
export function atMostOncePerMinute(): (err: unknown) => void {
  let lastReportMs = 0;
  return (err) => {
    const now = Date.now();
    if (now - lastReportMs < MINUTE_MS) return;
    lastReportMs = now;
    console.error(
      `Redis mix store: flush failed, samples kept: ${err instanceof Error ? err.message : String(err)}`,
    );
  };
}
