import { rm } from 'node:fs/promises';
import type { AllotEvent } from '../core/events/allot-event.js';
import type { ArchiveStore } from '../core/ports/archive-store.js';
import type { DuckDbSettings } from './duckdb-settings.js';
import { createParquetBatchWriter, type ParquetBatchWriter } from './parquet-batch-writer.js';
import { startParquetWriterThread } from './parquet-writer-thread.js';

export { ARCHIVE_SCHEMA_VERSION, EVENTS_PREFIX } from './parquet-batch-writer.js';

/**
 * Events as Parquet files in an archive store (local folder or S3), Hive-partitioned by UTC
 * date and hour under `events/` (`events/dt=YYYY-MM-DD/hour=HH/events-v<schema>-<hash>.parquet`),
 * written with DuckDB; fed by `archiver.ts`. Reading is the analytics' job.
 *
 * A batch becomes one file per partition: DuckDB writes it into `stagingDir`
 * (`parquet-batch-writer.ts`, on a worker thread of its own with `thread: true`), the store puts
 * it under its key (atomically: a reader never sees half a file), and the staging file is
 * removed whether the put succeeded or not. The name is a hash of the batch's event ids, so a
 * batch replayed whole replaces its own file instead of adding one; a batch replayed in another
 * grouping (after a crash) can repeat rows across files, which reads drop (one row per event
 * id). Columns: id, type, ts (UTC timestamp, ms), decision_id, placement_id, ad_id, user_id,
 * schema_version (INTEGER); ZSTD; dt and hour from the path.
 *
 * Writes are serialised; a failed write rejects without blocking the next. The store stays the
 * caller's: `close` does not close it.
 */
export async function createParquetArchive(opts: {
  store: ArchiveStore;
  stagingDir: string;
  /** Memory and threads of its DuckDB instance. */
  duckdb?: DuckDbSettings;
  /** Write the Parquet on a worker thread, off the caller's event loop (servers do). */
  thread?: boolean;
}) {
  const writerOpts = { stagingDir: opts.stagingDir, ...(opts.duckdb ? { duckdb: opts.duckdb } : {}) };
  const writer: ParquetBatchWriter = opts.thread
    ? await startParquetWriterThread(writerOpts)
    : await createParquetBatchWriter(writerOpts);
  let writing: Promise<unknown> = Promise.resolve();

  async function writeBatch(events: readonly AllotEvent[]): Promise<string[]> {
    const staged = await writer.writeFiles(events);
    try {
      for (const { key, file } of staged) await opts.store.put(key, file);
    } finally {
      await Promise.all(staged.map(({ file }) => rm(file, { force: true })));
    }
    return staged.map(({ key }) => key);
  }

  return {
    /** Writes a batch (one file per partition it spans); returns the store keys written. */
    write(events: readonly AllotEvent[]): Promise<string[]> {
      const run = writing.then(() => writeBatch(events));
      writing = run.catch(() => undefined);
      return run;
    },

    /** Waits for the writes under way, then releases DuckDB (and its thread). */
    async close(): Promise<void> {
      await writing;
      await writer.close();
    },
  };
}
