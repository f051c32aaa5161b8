import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDuckDbAnalytics } from '../../src/analytics/duckdb-analytics.js';
import { hourlyCountsSql, partitionFilter, rollupSql } from '../../src/analytics/event-queries.js';
import { defineMetrics, METRICS } from '../../src/analytics/metric-catalog.js';
import { duckdbDialect } from '../../src/analytics/sql-dialect.js';
import type { AllotError } from '../../src/core/errors.js';
import type { EventType } from '../../src/core/events/allot-event.js';

import {
  ALL,
  archive,
  D,
  duckRows,
  H,
  tempRoot,
  traffic,
  useAnalyticsFixtures,
} from '../support/analytics-fixtures.js';

useAnalyticsFixtures();

describe('DuckDB analytics: metrics and ad-hoc SQL', () => {
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
