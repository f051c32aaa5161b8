// wrk (closed loop: each connection sends its next request when the previous one is answered),
// installed with apt when missing.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { track } from './processes.mjs';

export function ensureWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (e) {
    if (e.code !== 'ENOENT' && e.status !== 1) throw e; // `wrk --version` exits 1
    if (e.code === 'ENOENT') {
      process.stderr.write('installing wrk (apt-get)…\n');
      execFileSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq wrk'], { stdio: 'inherit' });
    }
  }
}

/**
 * Lua for wrk cycling over `items` (from workload.mjs: `{ method, path, body? }`), read from a
 * file written next to the script, one request per line.
 */
export function wrkScript(workDir, name, items) {
  const file = join(workDir, `${name}.lines`);
  writeFileSync(file, `${items.map((x) => (x.method === 'POST' ? x.body : x.path)).join('\n')}\n`);
  const post = items[0].method === 'POST';
  return `
local lines = {}
for line in io.lines("${file}") do lines[#lines + 1] = line end
local n = 0
request = function()
  n = n % #lines + 1
  return ${
    post
      ? 'wrk.format("POST", nil, {["Content-Type"] = "application/json"}, lines[n])'
      : 'wrk.format("GET", lines[n])'
  }
end
`;
}

/** One wrk run; resolves to req/s, requests, p50/p99 (ms) and the non-2xx count. */
export async function runWrk({ workDir, port, path, script, connections, duration }) {
  const scriptFile = join(workDir, `s${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(scriptFile, script);
  const args = ['-t1', `-c${connections}`, `-d${duration}s`, '--latency', '-s', scriptFile];
  const child = spawn('wrk', [...args, `http://127.0.0.1:${port}${path}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const proc = track('wrk', child); // ended by stopAll on a signal
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s) => {
    out += s;
  });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`wrk exited ${code}: ${out}`);
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]);
  const total = Number(out.match(/(\d+) requests in/)[1]);
  const pct = (p) => {
    const m = out.match(new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`));
    if (!m) return Number.NaN;
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  };
  const non2xx = Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  const socketErrors = out.match(/Socket errors: (.*)/)?.[1];
  if (socketErrors) process.stderr.write(`wrk socket errors (${path}): ${socketErrors}\n`);
  return { rps, total, p50: pct(50), p99: pct(99), non2xx };
}
