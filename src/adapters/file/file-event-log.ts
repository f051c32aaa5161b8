import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AllotError } from '../../core/errors.js';
import type { AllotEvent, EventType } from '../../core/events/allot-event.js';

/** Events per replayed chunk. */
const REPLAY_CHUNK = 5000;
const SEGMENT = /^events-(\d{12})\.log$/;
const TYPES: ReadonlySet<string> = new Set<EventType>(['decision', 'impression', 'click']);

interface Segment {
  seq: number;
  path: string;
  /** Complete events in the file. */
  events: number;
  bytes: number;
}

export interface EventLogStats {
  segments: number;
  bytes: number;
  /** Events logged and not yet reported archived. */
  unarchived: number;
  /** Write + fdatasync rounds so far (each commits every append that was waiting). */
  syncs: number;
}

export interface EventLog {
  /** Resolves once the events are on disk (fdatasync), together with every append waiting. */
  append(events: readonly AllotEvent[]): Promise<void>;
  /** The events logged before this process opened the log, oldest first, in chunks. */
  replay(): AsyncIterable<AllotEvent[]>;
  /**
   * The next `count` logged events (in log order, replayed ones first) are archived: segments
   * wholly archived are deleted, except the one being written.
   */
  archived(count: number): void;
  stats(): EventLogStats;
  /** Waits for pending writes; deletes the log when everything in it was archived. */
  close(): Promise<void>;
}

const encode = (e: AllotEvent): string =>
  JSON.stringify([e.id, e.type, e.ts, e.decisionId, e.placementId, e.adId, e.userId]);

function decode(line: string, where: string): AllotEvent {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`event log ${where}: unreadable line (not JSON); move the file away to start`);
  }
  if (
    !Array.isArray(v) ||
    v.length !== 7 ||
    typeof v[0] !== 'string' ||
    !TYPES.has(v[1]) ||
    typeof v[2] !== 'number' ||
    typeof v[3] !== 'string' ||
    typeof v[4] !== 'string' ||
    typeof v[5] !== 'string' ||
    (v[6] !== null && typeof v[6] !== 'string')
  ) {
    throw new Error(`event log ${where}: line is not an event; move the file away to start`);
  }
  return { id: v[0], type: v[1], ts: v[2], decisionId: v[3], placementId: v[4], adId: v[5], userId: v[6] };
}

/**
 * One process per log: a second Allot on the same data dir would replay, and then delete, the
 * segments the first is still writing. `LOCK` holds the owner's pid; a dead owner's lock (a
 * crash) is taken over.
 */
