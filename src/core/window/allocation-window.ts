/**
 * The period over which a placement's shares are measured. Windows are aligned to UTC hour
 * multiples so that live counters kept in hour buckets sum exactly to a window.
 */
export interface WindowSpec {
  /** Window length in hours; 24 = the UTC day (the default). Must divide into whole hours. */
  readonly lengthHours: number;
}

export const HOUR_MS = 3_600_000;
export const DEFAULT_WINDOW: WindowSpec = { lengthHours: 24 };

export interface WindowBounds {
  startMs: number;
  endMs: number;
}

/** The window containing `tsMs`: [start, end), start a multiple of the window length since the epoch. */
export function windowAt(spec: WindowSpec, tsMs: number): WindowBounds {
  const len = spec.lengthHours * HOUR_MS;
  const startMs = Math.floor(tsMs / len) * len;
  return { startMs, endMs: startMs + len };
}

/** Start of the UTC hour containing `tsMs`: the live-counter bucket. */
export const hourBucket = (tsMs: number): number => Math.floor(tsMs / HOUR_MS) * HOUR_MS;
