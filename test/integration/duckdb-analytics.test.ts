import { copyFileSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAthenaAnalytics } from '../../src/analytics/athena-analytics.js';
import { createDuckDbAnalytics } from '../../src/analytics/duckdb-analytics.js';
import { METRICS } from '../../src/analytics/metric-catalog.js';
import { athenaDialect, duckdbDialect } from '../../src/analytics/sql-dialect.js';
import type { ReportRow } from '../../src/core/ports/analytics-engine.js';

import {
  ALL,
  archive,
  D,
  duckRows,
  H,
  rollupRows,
  stored,
  T,
  tempRoot,
  traffic,
  truth,
  useAnalyticsFixtures,
} from '../support/analytics-fixtures.js';

useAnalyticsFixtures();

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

  it("hourly counts (the reconciliation's) build only the hours asked for, never the open hour", async () => {
    const events = traffic(0, 1200); // three hours: T, T+H, T+2H
    const root = tempRoot();
    await archive(root, events, 'a');
    const engine = await createDuckDbAnalytics({ root, minRefreshMs: 0 });
    const manifestHours = () =>
      Object.keys(JSON.parse(readFileSync(join(root, 'rollups', 'manifest.json'), 'utf8')).hours).sort();
    const counts = await engine.hourlyCounts(T, T + 2 * H);
    expect(manifestHours()).toEqual(['2026-06-01/22', '2026-06-01/23']);
    const key = (placementId: string, adId: string, hourStartMs: number) =>
      `${placementId}|${adId}|${new Date(hourStartMs).toISOString()}`;
    const got = new Map(
      counts.map((c) => [
        key(c.placementId, c.adId, c.hourStartMs),
        { decisions: c.decisions, impressions: c.impressions, clicks: c.clicks },
      ]),
    );
    const want = new Map(
      [
        ...truth(
          events.filter((e) => e.ts < T + 2 * H),
          H,
        ),
      ].map(([k, v]) => [k, { decisions: v.decisions, impressions: v.impressions, clicks: v.clicks }]),
    );
    expect(want.size).toBeGreaterThan(0);
    expect(got).toEqual(want);

    // New events in the open hour: the next run rebuilds nothing; a report builds what it reads.
    await archive(
      root,
      traffic(7000, 7050, () => T + 2 * H + 60_000),
      'open',
    );
    const manifest = readFileSync(join(root, 'rollups', 'manifest.json'), 'utf8');
    await engine.hourlyCounts(T, T + 2 * H);
    expect(readFileSync(join(root, 'rollups', 'manifest.json'), 'utf8')).toBe(manifest);
    expect(await engine.refresh()).toEqual({ hoursBuilt: 1, daysBuilt: 2 });
    expect(manifestHours()).toEqual(['2026-06-01/22', '2026-06-01/23', '2026-06-02/00']);
    await engine.close();
  });

  it('builds a large rollup in passes over slices of its users: the same rows, types and unique users as one pass', async () => {
    const events = traffic(0, 3000);
    const roots = [tempRoot(), tempRoot()];
    for (const root of roots) {
      // A crash replay regrouped: events 1500–2599 archived twice, in other files.
      await archive(root, events.slice(0, 2000), 'a');
      await archive(root, events.slice(1500, 2600), 'b');
      await archive(root, events.slice(2600), 'c');
    }
    const whole = await createDuckDbAnalytics({ root: roots[0]!, minRefreshMs: 0 });
    // ~750 events an hour, ~1,500 a day: 4 to 8 passes each.
    const sliced = await createDuckDbAnalytics({ root: roots[1]!, minRefreshMs: 0, eventsPerPass: 200 });
    expect(await whole.refresh()).toEqual({ hoursBuilt: 4, daysBuilt: 2 });
    expect(await sliced.refresh()).toEqual({ hoursBuilt: 4, daysBuilt: 2 });
    for (const g of ['hourly', 'daily'] as const) {
      const [a, b] = [await rollupRows(roots[0]!, g), await rollupRows(roots[1]!, g)];
      expect(a.length).toBeGreaterThan(0);
      expect(b).toEqual(a);
    }
    expect(stored(await sliced.report({ ...ALL, granularity: 'day' }))).toEqual(truth(events, D));
    expect(stored(await sliced.report({ ...ALL, granularity: 'hour' }))).toEqual(truth(events, H));
    await whole.close();
    await sliced.close();
  });

  it("rebuilds the open hour's rollup at most once per ten times its last build's cost; closed hours always", async () => {
    const root = tempRoot();
    const now = Date.now();
    const openHour = Math.floor(now / H) * H;
    const inOpen = (i: number) => openHour + (i % 1000);
    await archive(root, traffic(0, 300, inOpen), 'open-1');
    await archive(root, traffic(1000, 1300), 'closed-1'); // 2026-06-01: long closed
    // Throttled from the first build on (minMs 0), for a very long time (factor 1e9).
    const engine = await createDuckDbAnalytics({
      root,
      minRefreshMs: 0,
      openRebuild: { factor: 1e9, minMs: 0 },
    });
    const hoursBefore = (await engine.refresh()).hoursBuilt;
    expect(hoursBefore).toBeGreaterThan(1);
    const openRows = async () =>
      stored(
        await engine.report({ placementId: null, fromMs: openHour, toMs: openHour + H, granularity: 'hour' }),
      );
    const first = await openRows();
    expect(first).toEqual(truth(traffic(0, 300, inOpen), H));

    // New files in the open hour and in a closed one: only the closed hour is rebuilt.
    await archive(root, traffic(300, 400, inOpen), 'open-2');
    await archive(
      root,
      traffic(5000, 5020, () => T + 60_000),
      'closed-late',
    );
    expect(await engine.refresh()).toEqual({ hoursBuilt: 1, daysBuilt: 1 }); // and the closed hour's day
    expect(await openRows()).toEqual(first); // as of its last build
    await engine.close();

    // Without the throttle (factor 0), the open hour is current again.
    const eager = await createDuckDbAnalytics({
      root,
      minRefreshMs: 0,
      openRebuild: { factor: 0, minMs: 0 },
    });
    expect(await eager.refresh()).toEqual({ hoursBuilt: 1, daysBuilt: 1 }); // and today's day
    expect(
      stored(
        await eager.report({ placementId: null, fromMs: openHour, toMs: openHour + H, granularity: 'hour' }),
      ),
    ).toEqual(truth(traffic(0, 400, inOpen), H));
    await eager.close();
  });

  it("rebuilds today's rollup at most once per ten times its last build's cost; closed days always", async () => {
    const root = tempRoot();
    // 01:30 on 2026-06-02: hour 00 of that day is closed, hour 01 open, 2026-06-01 closed.
    let clock = T + 3 * H + 30 * 60_000;
    const day2 = T + 2 * H;
    const in00 = (i: number) => day2 + ((i * 7919) % H);
    const in01 = (i: number) => day2 + H + ((i * 7919) % (30 * 60_000));
    const in23 = (i: number) => T + H + ((i * 7919) % H);
    const first = [...traffic(0, 300, in00), ...traffic(300, 500, in01), ...traffic(500, 800, in23)];
    await archive(root, first, 'a');
    // Throttled from the first build on (minMs 0), for a very long time (factor 1e9).
    const engine = await createDuckDbAnalytics({
      root,
      minRefreshMs: 0,
      now: () => clock,
      openRebuild: { factor: 1e9, minMs: 0 },
    });
    const days = async () => stored(await engine.report({ ...ALL, granularity: 'day' }));
    const on = (day: string, rows: Map<string, unknown>) =>
      new Map([...rows].filter(([k]) => k.includes(day)));
    expect(await engine.refresh()).toEqual({ hoursBuilt: 3, daysBuilt: 2 });
    const before = await days();
    expect(before).toEqual(truth(first, D));

    // Late events in today's closed hour and in yesterday: both hours are rebuilt (closed hours
    // are current) and yesterday too; today is kept as of its last build.
    const late = [...traffic(1000, 1100, in00), ...traffic(1100, 1150, in23)];
    await archive(root, late, 'late');
    expect(await engine.refresh()).toEqual({ hoursBuilt: 2, daysBuilt: 1 });
    const all = [...first, ...late];
    expect(stored(await engine.report({ ...ALL, granularity: 'hour' }))).toEqual(truth(all, H));
    const throttled = await days();
    expect(on('2026-06-02', throttled)).toEqual(on('2026-06-02', before));
    expect(on('2026-06-02', truth(all, D))).not.toEqual(on('2026-06-02', before));
    expect(on('2026-06-01', throttled)).toEqual(on('2026-06-01', truth(all, D)));

    // The next morning 2026-06-02 is closed: current again, whatever its last build.
    clock = T + D + 3 * H;
    const later = traffic(2000, 2050, in01);
    await archive(root, later, 'later');
    expect(await engine.refresh()).toEqual({ hoursBuilt: 1, daysBuilt: 1 });
    expect(await days()).toEqual(truth([...all, ...later], D));
    await engine.close();
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
});
