// The scale bench through the built server (`--http`, `--store`): the configuration created
// through the manager API or written into the SQLite config store, then the server's own
// metrics and a wrk load. See bench/plan-scale.ts.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteConfigStore } from '../../src/adapters/sqlite/sqlite-config-store.js';
import {
  apiAd,
  apiPlacement,
  COUNTRIES,
  fmt,
  ISO,
  parseSize,
  targetsOf,
  toAd,
  toPlacement,
} from './scale-config.js';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface ServerBenchOptions {
  /** `K=V` settings for the server. */
  env: string[];
  /** Placements created at a time through the API. */
  concurrency: number;
  httpBudgetS: number;
  loadS: number;
  settleS: number;
}

const TOKEN = 'bench-admin-token-0123456789';

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

type Server = { child: ChildProcess; base: string; startMs: number };

async function startServer(dataDir: string, o: ServerBenchOptions): Promise<Server> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['bin/allot.js', 'start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      ALLOT_DATA_DIR: dataDir,
      ALLOT_ADMIN_TOKEN: TOKEN,
      ALLOT_LOG_LEVEL: 'warn',
      ...Object.fromEntries(o.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b;
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`allot exited ${c}: ${out}`)));
  });
  return { child, base, startMs: performance.now() - t0 };
}

async function stopServer(server: Server | null): Promise<void> {
  if (server === null || server.child.exitCode !== null) return;
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
}

/**
 * `--load-s` seconds of `wrk -t1 -c64` decisions over random placements (the Lua script cycles
 * 2,000 bodies as `bench/http-decisions.mjs`'s does). Null when wrk is not installed.
 */
