import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { createFolderArchiveStore } from '../../src/adapters/file/folder-archive-store.js';
import { createAthenaAnalytics } from '../../src/analytics/athena-analytics.js';
import { createDuckDbAnalytics } from '../../src/analytics/duckdb-analytics.js';
import { reportFromEventsSql } from '../../src/analytics/event-queries.js';
import { defineMetrics, METRICS } from '../../src/analytics/metric-catalog.js';
import { athenaDialect, duckdbDialect } from '../../src/analytics/sql-dialect.js';
import { createParquetArchive } from '../../src/archive/parquet-archive.js';
import type { AllotEvent, EventType } from '../../src/core/events/allot-event.js';
import type { ReportRow } from '../../src/core/ports/analytics-engine.js';

const H = 3_600_000;
const T = Date.parse('2026-06-01T22:00:00Z'); // spans midnight: two days
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** i-th decision: its decision, an impression for 3 in 4, a click for 1 in 5; 4 hours from T. */
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

/** Ground truth in JS: the report's stored metrics per placement/ad/period, each id once. */
function truth(events: readonly AllotEvent[], unit: number) {
  const byId = new Map(events.map((e) => [e.id, e]));
  const rows = new Map<
    string,
    { decisions: number; impressions: number; clicks: number; users: Set<string> }
  >();
  for (const e of byId.values()) {
    const period = new Date(Math.floor(e.ts / unit) * unit).toISOString();
    const k = `${e.placementId}|${e.adId}|${period}`;
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

async function archiveOf(batches: AllotEvent[][]) {
  const root = mkdtempSync(join(tmpdir(), 'allot-analytics-'));
  dirs.push(root);
  const archive = await createParquetArchive({
    store: createFolderArchiveStore({ dir: root }),
    stagingDir: join(root, '.staging'),
  });
  for (const b of batches) await archive.write(b);
  await archive.close();
  return {
    root,
    archive: () =>
      createParquetArchive({
        store: createFolderArchiveStore({ dir: root }),
        stagingDir: join(root, '.staging'),
      }),
  };
}

const ALL = { placementId: null, fromMs: T - 24 * H, toMs: T + 24 * H };

describe('DuckDB analytics over the archive', () => {
  it('reports exact hourly and daily metrics, each event id once, with derived ratios and shares', async () => {
    const events = traffic(0, 3000);
    // A crash replay regrouped: events 1000–1999 archived again in other batches.
    const { root } = await archiveOf([events.slice(0, 2000), events.slice(1500, 2600), events.slice(2600)]);
    const engine = await createDuckDbAnalytics({ root, minRefreshMs: 0 });
    const hourly = await engine.report({ ...ALL, granularity: 'hour' });
    expect(stored(hourly)).toEqual(truth(events, H));
    const daily = await engine.report({ ...ALL, granularity: 'day' });
    expect(stored(daily)).toEqual(truth(events, 24 * H));
    expect(new Set(daily.map((r) => r.period))).toEqual(
      new Set(['2026-06-01T00:00:00.000Z', '2026-06-02T00:00:00.000Z']),
    );
    for (const r of hourly) {
      const m = r.metrics;
      expect(m.ctr).toBeCloseTo(m.impressions === 0 ? Number.NaN : m.clicks! / m.impressions!, 9);
      expect(m.renderRate).toBeCloseTo(m.impressions! / m.decisions!, 9);
      const placementTotal = hourly
        .filter((x) => x.placementId === r.placementId && x.period === r.period)
        .reduce((s, x) => s + x.metrics.impressions!, 0);
      expect(m.share).toBeCloseTo(m.impressions! / placementTotal, 9);
    }
    // One placement only, and sorted by placement, period, ad.
    const p1 = await engine.report({ ...ALL, placementId: 'p1', granularity: 'hour' });
    expect(p1.every((r) => r.placementId === 'p1')).toBe(true);
    expect(p1.map((r) => `${r.period}|${r.adId}`)).toEqual(p1.map((r) => `${r.period}|${r.adId}`).sort());
    const hostile = await engine.report({ ...ALL, placementId: "x' OR '1'='1", granularity: 'hour' });
    expect(hostile).toEqual([]);
    await engine.close();
  });

  it('refreshes incrementally and idempotently; a late event lands in its own hour and day', async () => {
    const events = traffic(0, 1200);
    const { root, archive } = await archiveOf([events]);
    const engine = await createDuckDbAnalytics({ root, minRefreshMs: 0 });
    const first = await engine.refresh();
    const hours = new Set(events.map((e) => Math.floor(e.ts / H)));
    expect(hours.size).toBe(3);
    expect(first).toEqual({ hoursBuilt: 3, daysBuilt: 2 });
    const manifest = readFileSync(join(root, 'rollups', 'manifest.json'), 'utf8');
    expect(await engine.refresh()).toEqual({ hoursBuilt: 0, daysBuilt: 0 });
    expect(readFileSync(join(root, 'rollups', 'manifest.json'), 'utf8')).toBe(manifest);
    const before = await engine.report({ ...ALL, granularity: 'hour' });

    // Late events (an impression beacon arriving an hour later is stamped when received; here the
    // archive receives a batch of events from the first hour after others were rolled up).
    const late = traffic(5000, 5040, () => T + 10 * 60_000);
    const writer = await archive();
    await writer.write(late);
    await writer.close();
    expect(await engine.refresh()).toEqual({ hoursBuilt: 1, daysBuilt: 1 });
    const after = await engine.report({ ...ALL, granularity: 'hour' });
    expect(stored(after)).toEqual(truth([...events, ...late], H));
    expect(after.filter((r) => r.period !== '2026-06-01T22:00:00.000Z')).toEqual(
      before.filter((r) => r.period !== '2026-06-01T22:00:00.000Z'),
    );
    await engine.close();
  });

  it('adding a metric is one definition: it reaches rollups, the report and ad-hoc SQL', async () => {
    const catalog = defineMetrics([
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
    const { root } = await archiveOf([events]);
    const engine = await createDuckDbAnalytics({ root, minRefreshMs: 0, catalog });
    const rows = await engine.report({ ...ALL, granularity: 'day' });
    const clickers = new Map<string, Set<string>>();
    for (const e of events) {
      if (e.type !== 'click' || e.userId === null) continue;
      const k = `${e.placementId}|${e.adId}|${new Date(Math.floor(e.ts / (24 * H)) * 24 * H).toISOString()}`;
      clickers.set(k, (clickers.get(k) ?? new Set()).add(e.userId));
    }
    for (const r of rows)
      expect(r.metrics.clickedUsers).toBe(clickers.get(`${r.placementId}|${r.adId}|${r.period}`)?.size ?? 0);
    const sql = await engine.sql('SELECT sum(clicked_users) AS n FROM daily');
    expect(sql.rows[0]![0]).toBe(rows.reduce((s, r) => s + r.metrics.clickedUsers!, 0));
    await engine.close();
  });

  it('runs read-only SQL over events, hourly and daily; refuses anything that writes, listing each statement', async () => {
    const events = traffic(0, 300);
    const { root } = await archiveOf([events, events.slice(0, 100)]);
    const engine = await createDuckDbAnalytics({ root, minRefreshMs: 0 });
    const r = await engine.sql('SELECT type, count(*) AS n FROM events GROUP BY ALL ORDER BY ALL');
    expect(r.columns).toEqual(['type', 'n']);
    const count = (t: EventType) => new Set(events.filter((e) => e.type === t).map((e) => e.id)).size;
    expect(r.rows).toEqual([
      ['click', count('click')],
      ['decision', count('decision')],
      ['impression', count('impression')],
    ]);
    const raw = await engine.sql('SELECT count(*) FROM events_raw');
    expect(raw.rows[0]![0]).toBe(events.length + 100);
    const h = await engine.sql('WITH x AS (SELECT sum(impressions) AS i FROM hourly) SELECT i FROM x');
    expect(h.rows[0]![0]).toBe(count('impression'));
    for (const bad of [
      "COPY (SELECT 1) TO '/tmp/allot-x.csv'",
      'CREATE TABLE t AS SELECT 1',
      "ATTACH '/tmp/allot-x.db'",
      'SELECT 1; DROP VIEW events',
      'SET enable_external_access = true',
    ]) {
      const err = await engine
        .sql(bad)
        .catch((e: unknown) => e as { code: string; problems: Array<{ message: string }> });
      expect((err as { code: string }).code, bad).toBe('ALLOT_ERR_VALIDATION');
    }
    // Into a view: refused before anything runs, with DuckDB's reason.
    const insert = await engine.sql('INSERT INTO events_raw VALUES (1)').catch((e: unknown) => e);
    expect((insert as { code: string }).code).toBe('ALLOT_ERR_VALIDATION');
    const two = await engine
      .sql("CREATE TABLE a AS SELECT 1; COPY a TO '/tmp/allot-y.csv'")
      .catch((e: unknown) => e);
    expect((two as { problems: unknown[] }).problems).toHaveLength(2);
    // Nothing was run: the view still answers.
    expect((await engine.sql('SELECT count(*) FROM events')).rows[0]![0]).toBe(
      new Set(events.map((e) => e.id)).size,
    );
    await engine.close();
  });

  it('an empty archive answers empty reports and SQL, not errors', async () => {
    const root = mkdtempSync(join(tmpdir(), 'allot-analytics-empty-'));
    dirs.push(root);
    const engine = await createDuckDbAnalytics({ root, minRefreshMs: 0 });
    expect(await engine.report({ ...ALL, granularity: 'hour' })).toEqual([]);
    expect(await engine.hourlyCounts(ALL.fromMs, ALL.toMs)).toEqual([]);
    expect((await engine.sql('SELECT count(*) FROM events')).rows).toEqual([[0]]);
    await engine.close();
  });

  it('the SQL Athena runs is the DuckDB SQL with the table swapped, and gives the same rows on DuckDB', async () => {
    const events = traffic(0, 2000);
    const { root } = await archiveOf([events.slice(0, 1500), events.slice(1000)]);
    const engine = await createDuckDbAnalytics({ root, minRefreshMs: 0 });
    const athena = createAthenaAnalytics({ database: 'allot', table: 'events' });
    const duck = duckdbDialect(join(root, 'events', '**', '*.parquet'));
    for (const granularity of ['hour', 'day'] as const) {
      for (const placementId of [null, 'p0']) {
        const q = { placementId, fromMs: ALL.fromMs, toMs: ALL.toMs, granularity };
        const athenaSql = athena.sqlFor(q);
        const duckSql = reportFromEventsSql(duck, granularity, q);
        // The only difference is the dialect's override: where the events are.
        expect(
          athenaSql.replace(athenaDialect({ database: 'allot', table: 'events' }).events, duck.events),
        ).toBe(duckSql);
        // Run the Athena text (table swapped) on DuckDB: same rows as the rollup-based report.
        const instance = await DuckDBInstance.create(':memory:');
        const c = await instance.connect();
        const got = (await c.runAndReadAll(duckSql)).getRowObjectsJson();
        c.closeSync();
        instance.closeSync();
        const viaRollups = await engine.report(q);
        expect(
          got.map((r) => [r.placement_id, r.ad_id, Number(r.impressions), Number(r.unique_users)]),
        ).toEqual(
          viaRollups.map((r) => [r.placementId, r.adId, r.metrics.impressions, r.metrics.uniqueUsers]),
        );
      }
    }
    await athena.close();
    await engine.close();
  });
});
