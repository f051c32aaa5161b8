// Redis commands and bytes per decision and per beacon for a decision server of a fleet, at a
// fixed offered load (docs/benchmarks.md). Starts a private redis-server on a free port (so
// INFO commandstats counts only this run), a PostgreSQL schema, and the manager, decision,
// pipeline and controller roles from dist/ (run `npm run build` first).
//   node bench/redis-cost.mjs [--rate 10000] [--seconds 10] [--bus nats|redis] [--sampling auto|exact]
// Three phases, each counted on its own: idle, decisions at --rate, then the impression
// beacons of those decisions at --rate (every decision's impression fired once).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import autocannon from 'autocannon';
import pg from 'pg';
import { createClient } from 'redis';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '10' },
    bus: { type: 'string', default: 'nats' },
    sampling: { type: 'string', default: 'auto' },
  },
});
const ROOT = new URL('..', import.meta.url).pathname;
const PG_URL = process.env.ALLOT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.ALLOT_TEST_NATS_URL ?? '127.0.0.1:4222';
const TOKEN = 'bench-admin-token-0123456789';
const tag = randomBytes(3).toString('hex');
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const redisPort = await freePort();
const redisDir = mkdtempSync(join(tmpdir(), 'allot-redis-cost-'));
const redis = spawn(
  'redis-server',
  ['--port', String(redisPort), '--save', '', '--appendonly', 'no', '--dir', redisDir],
  { stdio: 'ignore' },
);
await new Promise((r) => setTimeout(r, 300));
const redisUrl = `redis://127.0.0.1:${redisPort}`;
const schema = `allot_bench_${tag}`;
const env = {
  ALLOT_CONFIG_DB: PG_URL,
  ALLOT_CONFIG_DB_SCHEMA: schema,
  ALLOT_REDIS_URL: redisUrl,
  ALLOT_REDIS_PREFIX: `bench-${tag}`,
  ALLOT_BUS: values.bus,
  ALLOT_NATS_URL: NATS_URL,
  ALLOT_NATS_STREAM: `ALLOT_BENCH_${tag}`,
  ALLOT_ADMIN_TOKEN: TOKEN,
  ALLOT_BEACON_SECRET: 'bench-beacon-secret-0123456789abcdef0123',
  ALLOT_LOG_LEVEL: 'warn',
  ALLOT_SAMPLING: values.sampling,
};
const procs = [];
async function role(name) {
  const dataDir = mkdtempSync(join(tmpdir(), `allot-${name}-`));
  const child = spawn(process.execPath, ['bin/allot.js', 'start', '--role', name], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: '0', ALLOT_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  procs.push(child);
  let out = '';
  child.stdout.on('data', (b) => {
    out += b;
  });
  for (;;) {
    const m = out.match(/running at (http:\/\/\S+)/);
    if (m) return m[1];
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stats = async (client) => {
  const info = await client.info('commandstats');
  let calls = 0;
  const byCommand = {};
  for (const m of info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) {
    byCommand[m[1]] = Number(m[2]);
    calls += Number(m[2]);
  }
  const net = await client.info('stats');
  const bytesIn = Number(net.match(/total_net_input_bytes:(\d+)/)[1]);
  const bytesOut = Number(net.match(/total_net_output_bytes:(\d+)/)[1]);
  const mem = await client.info('memory');
  const memory = Number(mem.match(/used_memory:(\d+)/)[1]);
  return { calls, byCommand, bytes: bytesIn + bytesOut, memory };
};

try {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const manager = await role('manager');
  const [decision] = await Promise.all([role('decision'), role('pipeline'), role('controller')]);
  const api = (method, path, body) =>
    fetch(`${manager}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  for (let p = 0; p < 10; p++) {
    const ids = [];
    for (let a = 0; a < 10; a++) {
      const id = `p${p}a${a}`;
      await api('POST', '/v1/ads', {
        id,
        name: id,
        creative: { type: 'html', html: '<b>x</b>' },
        clickUrl: 'https://example.com/',
        ...(a % 2 ? { targeting: { key: 'country', in: ['DE', 'FR'] } } : {}),
      });
      ids.push(id);
    }
    await api('POST', '/v1/placements', { id: `pl${p}`, name: `pl${p}`, fallbackAdId: ids[0] });
    await api('PUT', `/v1/placements/pl${p}/targets`, {
      targets: ids.slice(1).map((adId) => ({ adId, share: 0.09 })),
    });
  }
  await new Promise((r) => setTimeout(r, 1500));
  const client = createClient({ url: redisUrl });
  await client.connect();
  const bodies = Array.from({ length: 1000 }, (_, i) =>
    JSON.stringify({
      placementId: `pl${i % 10}`,
      userId: `u${i}`,
      context: { country: i % 3 ? 'DE' : 'US' },
    }),
  );
  let k = 0;
  const idle0 = await stats(client);
  await new Promise((r) => setTimeout(r, Number(values.seconds) * 1000));
  const idle1 = await stats(client);
  const s0 = await stats(client);
  const impressionUrls = [];
  const result = await autocannon({
    url: `${decision}/v1/decisions`,
    connections: 32,
    overallRate: Number(values.rate),
    duration: Number(values.seconds),
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: bodies[k++ % bodies.length] }),
        onResponse: (status, body) => {
          if (status !== 200) return;
          const m = body.match(/"impressionUrl":"([^"]+)"/);
          if (m) impressionUrls.push(new URL(m[1], decision).pathname + new URL(m[1], decision).search);
        },
      },
    ],
  });
  const s1 = await stats(client);
  // Beacons: the impressions of the decisions just served, at the same offered rate.
  await new Promise((r) => setTimeout(r, 2000));
  const b0 = await stats(client);
  let u = 0;
  const beacons = await autocannon({
    url: decision,
    // A beacon is answered once its event is on the bus (≤ the 20 ms publish linger): many
    // browsers at once, as in production, not 32 connections each waiting its turn.
    connections: 500,
    overallRate: Number(values.rate),
    amount: impressionUrls.length,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: impressionUrls[u++] }) }],
  });
  // Let the pipeline count the last of them (its linger) before counting commands.
  await new Promise((r) => setTimeout(r, 3000));
  const b1 = await stats(client);
  await client.quit();
  const decisions = result.requests.total;
  const calls = s1.calls - s0.calls;
  const bytes = s1.bytes - s0.bytes;
  const beaconCalls = b1.calls - b0.calls;
  const beaconBytes = b1.bytes - b0.bytes;
  const beaconSeconds = beacons.duration + 3;
  const idlePerSecond = (idle1.calls - idle0.calls) / Number(values.seconds);
  console.log(
    `\n${new Date().toISOString()}: bus ${values.bus}, sampling ${values.sampling}, ${values.rate} requests/s offered for ${values.seconds} s, 10 placements × 10 ads, fleet of manager + decision + pipeline + controller`,
  );
  console.log('| figure | value |\n|---|---|');
  console.log(
    `| decisions served (2xx) | ${result['2xx']} of ${decisions} (${Math.round(decisions / Number(values.seconds))}/s) |`,
  );
  console.log(`| latency p50 / p99 | ${result.latency.p50} ms / ${result.latency.p99} ms |`);
  console.log(`| Redis commands during the decisions (all roles) | ${calls} |`);
  console.log(`| Redis commands per decision | ${(calls / decisions).toFixed(4)} |`);
  console.log(`| Redis bytes per decision (in + out) | ${(bytes / decisions).toFixed(1)} |`);
  console.log(
    `| impression beacons served (2xx) | ${beacons['2xx']} of ${beacons.requests.total} in ${beacons.duration.toFixed(1)} s |`,
  );
  console.log(
    `| Redis commands per beacon (all roles, incl. ${idlePerSecond.toFixed(0)}/s idle over ${beaconSeconds.toFixed(0)} s) | ${(beaconCalls / beacons.requests.total).toFixed(4)} |`,
  );
  console.log(`| Redis bytes per beacon (in + out) | ${(beaconBytes / beacons.requests.total).toFixed(1)} |`);
  console.log(
    `| idle fleet: Redis commands per second (same length, no load) | ${idlePerSecond.toFixed(1)} |`,
  );
  console.log(
    `| Redis memory growth per decision + its beacon (dedup ids, counters; stream entries with the Redis bus) | ${((b1.memory - s0.memory) / decisions).toFixed(1)} bytes |`,
  );
  const top = (a, b, per) =>
    Object.entries(b.byCommand)
      .map(([c, n]) => [c, (n - (a.byCommand[c] ?? 0)) / per])
      .filter(([, n]) => n > 0)
      .sort((x, y) => y[1] - x[1])
      .slice(0, 8)
      .map(([c, n]) => `${c} ${n.toFixed(4)}`)
      .join(', ');
  console.log(`| busiest commands per decision | ${top(s0, s1, decisions)} |`);
  console.log(`| busiest commands per beacon | ${top(b0, b1, beacons.requests.total)} |`);
  console.log(`| busiest commands per second idle | ${top(idle0, idle1, Number(values.seconds))} |`);
} finally {
  for (const p of procs) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  for (const p of procs) p.kill('SIGKILL');
  redis.kill('SIGKILL');
  rmSync(redisDir, { recursive: true, force: true });
  const c = new pg.Client(PG_URL);
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
  if (values.bus === 'nats') {
    const nc = await connectNats({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(env.ALLOT_NATS_STREAM).catch(() => undefined);
    await nc.close();
  }
}
