// Markdown tables on stdout: one run (vs the baseline), and old vs new (--against).
import type { Baseline } from './baseline.js';
import type { Case } from './case.js';
import { isMeasured, type Results } from './measure.js';

/** ns with one decimal below 100, else rounded with thousands separators. */
const ns = (x: number): string => (x < 100 ? x.toFixed(1) : Math.round(x).toLocaleString('en'));

/** One row per case; with a baseline, a last column with this run's median ÷ the baseline's. */
export function printTable(cases: Case[], results: Results, baseline: Baseline | null): void {
  const withBase = baseline !== null;
  console.log(
    `| case | ns/op (mean) | median | ops/s | p99 ns/op | samples |${withBase ? ' vs baseline (median) |' : ''}\n` +
      `|---|---:|---:|---:|---:|---:|${withBase ? '---:|' : ''}`,
  );
  for (const c of cases) {
    const r = results[c.name];
    if (!isMeasured(r)) {
      console.log(`| ${c.name} | n/a | n/a | n/a | n/a | n/a |${withBase ? ' n/a |' : ''}`);
      continue;
    }
    const base = baseline?.medianNsPerOp?.[c.name];
    const ratio = base === undefined ? '—' : `×${(r.medianNs / base).toFixed(2)}`;
    console.log(
      `| ${c.name} | ${ns(r.nsPerOp)} | ${ns(r.medianNs)} | ${Math.round(r.opsPerSec).toLocaleString('en')} | ${ns(r.p99Ns)} | ${r.samples.toLocaleString('en')} |${withBase ? ` ${ratio} |` : ''}`,
    );
  }
}

/** A line per case that is n/a, with its error. */
export function printErrors(cases: Case[], results: Results): void {
  for (const c of cases) {
    const r = results[c.name];
    if (r !== undefined && 'error' in r) console.log(`- n/a, ${c.name}: ${r.error}`);
  }
}

/** Old vs new: the best (lowest) median of the rounds of each, their ratio, every round's median. */
export function printComparison(cases: Case[], old: Results[], cur: Results[]): void {
  console.log(
    '| case | old ns/op (median) | new ns/op (median) | new/old | old per round | new per round |\n' +
      '|---|---:|---:|---:|---:|---:|',
  );
  const best = (runs: Results[], name: string) => {
    const xs = runs.map((x) => x[name]).filter(isMeasured);
    return xs.length === 0 ? null : Math.min(...xs.map((x) => x.medianNs));
  };
  const perRound = (runs: Results[], name: string) =>
    runs
      .map((x) => x[name])
      .map((o) => (isMeasured(o) ? ns(o.medianNs) : 'n/a'))
      .join(' / ');
  for (const c of cases) {
    const o = best(old, c.name);
    const n = best(cur, c.name);
    const ratio = o === null || n === null ? 'n/a' : `×${(n / o).toFixed(2)}`;
    console.log(
      `| ${c.name} | ${o === null ? 'n/a' : ns(o)} | ${n === null ? 'n/a' : ns(n)} | ${ratio} | ${perRound(old, c.name)} | ${perRound(cur, c.name)} |`,
    );
  }
  for (const [side, runs] of [
    ['old', old],
    ['new', cur],
  ] as const) {
    for (const c of cases) {
      const e = runs.map((x) => x[c.name]).find((o) => o !== undefined && 'error' in o);
      if (e !== undefined && 'error' in e) console.log(`- n/a ${side}, ${c.name}: ${e.error}`);
    }
  }
}
