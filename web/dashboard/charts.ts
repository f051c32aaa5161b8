// uPlot charts: the live realized share per ad (with its 95 % band and the target line) and the
// hourly history from the allocation report.
import uPlot from 'uplot';
import type { Report, Status } from './api.js';

const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d'];
const assigned = new Map<string, string>();
/** One colour per ad for the whole session (charts, tables and editor agree), in order of first sight. */
export function colorFor(adId: string): string {
  let c = assigned.get(adId);
  if (c === undefined) {
    c = COLORS[assigned.size % COLORS.length] ?? '#2563eb';
    assigned.set(adId, c);
  }
  return c;
}
const alpha = (hex: string, a: number): string => {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
};

const percentAxis: uPlot.Axis = {
  values: (_u, ticks) => ticks.map((v) => `${Math.round(v * 1000) / 10}%`),
  size: 56,
};

/** One polled point per ad: the share, its interval and the target at time `t` (seconds). */
export interface LivePoint {
  t: number;
  ads: Map<string, { share: number; lo: number; hi: number; target: number }>;
}

export const livePoint = (s: Status, t = Date.now() / 1000): LivePoint => ({
  t,
  ads: new Map(
    s.ads.map((a) => [a.adId, { share: a.share, lo: a.ci95[0], hi: a.ci95[1], target: a.targetShare }]),
  ),
});

/** Targets change in steps (when saved), not gradually. */
const stepped = uPlot.paths.stepped?.({ align: 1 });

/** Four series per ad: share, ci low, ci high (a band between them) and the dashed target. */
function liveOptions(adIds: readonly string[], width: number): uPlot.Options {
  const series: uPlot.Series[] = [{}];
  const bands: uPlot.Band[] = [];
  adIds.forEach((id) => {
    const c = colorFor(id);
    const base = series.length;
    series.push(
      { label: id, stroke: c, width: 2, value: (_u, v) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`) },
      { label: `${id} ci low`, stroke: alpha(c, 0.3), width: 1, show: true },
      { label: `${id} ci high`, stroke: alpha(c, 0.3), width: 1 },
      { label: `${id} target`, stroke: c, width: 1, dash: [6, 4], paths: stepped },
    );
    bands.push({ series: [base + 2, base + 1], fill: alpha(c, 0.12) });
  });
  return {
    width,
    height: 260,
    series,
    bands,
    scales: { y: { range: [0, 1] } },
    axes: [{}, percentAxis],
    // The status table below the chart is the legend (same colours): 4 series per ad are too many.
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
  };
}

function liveData(adIds: readonly string[], points: readonly LivePoint[]): uPlot.AlignedData {
  const cols: Array<Array<number | null>> = [points.map((p) => p.t)];
  for (const id of adIds) {
    const at = (f: 'share' | 'lo' | 'hi' | 'target') => points.map((p) => p.ads.get(id)?.[f] ?? null);
    cols.push(at('share'), at('lo'), at('hi'), at('target'));
  }
  return cols as uPlot.AlignedData;
}

/** A chart that follows its container's width; recreated when the series change. */
export class Chart {
  private plot: uPlot | null = null;
  private key = '';
  private readonly resize = new ResizeObserver(() =>
    this.plot?.setSize({ width: this.width(), height: 260 }),
  );

  constructor(private readonly el: HTMLElement) {
    this.resize.observe(el);
  }

  private width(): number {
    return Math.max(240, this.el.clientWidth);
  }

  draw(key: string, options: (width: number) => uPlot.Options, data: uPlot.AlignedData): void {
    if (this.plot === null || key !== this.key) {
      this.plot?.destroy();
      this.key = key;
      this.plot = new uPlot(options(this.width()), data, this.el);
    } else {
      this.plot.setData(data);
    }
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}

export function drawLive(chart: Chart, points: readonly LivePoint[]): void {
  const ids = [...new Set(points.flatMap((p) => [...p.ads.keys()]))];
  chart.draw(ids.join('\n'), (w) => liveOptions(ids, w), liveData(ids, points));
}

/** Hourly realized share per ad (solid) and its current target (dashed). */
export function drawHistory(chart: Chart, report: Report): void {
  const periods = [...new Set(report.rows.map((r) => r.period))].sort();
  const ids = [...new Set(report.rows.map((r) => r.adId))].sort();
  const index = new Map(periods.map((p, i) => [p, i]));
  const cols: Array<Array<number | null>> = [periods.map((p) => Date.parse(p) / 1000)];
  const series: uPlot.Series[] = [{}];
  ids.forEach((id) => {
    const share: Array<number | null> = periods.map(() => null);
    const target: Array<number | null> = periods.map(() => null);
    for (const r of report.rows) {
      if (r.adId !== id) continue;
      const at = index.get(r.period)!;
      share[at] = r.share;
      target[at] = r.targetShare;
    }
    cols.push(share, target);
    const c = colorFor(id);
    series.push(
      { label: id, stroke: c, width: 2, points: { show: true, size: 5 } },
      { label: `${id} target`, stroke: c, width: 1, dash: [6, 4] },
    );
  });
  chart.draw(
    `h:${ids.join('\n')}`,
    (width) => ({
      width,
      height: 260,
      series,
      // The whole requested period (3 days), however few hours have data yet.
      scales: {
        x: { time: true, range: [Date.parse(report.from) / 1000, Date.parse(report.to) / 1000] },
        y: { range: [0, 1] },
      },
      axes: [{}, percentAxis],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
    }),
    cols as uPlot.AlignedData,
  );
}
