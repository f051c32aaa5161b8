import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Granularity } from '../core/ports/analytics-engine.js';
import { rollupSql, slicedEventsSql } from './event-queries.js';
import { METRICS, type MetricDefinition, storedMetrics } from './metric-catalog.js';
import { duckdbDialect, type SqlDialect, sqlString } from './sql-dialect.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DAY_PARTITION = /^dt=(\d{4}-\d{2}-\d{2})$/;
const HOUR_PARTITION = /^hour=(\d{2})$/;

/** What one rollup file was built from, and which file that is (see `createRollups`). */
interface Built {
  /** Signature of the inputs: an hour's event files (names, sizes), a day's hour signatures. */
  sig: string;
  /** The rollup file as this build left it: `ino:size:mtimeMs`. */
  file: string;
}

interface Manifest {
  /** Catalog fingerprint: a changed catalog rebuilds everything. */
  catalog: string;
  /** `YYYY-MM-DD/HH` → the hourly rollup's build. */
  hours: Record<string, Built>;
  /** `YYYY-MM-DD` → the daily rollup's build. */
  days: Record<string, Built>;
}

export interface RefreshResult {
  hoursBuilt: number;
  daysBuilt: number;
}

/** Rows a slice buffers before DuckDB writes them out (its default, 524,288, per slice could
 *  itself exceed the memory limit with many slices). */
const SLICE_FLUSH_ROWS = 100_000;

/** An hour counts as open until this long after its end (the archive flushes every 5 s). */
const OPEN_GRACE_MS = 120_000;

/** The start of an hour partition's key, `YYYY-MM-DD/HH`, in epoch ms. */
const hourStart = (key: string): number => Date.parse(`${key.slice(0, 10)}T${key.slice(11)}:00:00Z`);

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const unique = (): string => `${process.pid}-${randomBytes(4).toString('hex')}`;
const identity = async (path: string): Promise<string | null> =>
  stat(path).then(
    (s) => `${s.ino}:${s.size}:${s.mtimeMs}`,
    () => null,
  );

/**
 * Incremental hourly and daily rollups of the archive for DuckDB, under
 * `<root>/rollups/hourly/dt=…/hour=…/rollup.parquet` and `<root>/rollups/daily/dt=…/rollup.parquet`,
 * with `<root>/rollups/manifest.json` recording what each was built from.
 *
 * - An hour is rebuilt when its set of event files (names and sizes) changed: files are only
 *   added or replaced, and a late event's file lands in its own (old) hour, so that hour is
 *   rebuilt, and its day when a day is next read. Nothing else is: a refresh with no new
 *   files writes nothing (idempotent; rebuilding gives identical rows, sorted).
 * - Every metric of the catalog that is not `derived` is a column; the day's `sum` and
 *   `distinct` metrics are computed in one pass over the day's deduplicated events (a day's
 *   distinct users need its events anyway; sums equal the sum of its hours by construction).
 * - Files are written under a unique temporary name and renamed: readers, and other processes
 *   refreshing the same root (a CLI beside a server), never see half a file; the same inputs
 *   give the same rows. The manifest records each rollup file's identity (inode, size, mtime)
 *   next to its inputs' signature, so when two processes race on one hour and the older build's
 *   rename lands last, the next refresh sees that the file is not the one the manifest
 *   describes and rebuilds it: a race costs a rebuild, never a stale rollup kept as current.
 */
