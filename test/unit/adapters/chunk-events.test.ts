import { describe, expect, it } from 'vitest';
import { chunkEvents, MESSAGE_BYTES } from '../../../src/adapters/shared/chunk-events.js';
import { sampleEvents } from '../../support/events.js';

describe('chunkEvents', () => {
  it('cuts by count when the events are small', () => {
    const events = sampleEvents(0, 1200);
    const chunks = chunkEvents(events, 500);
    expect(chunks.map((c) => c.length)).toEqual([500, 500, 200]);
    expect(chunks.flat()).toEqual(events);
  });

  it('cuts by estimated JSON size, each chunk within the bound as JSON', () => {
    const events = sampleEvents(0, 1000).map((e, i) => ({ ...e, userId: `${'u'.repeat(400)}${i}` }));
    const chunks = chunkEvents(events, 1000);
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(JSON.stringify(c).length).toBeLessThanOrEqual(MESSAGE_BYTES);
    expect(chunks.flat()).toEqual(events);
  });

  it('gives an event larger than the bound a chunk of its own, and nothing for nothing', () => {
    const [a, b, c] = sampleEvents(0, 3);
    const huge = { ...b!, userId: 'u'.repeat(200_000) };
    expect(chunkEvents([a!, huge, c!], 500)).toEqual([[a], [huge], [c]]);
    expect(chunkEvents([], 500)).toEqual([]);
  });
});
