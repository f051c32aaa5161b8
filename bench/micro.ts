// Micro-benchmarks of the decision hot path, with a recorded baseline and an old-vs-new mode
// (docs/benchmarks.md, "Micro-benchmarks of the hot path").
//
//   npm run bench:micro                          # = tsx bench/micro.ts: table, ratio vs the baseline
//   npm run bench:micro -- --save                # record this run in bench/micro-baseline.json
//   npm run bench:micro -- --against <git-ref>   # <ref> (old) vs this working tree (new), same run
//       [--time 300]      ms of measurement per case (after a short warm-up)
//       [--rounds 2]      --against: runs of each tree, interleaved old, new, old, new
//       [--json]          machine-readable results on stdout (what --against reads from its children)
//       [--list]          the cases and what each measures
//
// Every case imports what it measures itself (dynamic `import()`) and builds its fixture in
// `setup`, so a case whose API differs in an older tree fails alone and shows "n/a". A sample is
// the mean of `batch` calls timed together (reading the clock costs 0.1–0.2 µs here, more than a
// predicate call), so the median and p99 are those of batch means, not of single calls.
// Comparisons (vs the baseline, old vs new) use the median: on a shared machine a batch that
// straddles a preemption takes milliseconds, and a few of those move the mean by ×2.
//
// This file is the command line; the harness is in bench/micro/: the cases (`cases.ts`, one file
// per group), their fixtures, the measurement, the baseline, the tables and the --against runner.
// --against copies this file and bench/micro/ into the old tree, so both run the same harness.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runAgainst } from './micro/against.js';
import { readBaseline, writeBaseline } from './micro/baseline.js';
import { CASES } from './micro/cases.js';
import { revision } from './micro/git.js';
import { runAll } from './micro/measure.js';
import { sink } from './micro/sink.js';
import { printComparison, printErrors, printTable } from './micro/table.js';

const { values } = parseArgs({
  options: {
    save: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    against: { type: 'string' },
    time: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '2' },
  },
});
const TIME_MS = Number(values.time);
const ROUNDS = Number(values.rounds);
if (
  !(TIME_MS > 0) ||
  !(Number.isInteger(ROUNDS) && ROUNDS > 0) ||
  (values.save && values.against !== undefined)
) {
  process.stderr.write(
    'usage: bench/micro.ts [--time ms>0] [--save | --against <ref> [--rounds n>0]] [--json]\n',
  );
  process.exit(2);
}
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BASELINE = join(ROOT, 'bench', 'micro-baseline.json');

/** One run of this tree: a table (vs the baseline), --save, or --json. */
async function single(): Promise<void> {
  const rev = revision(ROOT);
  if (!values.json) {
    process.stderr.write(
      `${new Date().toISOString()}, node ${process.version}, ${rev.commit.slice(0, 10)}${rev.dirty ? ' + uncommitted changes' : ''}, ${TIME_MS} ms per case\n`,
    );
  }
  const results = await runAll(CASES, TIME_MS);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ node: process.version, ...rev, results })}\n`);
    return;
  }
  const baseline = values.save ? null : readBaseline(BASELINE);
  printTable(CASES, results, baseline);
  printErrors(CASES, results);
  if (values.save) {
    writeBaseline(BASELINE, CASES, results, rev, TIME_MS);
    console.log(`\nbaseline written to bench/micro-baseline.json`);
  } else if (baseline !== null) {
    console.log(
      `\nvs baseline = this run's median ÷ the median in bench/micro-baseline.json (recorded ${baseline.recorded}, node ${baseline.node}, ` +
        `${baseline.commit.slice(0, 10)}${baseline.dirty ? ' + uncommitted changes' : ''}).\n` +
        'Warning: a baseline recorded at another moment is only indicative (other load on a shared machine, ' +
        'another node, thermal state); to judge a change, compare in one run: --against <git-ref>.',
    );
  } else {
    console.log('\nNo recorded baseline (bench/micro-baseline.json): record one with --save.');
  }
}

/** `ref` (old) vs this working tree (new), in one run. */
async function against(ref: string): Promise<void> {
  const { header, old, cur } = await runAgainst(ROOT, ref, TIME_MS, ROUNDS);
  console.log(`\n${header}`);
  printComparison(CASES, old, cur);
  console.log(
    '\nold/new ns/op: median of the samples, best of the rounds (interference on a shared machine only ' +
      'adds time); means are in --json. ' +
      'n/a: the case could not be set up in that tree (its API differs) or failed.',
  );
}

if (values.list) for (const c of CASES) console.log(`${c.name}: ${c.what}`);
else if (values.against !== undefined) await against(values.against);
else await single();
if (sink.value === Number.MIN_VALUE) console.log(sink.value); // keeps `sink` observable
