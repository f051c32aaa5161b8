// The memory deduper at its cap (2M ids) while the window turns over: each call forgets as many
// old ids as it adds. Prints µs per call of 40 new ids, per round of 5,000 calls; a structure that
// degrades as it turns over shows rising rounds (docs/benchmarks.md, the soak section).
//
//   npx tsx bench/dedup-turnover.ts
import { createMemoryDeduper } from '../src/adapters/memory/memory-deduper.js';

const TTL_MS = 960_000;
const d = createMemoryDeduper();
let t = Date.parse('2026-11-27T12:00:00Z');
let n = 0;
const batch = () =>
  Array.from({ length: 40 }, () => `${(n++).toString(36).padStart(12, '0')}-0123456789abcdef0123:i`);
while (d.size() < 2_000_000) {
  await d.firstSeen(batch(), TTL_MS, t);
  t += 10;
}
console.log(`${new Date().toISOString()}: ${d.size().toLocaleString('en-US')} ids remembered (the cap)`);
for (let round = 0; round < 8; round++) {
  const t0 = performance.now();
  for (let i = 0; i < 5000; i++) {
    await d.firstSeen(batch(), TTL_MS, t);
    t += 10;
  }
  console.log(
    `round ${round}: ${(((performance.now() - t0) * 1000) / 5000).toFixed(1)} µs per call of 40 ids`,
  );
}
console.log(`evicted early: ${d.evicted().toLocaleString('en-US')}`);
