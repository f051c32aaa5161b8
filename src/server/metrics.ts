import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one Allot instance (own registry: several apps may share a process). */
export function createMetrics(
  opts: {
    /** The in-process dedup window, read at each scrape (null: none, Redis dedups). */
    dedupStats?: () => { ids: number; evicted: number } | null;
  } = {},
) {
  const registry = new Registry();
  const dedup = () => opts.dedupStats?.() ?? null;
  collectDefaultMetrics({ register: registry, prefix: 'allot_' });
  return {
    registry,
    decisions: new Counter({
      name: 'allot_decisions_total',
      help: 'Decisions by result',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    decisionSeconds: new Histogram({
      name: 'allot_decision_duration_seconds',
      help: 'Time to decide, inside the handler (one decision in 8 is timed)',
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025],
      registers: [registry],
    }),
    decisionSlowPath: new Counter({
      name: 'allot_decision_requests_slow_path_total',
      help: 'Decision requests the fast path left to Fastify (chunked, empty or oversized bodies, other content types, shutdown)',
      registers: [registry],
    }),
    beaconSlowPath: new Counter({
      name: 'allot_beacon_requests_slow_path_total',
      help: 'Impression beacons (GET /v1/events/impression) the fast path left to Fastify (another query, a body, shutdown; all of them when beacons are rate-limited)',
      registers: [registry],
    }),
    beacons: new Counter({
      name: 'allot_beacons_total',
      help: 'Beacons by kind and result (accepted, malformed, badSignature, expired, unknownAd, unavailable)',
      labelNames: ['kind', 'result'] as const,
      registers: [registry],
    }),
    eventsCounted: new Counter({
      name: 'allot_events_counted_total',
      help: 'Events counted by the aggregator',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    eventsDuplicate: new Counter({
      name: 'allot_events_duplicate_total',
      help: 'Redelivered or repeated events dropped by id',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    rejects: new Counter({
      name: 'allot_requests_rejected_total',
      help: 'Requests refused with a 4xx, by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    controllerStepSeconds: new Counter({
      name: 'allot_controller_step_seconds_total',
      help: 'Wall time of allocation controller steps (all placements; embedded: the fitting on its own thread included)',
      registers: [registry],
    }),
    controllerSteps: new Counter({
      name: 'allot_controller_placement_steps_total',
      help: 'Placements stepped by the allocation controller',
      registers: [registry],
    }),
    planRevision: new Gauge({
      name: 'allot_plan_revision',
      help: 'Config revision of the serving plan',
      registers: [registry],
    }),
    planCompileSeconds: new Gauge({
      name: 'allot_plan_compile_seconds',
      help: 'Time the last plan compile took',
      registers: [registry],
    }),
    eventsArchived: new Counter({
      name: 'allot_events_archived_total',
      help: 'Events written to the Parquet archive (replays included)',
      registers: [registry],
    }),
    dedupIds: new Gauge({
      name: 'allot_dedup_window_ids',
      help: 'Event ids in the in-process dedup window (embedded mode; at most 2M)',
      registers: [registry],
      collect() {
        const d = dedup();
        if (d !== null) this.set(d.ids);
      },
    }),
    dedupEvicted: new Gauge({
      name: 'allot_dedup_window_evicted_ids',
      help: 'Event ids forgotten before their TTL because the in-process dedup window was full (a replay of one could count twice)',
      registers: [registry],
      collect() {
        const d = dedup();
        if (d !== null) this.set(d.evicted);
      },
    }),
    eventsShed: new Counter({
      name: 'allot_events_shed_total',
      help: 'Decision events dropped because the bus stayed unavailable and the publish buffer (200K) was full',
      registers: [registry],
    }),
    eventsBuffered: new Gauge({
      name: 'allot_events_buffered',
      help: 'Events waiting to be published (grows while the bus is unavailable)',
      registers: [registry],
    }),
    archiveFilesCompacted: new Counter({
      name: 'allot_archive_files_compacted_total',
      help: 'Archive files merged away by compaction (each closed hour ends as one file)',
      registers: [registry],
    }),
    eventLogUnarchived: new Gauge({
      name: 'allot_event_log_unarchived_events',
      help: 'Events in the embedded event log not yet archived',
      registers: [registry],
    }),
    reconciliationCells: new Gauge({
      name: 'allot_reconciliation_cells',
      help: 'Placement × ad × hour × event type cells compared by the last reconciliation, by outcome (ok, drift)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    reconciliationRuns: new Counter({
      name: 'allot_reconciliation_runs_total',
      help: 'Reconciliation runs by result (ok, drift, failed)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
