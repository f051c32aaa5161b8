import type { Logger } from 'pino';
import type { AnalyticsEngine, HourlyCount } from '../core/ports/analytics-engine.js';
import type { ConfigStore } from '../core/ports/config-store.js';
import type { AdCounts, CounterStore } from '../core/ports/counter-store.js';

const HOUR = 3_600_000;
/** z for a two-sided 99 % interval: one cell in a hundred of a sampled deployment may flag by chance. */
const Z99 = 2.576;
/** Most drifted cells a run keeps in detail (the counts cover all). */
const MAX_DETAIL = 100;

export type CountType = 'decisions' | 'impressions' | 'clicks';

/** One placement × ad × hour × count where live and archive disagree beyond the interval. */
export interface DriftCell {
  placementId: string;
  adId: string;
  hour: string;
  type: CountType;
  /** The live counter: exact, or the sampled (Horvitz–Thompson) estimate. */
  live: number;
  /** The archive's exact count (each event id once). */
  archived: number;
  /** Half-width of the live value's 99 % interval (0 when counted exactly). */
  margin: number;
}

export interface ReconciliationResult {
  /** When the run finished; null before the first run. */
  checkedAt: string | null;
  /** The closed hours compared, [from, to). */
  from: string | null;
  to: string | null;
  cells: number;
  drifted: number;
  /** Up to 100 drifted cells, largest relative drift first. */
  drift: DriftCell[];
  error: string | null;
}

/**
 * Interval half-width of a live count. Impressions keep Σw² of their sampling weights, so the
 * Horvitz–Thompson variance estimate Σ(w² − w) is known; decisions are sampled at the
 * placement's impression rate, so their variance is approximated with the impressions' mean
 * weight; clicks are always counted exactly.
 */
export function liveMargin(c: AdCounts, type: CountType): number {
  const w2 = c.impressionsW2 ?? c.impressions;
  if (type === 'clicks' || c.impressions <= 0) return 0;
  const varImpressions = Math.max(0, w2 - c.impressions);
  if (type === 'impressions') return Z99 * Math.sqrt(varImpressions);
  const meanWeight = w2 / c.impressions;
  return Z99 * Math.sqrt(Math.max(0, c.decisions * (meanWeight - 1)));
}

/**
 * Compares the live counters with the archive's exact counts per placement × ad × closed hour,
 * and reports the cells whose difference lies outside the live value's 99 % interval (exact
 * counters: any difference). Hours are compared once closed for `settleMs` (the archive is a
 * flush behind), back `lookbackHours`. Result on `GET /v1/reconciliation`, metrics
 * `allot_reconciliation_*`, and a warning in the log when something drifted.
 *
 * Expected drift, not a fault: the embedded mode's live counters live in memory, so hours before
 * a restart are partly or wholly missing live (the archive has them).
 */
export function createReconciliationJob(deps: {
  counters: CounterStore;
  analytics: AnalyticsEngine;
  store: ConfigStore;
  now: () => number;
  logger: Logger;
  intervalMs: number;
  lookbackHours?: number;
  settleMs?: number;
  onResult?: (r: ReconciliationResult) => void;
}) {
  const lookbackHours = deps.lookbackHours ?? 6;
  const settleMs = deps.settleMs ?? 120_000;
  let latest: ReconciliationResult = {
    checkedAt: null,
    from: null,
    to: null,
    cells: 0,
    drifted: 0,
    drift: [],
    error: null,
  };
  let running: Promise<ReconciliationResult> | null = null;
  let timer: NodeJS.Timeout | null = null;

  async function run(): Promise<ReconciliationResult> {
    const toMs = Math.floor((deps.now() - settleMs) / HOUR) * HOUR;
    const fromMs = toMs - lookbackHours * HOUR;
    try {
      const archived = await deps.analytics.hourlyCounts(fromMs, toMs);
      const truth = new Map<string, HourlyCount>();
      for (const c of archived) truth.set(`${c.placementId}\n${c.adId}\n${c.hourStartMs}`, c);
      const placements = new Set([...(await deps.store.listPlacements()).map((p) => p.id)]);
      for (const c of archived) placements.add(c.placementId);
      let cells = 0;
      const drift: DriftCell[] = [];
      let drifted = 0;
      for (const placementId of placements) {
        for (let h = fromMs; h < toMs; h += HOUR) {
          const live = await deps.counters.read(placementId, h, h + HOUR);
          const ads = new Set(live.keys());
          for (const c of archived) if (c.placementId === placementId && c.hourStartMs === h) ads.add(c.adId);
          for (const adId of ads) {
            const l = live.get(adId) ?? { decisions: 0, impressions: 0, clicks: 0 };
            const a = truth.get(`${placementId}\n${adId}\n${h}`);
            for (const type of ['decisions', 'impressions', 'clicks'] as const) {
              const liveValue = l[type];
              const archivedValue = a?.[type] ?? 0;
              cells++;
              const margin = liveMargin(l, type);
              // Estimates are fractional; a difference under half an event is rounding.
              if (Math.abs(liveValue - archivedValue) > margin + 0.5) {
                drifted++;
                drift.push({
                  placementId,
                  adId,
                  hour: new Date(h).toISOString(),
                  type,
                  live: Math.round(liveValue * 100) / 100,
                  archived: archivedValue,
                  margin: Math.round(margin * 100) / 100,
                });
              }
            }
          }
        }
      }
      const rel = (d: DriftCell) => Math.abs(d.live - d.archived) / Math.max(1, d.archived);
      drift.sort((x, y) => rel(y) - rel(x));
      latest = {
        checkedAt: new Date(deps.now()).toISOString(),
        from: new Date(fromMs).toISOString(),
        to: new Date(toMs).toISOString(),
        cells,
        drifted,
        drift: drift.slice(0, MAX_DETAIL),
        error: null,
      };
      if (drifted > 0) {
        deps.logger.warn(
          { drifted, cells, from: latest.from, to: latest.to, worst: latest.drift.slice(0, 5) },
          'live counters drift from the archive beyond their interval',
        );
      }
    } catch (err) {
      deps.logger.error({ err }, 'reconciliation failed');
      latest = { ...latest, checkedAt: new Date(deps.now()).toISOString(), error: String(err) };
    }
    deps.onResult?.(latest);
    return latest;
  }

  const runNow = (): Promise<ReconciliationResult> => {
    running ??= run().finally(() => {
      running = null;
    });
    return running;
  };

  return {
    latest: (): ReconciliationResult => latest,
    runNow,
    start(): void {
      if (deps.intervalMs <= 0 || timer !== null) return;
      timer = setInterval(() => void runNow(), deps.intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer !== null) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}

export type ReconciliationJob = ReturnType<typeof createReconciliationJob>;
