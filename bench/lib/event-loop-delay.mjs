// A server's event-loop delay over a run, from its `GET /metrics`: Allot's prom-client default
// metrics (`allot_nodejs_eventloop_lag_p99_seconds`, `_max_seconds`: a `monitorEventLoopDelay`
// sampled every 10 ms and reset at each scrape) or the hello-world's same-named lines. Scrape
// once before a run to reset, once after to read: a single process's (with node:cluster
// workers each scrape reaches one of them, so the benchmark does not read it there). The
// histogram holds the time between two samples, so an idle loop reads 10 ms: what is returned
// is that time less the 10 ms, how late the loop came round.

const RESOLUTION_MS = 10;

const line = (text, name) => {
  const m = new RegExp(`^(?:allot_)?nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(
    text,
  );
  return m === null ? Number.NaN : Math.max(0, Number(m[1]) * 1000 - RESOLUTION_MS);
};

/** `{ loopP99Ms, loopMaxMs }` since the previous call (NaN when the server does not say). */
export async function eventLoopDelay(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    const text = await res.text();
    return { loopP99Ms: line(text, 'p99'), loopMaxMs: line(text, 'max') };
  } catch {
    return { loopP99Ms: Number.NaN, loopMaxMs: Number.NaN };
  }
}
