import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, DuckDBTimestampValue } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAthenaAnalytics } from '../../src/analytics/athena-analytics.js';
import { createDuckDbAnalytics, toJson } from '../../src/analytics/duckdb-analytics.js';
import { hourlyCountsSql, partitionFilter, rollupSql } from '../../src/analytics/event-queries.js';
import { defineMetrics, METRICS } from '../../src/analytics/metric-catalog.js';
import { athenaDialect, duckdbDialect, sqlString } from '../../src/analytics/sql-dialect.js';
import type { AllotError } from '../../src/core/errors.js';
import type { AllotEvent, EventType } from '../../src/core/events/allot-event.js';
import type { ReportRow } from '../../src/core/ports/analytics-engine.js';

const H = 3_600_000;
const D = 24 * H;
const T = Date.parse('2026-06-01T22:00:00Z'); // 4 hours from here span midnight: two days
const ALL = { placementId: null, fromMs: T - D, toMs: T + D };
const dirs: string[] = [];
let fixtures: DuckDBConnection;
let fixtureDb: DuckDBInstance;
beforeAll(async () => {
  fixtureDb = await DuckDBInstance.create(':memory:');
  fixtures = await fixtureDb.connect();
});
afterAll(() => {
  fixtures.closeSync();
  fixtureDb.closeSync();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'allot-analytics-'));
  dirs.push(root);
  return root;
}

/** i-th decision: its decision, an impression for 3 in 4, a click for 1 in 5; spread over 4 hours from T. */
function traffic(from: number, to: number, tsOf = (i: number) => T + ((i * 7919) % (4 * H))): AllotEvent[] {
  const out: AllotEvent[] = [];
  for (let i = from; i < to; i++) {
    const base = {
      decisionId: `d${i}`,
      placementId: `p${i % 2}`,
      adId: `a${i % 3}`,
      userId: i % 6 === 0 ? null : `u${i % 13}`,
    };
    const add = (type: EventType, dt: number) =>
      out.push({ ...base, id: `d${i}:${type[0]}`, type, ts: tsOf(i) + dt });
    add('decision', 0);
    if (i % 4 !== 0) add('impression', 5);
    if (i % 5 === 0) add('click', 9);
  }
  return out;
}

/**
 * Archives events the way the archive lays them out — `events/dt=…/hour=…/events-v1-<tag>.parquet`,
 * one file per hour partition — with DuckDB COPY (temp name, then rename).
 */
