import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parentPort, Worker } from 'node:worker_threads';

/** Main thread → worker. */
type ToWorker = { type: 'call'; id: number; req: unknown } | { type: 'close' };
/** Worker → main thread: ready once started; per call, notices, then a reply or an error. */
type FromWorker =
  | { ready: true }
  | { id: number; notice: unknown }
  | { id: number; reply: unknown }
  | { id: number; error: string };

/**
 * The worker entry `name` next to the module at `moduleUrl`, with that module's extension:
 * `.js` once built, `.ts` when run from source (tests, tsx).
 */
export function workerEntry(moduleUrl: string, name: string): URL {
  return new URL(`./${name}${extname(fileURLToPath(moduleUrl))}`, moduleUrl);
}

function newWorker(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData });
  // From source: the main thread's module hooks (tsx) do not reach a worker on Node 20, so the
  // worker loads its TypeScript entry through tsx's API (its ES module build: the CommonJS one
  // does not load when imported).
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('tsx/package.json');
  const esm = (require(pkg) as { exports: Record<string, { import: { default: string } }> }).exports[
    './esm/api'
  ]?.import.default;
  if (esm === undefined) throw new Error("tsx's package has no ./esm/api export");
  const tsx = pathToFileURL(join(dirname(pkg), esm)).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => m.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(code, { eval: true, workerData });
}

export interface WorkerRpc<Req, Res> {
  /** Runs `req` on the worker thread; `onNotice` hears what it reports on the way. */
  call(req: Req, onNotice?: (notice: unknown) => void): Promise<Res>;
  /** Lets the calls made so far finish, then ends the thread; later calls throw. */
  close(): Promise<void>;
  /**
   * Ends the thread once the calls under way are answered, as a crash between calls would (a
   * thread cannot be stopped in the middle of a native call: an addon may abort the process);
   * the next call starts a new thread.
   */
  terminate(): Promise<void>;
}

interface Held {
  resolve: (res: unknown) => void;
  reject: (err: Error) => void;
  notices: unknown[];
  onNotice: ((notice: unknown) => void) | undefined;
  done: Promise<void>;
}

interface Live {
  worker: Worker;
  ready: Promise<void>;
  held: Map<number, Held>;
}

/**
 * Calls into a worker thread (`serveWorkerRpc` on its side) with replies as promises. The
 * thread starts now (this resolves once it is ready, or rejects with why it could not start);
 * it keeps the process alive only while a call is under way. A thread that dies (an uncaught
 * error, `terminate`) rejects the calls it held — after `onLost` has had their notices, to clean
 * up after them — and the next call starts a new thread.
 */
export async function startWorkerRpc<Req, Res>(opts: {
  entry: URL;
  workerData?: unknown;
  /** What the thread is, for errors: "the archive's writer thread". */
  name: string;
  onLost?: (notices: unknown[]) => Promise<void>;
}): Promise<WorkerRpc<Req, Res>> {
  let live: Live | null = null;
  let closed = false;
  let nextId = 0;

  const start = (): Live => {
    const worker = newWorker(opts.entry, opts.workerData);
    const held = new Map<number, Held>();
    let onReady: () => void = () => {};
    let onFail: (why: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    ready.catch(() => undefined);
    const self: Live = { worker, ready, held };
    let stopped = false;
    const stop = (why: Error) => {
      if (stopped) return;
      stopped = true;
      if (live === self) live = null;
      onFail(why);
      const lost = [...held.values()];
      held.clear();
      void (opts.onLost?.(lost.flatMap((h) => h.notices)) ?? Promise.resolve())
        .catch(() => undefined)
        .finally(() => {
          for (const h of lost) h.reject(why);
        });
    };
    worker.on('message', (msg: FromWorker) => {
      if ('ready' in msg) {
        if (held.size === 0) worker.unref();
        onReady();
        return;
      }
      const h = held.get(msg.id);
      if (h === undefined) return;
      if ('notice' in msg) {
        h.notices.push(msg.notice);
        h.onNotice?.(msg.notice);
        return;
      }
      held.delete(msg.id);
      if (held.size === 0) worker.unref();
      if ('reply' in msg) h.resolve(msg.reply);
      else h.reject(new Error(msg.error));
    });
    worker.on('error', (err) => stop(new Error(`${opts.name} failed: ${err.message}`)));
    worker.on('exit', (code) => stop(new Error(`${opts.name} stopped (exit code ${code})`)));
    return self; // held (ref) until ready
  };

  live = start();
  await live.ready;

  return {
    async call(req, onNotice) {
      if (closed) throw new Error(`${opts.name} is closed`);
      live ??= start();
      const w = live;
      const id = ++nextId;
      let resolve: (res: unknown) => void = () => {};
      let reject: (err: Error) => void = () => {};
      const reply = new Promise<unknown>((yes, no) => {
        resolve = yes;
        reject = no;
      });
      const done = reply.then(
        () => undefined,
        () => undefined,
      );
      // Held from now on (a thread that stops before it is ready rejects it).
      w.held.set(id, { resolve, reject, notices: [], onNotice, done });
      w.worker.ref();
      await w.ready.catch(() => undefined);
      if (w.held.has(id)) w.worker.postMessage({ type: 'call', id, req } satisfies ToWorker);
      return reply as Promise<Res>;
    },
    async close() {
      closed = true;
      const w = live;
      if (w === null) return;
      const exited = new Promise((resolve) => w.worker.once('exit', resolve));
      // After the calls already made, which are posted once the thread is ready.
      await w.ready.catch(() => undefined);
      w.worker.ref();
      w.worker.postMessage({ type: 'close' } satisfies ToWorker);
      await exited;
    },
    async terminate() {
      const w = live;
      if (w === null) return;
      await Promise.allSettled([...w.held.values()].map((h) => h.done));
      await w.worker.terminate();
    },
  };
}

/**
 * The worker side of `startWorkerRpc`: answers each call with `handle`'s result (or its error's
 * message); `notify` reports on the way. On close, `onClose` runs, then the thread may end.
 */
export function serveWorkerRpc<Req, Res>(
  handle: (req: Req, notify: (notice: unknown) => void) => Promise<Res> | Res,
  onClose: () => Promise<void> = async () => undefined,
): void {
  const port = parentPort;
  if (port === null) throw new Error('serveWorkerRpc runs on a worker thread');
  const post = (msg: FromWorker) => port.postMessage(msg);
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'close') {
      void onClose().finally(() => port.close());
      return;
    }
    const { id } = msg;
    Promise.resolve()
      .then(() => handle(msg.req as Req, (notice) => post({ id, notice })))
      .then(
        (reply) => post({ id, reply }),
        (err: unknown) => post({ id, error: err instanceof Error ? err.message : String(err) }),
      );
  });
  post({ ready: true });
}
