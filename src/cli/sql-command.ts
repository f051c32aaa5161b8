import { parseArgs } from 'node:util';
import { openArchiveStore } from '../app/open-archive.js';
import { loadConfig } from '../config/config.js';
import { isAllotError } from '../core/errors.js';
import { formatTable } from './format-table.js';

export const SQL_HELP = `allot sql — read-only SQL over the event archive (DuckDB)

Usage:
  allot sql "SELECT ..." [--format table|csv|json]

Views: events (each event once), events_raw (as archived), hourly and daily (the rollups).
Only reading statements run (SELECT, WITH, EXPLAIN, DESCRIBE, …). An S3 archive is synced to the
local cache (ALLOT_ARCHIVE_CACHE_DIR) first. Example:
  allot sql "SELECT placement_id, count(*) FROM events WHERE type = 'impression' GROUP BY ALL"
`;

/** `allot sql`: what an analyst does with Athena, on DuckDB over the archive. */
export async function runSqlCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { format: { type: 'string', default: 'table' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(SQL_HELP);
    return 0;
  }
  const text = positionals.join(' ').trim();
  if (text === '' || !['table', 'csv', 'json'].includes(values.format ?? '')) {
    process.stderr.write(SQL_HELP);
    return 2;
  }
  const config = loadConfig();
  const store = await openArchiveStore(config);
  if (store === null) {
    process.stderr.write('the archive is off (ALLOT_ARCHIVE_DIR=off): there is nothing to query\n');
    return 2;
  }
  const { createDuckDbAnalytics } = await import('../analytics/duckdb-analytics.js');
  let root: string;
  let beforeRead: (() => Promise<void>) | undefined;
  if (config.archive?.kind === 'folder') root = config.archive.dir;
  else {
    const { syncArchiveCache } = await import('../archive/archive-cache.js');
    const { join } = await import('node:path');
    root = config.archiveCacheDir;
    beforeRead = async () => {
      await syncArchiveCache({ store, dir: join(root, 'events'), prefix: 'events/' });
    };
  }
  const engine = await createDuckDbAnalytics({ root, ...(beforeRead === undefined ? {} : { beforeRead }) });
  try {
    const result = await engine.sql(text);
    if (values.format === 'json') {
      const objects = result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c, r[i]])));
      process.stdout.write(`${JSON.stringify(objects, null, 2)}\n`);
    } else if (values.format === 'csv') {
      const { reportToCsv } = await import('../manager/report-service.js');
      const rows = result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c, r[i]])));
      process.stdout.write(reportToCsv({ columns: result.columns, rows: rows as never }));
    } else process.stdout.write(formatTable(result.columns, result.rows));
    return 0;
  } catch (err) {
    if (!isAllotError(err)) {
      // A SQL error (syntax, unknown column) is the analyst's to fix: no stack trace.
      process.stderr.write(`${(err as Error).message}\n`);
      return 2;
    }
    const lines = err.problems.map((p) => `  - ${p.message}`);
    process.stderr.write(`${err.code}: ${err.message}\n${lines.join('\n')}\n`);
    return 2;
  } finally {
    await engine.close();
    await store.close();
  }
}
