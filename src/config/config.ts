import { isAbsolute, resolve } from 'node:path';
import type { DuckDbSettings } from '../archive/duckdb-settings.js';

/**
 * Allot's configuration, read once from the environment (the only place that reads
 * `process.env`). Units are in the names. Every invalid variable is reported together.
 * Documented in docs/configuration.md.
 */
export type Role = 'all' | 'decision' | 'manager' | 'pipeline' | 'controller';
export const ROLES: readonly Role[] = ['all', 'decision', 'manager', 'pipeline', 'controller'];

export interface AllotConfig {
  /** What this process does: everything (embedded), or one role of a fleet. */
  role: Role;
  port: number;
  host: string;
  dataDir: string;
  /** Manager API bearer token (the first of `adminTokens`); null = generate one into the data dir. */
  adminToken: string | null;
  /** Every accepted admin token (`ALLOT_ADMIN_TOKEN=new,old` while rotating). */
  adminTokens: string[];
  /** Tokens that may only read the manager API (GET). */
  readonlyTokens: string[];
  /** Beacon signing keys, the first signs, all verify (`ALLOT_BEACON_KEYS=k2:…,k1:…`); null = one key. */
  beaconKeys: Array<{ kid: string; secret: string }> | null;
  /** `sqlite:<path>` (default `<dataDir>/config.sqlite`) or `postgres://…`. */
  configDb: { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; schema: string };
  /** HMAC secret for beacon tokens; null = generate one into the data dir. */
  beaconSecret: string | null;
  /** Absolute base for impression/click URLs; null = URLs relative to this server. */
  publicUrl: string | null;
  impressionTtlSeconds: number;
  clickTtlSeconds: number;
  planPollMs: number;
  /** How often the allocation controller recomputes serving weights. */
  controlIntervalMs: number;
  /** Half-life of the observed request mix (eligibility samples). */
  mixHalfLifeSeconds: number;
  /** Sample the eligibility of one decision in this many (at least). */
  mixSampleEvery: number;
  /** Opt-in: thin the mix sampling so that a process samples about this many a second (0, the default: no limit). */
  mixSamplesPerSecond: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  decisionBodyLimitBytes: number;
  managerBodyLimitBytes: number;
  /** `POST /v1/config/import`: a whole configuration (10,000 ads are a few MB). */
  importBodyLimitBytes: number;
  shutdownTimeoutMs: number;
  /** The event bus: in-process, Redis Streams or NATS JetStream. */
  bus: 'memory' | 'redis' | 'nats';
  /** Redis for live counters and beacon dedup (and the bus when `bus` is redis); null = memory. */
  redisUrl: string | null;
  /** Prefix of every Redis key Allot writes (several deployments can share one Redis). */
  redisPrefix: string;
  natsUrl: string | null;
  /** JetStream stream holding Allot's events. */
  natsStream: string;
  /**
   * Where the Parquet event archive lives: a folder (default `<dataDir>/archive`) or an S3 bucket
   * prefix (`ALLOT_ARCHIVE_URL=s3://bucket/prefix`, `endpoint` for S3-compatible servers); null = off.
   */
  archive: ArchiveLocation | null;
  /** How long the archiver gathers events per file write. */
  archiveFlushMs: number;
  /** Local copy of an S3 archive that DuckDB reads (default `<dataDir>/archive-cache`). */
  archiveCacheDir: string;
  /** Embedded mode's append-only event log (beacons acknowledged once logged); null = off. */
  eventLogDir: string | null;
  /** Least time between two of the event log's write + fdatasync rounds (group commit). */
  eventLogCommitMs: number;
  /** Historical reports: DuckDB over the archive, or Athena over its S3 copy. */
  analytics:
    | { engine: 'duckdb' }
    | { engine: 'athena'; database: string; table: string; workgroup: string; outputLocation: string | null };
  /** How often archived counts are compared with the live counters (0 = never). */
  reconcileIntervalSeconds: number;
  /** How often the archiver merges each closed hour's files into one (0 = never). */
  compactIntervalSeconds: number;
  /** Memory and threads of every DuckDB instance this process opens (archive, compaction, analytics). */
  duckdb: DuckDbSettings;
  /** Beacons per client IP per minute (null = no limit here: set it at the load balancer). */
  beaconRateLimitPerMinute: number | null;
  /** Take the client IP from X-Forwarded-For (behind a load balancer). */
  trustProxy: boolean;
  /** node:cluster workers sharing the port (role decision only; 1 = no cluster). */
  workers: number;
  /** How long the aggregator gathers events before one counting write (0 = per bus batch). */
  countIntervalMs: number;
  /**
   * What a process consuming events runs: the aggregator (`count`), the archiver (`archive`)
   * or both. A fleet may run them in separate `pipeline` processes, each on its own core.
   */
  pipelineStages: { count: boolean; archive: boolean };
  /** How long a process gathers the events it emits before one bus publish (0 = per tick). */
  publishLingerMs: number;
  /** Live counters: every event (`exact`) or a confidence-driven sample (`auto`). */
  sampling: { mode: 'exact' | 'auto'; margin: number; confidence: number; intervalSeconds: number };
}

