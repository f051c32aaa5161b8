import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, StatementType } from '@duckdb/node-api';
import { AllotError } from '../core/errors.js';
import type {
  AnalyticsEngine,
  Granularity,
  HourlyCount,
  ReportQuery,
  ReportRow,
} from '../core/ports/analytics-engine.js';
import { dedupedEventsSql, hourlyCountsSql, reportSql } from './event-queries.js';
import { METRICS, type MetricDefinition, storedMetrics } from './metric-catalog.js';
import { createRollups } from './rollups.js';
import { duckdbDialect, sqlString } from './sql-dialect.js';

/** Statements `sql()` runs: reading only. */
const READ_ONLY = new Set<StatementType>([
  StatementType.SELECT,
  StatementType.EXPLAIN,
  StatementType.RELATION,
]);

/** DuckDB values → JSON: BIGINT → number, TIMESTAMP → ISO string, DECIMAL → number. */
function toJson(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'object' && v !== null) {
    const o = v as { micros?: bigint; toDouble?: () => number; toString(): string };
    if (typeof o.micros === 'bigint') return new Date(Number(o.micros / 1000n)).toISOString();
    if (typeof o.toDouble === 'function') return o.toDouble();
    return o.toString();
  }
  return String(v);
}

const hasFiles = async (dir: string): Promise<boolean> =>
  (await readdir(dir, { recursive: true }).catch(() => [] as string[])).some(
    (f) => String(f).endsWith('.parquet') && !String(f).split('/').at(-1)!.startsWith('.'),
  );

/**
 * The embedded analytics engine: DuckDB (in process, in memory) over the archive folder under
 * `root` (`events/`, and the rollups it keeps under `rollups/`). Reports read the hourly or daily
 * rollups, refreshed first (at most once per `minRefreshMs`; concurrent reports share one), so
 * they include every archived event. `beforeRead` runs first (an S3 archive's cache sync).
 * One connection: statements run one after another.
 */
