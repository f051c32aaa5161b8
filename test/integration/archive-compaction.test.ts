import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFolderArchiveStore } from '../../src/adapters/file/folder-archive-store.js';
import { createS3ArchiveStore } from '../../src/adapters/s3/s3-archive-store.js';
import { syncArchiveCache } from '../../src/archive/archive-cache.js';
import { compactArchive } from '../../src/archive/compactor.js';
import { createParquetArchive } from '../../src/archive/parquet-archive.js';
import type { AllotEvent, EventType } from '../../src/core/events/allot-event.js';
import type { ArchiveStore } from '../../src/core/ports/archive-store.js';
import { archiveCounts } from '../support/archive-counts.js';
import { type S3rverHandle, startS3rver, testS3Client } from '../support/s3rver.js';

const H = 3_600_000;
const T = Date.parse('2026-06-01T10:00:00Z');
const TYPES: EventType[] = ['decision', 'impression', 'click'];
const dirs: string[] = [];
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'allot-compact-'));
  dirs.push(d);
  return d;
};
let s3: S3rverHandle;
beforeAll(async () => {
  s3 = await startS3rver();
}, 60_000);
afterAll(async () => {
  await s3?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** n events from `from`, spread over 3 hours from T. */
const events = (from: number, n: number): AllotEvent[] =>
  Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const type = TYPES[i % 3]!;
    return {
      id: `d${Math.floor(i / 3)}:${type[0]}`,
      type,
      ts: T + ((i * 4001) % (3 * H)),
      decisionId: `d${Math.floor(i / 3)}`,
      placementId: `p${i % 2}`,
      adId: `a${i % 3}`,
      userId: null,
    };
  });

