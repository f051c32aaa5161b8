import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFolderArchiveStore } from '../../src/adapters/file/folder-archive-store.js';
import { createS3ArchiveStore } from '../../src/adapters/s3/s3-archive-store.js';
import { syncArchiveCache } from '../../src/archive/archive-cache.js';
import { createParquetArchive } from '../../src/archive/parquet-archive.js';
import { startParquetWriterThread } from '../../src/archive/parquet-writer-thread.js';
import type { AllotEvent, EventType } from '../../src/core/events/allot-event.js';
import type { ArchiveStore } from '../../src/core/ports/archive-store.js';
import { archiveCounts } from '../support/archive-counts.js';
import { type S3rverHandle, startS3rver, testS3Client } from '../support/s3rver.js';

const T = Date.parse('2026-06-01T10:00:00Z');
const H = 3_600_000;
const dirs: string[] = [];
const newDir = (tag = 'archive') => {
  const d = mkdtempSync(join(tmpdir(), `allot-${tag}-`));
  dirs.push(d);
  return d;
};
let s3: S3rverHandle;
let client: S3Client;
beforeAll(async () => {
  s3 = await startS3rver();
  client = testS3Client(s3.endpoint);
});
afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TYPES: EventType[] = ['decision', 'impression', 'click'];
/** n events over two hours: event i of decision d = floor(i / 3), ad a<i % 4>, placement p<i % 2>. */
const events = (from: number, to: number): AllotEvent[] =>
  Array.from({ length: to - from }, (_, k) => {
    const i = from + k;
    const decisionId = `d${Math.floor(i / 3)}`;
    const type = TYPES[i % 3]!;
    return {
      id: `${decisionId}:${type[0]}`,
      type,
      ts: T + ((i * 7_919) % (2 * H)),
      decisionId,
      placementId: `p${i % 2}`,
      adId: `a${i % 4}`,
      userId: i % 5 === 0 ? null : `u${i % 50}`,
    };
  });

