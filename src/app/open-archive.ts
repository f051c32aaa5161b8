import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AllotConfig } from '../config/config.js';
import type { AnalyticsEngine } from '../core/ports/analytics-engine.js';
import type { ArchiveStore } from '../core/ports/archive-store.js';

/** What a metric definition shows outside the analytics (report schema, CSV header, docs). */
export interface MetricInfo {
  name: string;
  description: string;
  format: 'count' | 'ratio';
}

/**
 * The AWS SDK warns on Node 20 that its releases after January 2027 will need Node 22; the
 * version pinned here supports Node 20 (docs/operations.md), so the warning only adds noise to
 * every start and to `allot report` / `allot sql` output.
 */
function quietAwsSdk(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/**
 * Opens where the archive lives: the local folder, or the S3 bucket prefix (the AWS SDK is
 * loaded only then). Null when the archive is off.
 */
export async function openArchiveStore(config: AllotConfig): Promise<ArchiveStore | null> {
  const where = config.archive;
  if (where === null) return null;
  if (where.kind === 's3') {
    quietAwsSdk();
    const { createS3ArchiveStore } = await import('../adapters/s3/s3-archive-store.js');
    return createS3ArchiveStore({
      url: where.url,
      ...(where.endpoint === null ? {} : { endpoint: where.endpoint }),
    });
  }
  const { createFolderArchiveStore } = await import('../adapters/file/folder-archive-store.js');
  return createFolderArchiveStore({ dir: where.dir });
}

/**
 * The analytics engine reports run on: DuckDB over the local archive folder (or over a local
 * cache of an S3 archive, synced before each read), or Athena over S3.
 */
export async function openAnalytics(
  config: AllotConfig,
  store: ArchiveStore,
  logger: Logger,
): Promise<{ engine: AnalyticsEngine; metrics: readonly MetricInfo[] }> {
  const { METRICS } = await import('../analytics/metric-catalog.js');
  if (config.analytics.engine === 'athena') {
    quietAwsSdk();
    const { createAthenaAnalytics } = await import('../analytics/athena-analytics.js');
    const a = config.analytics;
    return {
      engine: createAthenaAnalytics({
        database: a.database,
        table: a.table,
        workgroup: a.workgroup,
        ...(a.outputLocation === null ? {} : { outputLocation: a.outputLocation }),
      }),
      metrics: METRICS,
    };
  }
  const { createDuckDbAnalytics } = await import('../analytics/duckdb-analytics.js');
  if (config.archive?.kind === 'folder') {
    return {
      engine: await createDuckDbAnalytics({
        root: config.archive.dir,
        duckdb: config.duckdb,
      }),
      metrics: METRICS,
    };
  }
  // DuckDB cannot read S3 here (httpfs downloads at run time): mirror the objects locally.
  const { syncArchiveCache } = await import('../archive/archive-cache.js');
  const root = config.archiveCacheDir;
  const engine = await createDuckDbAnalytics({
    root,
    duckdb: config.duckdb,
    beforeRead: async () => {
      const s = await syncArchiveCache({ store, dir: join(root, 'events'), prefix: 'events/' });
      if (s.downloaded + s.removed > 0) logger.debug(s, 'archive cache synced');
    },
  });
  return { engine, metrics: METRICS };
}