export function createRollups(opts: {
  root: string;
  connection: DuckDBConnection;
  catalog?: readonly MetricDefinition[];
  /**
   * Most events one query deduplicates (default 2,000,000): a rollup over more is built from
   * disjoint slices of its events (`slicedEventsSql`: read once, written out by slice), rolled
   * up one by one, then summed. One query over an hour of 20M events ran out of DuckDB's 1GB
   * (bench/archive-hour.ts).
   */
  eventsPerPass?: number;
  /**
   * The open hour's rollup (its files change with every archive flush) and the open day's (today:
   * every event of the day so far, ~40–50 s at 20M events here) are each rebuilt at most once per
   * `factor` × its last build's time, once that build took `minMs` or more (default 10 and 1 s):
   * a dashboard asking every minute for hours or days that include the open ones then costs at
   * most a tenth of a DuckDB thread for each, however large, and lags them by up to that. Closed
   * hours and days are always current.
   */
  openRebuild?: { factor: number; minMs: number };
  /** The clock deciding which hour and day are open (default `Date.now`). For tests. */
  now?: () => number;
}) {
  const catalog = opts.catalog ?? METRICS;
  const eventsPerPass = opts.eventsPerPass ?? 2_000_000;
  const openRebuild = opts.openRebuild ?? { factor: 10, minMs: 1000 };
  const now = opts.now ?? Date.now;
  /** This process's last build of each open hour (`YYYY-MM-DD/HH`) and open day (`YYYY-MM-DD`):
   *  when it ended, how long it took, and when that hour or day ends. */
  const openBuilds = new Map<string, { atMs: number; tookMs: number; endMs: number }>();
  /** Whether an open rollup last built as `last` is kept as it is (built recently, at a high cost). */
  const throttled = (last: { atMs: number; tookMs: number } | undefined): boolean =>
    last !== undefined &&
    last.tookMs >= openRebuild.minMs &&
    now() - last.atMs < openRebuild.factor * last.tookMs;
  // Slices add up for sums and for unique users (each user in one slice); a custom catalog's
  // other distinct aggregates would not, so such a catalog builds in one pass.
  const stored = storedMetrics(catalog);
  const sliceable = stored.every(
    (m) =>
      m.rollup === 'sum' ||
      m.expression.replace(/\s+/g, ' ').trim().toLowerCase() === 'count(distinct user_id)',
  );
  const fingerprint = sha1(JSON.stringify(catalog)).slice(0, 16);
  const eventsDir = join(opts.root, 'events');
  const rollupsDir = join(opts.root, 'rollups');
  const manifestPath = join(rollupsDir, 'manifest.json');
  const hourFile = (key: string) =>
    join(rollupsDir, 'hourly', `dt=${key.slice(0, 10)}`, `hour=${key.slice(11)}`, 'rollup.parquet');
  const dayFile = (d: string) => join(rollupsDir, 'daily', `dt=${d}`, 'rollup.parquet');

  /** The event files of each hour partition: `YYYY-MM-DD/HH` → paths and their signature. */
  async function scan(): Promise<Map<string, { files: string[]; sig: string }>> {
    const list = (dir: string) => readdir(dir).catch(() => [] as string[]);
    const hours: Array<{ key: string; dir: string }> = [];
    for (const dayName of (await list(eventsDir)).sort()) {
      const dm = DAY_PARTITION.exec(dayName);
      if (dm === null) continue;
      for (const hourName of (await list(join(eventsDir, dayName))).sort()) {
        const hm = HOUR_PARTITION.exec(hourName);
        if (hm !== null) hours.push({ key: `${dm[1]}/${hm[1]}`, dir: join(eventsDir, dayName, hourName) });
      }
    }
    // Listing and stat calls in parallel: a refresh that finds nothing new costs little.
    const scanned = await Promise.all(
      hours.map(async ({ key, dir }) => {
        const names = (await list(dir)).filter((n) => n.endsWith('.parquet') && !n.startsWith('.')).sort();
        const sizes = await Promise.all(
          names.map((n) =>
            stat(join(dir, n)).then(
              (s) => s.size,
              () => -1, // replaced or removed while listing: the next refresh sees it
            ),
          ),
        );
        const kept = names.filter((_, i) => (sizes[i] ?? -1) >= 0);
        const sig = sha1(kept.map((n) => `${n}:${sizes[names.indexOf(n)]}`).join('\n'));
        return { key, files: kept.map((n) => join(dir, n)), sig };
      }),
    );
    return new Map(
      scanned.filter((h) => h.files.length > 0).map((h) => [h.key, { files: h.files, sig: h.sig }]),
    );
  }

  async function readManifest(): Promise<Manifest> {
    try {
      const m = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
      if (m.catalog === fingerprint) return m;
    } catch {
      // none yet, or unreadable: rebuild
    }
    return { catalog: fingerprint, hours: {}, days: {} };
  }

  /** The identity of each rollup file, looked up in parallel (null: missing). */
  const identities = async (paths: string[]): Promise<Map<string, string | null>> =>
    new Map(await Promise.all(paths.map(async (p) => [p, await identity(p)] as const)));

  /** Builds one rollup file from event files; returns its identity. */
  async function build(g: Granularity, files: string[], fromMs: number, target: string): Promise<string> {
    const range = { fromMs, toMs: fromMs + (g === 'day' ? DAY : HOUR) };
    const dialect = duckdbDialect(files);
    await mkdir(join(target, '..'), { recursive: true });
    const tmp = `${target}.${unique()}.tmp`;
    const slicesDir = `${tmp}.slices`;
    const parts: string[] = [];
    const copy = (sql: string, to: string) =>
      opts.connection.run(`COPY (${sql}) TO ${sqlString(to)} (FORMAT PARQUET, COMPRESSION ZSTD)`);
    try {
      const of = sliceable ? Math.ceil((await countRows(files)) / eventsPerPass) : 1;
      if (of > 1) {
        // One read of the events, written out by slice; then a rollup per slice, summed.
        await opts.connection.run(`SET partitioned_write_flush_threshold = ${SLICE_FLUSH_ROWS}`);
        await opts.connection.run(
          `COPY (${slicedEventsSql(dialect, range, of)}) TO ${sqlString(slicesDir)} (FORMAT PARQUET, PARTITION_BY (slice))`,
        );
        for (const name of (await readdir(slicesDir).catch(() => [] as string[])).sort()) {
          if (!name.startsWith('slice=')) continue;
          const part = `${tmp}.${name.slice(6)}`;
          parts.push(part);
          const slice: SqlDialect = {
            name: 'duckdb',
            events: `read_parquet(${sqlString(join(slicesDir, name, '*.parquet'))}, hive_partitioning = false)`,
            rollups: null,
          };
          await copy(rollupSql(slice, g, range, catalog), part);
        }
      }
      if (parts.length === 0)
        await copy(`${rollupSql(dialect, g, range, catalog)}\nORDER BY placement_id, ad_id`, tmp);
      else await copy(sumParts(parts, await columnTypes(parts[0]!)), tmp);
      const file = (await identity(tmp)) ?? ''; // rename keeps inode, size and mtime
      await rename(tmp, target);
      return file;
    } finally {
      await rm(tmp, { force: true });
      await rm(slicesDir, { recursive: true, force: true });
      for (const part of parts) await rm(part, { force: true });
    }
  }

  /** Rows in the files, from their Parquet footers. */
  async function countRows(files: string[]): Promise<number> {
    const list = files.map(sqlString).join(', ');
    const r = await opts.connection.runAndReadAll(`SELECT count(*) FROM read_parquet([${list}])`);
    return Number(r.getRows()[0]?.[0] ?? 0);
  }

  /** Each stored column's type in a slice's rollup, so the summed rollup keeps the one-query types. */
  async function columnTypes(file: string): Promise<Map<string, string>> {
    const r = await opts.connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`);
    return new Map(r.getRows().map((row) => [String(row[0]), String(row[1])]));
  }

  /** The slices' rows summed per placement × ad × period: every stored metric adds up across them. */
  function sumParts(files: string[], types: Map<string, string>): string {
    const sums = stored.map(
      (m) => `,\n       CAST(sum(${m.column}) AS ${types.get(m.column) ?? 'BIGINT'}) AS ${m.column}`,
    );
    return `SELECT placement_id, ad_id, period${sums.join('')}
FROM read_parquet([${files.map(sqlString).join(', ')}])
GROUP BY placement_id, ad_id, period
ORDER BY placement_id, ad_id`;
  }

  /** What the last refresh left (which rollups exist), or null before the first. */
  let latest: Manifest | null = null;

  async function refreshOnce(withDays: boolean, beforeMs: number): Promise<RefreshResult> {
    const partitions = await scan();
    const manifest = await readManifest();
    const next: Manifest = { catalog: fingerprint, hours: {}, days: {} };
    let hoursBuilt = 0;
    let daysBuilt = 0;
    const dayHours = new Map<string, string[]>();
    const hourIds = await identities([...partitions.keys()].map(hourFile));
    for (const [key, p] of partitions) {
      const d = key.slice(0, 10);
      dayHours.set(d, [...(dayHours.get(d) ?? []), key]);
      const was = manifest.hours[key];
      const from = hourStart(key);
      const open = from + HOUR > now() - OPEN_GRACE_MS;
      const last = open ? openBuilds.get(key) : undefined;
      const intact = was !== undefined && was.file === hourIds.get(hourFile(key));
      // Current when built from these files and still the file that build left.
      if (was?.sig === p.sig && intact) next.hours[key] = was;
      else if (from >= beforeMs) {
        // Not asked for: left as it is, and rebuilt by the next refresh that covers it.
        if (was !== undefined) next.hours[key] = was;
      } else if (intact && throttled(last)) {
        next.hours[key] = was; // the open hour, rebuilt recently at a high cost: as of then
      } else {
        const t0 = performance.now();
        next.hours[key] = { sig: p.sig, file: await build('hour', p.files, from, hourFile(key)) };
        if (open) openBuilds.set(key, { atMs: now(), tookMs: performance.now() - t0, endMs: from + HOUR });
        hoursBuilt++;
      }
    }
    for (const [key, b] of openBuilds) if (b.endMs <= now() - OPEN_GRACE_MS) openBuilds.delete(key);
    for (const key of Object.keys(manifest.hours))
      if (!partitions.has(key)) await rm(hourFile(key), { force: true });
    const dayIds = withDays ? await identities([...dayHours.keys()].map(dayFile)) : new Map<string, null>();
    for (const [d, keys] of dayHours) {
      const was = manifest.days[d];
      if (!withDays) {
        // Hour reports need no days: keep what was built; a day report rebuilds what changed.
        if (was !== undefined) next.days[d] = was;
        continue;
      }
      const sig = sha1(keys.map((k) => `${k}=${next.hours[k]?.sig}`).join('\n'));
      const from = Date.parse(`${d}T00:00:00Z`);
      const open = from + DAY > now() - OPEN_GRACE_MS;
      const intact = was !== undefined && was.file === dayIds.get(dayFile(d));
      if (was?.sig === sig && intact) next.days[d] = was;
      else if (intact && open && throttled(openBuilds.get(d))) {
        next.days[d] = was; // today, rebuilt recently at a high cost: as of then
      } else {
        const files = keys.flatMap((k) => partitions.get(k)?.files ?? []);
        const t0 = performance.now();
        next.days[d] = { sig, file: await build('day', files, from, dayFile(d)) };
        if (open) openBuilds.set(d, { atMs: now(), tookMs: performance.now() - t0, endMs: from + DAY });
        daysBuilt++;
      }
    }
    for (const d of Object.keys(manifest.days)) if (!dayHours.has(d)) await rm(dayFile(d), { force: true });
    if (JSON.stringify(next) !== JSON.stringify(manifest)) {
      await mkdir(rollupsDir, { recursive: true });
      const tmp = `${manifestPath}.${unique()}.tmp`;
      await writeFile(tmp, JSON.stringify(next));
      await rename(tmp, manifestPath);
    }
    latest = next;
    return { hoursBuilt, daysBuilt };
  }

  let running: { days: boolean; beforeMs: number; done: Promise<RefreshResult> } | null = null;

  return {
    rollupsDir,
    /**
     * Brings the hourly rollups (and, unless `days` is false, the daily ones) up to date with the
     * event files. `beforeMs` limits the hours built to those starting before it (the days are
     * then left as they are): the reconciliation asks for closed hours only, and rebuilding the
     * open hour — every event of it so far — each time cost the serving process seconds of CPU
     * and up to DuckDB's memory limit. Concurrent calls share a run that covers what they need.
     * The run uses the connection: its owner must not run other statements on it meanwhile.
     */
    async refresh(opts: { days?: boolean; beforeMs?: number } = {}): Promise<RefreshResult> {
      const beforeMs = opts.beforeMs ?? Number.POSITIVE_INFINITY;
      const days = (opts.days ?? true) && beforeMs === Number.POSITIVE_INFINITY;
      while (running !== null) {
        const current = running;
        if ((current.days || !days) && current.beforeMs >= beforeMs) return current.done;
        await current.done.catch(() => undefined);
      }
      const run = { days, beforeMs, done: refreshOnce(days, beforeMs) };
      running = run;
      try {
        return await run.done;
      } finally {
        if (running === run) running = null;
      }
    },
    /** Whether any rollup of the granularity exists (DuckDB refuses a glob matching nothing). */
    async exists(g: Granularity): Promise<boolean> {
      if (latest !== null) return Object.keys(g === 'hour' ? latest.hours : latest.days).length > 0;
      const dir = join(rollupsDir, g === 'hour' ? 'hourly' : 'daily');
      const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
      return names.some((n) => n.endsWith('/rollup.parquet'));
    },
  };
}

export type Rollups = ReturnType<typeof createRollups>;
