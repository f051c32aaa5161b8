// Measurement: tinybench with the batch timed by hand. A sample is the mean of `batch` calls timed
// together (reading the clock costs 0.1–0.2 µs here, more than a predicate call), so the median
// and p99 are those of batch means, not of single calls.
import { Bench } from 'tinybench';
import type { Case } from './case.js';

export interface Measured {
  /** Mean. */
  nsPerOp: number;
  medianNs: number;
  opsPerSec: number;
  p99Ns: number;
  samples: number;
}
export type Outcome = Measured | { error: string };
export type Results = Record<string, Outcome>;

export const isMeasured = (o: Outcome | undefined): o is Measured => o !== undefined && !('error' in o);

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/** Sets up `c` and measures it for `timeMs` (after a warm-up); throws if it cannot be set up or fails. */
async function measure(c: Case, timeMs: number): Promise<Measured> {
  const run = await c.setup();
  const bench = new Bench({
    time: timeMs,
    warmupTime: Math.min(150, timeMs / 2),
    timestampProvider: 'hrtimeNow',
    throws: true,
  });
  const ops = c.batch * (c.perCall ?? 1);
  const timed = () => {
    const t0 = bench.now();
    run(c.batch);
    const ms = bench.now() - t0;
    return { overriddenDuration: ms / ops, overriddenIterationCost: ms };
  };
  bench.add(
    c.name,
    c.yields
      ? async () => {
          const r = timed();
          await yieldToLoop();
          return r;
        }
      : timed,
  );
  await bench.run();
  const res = bench.tasks[0]!.result;
  if (res.state === 'errored') throw res.error;
  if (res.state !== 'completed') throw new Error(`task ${res.state}`);
  const nsPerOp = res.latency.mean * 1e6;
  return {
    nsPerOp,
    medianNs: res.latency.p50 * 1e6,
    opsPerSec: 1e9 / nsPerOp,
    p99Ns: res.latency.p99 * 1e6,
    samples: res.latency.samplesCount,
  };
}

/** Measures every case in turn, progress on stderr; a case that fails gets `{ error }` (its first line). */
export async function runAll(cases: Case[], timeMs: number): Promise<Results> {
  const out: Results = {};
  for (const c of cases) {
    process.stderr.write(`  ${c.name} …`);
    try {
      out[c.name] = await measure(c, timeMs);
      process.stderr.write(' done\n');
    } catch (err) {
      const first = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
      out[c.name] = { error: first };
      process.stderr.write(` n/a (${first})\n`);
    }
  }
  return out;
}
