import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { AllotEvent } from '../core/events/allot-event.js';
import type { ArchiveStore } from '../core/ports/archive-store.js';
import { type DuckDbSettings, duckDbConfig } from './duckdb-settings.js';

const HOUR_MS = 3_600_000;

/** Rows appended between yields to the event loop. */
const APPEND_SLICE = 2000;

/** Version of the archived event schema (a column of every file, and part of file names). */
export const ARCHIVE_SCHEMA_VERSION = 1;

/** Where event files live in the store (rollups live under `rollups/`). */
export const EVENTS_PREFIX = 'events/';

/**
 * Events as Parquet files in an archive store (local folder or S3), Hive-partitioned by UTC
 * date and hour under `events/` (`events/dt=YYYY-MM-DD/hour=HH/events-v<schema>-<hash>.parquet`),
 * written with DuckDB; fed by `archiver.ts`. Reading is the analytics' job.
 *
 * A batch becomes one file per partition: DuckDB writes it into `stagingDir`, the store puts it
 * under its key (atomically: a reader never sees half a file), and the staging file is removed
 * whether the put succeeded or not. The name is a hash of the batch's event ids, so a batch
 * replayed whole replaces its own file instead of adding one; a batch replayed in another
 * grouping (after a crash) can repeat rows across files, which reads drop (one row per event
 * id). Columns: id, type, ts (UTC timestamp, ms), decision_id, placement_id, ad_id, user_id,
 * schema_version (INTEGER); ZSTD; dt and hour from the path.
 *
 * Writes are serialised (one DuckDB connection); a failed write rejects without blocking the
 * next. The store stays the caller's: `close` does not close it.
 */
export async function createParquetArchive(opts: {
  store: ArchiveStore;
  stagingDir: string;
  /** Memory and threads of its DuckDB instance. */
  duckdb?: DuckDbSettings;
}) {
  await mkdir(opts.stagingDir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', duckDbConfig(opts.duckdb));
  const connection = await instance.connect();
  let writing: Promise<unknown> = Promise.resolve();

  async function writeBatch(events: readonly AllotEvent[]): Promise<string[]> {
    // By UTC hour number (a date string per event cost more than the rest of this loop).
    const byHour = new Map<number, AllotEvent[]>();
    for (const e of events) {
      const hour = Math.floor(e.ts / HOUR_MS);
      let list = byHour.get(hour);
      if (list === undefined) {
        list = [];
        byHour.set(hour, list);
      }
      list.push(e);
    }
    const written: string[] = [];
    for (const [hour, list] of byHour) {
      const iso = new Date(hour * HOUR_MS).toISOString();
      const partition = `dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
      const ids = list.map((e) => e.id).sort();
      const hash = createHash('sha1').update(ids.join('\n')).digest('hex').slice(0, 20);
      const key = `${EVENTS_PREFIX}${partition}/events-v${ARCHIVE_SCHEMA_VERSION}-${hash}.parquet`;
      // Unique per write: several archives (processes) may share a staging folder.
      const staging = join(
        opts.stagingDir,
        `${hash}-${process.pid}-${randomBytes(4).toString('hex')}.parquet`,
      );
      try {
        await copyToParquet(connection, list, staging);
        await opts.store.put(key, staging);
      } finally {
        await rm(staging, { force: true });
      }
      written.push(key);
    }
    return written;
  }

  return {
    /** Writes a batch (one file per partition it spans); returns the store keys written. */
    write(events: readonly AllotEvent[]): Promise<string[]> {
      // One DuckDB connection: batches are written one after another.
      const run = writing.then(() => writeBatch(events));
      writing = run.catch(() => undefined);
      return run;
    },

    /** Waits for the writes under way, then releases DuckDB. */
    async close(): Promise<void> {
      await writing;
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/**
 * Appends the events to a fresh temporary table and COPYs it to one Parquet file. (Writing the
 * batch as NDJSON for DuckDB's `read_json` instead, to get the conversion off the event loop,
 * was measured worse: 11 vs 8.5 µs of CPU and 6.6 vs 5.2 µs of event-loop time per event,
 * 95K vs 128K events/s — building and writing the text costs more than the appender's calls.)
 */
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
