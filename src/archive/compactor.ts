import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ArchiveStore } from '../core/ports/archive-store.js';
import { type DuckDbSettings, duckDbConfig, eventsPerQuery } from './duckdb-settings.js';
import { ARCHIVE_SCHEMA_VERSION, EVENTS_PREFIX } from './parquet-batch-writer.js';

const HOUR = 3_600_000;
const PARTITION = /^events\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/[^/]+\.parquet$/;
const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
/** Rows a slice buffers before DuckDB writes them out (its default, 524,288, per slice could
 *  itself exceed the memory limit with many slices; as the rollups do). */
const SLICE_FLUSH_ROWS = 100_000;
/** A merged file of a compaction in passes: `…-c<hash>-<i>of<n>.parquet`. */
const PASS_FILE = /-c([0-9a-f]{20})-(\d+)of(\d+)\.parquet$/;

/** True when the files are exactly the n files one compaction in passes wrote. */
function isCompactedSet(keys: readonly string[]): boolean {
  const parsed = keys.map((k) => PASS_FILE.exec(k));
  if (parsed.some((m) => m === null)) return false;
  const [hash, of] = [parsed[0]![1], parsed[0]![3]];
  const indexes = new Set(parsed.map((m) => m![2]));
  return (
    parsed.every((m) => m![1] === hash && m![3] === of) &&
    indexes.size === keys.length &&
    Number(of) === keys.length
  );
}

export interface CompactionResult {
  /** Hour partitions merged into one file. */
  partitions: number;
  /** Files replaced by the merged ones. */
  filesRemoved: number;
}

/**
 * Merges the files of each closed hour into one — or, for an hour of more events than one
 * query holds (`eventsPerPass`), into one per slice of its ids (the hour read once and written
 * out by slice, then each slice merged). The archiver writes a file per hour touched
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
  /**
   * Most events one merge query holds (default: from the memory limit, 2M at 1GB): an hour of
   * more is merged in passes over disjoint slices of its ids, one file each. In one query, an
   * hour of 10M events ran out of DuckDB's 1GB (bench/archive-hour.ts).
   */
  eventsPerPass?: number;
}): Promise<CompactionResult> {
  const eventsPerPass = opts.eventsPerPass ?? eventsPerQuery(opts.duckdb);
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
  const todo = [...byPartition]
    .filter(([, keys]) => keys.length > 1 && !isCompactedSet(keys))
    .slice(0, opts.maxPartitions ?? 48);
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
      const source = `read_parquet([${locals.map(q).join(', ')}], hive_partitioning = false, union_by_name = true)`;
      const counted = await connection.runAndReadAll(`SELECT count(*) FROM ${source}`);
      const passes = Math.max(1, Math.ceil(Number(counted.getRows()[0]?.[0] ?? 0) / eventsPerPass));
      const targets: string[] = [];
      // In passes: the hour read once and written out by slice of its ids (each id's copies share
      // the id, so every slice deduplicates exactly); then each slice merged on its own. (Reading
      // the whole hour once per slice took 148 s for 20M events, this 79–90 s: bench/archive-hour.ts.)
      const slicesDir = join(work, 'slices');
      if (passes > 1) {
        await connection.run(`SET partitioned_write_flush_threshold = ${SLICE_FLUSH_ROWS}`);
        await connection.run(
          `COPY (SELECT *, hash(id) % ${passes} AS slice FROM ${source})
           TO ${q(slicesDir)} (FORMAT PARQUET, PARTITION_BY (slice))`,
        );
      }
      for (let i = 0; i < passes; i++) {
        const sliceDir = join(slicesDir, `slice=${i}`);
        const from =
          passes === 1
            ? source
            : existsSync(sliceDir)
              ? `read_parquet(${q(join(sliceDir, '*.parquet'))}, hive_partitioning = false)`
              : `(SELECT * FROM ${source} LIMIT 0)`; // an empty slice still gets its (empty) file
        const name = passes === 1 ? `c${hash}` : `c${hash}-${i}of${passes}`;
        const target = `${EVENTS_PREFIX}dt=${dt}/hour=${hour}/events-v${ARCHIVE_SCHEMA_VERSION}-${name}.parquet`;
        const merged = join(work, `merged-${i}.parquet`);
        await connection.run(
          `COPY (SELECT id, type, ts, decision_id, placement_id, ad_id, user_id, schema_version
                   FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY ts) AS copy
                           FROM ${from})
                  WHERE copy = 1 ORDER BY ts)
           TO ${q(merged)} (FORMAT PARQUET, COMPRESSION ZSTD)`,
        );
        await opts.store.put(target, merged);
        await rm(merged, { force: true });
        targets.push(target);
      }
      // Only once every merged file is in place: a crash before leaves rows twice (reads count
      // each id once) and the next run merges again.
      const removed = keys.filter((k) => !targets.includes(k));
      await opts.store.delete(removed);
      result.partitions++;
      result.filesRemoved += removed.length;
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(work, { recursive: true, force: true });
  }
  return result;
}
