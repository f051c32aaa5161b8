import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ArchiveStore } from '../core/ports/archive-store.js';
import { type DuckDbSettings, duckDbConfig } from './duckdb-settings.js';
import { ARCHIVE_SCHEMA_VERSION, EVENTS_PREFIX } from './parquet-archive.js';

const HOUR = 3_600_000;
const PARTITION = /^events\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/[^/]+\.parquet$/;
const q = (s: string) => `'${s.replaceAll("'", "''")}'`;

export interface CompactionResult {
  /** Hour partitions merged into one file. */
  partitions: number;
  /** Files replaced by the merged ones. */
  filesRemoved: number;
}

/**
 * Merges the files of each closed hour into one. The archiver writes a file per hour touched
 * and flush (720 an hour at the default 5 s), which every later read would pay for; an hour is
 * compacted once it ended `settleMs` ago (events are stamped when received, so only a replay
 * writes into a past hour — and the next run merges that file too).
 *
 * Crash-safe in any order: the merged file (each event id once, named by a hash of the files it
 * replaces) is put first, the originals deleted after; a crash in between leaves rows twice,
 * which every read counts once and the next run merges. Two compactors (two pipelines) on the
 * same hour write the same name or overlapping files: reads still count each id once.
 */
export async function compactArchive(opts: {
  store: ArchiveStore;
  stagingDir: string;
  nowMs: number;
  settleMs?: number;
  /** At most this many partitions per run (bounded work; the rest next time). */
  maxPartitions?: number;
  /** Memory and threads of its DuckDB instance. */
  duckdb?: DuckDbSettings;
}): Promise<CompactionResult> {
  const settleMs = opts.settleMs ?? 10 * 60_000;
  const byPartition = new Map<string, string[]>();
  for (const o of await opts.store.list(EVENTS_PREFIX)) {
    const m = PARTITION.exec(o.key);
    if (m === null) continue;
    const hourEnd = Date.parse(`${m[1]}T${m[2]}:00:00Z`) + HOUR;
    if (hourEnd > opts.nowMs - settleMs) continue;
    const key = `${m[1]}/${m[2]}`;
    byPartition.set(key, [...(byPartition.get(key) ?? []), o.key]);
  }
  const todo = [...byPartition].filter(([, keys]) => keys.length > 1).slice(0, opts.maxPartitions ?? 48);
  const result: CompactionResult = { partitions: 0, filesRemoved: 0 };
  if (todo.length === 0) return result;

  const work = join(opts.stagingDir, `compact-${process.pid}`);
  const instance = await DuckDBInstance.create(':memory:', duckDbConfig(opts.duckdb));
  const connection = await instance.connect();
  try {
    for (const [partition, keys] of todo) {
      await rm(work, { recursive: true, force: true });
      await mkdir(work, { recursive: true });
      const locals: string[] = [];
      for (const [i, key] of keys.entries()) {
        const local = join(work, `${i}.parquet`);
        await opts.store.get(key, local);
        locals.push(local);
      }
      const hash = createHash('sha1').update(keys.sort().join('\n')).digest('hex').slice(0, 20);
      const [dt, hour] = partition.split('/');
      const target = `${EVENTS_PREFIX}dt=${dt}/hour=${hour}/events-v${ARCHIVE_SCHEMA_VERSION}-c${hash}.parquet`;
      const merged = join(work, 'merged.parquet');
      await connection.run(
        `COPY (SELECT id, type, ts, decision_id, placement_id, ad_id, user_id, schema_version
                 FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY ts) AS copy
                         FROM read_parquet([${locals.map(q).join(', ')}], hive_partitioning = false, union_by_name = true))
                WHERE copy = 1 ORDER BY ts)
         TO ${q(merged)} (FORMAT PARQUET, COMPRESSION ZSTD)`,
      );
      await opts.store.put(target, merged);
      await opts.store.delete(keys.filter((k) => k !== target));
      result.partitions++;
      result.filesRemoved += keys.filter((k) => k !== target).length;
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(work, { recursive: true, force: true });
  }
  return result;
}
