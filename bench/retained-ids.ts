// What the dedup window costs the heap. Decision ids live on in every event id the window keeps
// (`<decisionId>:i`, up to 2M for the token lifetime), so: a million event ids from
// `crypto.randomUUID()` as is and from `newDecisionId` (src/decision/new-decision-id.ts) in a
// Set; then a million event ids in the memory deduper (src/adapters/memory/memory-deduper.ts)
// against a Map holding epoch-ms expiries (its earlier design), and ids of another shape, which
// it keeps as strings (as it kept every id before 2026-11-28). Prints µs per id, retained bytes
// per id (V8 heap and typed arrays' memory) and the time of a full GC with them alive
// (docs/benchmarks.md). Each variant runs in a child process of its own.
//
//   npx tsx --expose-gc bench/retained-ids.ts
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createMemoryDeduper } from '../src/adapters/memory/memory-deduper.js';
import { newDecisionId } from '../src/decision/new-decision-id.js';

const N = 1_000_000;
const BATCH = 100;
const TTL_MS = 960_000;
const T0 = Date.parse('2026-11-27T12:00:00Z');

/** Fills a structure with N event ids; returns it (kept alive) and how many it holds. */
type Fill = () => Promise<{ kept: unknown; size: number; usPerId: number }>;

const inSet =
  (make: () => string): Fill =>
  async () => {
    const kept = new Set<string>();
    const t = performance.now();
    for (let i = 0; i < N; i++) kept.add(`${make()}:i`);
    return { kept, size: kept.size, usPerId: ((performance.now() - t) * 1000) / N };
  };

/** N event ids offered in batches of 100, one batch per 1 ms of the clock. */
const inDeduper =
  (d: { firstSeen(ids: string[], ttl: number, now: number): Promise<boolean[]> }, suffix = 'i') =>
  async () => {
    let fresh = 0;
    const t = performance.now();
    for (let b = 0; b < N / BATCH; b++) {
      const ids = Array.from({ length: BATCH }, () => `${newDecisionId()}:${suffix}`);
      for (const first of await d.firstSeen(ids, TTL_MS, T0 + b)) if (first) fresh++;
    }
    return { kept: d, size: fresh, usPerId: ((performance.now() - t) * 1000) / N };
  };

/** The deduper before it kept whole seconds: epoch-ms expiries, one heap number each. */
function epochMsDeduper() {
  const seen = new Map<string, number>();
  return {
    async firstSeen(ids: string[], ttlMs: number, nowMs: number) {
      for (const [id, expiry] of seen) {
        if (expiry > nowMs) break;
        seen.delete(id);
      }
      return ids.map((id) => {
        const expiry = seen.get(id);
        if (expiry !== undefined && expiry > nowMs) return false;
        seen.delete(id);
        seen.set(id, nowMs + ttlMs);
        return true;
      });
    },
  };
}

const VARIANTS: Record<string, Fill> = {
  'Set of ids from crypto.randomUUID': inSet(randomUUID),
  'Set of ids from newDecisionId': inSet(newDecisionId),
  'deduper, epoch-ms expiries (before)': inDeduper(epochMsDeduper()),
  // Ids not shaped like Allot's event ids (here an uppercase type) take the Map of strings the
  // deduper kept every id in before 2026-11-28.
  'memory deduper, ids as strings in a Map (before)': inDeduper(createMemoryDeduper(), 'I'),
  'memory deduper, event ids as numbers in typed arrays': inDeduper(createMemoryDeduper()),
};

async function measure(name: string): Promise<void> {
  const fill = VARIANTS[name]!;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  gc();
  gc();
  // The V8 heap and the typed arrays' backing stores (outside it).
  const used = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const before = used();
  const { kept, size, usPerId } = await fill();
  gc();
  gc();
  const bytes = (used() - before) / N;
  const t = performance.now();
  gc();
  const gcMs = performance.now() - t;
  console.log(
    `| ${name} | ${usPerId.toFixed(2)} | ${bytes.toFixed(0)} | ${gcMs.toFixed(0)} | ${size === N && kept !== null ? 'yes' : 'NO'} |`,
  );
}

const which = process.argv[2];
if (which !== undefined) await measure(which);
else {
  console.log(`${new Date().toISOString()}, node ${process.version}, ${N.toLocaleString('en-US')} event ids`);
  console.log('| held in | µs per id | retained bytes per event id | full GC ms, all alive | all distinct |');
  console.log('|---|---|---|---|---|');
  for (const name of Object.keys(VARIANTS)) {
    execFileSync(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname, name], {
      stdio: 'inherit',
    });
  }
}
