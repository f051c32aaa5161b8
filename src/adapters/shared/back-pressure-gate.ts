/** Shortest gap between two reads of the broker's backlog (the buses' drain polls at it too). */
export const REFRESH_MIN_MS = 50;
/** Past this age the back-pressure view is refreshed even below capacity (other publishers). */
const REFRESH_MAX_MS = 1000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface BackPressureGateOptions {
  /** Most units outstanding before `admit` waits (events or entries, as `readBacklog` counts). */
  capacity: number;
  /** The broker's figure: the most units any consumer still has to process. */
  readBacklog: () => Promise<number>;
  /**
   * A cumulative local count the broker's figure already includes once a refresh started; what
   * was admitted beyond it is added to that figure. Default: the gate's own admitted count.
   */
  counted?: () => number;
  /** True once the bus is closed: `admit` then throws instead of waiting. */
  isClosed: () => boolean;
}

export interface BackPressureGate {
  /** Waits until `n` more units fit under the capacity, then counts them as admitted. */
  admit(n: number): Promise<void>;
  /** Gives back `n` admitted units that never reached the broker. */
  release(n: number): void;
}

/**
 * Publisher-side back-pressure shared by the durable buses: the broker's backlog at the last
 * refresh plus what this process admitted since (other publishers show up at the next refresh).
 * Refreshes are coalesced and at least `REFRESH_MIN_MS` apart.
 */
export function createBackPressureGate(opts: BackPressureGateOptions): BackPressureGate {
  const { capacity, readBacklog, isClosed } = opts;
  let admitted = 0; // units let through, cumulative
  const counted = opts.counted ?? (() => admitted);
  let serverBacklog = 0;
  let countedAtRefresh = 0;
  let lastRefresh = 0;
  let refreshing: Promise<void> | null = null;

  async function refreshNow(): Promise<void> {
    const wait = lastRefresh + REFRESH_MIN_MS - Date.now();
    if (wait > 0) await sleep(wait);
    const before = counted();
    serverBacklog = await readBacklog();
    countedAtRefresh = before;
    lastRefresh = Date.now();
  }
  const refresh = (): Promise<void> => {
    refreshing ??= refreshNow().finally(() => {
      refreshing = null;
    });
    return refreshing;
  };

  return {
    async admit(n) {
      if (Date.now() - lastRefresh > REFRESH_MAX_MS) await refresh();
      for (;;) {
        if (isClosed()) throw new Error('event bus is closed');
        const backlog = serverBacklog + admitted - countedAtRefresh;
        // Like the memory bus, an empty bus takes a publish larger than `capacity` whole.
        if (backlog <= 0 || backlog + n <= capacity) {
          admitted += n;
          return;
        }
        await refresh();
      }
    },
    release(n) {
      admitted -= n;
    },
  };
}
