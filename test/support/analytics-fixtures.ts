import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, DuckDBTimestampValue } from '@duckdb/node-api';
import { afterAll, beforeAll } from 'vitest';
import { toJson } from '../../src/analytics/duckdb-analytics.js';
import { sqlString } from '../../src/analytics/sql-dialect.js';
import type { AllotEvent, EventType } from '../../src/core/events/allot-event.js';
import type { ReportRow } from '../../src/core/ports/analytics-engine.js';

export const H = 3_600_000;
export const D = 24 * H;
export const T = Date.parse('2026-06-01T22:00:00Z'); // 4 hours from here span midnight: two days
export const ALL = { placementId: null, fromMs: T - D, toMs: T + D };
export const dirs: string[] = [];
let fixtures: DuckDBConnection;
let fixtureDb: DuckDBInstance;

/** Call at the top of a test file: a DuckDB for reading fixtures, temp roots removed after. */
export function useAnalyticsFixtures(): void {
  beforeAll(async () => {
    fixtureDb = await DuckDBInstance.create(':memory:');
    fixtures = await fixtureDb.connect();
  });
  afterAll(() => {
    fixtures.closeSync();
    fixtureDb.closeSync();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
}

export function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'allot-analytics-'));
  dirs.push(root);
  return root;
}

/** i-th decision: its decision, an impression for 3 in 4, a click for 1 in 5; spread over 4 hours from T. */
export function traffic(
  from: number,
  to: number,
  tsOf = (i: number) => T + ((i * 7919) % (4 * H)),
): AllotEvent[] {
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
export async function archive(root: string, events: readonly AllotEvent[], tag: string): Promise<void> {
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
export function truth(events: readonly AllotEvent[], unit: number) {
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

export const stored = (rows: ReportRow[]) =>
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
export async function duckRows(sql: string): Promise<unknown[][]> {
  const reader = await fixtures.runAndReadAll(sql);
  return reader.getRows().map((r) => r.map(toJson));
}

/** Every rollup row of a granularity, sorted: what "identical rollups" means. */
export const rollupRows = (root: string, g: 'hourly' | 'daily') =>
  duckRows(
    `SELECT * FROM read_parquet(${sqlString(join(root, 'rollups', g, '**', 'rollup.parquet'))}) ORDER BY ALL`,
  );
