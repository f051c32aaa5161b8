import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ArchiveStore } from '../../src/core/ports/archive-store.js';

/** A fresh, empty store, and a way to leave behind what an interrupted put leaves. */
export interface ArchiveStoreHarness {
  store: ArchiveStore;
  /**
   * Leaves what a put of `bytes` under `key` interrupted midway leaves behind (a temporary
   * file; an incomplete multipart upload), as a crashed process would.
   */
  leaveUnfinishedPut(key: string, bytes: Buffer): Promise<void>;
}

/** The `ArchiveStore` contract (src/core/ports/archive-store.ts), run against every adapter. */
export function describeArchiveStoreConformance(name: string, open: () => Promise<ArchiveStoreHarness>) {
  describe(`ArchiveStore conformance: ${name}`, () => {
    const local = mkdtempSync(join(tmpdir(), 'allot-store-conf-'));
    afterAll(() => rmSync(local, { recursive: true, force: true }));
    let n = 0;
    /** A fresh local file holding `bytes` (a put may move it away). */
    const file = (bytes: Buffer | string) => {
      const path = join(local, `in-${n++}`);
      writeFileSync(path, bytes);
      return path;
    };
    const getBytes = async (store: ArchiveStore, key: string) => {
      const out = join(local, `out-${n++}`, 'object');
      await store.get(key, out);
      return readFileSync(out);
    };

    it('deletes objects (missing ones are fine), leaving the others', async () => {
      const { store } = await open();
      for (const k of [
        'events/dt=2026-06-03/hour=01/a.parquet',
        'events/dt=2026-06-03/hour=01/b.parquet',
        'events/dt=2026-06-03/hour=02/c.parquet',
      ])
        await store.put(k, file(k));
      await store.delete([
        'events/dt=2026-06-03/hour=01/a.parquet',
        'events/dt=2026-06-03/hour=01/never.parquet',
      ]);
      expect((await store.list('events/dt=2026-06-03/')).map((o) => o.key)).toEqual([
        'events/dt=2026-06-03/hour=01/b.parquet',
        'events/dt=2026-06-03/hour=02/c.parquet',
      ]);
      await store.delete([]);
      await expect(store.delete(['../escape.parquet'])).rejects.toMatchObject({
        code: 'ALLOT_ERR_VALIDATION',
      });
    });

    it('lists exactly the objects under a prefix, with their sizes, sorted; get returns their bytes', async () => {
      const { store } = await open();
      const objects: Record<string, Buffer> = {
        'events/dt=2026-06-01/hour=10/b.parquet': randomBytes(3000),
        'events/dt=2026-06-01/hour=10/a.parquet': randomBytes(10),
        'events/dt=2026-06-01/hour=11/c.parquet': randomBytes(1),
        'events/dt=2026-06-02/hour=00/d.parquet': Buffer.alloc(0),
        'events-old/e.parquet': randomBytes(5),
        'rollups/f.parquet': randomBytes(7),
      };
      for (const [key, bytes] of Object.entries(objects)) await store.put(key, file(bytes));
      const expected = (prefix: string) =>
        Object.keys(objects)
          .filter((k) => k.startsWith(prefix))
          .sort()
          .map((key) => ({ key, size: objects[key]!.length }));

      expect(await store.list('events/')).toEqual(expected('events/'));
      expect((await store.list('events/')).map((o) => o.key)).toEqual([
        'events/dt=2026-06-01/hour=10/a.parquet',
        'events/dt=2026-06-01/hour=10/b.parquet',
        'events/dt=2026-06-01/hour=11/c.parquet',
        'events/dt=2026-06-02/hour=00/d.parquet',
      ]);
      // A prefix is a string prefix, not a folder: it may end inside a name.
      expect(await store.list('events/dt=2026-06-01/hour=1')).toEqual(
        expected('events/dt=2026-06-01/hour=1'),
      );
      expect(await store.list('events')).toEqual(expected('events'));
      expect(await store.list('')).toEqual(expected(''));
      expect(await store.list('nothing/')).toEqual([]);
      for (const [key, bytes] of Object.entries(objects)) expect(await getBytes(store, key)).toEqual(bytes);
      await store.close();
    });

    it('putting an existing key replaces the object: one object, the new bytes', async () => {
      const { store } = await open();
      const first = randomBytes(100);
      const second = randomBytes(37);
      await store.put('k/one.parquet', file(first));
      await store.put('k/one.parquet', file(second));
      expect(await store.list('k/')).toEqual([{ key: 'k/one.parquet', size: 37 }]);
      expect(await getBytes(store, 'k/one.parquet')).toEqual(second);
      await store.close();
    });

    it('lists more than 1,000 objects (S3 pages at 1,000), every one, in key order', async () => {
      const { store } = await open();
      const count = 1_005;
      // Put in a scrambled order; keys of several lengths so sizes differ too.
      const keys = Array.from({ length: count }, (_, i) => `many/${(i * 7_919) % count}.bin`);
      let next = 0;
      const worker = async () => {
        while (next < keys.length) {
          const key = keys[next++]!;
          await store.put(key, file(key));
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      await store.put('many-not/x.bin', file('x'));
      const listed = await store.list('many/');
      expect(listed).toHaveLength(count);
      expect(listed).toEqual([...keys].sort().map((key) => ({ key, size: key.length })));
      await store.close();
    });

    it('a failed put leaves no object, and leaves the previous object of its key intact', async () => {
      const { store } = await open();
      const missing = join(local, 'does-not-exist');
      await expect(store.put('f/new.parquet', missing)).rejects.toThrow();
      expect(await store.list('f/')).toEqual([]);
      await expect(getBytes(store, 'f/new.parquet')).rejects.toMatchObject({ code: 'ALLOT_ERR_NOT_FOUND' });

      const kept = randomBytes(64);
      await store.put('f/old.parquet', file(kept));
      await expect(store.put('f/old.parquet', missing)).rejects.toThrow();
      expect(await store.list('f/')).toEqual([{ key: 'f/old.parquet', size: 64 }]);
      expect(await getBytes(store, 'f/old.parquet')).toEqual(kept);
      await store.close();
    });

    it('never lists nor serves what an unfinished put left behind', async () => {
      const h = await open();
      await h.leaveUnfinishedPut('u/half.parquet', randomBytes(2048));
      await h.store.put('u/whole.parquet', file(randomBytes(16)));
      expect(await h.store.list('u/')).toEqual([{ key: 'u/whole.parquet', size: 16 }]);
      expect((await h.store.list('')).map((o) => o.key)).toEqual(['u/whole.parquet']);
      await expect(getBytes(h.store, 'u/half.parquet')).rejects.toMatchObject({
        code: 'ALLOT_ERR_NOT_FOUND',
      });
      // The key is still usable.
      await h.store.put('u/half.parquet', file(randomBytes(8)));
      expect(await h.store.list('u/h')).toEqual([{ key: 'u/half.parquet', size: 8 }]);
      await h.store.close();
    });

    it('get replaces the local file whole, leaves no temporary file, and on a miss leaves it alone', async () => {
      const { store } = await open();
      const bytes = randomBytes(5000);
      await store.put('g/x.parquet', file(bytes));
      const folder = join(local, `get-${n++}`);
      const target = join(folder, 'x.parquet');
      await store.get('g/x.parquet', target); // creates the folder
      writeFileSync(target, 'old contents');
      await store.get('g/x.parquet', target);
      expect(readFileSync(target)).toEqual(bytes);
      expect(readdirSync(folder)).toEqual(['x.parquet']);

      await expect(store.get('g/missing.parquet', target)).rejects.toMatchObject({
        code: 'ALLOT_ERR_NOT_FOUND',
      });
      expect(readFileSync(target)).toEqual(bytes);
      expect(readdirSync(folder)).toEqual(['x.parquet']);
      await store.close();
    });

    it.each(['../escape', '/absolute', 'a//b', 'a/./b', 'a/../b', 'a/.tmp-x', 'trailing/', ''])(
      'rejects the key %j (ALLOT_ERR_VALIDATION) and stores nothing',
      async (key) => {
        const { store } = await open();
        await expect(store.put(key, file('x'))).rejects.toMatchObject({ code: 'ALLOT_ERR_VALIDATION' });
        await expect(store.get(key, join(local, `bad-${n++}`))).rejects.toMatchObject({
          code: 'ALLOT_ERR_VALIDATION',
        });
        expect(await store.list('')).toEqual([]);
        await store.close();
      },
    );
  });
}
