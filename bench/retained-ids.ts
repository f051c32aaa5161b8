// What a retained decision id costs the heap: a million event ids (`<decisionId>:i`, as the
// dedup window keeps them) from `crypto.randomUUID()` as is, and from `newDecisionId`
// (src/decision/new-decision-id.ts); prints µs per id, retained bytes per id and the time of a
// full GC with them alive (docs/benchmarks.md). Each variant runs in a child process of its own.
//
//   npx tsx --expose-gc bench/retained-ids.ts
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { newDecisionId } from '../src/decision/new-decision-id.js';

const N = 1_000_000;
const VARIANTS: Record<string, () => string> = { 'crypto.randomUUID': randomUUID, newDecisionId };

function measure(name: string): void {
  const make = VARIANTS[name]!;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  let t = performance.now();
  let chars = 0;
  for (let i = 0; i < N; i++) chars += make().length;
  const usPerId = ((performance.now() - t) * 1000) / N;
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = new Set<string>();
  for (let i = 0; i < N; i++) kept.add(`${make()}:i`);
  gc();
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / N;
  t = performance.now();
  gc();
  const gcMs = performance.now() - t;
  console.log(
    `| ${name} | ${usPerId.toFixed(3)} | ${bytes.toFixed(0)} | ${gcMs.toFixed(0)} | ${kept.size === N && chars === 36 * N ? 'yes' : 'NO'} |`,
  );
}

const which = process.argv[2];
if (which !== undefined) measure(which);
else {
  console.log(`${new Date().toISOString()}, node ${process.version}, ${N.toLocaleString('en-US')} ids`);
  console.log(
    '| ids from | µs per id | retained bytes per event id | full GC ms, all alive | all distinct, 36 chars |',
  );
  console.log('|---|---|---|---|---|');
  for (const name of Object.keys(VARIANTS)) {
    execFileSync(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname, name], {
      stdio: 'inherit',
    });
  }
}
