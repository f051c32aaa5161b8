import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { EventType } from '../../src/core/events/allot-event.js';

/** Archived counts per placement × ad × event type (one row per event id). */
export interface ArchivedCount {
  placementId: string;
  adId: string;
  type: EventType;
  events: number;
}

/**
 * Ground truth for tests: what the Parquet files under `<localDir>/events/` hold, each event id
 * once (DISTINCT ON id), per placement/ad/type, sorted; only events with `fromMs <= ts < toMs`
 * when given. [] when there are no files yet. Its own DuckDB, opened and closed per call.
 */
export async function archiveCounts(
  localDir: string,
  fromMs?: number,
  toMs?: number,
): Promise<ArchivedCount[]> {
  const root = join(localDir, 'events');
  const any = (() => {
    try {
      return readdirSync(root, { recursive: true }).some((f) => String(f).endsWith('.parquet'));
    } catch {
      return false;
    }
  })();
  if (!any) return [];
  const glob = join(root, '**', '*.parquet').replaceAll("'", "''");
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const where = [
      ...(fromMs === undefined ? [] : ['ts >= make_timestamp($from * 1000)']),
      ...(toMs === undefined ? [] : ['ts < make_timestamp($to * 1000)']),
    ];
    const reader = await connection.runAndReadAll(
      `SELECT placement_id, ad_id, type, count(*) AS n
         FROM (SELECT DISTINCT ON (id) * FROM read_parquet('${glob}', hive_partitioning = true))
         ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
         GROUP BY ALL ORDER BY ALL`,
      { ...(fromMs === undefined ? {} : { from: fromMs }), ...(toMs === undefined ? {} : { to: toMs }) },
    );
    return reader.getRows().map(([placementId, adId, type, n]) => ({
      placementId: String(placementId),
      adId: String(adId),
      type: String(type) as EventType,
      events: Number(n),
    }));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