describe.each(['folder', 's3'] as const)('archive compaction (%s)', (kind) => {
  let store: ArchiveStore;
  let read: () => Promise<unknown>;
  beforeAll(() => {
    if (kind === 'folder') {
      const dir = newDir();
      store = createFolderArchiveStore({ dir });
      read = () => archiveCounts(dir);
    } else {
      store = createS3ArchiveStore({ url: `s3://${s3.bucket}/compact`, client: testS3Client(s3.endpoint) });
      const cache = newDir();
      read = async () => {
        await syncArchiveCache({ store, dir: join(cache, 'events'), prefix: 'events/' });
        return archiveCounts(cache);
      };
    }
  });

  it('merges each closed hour into one file with each event once; open hours and reads unchanged', async () => {
    const staging = newDir();
    const archive = await createParquetArchive({ store, stagingDir: staging });
    const all = events(0, 6000);
    for (let i = 0; i < all.length; i += 400) await archive.write(all.slice(i, i + 400));
    await archive.write(all.slice(1000, 1900)); // a regrouped replay: rows twice across files
    await archive.close();
    const before = await read();
    const perHour = async () => {
      const m = new Map<string, number>();
      for (const o of await store.list('events/')) {
        const hour = o.key.split('/').slice(1, 3).join('/');
        m.set(hour, (m.get(hour) ?? 0) + 1);
      }
      return Object.fromEntries(m);
    };
    const filesBefore = await perHour();
    expect(Object.values(filesBefore).every((n) => n > 1)).toBe(true);

    // "Now" is 12:30: hours 10 and 11 are closed (and settled), 12 is still open.
    const now = T + 2.5 * H;
    const r = await compactArchive({ store, stagingDir: staging, nowMs: now, settleMs: 10 * 60_000 });
    expect(r.partitions).toBe(2);
    const filesAfter = await perHour();
    expect(filesAfter['dt=2026-06-01/hour=10']).toBe(1);
    expect(filesAfter['dt=2026-06-01/hour=11']).toBe(1);
    expect(filesAfter['dt=2026-06-01/hour=12']).toBe(filesBefore['dt=2026-06-01/hour=12']);
    expect(r.filesRemoved).toBe(
      filesBefore['dt=2026-06-01/hour=10']! + filesBefore['dt=2026-06-01/hour=11']!,
    );
    expect(await read()).toEqual(before);

    // Again: nothing to do.
    expect(await compactArchive({ store, stagingDir: staging, nowMs: now })).toEqual({
      partitions: 0,
      filesRemoved: 0,
    });

    // A late replay into a compacted hour, then a crash between put and delete (simulated by a
    // store whose delete fails once): counts stay exact, the next run cleans up.
    const late = await createParquetArchive({ store, stagingDir: staging });
    await late.write(all.filter((e) => e.ts < T + H).slice(0, 50));
    await late.close();
    const failing: ArchiveStore = {
      ...store,
      location: store.location,
      put: (k, f) => store.put(k, f),
      list: (p) => store.list(p),
      get: (k, f) => store.get(k, f),
      delete: async () => {
        throw new Error('crash before delete');
      },
      close: async () => undefined,
    };
    await expect(compactArchive({ store: failing, stagingDir: staging, nowMs: now })).rejects.toThrow(
      'crash before delete',
    );
    expect((await perHour())['dt=2026-06-01/hour=10']).toBe(3);
    expect(await read()).toEqual(before);
    await compactArchive({ store, stagingDir: staging, nowMs: now });
    expect((await perHour())['dt=2026-06-01/hour=10']).toBe(1);
    expect(await read()).toEqual(before);
  });

  it('merges an hour of more events than one query holds in passes, one file per slice of ids', async () => {
    const staging = newDir();
    const prefix = `pass${Math.random().toString(36).slice(2, 8)}`;
    // Its own store under a fresh prefix (the folder or bucket is shared with the test above).
    const own: ArchiveStore =
      kind === 'folder'
        ? createFolderArchiveStore({ dir: newDir() })
        : createS3ArchiveStore({ url: `s3://${s3.bucket}/${prefix}`, client: testS3Client(s3.endpoint) });
    /** Rows as stored (copies included) and distinct ids, besides the per-id counts. */
    const rowsOf = async () => {
      const cache = newDir();
      await syncArchiveCache({ store: own, dir: join(cache, 'events'), prefix: 'events/' });
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const glob = join(cache, 'events', '**', '*.parquet').replaceAll("'", "''");
      const r = await c.runAndReadAll(`SELECT count(*), count(DISTINCT id) FROM read_parquet('${glob}')`);
      c.closeSync();
      db.closeSync();
      const [rows, ids] = r.getRows()[0]!.map(Number);
      return { rows, ids };
    };
    const countsOf = async () => {
      const cache = newDir();
      await syncArchiveCache({ store: own, dir: join(cache, 'events'), prefix: 'events/' });
      return archiveCounts(cache);
    };
    const archive = await createParquetArchive({ store: own, stagingDir: staging });
    const all = events(0, 3000).filter((e) => e.ts < T + H); // hour 10 only
    for (let i = 0; i < all.length; i += 100) await archive.write(all.slice(i, i + 100));
    await archive.write(all.slice(200, 500)); // a replay: rows twice across files
    await archive.close();
    const before = await countsOf();
    const hourFiles = async () => (await own.list('events/dt=2026-06-01/hour=10/')).map((o) => o.key).sort();
    const filesBefore = (await hourFiles()).length;
    const now = T + 2.5 * H;

    const r = await compactArchive({ store: own, stagingDir: staging, nowMs: now, eventsPerPass: 300 });
    const merged = await hourFiles();
    const passes = Math.ceil((all.length + 300) / 300); // rows before deduplication
    expect(r).toEqual({ partitions: 1, filesRemoved: filesBefore });
    expect(merged).toHaveLength(passes);
    expect(merged.every((k) => new RegExp(`-c[0-9a-f]{20}-\\d+of${passes}\\.parquet$`).test(k))).toBe(true);
    expect(await countsOf()).toEqual(before);
    const stored = await rowsOf();
    expect(stored).toEqual({ rows: stored.ids, ids: all.length }); // each id once, in one file
    // A merged set is left alone; a late file joins the hour and it is merged again.
    expect(await compactArchive({ store: own, stagingDir: staging, nowMs: now, eventsPerPass: 300 })).toEqual(
      {
        partitions: 0,
        filesRemoved: 0,
      },
    );
    const late = await createParquetArchive({ store: own, stagingDir: staging });
    await late.write(all.slice(0, 40));
    await late.close();
    const again = await compactArchive({ store: own, stagingDir: staging, nowMs: now, eventsPerPass: 300 });
    expect(again).toEqual({ partitions: 1, filesRemoved: passes + 1 });
    expect(await countsOf()).toEqual(before);
  });

  it('writes every slice of a merge in passes, an empty one too, so the set is left alone after', async () => {
    const staging = newDir();
    const dir = newDir();
    const own = createFolderArchiveStore({ dir });
    const archive = await createParquetArchive({ store: own, stagingDir: staging });
    const two = events(0, 6).filter((e) => e.ts < T + H);
    expect(two.length).toBeGreaterThan(1);
    await archive.write(two);
    await archive.write(two.slice(1)); // the same ids again, in another file (a replay regrouped)
    await archive.close();
    const before = await archiveCounts(dir);
    const now = T + 2.5 * H;
    // One pass per row (2 × |two| − 1) over |two| ids: at least |two| − 1 slices are empty.
    expect(await compactArchive({ store: own, stagingDir: staging, nowMs: now, eventsPerPass: 1 })).toEqual({
      partitions: 1,
      filesRemoved: 2,
    });
    const files = (await own.list('events/dt=2026-06-01/hour=10/')).map((o) => o.key);
    const passes = 2 * two.length - 1;
    expect(files).toHaveLength(passes);
    expect(await archiveCounts(dir)).toEqual(before);
    expect(await compactArchive({ store: own, stagingDir: staging, nowMs: now, eventsPerPass: 1 })).toEqual({
      partitions: 0,
      filesRemoved: 0,
    });
  });
});
