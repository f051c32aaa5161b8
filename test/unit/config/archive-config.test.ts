import { describe, expect, it } from 'vitest';
import { loadTestConfig as load, configProblems as problems } from '../../support/load-config.js';

describe('archive configuration', () => {
  it('defaults: a folder under the data dir, the event log on, DuckDB, reconciliation every 5 minutes', () => {
    const c = load({});
    expect(c.archive).toEqual({ kind: 'folder', dir: '/data/archive' });
    expect(c.eventLogDir).toBe('/data/event-log');
    expect(c.eventLogCommitMs).toBe(5);
    expect(c.archiveCacheDir).toBe('/data/archive-cache');
    expect(c.analytics).toEqual({ engine: 'duckdb' });
    expect(c.reconcileIntervalSeconds).toBe(300);
  });

  it('S3 archive with an endpoint; Athena settings', () => {
    const c = load({
      ALLOT_ARCHIVE_URL: 's3://ads-archive/prod',
      ALLOT_S3_ENDPOINT: 'http://127.0.0.1:9000',
      ALLOT_ANALYTICS: 'athena',
      ALLOT_ATHENA_OUTPUT: 's3://ads-archive/athena-results/',
    });
    expect(c.archive).toEqual({
      kind: 's3',
      url: 's3://ads-archive/prod',
      endpoint: 'http://127.0.0.1:9000',
    });
    expect(c.analytics).toEqual({
      engine: 'athena',
      database: 'allot',
      table: 'events',
      workgroup: 'primary',
      outputLocation: 's3://ads-archive/athena-results/',
    });
  });

  it('event log commit interval: set, or refused out of range', () => {
    expect(load({ ALLOT_EVENT_LOG_COMMIT_MS: '0' }).eventLogCommitMs).toBe(0);
    expect(problems({ ALLOT_EVENT_LOG_COMMIT_MS: '-1' }).join()).toMatch(/ALLOT_EVENT_LOG_COMMIT_MS/);
    expect(problems({ ALLOT_EVENT_LOG_COMMIT_MS: 'soon' }).join()).toMatch(/ALLOT_EVENT_LOG_COMMIT_MS/);
  });

  it('pipeline stages: both by default; a fleet pipeline process may run one; one process runs both', () => {
    const fleet = { ALLOT_REDIS_URL: 'redis://127.0.0.1:6379', ALLOT_BUS: 'redis', ALLOT_ROLE: 'pipeline' };
    expect(load({}).pipelineStages).toEqual({ count: true, archive: true });
    expect(load({ ...fleet, ALLOT_PIPELINE_STAGES: 'count' }).pipelineStages).toEqual({
      count: true,
      archive: false,
    });
    expect(load({ ...fleet, ALLOT_PIPELINE_STAGES: 'archive' }).pipelineStages).toEqual({
      count: false,
      archive: true,
    });
    expect(problems({ ...fleet, ALLOT_PIPELINE_STAGES: 'count,index' }).join()).toMatch(
      /ALLOT_PIPELINE_STAGES/,
    );
    expect(problems({ ...fleet, ALLOT_PIPELINE_STAGES: ',' }).join()).toMatch(/ALLOT_PIPELINE_STAGES/);
    expect(problems({ ALLOT_PIPELINE_STAGES: 'count' }).join()).toMatch(/\(role all\) runs both/);
  });

  it('no archive: no event log either; a broker needs none', () => {
    expect(load({ ALLOT_ARCHIVE_DIR: 'off' }).eventLogDir).toBeNull();
    expect(load({ ALLOT_BUS: 'redis', ALLOT_REDIS_URL: 'redis://127.0.0.1:6379' }).eventLogDir).toBeNull();
  });

  it('bounds DuckDB memory: 1GB by default, a size when set, refused otherwise', () => {
    expect(load({}).duckdb).toEqual({ memoryLimit: '1GB', threads: 1 });
    expect(load({ ALLOT_DUCKDB_MEMORY_LIMIT: '512MB', ALLOT_DUCKDB_THREADS: '2' }).duckdb).toEqual({
      memoryLimit: '512MB',
      threads: 2,
    });
    expect(problems({ ALLOT_DUCKDB_MEMORY_LIMIT: 'lots' })).toEqual([
      'ALLOT_DUCKDB_MEMORY_LIMIT must be a size such as 512MB or 2GB',
    ]);
  });

  it('lists every archive problem at once', () => {
    expect(
      problems({
        ALLOT_ARCHIVE_URL: 'https://bucket/x',
        ALLOT_ARCHIVE_DIR: '/elsewhere',
        ALLOT_S3_ENDPOINT: 'localhost:9000',
        ALLOT_EVENT_LOG: 'maybe',
        ALLOT_ANALYTICS: 'bigquery',
      }),
    ).toEqual([
      'ALLOT_S3_ENDPOINT must be an http(s) URL',
      'set ALLOT_ARCHIVE_URL or ALLOT_ARCHIVE_DIR, not both',
      'ALLOT_ARCHIVE_URL must be s3://bucket[/prefix]',
      'ALLOT_EVENT_LOG must be on or off',
      'ALLOT_ANALYTICS must be duckdb or athena',
    ]);
    expect(problems({ ALLOT_ANALYTICS: 'athena', ALLOT_ATHENA_TABLE: 'Bad-Name' })).toEqual([
      'ALLOT_ANALYTICS=athena needs ALLOT_ARCHIVE_URL=s3://…',
      'ALLOT_ATHENA_TABLE must match [a-z_][a-z0-9_]{0,127}',
    ]);
    expect(problems({ ALLOT_ARCHIVE_DIR: 'off', ALLOT_EVENT_LOG: 'on' })).toEqual([
      'ALLOT_EVENT_LOG=on needs the archive (the log is truncated once events are archived)',
    ]);
  });
});