async function archive(root: string, events: readonly AllotEvent[], tag: string): Promise<void> {
  await fixtures.run(`CREATE OR REPLACE TABLE staged (id VARCHAR, type VARCHAR, ts TIMESTAMP, decision_id VARCHAR,
    placement_id VARCHAR, ad_id VARCHAR, user_id VARCHAR, schema_version INTEGER)`);
  const app = await fixtures.createAppender('staged');
  for (const e of events) {
    for (const v of [e.id, e.type]) app.appendVarchar(v);
    app.appendTimestamp(new DuckDBTimestampValue(BigInt(e.ts) * 1000n));
    for (const v of [e.decisionId, e.placementId, e.adId]) app.appendVarchar(v);
    if (e.userId === null) app.appendNull();
    else app.appendVarchar(e.userId);
    app.appendInteger(1);
    app.endRow();
  }
  app.closeSync();
  for (const hour of new Set(events.map((e) => Math.floor(e.ts / H) * H))) {
    const iso = new Date(hour).toISOString();
    const dir = join(root, 'events', `dt=${iso.slice(0, 10)}`, `hour=${iso.slice(11, 13)}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `events-v1-${tag}.parquet`);
    await fixtures.run(`COPY (SELECT * FROM staged WHERE ts >= make_timestamp(${hour * 1000})
      AND ts < make_timestamp(${(hour + H) * 1000}) ORDER BY id) TO ${sqlString(`${file}.tmp`)} (FORMAT PARQUET, COMPRESSION ZSTD)`);
    renameSync(`${file}.tmp`, file);
  }
}

/** Ground truth in JS: stored metrics per placement|ad|period, each event id once. */
function truth(events: readonly AllotEvent[], unit: number) {
  const rows = new Map<
    string,
    { decisions: number; impressions: number; clicks: number; users: Set<string> }
  >();
  for (const e of new Map(events.map((x) => [x.id, x])).values()) {
    const k = `${e.placementId}|${e.adId}|${new Date(Math.floor(e.ts / unit) * unit).toISOString()}`;
    const r = rows.get(k) ?? { decisions: 0, impressions: 0, clicks: 0, users: new Set<string>() };
    r[`${e.type}s` as 'decisions' | 'impressions' | 'clicks']++;
    if (e.userId !== null) r.users.add(e.userId);
    rows.set(k, r);
  }
  return new Map(
    [...rows].map(([k, r]) => [
      k,
      { decisions: r.decisions, impressions: r.impressions, clicks: r.clicks, uniqueUsers: r.users.size },
    ]),
  );
}

const stored = (rows: ReportRow[]) =>
  new Map(
    rows.map((r) => [
      `${r.placementId}|${r.adId}|${r.period}`,
      {
        decisions: r.metrics.decisions,
        impressions: r.metrics.impressions,
        clicks: r.metrics.clicks,
        uniqueUsers: r.metrics.uniqueUsers,
      },
    ]),
  );

/** Rows of SQL run on a fresh DuckDB, values as the engine converts them. */
async function duckRows(sql: string): Promise<unknown[][]> {
  const reader = await fixtures.runAndReadAll(sql);
  return reader.getRows().map((r) => r.map(toJson));
}

/** Every rollup row of a granularity, sorted: what "identical rollups" means. */
const rollupRows = (root: string, g: 'hourly' | 'daily') =>
  duckRows(
    `SELECT * FROM read_parquet(${sqlString(join(root, 'rollups', g, '**', 'rollup.parquet'))}) ORDER BY ALL`,
  );

describe('DuckDB analytics over the archive', () => {
  it('reports exact hourly and daily metrics, each id once, and the Athena SQL gives the same rows', async () => {
    const events = traffic(0, 3000);
    const root = tempRoot();
    // A crash replay regrouped: events 1500–2599 archived again, in other files.
    await archive(root, events.slice(0, 2000), 'a');
    await archive(root, events.slice(1500, 2600), 'b');
    await archive(root, events.slice(2600), 'c');
    const engine = await createDuckDbAnalytics({ root, minRefreshMs: 0 });
    const hourly = await engine.report({ ...ALL, granularity: 'hour' });
    expect(stored(hourly)).toEqual(truth(events, H));
    const daily = await engine.report({ ...ALL, granularity: 'day' });
    expect(stored(daily)).toEqual(truth(events, D));
    expect([...new Set(daily.map((r) => r.period))]).toEqual([
      '2026-06-01T00:00:00.000Z',
      '2026-06-02T00:00:00.000Z',
    ]);
    for (const r of [...hourly, ...daily]) {
      const m = r.metrics as { decisions: number; impressions: number; clicks: number } & Record<
        string,
        unknown
      >;
      expect(m.ctr).toBe(m.impressions === 0 ? null : m.clicks / m.impressions);
      expect(m.renderRate).toBe(m.impressions / m.decisions);
      const total = (r.period.endsWith('T00:00:00.000Z') && daily.includes(r) ? daily : hourly)
        .filter((x) => x.placementId === r.placementId && x.period === r.period)
        .reduce((s, x) => s + (x.metrics.impressions ?? 0), 0);
      expect(m.share).toBeCloseTo(m.impressions / total, 12);
    }
    // Sorted by placement, period, ad; one placement; a hostile id is one literal, matching nothing.
    const key = (r: ReportRow) => `${r.placementId}|${r.period}|${r.adId}`;
    expect(hourly.map(key)).toEqual(hourly.map(key).sort());
    const p1 = await engine.report({ ...ALL, placementId: 'p1', granularity: 'hour' });
    expect(p1).toEqual(hourly.filter((r) => r.placementId === 'p1'));
    expect(await engine.report({ ...ALL, placementId: "x' OR '1'='1", granularity: 'hour' })).toEqual([]);
    // Reconciliation counts: the hours starting in the range.
    const counts = await engine.hourlyCounts(T + H, T + 3 * H);
    const want = [...truth(events, H)]
      .filter(
        ([k]) =>
          k >= '' && [T + H, T + 2 * H].map((h) => new Date(h).toISOString()).includes(k.split('|')[2]!),
      )
      .map(([k, v]) => {
        const [placementId, adId, period] = k.split('|') as [string, string, string];
        return {
          placementId,
          adId,
          hourStartMs: Date.parse(period),
          decisions: v.decisions,
          impressions: v.impressions,
          clicks: v.clicks,
        };
      })
      .sort((a, b) =>
        `${a.placementId}|${a.adId}|${a.hourStartMs}`.localeCompare(
          `${b.placementId}|${b.adId}|${b.hourStartMs}`,
        ),
      );
    expect(counts).toEqual(want);

    // The Athena engine's SQL, its table swapped for the files, run on DuckDB: the same rows.
    const athena = createAthenaAnalytics({ database: 'allot', table: 'events' });
    const files = duckdbDialect(join(root, 'events', '**', '*.parquet')).events;
    const onDuck = (sql: string) =>
      sql.split(athenaDialect({ database: 'allot', table: 'events' }).events).join(files);
    for (const granularity of ['hour', 'day'] as const) {
      for (const placementId of [null, 'p0']) {
        const q = { ...ALL, placementId, granularity };
        const rows = (await duckRows(onDuck(athena.reportSqlFor(q)))).map(
          (r): ReportRow => ({
            placementId: String(r[0]),
            adId: String(r[1]),
            period: String(r[2]),
            metrics: Object.fromEntries(METRICS.map((m, i) => [m.name, r[3 + i] as number | null])),
          }),
        );
        expect(rows).toEqual(await engine.report(q));
      }
    }
    const athenaCounts = await duckRows(onDuck(athena.hourlyCountsSqlFor(T + H, T + 3 * H)));
    expect(athenaCounts.map((r) => [r[0], r[1], Date.parse(String(r[2])), ...r.slice(3)])).toEqual(
      want.map((c) => [c.placementId, c.adId, c.hourStartMs, c.decisions, c.impressions, c.clicks]),
    );
    await athena.close();
    await engine.close();
  });

  it('refreshes incrementally and idempotently; a late file rebuilds its own hour and day only', async () => {
    const events = traffic(0, 1200);
    const root = tempRoot();
    await archive(root, events, 'a');
    let reads = 0;
    const engine = await createDuckDbAnalytics({
      root,
      minRefreshMs: 0,
      beforeRead: async () => void reads++,
    });
    expect(new Set(events.map((e) => Math.floor(e.ts / H))).size).toBe(3);
    expect(await engine.refresh()).toEqual({ hoursBuilt: 3, daysBuilt: 2 });
    const manifest = readFileSync(join(root, 'rollups', 'manifest.json'), 'utf8');
    const [hourlyBefore, dailyBefore] = [await rollupRows(root, 'hourly'), await rollupRows(root, 'daily')];
    expect(await engine.refresh()).toEqual({ hoursBuilt: 0, daysBuilt: 0 });
    expect(readFileSync(join(root, 'rollups', 'manifest.json'), 'utf8')).toBe(manifest);
    const before = await engine.report({ ...ALL, granularity: 'hour' });

    // Late events of the first hour, archived after it was rolled up; the report itself refreshes.
    const late = traffic(5000, 5040, () => T + 10 * 60_000);
    await archive(root, late, 'late');
    const after = await engine.report({ ...ALL, granularity: 'hour' });
    expect(stored(after)).toEqual(truth([...events, ...late], H));
    expect(after.filter((r) => r.period !== '2026-06-01T22:00:00.000Z')).toEqual(
      before.filter((r) => r.period !== '2026-06-01T22:00:00.000Z'),
    );
    expect(await engine.refresh()).toEqual({ hoursBuilt: 0, daysBuilt: 1 }); // the hour report skipped days
    expect(stored(await engine.report({ ...ALL, granularity: 'day' }))).toEqual(
      truth([...events, ...late], D),
    );

    // Same inputs, same rows: rebuilt from scratch, the rollups are identical.
    const [hourlyNow, dailyNow] = [await rollupRows(root, 'hourly'), await rollupRows(root, 'daily')];
    rmSync(join(root, 'rollups'), { recursive: true });
    expect(await engine.refresh()).toEqual({ hoursBuilt: 3, daysBuilt: 2 });
    expect(await rollupRows(root, 'hourly')).toEqual(hourlyNow);
    expect(await rollupRows(root, 'daily')).toEqual(dailyNow);
    expect(hourlyNow).not.toEqual(hourlyBefore);
    expect(dailyNow.length).toBe(dailyBefore.length);

    // Concurrent reports share one sync and refresh.
    reads = 0;
    await Promise.all(Array.from({ length: 5 }, () => engine.report({ ...ALL, granularity: 'hour' })));
    expect(reads).toBe(1);
    await engine.close();

    // minRefreshMs: within it, a report does not look for new files.
    const lazy = await createDuckDbAnalytics({ root, minRefreshMs: 3_600_000 });
    const first = await lazy.report({ ...ALL, granularity: 'hour' });
    await archive(
      root,
      traffic(6000, 6010, () => T + 20 * 60_000),
      'later',
    );
    expect(await lazy.report({ ...ALL, granularity: 'hour' })).toEqual(first);
    await lazy.close();
  });

  it('two engines sharing a root (a CLI beside a server) refresh concurrently into the same rollups, and a lost race heals', async () => {
    const events = traffic(0, 900);
    const root = tempRoot();
    await archive(root, events, 'a');
    const [a, b] = [
      await createDuckDbAnalytics({ root, minRefreshMs: 0 }),
      await createDuckDbAnalytics({ root, minRefreshMs: 0 }),
    ];
    await Promise.all([a.refresh(), b.refresh()]);
    const want = truth(events, H);
    expect(stored(await a.report({ ...ALL, granularity: 'hour' }))).toEqual(want);
    expect(stored(await b.report({ ...ALL, granularity: 'hour' }))).toEqual(want);

    // The race: a build from the old files is renamed over the new one after the manifest
    // recorded the new one. The next refresh notices the file is not the recorded one.
    const hourFile = join(root, 'rollups', 'hourly', 'dt=2026-06-01', 'hour=22', 'rollup.parquet');
    const stale = join(root, 'stale.parquet');
    copyFileSync(hourFile, stale);
    const late = traffic(7000, 7030, () => T + 5 * 60_000);
    await archive(root, late, 'late');
    expect(await a.refresh()).toEqual({ hoursBuilt: 1, daysBuilt: 1 });
    renameSync(stale, hourFile);
    expect(await b.refresh()).toEqual({ hoursBuilt: 1, daysBuilt: 0 });
    expect(stored(await a.report({ ...ALL, granularity: 'hour' }))).toEqual(truth([...events, ...late], H));
    await Promise.all([a.close(), b.close()]);
  });

  it('adding a metric is one definition: it reaches the rollups, the report rows and ad-hoc SQL', async () => {
    const metrics = defineMetrics([
      ...METRICS,
      {
        name: 'clickedUsers',
        column: 'clicked_users',
        description: 'Distinct users who clicked',
        rollup: 'distinct',
        expression: "count(DISTINCT CASE WHEN type = 'click' THEN user_id END)",
        format: 'count',
      },
    ]);
    const events = traffic(0, 600);
    const root = tempRoot();
    await archive(root, events, 'a');
    const engine = await createDuckDbAnalytics({ root, minRefreshMs: 0, metrics });
    expect(engine.metrics).toBe(metrics);
    for (const [g, unit] of [
      ['day', D],
      ['hour', H],
    ] as const) {
      const rows = await engine.report({ ...ALL, granularity: g });
      const clickers = new Map<string, Set<string>>();
      for (const e of events) {
        if (e.type !== 'click' || e.userId === null) continue;
        const k = `${e.placementId}|${e.adId}|${new Date(Math.floor(e.ts / unit) * unit).toISOString()}`;
        clickers.set(k, (clickers.get(k) ?? new Set()).add(e.userId));
      }
      expect(rows.map((r) => r.metrics.clickedUsers)).toEqual(
        rows.map((r) => clickers.get(`${r.placementId}|${r.adId}|${r.period}`)?.size ?? 0),
      );
      expect(rows.some((r) => (r.metrics.clickedUsers ?? 0) > 1)).toBe(true);
    }
    expect(rollupSql(duckdbDialect('x'), 'hour', ALL, metrics)).toContain('AS clicked_users');
    const sql = await engine.sql('SELECT sum(clicked_users) AS n FROM daily');
    const daily = await engine.report({ ...ALL, granularity: 'day' });
    expect(sql.rows).toEqual([[daily.reduce((s, r) => s + (r.metrics.clickedUsers ?? 0), 0)]]);
    await engine.close();
  });

  it('runs read-only SQL over events, hourly and daily; refuses anything that writes, listing each statement', async () => {
    const events = traffic(0, 300);
    const root = tempRoot();
    await archive(root, events, 'a');
    await archive(root, events.slice(0, 100), 'replay');
    const engine = await createDuckDbAnalytics({ root, minRefreshMs: 0 });
    const r = await engine.sql(
      'SELECT type, count(*) AS n, min(ts) AS first FROM events GROUP BY ALL ORDER BY ALL',
    );
    expect(r.columns).toEqual(['type', 'n', 'first']);
    const ids = (t: EventType) => new Set(events.filter((e) => e.type === t).map((e) => e.id)).size;
    const first = (t: EventType) =>
      new Date(Math.min(...events.filter((e) => e.type === t).map((e) => e.ts))).toISOString();
    expect(r.rows).toEqual(
      ['click', 'decision', 'impression'].map((t) => [t, ids(t as EventType), first(t as EventType)]),
    );
    expect((await engine.sql('SELECT count(*) FROM events_raw')).rows).toEqual([[events.length + 100]]);
    expect(
      (await engine.sql('WITH x AS (SELECT sum(impressions) AS i FROM hourly) SELECT i FROM x')).rows,
    ).toEqual([[ids('impression')]]);
    expect((await engine.sql('EXPLAIN ANALYZE SELECT count(*) FROM events')).columns).toHaveLength(2);
    expect((await engine.sql('DESCRIBE daily')).rows.map((x) => x[0])).toEqual([
      'placement_id',
      'ad_id',
      'period',
      'decisions',
      'impressions',
      'clicks',
      'unique_users',
      'dt',
    ]);

    // Inside the rollups folder, which the locked-down instance may access: only the checks stop it.
    const out = join(root, 'rollups', 'written.csv');
    const refused = async (text: string) => {
      const err = (await engine.sql(text).then(
        () => null,
        (e: unknown) => e,
      )) as { code?: string; problems?: Array<{ path: string; message: string }> } | null;
      expect(err?.code, text).toBe('ALLOT_ERR_VALIDATION');
      return err?.problems?.map((p) => p.path) ?? [];
    };
    for (const bad of [
      `COPY (SELECT 1) TO '${out}'`,
      `EXPLAIN ANALYZE COPY (SELECT 1) TO '${out}'`,
      `EXPLAIN (ANALYZE) COPY (SELECT 1) TO '${out}'`,
      'CREATE TABLE t AS SELECT 1',
      'INSERT INTO events_raw SELECT * FROM events_raw',
      `ATTACH '${join(root, 'x.db')}'`,
      'SET enable_external_access = true',
      "SELECT * FROM read_csv('/etc/hostname')",
    ]) {
      expect(await refused(bad)).toEqual(['/statements/0']);
    }
    expect(await refused(`SELECT 1; DROP VIEW events; COPY (SELECT 2) TO '${out}'`)).toEqual([
      '/statements/1',
      '/statements/2',
    ]);
    expect(await refused(`SELECT 1; EXPLAIN ANALYZE COPY (SELECT 2) TO '${out}'`)).toEqual(['/statements/1']);
    expect(existsSync(out)).toBe(false);
    const copy = (await engine.sql(`COPY (SELECT 1) TO '${out}'`).catch((e: unknown) => e)) as AllotError;
    expect(copy.message).toBe('refused: only statements that read the archive run; nothing was run');
    expect(copy.problems).toEqual([
      {
        path: '/statements/0',
        message: 'statement 1: COPY is refused: only reading statements run (SELECT, WITH, EXPLAIN, …)',
      },
    ]);
    // Nothing ran: the views still answer.
    expect((await engine.sql('SELECT count(*) FROM events')).rows).toEqual([
      [new Set(events.map((e) => e.id)).size],
    ]);
    await engine.close();
  });

  it('an empty archive answers empty reports and SQL, not errors', async () => {
    const engine = await createDuckDbAnalytics({ root: tempRoot(), minRefreshMs: 0 });
    expect(await engine.report({ ...ALL, granularity: 'hour' })).toEqual([]);
    expect(await engine.report({ ...ALL, granularity: 'day' })).toEqual([]);
    expect(await engine.hourlyCounts(ALL.fromMs, ALL.toMs)).toEqual([]);
    expect((await engine.sql('SELECT count(*) FROM events')).rows).toEqual([[0]]);
    expect((await engine.sql('SELECT count(*) FROM hourly')).rows).toEqual([[0]]);
    await engine.close();
  });

  it('the partition filter selects exactly the hour partitions a range overlaps', async () => {
    const start = Date.parse('2026-05-31T00:00:00Z');
    const parts = Array.from({ length: 72 }, (_, i) => new Date(start + i * H).toISOString());
    const table = `(VALUES ${parts.map((p) => `('${p.slice(0, 10)}', '${p.slice(11, 13)}')`).join(', ')}) p(dt, hour)`;
    for (const [from, to] of [
      [start, start + 72 * H],
      [start + 5 * H + 1, start + 5 * H + 2],
      [start + 23 * H + 30 * 60_000, start + 25 * H],
      [start + 22 * H, start + 49 * H + 1],
      [start + 47 * H, start + 48 * H],
    ] as const) {
      const got = await duckRows(
        `SELECT dt || 'T' || hour FROM ${table} WHERE ${partitionFilter({ fromMs: from, toMs: to })} ORDER BY ALL`,
      );
      const want = parts
        .filter((p) => Date.parse(p) + H > from && Date.parse(p) < to)
        .map((p) => p.slice(0, 13));
      expect(
        got.map((x) => x[0]),
        `${new Date(from).toISOString()}..${new Date(to).toISOString()}`,
      ).toEqual(want);
    }
    expect(hourlyCountsSql(duckdbDialect('x'), { fromMs: start, toMs: start + H })).toContain("hour <= '00'");
  });
});
