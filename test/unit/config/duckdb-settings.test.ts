import { describe, expect, it } from 'vitest';
import { duckDbConfig, eventsPerQuery, memoryLimitBytes } from '../../../src/archive/duckdb-settings.js';

describe('DuckDB settings', () => {
  it('reads the memory limit in bytes as DuckDB does (KB = 1000, KiB = 1024)', () => {
    expect(memoryLimitBytes()).toBe(1e9);
    expect(memoryLimitBytes({ memoryLimit: '512MB' })).toBe(512e6);
    expect(memoryLimitBytes({ memoryLimit: '2 GiB' })).toBe(2 * 2 ** 30);
    expect(memoryLimitBytes({ memoryLimit: '1.5gb' })).toBe(1.5e9);
    expect(memoryLimitBytes({ memoryLimit: '100KiB' })).toBe(102_400);
    expect(memoryLimitBytes({ memoryLimit: 'lots' })).toBeNaN();
  });

  it('sizes deduplicating queries from the limit: 2M events at 1GB, never under 100K', () => {
    expect(eventsPerQuery()).toBe(2_000_000);
    expect(eventsPerQuery({ memoryLimit: '4GB' })).toBe(8_000_000);
    expect(eventsPerQuery({ memoryLimit: '10MB' })).toBe(100_000);
    expect(eventsPerQuery({ memoryLimit: 'lots' })).toBe(2_000_000);
  });

  it('passes the limit and the thread count through', () => {
    expect(duckDbConfig()).toEqual({ memory_limit: '1GB' });
    expect(duckDbConfig({ memoryLimit: '256MB', threads: 1 })).toEqual({
      memory_limit: '256MB',
      threads: '1',
    });
  });
});
