// Fixed-rate load: R req/s offered for a duration, with the servers' CPU measured over exactly
// the sending window. Two tools:
// - `paced` (default): paced-client.mjs, open loop with latency from each request's due time;
// - `autocannon` with `overallRate`: each connection sends its share of R back to back at the
//   start of every second, then waits for the next one (autocannon/lib/httpClient.js), so the
//   server sees one-second bursts at full speed rather than a steady rate; kept for comparison.
//   Its latencies are recorded per response (`ignoreCoordinatedOmission`: its correction assumes
//   a 1 ms interval per connection here).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { track } from './processes.mjs';

const CLIENT = new URL('./paced-client.mjs', import.meta.url).pathname;

/**
 * Runs one fixed-rate load. `onStart()` is called when the first request is due and `onEnd()`
 * when the last answer is in (or the drain deadline passed); both are for CPU snapshots.
 * Resolves to `{ offered, achieved, total, unanswered, p50, p99, non2xx, errors, clientCpuPct }`.
 */
export function runFixedRate(tool, opts, onStart, onEnd) {
  return tool === 'autocannon' ? runAutocannon(opts, onStart, onEnd) : runPaced(opts, onStart, onEnd);
}

async function runPaced(
  { workDir, port, rate, durationSec, connections, requests, saveImpressionsTo },
  onStart,
  onEnd,
) {
  const cfgFile = join(workDir, `paced-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    cfgFile,
    JSON.stringify({ port, rate, durationSec, connections, requests, saveImpressionsTo }),
  );
  const child = spawn(process.execPath, [CLIENT, cfgFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const { exited } = track('paced-client', child); // ended by stopAll on a signal
  let result = null;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'start') onStart();
    else if (line.startsWith('{')) {
      onEnd();
      result = JSON.parse(line);
    }
  }
  const code = await exited;
  if (result === null) throw new Error(`paced-client exited ${code} without a result`);
  return result;
}

async function runAutocannon({ port, rate, durationSec, connections, requests }, onStart, onEnd) {
  let n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  onStart();
  const r = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    overallRate: rate,
    duration: durationSec,
    ignoreCoordinatedOmission: true,
    requests: [
      {
        setupRequest: (req) => {
          const x = requests[n++ % requests.length];
          return x.method === 'POST'
            ? {
                ...req,
                method: 'POST',
                path: x.path,
                headers: { 'content-type': 'application/json' },
                body: x.body,
              }
            : { ...req, method: 'GET', path: x.path };
        },
      },
    ],
  });
  onEnd();
  const cpu = process.cpuUsage(cpu0);
  const total = r.requests.total;
  return {
    offered: rate,
    achieved: total / r.duration,
    total,
    unanswered: 0,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    clientCpuPct: ((cpu.user + cpu.system) / 1e6 / ((performance.now() - t0) / 1000)) * 100,
  };
}