function load(
  base: string,
  placements: number,
  dir: string,
  o: ServerBenchOptions,
): { perSec: number; non2xx: number; timeouts: number; p50Ms: number } | null {
  const script = join(dir, 'decisions.lua');
  writeFileSync(
    script,
    `local bodies = {}
local countries = {${COUNTRIES.map((c) => `"${c}"`).join(',')}}
math.randomseed(42)
for i = 1, 2000 do
  bodies[i] = string.format('{"placementId":"pl%d","userId":"u%d","context":{"country":"%s","age":%d,"member":%s}}',
    math.random(0, ${placements - 1}), math.random(1, 100000), countries[math.random(1, #countries)],
    math.random(14, 70), math.random() < 0.3 and "true" or "false")
end
local n = 0
request = function()
  n = n % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[n])
end
`,
  );
  let out: string;
  try {
    out = execFileSync(
      'wrk',
      ['-t1', '-c64', `-d${o.loadS}s`, '--latency', '-s', script, `${base}/v1/decisions`],
      {
        encoding: 'utf8',
      },
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return {
    perSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    timeouts: Number(/timeout (\d+)/.exec(out)?.[1] ?? 0),
    p50Ms: (() => {
      const m = /\s50%\s+([\d.]+)(us|ms|s)\b/.exec(out);
      return m === null
        ? Number.NaN
        : Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's'];
    })(),
  };
}

/**
 * What the server says about itself: plan compile time, the controller's cost per placement step
 * and its total so far, and event-loop lag (prom-client's default metrics).
 */
async function serverStats(base: string) {
  // A server whose event loop is saturated answers late: wait, and say so if it does not.
  const text = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(120_000) })
    .then((r) => r.text())
    .catch(() => '');
  const metric = (name: string) =>
    Number(new RegExp(`^${name}\\s+(\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  const stepSeconds = metric('allot_controller_step_seconds_total');
  const steps = metric('allot_controller_placement_steps_total');
  return {
    compileMs: metric('allot_plan_compile_seconds') * 1000,
    controllerSeconds: stepSeconds,
    controllerMsPerPlacementStep: (stepSeconds * 1000) / steps,
    lagP99Ms: metric('allot_nodejs_eventloop_lag_p99_seconds') * 1000,
  };
}

const settle = (o: ServerBenchOptions) => new Promise((r) => setTimeout(r, o.settleS * 1000));

/** One decision, timed (the first one after start, or after the configuration was created). */
async function decisionMs(base: string, placements: number): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${base}/v1/decisions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      placementId: `pl${placements - 1}`,
      userId: 'u1',
      context: { country: 'DE', age: 30 },
    }),
    signal: AbortSignal.timeout(120_000),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`decision: ${res.status}`);
  return performance.now() - t0;
}

export const loadCell = (d: ReturnType<typeof load>) =>
  d === null
    ? 'no wrk | '
    : `${fmt(d.perSec)}${d.non2xx > 0 ? ` (${fmt(d.non2xx)} non-2xx)` : ''}${d.timeouts > 0 ? ` (${fmt(d.timeouts)} timed out)` : ''} | ${fmt(d.p50Ms, 1)}`;
export const statsCells = (s: Awaited<ReturnType<typeof serverStats>>) =>
  `${fmt(s.compileMs, 1)} | ${fmt(s.controllerMsPerPlacementStep, 2)} (${fmt(s.controllerSeconds, 1)} s) | ${fmt(s.lagP99Ms)}`;

/** After the configuration is in: one timed decision, settle, the server's metrics, the load, RSS. */
async function measureServer(server: Server, placements: number, dir: string, o: ServerBenchOptions) {
  const firstMs = await decisionMs(server.base, placements);
  await settle(o);
  const stats = await serverStats(server.base);
  const decisions = load(server.base, placements, dir, o);
  return { firstMs, decisions, stats, rssAfterLoad: rssMiB(server.child.pid!) };
}

/**
 * Creates the configuration through the manager API, `--concurrency` placements at a time
 * (each: its ads one after another, then the placement, then its targets), for at most
 * `--http-budget-s`: every write recompiles the whole plan before it answers, so creation
 * slows down as the configuration grows. Reports how far it got and the rate at the end.
 */
export async function viaHttp(size: string, o: ServerBenchOptions) {
  const { placements, ads } = parseSize(size);
  const dir = mkdtempSync(join(tmpdir(), 'allot-scale-'));
  let server: Server | null = null;
  try {
    server = await startServer(join(dir, 'data'), o);
    const { base } = server;
    const rssEmpty = rssMiB(server.child.pid!);
    const t0 = performance.now();
    const budgetMs = o.httpBudgetS * 1000;
    let requestsDone = 0;
    let placementsDone = 0;
    let nextPlacement = 0;
    const windows: Array<{ t: number; requests: number }> = [{ t: 0, requests: 0 }];
    const progress = setInterval(() => {
      const t = (performance.now() - t0) / 1000;
      windows.push({ t, requests: requestsDone });
      process.stderr.write(
        `  http ${size}: ${placementsDone} placements, ${requestsDone.toLocaleString('en')} requests, ${t.toFixed(0)} s\n`,
      );
    }, 15_000);
    const call = async (method: string, path: string, body: unknown) => {
      await api(base, method, path, body);
      requestsDone++;
    };
    const worker = async () => {
      while (nextPlacement < placements && performance.now() - t0 < budgetMs) {
        const p = nextPlacement++;
        for (let a = 0; a < ads; a++) await call('POST', '/v1/ads', apiAd(p, a));
        await call('POST', '/v1/placements', apiPlacement(p));
        await call('PUT', `/v1/placements/pl${p}/targets`, { targets: targetsOf(p, ads) });
        placementsDone++;
      }
    };
    try {
      await Promise.all(Array.from({ length: o.concurrency }, worker));
    } finally {
      clearInterval(progress);
    }
    const seconds = (performance.now() - t0) / 1000;
    // The rate over the last 15–30 s (the progress ticks are 15 s apart).
    const last = [...windows].reverse().find((w) => w.t <= seconds - 15) ?? windows[0]!;
    const rssSeeded = rssMiB(server.child.pid!);
    const measured = await measureServer(server, placementsDone, dir, o);
    return {
      size,
      placementsDone,
      requests: requestsDone,
      seconds,
      requestsPerSec: requestsDone / seconds,
      lastRequestsPerSec: (requestsDone - last.requests) / (seconds - last.t),
      rssEmpty,
      rssSeeded,
      ...measured,
    };
  } finally {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the configuration into the SQLite store the server will open, then starts it. */
export async function viaStore(size: string, o: ServerBenchOptions) {
  const { placements, ads } = parseSize(size);
  const dir = mkdtempSync(join(tmpdir(), 'allot-scale-'));
  let server: Server | null = null;
  try {
    const dataDir = join(dir, 'data');
    const t0 = performance.now();
    const store = createSqliteConfigStore({ path: join(dataDir, 'config.sqlite') });
    try {
      for (let p = 0; p < placements; p++) {
        for (let a = 0; a < ads; a++) await store.createAd(toAd(p, a));
        await store.createPlacement(toPlacement(p));
        await store.putTargets(`pl${p}`, targetsOf(p, ads), ISO);
      }
    } finally {
      await store.close();
    }
    const seedSeconds = (performance.now() - t0) / 1000;
    server = await startServer(dataDir, o);
    const rssReady = rssMiB(server.child.pid!);
    const measured = await measureServer(server, placements, dir, o);
    return {
      size,
      seedSeconds,
      readySeconds: server.startMs / 1000,
      rssReady,
      ...measured,
    };
  } finally {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts the built server on an empty data dir and creates the configuration through the bulk
 * import (`POST /v1/config/import`), in requests of at most `adsPerRequest` ads (whole
 * placements each), one after another; then measures it like the other paths.
 */
export async function viaImport(size: string, o: ServerBenchOptions, adsPerRequest = 10_000) {
  const { placements, ads } = parseSize(size);
  const dir = mkdtempSync(join(tmpdir(), 'allot-scale-'));
  let server: Server | null = null;
  try {
    server = await startServer(join(dir, 'data'), o);
    const rssEmpty = rssMiB(server.child.pid!);
    const perRequest = Math.max(1, Math.floor(adsPerRequest / ads));
    const requestMs: number[] = [];
    const t0 = performance.now();
    for (let first = 0; first < placements; first += perRequest) {
      const last = Math.min(placements, first + perRequest);
      const body = { ads: [] as unknown[], placements: [] as unknown[], targets: [] as unknown[] };
      for (let p = first; p < last; p++) {
        for (let a = 0; a < ads; a++) body.ads.push(apiAd(p, a));
        body.placements.push(apiPlacement(p));
        body.targets.push({ placementId: `pl${p}`, targets: targetsOf(p, ads) });
      }
      const r0 = performance.now();
      await api(server.base, 'POST', '/v1/config/import', body);
      requestMs.push(performance.now() - r0);
      process.stderr.write(
        `  import ${size}: ${last} placements, ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    const rssSeeded = rssMiB(server.child.pid!);
    const measured = await measureServer(server, placements, dir, o);
    const sorted = [...requestMs].sort((x, y) => x - y);
    return {
      size,
      requests: requestMs.length,
      adsPerRequest: perRequest * ads,
      seconds,
      firstRequestMs: requestMs[0] ?? 0,
      medianRequestMs: sorted[Math.floor(sorted.length / 2)] ?? 0,
      lastRequestMs: requestMs.at(-1) ?? 0,
      rssEmpty,
      rssSeeded,
      ...measured,
    };
  } finally {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  }
}