export async function createDuckDbAnalytics(opts: {
  root: string;
  beforeRead?: () => Promise<void>;
  minRefreshMs?: number;
  catalog?: readonly MetricDefinition[];
}) {
  const catalog = opts.catalog ?? METRICS;
  const minRefreshMs = opts.minRefreshMs ?? 1000;
  const instance = await DuckDBInstance.create(':memory:');
  const connection: DuckDBConnection = await instance.connect();
  const rollups = createRollups({ root: opts.root, connection, catalog });
  const eventsGlob = join(opts.root, 'events', '**', '*.parquet');
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task);
    queue = run.catch(() => undefined);
    return run;
  };
  const last = { hour: 0, day: 0 };
  const fresh: { hour: Promise<void> | null; day: Promise<void> | null } = { hour: null, day: null };

  /**
   * Syncs and refreshes the rollups a granularity reads (days include hours) unless that was
   * done less than minRefreshMs ago; concurrent callers share one.
   */
  function ensureFresh(g: Granularity): Promise<void> {
    if (Date.now() - last[g] < minRefreshMs) return fresh[g] ?? Promise.resolve();
    fresh[g] ??= (async () => {
      try {
        const t = Date.now();
        await opts.beforeRead?.();
        await serial(() => rollups.refresh({ days: g === 'day' }));
        last.hour = t;
        if (g === 'day') last.day = t;
      } finally {
        fresh[g] = null;
      }
    })();
    return fresh[g];
  }

  const rows = async (sql: string): Promise<unknown[][]> =>
    serial(async () => (await connection.runAndReadAll(sql)).getRows() as unknown[][]);

  async function report(q: ReportQuery): Promise<ReportRow[]> {
    await ensureFresh(q.granularity);
    if (!(await rollups.exists(q.granularity))) return [];
    const source = `SELECT * FROM read_parquet(${sqlString(rollups.glob(q.granularity))})`;
    const result = await rows(
      reportSql(source, { fromMs: q.fromMs, toMs: q.toMs, placementId: q.placementId }, catalog),
    );
    return result.map((r) => {
      const metrics: Record<string, number | null> = {};
      catalog.forEach((m, i) => {
        const v = toJson(r[3 + i]);
        metrics[m.name] = v === null ? null : Number(v);
      });
      return {
        placementId: String(r[0]),
        adId: String(r[1]),
        period: String(toJson(r[2])),
        metrics,
      };
    });
  }

  async function hourlyCounts(fromMs: number, toMs: number): Promise<HourlyCount[]> {
    await ensureFresh('hour');
    if (!(await rollups.exists('hour'))) return [];
    const source = `SELECT * FROM read_parquet(${sqlString(rollups.glob('hour'))})`;
    const [d, i, c] = ['decisions', 'impressions', 'clicks'];
    const result = await rows(
      `SELECT placement_id, ad_id, period, ${d}, ${i}, ${c} FROM (${source}) r
       WHERE period >= make_timestamp(${fromMs * 1000}) AND period < make_timestamp(${toMs * 1000})
       ORDER BY ALL`,
    );
    return result.map((r) => ({
      placementId: String(r[0]),
      adId: String(r[1]),
      hourStartMs: Date.parse(String(toJson(r[2]))),
      decisions: Number(r[3]),
      impressions: Number(r[4]),
      clicks: Number(r[5]),
    }));
  }

  /** Views for ad-hoc SQL, typed and empty when there is nothing archived yet. */
  async function createViews(): Promise<void> {
    const emptyEvents =
      'SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS type, NULL::TIMESTAMP AS ts, NULL::VARCHAR AS decision_id, ' +
      'NULL::VARCHAR AS placement_id, NULL::VARCHAR AS ad_id, NULL::VARCHAR AS user_id, ' +
      'NULL::INTEGER AS schema_version, NULL::VARCHAR AS dt, NULL::VARCHAR AS hour WHERE false';
    const any = await hasFiles(join(opts.root, 'events'));
    const raw = any ? `SELECT * FROM ${duckdbDialect(eventsGlob).events}` : emptyEvents;
    await connection.run(`CREATE OR REPLACE VIEW events_raw AS ${raw}`);
    await connection.run(
      `CREATE OR REPLACE VIEW events AS SELECT * EXCLUDE (copy) FROM (
         SELECT *, row_number() OVER (PARTITION BY id ORDER BY ts) AS copy FROM events_raw) WHERE copy = 1`,
    );
    for (const g of ['hour', 'day'] as const) {
      const name = g === 'hour' ? 'hourly' : 'daily';
      const empty = `SELECT NULL::VARCHAR AS placement_id, NULL::VARCHAR AS ad_id, NULL::TIMESTAMP AS period${storedMetrics(
        catalog,
      )
        .map((m) => `, NULL::BIGINT AS ${m.column}`)
        .join('')} WHERE false`;
      const src = (await rollups.exists(g))
        ? `SELECT * FROM read_parquet(${sqlString(rollups.glob(g))})`
        : empty;
      await connection.run(`CREATE OR REPLACE VIEW ${name} AS ${src}`);
    }
  }

  return {
    catalog,
    report,
    hourlyCounts,
    /** Brings the rollups up to date now (reports do it themselves). */
    refresh: async () => {
      await opts.beforeRead?.();
      return serial(() => rollups.refresh());
    },
    /**
     * Read-only ad-hoc SQL over views `events` (each id once), `events_raw`, `hourly`, `daily`.
     * Every statement must read only (SELECT, WITH, EXPLAIN, DESCRIBE, SUMMARIZE); anything else
     * is refused before any runs, with `ALLOT_ERR_VALIDATION` listing each offending statement.
     */
    async sql(text: string): Promise<{ columns: string[]; rows: unknown[][] }> {
      await ensureFresh('day');
      return serial(async () => {
        await createViews();
        const extracted = await connection.extractStatements(text);
        const problems: Array<{ path: string; message: string }> = [];
        const prepared = [];
        for (let i = 0; i < extracted.count; i++) {
          const p = await extracted.prepare(i).catch((err: unknown) => {
            // Unknown tables, syntax, types: listed with the others, nothing runs.
            problems.push({
              path: `/statements/${i}`,
              message: `statement ${i + 1}: ${(err as Error).message}`,
            });
            return null;
          });
          if (p === null) continue;
          if (!READ_ONLY.has(p.statementType)) {
            problems.push({
              path: `/statements/${i}`,
              message: `statement ${i + 1} is ${StatementType[p.statementType]}: only reading statements (SELECT, WITH, EXPLAIN, DESCRIBE) are allowed`,
            });
          }
          prepared.push(p);
        }
        if (problems.length > 0)
          throw new AllotError('ALLOT_ERR_VALIDATION', 'refused: nothing was run', problems);
        let last: { columns: string[]; rows: unknown[][] } = { columns: [], rows: [] };
        for (const p of prepared) {
          const reader = await p.runAndReadAll();
          last = { columns: reader.columnNames(), rows: reader.getRows().map((r) => r.map(toJson)) };
        }
        return last;
      });
    },
    /** The raw report straight over the events, without rollups (benchmarks, tests). */
    dedupedEventsSql: (fromMs: number, toMs: number) =>
      dedupedEventsSql(duckdbDialect(eventsGlob), { fromMs, toMs }),
    hourlyCountsSql: (fromMs: number, toMs: number) =>
      hourlyCountsSql(duckdbDialect(eventsGlob), { fromMs, toMs }),
    async close(): Promise<void> {
      await queue;
      connection.closeSync();
      instance.closeSync();
    },
  } satisfies AnalyticsEngine & Record<string, unknown>;
}

export type DuckDbAnalytics = Awaited<ReturnType<typeof createDuckDbAnalytics>>;
