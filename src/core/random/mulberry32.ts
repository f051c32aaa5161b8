/** A source of uniform numbers in [0, 1): what selection strategies and the simulator draw from. */
export type Random = () => number;

/**
 * mulberry32 (Tommy Ettinger, public domain): a tiny, fast, seeded 32-bit PRNG; good enough
 * for simulation and tests, not for secrets.
 */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
