import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';

export const ATHENA_HELP = `allot athena-ddl — the Athena table over the S3 event archive

Usage:
  allot athena-ddl [--start YYYY-MM-DD]

Prints CREATE EXTERNAL TABLE for the archive named by ALLOT_ARCHIVE_URL (s3://bucket/prefix),
as ALLOT_ATHENA_DATABASE.ALLOT_ATHENA_TABLE (allot.events), with partition projection on dt
and hour from --start (default 2026-01-01): run it once in Athena; no MSCK REPAIR is needed.
`;

/** `allot athena-ddl`: the DDL production runs, from the same column list DuckDB reads. */
export async function runAthenaDdlCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { start: { type: 'string', default: '2026-01-01' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(ATHENA_HELP);
    return 0;
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(values.start ?? '')) {
    process.stderr.write(`--start must be YYYY-MM-DD\n\n${ATHENA_HELP}`);
    return 2;
  }
  const config = loadConfig();
  if (config.archive?.kind !== 's3') {
    process.stderr.write('allot athena-ddl needs ALLOT_ARCHIVE_URL=s3://bucket/prefix (Athena reads S3)\n');
    return 2;
  }
  const { athenaEventsTableDdl } = await import('../analytics/athena-ddl.js');
  const database = config.analytics.engine === 'athena' ? config.analytics.database : 'allot';
  const table = config.analytics.engine === 'athena' ? config.analytics.table : 'events';
  process.stdout.write(
    `${athenaEventsTableDdl({
      database,
      table,
      location: `${config.archive.url.replace(/\/$/, '')}/events/`,
      startDate: values.start ?? '2026-01-01',
    })}\n`,
  );
  return 0;
}
