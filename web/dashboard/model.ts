// Pure helpers: delivery states, percent ⇄ share, mapping API problems to editor rows.
import type { Problem, Status, StatusAd } from './api.js';

export type Delivery = 'on target' | 'behind' | 'ahead' | 'infeasible' | 'no data';

/** How far outside its 95 % interval a target may be before the ad counts as off target. */
export const TOLERANCE = 0.01;

/** An ad's delivery: infeasible (per the controller), else behind/ahead when the target lies
 * outside the realized share's 95 % interval by more than TOLERANCE, else on target. */
export function adDelivery(ad: StatusAd, totalImpressions: number): Delivery {
  if (!ad.feasible) return 'infeasible';
  if (totalImpressions === 0) return 'no data';
  if (ad.ci95[1] < ad.targetShare - TOLERANCE) return 'behind';
  if (ad.ci95[0] > ad.targetShare + TOLERANCE) return 'ahead';
  return 'on target';
}

/** A placement's delivery: its worst ad. */
export function placementDelivery(status: Status): Delivery {
  if (!status.feasible) return 'infeasible';
  if (status.totalImpressions === 0) return 'no data';
  const states = status.ads.map((a) => adDelivery(a, status.totalImpressions));
  for (const s of ['infeasible', 'behind', 'ahead'] as const) if (states.includes(s)) return s;
  return 'on target';
}

export const pct = (share: number | null | undefined, digits = 1): string =>
  share === null || share === undefined || !Number.isFinite(share)
    ? '—'
    : `${(share * 100).toFixed(digits)} %`;

/** A percent typed by the user → the share sent to the API. Anything that is not a number is
 * sent as typed, so the API's validation (the single source of truth) reports it. */
export function shareOf(percent: string): number | string {
  const t = percent.trim().replace(',', '.');
  if (t === '' || !/^[-+]?\d*\.?\d+(e[-+]?\d+)?$/i.test(t)) return percent;
  return Math.round(Number(t) * 1e6) / 1e8;
}

/** A share → the percent shown in its input, without float noise (0.07 → "7"). */
export const percentOf = (share: number): string => String(Math.round(share * 1e8) / 1e6);

export interface RowProblems {
  /** Problems per row index, per field ('adId', 'share' or '' for the row itself). */
  rows: Map<number, Array<{ field: string; message: string }>>;
  /** Problems on the whole set (sum, count) or elsewhere. */
  general: string[];
}

/** Maps `problems[].path` (JSON pointers such as `/targets/1/share`) to editor rows. */
export function mapProblems(problems: readonly Problem[]): RowProblems {
  const out: RowProblems = { rows: new Map(), general: [] };
  for (const p of problems) {
    const m = /^\/targets\/(\d+)(?:\/([^/]+))?/.exec(p.path);
    if (m === null) {
      out.general.push(p.path === '' || p.path === '/targets' ? p.message : `${p.path}: ${p.message}`);
      continue;
    }
    const row = Number(m[1]);
    const list = out.rows.get(row) ?? [];
    list.push({ field: m[2] ?? '', message: p.message });
    out.rows.set(row, list);
  }
  return out;
}
