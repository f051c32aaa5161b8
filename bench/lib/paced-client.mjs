// Open-loop fixed-rate HTTP/1.1 load (wrk2's model): request k is due at t0 + k/rate whatever
// happened to the earlier ones, and its latency is measured from that due time, so time spent
// queued behind a slow server counts (no coordinated omission). Keep-alive connections with one
// request in flight each (no pipelining), used round-robin. Sends are paced by a 1 ms timer, so
// at 10K req/s about 10 requests leave together.
//
// Run by fixed-rate.mjs as a child process, so that its CPU is its own:
//   node bench/lib/paced-client.mjs <config.json>
// config: { port, rate, durationSec, connections, requests: [{ method, path, body? }],
//   saveImpressionsTo? }.
// Prints `start` when the first request is due, then one JSON line with the result.
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const host = '127.0.0.1';
const raw = cfg.requests.map((r) =>
  Buffer.from(
    r.method === 'POST'
      ? `POST ${r.path} HTTP/1.1\r\nHost: ${host}:${cfg.port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(r.body)}\r\n\r\n${r.body}`
      : `GET ${r.path} HTTP/1.1\r\nHost: ${host}:${cfg.port}\r\n\r\n`,
  ),
);
const total = Math.round(cfg.rate * cfg.durationSec);
const intervalMs = 1000 / cfg.rate;
const DRAIN_MS = 5000; // after the last due time, how long answers are awaited
const latencies = new Float64Array(total);
let answered = 0;
let non2xx = 0;
let errors = 0;
let sent = 0;
let inFlight = 0;
let t0 = 0;
let firstAnswerAt = 0;
let lastAnswerAt = 0;
const idle = [];
// `saveImpressionsTo`: the impression URLs of the decisions answered, written there at the end
// (the soak fires them in its next window).
const impressions = cfg.saveImpressionsTo === undefined ? null : [];
const IMPRESSION_URL = /"impressionUrl":"([^"]+)"/;

function openConnection() {
  return new Promise((resolve, reject) => {
    const c = { socket: connect({ host, port: cfg.port }), due: 0, busy: false, buf: null };
    c.socket.setNoDelay(true);
    c.socket.once('connect', () => resolve(c));
    c.socket.once('error', reject);
    c.socket.on('data', (chunk) => onData(c, chunk));
  });
}

/** Counts every complete response in the connection's buffer (Content-Length, chunked or none). */
function onData(c, chunk) {
  c.buf = c.buf === null ? chunk : Buffer.concat([c.buf, chunk]);
  for (;;) {
    const headEnd = c.buf.indexOf('\r\n\r\n');
    if (headEnd === -1) return;
    const head = c.buf.toString('latin1', 0, headEnd);
    const len = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let end;
    if (len !== null) end = headEnd + 4 + Number(len[1]);
    else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const last = c.buf.indexOf('0\r\n\r\n', headEnd + 4);
      end = last === -1 ? Number.POSITIVE_INFINITY : last + 5;
    } else end = headEnd + 4; // 204 and the like
    if (c.buf.length < end) return;
    const status = Number(head.slice(9, 12));
    if (impressions !== null && status === 200) {
      const m = IMPRESSION_URL.exec(c.buf.toString('utf8', headEnd + 4, end));
      if (m !== null) impressions.push(m[1]);
    }
    c.buf = end === c.buf.length ? null : c.buf.subarray(end);
    answered++;
    if (status < 200 || status >= 300) non2xx++;
    const now = performance.now();
    latencies[answered - 1] = now - c.due;
    if (answered === 1) firstAnswerAt = now;
    lastAnswerAt = now;
    done(c);
    if (c.buf === null) return;
  }
}

function done(c) {
  c.busy = false;
  inFlight--;
  idle.push(c);
  pump();
}

function pump() {
  const due = Math.min(total, Math.floor((performance.now() - t0) / intervalMs) + 1);
  while (sent < due && idle.length > 0) {
    const c = idle.shift();
    c.busy = true;
    c.due = t0 + sent * intervalMs;
    inFlight++;
    c.socket.write(raw[sent % raw.length]);
    sent++;
  }
}

function finish() {
  const n = answered;
  const sorted = latencies.subarray(0, n).sort();
  const pct = (p) => (n === 0 ? Number.NaN : sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)]);
  // Rate between the first and the last answer: a steady latency shifts both ends alike, and a
  // saturated server's backlog stretches the span.
  const spanSec = (lastAnswerAt - firstAnswerAt) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const result = {
    offered: cfg.rate,
    achieved: n > 1 && spanSec > 0 ? (n - 1) / spanSec : Number.NaN,
    total: n,
    unanswered: total - n,
    p50: pct(50),
    p99: pct(99),
    non2xx,
    errors,
    clientCpuPct: ((cpu.user + cpu.system) / 1e6 / ((performance.now() - t0) / 1000)) * 100,
  };
  if (impressions !== null) writeFileSync(cfg.saveImpressionsTo, JSON.stringify(impressions));
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

const conns = await Promise.all(Array.from({ length: cfg.connections }, openConnection));
for (const c of conns) {
  // A connection lost mid-run: its request counts as an error and it is not reused.
  c.socket.on('error', () => {});
  c.socket.on('close', () => {
    errors++;
    if (c.busy) inFlight--;
    const i = idle.indexOf(c);
    if (i !== -1) idle.splice(i, 1);
  });
  idle.push(c);
}
const cpuStart = process.cpuUsage();
t0 = performance.now();
process.stdout.write('start\n');
const timer = setInterval(() => {
  pump();
  const now = performance.now();
  const lastDue = t0 + (total - 1) * intervalMs;
  if ((sent === total && inFlight === 0) || now > lastDue + DRAIN_MS) {
    clearInterval(timer);
    finish();
  }
}, 1);