async function takeLock(dir: string): Promise<string> {
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      let alive = false;
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid) {
        try {
          process.kill(owner, 0);
          alive = true;
        } catch (e) {
          alive = (e as NodeJS.ErrnoException).code === 'EPERM';
        }
      }
      if (alive) {
        throw new AllotError(
          'ALLOT_ERR_CONFLICT',
          `the event log ${dir} is in use by process ${owner}: is another Allot running on this data dir?`,
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new AllotError('ALLOT_ERR_CONFLICT', `could not lock the event log ${dir}`);
}

const countLines = (buf: Buffer): number => {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
};

/**
 * The embedded mode's append-only event log: what makes an acknowledged beacon durable in one
 * process (a fleet's broker does that). Segment files `events-<seq>.log` hold one JSON array per
 * event and line. Appends are group-committed: those arriving while a write + fdatasync is in
 * flight go together in the next one, so the cost is per disk flush, not per event.
 *
 * On open, a torn last line (a crash mid-write) is cut off; the segments found are what `replay`
 * returns, and new events go to a fresh segment. The archiver reports what it has written
 * (`archived`), in bus order = log order, and wholly archived segments are deleted.
 */
export async function openEventLog(opts: {
  dir: string;
  /** A segment is closed and a new one started beyond this size (default 64 MiB). */
  segmentBytes?: number;
  /** fdatasync each write (default true; off only for benchmarks and tests of other things). */
  fsync?: boolean;
  /**
   * Least time between the starts of two write + fdatasync rounds (default 0). Under load the
   * appends of this interval share one flush: at 2K events/s in 1-event appends a flush per
   * append cost ~124–135 µs of CPU per event here (1,150–1,430 fdatasyncs/s), 5 ms ~45. An append after a
   * quiet spell is written at once; the wait only applies to back-to-back rounds.
   */
  commitIntervalMs?: number;
  onError?: (err: unknown) => void;
}): Promise<EventLog> {
  const segmentBytes = opts.segmentBytes ?? 64 * 1024 * 1024;
  const fsync = opts.fsync ?? true;
  const commitIntervalMs = opts.commitIntervalMs ?? 0;
  let lastRoundAt = Number.NEGATIVE_INFINITY;
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const lock = await takeLock(opts.dir);

  const segments: Segment[] = [];
  const names = (await readdir(opts.dir)).filter((n) => SEGMENT.test(n)).sort();
  for (const name of names) {
    const path = join(opts.dir, name);
    const buf = await readFile(path);
    const end = buf.lastIndexOf(10) + 1;
    // Only the newest segment can end mid-line (it was being written when the process died).
    if (end < buf.length) await truncate(path, end);
    // Empty (a process that logged nothing): nothing to replay.
    if (end === 0) {
      await unlink(path);
      continue;
    }
    segments.push({ seq: Number(SEGMENT.exec(name)![1]), path, events: countLines(buf), bytes: end });
  }
  const replayable = segments.slice();

  let nextSeq = (segments.at(-1)?.seq ?? 0) + 1;
  let active!: Segment;
  let handle!: FileHandle;
  async function startSegment(): Promise<void> {
    const seq = nextSeq++;
    const path = join(opts.dir, `events-${String(seq).padStart(12, '0')}.log`);
    handle = await open(path, 'a', 0o600);
    active = { seq, path, events: 0, bytes: 0 };
    segments.push(active);
  }
  async function rotate(): Promise<void> {
    const old = handle;
    await startSegment();
    await old.close();
    sweep();
  }
  await startSegment();

  let pending: Array<{ text: string; count: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  let writing: Promise<void> | null = null;
  let syncs = 0;
  /** Archived events not yet accounted to a deleted segment, counted from the oldest segment. */
  let archivedAhead = 0;
  let closed = false;

  async function writeLoop(): Promise<void> {
    while (pending.length > 0) {
      const wait = lastRoundAt + commitIntervalMs - performance.now();
      if (wait > 0 && !closed) await new Promise((r) => setTimeout(r, wait));
      lastRoundAt = performance.now();
      const group = pending;
      pending = [];
      const text = group.map((g) => g.text).join('');
      const buf = Buffer.from(text);
      try {
        await handle.write(buf);
        if (fsync) await handle.datasync();
      } catch (err) {
        // A partial write must not leave half a line before the next one: cut back to the last
        // complete write (if even that fails, the next start cuts the torn tail).
        await handle.truncate(active.bytes).catch(() => undefined);
        for (const g of group) g.reject(err);
        continue;
      }
      syncs++;
      for (const g of group) active.events += g.count;
      active.bytes += buf.length;
      for (const g of group) g.resolve();
      if (active.bytes >= segmentBytes) {
        // The new segment is opened before the old one is let go: a failure keeps appending here.
        await rotate().catch((err: unknown) => opts.onError?.(err));
      }
    }
    writing = null;
  }

  function sweep(): void {
    while (segments.length > 1 && segments[0] !== active && archivedAhead >= segments[0]!.events) {
      const done = segments.shift()!;
      archivedAhead -= done.events;
      unlink(done.path).catch((err: unknown) => opts.onError?.(err));
    }
  }

  const total = (): number => segments.reduce((s, g) => s + g.events, 0);

  return {
    append(events) {
      if (closed) return Promise.reject(new Error('event log closed'));
      if (events.length === 0) return Promise.resolve();
      let text = '';
      for (const e of events) text += `${encode(e)}\n`;
      const done = new Promise<void>((resolve, reject) => {
        pending.push({ text, count: events.length, resolve, reject });
      });
      writing ??= writeLoop();
      return done;
    },

    async *replay() {
      for (const seg of replayable) {
        const text = await readFile(seg.path, 'utf8').catch((err: NodeJS.ErrnoException) => {
          // Deleted meanwhile: it was wholly archived.
          if (err.code === 'ENOENT') return '';
          throw err;
        });
        let chunk: AllotEvent[] = [];
        let line = 0;
        for (const raw of text.split('\n')) {
          line++;
          if (raw === '') continue;
          chunk.push(decode(raw, `${seg.path}:${line}`));
          if (chunk.length === REPLAY_CHUNK) {
            yield chunk;
            chunk = [];
          }
        }
        if (chunk.length > 0) yield chunk;
      }
    },

    archived(count) {
      archivedAhead += count;
      sweep();
    },

    stats: () => ({
      segments: segments.length,
      bytes: segments.reduce((s, g) => s + g.bytes, 0),
      unarchived: Math.max(0, total() - archivedAhead),
      syncs,
    }),

    async close() {
      closed = true;
      while (writing !== null) await writing;
      await handle.close();
      // A clean stop with everything archived leaves nothing to replay.
      if (archivedAhead >= total()) {
        for (const seg of segments.splice(0)) await rm(seg.path, { force: true });
      }
      await rm(lock, { force: true });
    },
  };
}
