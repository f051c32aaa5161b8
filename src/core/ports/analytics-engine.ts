export type Granularity = 'hour' | 'day';

/** A report over [fromMs, toMs) (period starts aligned to the granularity, UTC). */
export interface ReportQuery {
  /** One placement, or null for all. */
  placementId: string | null;
  fromMs: number;
  toMs: number;
  granularity: Granularity;
}

/**
 * One placement × ad × period. `metrics` holds every metric of the catalog
 * (`src/analytics/metric-catalog.ts`) by name: counts are numbers, ratios a number or null
 * (undefined denominator).
 */
export interface ReportRow {
  placementId: string;
  adId: string;
  /** Period start, ISO 8601 UTC (`2026-11-26T20:00:00.000Z`). */
  period: string;
  metrics: Record<string, number | null>;
}

/** Exact archived counts of one placement × ad × UTC hour (each event id once). */
export interface HourlyCount {
  placementId: string;
  adId: string;
  hourStartMs: number;
  decisions: number;
  impressions: number;
  clicks: number;
}

/**
 * Historical analytics over the event archive. Adapters: DuckDB (embedded; over a local folder,
 * or a local cache of an S3 archive), Athena (production, over S3). Both run SQL from the same
 * builders (`src/analytics/`), differing only in their dialect.
 */
export interface AnalyticsEngine {
  /**
   * Report rows sorted by placement, period, ad, each event id counted once. Includes the events
   * archived before the call (DuckDB looks for new files at most every `minRefreshMs`, 1 s by
   * default); empty when nothing is archived. Rejects with a coded error (`ALLOT_ERR_UNAVAILABLE`
   * when Athena fails a query).
   */
  report(query: ReportQuery): Promise<ReportRow[]>;
  /** Exact counts per placement × ad × hour over [fromMs, toMs) (the reconciliation's truth). */
  hourlyCounts(fromMs: number, toMs: number): Promise<HourlyCount[]>;
  close(): Promise<void>;
}
