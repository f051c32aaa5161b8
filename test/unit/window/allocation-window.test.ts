import { describe, expect, it } from 'vitest';
import {
  hourBucket,
  isTimeZone,
  windowAt,
  zoneOffsetMs,
} from '../../../src/core/window/allocation-window.js';

const iso = (ms: number) => new Date(ms).toISOString();
const at = (lengthHours: number, timeZone: string, ts: string) => {
  const w = windowAt({ lengthHours, timeZone }, Date.parse(ts));
  return [iso(w.startMs), iso(w.endMs)];
};

describe('allocation windows', () => {
  it.each([
    // [lengthHours, zone, instant, expected start, expected end]
    [24, 'UTC', '2026-06-01T10:00:00Z', '2026-06-01T00:00:00.000Z', '2026-06-02T00:00:00.000Z'],
    [24, 'UTC', '2026-06-01T00:00:00Z', '2026-06-01T00:00:00.000Z', '2026-06-02T00:00:00.000Z'],
    [24, 'UTC', '2026-05-31T23:59:59.999Z', '2026-05-31T00:00:00.000Z', '2026-06-01T00:00:00.000Z'],
    [6, 'UTC', '2026-06-01T13:30:00Z', '2026-06-01T12:00:00.000Z', '2026-06-01T18:00:00.000Z'],
    [1, 'UTC', '2026-06-01T13:30:00Z', '2026-06-01T13:00:00.000Z', '2026-06-01T14:00:00.000Z'],
    // Berlin summer time is UTC+2: the local day starts at 22:00 UTC.
    [24, 'Europe/Berlin', '2026-06-01T10:00:00Z', '2026-05-31T22:00:00.000Z', '2026-06-01T22:00:00.000Z'],
    [24, 'Europe/Berlin', '2026-06-01T22:30:00Z', '2026-06-01T22:00:00.000Z', '2026-06-02T22:00:00.000Z'],
    // Winter: UTC+1.
    [24, 'Europe/Berlin', '2026-01-15T12:00:00Z', '2026-01-14T23:00:00.000Z', '2026-01-15T23:00:00.000Z'],
    // The day DST starts in Berlin (29 March 2026) has 23 hours.
    [24, 'Europe/Berlin', '2026-03-29T12:00:00Z', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z'],
    [24, 'America/New_York', '2026-06-01T03:00:00Z', '2026-05-31T04:00:00.000Z', '2026-06-01T04:00:00.000Z'],
    // India is UTC+5:30: local midnight is 18:30 UTC, moved back to the hour bucket.
    [24, 'Asia/Kolkata', '2026-06-01T12:00:00Z', '2026-05-31T18:00:00.000Z', '2026-06-01T18:00:00.000Z'],
  ])('%i h in %s at %s → [%s, %s)', (len, zone, ts, start, end) => {
    expect(at(len, zone, ts)).toEqual([start, end]);
  });

  it('multi-day windows tile time without gaps', () => {
    const spec = { lengthHours: 48, timeZone: 'UTC' };
    const a = windowAt(spec, Date.parse('2026-06-01T10:00:00Z'));
    const b = windowAt(spec, a.endMs);
    expect(b.startMs).toBe(a.endMs);
    expect(a.endMs - a.startMs).toBe(48 * 3_600_000);
  });

  it('every instant lies in its window, and windows start on hour buckets', () => {
    for (const zone of ['UTC', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Adelaide']) {
      for (
        let t = Date.parse('2026-01-01T00:00:00Z');
        t < Date.parse('2026-12-31T00:00:00Z');
        t += 7_777_777
      ) {
        const w = windowAt({ lengthHours: 24, timeZone: zone }, t);
        expect(w.startMs).toBeLessThanOrEqual(t);
        expect(w.endMs).toBeGreaterThan(t);
        expect(hourBucket(w.startMs)).toBe(w.startMs);
      }
    }
  });

  it('knows time zones and their offsets', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(zoneOffsetMs('Europe/Berlin', Date.parse('2026-06-01T00:00:00Z'))).toBe(7_200_000);
    expect(zoneOffsetMs('Asia/Kolkata', Date.parse('2026-06-01T00:00:00Z'))).toBe(19_800_000);
  });
});
