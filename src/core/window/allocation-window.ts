import type { AllocationWindow } from '../domain/placement.js';

/** The period over which a placement's shares are measured. */
export type WindowSpec = AllocationWindow;

export const HOUR_MS = 3_600_000;
export const DEFAULT_WINDOW: WindowSpec = { lengthHours: 24, timeZone: 'UTC' };

/** Lengths that tile the day (or whole days), so windows start at local midnight. */
export const WINDOW_LENGTHS = [1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 96, 120, 144, 168] as const;

export interface WindowBounds {
  startMs: number;
  endMs: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at `tsMs` (positive east of Greenwich). */
export function zoneOffsetMs(timeZone: string, tsMs: number): number {
  if (timeZone === 'UTC') return 0;
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(tsMs)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const local = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return local - Math.floor(tsMs / 1000) * 1000;
}

/**
 * The window containing `tsMs`: windows of `lengthHours` counted from local midnight in the
 * window's time zone (the epoch's, for multi-day lengths), as [start, end). Live counters are
 * kept in UTC hour buckets, so a start that falls inside an hour (zones with a :30 or :45
 * offset) is moved back to the hour; across a DST change a window is an hour longer or shorter.
 */
export function windowAt(spec: WindowSpec, tsMs: number): WindowBounds {
  const len = spec.lengthHours * HOUR_MS;
  // Window k spans local time [k·len, (k+1)·len); its UTC boundary uses the offset in force
  // at that local instant (refined once: the offset at `tsMs` may differ across a DST change).
  const boundary = (k: number): number => {
    const local = k * len;
    const guess = local - zoneOffsetMs(spec.timeZone, local);
    return Math.floor((local - zoneOffsetMs(spec.timeZone, guess)) / HOUR_MS) * HOUR_MS;
  };
  let k = Math.floor((tsMs + zoneOffsetMs(spec.timeZone, tsMs)) / len);
  // Rounding boundaries to the hour can put `tsMs` just past its local window's end.
  if (tsMs >= boundary(k + 1)) k++;
  else if (tsMs < boundary(k)) k--;
  return { startMs: boundary(k), endMs: boundary(k + 1) };
}

/** Start of the UTC hour containing `tsMs`: the live-counter bucket. */
export const hourBucket = (tsMs: number): number => Math.floor(tsMs / HOUR_MS) * HOUR_MS;
