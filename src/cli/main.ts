import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { createAllot } from '../app/create-allot.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { isAllotError } from '../core/errors.js';
import { runSimCommand } from './sim-command.js';

const HELP = `allot — ad allocation server

Usage:
  allot start            start Allot (embedded: SQLite config, in-memory pipeline)
  allot start --role decision|manager|pipeline|controller|all
                         one role of a fleet (needs ALLOT_REDIS_URL; decision and pipeline
                         also ALLOT_BUS=redis|nats); default all = everything in one process
  allot report --from <ISO> --to <ISO> [--placement id] [--granularity hour|day] [--format table|csv|json]
                         the allocation report from the event archive (allot report --help)
  allot sql "SELECT …"   read-only SQL over the archive on DuckDB (views events, hourly, daily)
  allot athena-ddl       CREATE EXTERNAL TABLE for Athena over the S3 archive
  allot sim --scenario scenarios/hard.json
                         simulate allocation strategies on a scenario (allot sim --help)
  allot --help           this help
  allot --version        print the version

Configuration comes from environment variables (docs/configuration.md):
  PORT (8080)  HOST (127.0.0.1)  ALLOT_DATA_DIR (./.allot)  ALLOT_ADMIN_TOKEN
  ALLOT_CONFIG_DB (sqlite:<dataDir>/config.sqlite | postgres://…)  ALLOT_BEACON_SECRET
  ALLOT_PUBLIC_URL  ALLOT_IMPRESSION_TTL_SECONDS (900)  ALLOT_CLICK_TTL_SECONDS (86400)
  ALLOT_LOG_LEVEL (info)  ALLOT_WORKERS (1; role decision: node:cluster workers)
  ALLOT_ARCHIVE_DIR (<dataDir>/archive | off)  ALLOT_ARCHIVE_URL (s3://bucket/prefix)  ALLOT_S3_ENDPOINT
`;

/**
 * `ALLOT_WORKERS=N` with role decision: this process forks N workers that share the port
 * (node:cluster), replaces any that dies, and on SIGTERM/SIGINT stops them gracefully.
 */
function startPrimary(workers: number): void {
  let stopping = false;
  let listening = 0;
  for (let i = 0; i < workers; i++) cluster.fork();
  // Announced once every worker listens (a replacement listening later is not announced again).
  cluster.on('listening', (_worker, address) => {
    if (++listening !== workers) return;
    const host = address.address === null || address.address.includes(':') ? '127.0.0.1' : address.address;
    process.stdout.write(
      `\nAllot (role decision, ${workers} workers, primary ${process.pid}) is running at http://${host}:${address.port}\n\n`,
    );
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    process.stderr.write(`worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
    cluster.fork();
  });
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const live = Object.values(cluster.workers ?? {});
    if (live.length === 0) process.exit(0);
    for (const w of live) w?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function start(role: string | undefined): Promise<void> {
  const config = loadConfig(undefined, undefined, role === undefined ? {} : { role });
  if (config.workers > 1 && cluster.isPrimary) {
    startPrimary(config.workers);
    return;
  }
  const allot = await createAllot(config);
  const url = await allot.listen();
  if (cluster.isWorker) {
    // The primary announces the address; a worker only logs that it is up.
    allot.logger.info({ url, worker: cluster.worker?.id }, 'worker listening');
  } else {
    // The generated token is shown once, when it is created; later starts say where it is.
    const tokenLine = {
      generated: `admin token: ${allot.adminToken}  (generated; stored in ${config.dataDir}/admin-token)`,
      file: `admin token: in ${config.dataDir}/admin-token`,
      env: 'admin token: from ALLOT_ADMIN_TOKEN',
    }[allot.adminTokenSource];
    process.stdout.write(
      `\nAllot (role ${config.role}) is running at ${url}\n  ${tokenLine}\n  API docs: ${url}/docs   OpenAPI: ${url}/openapi.json   metrics: ${url}/metrics\n\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    allot.logger.info({ signal }, 'shutting down');
    allot.close().then(
      () => process.exit(0),
      (err: unknown) => {
        allot.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export async function main(argv: string[]): Promise<number> {
  // Subcommands with options of their own parse their own arguments.
  if (argv[0] === 'sim') return runSimCommand(argv.slice(1));
  if (argv[0] === 'report' || argv[0] === 'sql' || argv[0] === 'athena-ddl') {
    try {
      if (argv[0] === 'athena-ddl') {
        const { runAthenaDdlCommand } = await import('./athena-command.js');
        return await runAthenaDdlCommand(argv.slice(1));
      }
      if (argv[0] === 'report') {
        const { runReportCommand } = await import('./report-command.js');
        return await runReportCommand(argv.slice(1));
      }
      const { runSqlCommand } = await import('./sql-command.js');
      return await runSqlCommand(argv.slice(1));
    } catch (err) {
      // Configuration and usage problems: the message, no stack trace.
      if (err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        process.stderr.write(`${(err as Error).message}\n`);
        return 2;
      }
      throw err;
    }
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      role: { type: 'string' },
    },
    strict: false,
  });
  if (values.version) {
    const { createRequire } = await import('node:module');
    process.stdout.write(
      `${(createRequire(import.meta.url)('../../package.json') as { version: string }).version}\n`,
    );
    return 0;
  }
  const command = positionals[0];
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(HELP);
    return command === undefined && !values.help ? 1 : 0;
  }
  if (command === 'start') {
    try {
      await start(typeof values.role === 'string' ? values.role : undefined);
      return -1; // keeps running
    } catch (err) {
      if (err instanceof ConfigError || isAllotError(err)) {
        process.stderr.write(`${err.message}\n`);
        return 2;
      }
      throw err;
    }
  }
  process.stderr.write(`unknown command "${command}"\n\n${HELP}`);
  return 2;
}
