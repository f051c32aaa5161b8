import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EventLog } from '../adapters/file/file-event-log.js';
import type { AllotConfig } from '../config/config.js';
import type { ArchiveStore } from '../core/ports/archive-store.js';
import type { EventBus } from '../core/ports/event-bus.js';
import type { Metrics } from '../server/metrics.js';

/** Whether a process with this pid is running (a staging folder's owner). */
function isLive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Archives every event of the bus as Parquet in `archiveStore` (the archiver consumer group),
 * and compacts closed hours every `ALLOT_COMPACT_INTERVAL_SECONDS`. Adds its stops to `stops`:
 * compaction first, the archiver (which writes what it holds) with the other consumers.
 */
export async function startArchiving(deps: {
  config: AllotConfig;
  bus: EventBus;
  archiveStore: ArchiveStore;
  metrics: Metrics;
  eventLog: EventLog | null;
  logger: Logger;
  now: () => number;
  stops: Array<() => Promise<void>>;
}): Promise<void> {
  const { config, bus, archiveStore, metrics, eventLog, logger, now, stops } = deps;
  // DuckDB is loaded only by processes that archive.
  const { createParquetArchive } = await import('../archive/parquet-archive.js');
  const { startArchiver } = await import('../archive/archiver.js');
  // One staging folder per process (several pipelines may share a data dir); those of
  // processes that died mid-write are of no use.
  const stagingRoot = join(config.dataDir, 'archive-staging');
  for (const name of await readdir(stagingRoot).catch(() => [] as string[])) {
    if (!isLive(Number(name))) await rm(join(stagingRoot, name), { recursive: true, force: true });
  }
  const stagingDir = join(stagingRoot, String(process.pid));
  const archive = await createParquetArchive({
    store: archiveStore,
    stagingDir,
    duckdb: config.duckdb,
    // Where decisions are served too (embedded, role all), off their event loop (the appender
    // and encoding took ~13 µs of it per decision in a profile, docs/benchmarks.md). A pipeline
    // process writes on its main thread: handing batches to a worker cost it ~3 µs more CPU per
    // event and did not raise its throughput.
    thread: config.role === 'all',
  });
  const archiver = startArchiver({
    bus,
    archive,
    lingerMs: config.archiveFlushMs,
    onWritten: (n) => {
      metrics.eventsArchived.inc(n);
      eventLog?.archived(n);
    },
  });
  stops.push(async () => {
    await archiver.stop();
    await archive.close();
  });
  if (config.compactIntervalSeconds > 0) {
    const { compactArchive } = await import('../archive/compactor.js');
    const store = archiveStore;
    let compacting: Promise<void> | null = null;
    const timer = setInterval(() => {
      compacting ??= compactArchive({
        store,
        stagingDir,
        nowMs: now(),
        duckdb: config.duckdb,
      })
        .then((r) => {
          metrics.archiveFilesCompacted.inc(r.filesRemoved);
          if (r.partitions > 0) logger.info(r, 'archive hours compacted');
        })
        .catch((err: unknown) => logger.error({ err }, 'archive compaction failed; will retry'))
        .finally(() => {
          compacting = null;
        });
    }, config.compactIntervalSeconds * 1000);
    timer.unref();
    stops.unshift(async () => {
      clearInterval(timer);
      await compacting;
    });
  }
}
