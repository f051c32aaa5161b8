// The archiver of the pipeline bench's `split` phase, in a worker thread of its own: what a
// second `pipeline` process with `ALLOT_PIPELINE_STAGES=archive` runs, on its own event loop.
// Protocol with the main thread: it posts `ready` once its bus and archive are open, starts on
// `start`, posts `done` when it has written `events` events, and on `stop` stops, closes and exits.
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { createFolderArchiveStore } from '../../src/adapters/file/folder-archive-store.js';
import { startArchiver } from '../../src/archive/archiver.js';
import { createParquetArchive } from '../../src/archive/parquet-archive.js';
import { type BusPlace, openBus } from './open-bus.js';

const data = workerData as BusPlace & { dir: string; events: number; flushMs: number };
const port = parentPort!;
/** Connections to close last (after the bus). */
const closers: Array<() => Promise<unknown>> = [];
let stopArchiver: () => Promise<void> = async () => undefined;
const bus = await openBus(data, { onClose: (fn) => closers.push(fn) });
const archive = await createParquetArchive({
  store: createFolderArchiveStore({ dir: join(data.dir, 'archive') }),
  stagingDir: join(data.dir, 'staging-thread'),
});
port.postMessage({ type: 'ready' });
port.on('message', async (m: { type: string }) => {
  if (m.type === 'start') {
    let written = 0;
    const archiver = startArchiver({
      bus,
      archive,
      lingerMs: data.flushMs,
      onWritten: (n) => {
        written += n;
        if (written >= data.events) port.postMessage({ type: 'done', written });
      },
    });
    stopArchiver = () => archiver.stop();
  } else if (m.type === 'stop') {
    await stopArchiver();
    await archive.close();
    await bus.close();
    for (const close of closers) await close();
    port.postMessage({ type: 'stopped' });
    port.close();
  }
});
