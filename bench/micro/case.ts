/** One micro-benchmark: what it measures, how it is batched, and how its fixture is built. */
export interface Case {
  name: string;
  /** What one op is (`--list`). */
  what: string;
  /** Calls timed together as one sample: enough that the timer's own cost is negligible. */
  batch: number;
  /** Ops per call (a call encoding a 500-event entry is 500 ops: ns/op is per event). */
  perCall?: number;
  /** Turn the event loop between samples (untimed), as between HTTP requests: lets the publisher flush. */
  yields?: boolean;
  /** Imports and builds the fixture (may throw: another tree's API); returns `run(n)`, n calls. */
  setup: () => Promise<(n: number) => void>;
}
