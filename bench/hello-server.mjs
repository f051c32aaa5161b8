// Baseline for the decision benchmark: a plain node:http server that does the minimum an ad
// endpoint must — read and parse the same JSON body, answer a same-size JSON — and nothing else.
// A GET (the beacon baseline) reads the `t` query parameter and answers GET_RESPONSE_BYTES bytes
// (0: an empty 204, like Allot's impression beacon). WORKERS=N runs N node:cluster workers on one
// port, as ALLOT_WORKERS does for Allot, so that both sides of a comparison use the same cores.
// `GET /metrics` answers the event loop's delay since the last call (p99 and max, in seconds, named
// as Allot's prom-client metrics, sampled every 10 ms as they are), so that a fixed-rate run can
// show both servers' stalls side by side.
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const workers = Number(process.env.WORKERS ?? 1);

if (workers > 1 && cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('listening', (_worker, address) => {
    if (++listening === workers) process.stdout.write(`listening ${address.port}\n`);
  });
  const stop = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const size = Number(process.env.RESPONSE_BYTES ?? 600);
  const filler = 'x'.repeat(Math.max(0, size - 60));
  const getBytes = Number(process.env.GET_RESPONSE_BYTES ?? 0);
  const getBody = Buffer.alloc(getBytes, 'x');
  const getStatus = getBytes === 0 ? 204 : 200;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      const text = `nodejs_eventloop_lag_p99_seconds ${delay.percentile(99) / 1e9}\nnodejs_eventloop_lag_max_seconds ${delay.max / 1e9}\n`;
      delay.reset();
      res.end(text);
      return;
    }
    if (req.method === 'GET') {
      const q = req.url.indexOf('?');
      const token = q === -1 ? null : new URLSearchParams(req.url.slice(q + 1)).get('t');
      res.writeHead(token === null ? 400 : getStatus, getBytes === 0 ? {} : { 'content-length': getBytes });
      res.end(getBytes === 0 ? undefined : getBody);
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const parsed = JSON.parse(body);
      const out = JSON.stringify({ placementId: parsed.placementId, ok: true, filler });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  // A clean exit on SIGTERM, so that a `--cpu-prof` profile is written.
  if (cluster.isPrimary) process.on('SIGTERM', () => process.exit(0));
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    if (cluster.isPrimary) process.stdout.write(`listening ${server.address().port}\n`);
  });
}
