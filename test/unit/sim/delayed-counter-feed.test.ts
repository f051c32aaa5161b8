import { describe, expect, it } from 'vitest';
import { createMemoryCounterStore } from '../../../src/adapters/memory/memory-counter-store.js';
import { createDelayedCounterFeed } from '../../../src/sim/delayed-counter-feed.js';

const HOUR = 3_600_000;

describe('createDelayedCounterFeed', () => {
  it('hands events to the counter store only once the delay has passed, scaled by the weight', async () => {
    const counters = createMemoryCounterStore();
    const feed = createDelayedCounterFeed({
      counters,
      placementId: 'p',
      adIds: ['a', 'b'],
      delayMs: 5000,
      weight: 10,
    });
    // More than the initial ring capacity, to cross a resize.
    for (let i = 0; i < 3000; i++) feed.push(HOUR - 3000 + i, i % 2, i % 4 === 0);
    feed.push(HOUR + 1000, 1, true);
    await feed.flush(HOUR + 5000);
    let counts = await counters.read('p', 0, 2 * HOUR);
    expect(counts.get('a')).toEqual({ decisions: 15_000, impressions: 7_500, clicks: 0 });
    expect(counts.get('b')).toEqual({ decisions: 15_000, impressions: 0, clicks: 0 });
    await feed.flush(HOUR + 6000);
    counts = await counters.read('p', HOUR, 2 * HOUR);
    // Counted in the hour bucket the event happened in, not the one it became visible in.
    expect(counts.get('b')).toEqual({ decisions: 10, impressions: 10, clicks: 0 });
  });
});
