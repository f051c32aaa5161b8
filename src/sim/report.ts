import type { LimitReason } from '../core/allocation/feasibility.js';
import type { Scenario } from './scenario-schema.js';
import type { ControlTracePoint, SimResult } from './simulate.js';
import { STRATEGY_LABELS, type Strategy } from './strategies.js';

/** "Converged" means the cumulative share stays this close to its reference for good. */
export const CONVERGENCE_BAND = 0.005;

export interface AdMetrics {
  adId: string;
  fallback: boolean;
  target: number;
  /** Mean over the window's control steps of the controller's achievable share. */
  achievable: number;
  /** The last limit the controller reported for the ad in the window. */
  limit: LimitReason | null;
  /** What the ad should get: min(target, achievable); the fallback: what the others leave. */
  reference: number;
  impressions: number;
  realized: number;
  /** realized − reference at the window's end. */
  endDeviation: number;
  /** Largest |share − reference| of any simulated hour's own impressions. */
  maxHourlyDeviation: number;
  /** Simulated minutes until the cumulative share stays within the band; null: not by the end. */
  convergenceMinutes: number | null;
}

export interface StrategyMetrics {
  strategy: Strategy;
  label: string;
  requests: number;
  fillRate: number;
  impressions: number;
  elapsedMs: number;
  decisionsPerMinute: number;
  ads: AdMetrics[];
  /** Over the targeted ads (the fallback only takes the slack). */
  worstEndDeviation: number;
  worstHourlyDeviation: number;
  slowestConvergenceMinutes: number | null;
}

export interface ScenarioReport {
  scenario: string;
  description: string;
  decisions: number;
  durationHours: number;
  /** Whose controller trace gave the achievable shares: Allot's, each strategy's own final step, or none. */
  achievableFrom: 'allot' | 'own' | 'targets';
  strategies: StrategyMetrics[];
}

/**
 * Reference shares. With a fallback, each targeted ad should get min(target, achievable) and
 * the fallback what they leave. Without one, shares are relative: the ads the mix limits get
 * their achievable share, the others split the rest in proportion to their targets.
 */
export function referenceShares(
  targets: readonly number[],
  achievable: readonly number[],
  fb: number,
): number[] {
  const ref = targets.map((t, i) => Math.min(t, achievable[i] ?? t));
  if (fb >= 0) {
    const others = ref.reduce((a, r, i) => (i === fb ? a : a + r), 0);
    ref[fb] = Math.max(0, 1 - others);
    return ref;
  }
  const limited = ref.map((r, i) => r < targets[i]! - 1e-6);
  const fixed = ref.reduce((a, r, i) => (limited[i] ? a + r : a), 0);
  const free = targets.reduce((a, t, i) => (limited[i] ? a : a + t), 0);
  return ref.map((r, i) => (limited[i] || free <= 0 ? r : (targets[i]! * (1 - fixed)) / free));
}

function convergence(cumulative: readonly number[][], i: number, reference: number): number | null {
  let lastOut = -1;
  cumulative.forEach((row, m) => {
    const total = row.reduce((a, b) => a + b, 0);
    if (total <= 0 || Math.abs(row[i]! / total - reference) > CONVERGENCE_BAND) lastOut = m;
  });
  if (lastOut === cumulative.length - 1) return null;
  // Row m holds the counts at the end of minute m + 1.
  return lastOut + 2;
}

/**
 * Achievable shares from a controller trace: the mean over the window, and per simulated hour
 * the mean of that hour's steps. The final report alone would misjudge the window: at the end
 * of the day a daily-capped ad is capped for every user (achievable now: 0), and after a mix
 * shift it describes only the new mix. Steps are equally spaced and traffic is uniform in time,
 * so plain means weight each part of the window by its traffic.
 */
function achievableOf(trace: readonly ControlTracePoint[], r: SimResult) {
  const n = r.adIds.length;
  const mean = (points: readonly ControlTracePoint[]) =>
    points.length === 0
      ? null
      : Array.from(
          { length: n },
          (_, i) => points.reduce((a, p) => a + (p.achievable[i] ?? 0), 0) / points.length,
        );
  const window = mean(trace) ?? r.targets;
  const hourly = r.hourly.map(
    (_, h) => mean(trace.filter((p) => Math.floor((p.atMs - r.startMs) / 3_600_000) === h)) ?? window,
  );
  const limits = Array.from({ length: n }, (_, i) => {
    for (let k = trace.length - 1; k >= 0; k--) if (trace[k]!.limits[i]) return trace[k]!.limits[i]!;
    return null;
  });
  return { window, hourly, limits };
}

