import { parentPort, workerData } from 'node:worker_threads';
import type { AllotEvent } from '../core/events/allot-event.js';
import { type DuckDbSettings, duckDbConfig } from './duckdb-settings.js';
import { createParquetBatchWriter } from './parquet-batch-writer.js';
import type { WriterReply, WriterRequest } from './parquet-writer-thread.js';

/**
 * Worker-thread entry of `parquet-writer-thread.ts`: a Parquet batch writer (DuckDB) on this
 * thread's own event loop. Answers each `{ id, events }` with the staged files or the error;
 * each file is announced (`{ id, staging }`) before it is written, so that the files of a thread
 * that dies mid-write can be removed; `close` closes DuckDB and lets the thread end.
 */
const port = parentPort;
if (port === null) throw new Error('parquet-writer-worker runs as a worker thread');
const opts = workerData as { stagingDir: string; duckdb?: DuckDbSettings };
const writer = await createParquetBatchWriter(opts).catch((err: unknown) => {
  const why = err instanceof Error ? err.message : String(err);
  throw new Error(`cannot open DuckDB with ${JSON.stringify(duckDbConfig(opts.duckdb))}: ${why}`);
});

port.on('message', (msg: WriterRequest) => {
  if (msg.type === 'close') {
    void writer.close().finally(() => port.close());
    return;
  }
  const onStage = (staging: string) => port.postMessage({ id: msg.id, staging } satisfies WriterReply);
  writer.writeFiles(msg.events as AllotEvent[], onStage).then(
    (files) => port.postMessage({ id: msg.id, files } satisfies WriterReply),
    (err: unknown) =>
      port.postMessage({
        id: msg.id,
        error: err instanceof Error ? err.message : String(err),
      } satisfies WriterReply),
  );
});
port.postMessage({ ready: true });
