import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Granularity } from '../core/ports/analytics-engine.js';
import { rollupSql } from './event-queries.js';
import { METRICS, type MetricDefinition } from './metric-catalog.js';
import { duckdbDialect, sqlString } from './sql-dialect.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PARTITION = /^dt=(\d{4}-\d{2}-\d{2})$/;
const HOUR_PARTITION = /^hour=(\d{2})$/;

interface Manifest {
  /** Catalog fingerprint: a changed catalog rebuilds everything. */
  catalog: string;
  /** `YYYY-MM-DD/HH` → signature of the event files the hourly rollup was built from. */
  hours: Record<string, string>;
  /** `YYYY-MM-DD` → signature of the day's hour signatures. */
  days: Record<string, string>;
}

export interface RefreshResult {
  hoursBuilt: number;
  daysBuilt: number;
}

/**
 * Incremental hourly and daily rollups of the archive, for DuckDB, under
 * `<root>/rollups/{hourly/dt=…/hour=…,daily/dt=…}/rollup.parquet`. An hour is rebuilt when its set
 * of event files (names and sizes) changed — a late event's file lands in its own hour, which is
 * rebuilt with its day — and only then: re-running a refresh, or a day, changes nothing.
 * Rollups are written under a temporary name and renamed, so a reader (or another process
 * refreshing the same root) never sees half a file; the same inputs give the same rows.
 */
export function createRollups(opts: {
  root: string;
  connection: DuckDBConnection;
  catalog?: readonly MetricDefinition[];
}) {
  const catalog = opts.catalog ?? METRICS;
  const fingerprint = createHash('sha1').update(JSON.stringify(catalog)).digest('hex').slice(0, 16);
  const eventsDir = join(opts.root, 'events');
  const rollupsDir = join(opts.root, 'rollups');
  const manifestPath = join(rollupsDir, 'manifest.json');

  /** The event files of each hour partition: `YYYY-MM-DD/HH` → sorted paths + signature. */
  async function scan(): Promise<Map<string, { files: string[]; sig: string }>> {
    const out = new Map<string, { files: string[]; sig: string }>();
    const days = await readdir(eventsDir).catch(() => [] as string[]);
    for (const dayName of days.sort()) {
      const dm = PARTITION.exec(dayName);
      if (dm === null) continue;
      const hours = await readdir(join(eventsDir, dayName)).catch(() => [] as string[]);
      for (const hourName of hours.sort()) {
        const hm = HOUR_PARTITION.exec(hourName);
        if (hm === null) continue;
        const dir = join(eventsDir, dayName, hourName);
        const names = (await readdir(dir).catch(() => [] as string[]))
          .filter((n) => n.endsWith('.parquet') && !n.startsWith('.'))
          .sort();
        if (names.length === 0) continue;
        const parts: string[] = [];
        for (const n of names) {
          const size = await stat(join(dir, n)).then(
            (s) => s.size,
            () => -1,
          );
          if (size >= 0) parts.push(`${n}:${size}`);
        }
        out.set(`${dm[1]}/${hm[1]}`, {
          files: names.map((n) => join(dir, n)),
          sig: createHash('sha1').update(parts.join('\n')).digest('hex'),
        });
      }
    }
    return out;
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

  async function build(g: Granularity, files: string[], fromMs: number, target: string): Promise<void> {
    const sql = rollupSql(
      duckdbDialect(files),
      g,
      { fromMs, toMs: fromMs + (g === 'day' ? DAY : HOUR) },
      catalog,
    );
    await mkdir(join(target, '..'), { recursive: true });
    const tmp = `${target}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      await opts.connection.run(
        `COPY (${sql} ORDER BY placement_id, ad_id) TO ${sqlString(tmp)} (FORMAT PARQUET, COMPRESSION ZSTD)`,
      );
      await rename(tmp, target);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  const hourFile = (key: string) => {
    const [d, h] = key.split('/');
    return join(rollupsDir, 'hourly', `dt=${d}`, `hour=${h}`, 'rollup.parquet');
  };
  const dayFile = (d: string) => join(rollupsDir, 'daily', `dt=${d}`, 'rollup.parquet');

  let running: { days: boolean; done: Promise<RefreshResult> } | null = null;
  async function refreshOnce(withDays: boolean): Promise<RefreshResult> {
    const partitions = await scan();
    const manifest = await readManifest();
    const next: Manifest = { catalog: fingerprint, hours: {}, days: {} };
    let hoursBuilt = 0;
    let daysBuilt = 0;
    const dayHours = new Map<string, string[]>();
    for (const [key, p] of partitions) {
      const d = key.slice(0, 10);
      dayHours.set(d, [...(dayHours.get(d) ?? []), key]);
      if (manifest.hours[key] !== p.sig) {
        await build('hour', p.files, Date.parse(`${d}T${key.slice(11)}:00:00Z`), hourFile(key));
        hoursBuilt++;
      }
      next.hours[key] = p.sig;
    }
    for (const key of Object.keys(manifest.hours)) {
      if (!partitions.has(key)) await rm(hourFile(key), { force: true });
    }
    for (const [d, keys] of dayHours) {
      if (!withDays) {
        // Hour reports do not need days: keep what was built, rebuilt when a day is asked for.
        if (manifest.days[d] !== undefined) next.days[d] = manifest.days[d];
        continue;
      }
      const sig = createHash('sha1')
        .update(keys.map((k) => `${k}=${next.hours[k]}`).join('\n'))
        .digest('hex');
      if (manifest.days[d] !== sig) {
        const files = keys.flatMap((k) => partitions.get(k)?.files ?? []);
        await build('day', files, Date.parse(`${d}T00:00:00Z`), dayFile(d));
        daysBuilt++;
      }
      next.days[d] = sig;
    }
    for (const d of Object.keys(manifest.days)) if (!dayHours.has(d)) await rm(dayFile(d), { force: true });
    const changed =
      hoursBuilt + daysBuilt > 0 ||
      Object.keys(manifest.hours).length !== partitions.size ||
      Object.keys(manifest.days).length !== Object.keys(next.days).length;
    if (changed) {
      await mkdir(rollupsDir, { recursive: true });
      const tmp = `${manifestPath}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(tmp, JSON.stringify(next));
      await rename(tmp, manifestPath);
    }
    return { hoursBuilt, daysBuilt };
  }

  return {
    /**
     * Brings the hourly rollups (and, unless `days` is false, the daily ones) up to date with the
     * event files. Concurrent calls share a run that covers what they need.
     */
    async refresh(opts: { days?: boolean } = {}): Promise<RefreshResult> {
      const days = opts.days ?? true;
      while (running !== null) {
        const current = running;
        if (current.days || !days) return current.done;
        await current.done.catch(() => undefined);
      }
      const run = { days, done: refreshOnce(days) };
      running = run;
      try {
        return await run.done;
      } finally {
        if (running === run) running = null;
      }
    },
    /** Glob of a granularity's rollup files (for `read_parquet`). */
    glob: (g: Granularity): string =>
      join(rollupsDir, g === 'hour' ? 'hourly' : 'daily', '**', 'rollup.parquet'),
    /** Whether any rollup of the granularity exists (DuckDB refuses a glob matching nothing). */
    async exists(g: Granularity): Promise<boolean> {
      const dir = join(rollupsDir, g === 'hour' ? 'hourly' : 'daily');
      return (await readdir(dir).catch(() => [] as string[])).some((n) => n.startsWith('dt='));
    },
  };
}

export type Rollups = ReturnType<typeof createRollups>;
