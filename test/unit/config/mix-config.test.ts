import { describe, expect, it } from 'vitest';
import { loadTestConfig as load, configProblems as problems } from '../../support/load-config.js';

describe('request-mix sampling configuration', () => {
  it('defaults: every decision, no rate limit; thinning is opt-in', () => {
    expect(load({})).toMatchObject({ mixSampleEvery: 1, mixSamplesPerSecond: 0 });
    expect(load({ ALLOT_MIX_SAMPLES_PER_SECOND: '1000', ALLOT_MIX_SAMPLE_EVERY: '4' })).toMatchObject({
      mixSampleEvery: 4,
      mixSamplesPerSecond: 1000,
    });
  });

  it('refuses values out of range, listing each', () => {
    const p = problems({ ALLOT_MIX_SAMPLES_PER_SECOND: '-1', ALLOT_MIX_SAMPLE_EVERY: '0' });
    expect(p.some((x) => x.startsWith('ALLOT_MIX_SAMPLES_PER_SECOND'))).toBe(true);
    expect(p.some((x) => x.startsWith('ALLOT_MIX_SAMPLE_EVERY'))).toBe(true);
  });
});
