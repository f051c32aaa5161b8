import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { AllotEvent } from '../core/events/allot-event.js';
import type { ArchiveStore } from '../core/ports/archive-store.js';
import { type DuckDbSettings, duckDbConfig } from './duckdb-settings.js';

const HOUR_MS = 3_600_000;

/** Events encoded between yields to the event loop. */
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
 * Writes the events as newline-delimited JSON next to `file`, then has DuckDB COPY that to one
 * Parquet file. The JSON lines are the only work on the event loop (~1 µs an event, built in
 * slices); the file write runs on libuv's pool and the conversion inside DuckDB's own threads
 * (`connection.run` is asynchronous), so a large batch no longer blocks the decisions served by
 * the same process the way row-by-row appending did (a synchronous `appender.closeSync()` of
 * 10–20 ms per batch, ~7 % of a saturated embedded server).
 */
async function copyToParquet(connection: DuckDBConnection, events: readonly AllotEvent[], file: string) {
  const lines = `${file}.ndjson`;
  const chunks: string[] = [];
  for (let from = 0; from < events.length; from += APPEND_SLICE) {
    if (from > 0) await new Promise((r) => setImmediate(r));
    const to = Math.min(events.length, from + APPEND_SLICE);
    let chunk = '';
    for (let i = from; i < to; i++) {
      const e = events[i]!;
      // Only the archived fields, whatever else a bus put on the object.
      chunk += `${JSON.stringify({ i: e.id, y: e.type, t: e.ts, d: e.decisionId, p: e.placementId, a: e.adId, u: e.userId })}\n`;
    }
    chunks.push(chunk);
  }
  await writeFile(lines, chunks);
  try {
    await connection.run(
      `COPY (SELECT i AS id, y AS type, make_timestamp(t * 1000) AS ts, d AS decision_id, p AS placement_id,
               a AS ad_id, u AS user_id, ${ARCHIVE_SCHEMA_VERSION}::INTEGER AS schema_version
             FROM read_json(${sqlString(lines)}, format = 'newline_delimited',
               columns = {i: 'VARCHAR', y: 'VARCHAR', t: 'BIGINT', d: 'VARCHAR', p: 'VARCHAR', a: 'VARCHAR', u: 'VARCHAR'})
             ORDER BY ts)
       TO ${sqlString(file)} (FORMAT PARQUET, COMPRESSION ZSTD)`,
    );
  } finally {
    await rm(lines, { force: true });
  }
}

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;