/** Ground truth: per placement/ad/type, each id once. */
function truth(list: readonly AllotEvent[]) {
  const seen = new Map<string, AllotEvent>();
  for (const e of list) seen.set(e.id, e);
  const out = new Map<string, number>();
  for (const e of seen.values()) {
    const k = `${e.placementId}/${e.adId}/${e.type}`;
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return Object.fromEntries([...out].sort());
}
const asMap = (rows: Array<{ placementId: string; adId: string; type: string; events: number }>) =>
  Object.fromEntries(rows.map((r) => [`${r.placementId}/${r.adId}/${r.type}`, r.events]).sort());
/**
 * One archive location, as each process opens it: `open()` gives a new store on it (a second
 * process); `localCopy()` gives a local folder whose `events/` holds its event files (the
 * folder itself, or an S3 archive synced to a local cache) for `archiveCounts`.
 */
interface Location {
  open(): ArchiveStore;
  localCopy(): Promise<string>;
}
const LOCATIONS: Record<'folder' | 's3', () => Location> = {
  folder: () => {
    const dir = newDir();
    return { open: () => createFolderArchiveStore({ dir }), localCopy: async () => dir };
  },
  s3: () => {
    const url = `s3://${s3.bucket}/archive-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const cache = newDir('cache');
    const open = () => createS3ArchiveStore({ url, client });
    return {
      open,
      async localCopy() {
        await syncArchiveCache({ store: open(), dir: join(cache, 'events'), prefix: 'events/' });
        return cache;
      },
    };
  },
};
const counts = async (where: Location, fromMs: number, toMs: number) =>
  asMap(await archiveCounts(await where.localCopy(), fromMs, toMs));
const keys = async (store: ArchiveStore) => (await store.list('')).map((o) => o.key);

const VARIANTS = [
  ['folder', false],
  ['folder', true],
  ['s3', false],
  ['s3', true],
] as const;
describe.each(VARIANTS)(
  'Parquet archive on the %s store (DuckDB; on a worker thread: %s)',
  (kind, thread) => {
    it('writes Hive partitions by UTC date and hour under events/; counts equal the events written', async () => {
      const where = LOCATIONS[kind]();
      const store = where.open();
      const stagingDir = newDir('staging');
      const archive = await createParquetArchive({ thread, store, stagingDir });
      const batch = events(0, 3000);
      const written = await archive.write(batch);
      expect(written).toHaveLength(2);
      expect(await keys(store)).toEqual([...written].sort());
      expect(written.map((k) => k.replace(/[0-9a-f]{20}/, '<hash>')).sort()).toEqual([
        'events/dt=2026-06-01/hour=10/events-v1-<hash>.parquet',
        'events/dt=2026-06-01/hour=11/events-v1-<hash>.parquet',
      ]);
      expect(readdirSync(stagingDir)).toEqual([]); // staging files removed
      expect(await counts(where, T, T + 2 * H)).toEqual(truth(batch));
      // Only the hour asked for.
      const firstHour = batch.filter((e) => e.ts < T + H);
      expect(await counts(where, T, T + H)).toEqual(truth(firstHour));
      await archive.close();
    });

    it('every column reads back exactly: quotes, newlines, commas, non-ASCII and null user ids, ms timestamps', async () => {
      const where = LOCATIONS[kind]();
      const archive = await createParquetArchive({
        thread,
        store: where.open(),
        stagingDir: newDir('staging'),
      });
      const odd = [
        "it's",
        'say "hi"',
        'a,b',
        'line\nbreak',
        'tab\tand\\slash',
        'ünïcødé 広告 🙂',
        '{"json":1}',
        null,
      ];
      const batch: AllotEvent[] = odd.map((userId, i) => ({
        id: `x${i}:d`,
        type: 'decision',
        ts: T + 12_345 + i, // millisecond precision
        decisionId: `x${i}`,
        placementId: `p'${i}`,
        adId: `a"${i}`,
        userId,
      }));
      await archive.write(batch);
      await archive.close();
      const glob = join(await where.localCopy(), 'events', '**', '*.parquet').replaceAll("'", "''");
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      const reader = await connection.runAndReadAll(
        `SELECT id, type, epoch_ms(ts) AS ts, decision_id, placement_id, ad_id, user_id, schema_version
         FROM read_parquet('${glob}') ORDER BY id`,
      );
      const rows = reader.getRowObjectsJS();
      connection.closeSync();
      instance.closeSync();
      expect(rows).toEqual(
        batch.map((e) => ({
          id: e.id,
          type: e.type,
          ts: BigInt(e.ts),
          decision_id: e.decisionId,
          placement_id: e.placementId,
          ad_id: e.adId,
          user_id: e.userId,
          schema_version: 1,
        })),
      );
    });

    it('a replayed batch replaces its own files; a regrouped replay is read once per event id', async () => {
      const where = LOCATIONS[kind]();
      const store = where.open();
      const archive = await createParquetArchive({ thread, store, stagingDir: newDir('staging') });
      const batch = events(0, 2000);
      await archive.write(batch);
      const before = await keys(store);
      await archive.write([...batch].reverse()); // the same batch again, in another order
      expect(await keys(store)).toEqual(before);
      // After a crash a consumer may re-read part of it together with newer events.
      const regrouped = [...batch.slice(1000), ...events(2000, 2600)];
      await archive.write(regrouped);
      expect((await keys(store)).length).toBeGreaterThan(before.length);
      expect(await counts(where, T, T + 2 * H)).toEqual(truth([...batch, ...regrouped]));
      await archive.close();
    });

    it('a second process reads what the first wrote', async () => {
      const where = LOCATIONS[kind]();
      const writer = await createParquetArchive({
        thread,
        store: where.open(),
        stagingDir: newDir('staging'),
      });
      const batch = events(0, 500);
      await writer.write(batch);
      await writer.close();
      expect(await counts(where, T - H, T + 3 * H)).toEqual(truth(batch));
    });

    it('a failed put rejects the write and removes its staging file; the next write goes through', async () => {
      const stagingDir = newDir('staging');
      // Where nothing can be stored yet: a folder path taken by a regular file; a missing bucket.
      const blocked = join(newDir(), 'archive');
      writeFileSync(blocked, '');
      const bucket = `late-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
      const store =
        kind === 'folder'
          ? createFolderArchiveStore({ dir: blocked })
          : createS3ArchiveStore({ url: `s3://${bucket}/x`, client });
      const archive = await createParquetArchive({ thread, store, stagingDir });
      const batch = events(0, 60);
      const failed = archive.write(batch.slice(0, 30)).then(
        () => 'written',
        (e: unknown) => e,
      );
      const queued = archive.write(batch.slice(30)).then(
        () => 'written',
        (e: unknown) => e,
      );
      expect(await failed).toBeInstanceOf(Error);
      expect(await queued).toBeInstanceOf(Error); // queued behind it, failed on its own
      expect(readdirSync(stagingDir)).toEqual([]);

      // The store becomes available: the archiver's redelivery of both batches goes through.
      if (kind === 'folder') rmSync(blocked);
      else await client.send(new CreateBucketCommand({ Bucket: bucket }));
      expect(await archive.write(batch.slice(0, 30))).toHaveLength(1);
      expect(await archive.write(batch.slice(30))).toHaveLength(1);
      expect(readdirSync(stagingDir)).toEqual([]);
      expect(await keys(store)).toHaveLength(2);
      await archive.close();
    });
  },
);

