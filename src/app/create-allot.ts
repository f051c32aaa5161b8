import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import type { EventLog } from '../adapters/file/file-event-log.js';
import type { LoggedEventBus } from '../adapters/file/logged-event-bus.js';
import type { DedupStats } from '../adapters/memory/memory-counter-store.js';
import { createMemoryFrequencyStore } from '../adapters/memory/memory-frequency-store.js';
import { createReconciliationJob, type ReconciliationJob } from '../analytics/reconciliation-job.js';
import type { AllotConfig } from '../config/config.js';
import {
  type AllocationController,
  createAllocationController,
} from '../controller/allocation-controller.js';
import type { ConfigStore } from '../core/ports/config-store.js';
import { createMixSampleGate } from '../core/sampling/mix-sample-gate.js';
import { SelectorState } from '../core/selection/selector-state.js';
import { createDecide } from '../decision/decide.js';
import { newDecisionId } from '../decision/new-decision-id.js';
import { createPlanSource, type PlanSource } from '../decision/plan-source.js';
import { createAdService } from '../manager/ad-service.js';
import type { Clock } from '../manager/clock.js';
import { systemClock } from '../manager/clock.js';
import { createFeasibilityService } from '../manager/feasibility-service.js';
import { createImportService } from '../manager/import-service.js';
import { createPlacementService } from '../manager/placement-service.js';
import { createReportService } from '../manager/report-service.js';
import { createStatusService } from '../manager/status-service.js';
import { startAggregator } from '../pipeline/aggregator.js';
import { createEventPublisher } from '../pipeline/event-publisher.js';
import { createSamplingPolicy, EXACT_SAMPLING } from '../pipeline/sampling-policy.js';
import { createServer } from '../server/create-server.js';
import { createMetrics, type Metrics } from '../server/metrics.js';
import { createBeaconService } from '../tracking/beacon-service.js';
import { createBeaconSigner } from '../tracking/beacon-token.js';
import { openAnalytics, openArchiveStore } from './open-archive.js';
import { openConfigStore } from './open-config-store.js';
import { openPipeline } from './open-pipeline.js';
import { loadOrCreateSecret } from './secrets.js';
import { startArchiving } from './start-archiving.js';
import { startWeightsFollower } from './weights-follower.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export interface Allot {
  app: FastifyInstance;
  config: AllotConfig;
  adminToken: string;
  /** Where the admin token came from: the environment, the data dir, or generated now. */
  adminTokenSource: 'env' | 'file' | 'generated';
  metrics: Metrics;
  planSource: PlanSource;
  controller: AllocationController;
  store: ConfigStore;
  logger: Logger;
  /** Starts listening on config.host:config.port; resolves to the base URL. */
  listen(): Promise<string>;
  /** Graceful shutdown: stop accepting, flush events, drain consumers, close stores. */
  close(): Promise<void>;
}

export interface CreateAllotOptions {
  logger?: Logger;
  clock?: Clock;
}

/**
 * The composition root of the embedded (single-process) Allot: the only place that chooses
 * adapters. Everything else receives its dependencies.
 */
