/**
 * Seeded pseudo-random numbers for pairing and dropout (mulberry32: tiny, fast, reproducible).
 *
 * @module
 */

/** A function returning uniform floats in [0, 1). */
export type UniformRng = () => number;

/** Deterministic uniform [0,1) generator (mulberry32) seeded with an integer. */
export function pairingRng(seed: number): UniformRng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
