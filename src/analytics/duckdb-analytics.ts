import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type DuckDBConnection,
  DuckDBDecimalValue,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  StatementType,
} from '@duckdb/node-api';
import { type DuckDbSettings, duckDbConfig, eventsPerQuery } from '../archive/duckdb-settings.js';
import { AllotError, type Problem } from '../core/errors.js';
import type {
  AnalyticsEngine,
  Granularity,
  HourlyCount,
  ReportQuery,
  ReportRow,
} from '../core/ports/analytics-engine.js';
import { dedupedEventsSql, hourlyCountsSql, reportFromRollupsSql } from './event-queries.js';
import { METRICS, type MetricDefinition, storedMetrics } from './metric-catalog.js';
import { createRollups } from './rollups.js';
import { duckdbDialect, sqlString } from './sql-dialect.js';

/** Statements `sql()` runs: reading only (DESCRIBE, SHOW, SUMMARIZE, PRAGMA x are SELECTs). */
const READ_ONLY = new Set<StatementType>([StatementType.SELECT, StatementType.EXPLAIN]);
/** `EXPLAIN ANALYZE x` runs x (a COPY writes its file): x is checked like a statement of its own. */
const EXPLAIN = /^\s*EXPLAIN\s+(?:ANALY[SZ]E\s+)?/i;

/**
 * DuckDB values → JSON: BIGINT/HUGEINT → number (a string beyond 2^53), TIMESTAMP(_TZ/_MS/_NS) →
 * ISO 8601 UTC, DECIMAL → number, other values (dates, lists, …) → DuckDB's text.
 */
export function toJson(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  const iso = (ms: bigint) => new Date(Number(ms)).toISOString();
  if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue) return iso(v.micros / 1000n);
  if (v instanceof DuckDBTimestampMillisecondsValue) return iso(v.millis);
  if (v instanceof DuckDBTimestampNanosecondsValue) return iso(v.nanos / 1_000_000n);
  if (v instanceof DuckDBDecimalValue) return v.toDouble();
  return String(v);
}

const hasParquet = async (dir: string): Promise<boolean> =>
  (await readdir(dir, { recursive: true }).catch(() => [] as string[])).some(
    (f) => f.endsWith('.parquet') && !(f.split('/').at(-1) ?? '').startsWith('.'),
  );

export interface DuckDbAnalyticsOptions {
  /** The archive folder: `events/` (read), `rollups/` (kept here). */
  root: string;
  /** Runs before reading (the integrator's S3 → local cache sync). */
  beforeRead?: () => Promise<void>;
  /** Reports refresh the rollups at most this often (default 1000 ms). */
  minRefreshMs?: number;
  /** The metric catalog (default `METRICS`): rollup columns, report metrics, `hourly`/`daily` views. */
  metrics?: readonly MetricDefinition[];
  /** Memory and threads of each of its DuckDB instances. */
  duckdb?: DuckDbSettings;
  /** Events per rollup pass (default: from the memory limit; see `createRollups`). For tests. */
  eventsPerPass?: number;
  /** How often the open hour's and day's rollups may be rebuilt (see `createRollups`). For tests. */
  openRebuild?: { factor: number; minMs: number };
  /** The clock deciding which hour and day are open (default `Date.now`). For tests. */
  now?: () => number;
}

/**
 * The embedded analytics engine: DuckDB in process over the archive folder `root`. Reports read
 * the hourly or daily rollups (`rollups.ts`), refreshed first — after `beforeRead`, at most once
 * per `minRefreshMs`, concurrent reports sharing one refresh — so a report includes every event
 * archived before it (up to `minRefreshMs` old), except in a large open hour, whose rollup is
 * rebuilt less often (`openRebuild` in `rollups.ts`). An empty archive gives empty results.
 *
 * Reports and refreshes share one connection and run one after another. Ad-hoc SQL (`sql`) runs
 * on a second, locked-down instance: it can read the archive's `events/` and `rollups/` only.
 */
