// The recorded baseline, bench/micro-baseline.json: read for the ratios, written by --save.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Case } from './case.js';
import { isMeasured, type Results } from './measure.js';

export interface Baseline {
  recorded: string;
  node: string;
  commit: string;
  dirty: boolean;
  timeMsPerCase: number;
  /** Mean ns/op per case. */
  nsPerOp: Record<string, number>;
  /** Median ns/op per case (what the ratios compare). */
  medianNsPerOp?: Record<string, number>;
}

/** The baseline at `path`, or null when there is none or it is not JSON (with a warning on stderr). */
export function readBaseline(path: string): Baseline | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Baseline;
  } catch {
    process.stderr.write(`warning: ${path} is not readable JSON; ignored\n`);
    return null;
  }
}

/** Records the measured cases of `results` at `path` (cases that are n/a are left out). */
export function writeBaseline(
  path: string,
  cases: Case[],
  results: Results,
  rev: { commit: string; dirty: boolean },
  timeMs: number,
): void {
  const nsPerOp: Record<string, number> = {};
  const medianNsPerOp: Record<string, number> = {};
  for (const c of cases) {
    const r = results[c.name];
    if (!isMeasured(r)) continue;
    nsPerOp[c.name] = Number(r.nsPerOp.toFixed(2));
    medianNsPerOp[c.name] = Number(r.medianNs.toFixed(2));
  }
  const b: Baseline = {
    recorded: new Date().toISOString(),
    node: process.version,
    commit: rev.commit,
    dirty: rev.dirty,
    timeMsPerCase: timeMs,
    nsPerOp,
    medianNsPerOp,
  };
  writeFileSync(path, `${JSON.stringify(b, null, 2)}\n`);
}
