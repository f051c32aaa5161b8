import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AllotEvent } from '../core/events/allot-event.js';
import type { DuckDbSettings } from './duckdb-settings.js';
import type { ParquetBatchWriter, StagedFile } from './parquet-batch-writer.js';

/** Messages to the writer thread (`parquet-writer-worker.ts`). */
export type WriterRequest = { type: 'write'; id: number; events: readonly AllotEvent[] } | { type: 'close' };
/** Its answers: a file about to be written, then the staged files of the write or why it failed. */
export type WriterReply =
  | { id: number; staging: string }
  | { id: number; files: StagedFile[] }
  | { id: number; error: string };

/** The worker's entry next to this file: `.js` once built, `.ts` when run from source. */
const ENTRY = new URL(`./parquet-writer-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

function newWorker(workerData: unknown): Worker {
  if (!ENTRY.pathname.endsWith('.ts')) return new Worker(ENTRY, { workerData });
  // From source (tests, tsx): the main thread's module hooks do not reach a worker on Node 20,
  // so the worker loads its TypeScript entry through tsx's API.
  // (Its ES module build: the CommonJS one does not load when imported.)
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('tsx/package.json');
  const esm = (require(pkg) as { exports: Record<string, { import: { default: string } }> }).exports[
    './esm/api'
  ]?.import.default;
  if (esm === undefined) throw new Error("tsx's package has no ./esm/api export");
  const tsx = pathToFileURL(join(dirname(pkg), esm)).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => m.tsImport(${JSON.stringify(ENTRY.href)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(code, { eval: true, workerData });
}

/** Settles with each write `w` holds. */
function pendingWrites(w: Live): Promise<void>[] {
  return [...w.pending.values()].map((p) => p.done);
}

interface Live {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<
    number,
    {
      resolve: (files: StagedFile[]) => void;
      reject: (err: Error) => void;
      staging: string[];
      done: Promise<void>;
    }
  >;
}

/**
 * A Parquet batch writer on a worker thread of its own, so that the DuckDB appender and the
 * Parquet encoding (several µs per event) leave the event loop that serves decisions: the
 * events are copied over (structured clone, about a microsecond per event) and the staged
 * files come back. Same contract as `createParquetBatchWriter`.
 *
 * A thread that dies (an uncaught error, `terminate`) rejects the writes it held — the archiver
 * acknowledges nothing it did not write, so those batches come again — once the files those
 * writes had staged are removed; the next write starts a new thread. The thread does not keep
 * the process alive while no write is under way.
 */
export async function startParquetWriterThread(opts: {
  stagingDir: string;
  duckdb?: DuckDbSettings;
}): Promise<ParquetBatchWriter & { terminate(): Promise<void> }> {
  let live: Live | null = null;
  let closed = false;
  let nextId = 0;

  const start = (): Live => {
    const worker = newWorker({
      stagingDir: opts.stagingDir,
      ...(opts.duckdb ? { duckdb: opts.duckdb } : {}),
    });
    const pending: Live['pending'] = new Map();
    let onReady: () => void = () => {};
    let onFail: (why: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    ready.catch(() => undefined);
    const self: Live = { worker, ready, pending };
    let stopped = false;
    const stop = (why: Error) => {
      if (stopped) return;
      stopped = true;
      if (live === self) live = null;
      onFail(why);
      // What it was writing is of no use (those batches come again): removed before the writes
      // are rejected, so that a rejected write leaves nothing behind.
      const held = [...pending.values()];
      pending.clear();
      void Promise.all(held.flatMap((p) => p.staging).map((f) => rm(f, { force: true })))
        .catch(() => undefined)
        .finally(() => {
          for (const p of held) p.reject(why);
        });
    };
    worker.on('message', (msg: WriterReply | { ready: true }) => {
      if ('ready' in msg) {
        if (pending.size === 0) worker.unref();
        onReady();
        return;
      }
      const p = pending.get(msg.id);
      if (p === undefined) return;
      if ('staging' in msg) {
        p.staging.push(msg.staging);
        return;
      }
      pending.delete(msg.id);
      if (pending.size === 0) worker.unref();
      if ('files' in msg) p.resolve(msg.files);
      else p.reject(new Error(msg.error));
    });
    worker.on('error', (err) => stop(new Error(`the archive's writer thread failed: ${err.message}`)));
    worker.on('exit', (code) => stop(new Error(`the archive's writer thread stopped (exit code ${code})`)));
    return self; // held (ref) until ready
  };

  live = start();
  await live.ready;

  return {
    async writeFiles(events) {
      if (closed) throw new Error('the archive writer is closed');
      live ??= start();
      const w = live;
      const id = ++nextId;
      let resolve: (files: StagedFile[]) => void = () => {};
      let reject: (err: Error) => void = () => {};
      const files = new Promise<StagedFile[]>((yes, no) => {
        resolve = yes;
        reject = no;
      });
      const done = files.then(
        () => undefined,
        () => undefined,
      );
      // Held from now on (a thread that stops before it is ready rejects it).
      w.pending.set(id, { resolve, reject, staging: [], done });
      w.worker.ref();
      await w.ready.catch(() => undefined);
      if (w.pending.has(id)) w.worker.postMessage({ type: 'write', id, events } satisfies WriterRequest);
      return files;
    },
    async close() {
      closed = true;
      const w = live;
      if (w === null) return;
      const exited = new Promise((resolve) => w.worker.once('exit', resolve));
      // After the writes already made, which are posted once the thread is ready.
      await w.ready.catch(() => undefined);
      w.worker.ref();
      w.worker.postMessage({ type: 'close' } satisfies WriterRequest);
      await exited;
    },
    /**
     * Stops the thread once the writes under way are done, as a crash between writes would (a
     * worker cannot be stopped in the middle of a DuckDB call: the native addon aborts the
     * process); the next write starts a new thread.
     */
    async terminate() {
      const w = live;
      if (w === null) return;
      await Promise.allSettled(pendingWrites(w));
      await w.worker.terminate();
    },
  };
}
