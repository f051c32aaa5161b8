// Decision endpoint throughput against a node:http hello-world baseline, measured in the same
// run on the same machine (docs/benchmarks.md). Needs `wrk` (installed with apt when missing)
// and a build (`npm run bench:http` does both).
//
//   node bench/http-decisions.mjs [--duration 10] [--connections 64] [--repeats 2]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    repeats: { type: 'string', default: '2' },
    placements: { type: 'string', default: '100' },
    ads: { type: 'string', default: '20' },
  },
});
const ROOT = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'allot-bench-'));
const TOKEN = 'bench-admin-token-0123456789';
const CLK_TCK = 100; // getconf CLK_TCK on Linux

function ensureWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (e) {
    if (e.code !== 'ENOENT' && e.status !== 1) throw e;
    if (e.code === 'ENOENT') {
      process.stderr.write('installing wrk (apt-get)…\n');
      execFileSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq wrk'], { stdio: 'inherit' });
    }
  }
}

function start(cmd, args, env) {
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
      const m = out.match(/listening (\d+)|running at http:\/\/[^:]+:(\d+)/);
      if (m) resolve({ child, port: Number(m[1] ?? m[2]) });
    });
    child.on('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${out}`)));
  });
}

const cpuTicks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
};

function wrk(port, path, script) {
  const scriptFile = join(work, `s${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(scriptFile, script);
  const out = execFileSync(
    'wrk',
    [
      '-t1',
      `-c${values.connections}`,
      `-d${values.duration}s`,
      '--latency',
      '-s',
      scriptFile,
      `http://127.0.0.1:${port}${path}`,
    ],
    { encoding: 'utf8' },
  );
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]);
  const total = Number(out.match(/(\d+) requests in/)[1]);
  const pct = (p) => {
    const m = out.match(new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`));
    if (!m) return Number.NaN;
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  };
  const non2xx = Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  return { rps, total, p50: pct(50), p99: pct(99), non2xx };
}

function measure(proc, port, path, script) {
  const before = cpuTicks(proc.pid);
  const r = wrk(port, path, script);
  const ticks = cpuTicks(proc.pid) - before;
  return { ...r, cpuUsPerReq: ((ticks / CLK_TCK) * 1e6) / r.total };
}

async function api(port, method, path, body) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'IT', 'ES', 'NL', 'PL'];

/** A realistic plan: P placements × A ads, half the ads targeted, every fifth capped. */
async function seed(port) {
  const P = Number(values.placements);
  const A = Number(values.ads);
  for (let p = 0; p < P; p++) {
    const ids = [];
    for (let a = 0; a < A; a++) {
      const id = `p${p}-a${a}`;
      const ad = {
        id,
        name: id,
        creative: { type: 'image', url: `https://cdn.example.com/${id}.png`, width: 300, height: 250 },
        clickUrl: `https://advertiser.example.com/${id}`,
      };
      if (a % 2 === 1) {
        ad.targeting = {
          all: [
            { key: 'country', in: COUNTRIES.slice(a % 4, (a % 4) + 4) },
            {
              any: [
                { key: 'age', gte: 18 + (a % 10) },
                { key: 'member', in: [true] },
              ],
            },
          ],
        };
      }
      if (a % 5 === 0 && a > 0) ad.frequencyCap = { impressions: 5, windowSeconds: 3600 };
      await api(port, 'POST', '/v1/ads', ad);
      ids.push(id);
    }
    await api(port, 'POST', '/v1/placements', { id: `pl${p}`, name: `Placement ${p}`, fallbackAdId: ids[0] });
    await api(port, 'PUT', `/v1/placements/pl${p}/targets`, {
      targets: ids.slice(1).map((adId) => ({ adId, share: 0.9 / (A - 1) })),
    });
  }
}

const decisionScript = `
local bodies = {}
local countries = {${COUNTRIES.map((c) => `"${c}"`).join(',')}}
math.randomseed(42)
for i = 1, 2000 do
  bodies[i] = string.format('{"placementId":"pl%d","userId":"u%d","context":{"country":"%s","age":%d,"member":%s}}',
    math.random(0, ${Number(values.placements) - 1}), math.random(1, 100000), countries[math.random(1, #countries)],
    math.random(14, 70), math.random() < 0.3 and "true" or "false")
end
local n = 0
request = function()
  n = n % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[n])
end
`;

async function main() {
  ensureWrk();
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const dataDir = join(work, 'data');
  const allot = await start(process.execPath, ['bin/allot.js', 'start'], {
    PORT: '0',
    ALLOT_DATA_DIR: dataDir,
    ALLOT_ADMIN_TOKEN: TOKEN,
    ALLOT_LOG_LEVEL: 'warn',
  });
  const hello = await start(process.execPath, ['bench/hello-server.mjs'], { PORT: '0' });
  try {
    const t0 = Date.now();
    await seed(allot.port);
    process.stderr.write(`seeded ${values.placements}×${values.ads} in ${Date.now() - t0} ms\n`);
    // Sample response size, so the baseline answers the same number of bytes.
    const sample = await fetch(`http://127.0.0.1:${allot.port}/v1/decisions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ placementId: 'pl1', userId: 'u1', context: { country: 'DE', age: 30 } }),
    });
    const bytes = (await sample.text()).length;
    hello.child.kill();
    const helloSized = await start(process.execPath, ['bench/hello-server.mjs'], {
      PORT: '0',
      RESPONSE_BYTES: String(bytes),
    });

    const rows = [];
    for (let r = 1; r <= Number(values.repeats); r++) {
      const h = measure(helloSized.child, helloSized.port, '/', decisionScript);
      rows.push({ run: r, server: 'node:http hello-world (parse JSON, same-size JSON)', ...h });
      const d = measure(allot.child, allot.port, '/v1/decisions', decisionScript);
      rows.push({ run: r, server: 'Allot POST /v1/decisions (embedded)', ...d, ratio: d.rps / h.rps });
    }
    helloSized.child.kill();
    const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
    console.log(
      `\nwrk -t1 -c${values.connections} -d${values.duration}s, ${values.placements} placements × ${values.ads} ads, response ${bytes} bytes, ${new Date().toISOString()}`,
    );
    console.log('| run | server | req/s | p50 ms | p99 ms | server CPU µs/req | non-2xx | ratio vs hello |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const x of rows) {
      console.log(
        `| ${x.run} | ${x.server} | ${fmt(x.rps)} | ${fmt(x.p50, 2)} | ${fmt(x.p99, 2)} | ${fmt(x.cpuUsPerReq, 1)} | ${x.non2xx} | ${x.ratio === undefined ? '' : fmt(x.ratio, 2)} |`,
      );
    }
  } finally {
    // Let Allot finish its graceful stop (the archiver's last write) before removing its data.
    const stopped = new Promise((r) => allot.child.once('exit', r));
    allot.child.kill('SIGTERM');
    hello.child.kill();
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 15_000))]);
    rmSync(work, { recursive: true, force: true, maxRetries: 5 });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
