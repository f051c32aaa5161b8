import { workerData } from 'node:worker_threads';
import { serveWorkerRpc } from '../adapters/shared/worker-rpc.js';
import { type DuckDbSettings, duckDbConfig } from './duckdb-settings.js';
import { createParquetBatchWriter, type StagedFile } from './parquet-batch-writer.js';
import { type EventColumns, fromColumns } from './parquet-writer-thread.js';

/**
 * Worker-thread entry of `parquet-writer-thread.ts`: a Parquet batch writer (DuckDB) on this
 * thread's own event loop. Each staging file is announced before it is written, so that the
 * files of a thread that dies mid-write can be removed; on close, DuckDB is closed.
 */
const opts = workerData as { stagingDir: string; duckdb?: DuckDbSettings };
const writer = await createParquetBatchWriter(opts).catch((err: unknown) => {
  const why = err instanceof Error ? err.message : String(err);
  throw new Error(`cannot open DuckDB with ${JSON.stringify(duckDbConfig(opts.duckdb))}: ${why}`);
});
serveWorkerRpc<EventColumns, StagedFile[]>(
  (columns, notify) => writer.writeFiles(fromColumns(columns), notify),
  () => writer.close(),
);
