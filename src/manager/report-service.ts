import { AllotError, type Problem } from '../core/errors.js';
import type { AnalyticsEngine, Granularity } from '../core/ports/analytics-engine.js';
import type { ConfigStore } from '../core/ports/config-store.js';

/** What the service needs of a metric definition (`src/analytics/metric-catalog.ts`). */
export interface ReportMetric {
  name: string;
}

/** Raw query-string input of `GET /v1/reports/allocation` (strings, checked here). */
export interface ReportRequest {
  placementId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  granularity?: string | undefined;
}

/** One report row as the API and CSV give it: identity, every catalog metric, target vs share. */
export type AllocationReportRow = {
  placementId: string;
  adId: string;
  period: string;
  targetShare: number | null;
  deviation: number | null;
} & Record<string, string | number | null>;

export interface AllocationReport {
  granularity: Granularity;
  from: string;
  to: string;
  /** When the report was computed; archived events are at most `freshnessSeconds` behind it. */
  generatedAt: string;
  freshnessSeconds: number;
  /** Column order of the rows (and of the CSV). */
  columns: string[];
  rows: AllocationReportRow[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Most periods one report may span (a year of days, 31 days of hours). */
const MAX_PERIODS: Record<Granularity, number> = { hour: 31 * 24, day: 366 };
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * Allocation reports: per placement × ad × hour or day, every metric of the catalog from the
 * analytics engine, joined with each ad's current target share (the deviation is realized share
 * minus target). Periods are UTC; `from` is floored and `to` ceiled to whole periods.
 */
export function createReportService(deps: {
  analytics: AnalyticsEngine;
  store: ConfigStore;
  metrics: readonly ReportMetric[];
  now: () => number;
  /** How far behind the archive may be (the archiver's flush interval), for the report's header. */
  freshnessSeconds: number;
}) {
  const columns = [
    'placementId',
    'adId',
    'period',
    ...deps.metrics.map((m) => m.name),
    'targetShare',
    'deviation',
  ];

  function parse(req: ReportRequest): {
    placementId: string | null;
    fromMs: number;
    toMs: number;
    g: Granularity;
  } {
    const problems: Problem[] = [];
    const g = (req.granularity ?? 'hour') as Granularity;
    if (g !== 'hour' && g !== 'day') problems.push({ path: '/granularity', message: 'must be hour or day' });
    const time = (name: 'from' | 'to'): number => {
      const raw = req[name];
      if (raw === undefined || raw === '') {
        problems.push({ path: `/${name}`, message: 'is required (ISO 8601, e.g. 2026-11-26T00:00:00Z)' });
        return Number.NaN;
      }
      const ms = ISO_8601.test(raw) ? Date.parse(raw) : Number.NaN;
      if (Number.isNaN(ms))
        problems.push({ path: `/${name}`, message: `"${raw}" is not an ISO 8601 date-time` });
      return ms;
    };
    const unit = g === 'day' ? DAY : HOUR;
    const fromMs = Math.floor(time('from') / unit) * unit;
    const toMs = Math.ceil(time('to') / unit) * unit;
    if (!Number.isNaN(fromMs) && !Number.isNaN(toMs)) {
      if (toMs <= fromMs) problems.push({ path: '/to', message: 'must be after from' });
      else if ((toMs - fromMs) / unit > MAX_PERIODS[g])
        problems.push({ path: '/to', message: `spans more than ${MAX_PERIODS[g]} ${g}s; narrow the range` });
    }
    const placementId = req.placementId === undefined || req.placementId === '' ? null : req.placementId;
    if (placementId !== null && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(placementId))
      problems.push({ path: '/placementId', message: 'is not a valid id' });
    if (problems.length > 0) throw new AllotError('ALLOT_ERR_VALIDATION', 'invalid report query', problems);
    return { placementId, fromMs, toMs, g };
  }

  /** Target share per placement → ad (the fallback takes what the targets leave). */
  async function targetShares(placementIds: Iterable<string>): Promise<Map<string, Map<string, number>>> {
    const out = new Map<string, Map<string, number>>();
    for (const id of placementIds) {
      const [placement, targets] = await Promise.all([
        deps.store.getPlacement(id),
        deps.store.getTargets(id),
      ]);
      const shares = new Map<string, number>();
      let sum = 0;
      for (const t of targets?.targets ?? []) {
        shares.set(t.adId, (shares.get(t.adId) ?? 0) + t.share);
        sum += t.share;
      }
      const fallback = placement?.fallbackAdId ?? null;
      if (fallback !== null) shares.set(fallback, round((shares.get(fallback) ?? 0) + Math.max(0, 1 - sum)));
      out.set(id, shares);
    }
    return out;
  }

  return {
    columns,

    async allocation(req: ReportRequest): Promise<AllocationReport> {
      const q = parse(req);
      if (q.placementId !== null && (await deps.store.getPlacement(q.placementId)) === null) {
        throw new AllotError('ALLOT_ERR_PLACEMENT_NOT_FOUND', `placement "${q.placementId}" not found`);
      }
      const generatedAt = new Date(deps.now()).toISOString();
      const rows = await deps.analytics.report({
        placementId: q.placementId,
        fromMs: q.fromMs,
        toMs: q.toMs,
        granularity: q.g,
      });
      const targets = await targetShares(new Set(rows.map((r) => r.placementId)));
      return {
        granularity: q.g,
        from: new Date(q.fromMs).toISOString(),
        to: new Date(q.toMs).toISOString(),
        generatedAt,
        freshnessSeconds: deps.freshnessSeconds,
        columns,
        rows: rows.map((r) => {
          const targetShare = targets.get(r.placementId)?.get(r.adId) ?? null;
          const share = r.metrics.share;
          const row = { placementId: r.placementId, adId: r.adId, period: r.period } as AllocationReportRow;
          for (const m of deps.metrics) row[m.name] = r.metrics[m.name] ?? null;
          row.targetShare = targetShare;
          row.deviation =
            targetShare !== null && typeof share === 'number' ? round(share - targetShare) : null;
          return row;
        }),
      };
    },
  };
}

export type ReportService = ReturnType<typeof createReportService>;

/** RFC 4180 CSV of a report: a header of `columns`, one line per row. */
export function reportToCsv(report: Pick<AllocationReport, 'columns' | 'rows'>): string {
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = [report.columns.join(',')];
  for (const row of report.rows) lines.push(report.columns.map((c) => cell(row[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
