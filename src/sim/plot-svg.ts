import type { ScenarioReport, StrategyMetrics } from './report.js';
import type { SimResult } from './simulate.js';

/** Okabe & Ito's colour-blind-safe palette ("Color Universal Design", 2002). */
const COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#000000', '#F0E442'];
const PANEL = { width: 420, height: 270, left: 52, right: 14, top: 30, bottom: 40 } as const;
const LEGEND_HEIGHT = 44;
/** Enough points per line for a smooth curve, few enough to keep the file small. */
const MAX_POINTS = 360;

const esc = (s: string): string =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
const num = (x: number): string => (Math.round(x * 10) / 10).toString();
const color = (i: number): string => COLORS[i % COLORS.length]!;

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

/** The y range: every reference line and the curves after their first hour (earlier they swing widely). */
function yMax(results: readonly SimResult[], report: ScenarioReport): number {
  let max = 0;
  for (const s of report.strategies) for (const a of s.ads) max = Math.max(max, a.target, a.reference);
  for (const r of results) {
    r.cumulative.slice(60).forEach((row) => {
      const total = row.reduce((a, b) => a + b, 0);
      for (const x of row) if (total > 0) max = Math.max(max, x / total);
    });
  }
  const step = niceStep(max * 1.1, 5);
  return Math.min(1, Math.ceil((max * 1.1) / step) * step) || 1;
}

