// Soak: Allot (embedded, built) under a fixed offered rate of decisions, each followed by its
// impression beacon, for --minutes; every --every seconds prints the window's decisions/s,
// beacons/s, latency p50/p99, errors (non-2xx and socket), server RSS and heap. Not part of CI
// (docs/benchmarks.md holds the figures).
//
//   npm run build && node bench/soak.mjs [--minutes 10] [--rate 10000] [--every 30]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '10000' },
    every: { type: 'string', default: '30' },
    connections: { type: 'string', default: '64' },
  },
});
const ROOT = new URL('..', import.meta.url).pathname;
const data = mkdtempSync(join(tmpdir(), 'allot-soak-'));
const TOKEN = 'soak-admin-token-0123456789';

const server = spawn(process.execPath, ['bin/allot.js', 'start'], {
  cwd: ROOT,
  env: { ...process.env, PORT: '0', ALLOT_DATA_DIR: data, ALLOT_ADMIN_TOKEN: TOKEN, ALLOT_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const base = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (b) => {
    out += b;
    const m = out.match(/running at (http:\/\/\S+)/);
    if (m) resolve(m[1]);
  });
  server.once('exit', (c) => reject(new Error(`allot exited ${c}: ${out}`)));
});
const api = (method, path, body) =>
  fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
for (const id of ['a', 'b', 'c', 'house'])
  await api('POST', '/v1/ads', {
    id,
    name: id,
    clickUrl: `https://example.com/${id}`,
    creative: { type: 'image', url: `https://cdn.example.com/${id}.png`, width: 300, height: 250 },
  });
for (let p = 0; p < 10; p++) {
  await api('POST', '/v1/placements', { id: `p${p}`, name: `p${p}`, fallbackAdId: 'house' });
  await api('PUT', `/v1/placements/p${p}/targets`, {
    targets: [
      { adId: 'a', share: 0.3 },
      { adId: 'b', share: 0.4 },
    ],
  });
}

const memory = () => {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
};
const windows = [];
let win = { decisions: 0, beacons: 0, errors: 0, latencies: [] };
const started = Date.now();
const every = Number(values.every) * 1000;
const timer = setInterval(() => {
  const w = win;
  win = { decisions: 0, beacons: 0, errors: 0, latencies: [] };
  w.latencies.sort((x, y) => x - y);
  const pct = (p) =>
    w.latencies[Math.min(w.latencies.length - 1, Math.floor((p / 100) * w.latencies.length))] ?? 0;
  const row = {
    t: Math.round((Date.now() - started) / 1000),
    decisionsPerSec: Math.round(w.decisions / (every / 1000)),
    beaconsPerSec: Math.round(w.beacons / (every / 1000)),
    p50: Math.round(pct(50) * 100) / 100,
    p99: Math.round(pct(99) * 100) / 100,
    errors: w.errors,
    rssMiB: Math.round(memory()),
  };
  windows.push(row);
  console.log(JSON.stringify(row));
}, every);

const instance = autocannon({
  url: base,
  connections: Number(values.connections),
  overallRate: Number(values.rate) * 2, // a decision and its beacon
  duration: Number(values.minutes) * 60,
  requests: [
    {
      method: 'POST',
      path: '/v1/decisions',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => ({
        ...req,
        body: JSON.stringify({
          placementId: `p${Math.floor(Math.random() * 10)}`,
          userId: `u${Math.floor(Math.random() * 1e5)}`,
        }),
      }),
      onResponse: (status, body, context) => {
        if (status === 200) win.decisions++;
        context.beacon =
          status === 200 ? JSON.parse(body).impressionUrl.replace('impression?', 'impression.gif?') : null;
      },
    },
    {
      method: 'GET',
      setupRequest: (req, context) =>
        context.beacon ? { ...req, path: context.beacon } : { ...req, path: '/healthz' },
      onResponse: (status) => {
        if (status === 200) win.beacons++;
      },
    },
  ],
});
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  if (statusCode >= 400) win.errors++;
  win.latencies.push(responseTime);
});
instance.on('reqError', () => win.errors++);
const result = await instance;
clearInterval(timer);
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
rmSync(data, { recursive: true, force: true });
console.log('\n| t (s) | decisions/s | beacons/s | p50 ms | p99 ms | errors | RSS MiB |');
console.log('|---|---|---|---|---|---|---|');
for (const w of windows)
  console.log(
    `| ${w.t} | ${w.decisionsPerSec} | ${w.beaconsPerSec} | ${w.p50} | ${w.p99} | ${w.errors} | ${w.rssMiB} |`,
  );
console.log(
  `\ntotal: ${result.requests.total} requests, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
);
