import { createHash } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { AllotEvent } from '../core/events/allot-event.js';

/** Rows appended between yields to the event loop. */
const APPEND_SLICE = 2000;

/** Version of the archived event schema (a column of every file, and part of file names). */
export const ARCHIVE_SCHEMA_VERSION = 1;

/** Archived counts per placement × ad × event type (one row per event id). */
export interface ArchivedCount {
  placementId: string;
  adId: string;
  type: AllotEvent['type'];
  events: number;
}

/**
 * Events as Parquet in a local folder, Hive-partitioned by UTC date and hour
 * (`dt=YYYY-MM-DD/hour=HH/`), written and read with DuckDB; fed by `archiver.ts`.
 *
 * A batch becomes one file per partition, written under a temporary name and renamed into
 * place (a reader never sees half a file). The name is a hash of the batch's event ids, so a
 * batch replayed whole replaces its own file instead of adding one; a batch replayed in another
 * grouping (after a crash) can repeat rows across files, which reads drop (one row per event
 * id). Columns: id, type, ts (UTC timestamp, ms),
 * decision_id, placement_id, ad_id, user_id, schema_version; dt and hour from the path.
 */
export async function createParquetArchive(opts: { dir: string }) {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const glob = join(opts.dir, '**', '*.parquet').replaceAll("'", "''");
  let writing: Promise<unknown> = Promise.resolve();

  async function writeBatch(events: readonly AllotEvent[]): Promise<string[]> {
    const byPartition = new Map<string, AllotEvent[]>();
    for (const e of events) {
      const iso = new Date(e.ts).toISOString();
      const key = `dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
      let list = byPartition.get(key);
      if (list === undefined) {
        list = [];
        byPartition.set(key, list);
      }
      list.push(e);
    }
    const written: string[] = [];
    for (const [partition, list] of byPartition) {
      const ids = list.map((e) => e.id).sort();
      const hash = createHash('sha1').update(ids.join('\n')).digest('hex').slice(0, 20);
      const folder = join(opts.dir, partition);
      const file = join(folder, `events-v${ARCHIVE_SCHEMA_VERSION}-${hash}.parquet`);
      const tmp = join(folder, `.tmp-${hash}-${process.pid}.parquet`);
      await mkdir(folder, { recursive: true });
      await copyToParquet(connection, list, tmp);
      await rename(tmp, file).catch(async (err: unknown) => {
        await rm(tmp, { force: true });
        throw err;
      });
      written.push(file);
    }
    return written;
  }

  return {
    /** Writes a batch (one file per partition it spans); returns the files written. */
    write(events: readonly AllotEvent[]): Promise<string[]> {
      // One DuckDB connection: batches are written one after another.
      const run = writing.then(() => writeBatch(events));
      writing = run.catch(() => undefined);
      return run;
    },

    /** Exact counts over [fromMs, toMs), each event id once, from the files' contents. */
    counts(fromMs: number, toMs: number): Promise<ArchivedCount[]> {
      // Queued behind writes: the connection serves one statement sequence at a time.
      const run = writing.then(() => readCounts(fromMs, toMs));
      writing = run.catch(() => undefined);
      return run;
    },

    async close(): Promise<void> {
      await writing;
      connection.closeSync();
      instance.closeSync();
    },
  };

  async function readCounts(fromMs: number, toMs: number): Promise<ArchivedCount[]> {
    const reader = await connection.runAndReadAll(
      `SELECT placement_id, ad_id, type, count(*) AS n
         FROM (SELECT DISTINCT ON (id) * FROM read_parquet('${glob}', hive_partitioning = true))
         WHERE ts >= make_timestamp($from * 1000) AND ts < make_timestamp($to * 1000)
         GROUP BY ALL ORDER BY ALL`,
      { from: fromMs, to: toMs },
    );
    return reader.getRows().map(([placementId, adId, type, n]) => ({
      placementId: String(placementId),
      adId: String(adId),
      type: String(type) as AllotEvent['type'],
      events: Number(n),
    }));
  }
}

/** Appends the events to a fresh temporary table and COPYs it to one Parquet file. */
async function copyToParquet(connection: DuckDBConnection, events: readonly AllotEvent[], file: string) {
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE batch (id VARCHAR, type VARCHAR, ts_ms BIGINT, decision_id VARCHAR,
       placement_id VARCHAR, ad_id VARCHAR, user_id VARCHAR)`,
  );
  const appender = await connection.createAppender('batch');
  let row = 0;
  for (const e of events) {
    // Appending is synchronous: yield now and then, so a large batch does not hold up the
    // decisions served by the same process.
    if (++row % APPEND_SLICE === 0) await new Promise((r) => setImmediate(r));
    appender.appendVarchar(e.id);
    appender.appendVarchar(e.type);
    appender.appendBigInt(BigInt(e.ts));
    appender.appendVarchar(e.decisionId);
    appender.appendVarchar(e.placementId);
    appender.appendVarchar(e.adId);
    if (e.userId === null) appender.appendNull();
    else appender.appendVarchar(e.userId);
    appender.endRow();
  }
  appender.closeSync();
  await connection.run(
    `COPY (SELECT id, type, make_timestamp(ts_ms * 1000) AS ts, decision_id, placement_id, ad_id, user_id,
             ${ARCHIVE_SCHEMA_VERSION}::INTEGER AS schema_version
           FROM batch ORDER BY ts)
     TO '${file.replaceAll("'", "''")}' (FORMAT PARQUET, COMPRESSION ZSTD)`,
  );
}
