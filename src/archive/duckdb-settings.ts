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
