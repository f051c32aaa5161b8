// The Allot under test: one embedded process, or a fleet on one machine (docs/operations.md,
// "Running a fleet"; the processes test/e2e/fleet.test.ts starts) — manager, decision server
// (ALLOT_WORKERS node:cluster workers), pipeline and controller sharing PostgreSQL, Redis and a
// broker, each run under names unique to the run and removed by `stop`.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, stopProcess } from './processes.mjs';

/**
 * `profileDir`: the process writes a V8 CPU profile there when it exits (`--cpu-prof`).
 * `ALLOT_BENCH_BIN` (among the variables or in the environment) runs another build (an old checkout's bin/allot.js).
 */
const allot = (name, env, profileDir = null) =>
  startProcess(
    name,
    process.execPath,
    [
      ...(profileDir === null ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]),
      env.vars.ALLOT_BENCH_BIN ?? process.env.ALLOT_BENCH_BIN ?? 'bin/allot.js',
      'start',
      ...(env.role ? ['--role', env.role] : []),
    ],
    { ALLOT_LOG_LEVEL: 'warn', ...env.vars },
  );

/** Allot on embedded defaults: one process is manager, decision server and pipeline. */
export async function startEmbedded({ workDir, token, profileDir = null }) {
  const proc = allot(
    'allot',
    { vars: { PORT: '0', ALLOT_DATA_DIR: join(workDir, 'data'), ALLOT_ADMIN_TOKEN: token } },
    profileDir,
  );
  try {
    await proc.ready;
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
  return {
    label: 'embedded',
    manager: proc,
    decision: proc,
    pipeline: null,
    // Let Allot finish its graceful stop (the archiver's last write) before its data is removed.
    stop: () => stopProcess(proc),
  };
}

/**
 * A fleet with events on `bus` (redis | nats). `stop` ends the processes, then drops the
 * PostgreSQL schema, deletes the Redis keys under the run's prefix and the JetStream stream;
 * every step runs even when an earlier one fails, and it is safe to call after a partial start
 * (`onStop(stop)` hands it over before the first process starts).
 */
export async function startFleet({
  workDir,
  token,
  bus,
  workers,
  pgUrl,
  redisUrl,
  natsUrl,
  onStop,
  profileDir = null,
}) {
  const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const schema = `allot_bench_${tag}`;
  const prefix = `allot-bench-${tag.replace('_', '-')}`;
  const stream = `ALLOT_BENCH_${tag}`;
  const shared = {
    ALLOT_CONFIG_DB: pgUrl,
    ALLOT_CONFIG_DB_SCHEMA: schema,
    ALLOT_REDIS_URL: redisUrl,
    ALLOT_REDIS_PREFIX: prefix,
    ALLOT_BUS: bus,
    ...(bus === 'nats' ? { ALLOT_NATS_URL: natsUrl, ALLOT_NATS_STREAM: stream } : {}),
    ALLOT_ADMIN_TOKEN: token,
    ALLOT_BEACON_SECRET: randomBytes(32).toString('hex'),
  };
  const procs = [];
  const role = (r, extra = {}) => {
    const dataDir = join(workDir, r);
    mkdirSync(dataDir, { recursive: true });
    const vars = { ...shared, PORT: '0', ALLOT_DATA_DIR: dataDir, ...extra };
    // Only the decision server is profiled: it is what the bench measures.
    const p = allot(r, { role: r, vars }, r === 'decision' ? profileDir : null);
    procs.push(p);
    return p.ready;
  };
  let stopped = null;
  const stop = () => {
    stopped ??= (async () => {
      await Promise.all(procs.map((p) => stopProcess(p)));
      const nats = bus === 'nats' ? natsUrl : null;
      await cleanFleetState({ pgUrl, schema, redisUrl, prefix, natsUrl: nats, stream });
    })();
    return stopped;
  };
  // Known to the caller before anything starts, so that a signal during the start cleans up too.
  onStop?.(stop);
  try {
    const manager = await role('manager'); // creates the schema first
    const [decision, pipeline] = await Promise.all([
      role('decision', { ALLOT_WORKERS: String(workers) }),
      role('pipeline'),
      role('controller'),
    ]);
    const label = `fleet, ${bus} bus${workers > 1 ? `, ${workers} workers` : ''}`;
    return { label, manager, decision, pipeline, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function cleanFleetState({ pgUrl, schema, redisUrl, prefix, natsUrl, stream }) {
  const step = async (what, fn) => {
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`cleanup: ${what} failed: ${err.message}\n`);
    }
  };
  await step(`DROP SCHEMA ${schema}`, async () => {
    const { default: pg } = await import('pg');
    const client = new pg.Client(pgUrl);
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  });
  await step(`deleting Redis keys ${prefix}:*`, async () => {
    const { createClient } = await import('redis');
    const client = await createClient({ url: redisUrl }).connect();
    try {
      // Key names are built in src/adapters/redis/redis-keys.ts: all of a prefix match `<p>:*`.
      for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) {
        if (keys.length > 0) await client.unlink(keys);
      }
    } finally {
      client.destroy();
    }
  });
  if (natsUrl !== null)
    await step(`deleting JetStream stream ${stream}`, async () => {
      const { connect } = await import('@nats-io/transport-node');
      const { jetstreamManager } = await import('@nats-io/jetstream');
      const nc = await connect({ servers: natsUrl });
      try {
        await (await jetstreamManager(nc)).streams.delete(stream).catch((err) => {
          if (!/stream not found/i.test(String(err?.message))) throw err;
        });
      } finally {
        await nc.close();
      }
    });
}
