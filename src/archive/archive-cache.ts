import type { Dirent } from 'node:fs';
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { isTempName } from '../adapters/file/folder-archive-store.js';
import type { ArchiveStore } from '../core/ports/archive-store.js';

/** Downloads in flight at once per sync. */
const DOWNLOADS_IN_FLIGHT = 8;
/** A temporary file younger than this may belong to a download under way in another process. */
const STALE_TEMP_MS = 15 * 60_000;

export interface ArchiveCacheSync {
  /** Objects fetched: new in the store, or of another size than the local copy. */
  downloaded: number;
  /** Local files deleted because the store no longer has them (and stale temporary files). */
  removed: number;
  /** Objects under the prefix in the store. */
  objects: number;
}

/** Per cache folder: the sync running and the one queued behind it. */
const syncs = new Map<
  string,
  { running: Promise<ArchiveCacheSync>; next: Promise<ArchiveCacheSync> | null }
>();

/**
 * Makes the folder `dir` mirror the store's objects under `prefix`: the object `<prefix>a/b`
 * is the file `<dir>/a/b`. Downloads the objects missing locally or whose size differs (a
 * replaced object; objects of one key are written from the same batch, so equal sizes mean
 * equal contents in practice), a few at a time, each atomically (temporary name + rename);
 * deletes the local files the store no longer has. This is how DuckDB reads an S3 archive
 * (httpfs needs a download at run time, unavailable offline).
 *
 * Calls for one folder share work: a call made while none runs starts a sync; calls made while
 * one runs all share the single sync started after it, so each result reflects the store as it
 * was at some moment after the call. Several processes may sync one folder: files appear by
 * rename only, and another process's temporary files are left alone while recent.
 */
export function syncArchiveCache(opts: {
  store: ArchiveStore;
  dir: string;
  prefix?: string;
}): Promise<ArchiveCacheSync> {
  const dir = resolve(opts.dir);
  const run = () => syncOnce(opts.store, dir, opts.prefix ?? 'events/');
  const current = syncs.get(dir);
  if (current === undefined) {
    const entry = { running: run(), next: null as Promise<ArchiveCacheSync> | null };
    syncs.set(dir, entry);
    const settle = () => {
      // Promote the queued sync, if any, or forget the folder.
      if (entry.next === null) syncs.delete(dir);
    };
    entry.running.then(settle, settle);
    return entry.running;
  }
  if (current.next === null) {
    const after = current.running.then(
      () => undefined,
      () => undefined,
    );
    current.next = after.then(() => {
      syncs.delete(dir);
      return syncArchiveCache(opts);
    });
  }
  return current.next;
}

async function syncOnce(store: ArchiveStore, dir: string, prefix: string): Promise<ArchiveCacheSync> {
  const objects = await store.list(prefix);
  const wanted = new Map(objects.map((o) => [o.key.slice(prefix.length), o.size]));
  const local = await localFiles(dir);
  const toFetch = objects.filter((o) => local.get(o.key.slice(prefix.length))?.size !== o.size);

  let next = 0;
  const worker = async () => {
    while (next < toFetch.length) {
      const o = toFetch[next++]!;
      await store.get(o.key, join(dir, ...o.key.slice(prefix.length).split('/')));
    }
  };
  await Promise.all(Array.from({ length: Math.min(DOWNLOADS_IN_FLIGHT, toFetch.length) }, worker));

  let removed = 0;
  const now = Date.now();
  for (const [rel, file] of local) {
    if (wanted.has(rel)) continue;
    if (file.temp && now - file.mtimeMs < STALE_TEMP_MS) continue;
    await rm(join(dir, ...rel.split('/')), { force: true });
    removed++;
  }
  if (removed > 0) await pruneEmptyFolders(dir, false);
  return { downloaded: toFetch.length, removed, objects: objects.length };
}

interface LocalFile {
  size: number;
  mtimeMs: number;
  temp: boolean;
}

/** Every file under `dir` by its `/`-separated relative path (none if `dir` does not exist). */
async function localFiles(dir: string): Promise<Map<string, LocalFile>> {
  const out = new Map<string, LocalFile>();
  const walk = async (path: string, rel: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const full = path + sep + e.name;
      if (e.isDirectory()) await walk(full, `${rel}${e.name}/`);
      else if (e.isFile()) {
        const s = await stat(full).catch(() => null); // gone meanwhile: nothing to compare
        if (s !== null) out.set(rel + e.name, { size: s.size, mtimeMs: s.mtimeMs, temp: isTempName(e.name) });
      }
    }
  };
  await walk(dir, '');
  return out;
}

/** Removes the folders under `dir` left empty by deletions (never `dir` itself). */
async function pruneEmptyFolders(path: string, removeSelf: boolean): Promise<void> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => [] as Dirent[]);
  for (const e of entries) if (e.isDirectory()) await pruneEmptyFolders(path + sep + e.name, true);
  // Fails harmlessly if not empty, or if another process just put a file in it.
  if (removeSelf) await rmdir(path).catch(() => undefined);
}
