import { describe, expect, it } from 'vitest';
import { mulberry32 as rng } from '../../../src/core/random/mulberry32.js';
import { createMixSampleGate } from '../../../src/core/sampling/mix-sample-gate.js';

/** Runs `perSecond` decisions a second, evenly spread, for `seconds`; samples taken per second. */
function drive(gate: ReturnType<typeof createMixSampleGate>, perSecond: number, seconds: number, t0 = 0) {
  const taken: number[] = [];
  for (let s = 0; s < seconds; s++) {
    let n = 0;
    for (let i = 0; i < perSecond; i++) if (gate.take(t0 + s * 1000 + (i * 1000) / perSecond)) n++;
    taken.push(n);
  }
  return taken;
}

describe('mix sample gate', () => {
  it('samples every decision while the process is below the budget', () => {
    const gate = createMixSampleGate({ every: 1, perSecond: 1000, random: rng(1) });
    expect(drive(gate, 800, 5)).toEqual([800, 800, 800, 800, 800]);
    expect(gate.every()).toBe(1);
  });

  it('thins to about the budget above it, and back to every decision when traffic drops', () => {
    const gate = createMixSampleGate({ every: 1, perSecond: 1000, random: rng(2) });
    const busy = drive(gate, 20_000, 6);
    // The first second has no rate yet and samples everything; from then on one in 20.
    expect(busy[0]).toBe(20_000);
    expect(gate.every()).toBe(20);
    for (const n of busy.slice(2)) expect(Math.abs(n - 1000)).toBeLessThan(150);
    const quiet = drive(gate, 500, 4, 6000);
    expect(gate.every()).toBe(1);
    expect(quiet.slice(1)).toEqual([500, 500, 500]);
  });

  it('ALLOT_MIX_SAMPLE_EVERY stays the minimum gap', () => {
    const gate = createMixSampleGate({ every: 4, perSecond: 0, random: rng(3) });
    const taken = drive(gate, 40_000, 3);
    expect(gate.every()).toBe(4);
    for (const n of taken) expect(Math.abs(n - 10_000)).toBeLessThan(500);
  });

  it('does not alias with traffic whose period divides the gap: every placement is sampled in proportion', () => {
    // Four placements in a fixed rotation; a fixed gap of 4 would sample only one of them.
    const gate = createMixSampleGate({ every: 4, perSecond: 0, random: rng(4) });
    const perPlacement = [0, 0, 0, 0];
    for (let i = 0; i < 80_000; i++) if (gate.take(i / 100)) perPlacement[i % 4]!++;
    for (const n of perPlacement) expect(Math.abs(n - 5000)).toBeLessThan(400);
  });
});