export async function createAllot(config: AllotConfig, opts: CreateAllotOptions = {}): Promise<Allot> {
  const logger = opts.logger ?? pino({ level: config.logLevel, redact: ['req.headers.authorization'] });
  const clock = opts.clock ?? systemClock;
  const now = () => clock.now();
  let dedupStats: (() => DedupStats) | null = null;
  const metrics = createMetrics({ dedupStats: () => dedupStats?.() ?? null });

  const adminSecret = config.adminToken === null ? loadOrCreateSecret(config.dataDir, 'admin-token') : null;
  const admin = config.adminToken ?? adminSecret!.value;
  const beaconSecret =
    config.beaconKeys !== null
      ? ''
      : (config.beaconSecret ?? loadOrCreateSecret(config.dataDir, 'beacon-secret').value);
  // Rotation: ALLOT_BEACON_KEYS lists the signing key first and older keys still accepted.
  const beaconKeys = config.beaconKeys ?? [{ kid: 'k1', secret: beaconSecret }];
  const signer = createBeaconSigner(
    new Map(beaconKeys.map((k) => [k.kid, Buffer.from(k.secret)])),
    beaconKeys[0]!.kid,
  );

  const store = await openConfigStore(config);
  const pipeline = await openPipeline(config, logger);
  dedupStats = pipeline.dedupStats;
  const { counters, mix, allocationState } = pipeline;
  const role = config.role;
  const serves = {
    decisions: role === 'all' || role === 'decision',
    manager: role === 'all' || role === 'manager',
    pipeline: role === 'all' || role === 'pipeline',
    controller: role === 'all' || role === 'controller',
  };
  // Frequency caps: with Redis, shared by every decision server of the fleet (a serve counts for
  // its whole cap window). In one process without Redis the aggregator confirms impressions and
  // unrendered reservations lapse with the impression token.
  const frequency =
    pipeline.sharedFrequency ??
    createMemoryFrequencyStore({ pendingMs: (config.impressionTtlSeconds + 60) * 1000 });

  const planSource = createPlanSource({
    store,
    pollMs: config.planPollMs,
    onSwap: (plan, ms) => {
      metrics.planRevision.set(plan.revision);
      metrics.planCompileSeconds.set(ms / 1000);
      logger.debug({ revision: plan.revision, compileMs: ms }, 'plan swapped');
    },
    onError: (err) => logger.error({ err }, 'plan refresh failed; serving the previous plan'),
  });
  await planSource.refresh();
  planSource.start();
  const plan = planSource.current;

  const stops: Array<() => Promise<void>> = [];
  const archiveStore = serves.pipeline || serves.manager ? await openArchiveStore(config) : null;
  // One process: beacons are acknowledged once in the append-only event log (a broker keeps them
  // in a fleet); the log is replayed on start and truncated as the archiver writes.
  let bus = pipeline.bus;
  let eventLog: EventLog | null = null;
  let loggedBus: LoggedEventBus | null = null;
  if (config.eventLogDir !== null && serves.pipeline) {
    const { openEventLog } = await import('../adapters/file/file-event-log.js');
    const { createLoggedEventBus } = await import('../adapters/file/logged-event-bus.js');
    eventLog = await openEventLog({
      dir: config.eventLogDir,
      commitIntervalMs: config.eventLogCommitMs,
      onError: (err) => logger.error({ err }, 'event log maintenance failed'),
    });
    loggedBus = createLoggedEventBus(pipeline.bus, eventLog);
    bus = loggedBus;
    const log = eventLog;
    const timer = setInterval(() => metrics.eventLogUnarchived.set(log.stats().unarchived), 5000);
    timer.unref();
    stops.push(async () => clearInterval(timer));
  }
  const publisher = createEventPublisher(bus, {
    lingerMs: config.publishLingerMs,
    onError: (err) => logger.error({ err }, 'event publish failed'),
    onShed: (n) => {
      metrics.eventsShed.inc(n);
      logger.warn(
        { events: n },
        'the bus is unavailable and the publish buffer is full: decision events shed',
      );
    },
  });
  {
    const timer = setInterval(() => metrics.eventsBuffered.set(publisher.buffered()), 1000);
    timer.unref();
    stops.push(async () => clearInterval(timer));
  }
  if (serves.pipeline && config.pipelineStages.count) {
    const aggregator = startAggregator({
      bus,
      batching:
        config.countIntervalMs > 0 ? { lingerMs: config.countIntervalMs, maxBatch: 50_000 } : undefined,
      counters,
      frequency,
      plan,
      clock: now,
      sampling:
        config.sampling.mode === 'exact'
          ? EXACT_SAMPLING
          : createSamplingPolicy({
              margin: config.sampling.margin,
              confidence: config.sampling.confidence,
              intervalMs: config.sampling.intervalSeconds * 1000,
            }),
      dedupTtlMs: {
        decision: config.impressionTtlSeconds * 1000,
        impression: config.impressionTtlSeconds * 1000 + 60_000,
        click: config.clickTtlSeconds * 1000 + 60_000,
      },
      onCounted: (type, counted, duplicates) => {
        if (counted > 0) metrics.eventsCounted.inc({ type }, counted);
        if (duplicates > 0) metrics.eventsDuplicate.inc({ type }, duplicates);
      },
    });
    stops.push(() => aggregator.stop());
  }
  if (serves.pipeline && config.pipelineStages.archive && archiveStore !== null) {
    await startArchiving({ config, bus, archiveStore, metrics, eventLog, logger, now, stops });
  }
  // Events logged but not archived before a crash (or a kill) go through the pipeline again:
  // after the consumers subscribed, before anything is served.
  if (loggedBus !== null) {
    const replayed = await loggedBus.replay();
    if (replayed > 0) logger.info({ events: replayed }, 'replayed the event log');
  }

  // Where decisions are served too (embedded), the controller's fitting runs on a thread of its
  // own, off the decisions' event loop; a controller process fits on its main thread.
  const solver =
    serves.controller && serves.decisions
      ? await (await import('../controller/control-step-thread.js')).startControlStepThread()
      : null;
  const controller = createAllocationController({
    ...(solver === null ? {} : { solve: solver.solve }),
    plan,
    counters,
    mix,
    now,
    intervalMs: config.controlIntervalMs,
    publish: (update, reports) => {
      planSource.applyWeights(update);
      if (pipeline.shared) {
        allocationState
          .publish(update, reports)
          .catch((err) => logger.error({ err }, 'publishing weights failed'));
      }
    },
    onStep: (placements, seconds) => {
      metrics.controllerSteps.inc(placements);
      metrics.controllerStepSeconds.inc(seconds);
    },
    onError: (err) => logger.error({ err }, 'controller step failed; serving the previous weights'),
    onSolveError: (err) =>
      logger.warn({ err }, "the controller's solver thread failed; stepped on the main thread"),
  });
  if (serves.controller) controller.start();
  else if (pipeline.shared) stops.push(await startWeightsFollower(allocationState, planSource, logger));
  // The manager reads the controller's reports in process, or from the shared store.
  const report = serves.controller
    ? controller.report
    : (placementId: string) => allocationState.readReport(placementId);

  // A manager's write reloads its own plan and tells the fleet, whose decision servers reload
  // at once (their PostgreSQL poll is the safety net).
  const changed = () => {
    pipeline.changes?.announce();
    return planSource.refresh();
  };
  if (pipeline.changes !== null && !serves.manager) {
    const refresh = () => {
      planSource.refresh().catch((err: unknown) => logger.warn({ err }, 'plan reload failed'));
    };
    stops.push(await pipeline.changes.listen(refresh));
  }
  const placements = createPlacementService({ store, clock, changed });
  let reports: NonNullable<Parameters<typeof createServer>[0]['manager']>['reports'] = null;
  let reconciliation: ReconciliationJob | null = null;
  if (serves.manager && archiveStore !== null) {
    const analytics = await openAnalytics(config, archiveStore, logger);
    stops.push(() => analytics.engine.close());
    reconciliation = createReconciliationJob({
      counters,
      analytics: analytics.engine,
      store,
      now,
      logger,
      intervalMs: config.reconcileIntervalSeconds * 1000,
      onResult: (r) => {
        metrics.reconciliationCells.set({ outcome: 'ok' }, r.cells - r.drifted);
        metrics.reconciliationCells.set({ outcome: 'drift' }, r.drifted);
        metrics.reconciliationRuns.inc({
          result: r.error !== null ? 'failed' : r.drifted > 0 ? 'drift' : 'ok',
        });
      },
    });
    reconciliation.start();
    const job = reconciliation;
    stops.unshift(() => job.stop());
    reports = {
      service: createReportService({
        analytics: analytics.engine,
        store,
        metrics: analytics.metrics,
        now,
        freshnessSeconds: Math.ceil(config.archiveFlushMs / 1000),
      }),
      metrics: analytics.metrics,
      reconciliation,
    };
  }
  const app = await createServer({
    logger,
    metrics,
    adminToken: admin,
    extraAdminTokens: config.adminTokens.slice(1),
    readonlyTokens: config.readonlyTokens,
    plan,
    decisions: serves.decisions
      ? {
          decide: createDecide({
            plan,
            selector: new SelectorState(),
            frequency,
            signer,
            publisher,
            now,
            newId: newDecisionId,
            publicUrl: config.publicUrl ?? '',
            mix,
            mixSample: createMixSampleGate({
              every: config.mixSampleEvery,
              perSecond: config.mixSamplesPerSecond,
            }),
          }),
          handleBeacon: createBeaconService({
            signer,
            publisher,
            plan,
            now,
            ttlSeconds: { impression: config.impressionTtlSeconds, click: config.clickTtlSeconds },
          }),
        }
      : null,
    manager: serves.manager
      ? {
          ads: createAdService({ store, clock, changed }),
          placements,
          imports: createImportService({ store, clock, changed }),
          feasibility: createFeasibilityService({ placements, plan, mix, report, clock }),
          status: createStatusService({ store, counters, clock, report }),
          reports,
        }
      : null,
    decisionBodyLimitBytes: config.decisionBodyLimitBytes,
    beaconRateLimitPerMinute: config.beaconRateLimitPerMinute,
    trustProxy: config.trustProxy,
    managerBodyLimitBytes: config.managerBodyLimitBytes,
    importBodyLimitBytes: config.importBodyLimitBytes,
    version,
  });

  let closing: Promise<void> | null = null;
  /** The shutdown step under way: named in the error when the shutdown times out. */
  let step = 'starting';
  const shutdownSteps: Array<[string, () => Promise<unknown>]> = [
    [
      'controller',
      async () => {
        await controller.stop();
        await solver?.close();
      },
    ],
    ['HTTP server (requests in flight)', () => app.close()],
    ['event publisher drain', () => publisher.drain()],
    ['bus', () => bus.close()],
    [
      'archiving and analytics',
      async () => {
        for (const stop of stops) await stop();
      },
    ],
    ['counters', () => counters.close()],
    ['pipeline', () => pipeline.close()],
    ['archive store', async () => archiveStore?.close()],
    ['config store', () => store.close()],
  ];
  const shutdown = async (): Promise<void> => {
    planSource.stop();
    for (const [name, run] of shutdownSteps) {
      step = name;
      await run();
    }
  };

  return {
    app,
    config,
    adminToken: admin,
    adminTokenSource: adminSecret === null ? 'env' : adminSecret.created ? 'generated' : 'file',
    metrics,
    planSource,
    controller,
    store,
    logger,
    async listen() {
      return app.listen({ port: config.port, host: config.host });
    },
    close() {
      closing ??= Promise.race([
        shutdown(),
        new Promise<void>((_, reject) =>
          setTimeout(
            () =>
              reject(new Error(`shutdown timed out after ${config.shutdownTimeoutMs} ms, during: ${step}`)),
            config.shutdownTimeoutMs,
          ).unref(),
        ),
      ]);
      return closing;
    },
  };
}
