/** One object of the archive: its key (relative, `/`-separated) and size in bytes. */
export interface ArchiveObject {
  key: string;
  size: number;
}

/**
 * Where archived Parquet files live: a local folder (embedded default) or an S3 bucket prefix.
 * Keys are relative and `/`-separated, e.g. `events/dt=2026-11-26/hour=20/events-v1-<hash>.parquet`.
 *
 * Adapters: local folder, S3. Contract (`test/conformance/archive-store`):
 * - `put` is atomic: a reader (`list`, `get`) sees the whole object or none; putting an existing
 *   key replaces it (the same batch replayed leaves one object).
 * - `list(prefix)` returns every object whose key starts with `prefix`, sorted by key, however many
 *   (adapters page internally); temporary objects of unfinished puts are never listed.
 * - `put` takes the local file over: a store may move it into place (the local folder store does,
 *   on the same filesystem) or copy it; the caller removes it afterwards (`rm` with `force`).
 * - `get` writes the object to a local file atomically (temporary name + rename); an object that
 *   is not there is AllotError `ALLOT_ERR_NOT_FOUND`, and the local file is left as it was.
 * - A key with an empty, `.`, `..` or `.tmp-` segment is AllotError `ALLOT_ERR_VALIDATION`.
 * - Errors are thrown, never swallowed; a failed `put` leaves no object under its key (or the
 *   previous one, untouched).
 */
export interface ArchiveStore {
  /** Where it is, for logs and docs: a folder path or `s3://bucket/prefix`. */
  readonly location: string;
  put(key: string, localFile: string): Promise<void>;
  list(prefix: string): Promise<ArchiveObject[]>;
  get(key: string, localFile: string): Promise<void>;
  /** Removes the objects (the compactor, once their rows are in a merged file); missing ones are fine. */
  delete(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}
