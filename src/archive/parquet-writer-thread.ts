import { rm } from 'node:fs/promises';
import { startWorkerRpc, workerEntry } from '../adapters/shared/worker-rpc.js';
import type { AllotEvent } from '../core/events/allot-event.js';
import type { DuckDbSettings } from './duckdb-settings.js';
import type { ParquetBatchWriter, StagedFile } from './parquet-batch-writer.js';

/**
 * A Parquet batch writer on a worker thread of its own (`parquet-writer-worker.ts`), so that
 * the DuckDB appender and the Parquet encoding (several µs per event) leave the event loop that
 * serves decisions: the events are copied over (structured clone, about a microsecond per
 * event) and the staged files come back. Same contract as `createParquetBatchWriter`.
 *
 * A thread that dies rejects the writes it held — the archiver acknowledges nothing it did not
 * write, so those batches come again — once the files those writes had staged (each announced
 * before it is written) are removed; the next write starts a new thread.
 */
export async function startParquetWriterThread(opts: {
  stagingDir: string;
  duckdb?: DuckDbSettings;
}): Promise<ParquetBatchWriter & { terminate(): Promise<void> }> {
  const rpc = await startWorkerRpc<readonly AllotEvent[], StagedFile[]>({
    entry: workerEntry(import.meta.url, 'parquet-writer-worker'),
    workerData: opts,
    name: "the archive's writer thread",
    onLost: async (staged) => {
      await Promise.all(staged.map((file) => rm(String(file), { force: true })));
    },
  });
  return {
    writeFiles: (events) => rpc.call(events),
    close: () => rpc.close(),
    terminate: () => rpc.terminate(),
  };
}
