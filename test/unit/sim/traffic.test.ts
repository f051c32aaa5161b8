import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/core/random/mulberry32.js';
import type { RequestContext } from '../../../src/core/targeting/targeting-rule.js';
import { parseScenario } from '../../../src/sim/scenario-schema.js';
import { createTraffic } from '../../../src/sim/traffic.js';

const HOUR = 3_600_000;
const scenario = parseScenario({
  name: 't',
  seed: 1,
  decisions: 1,
  ads: [{ id: 'a' }],
  placement: { fallbackAdId: 'a', targets: [] },
  traffic: {
    attributes: { country: { DE: 0.5, FR: 0.3 }, age: { uniformInt: [18, 20] }, member: { bool: 0.25 } },
    phases: [{ fromHour: 12, attributes: { country: { US: 1 } } }],
  },
});

function sample(fromMs: number, n = 40_000): RequestContext[] {
  const traffic = createTraffic(scenario, 0);
  const random = mulberry32(3);
  return Array.from({ length: n }, () => traffic.draw(random, fromMs));
}
const freq = (xs: RequestContext[], f: (c: RequestContext) => boolean) => xs.filter(f).length / xs.length;

describe('createTraffic', () => {
  it('draws each key from its distribution; a discrete one summing below 1 leaves the key out', () => {
    const xs = sample(0);
    expect(freq(xs, (c) => c.country === 'DE')).toBeCloseTo(0.5, 1);
    expect(freq(xs, (c) => c.country === 'FR')).toBeCloseTo(0.3, 1);
    expect(freq(xs, (c) => !('country' in c))).toBeCloseTo(0.2, 1);
    expect(freq(xs, (c) => c.member === true)).toBeCloseTo(0.25, 1);
    expect(new Set(xs.map((c) => c.age))).toEqual(new Set([18, 19, 20]));
  });

  it('a phase overrides its keys from its hour on and keeps the others', () => {
    const xs = sample(12 * HOUR);
    expect(freq(xs, (c) => c.country === 'US')).toBe(1);
    expect(freq(xs, (c) => c.member === true)).toBeCloseTo(0.25, 1);
  });

  it('interns contexts: equal outcomes are one frozen object', () => {
    const xs = sample(0, 5_000);
    expect(new Set(xs).size).toBeLessThanOrEqual(3 * 3 * 2);
    expect(Object.isFrozen(xs[0])).toBe(true);
  });
});
