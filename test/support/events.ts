import type { AllotEvent } from '../../src/core/events/allot-event.js';

export interface SampleEventOptions {
  /** Give even-numbered events a user (`u<i>`); default: every event is anonymous. */
  withUsers?: boolean;
}

/** Impression `i` of decision `d<i>` on placement `p`, for one of three ads; distinct per `i`. */
export const sampleEvent = (i: number, opts: SampleEventOptions = {}): AllotEvent => ({
  id: `d${i}:i`,
  type: 'impression',
  ts: 1_700_000_000_000 + i,
  decisionId: `d${i}`,
  placementId: 'p',
  adId: `a${i % 3}`,
  userId: opts.withUsers && i % 2 === 0 ? `u${i}` : null,
});

/** `sampleEvent(from)` … `sampleEvent(to - 1)`. */
export const sampleEvents = (from: number, to: number, opts: SampleEventOptions = {}): AllotEvent[] =>
  Array.from({ length: to - from }, (_, i) => sampleEvent(from + i, opts));
