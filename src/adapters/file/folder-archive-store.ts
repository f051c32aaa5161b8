import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { AllotError } from '../../core/errors.js';
import type { ArchiveObject, ArchiveStore } from '../../core/ports/archive-store.js';

/** Names that start with this are unfinished writes: never listed, never valid keys. */
const TEMP_PREFIX = '.tmp-';

/** Whether a file name (not a path) is the temporary name of an unfinished write. */
export const isTempName = (name: string): boolean => name.startsWith(TEMP_PREFIX);

/**
 * A fresh temporary path next to `path` (same folder, hence same filesystem, so renaming it
 * onto `path` is atomic). Its name starts with `.tmp-` and does not end in `.parquet`, so
 * neither `list` nor a DuckDB `**\/*.parquet` glob ever sees it.
 */
export function tempSibling(path: string): string {
  return join(
    dirname(path),
    `${TEMP_PREFIX}${basename(path)}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
}

/**
 * Throws ALLOT_ERR_VALIDATION unless `key` is a relative `/`-separated key with no empty, `.`,
 * `..` or temporary-named segment: a key can never address anything outside the store's root.
 */
export function checkArchiveKey(key: string): void {
  const segments = key.split('/');
  const bad = segments.find((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || isTempName(s));
  if (bad !== undefined || key.includes('\0')) {
    throw new AllotError('ALLOT_ERR_VALIDATION', `invalid archive key ${JSON.stringify(key)}`, [
      { path: '/key', message: 'a relative, /-separated key without empty, ".", ".." or ".tmp-" segments' },
    ]);
  }
}

const notFound = (key: string) =>
  new AllotError('ALLOT_ERR_NOT_FOUND', `no archive object ${JSON.stringify(key)}`);
const isErrno = (err: unknown, code: string) => (err as NodeJS.ErrnoException | null)?.code === code;

/**
 * The archive in a local folder (the embedded default): a key is a path under `dir`.
 *
 * `put` MOVES the local file when it is on the same filesystem as `dir` (one `rename`, atomic,
 * no copy of a staging file the caller no longer needs); across filesystems (`EXDEV`) it copies
 * it to a hidden temporary name in the target folder and renames that into place, leaving the
 * local file where it was. Either way the caller should `rm(localFile, { force: true })` after.
 * Several processes may share `dir`: every temporary name is unique and every publication a
 * rename, so readers see whole files only.
 */
export function createFolderArchiveStore(opts: { dir: string }): ArchiveStore {
  const root = resolve(opts.dir);
  const pathOf = (key: string) => {
    checkArchiveKey(key);
    return join(root, ...key.split('/'));
  };

  return {
    location: root,

    async put(key, localFile) {
      const target = pathOf(key);
      await mkdir(dirname(target), { recursive: true });
      try {
        await rename(localFile, target);
        return;
      } catch (err) {
        if (!isErrno(err, 'EXDEV')) throw err;
      }
      const tmp = tempSibling(target);
      try {
        await copyFile(localFile, tmp);
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },

    async list(prefix) {
      // Walk only the deepest folder the prefix names in full, then filter by the whole prefix.
      const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      if (folder !== '') checkArchiveKey(folder);
      const start = folder === '' ? root : join(root, ...folder.split('/'));
      const found: ArchiveObject[] = [];
      await walk(start, folder === '' ? '' : `${folder}/`, prefix, found);
      return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    async get(key, localFile) {
      const source = pathOf(key);
      await mkdir(dirname(localFile), { recursive: true });
      const tmp = tempSibling(localFile);
      try {
        await copyFile(source, tmp);
        await rename(tmp, localFile);
      } catch (err) {
        await rm(tmp, { force: true });
        throw isErrno(err, 'ENOENT') && !(await exists(source)) ? notFound(key) : err;
      }
    },

    async delete(keys) {
      for (const key of keys) await rm(pathOf(key), { force: true });
    },

    async close() {},
  };
}

/** Appends the files under `path` (key prefix `keyPrefix`) whose key starts with `prefix`. */
async function walk(path: string, keyPrefix: string, prefix: string, out: ArchiveObject[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return;
    throw err;
  }
  await Promise.all(
    entries.map(async (e) => {
      if (isTempName(e.name)) return;
      const key = keyPrefix + e.name;
      if (e.isDirectory()) {
        // Only descend where keys can still start with the prefix.
        const dirKey = `${key}/`;
        if (dirKey.startsWith(prefix)) await walk(path + sep + e.name, dirKey, prefix, out);
      } else if (e.isFile() && key.startsWith(prefix)) {
        try {
          out.push({ key, size: (await stat(path + sep + e.name)).size });
        } catch (err) {
          if (!isErrno(err, 'ENOENT')) throw err; // replaced or removed meanwhile
        }
      }
    }),
  );
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