export type ArchiveLocation =
  | { kind: 'folder'; dir: string }
  | { kind: 's3'; url: string; endpoint: string | null };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Reads and checks the configuration; throws `ConfigError` listing every problem. */
export function loadConfig(
  env: Env = process.env,
  cwd = process.cwd(),
  overrides: { role?: string } = {},
): AllotConfig {
  const problems: string[] = [];
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
      return def;
    }
    return n;
  };
  const str = (name: string): string | null => {
    const raw = env[name];
    return raw === undefined || raw === '' ? null : raw;
  };

  const dataDirRaw = str('ALLOT_DATA_DIR') ?? './.allot';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);

  const list = (name: string): string[] =>
    (str(name) ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
  const adminTokens = list('ALLOT_ADMIN_TOKEN');
  if (adminTokens.some((t) => t.length < 16)) {
    problems.push('ALLOT_ADMIN_TOKEN must be at least 16 characters (each, when several are listed)');
  }
  const adminToken = adminTokens[0] ?? null;
  const readonlyTokens = list('ALLOT_READONLY_TOKENS');
  if (readonlyTokens.some((t) => t.length < 16))
    problems.push('ALLOT_READONLY_TOKENS must each be at least 16 characters');
  if (readonlyTokens.some((t) => adminTokens.includes(t)))
    problems.push('a token cannot be both in ALLOT_ADMIN_TOKEN and ALLOT_READONLY_TOKENS');
  const beaconSecret = str('ALLOT_BEACON_SECRET');
  if (beaconSecret !== null && beaconSecret.length < 32) {
    problems.push('ALLOT_BEACON_SECRET must be at least 32 characters');
  }
  const beaconKeys = ((): Array<{ kid: string; secret: string }> | null => {
    const entries = list('ALLOT_BEACON_KEYS');
    if (entries.length === 0) return null;
    if (beaconSecret !== null) problems.push('set ALLOT_BEACON_KEYS or ALLOT_BEACON_SECRET, not both');
    const keys = entries.map((e) => {
      const at = e.indexOf(':');
      return { kid: at === -1 ? '' : e.slice(0, at), secret: at === -1 ? e : e.slice(at + 1) };
    });
    keys.forEach((k, i) => {
      if (!/^[A-Za-z0-9]{1,16}$/.test(k.kid))
        problems.push(
          `ALLOT_BEACON_KEYS entry ${i + 1} must be <key id>:<secret>, the id 1-16 letters or digits`,
        );
      if (k.secret.length < 32)
        problems.push(`ALLOT_BEACON_KEYS entry ${i + 1}: the secret must be at least 32 characters`);
    });
    if (new Set(keys.map((k) => k.kid)).size !== keys.length)
      problems.push('ALLOT_BEACON_KEYS has a key id twice');
    return keys;
  })();

  const dbRaw = str('ALLOT_CONFIG_DB');
  let configDb: AllotConfig['configDb'] = { kind: 'sqlite', path: resolve(dataDir, 'config.sqlite') };
  if (dbRaw !== null) {
    if (/^postgres(ql)?:\/\//.test(dbRaw)) {
      const schema = str('ALLOT_CONFIG_DB_SCHEMA') ?? 'allot';
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
        problems.push('ALLOT_CONFIG_DB_SCHEMA must match [a-z_][a-z0-9_]{0,62}');
      }
      configDb = { kind: 'postgres', url: dbRaw, schema };
    } else if (dbRaw.startsWith('sqlite:')) {
      const p = dbRaw.slice('sqlite:'.length);
      configDb = { kind: 'sqlite', path: p === ':memory:' || isAbsolute(p) ? p : resolve(cwd, p) };
    } else {
      problems.push('ALLOT_CONFIG_DB must be postgres://… or sqlite:<path>');
    }
  }

  const publicUrl = str('ALLOT_PUBLIC_URL');
  if (publicUrl !== null && !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(publicUrl)) {
    problems.push('ALLOT_PUBLIC_URL must be an absolute http(s) URL');
  }

  const redisUrl = str('ALLOT_REDIS_URL');
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl))
    problems.push('ALLOT_REDIS_URL must be redis://… or rediss://…');
  const natsUrl = str('ALLOT_NATS_URL');
  if (natsUrl !== null && !/^(nats|tls|wss?):\/\/|^[\w.-]+:\d+$/.test(natsUrl)) {
    problems.push('ALLOT_NATS_URL must be nats://host:port (or host:port)');
  }
  const bus = (str('ALLOT_BUS') ?? 'memory') as AllotConfig['bus'];
  if (!['memory', 'redis', 'nats'].includes(bus)) problems.push('ALLOT_BUS must be memory, redis or nats');
  if (bus === 'redis' && redisUrl === null) problems.push('ALLOT_BUS=redis needs ALLOT_REDIS_URL');
  if (bus === 'nats' && natsUrl === null) problems.push('ALLOT_BUS=nats needs ALLOT_NATS_URL');
  const redisPrefix = str('ALLOT_REDIS_PREFIX') ?? 'allot';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(redisPrefix))
    problems.push('ALLOT_REDIS_PREFIX must match [A-Za-z0-9_.-]{1,64}');
  const natsStream = str('ALLOT_NATS_STREAM') ?? 'ALLOT_EVENTS';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(natsStream))
    problems.push('ALLOT_NATS_STREAM must match [A-Za-z0-9_-]{1,64}');

  const role = (overrides.role ?? str('ALLOT_ROLE') ?? 'all') as Role;
  if (!ROLES.includes(role)) problems.push(`role must be one of ${ROLES.join(', ')}, got "${role}"`);
  if (role !== 'all' && redisUrl === null) {
    problems.push(
      `role ${role} needs ALLOT_REDIS_URL (counters, weights and the request mix are shared in Redis)`,
    );
  }
  if ((role === 'decision' || role === 'pipeline') && bus === 'memory') {
    problems.push(`role ${role} needs ALLOT_BUS=redis or nats (events cross processes)`);
  }

  const stageList = (str('ALLOT_PIPELINE_STAGES') ?? 'count,archive').split(',').map((x) => x.trim());
  const pipelineStages = { count: stageList.includes('count'), archive: stageList.includes('archive') };
  if (stageList.some((x) => x !== 'count' && x !== 'archive'))
    problems.push('ALLOT_PIPELINE_STAGES must list count, archive or both (comma-separated)');
  if (role === 'all' && !(pipelineStages.count && pipelineStages.archive))
    problems.push('ALLOT_PIPELINE_STAGES: one process (role all) runs both stages');

  const samplingMode = (str('ALLOT_SAMPLING') ?? (bus === 'memory' ? 'exact' : 'auto')) as 'exact' | 'auto';
  if (samplingMode !== 'exact' && samplingMode !== 'auto')
    problems.push('ALLOT_SAMPLING must be exact or auto');
  const duckdbMemoryLimit = str('ALLOT_DUCKDB_MEMORY_LIMIT') ?? '1GB';
  if (!/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(duckdbMemoryLimit))
    problems.push('ALLOT_DUCKDB_MEMORY_LIMIT must be a size such as 512MB or 2GB');
  const fraction = (name: string, def: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === null) return def;
    const n = Number(raw);
    if (!(n >= min && n <= max)) {
      problems.push(`${name} must be a number in [${min}, ${max}], got "${raw}"`);
      return def;
    }
    return n;
  };
  const sampling = {
    mode: samplingMode,
    margin: fraction('ALLOT_SAMPLING_MARGIN', 0.01, 0.0001, 0.5),
    confidence: fraction('ALLOT_SAMPLING_CONFIDENCE', 0.95, 0.5, 0.9999),
    intervalSeconds: int('ALLOT_SAMPLING_INTERVAL_SECONDS', 60, 1, 86_400),
  };

  const archive = ((): ArchiveLocation | null => {
    const url = str('ALLOT_ARCHIVE_URL');
    const endpoint = str('ALLOT_S3_ENDPOINT');
    if (endpoint !== null && !/^https?:\/\/[^/]+/.test(endpoint))
      problems.push('ALLOT_S3_ENDPOINT must be an http(s) URL');
    if (url !== null) {
      if (str('ALLOT_ARCHIVE_DIR') !== null)
        problems.push('set ALLOT_ARCHIVE_URL or ALLOT_ARCHIVE_DIR, not both');
      if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(url))
        problems.push('ALLOT_ARCHIVE_URL must be s3://bucket[/prefix]');
      return { kind: 's3', url, endpoint };
    }
    const raw = str('ALLOT_ARCHIVE_DIR');
    if (raw === 'off') return null;
    if (raw === null) return { kind: 'folder', dir: resolve(dataDir, 'archive') };
    return { kind: 'folder', dir: isAbsolute(raw) ? raw : resolve(cwd, raw) };
  })();
  const dirOf = (name: string, def: string): string => {
    const raw = str(name) ?? def;
    return isAbsolute(raw) ? raw : resolve(cwd, raw);
  };
  // The event log makes acknowledged beacons durable in one process; a broker does that in a fleet.
  const eventLogRaw = str('ALLOT_EVENT_LOG') ?? (bus === 'memory' && archive !== null ? 'on' : 'off');
  if (!['on', 'off'].includes(eventLogRaw)) problems.push('ALLOT_EVENT_LOG must be on or off');
  if (eventLogRaw === 'on' && bus !== 'memory')
    problems.push(`ALLOT_EVENT_LOG=on is for ALLOT_BUS=memory (the ${bus} broker already keeps events)`);
  if (eventLogRaw === 'on' && archive === null)
    problems.push('ALLOT_EVENT_LOG=on needs the archive (the log is truncated once events are archived)');
  const analyticsEngine = str('ALLOT_ANALYTICS') ?? 'duckdb';
  const athenaDatabase = str('ALLOT_ATHENA_DATABASE') ?? 'allot';
  const athenaTable = str('ALLOT_ATHENA_TABLE') ?? 'events';
  if (!['duckdb', 'athena'].includes(analyticsEngine))
    problems.push('ALLOT_ANALYTICS must be duckdb or athena');
  if (analyticsEngine === 'athena') {
    if (archive?.kind !== 's3') problems.push('ALLOT_ANALYTICS=athena needs ALLOT_ARCHIVE_URL=s3://…');
    for (const [name, v] of [
      ['ALLOT_ATHENA_DATABASE', athenaDatabase],
      ['ALLOT_ATHENA_TABLE', athenaTable],
    ] as const)
      if (!/^[a-z_][a-z0-9_]{0,127}$/.test(v)) problems.push(`${name} must match [a-z_][a-z0-9_]{0,127}`);
  }

  const logLevel = (str('ALLOT_LOG_LEVEL') ?? 'info') as AllotConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`ALLOT_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const config: AllotConfig = {
    role,
    port: int('PORT', 8080, 0, 65535),
    host: str('HOST') ?? '127.0.0.1',
    dataDir,
    adminToken,
    adminTokens,
    readonlyTokens,
    beaconKeys,
    configDb,
    beaconSecret,
    publicUrl: publicUrl?.replace(/\/$/, '') ?? null,
    impressionTtlSeconds: int('ALLOT_IMPRESSION_TTL_SECONDS', 900, 10, 7 * 86_400),
    clickTtlSeconds: int('ALLOT_CLICK_TTL_SECONDS', 86_400, 10, 30 * 86_400),
    planPollMs: int('ALLOT_PLAN_POLL_MS', 250, 50, 60_000),
    controlIntervalMs: int('ALLOT_CONTROL_INTERVAL_MS', 1000, 100, 600_000),
    mixHalfLifeSeconds: int('ALLOT_MIX_HALF_LIFE_SECONDS', 600, 10, 86_400),
    mixSampleEvery: int('ALLOT_MIX_SAMPLE_EVERY', 1, 1, 1_000_000),
    mixSamplesPerSecond: int('ALLOT_MIX_SAMPLES_PER_SECOND', 0, 0, 10_000_000),
    logLevel,
    decisionBodyLimitBytes: int('ALLOT_DECISION_BODY_LIMIT_BYTES', 16_384, 256, 1_048_576),
    managerBodyLimitBytes: int('ALLOT_MANAGER_BODY_LIMIT_BYTES', 262_144, 1024, 16_777_216),
    // Capped below V8's longest string (~512 MiB): the body is parsed as one string.
    importBodyLimitBytes: int('ALLOT_IMPORT_BODY_LIMIT_BYTES', 67_108_864, 1024, 268_435_456),
    shutdownTimeoutMs: int('ALLOT_SHUTDOWN_TIMEOUT_MS', 10_000, 100, 300_000),
    bus,
    redisUrl,
    redisPrefix,
    natsUrl,
    natsStream,
    sampling,
    workers: int('ALLOT_WORKERS', 1, 1, 256),
    archive,
    archiveFlushMs: int('ALLOT_ARCHIVE_FLUSH_MS', 5000, 10, 600_000),
    archiveCacheDir: dirOf('ALLOT_ARCHIVE_CACHE_DIR', resolve(dataDir, 'archive-cache')),
    eventLogDir: eventLogRaw === 'on' ? dirOf('ALLOT_EVENT_LOG_DIR', resolve(dataDir, 'event-log')) : null,
    eventLogCommitMs: int('ALLOT_EVENT_LOG_COMMIT_MS', 5, 0, 1000),
    analytics:
      analyticsEngine === 'athena'
        ? {
            engine: 'athena',
            database: athenaDatabase,
            table: athenaTable,
            workgroup: str('ALLOT_ATHENA_WORKGROUP') ?? 'primary',
            outputLocation: str('ALLOT_ATHENA_OUTPUT'),
          }
        : { engine: 'duckdb' },
    reconcileIntervalSeconds: int('ALLOT_RECONCILE_INTERVAL_SECONDS', 300, 0, 86_400),
    compactIntervalSeconds: int('ALLOT_COMPACT_INTERVAL_SECONDS', 600, 0, 86_400),
    duckdb: { memoryLimit: duckdbMemoryLimit, threads: int('ALLOT_DUCKDB_THREADS', 1, 1, 256) },
    beaconRateLimitPerMinute: ((n) => (n === 0 ? null : n))(
      int('ALLOT_BEACON_RATE_LIMIT_PER_MINUTE', 0, 0, 10_000_000),
    ),
    trustProxy: ((v) => {
      if (v !== null && v !== 'true' && v !== 'false')
        problems.push('ALLOT_TRUST_PROXY must be true or false');
      return v === 'true';
    })(str('ALLOT_TRUST_PROXY')),
    countIntervalMs: int('ALLOT_COUNT_INTERVAL_MS', bus === 'memory' ? 0 : 500, 0, 60_000),
    pipelineStages,
    publishLingerMs: int('ALLOT_PUBLISH_LINGER_MS', bus === 'memory' ? 0 : 20, 0, 5000),
  };
  if (config.workers > 1 && role !== 'decision') {
    problems.push(
      `ALLOT_WORKERS > 1 is for role decision (stateless); run more processes of role ${role} instead`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