function strategyMetrics(r: SimResult, trace: readonly ControlTracePoint[]): StrategyMetrics {
  const achievable = achievableOf(trace, r);
  const reference = referenceShares(r.targets, achievable.window, r.fallbackIndex);
  const hourlyReference = achievable.hourly.map((a) => referenceShares(r.targets, a, r.fallbackIndex));
  const impressions = r.impressionsByAd.reduce((a, b) => a + b, 0);
  const ads: AdMetrics[] = r.adIds.map((adId, i) => {
    const realized = impressions > 0 ? r.impressionsByAd[i]! / impressions : 0;
    let maxHourly = 0;
    r.hourly.forEach((hour, h) => {
      const total = hour.reduce((a, b) => a + b, 0);
      const ref = hourlyReference[h]![i]!;
      if (total > 0) maxHourly = Math.max(maxHourly, Math.abs(hour[i]! / total - ref));
    });
    return {
      adId,
      fallback: i === r.fallbackIndex,
      target: r.targets[i]!,
      achievable: achievable.window[i]!,
      limit: achievable.limits[i] ?? null,
      reference: reference[i]!,
      impressions: r.impressionsByAd[i]!,
      realized,
      endDeviation: realized - reference[i]!,
      maxHourlyDeviation: maxHourly,
      convergenceMinutes: convergence(r.cumulative, i, reference[i]!),
    };
  });
  const targeted = ads.filter((a) => !a.fallback);
  const conv = targeted.map((a) => a.convergenceMinutes);
  return {
    strategy: r.strategy,
    label: STRATEGY_LABELS[r.strategy],
    requests: r.requests,
    fillRate: r.requests > 0 ? r.filled / r.requests : 0,
    impressions,
    elapsedMs: r.elapsedMs,
    decisionsPerMinute: (r.requests / Math.max(1, r.elapsedMs)) * 60_000,
    ads,
    worstEndDeviation: Math.max(0, ...targeted.map((a) => Math.abs(a.endDeviation))),
    worstHourlyDeviation: Math.max(0, ...targeted.map((a) => a.maxHourlyDeviation)),
    slowestConvergenceMinutes: conv.includes(null) ? null : Math.max(0, ...(conv as number[])),
  };
}

/**
 * Compares the strategies of one scenario. Achievable shares come from Allot's controller trace
 * (every strategy saw the same traffic), else from the strategy's own final observation.
 */
export function buildReport(scenario: Scenario, results: readonly SimResult[]): ScenarioReport {
  const allot = results.find((r) => r.strategy === 'allot' && r.controlTrace.length > 0);
  return {
    scenario: scenario.name,
    description: scenario.description,
    decisions: scenario.decisions,
    durationHours: scenario.durationHours,
    achievableFrom:
      allot !== undefined ? 'allot' : results.some((r) => r.controlTrace.length > 0) ? 'own' : 'targets',
    strategies: results.map((r) => strategyMetrics(r, (allot ?? r).controlTrace)),
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
const pp = (x: number, signed = false): string => {
  const v = Math.round(x * 10_000) / 100;
  return `${signed && v > 0 ? '+' : ''}${(v === 0 ? 0 : v).toFixed(2)}`;
};
const minutes = (m: number | null): string => (m === null ? 'not by the end' : String(m));
const rate = (x: number): string => `${(x / 1e6).toFixed(2)} M`;

/** The comparison as Markdown: a summary per strategy, then every ad under every strategy. */
export function toMarkdown(report: ScenarioReport): string {
  const lines = [
    '| Strategy | Worst \\|dev\\| at end (pp) | Worst hourly \\|dev\\| (pp) | Slowest convergence (min) | Fill | Decisions/min |',
    '|---|--:|--:|--:|--:|--:|',
    ...report.strategies.map(
      (s) =>
        `| ${s.label} | ${pp(s.worstEndDeviation)} | ${pp(s.worstHourlyDeviation)} | ${minutes(s.slowestConvergenceMinutes)} | ${pct(s.fillRate)} | ${rate(s.decisionsPerMinute)} |`,
    ),
    '',
    '| Ad | Target | Achievable | Limit | Strategy | Realized | Dev at end (pp) | Max hourly \\|dev\\| (pp) | Converged (min) |',
    '|---|--:|--:|---|---|--:|--:|--:|--:|',
  ];
  const first = report.strategies[0];
  first?.ads.forEach((ad, i) => {
    report.strategies.forEach((s, k) => {
      const a = s.ads[i]!;
      const head =
        k === 0
          ? `| ${ad.adId}${ad.fallback ? ' (fallback)' : ''} | ${pct(ad.target)} | ${pct(ad.achievable)} | ${ad.limit ?? ''}`
          : '| | | |';
      lines.push(
        `${head} | ${s.strategy} | ${pct(a.realized)} | ${pp(a.endDeviation, true)} | ${pp(a.maxHourlyDeviation)} | ${minutes(a.convergenceMinutes)} |`,
      );
    });
  });
  return `${lines.join('\n')}\n`;
}

/** Metrics plus the cumulative shares every `everyMinutes` simulated minutes (for other tools). */
export function toJson(report: ScenarioReport, results: readonly SimResult[], everyMinutes = 10): string {
  const series = results.map((r) => ({
    strategy: r.strategy,
    adIds: r.adIds,
    minutes: r.cumulative.map((_, m) => m + 1).filter((m) => m % everyMinutes === 0),
    shares: r.cumulative
      .filter((_, m) => (m + 1) % everyMinutes === 0)
      .map((row) => {
        const total = row.reduce((a, b) => a + b, 0);
        return row.map((x) => (total > 0 ? +(x / total).toFixed(6) : 0));
      }),
  }));
  return `${JSON.stringify({ ...report, series }, null, 2)}\n`;
}