export async function createDuckDbAnalytics(opts: DuckDbAnalyticsOptions) {
  const metrics = opts.metrics ?? METRICS;
  const minRefreshMs = opts.minRefreshMs ?? 1000;
  const eventsDir = join(opts.root, 'events');
  const instance = await DuckDBInstance.create(':memory:', duckDbConfig(opts.duckdb));
  const connection: DuckDBConnection = await instance.connect();
  const rollups = createRollups({
    root: opts.root,
    connection,
    catalog: metrics,
    eventsPerPass: opts.eventsPerPass ?? eventsPerQuery(opts.duckdb),
    openRebuild: opts.openRebuild,
    now: opts.now,
  });
  const dialect = duckdbDialect(join(eventsDir, '**', '*.parquet'), rollups.rollupsDir);
  const countsStored = ['decisions', 'impressions', 'clicks'].every((c) =>
    metrics.some((m) => m.column === c && m.rollup === 'sum'),
  );

  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task);
    queue = run.catch(() => undefined);
    return run;
  };
  const rows = (sql: string): Promise<unknown[][]> =>
    serial(async () => (await connection.runAndReadAll(sql)).getRows() as unknown[][]);

  const last = { hour: 0, day: 0 };
  const fresh: Record<Granularity, Promise<void> | null> = { hour: null, day: null };
  /**
   * Syncs and refreshes the rollups a granularity reads (a day refresh includes its hours) unless
   * that was done less than minRefreshMs ago; concurrent callers share one.
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

  async function report(q: ReportQuery): Promise<ReportRow[]> {
    await ensureFresh(q.granularity);
    if (!(await rollups.exists(q.granularity))) return [];
    const range = { fromMs: q.fromMs, toMs: q.toMs, placementId: q.placementId };
    const result = await rows(reportFromRollupsSql(dialect, q.granularity, range, metrics));
    return result.map((r) => {
      const values: Record<string, number | null> = {};
      metrics.forEach((m, i) => {
        const v = toJson(r[3 + i]);
        values[m.name] = v === null ? null : Number(v);
      });
      return { placementId: String(r[0]), adId: String(r[1]), period: String(toJson(r[2])), metrics: values };
    });
  }

  async function hourlyCounts(fromMs: number, toMs: number): Promise<HourlyCount[]> {
    // The hours asked for only (the reconciliation's are closed): not the open hour, whose
    // rollup would be rebuilt from all its events at every run.
    await opts.beforeRead?.();
    // From the hourly rollups, unless a custom catalog dropped the counts: then from the events.
    if (countsStored) await serial(() => rollups.refresh({ days: false, beforeMs: toMs }));
    const from = countsStored ? 'rollups' : 'events';
    if (!(countsStored ? await rollups.exists('hour') : await hasParquet(eventsDir))) return [];
    const result = await rows(hourlyCountsSql(dialect, { fromMs, toMs }, from));
    return result.map((r) => ({
      placementId: String(r[0]),
      adId: String(r[1]),
      hourStartMs: Date.parse(String(toJson(r[2]))),
      decisions: Number(r[3]),
      impressions: Number(r[4]),
      clicks: Number(r[5]),
    }));
  }

  let adhoc: { instance: DuckDBInstance; connection: DuckDBConnection } | null = null;
  /**
   * The ad-hoc SQL instance: external access limited to the archive's folders and the
   * configuration locked, so even a statement that slipped past the type check could neither
   * read nor write elsewhere, nor change that.
   */
  async function adhocConnection(): Promise<DuckDBConnection> {
    if (adhoc !== null) return adhoc.connection;
    const inst = await DuckDBInstance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      ...duckDbConfig(opts.duckdb),
    });
    const c = await inst.connect();
    const dirs = [eventsDir, rollups.rollupsDir].map((d) => sqlString(`${d}/`));
    await c.run(`SET allowed_directories = [${dirs.join(', ')}]`);
    await c.run('SET enable_external_access = false');
    await c.run('SET lock_configuration = true');
    adhoc = { instance: inst, connection: c };
    return c;
  }

  /** Views for ad-hoc SQL (recreated per call: typed and empty while nothing is archived). */
  async function createViews(c: DuckDBConnection): Promise<void> {
    const emptyEvents =
      'SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS type, NULL::TIMESTAMP AS ts, NULL::VARCHAR AS decision_id, ' +
      'NULL::VARCHAR AS placement_id, NULL::VARCHAR AS ad_id, NULL::VARCHAR AS user_id, ' +
      'NULL::INTEGER AS schema_version, NULL::VARCHAR AS dt, NULL::VARCHAR AS hour WHERE false';
    const raw = (await hasParquet(eventsDir)) ? `SELECT * FROM ${dialect.events}` : emptyEvents;
    await c.run(`CREATE OR REPLACE VIEW events_raw AS ${raw}`);
    await c.run(
      `CREATE OR REPLACE VIEW events AS SELECT * EXCLUDE (copy) FROM (
         SELECT *, row_number() OVER (PARTITION BY id ORDER BY ts) AS copy FROM events_raw) WHERE copy = 1`,
    );
    for (const g of ['hour', 'day'] as const) {
      const stored = storedMetrics(metrics).map((m) => `, NULL::BIGINT AS ${m.column}`);
      const partitions =
        g === 'hour' ? ', NULL::VARCHAR AS dt, NULL::VARCHAR AS hour' : ', NULL::VARCHAR AS dt';
      const empty = `SELECT NULL::VARCHAR AS placement_id, NULL::VARCHAR AS ad_id, NULL::TIMESTAMP AS period${stored.join('')}${partitions} WHERE false`;
      const src = (await rollups.exists(g)) ? `SELECT * FROM ${dialect.rollups?.(g)}` : empty;
      await c.run(`CREATE OR REPLACE VIEW ${g === 'hour' ? 'hourly' : 'daily'} AS ${src}`);
    }
  }

  /**
   * Whether an EXPLAIN in `text` is harmless: a plain EXPLAIN only plans, but EXPLAIN ANALYZE
   * runs its statement (a COPY would write its file), so then `text` must be one plainly
   * written `EXPLAIN ANALYZE <statement>` whose statement, prepared alone, is a SELECT.
   * Conservative: any "analyze" word in a text with an EXPLAIN needs that proof.
   */
  async function explainOnlyReads(c: DuckDBConnection, text: string, statements: number): Promise<boolean> {
    if (!/\banaly[sz]e\b/i.test(text)) return true;
    const m = EXPLAIN.exec(text);
    if (statements !== 1 || m === null) return false;
    const inner = await c.extractStatements(text.slice(m[0].length)).catch(() => null);
    if (inner === null || inner.count !== 1) return false;
    const p = await inner.prepare(0).catch(() => null);
    return p?.statementType === StatementType.SELECT;
  }

  /** Prepares every statement of `text`; lists each that fails to bind or does not only read. */
  async function prepareReadOnly(c: DuckDBConnection, text: string): Promise<DuckDBPreparedStatement[]> {
    const extracted = await c.extractStatements(text);
    const problems: Problem[] = [];
    const prepared: DuckDBPreparedStatement[] = [];
    for (let i = 0; i < extracted.count; i++) {
      const refuse = (message: string) =>
        problems.push({ path: `/statements/${i}`, message: `statement ${i + 1}: ${message}` });
      const p = await extracted.prepare(i).catch((err: unknown) => {
        // Unknown table, types, a path outside the archive: listed, nothing runs.
        const message = (err as Error).message;
        refuse(message.startsWith('Permission Error') ? `outside the archive: ${message}` : message);
        return null;
      });
      if (p === null) continue;
      prepared.push(p);
      if (!READ_ONLY.has(p.statementType)) {
        refuse(
          `${StatementType[p.statementType]} is refused: only reading statements run (SELECT, WITH, EXPLAIN, …)`,
        );
      } else if (
        p.statementType === StatementType.EXPLAIN &&
        !(await explainOnlyReads(c, text, extracted.count))
      ) {
        refuse('EXPLAIN ANALYZE runs its statement: only a lone EXPLAIN ANALYZE SELECT … is allowed');
      }
    }
    if (problems.length > 0)
      throw new AllotError(
        'ALLOT_ERR_VALIDATION',
        'refused: only statements that read the archive run; nothing was run',
        problems,
      );
    return prepared;
  }

  let adhocQueue: Promise<unknown> = Promise.resolve();

  return {
    /** The metric catalog this engine's rollups and reports use (CSV headers, API schema). */
    metrics,
    report,
    hourlyCounts,
    /** Brings the rollups up to date now (reports do it themselves); what it rebuilt. */
    async refresh() {
      await opts.beforeRead?.();
      return serial(() => rollups.refresh());
    },
    /**
     * Read-only ad-hoc SQL over the views `events` (each id once), `events_raw` (as archived),
     * `hourly` and `daily` (the rollups, with their `dt`/`hour` partitions). Every statement must
     * only read (SELECT, WITH, VALUES, EXPLAIN, DESCRIBE, SHOW, SUMMARIZE); otherwise nothing runs
     * and `ALLOT_ERR_VALIDATION` lists each offending statement. Returns the last statement's
     * result with JSON-ready values.
     */
    async sql(text: string): Promise<{ columns: string[]; rows: unknown[][] }> {
      await ensureFresh('day');
      const run = adhocQueue.then(async () => {
        const c = await adhocConnection();
        await createViews(c);
        let result: { columns: string[]; rows: unknown[][] } = { columns: [], rows: [] };
        for (const p of await prepareReadOnly(c, text)) {
          const reader = await p.runAndReadAll();
          result = { columns: reader.columnNames(), rows: reader.getRows().map((r) => r.map(toJson)) };
        }
        return result;
      });
      adhocQueue = run.catch(() => undefined);
      return run;
    },
    /** The deduplicated events of a range as DuckDB SQL over this archive (benchmarks, tests). */
    eventsSql: (fromMs: number, toMs: number): string => dedupedEventsSql(dialect, { fromMs, toMs }),
    async close(): Promise<void> {
      await Promise.all([queue, adhocQueue]);
      if (adhoc !== null) {
        adhoc.connection.closeSync();
        adhoc.instance.closeSync();
      }
      connection.closeSync();
      instance.closeSync();
    },
  } satisfies AnalyticsEngine & Record<string, unknown>;
}

export type DuckDbAnalytics = Awaited<ReturnType<typeof createDuckDbAnalytics>>;
