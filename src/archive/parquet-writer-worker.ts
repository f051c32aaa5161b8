import { workerData } from 'node:worker_threads';
import { serveWorkerRpc } from '../adapters/shared/worker-rpc.js';
import type { AllotEvent } from '../core/events/allot-event.js';
import { type DuckDbSettings, duckDbConfig } from './duckdb-settings.js';
import { createParquetBatchWriter, type StagedFile } from './parquet-batch-writer.js';
import { fromColumns, type WriterPart } from './parquet-writer-thread.js';

/**
 * Worker-thread entry of `parquet-writer-thread.ts`: a Parquet batch writer (DuckDB) on this
 * thread's own event loop. Each staging file is announced before it is written, so that the
 * files of a thread that dies mid-write can be removed; on close, DuckDB is closed. A batch
 * comes in parts, in order (parts of concurrent batches may interleave): they are kept until
 * the last, then written as one batch.
 */
const opts = workerData as { stagingDir: string; duckdb?: DuckDbSettings };
const writer = await createParquetBatchWriter(opts).catch((err: unknown) => {
  const why = err instanceof Error ? err.message : String(err);
  throw new Error(`cannot open DuckDB with ${JSON.stringify(duckDbConfig(opts.duckdb))}: ${why}`);
});
/** Batches whose last part has not come yet, by number. */
const held = new Map<number, { next: number; events: AllotEvent[] }>();
serveWorkerRpc<WriterPart, StagedFile[]>(
  (req, notify) => {
    if (req.part === 0) held.set(req.batch, { next: 0, events: [] });
    const batch = held.get(req.batch);
    if (batch === undefined || batch.next !== req.part) {
      held.delete(req.batch);
      throw new Error(`the archive's writer thread got part ${req.part} of batch ${req.batch} out of order`);
    }
    batch.next++;
    for (const e of fromColumns(req.columns)) batch.events.push(e);
    if (!req.last) return [];
    held.delete(req.batch);
    return writer.writeFiles(batch.events, notify);
  },
  () => writer.close(),
);