function panel(r: SimResult, m: StrategyMetrics, x0: number, ymax: number, clipId: string): string {
  const { width, height, left, right, top, bottom } = PANEL;
  const pw = width - left - right;
  const ph = height - top - bottom;
  const hours = r.durationHours;
  const sx = (h: number) => x0 + left + (h / hours) * pw;
  const sy = (share: number) => top + ph - (share / ymax) * ph;
  const out: string[] = [];
  out.push(`<text x="${num(x0 + left)}" y="18" font-weight="bold">${esc(m.label)}</text>`);
  const yStep = niceStep(ymax, 5);
  for (let y = 0; y <= ymax + 1e-9; y += yStep) {
    out.push(
      `<line x1="${num(sx(0))}" x2="${num(sx(hours))}" y1="${num(sy(y))}" y2="${num(sy(y))}" stroke="#ddd"/>`,
      `<text x="${num(x0 + left - 6)}" y="${num(sy(y) + 4)}" text-anchor="end">${+(y * 100).toFixed(1)} %</text>`,
    );
  }
  const xStep = hours >= 12 ? 3 : hours >= 4 ? 1 : niceStep(hours, 4);
  for (let h = 0; h <= hours + 1e-9; h += xStep) {
    out.push(
      `<line x1="${num(sx(h))}" x2="${num(sx(h))}" y1="${num(top + ph)}" y2="${num(top + ph + 4)}" stroke="#666"/>`,
      `<text x="${num(sx(h))}" y="${num(top + ph + 16)}" text-anchor="middle">${+h.toFixed(2)}</text>`,
    );
  }
  out.push(
    `<text x="${num(x0 + left + pw / 2)}" y="${height - 6}" text-anchor="middle">simulated hour (UTC)</text>`,
    `<rect x="${num(sx(0))}" y="${top}" width="${num(pw)}" height="${num(ph)}" fill="none" stroke="#666"/>`,
    `<clipPath id="${clipId}"><rect x="${num(sx(0))}" y="${top}" width="${num(pw)}" height="${num(ph)}"/></clipPath>`,
    `<g clip-path="url(#${clipId})" fill="none" stroke-width="1.6">`,
  );
  const every = Math.max(1, Math.ceil(r.cumulative.length / MAX_POINTS));
  m.ads.forEach((a, i) => {
    out.push(
      `<line x1="${num(sx(0))}" x2="${num(sx(hours))}" y1="${num(sy(a.target))}" y2="${num(sy(a.target))}" stroke="${color(i)}" stroke-dasharray="6 4" stroke-width="1"/>`,
    );
    if (Math.abs(a.reference - a.target) > 0.001) {
      out.push(
        `<line x1="${num(sx(0))}" x2="${num(sx(hours))}" y1="${num(sy(a.reference))}" y2="${num(sy(a.reference))}" stroke="${color(i)}" stroke-dasharray="1 3" stroke-width="1.2"/>`,
      );
    }
    const pts: string[] = [];
    r.cumulative.forEach((row, k) => {
      if (k % every !== every - 1 && k !== r.cumulative.length - 1) return;
      const total = row.reduce((s, x) => s + x, 0);
      if (total > 0) pts.push(`${num(sx((k + 1) / 60))},${num(sy(row[i]! / total))}`);
    });
    out.push(`<polyline stroke="${color(i)}" points="${pts.join(' ')}"/>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/**
 * Cumulative impression share per ad over simulated time, one small-multiple panel per
 * strategy on a shared y scale; dashed: targets, dotted: the reference share where it differs from
 * the target (an ad the traffic limits, and the fallback that takes the slack). Plain SVG with a viewBox, so it scales in Markdown and HTML alike.
 */
export function renderSvg(report: ScenarioReport, results: readonly SimResult[]): string {
  const ymax = yMax(results, report);
  const width = PANEL.width * results.length;
  const height = PANEL.height + LEGEND_HEIGHT;
  const panels = results.map((r, k) => {
    const m = report.strategies.find((s) => s.strategy === r.strategy)!;
    return panel(r, m, k * PANEL.width, ymax, `clip-${esc(report.scenario)}-${k}`);
  });
  const legend: string[] = [];
  let x = PANEL.left;
  const ly = PANEL.height + 14;
  report.strategies[0]?.ads.forEach((a, i) => {
    const label = `${a.adId}${a.fallback ? ' (fallback)' : ''}`;
    legend.push(
      `<line x1="${x}" x2="${x + 22}" y1="${ly}" y2="${ly}" stroke="${color(i)}" stroke-width="2"/>`,
      `<text x="${x + 28}" y="${ly + 4}">${esc(label)}</text>`,
    );
    x += 40 + label.length * 7;
  });
  legend.push(
    `<text x="${PANEL.left}" y="${ly + 22}" fill="#444">solid: cumulative share · dashed: target · dotted: what the traffic allows, where it differs from the target · scenario ${esc(report.scenario)}, ${report.decisions.toLocaleString('en-US')} decisions</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="11">
<title>${esc(report.scenario)}: cumulative share per ad over simulated time, per strategy</title>
<rect width="100%" height="100%" fill="#fff"/>
${panels.join('\n')}
${legend.join('\n')}
</svg>
`;
}

const ACHIEVABLE_NOTE: Record<ScenarioReport['achievableFrom'], string> = {
  allot:
    "Achievable shares: the mean of the Allot controller's estimates over the window (per hour for hourly deviations).",
  own: "Achievable shares: each strategy's own controller observation at the window's end.",
  targets: 'Achievable shares: not estimated (no controller report); targets used.',
};

function table(headers: string[], rows: string[][]): string {
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A self-contained page: the comparison tables and the chart. */
export function renderHtml(report: ScenarioReport, svg: string): string {
  const p = (x: number) => `${(x * 100).toFixed(2)} %`;
  const d = (x: number) => (x * 100).toFixed(2);
  const c = (m: number | null) => (m === null ? 'not by the end' : String(m));
  const summary = table(
    ['Strategy', 'Worst |dev| at end (pp)', 'Worst hourly |dev| (pp)', 'Slowest convergence (min)', 'Fill'],
    report.strategies.map((s) => [
      s.label,
      d(s.worstEndDeviation),
      d(s.worstHourlyDeviation),
      c(s.slowestConvergenceMinutes),
      p(s.fillRate),
    ]),
  );
  const rows: string[][] = [];
  report.strategies[0]?.ads.forEach((ad, i) => {
    for (const s of report.strategies) {
      const a = s.ads[i]!;
      rows.push([
        `${ad.adId}${ad.fallback ? ' (fallback)' : ''}`,
        p(ad.target),
        p(ad.achievable),
        ad.limit ?? '',
        s.strategy,
        p(a.realized),
        d(a.endDeviation),
        d(a.maxHourlyDeviation),
        c(a.convergenceMinutes),
      ]);
    }
  });
  const detail = table(
    [
      'Ad',
      'Target',
      'Achievable',
      'Limit',
      'Strategy',
      'Realized',
      'Dev at end (pp)',
      'Max hourly |dev| (pp)',
      'Converged (min)',
    ],
    rows,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Allot simulation: ${esc(report.scenario)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:1300px}table{border-collapse:collapse;margin:1rem 0}
th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}th:first-child,td:first-child{text-align:left}
svg{max-width:100%;height:auto}</style></head>
<body><h1>Simulation: ${esc(report.scenario)}</h1>
<p>${esc(report.description)}</p>
<p>${report.decisions.toLocaleString('en-US')} decisions over ${report.durationHours} simulated hours. ${ACHIEVABLE_NOTE[report.achievableFrom]}</p>
${summary}
${svg}
${detail}
</body></html>
`;
}
