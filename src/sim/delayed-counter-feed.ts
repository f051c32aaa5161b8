import type { CounterIncrement, CounterStore } from '../core/ports/counter-store.js';
import { hourBucket } from '../core/window/allocation-window.js';

/**
 * What the controller's counters would have seen by now: sampled decisions and impressions
 * queued in time order and handed to the `CounterStore` once `delayMs` has passed — the lag
 * of beacons, the event bus and the aggregator in a deployment. Each sampled event counts
 * `weight` (1 / sampling rate), as a sampling aggregator scales its counts back up.
 *
 * Events are pushed in non-decreasing time, and the delay is constant, so a FIFO is already
 * time-ordered. Typed-array ring buffer: no object per event on the hot path.
 */
export function createDelayedCounterFeed(opts: {
  counters: CounterStore;
  placementId: string;
  adIds: readonly string[];
  delayMs: number;
  weight: number;
}) {
  let times = new Float64Array(1024);
  /** adIndex * 2 + (impression ? 1 : 0); every pushed event is a decision. */
  let codes = new Int32Array(1024);
  let head = 0;
  let size = 0;

  const grow = (): void => {
    const cap = times.length;
    const t = new Float64Array(cap * 2);
    const c = new Int32Array(cap * 2);
    for (let k = 0; k < size; k++) {
      t[k] = times[(head + k) % cap]!;
      c[k] = codes[(head + k) % cap]!;
    }
    times = t;
    codes = c;
    head = 0;
  };

  return {
    /** A sampled decision for candidate `adIndex` at `tsMs`, and whether its impression fired. */
    push(tsMs: number, adIndex: number, impressed: boolean): void {
      if (size === times.length) grow();
      const at = (head + size) % times.length;
      times[at] = tsMs;
      codes[at] = adIndex * 2 + (impressed ? 1 : 0);
      size++;
    },

    /** Counts every event visible at `nowMs` (occurred at or before nowMs − delay), as one batch. */
    async flush(nowMs: number): Promise<void> {
      const byKey = new Map<string, CounterIncrement>();
      const cutoff = nowMs - opts.delayMs;
      while (size > 0 && times[head]! <= cutoff) {
        const ts = times[head]!;
        const code = codes[head]!;
        head = (head + 1) % times.length;
        size--;
        const adId = opts.adIds[code >> 1]!;
        const bucketStartMs = hourBucket(ts);
        const key = `${bucketStartMs}:${adId}`;
        let inc = byKey.get(key);
        if (inc === undefined) {
          inc = {
            placementId: opts.placementId,
            adId,
            bucketStartMs,
            decisions: 0,
            impressions: 0,
            clicks: 0,
          };
          byKey.set(key, inc);
        }
        inc.decisions += opts.weight;
        if (code & 1) inc.impressions += opts.weight;
      }
      if (byKey.size > 0) await opts.counters.add([...byKey.values()]);
    },
  };
}

export type DelayedCounterFeed = ReturnType<typeof createDelayedCounterFeed>;
