import { parseArgs } from 'node:util';
import { openAnalytics, openArchiveStore } from '../app/open-archive.js';
import { openConfigStore } from '../app/open-config-store.js';
import { loadConfig } from '../config/config.js';
import { isAllotError } from '../core/errors.js';
import { createReportService, reportToCsv } from '../manager/report-service.js';
import { formatTable } from './format-table.js';

export const REPORT_HELP = `allot report — the allocation report from the event archive

Usage:
  allot report --from <ISO 8601> --to <ISO 8601> [--placement <id>] [--granularity hour|day]
               [--format table|csv|json]

Per placement × ad × period: decisions, impressions, clicks, CTR, render rate, unique users,
realized share vs target share. Reads the archive the environment names (ALLOT_DATA_DIR,
ALLOT_ARCHIVE_DIR or ALLOT_ARCHIVE_URL; docs/configuration.md), like GET /v1/reports/allocation.
`;

/** `allot report`: the same report as the API, computed in this process over the archive. */
export async function runReportCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      placement: { type: 'string' },
      granularity: { type: 'string' },
      format: { type: 'string', default: 'table' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(REPORT_HELP);
    return 0;
  }
  if (!['table', 'csv', 'json'].includes(values.format ?? '')) {
    process.stderr.write(`--format must be table, csv or json\n\n${REPORT_HELP}`);
    return 2;
  }
  const config = loadConfig();
  const archiveStore = await openArchiveStore(config);
  if (archiveStore === null) {
    process.stderr.write('the archive is off (ALLOT_ARCHIVE_DIR=off): there is nothing to report on\n');
    return 2;
  }
  const store = await openConfigStore(config);
  const silent = (await import('pino')).pino({ level: 'silent' });
  const analytics = await openAnalytics(config, archiveStore, silent);
  try {
    const service = createReportService({
      analytics: analytics.engine,
      store,
      metrics: analytics.metrics,
      now: Date.now,
      freshnessSeconds: Math.ceil(config.archiveFlushMs / 1000),
    });
    const report = await service.allocation({
      placementId: values.placement,
      from: values.from,
      to: values.to,
      granularity: values.granularity,
    });
    if (values.format === 'csv') process.stdout.write(reportToCsv(report));
    else if (values.format === 'json') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else
      process.stdout.write(
        formatTable(
          report.columns,
          report.rows.map((r) => report.columns.map((c) => r[c])),
        ),
      );
    return 0;
  } catch (err) {
    if (!isAllotError(err)) throw err;
    const lines = err.problems.map((p) => `  - ${p.path.slice(1)} ${p.message}`);
    process.stderr.write(`${err.code}: ${err.message}\n${lines.join('\n')}\n`);
    return 2;
  } finally {
    await analytics.engine.close();
    await store.close();
    await archiveStore.close();
  }
}
