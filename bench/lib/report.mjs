// The benchmark's tables: one row per run as it went, then a summary (medians over the repeats)
// in markdown for docs/benchmarks.md, headed by the run's parameters.

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const thousands = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** Achieved below this share of the offered rate: the server was saturated. */
const SATURATED = 0.95;
const saturated = (x) => x.achieved < SATURATED * x.offered;

function table(columns, rows) {
  const lines = [`| ${columns.map((c) => c.title).join(' | ')} |`, `|${columns.map(() => '---|').join('')}`];
  for (const x of rows) lines.push(`| ${columns.map((c) => c.cell(x)).join(' | ')} |`);
  return lines.join('\n');
}

/** Columns of the per-run table; `fleet` adds the pipeline's CPU. */
function runColumns({ rate, fleet }) {
  const cols = [
    { title: 'run', cell: (x) => x.run },
    { title: 'server', cell: (x) => x.server },
  ];
  if (rate === null)
    cols.push(
      { title: 'req/s', cell: (x) => fmt(x.rps) },
      { title: 'p50 ms', cell: (x) => fmt(x.p50, 2) },
      { title: 'p99 ms', cell: (x) => fmt(x.p99, 2) },
      { title: 'server CPU µs/req', cell: (x) => fmt(x.cpuUsPerReq, 1) },
      { title: 'non-2xx', cell: (x) => x.non2xx },
      { title: 'ratio vs hello', cell: (x) => (x.ratio === undefined ? '' : fmt(x.ratio, 2)) },
    );
  else
    cols.push(
      { title: 'offered req/s', cell: (x) => fmt(x.offered) },
      { title: 'achieved req/s', cell: (x) => `${fmt(x.achieved)}${saturated(x) ? ' *' : ''}` },
      { title: 'p50 ms', cell: (x) => fmt(x.p50, 2) },
      { title: 'p99 ms', cell: (x) => fmt(x.p99, 2) },
      { title: 'server CPU % of one core', cell: (x) => fmt(x.cpuPct, 1) },
      { title: 'server CPU µs/req', cell: (x) => fmt(x.cpuUsPerReq, 1) },
      { title: 'non-2xx / errors / unanswered', cell: (x) => `${x.non2xx} / ${x.errors} / ${x.unanswered}` },
      { title: 'client CPU %', cell: (x) => fmt(x.clientCpuPct, 0) },
      {
        title: 'event-loop delay p99 / max ms',
        cell: (x) => `${fmt(x.loopP99Ms, 1)} / ${fmt(x.loopMaxMs, 1)}`,
      },
      { title: 'CPU/req × hello', cell: (x) => (x.ratio === undefined ? '' : fmt(x.ratio, 2)) },
    );
  if (fleet)
    cols.push({
      title: 'pipeline CPU µs/req',
      cell: (x) => (x.pipelineUsPerReq === undefined ? '' : fmt(x.pipelineUsPerReq, 1)),
    });
  return cols;
}

export function runTable(rows, opts) {
  return table(runColumns(opts), rows);
}

/** Medians per (target, server) over the repeats, in the order the servers first ran. */
export function summaryTable(rows, { rate, fleet }) {
  const groups = new Map();
  for (const x of rows) {
    const key = `${x.target}\u0000${x.server}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(x);
  }
  const merged = [...groups.values()].map((xs) => {
    const m = (k) => median(xs.map((x) => x[k]));
    return {
      target: xs[0].target,
      server: xs[0].server,
      rps: m('rps'),
      offered: xs[0].offered,
      achieved: m('achieved'),
      p50: m('p50'),
      p99: m('p99'),
      cpuPct: m('cpuPct'),
      cpuUsPerReq: m('cpuUsPerReq'),
      loopP99Ms: m('loopP99Ms'),
      loopMaxMs: m('loopMaxMs'),
      pipelineUsPerReq: xs[0].pipelineUsPerReq === undefined ? undefined : m('pipelineUsPerReq'),
      ratio: xs[0].ratio === undefined ? undefined : m('ratio'),
    };
  });
  const cols = [
    { title: 'target', cell: (x) => x.target },
    { title: 'server', cell: (x) => x.server },
  ];
  if (rate === null)
    cols.push(
      { title: 'req/s', cell: (x) => thousands(x.rps) },
      { title: 'p50 ms', cell: (x) => fmt(x.p50, 2) },
      { title: 'p99 ms', cell: (x) => fmt(x.p99, 2) },
      { title: 'server CPU µs/req', cell: (x) => fmt(x.cpuUsPerReq, 1) },
      { title: 'ratio vs hello', cell: (x) => (x.ratio === undefined ? '' : fmt(x.ratio, 2)) },
    );
  else
    cols.push(
      { title: 'achieved req/s', cell: (x) => `${thousands(x.achieved)}${saturated(x) ? ' *' : ''}` },
      { title: 'p50 ms', cell: (x) => fmt(x.p50, 2) },
      { title: 'p99 ms', cell: (x) => fmt(x.p99, 2) },
      { title: 'server CPU % of one core', cell: (x) => fmt(x.cpuPct, 1) },
      { title: 'server CPU µs/req', cell: (x) => fmt(x.cpuUsPerReq, 1) },
      {
        title: 'event-loop delay p99 / max ms',
        cell: (x) => `${fmt(x.loopP99Ms, 1)} / ${fmt(x.loopMaxMs, 1)}`,
      },
      { title: 'CPU/req × hello', cell: (x) => (x.ratio === undefined ? '' : fmt(x.ratio, 2)) },
    );
  if (fleet)
    cols.push({
      title: 'pipeline CPU µs/req',
      cell: (x) => (x.pipelineUsPerReq === undefined ? '' : fmt(x.pipelineUsPerReq, 1)),
    });
  return table(cols, merged);
}

export function saturationNote(rows) {
  return rows.some((x) => x.offered !== undefined && saturated(x))
    ? `* achieved below ${SATURATED * 100} % of the offered rate: that server was saturated, or the offered rate × its latency exceeded --connections (one request in flight per connection); its latency and CPU/req are not below-saturation figures.`
    : null;
}