/** Puts staged files into a fresh folder store and counts its events over the two hours. */
async function countsOfStaged(files: ReadonlyArray<{ key: string; file: string }>) {
  const where = LOCATIONS.folder();
  const store = where.open();
  for (const f of files) await store.put(f.key, f.file);
  return counts(where, T, T + 2 * H);
}

describe('the Parquet writer thread', () => {
  it('a thread that stops between writes is replaced at the next write', async () => {
    const stagingDir = newDir('staging');
    const writer = await startParquetWriterThread({ stagingDir });
    const batch = events(0, 3000);
    const first = writer.writeFiles(batch.slice(0, 1500));
    await writer.terminate(); // after the write under way
    expect(await first).toHaveLength(2);
    for (const f of await first) rmSync(f.file);

    const again = await writer.writeFiles(batch);
    expect(again).toHaveLength(2);
    expect(await countsOfStaged(again)).toEqual(truth(batch));
    await writer.close();
    await expect(writer.writeFiles(batch)).rejects.toThrow(/closed/);
  });

  it('a batch larger than a part crosses in parts and is written as one batch', async () => {
    const batch = events(0, 3000); // two hours
    const whole = await startParquetWriterThread({ stagingDir: newDir('staging'), sliceEvents: 1_000_000 });
    const parted = await startParquetWriterThread({ stagingDir: newDir('staging'), sliceEvents: 700 });
    const one = await whole.writeFiles(batch);
    const five = await parted.writeFiles(batch);
    // The same files: one per hour, named after the whole batch's ids.
    expect(five.map((f) => f.key).sort()).toEqual(one.map((f) => f.key).sort());
    expect(five).toHaveLength(2);
    expect(await countsOfStaged(five)).toEqual(truth(batch));
    await whole.close();
    await parted.close();
  });

  it('parts of batches written at once do not mix', async () => {
    const writer = await startParquetWriterThread({ stagingDir: newDir('staging'), sliceEvents: 250 });
    const reference = await startParquetWriterThread({ stagingDir: newDir('staging') });
    const a = events(0, 1500);
    const b = events(1500, 3000);
    const [fa, fb] = await Promise.all([writer.writeFiles(a), writer.writeFiles(b)]);
    expect(fa.map((f) => f.key).sort()).toEqual((await reference.writeFiles(a)).map((f) => f.key).sort());
    expect(fb.map((f) => f.key).sort()).toEqual((await reference.writeFiles(b)).map((f) => f.key).sort());
    await writer.close();
    await reference.close();
  });

  it('a thread lost in the middle of a batch fails that batch; the next write is whole', async () => {
    const stagingDir = newDir('staging');
    const writer = await startParquetWriterThread({ stagingDir, sliceEvents: 100 });
    const batch = events(0, 3000);
    const cut = writer.writeFiles(batch);
    cut.catch(() => undefined);
    await writer.terminate(); // after the part under way; the rest goes to a new thread
    await expect(cut).rejects.toThrow(/out of order|stopped/);
    const again = await writer.writeFiles(batch);
    expect(readdirSync(stagingDir).sort()).toEqual(again.map((f) => basename(f.file)).sort());
    expect(await countsOfStaged(again)).toEqual(truth(batch));
    await writer.close();
  });

  it('a thread that cannot start says why', async () => {
    await expect(
      startParquetWriterThread({ stagingDir: newDir('staging'), duckdb: { memoryLimit: 'lots' } }),
    ).rejects.toThrow(/writer thread failed: cannot open DuckDB .*lots.*: Failed to set config/);
  });

  it('writes made before close are answered; close ends the thread', async () => {
    const stagingDir = newDir('staging');
    const writer = await startParquetWriterThread({ stagingDir });
    const a = writer.writeFiles(events(0, 100));
    const b = writer.writeFiles(events(100, 200));
    await writer.close();
    // Each batch falls in one hour: one staged file each, still there for the caller to put.
    expect(await a).toHaveLength(1);
    expect(await b).toHaveLength(1);
    expect(readdirSync(stagingDir).sort()).toEqual(
      [...(await a), ...(await b)].map((f) => basename(f.file)).sort(),
    );
  });
});
