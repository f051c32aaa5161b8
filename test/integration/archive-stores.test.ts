import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateMultipartUploadCommand, type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFolderArchiveStore, tempSibling } from '../../src/adapters/file/folder-archive-store.js';
import { createS3ArchiveStore, parseS3Url } from '../../src/adapters/s3/s3-archive-store.js';
import { syncArchiveCache } from '../../src/archive/archive-cache.js';
import type { ArchiveStore } from '../../src/core/ports/archive-store.js';
import { describeArchiveStoreConformance } from '../conformance/archive-store.conformance.js';
import { freePort } from '../support/net.js';
import { type S3rverHandle, startS3rver, testS3Client } from '../support/s3rver.js';

const dirs: string[] = [];
const newDir = (tag = 'store') => {
  const d = mkdtempSync(join(tmpdir(), `allot-${tag}-`));
  dirs.push(d);
  return d;
};
let s3: S3rverHandle;
let client: S3Client;
let prefixes = 0;
/** A store on a fresh prefix of the test bucket. */
const s3Store = () => {
  const prefix = `t${process.pid}-${prefixes++}`;
  return { prefix, store: createS3ArchiveStore({ url: `s3://${s3.bucket}/${prefix}`, client }) };
};

beforeAll(async () => {
  s3 = await startS3rver();
  client = testS3Client(s3.endpoint);
});
afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describeArchiveStoreConformance('local folder', async () => {
  const dir = newDir();
  return {
    store: createFolderArchiveStore({ dir }),
    // A copy across filesystems interrupted before its rename.
    async leaveUnfinishedPut(key, bytes) {
      const target = join(dir, ...key.split('/'));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(tempSibling(target), bytes);
    },
  };
});

describeArchiveStoreConformance('S3 (s3rver)', async () => {
  const { prefix, store } = s3Store();
  return {
    store,
    // A multipart upload with a part sent, never completed.
    async leaveUnfinishedPut(key, bytes) {
      const Key = `${prefix}/${key}`;
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key }));
      await client.send(
        new UploadPartCommand({
          Bucket: s3.bucket,
          Key,
          UploadId,
          PartNumber: 1,
          Body: bytes,
          ContentLength: bytes.length,
        }),
      );
    },
  };
});

describe('local folder store', () => {
  it('moves a staging file on the same filesystem into place', async () => {
    const dir = newDir();
    const store = createFolderArchiveStore({ dir });
    const same = join(newDir('staging'), 'a.parquet');
    const bytes = randomBytes(1000);
    writeFileSync(same, bytes);
    await store.put('events/a.parquet', same);
    expect(existsSync(same)).toBe(false); // renamed, not copied
    expect(readFileSync(join(dir, 'events', 'a.parquet'))).toEqual(bytes);
    expect(readdirSync(join(dir, 'events'))).toEqual(['a.parquet']);
  });

  // /dev/shm is a tmpfs: a rename from it to the temp folder fails with EXDEV.
  const otherFs = existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(tmpdir()).dev;
  it.skipIf(!otherFs)(
    'copies a staging file from another filesystem, leaving no temporary file',
    async () => {
      const dir = newDir();
      const store = createFolderArchiveStore({ dir });
      const far = join(mkdtempSync(join('/dev/shm', 'allot-')), 'b.parquet');
      dirs.push(dirname(far));
      const bytes = randomBytes(300);
      writeFileSync(far, bytes);
      await store.put('events/b.parquet', far);
      expect(readFileSync(far)).toEqual(bytes); // copied: still there, for the caller to remove
      expect(readFileSync(join(dir, 'events', 'b.parquet'))).toEqual(bytes);
      expect(readdirSync(join(dir, 'events'))).toEqual(['b.parquet']);
    },
  );

  it('two stores on one folder (two processes) see each other’s objects', async () => {
    const dir = newDir();
    const a = createFolderArchiveStore({ dir });
    const b = createFolderArchiveStore({ dir });
    const f = join(newDir('staging'), 'x');
    writeFileSync(f, 'hello');
    await a.put('events/x.parquet', f);
    expect(await b.list('events/')).toEqual([{ key: 'events/x.parquet', size: 5 }]);
    expect(a.location).toBe(dir);
  });
});

