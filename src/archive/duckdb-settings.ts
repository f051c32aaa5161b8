/** Resource bounds of a DuckDB instance Allot opens in process (archive writer, compaction, analytics). */
export interface DuckDbSettings {
  /** DuckDB's `memory_limit`, e.g. `1GB`: unbounded, DuckDB would keep up to 80 % of RAM. */
  memoryLimit: string;
  /** DuckDB's worker threads; unset: one per core (what a CLI run wants, not a server). */
  threads?: number;
}

/** The DuckDB configuration for `settings` (default: 1GB, DuckDB's own thread count). */
export function duckDbConfig(settings?: DuckDbSettings): Record<string, string> {
  return {
    memory_limit: settings?.memoryLimit ?? '1GB',
    ...(settings?.threads === undefined ? {} : { threads: String(settings.threads) }),
  };
}

const UNITS: Record<string, number> = {
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** `memoryLimit` in bytes (`1GB` = 10⁹ as DuckDB reads it, `1GiB` = 2³⁰); NaN if unreadable. */
export function memoryLimitBytes(settings?: DuckDbSettings): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b)$/i.exec((settings?.memoryLimit ?? '1GB').trim());
  return m === null ? Number.NaN : Number(m[1]) * (UNITS[m[2]!.toLowerCase()] ?? Number.NaN);
}

/**
 * Events one deduplicating query may hold within the memory limit: ~200 bytes each measured
 * (bench/archive-hour.ts), so limit ÷ 500 keeps a margin — 2M at the default 1GB, at least 100K.
 * Compaction and the rollups work on slices of this size.
 */
export function eventsPerQuery(settings?: DuckDbSettings): number {
  const limit = memoryLimitBytes(settings);
  return Number.isFinite(limit) ? Math.max(100_000, Math.floor(limit / 500)) : 2_000_000;
}