describe('S3 store', () => {
  it('parses s3:// URLs into a bucket and a /-terminated prefix', () => {
    expect(parseS3Url('s3://bucket')).toEqual({ bucket: 'bucket', prefix: '' });
    expect(parseS3Url('s3://bucket/')).toEqual({ bucket: 'bucket', prefix: '' });
    expect(parseS3Url('s3://my.bucket-1/archive')).toEqual({ bucket: 'my.bucket-1', prefix: 'archive/' });
    expect(parseS3Url('s3://bucket/a/b/')).toEqual({ bucket: 'bucket', prefix: 'a/b/' });
  });

  it.each([
    ['https://bucket/archive', 'expected s3://bucket'],
    ['s3://', 'not a valid bucket name'],
    ['s3:///archive', 'not a valid bucket name'],
    ['s3://Bucket_Name/x', 'not a valid bucket name'],
    ['s3://bucket//x', 'not a valid prefix'],
    ['s3://bucket/a/../b', 'not a valid prefix'],
    ['s3://bucket/a?versionId=1', 'cannot contain'],
  ])('rejects %j with ALLOT_ERR_VALIDATION', (url, why) => {
    expect(() => parseS3Url(url)).toThrow(expect.objectContaining({ code: 'ALLOT_ERR_VALIDATION' }));
    expect(() => parseS3Url(url)).toThrow(why);
    expect(() => createS3ArchiveStore({ url })).toThrow(why);
  });

  it('keeps to its prefix: keys are relative to it, a sibling prefix is not seen', async () => {
    const a = createS3ArchiveStore({ url: `s3://${s3.bucket}/iso-${process.pid}`, client });
    const b = createS3ArchiveStore({ url: `s3://${s3.bucket}/iso-${process.pid}-old/`, client });
    const f = join(newDir('staging'), 'x');
    writeFileSync(f, 'abc');
    await a.put('events/x.parquet', f);
    await b.put('events/y.parquet', f);
    expect(await a.list('')).toEqual([{ key: 'events/x.parquet', size: 3 }]);
    expect(await b.list('')).toEqual([{ key: 'events/y.parquet', size: 3 }]);
    expect(a.location).toBe(`s3://${s3.bucket}/iso-${process.pid}/`);
  });

  it('takes credentials from the standard chain (env) and defaults the region when none is set', async () => {
    const saved = { ...process.env };
    const restore = () => {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    };
    try {
      for (const k of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[k];
      process.env.AWS_CONFIG_FILE = join(newDir('aws'), 'none');
      process.env.AWS_SHARED_CREDENTIALS_FILE = join(newDir('aws'), 'none');
      process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
      process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
      const store = createS3ArchiveStore({
        url: `s3://${s3.bucket}/chain-${process.pid}`,
        endpoint: s3.endpoint,
      });
      const f = join(newDir('staging'), 'x');
      writeFileSync(f, 'chain');
      await store.put('events/x.parquet', f);
      expect(await store.list('events/')).toEqual([{ key: 'events/x.parquet', size: 5 }]);
      await store.close();
    } finally {
      restore();
    }
  });

  it('retries a failing request up to maxAttempts (SDK standard retry), then throws', async () => {
    const port = await freePort(); // nothing listens there
    const dead = testS3Client(`http://127.0.0.1:${port}`, { maxAttempts: 3 });
    const store = createS3ArchiveStore({ url: 's3://bucket/x', client: dead });
    const err = await store.list('').then(
      () => null,
      (e: unknown) => e as { $metadata?: { attempts?: number } },
    );
    expect(err?.$metadata?.attempts).toBe(3);
    dead.destroy();
  });

  it('a put into a bucket that does not exist fails and leaves nothing', async () => {
    const store = createS3ArchiveStore({ url: 's3://no-such-bucket/x', client });
    const f = join(newDir('staging'), 'x');
    writeFileSync(f, 'abc');
    await expect(store.put('events/x.parquet', f)).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });
});

describe('syncArchiveCache (S3 → local folder)', () => {
  /** A store on a fresh prefix that counts its `list` calls. */
  const countingStore = () => {
    const { store } = s3Store();
    const counted = { lists: 0 };
    const wrapped: ArchiveStore = {
      location: store.location,
      put: (k, f) => store.put(k, f),
      list: (p) => {
        counted.lists++;
        return store.list(p);
      },
      get: (k, f) => store.get(k, f),
      delete: (keys) => store.delete(keys),
      close: () => store.close(),
    };
    return { store: wrapped, counted };
  };
  const staging = () => join(newDir('staging'), 'f');
  const put = async (store: ArchiveStore, key: string, bytes: Buffer) => {
    const f = staging();
    writeFileSync(f, bytes);
    await store.put(key, f);
  };
  const tree = (dir: string) =>
    readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => statSync(join(dir, f)).isFile())
      .sort();

  it('downloads new and resized objects, removes local files the store lacks, mirrors bytes', async () => {
    const { store } = countingStore();
    const dir = join(newDir('cache'), 'events');
    const a = randomBytes(100);
    const b = randomBytes(200);
    await put(store, 'events/dt=2026-06-01/hour=10/a.parquet', a);
    await put(store, 'events/dt=2026-06-01/hour=11/b.parquet', b);
    await put(store, 'rollups/r.parquet', randomBytes(10));

    expect(await syncArchiveCache({ store, dir })).toEqual({ downloaded: 2, removed: 0, objects: 2 });
    expect(tree(dir)).toEqual(['dt=2026-06-01/hour=10/a.parquet', 'dt=2026-06-01/hour=11/b.parquet']);
    expect(readFileSync(join(dir, 'dt=2026-06-01/hour=10/a.parquet'))).toEqual(a);
    expect(await syncArchiveCache({ store, dir })).toEqual({ downloaded: 0, removed: 0, objects: 2 });

    const b2 = randomBytes(150);
    await put(store, 'events/dt=2026-06-01/hour=11/b.parquet', b2);
    await put(store, 'events/dt=2026-06-02/hour=00/c.parquet', randomBytes(5));
    mkdirSync(join(dir, 'dt=2026-05-31/hour=23'), { recursive: true });
    writeFileSync(join(dir, 'dt=2026-05-31/hour=23/gone.parquet'), 'deleted from the store');
    const staleTemp = join(dir, 'dt=2026-06-01/hour=10/.tmp-a.parquet-1-dead');
    const freshTemp = join(dir, 'dt=2026-06-01/hour=10/.tmp-a.parquet-2-live');
    writeFileSync(staleTemp, 'x');
    writeFileSync(freshTemp, 'x');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(staleTemp, hourAgo, hourAgo);

    expect(await syncArchiveCache({ store, dir })).toEqual({ downloaded: 2, removed: 2, objects: 3 });
    expect(tree(dir)).toEqual([
      'dt=2026-06-01/hour=10/.tmp-a.parquet-2-live', // maybe another process's download under way
      'dt=2026-06-01/hour=10/a.parquet',
      'dt=2026-06-01/hour=11/b.parquet',
      'dt=2026-06-02/hour=00/c.parquet',
    ]);
    expect(readFileSync(join(dir, 'dt=2026-06-01/hour=11/b.parquet'))).toEqual(b2);
    expect(existsSync(join(dir, 'dt=2026-05-31'))).toBe(false); // emptied folders pruned
  });

  it('calls made while a sync runs share the one sync after it', async () => {
    const { store, counted } = countingStore();
    const dir = join(newDir('cache'), 'events');
    for (let i = 0; i < 20; i++) await put(store, `events/h/${i}.parquet`, randomBytes(10 + i));
    const [first, second, third] = await Promise.all([
      syncArchiveCache({ store, dir }),
      syncArchiveCache({ store, dir }),
      syncArchiveCache({ store, dir }),
    ]);
    expect(counted.lists).toBe(2);
    expect(first).toEqual({ downloaded: 20, removed: 0, objects: 20 });
    expect(second).toEqual({ downloaded: 0, removed: 0, objects: 20 });
    expect(third).toBe(second);
    await syncArchiveCache({ store, dir });
    expect(counted.lists).toBe(3);
    expect(tree(dir)).toHaveLength(20);
  });

  it('an empty or absent prefix gives an empty folder', async () => {
    const { store } = countingStore();
    const dir = join(newDir('cache'), 'events');
    expect(await syncArchiveCache({ store, dir })).toEqual({ downloaded: 0, removed: 0, objects: 0 });
    expect(existsSync(dir)).toBe(false);
  });
});
