/**
 * Seeded pseudo-random numbers for reproducible t-SNE runs (no global state).
 *
 * @module
 */

/** A seeded generator of uniform and standard-normal numbers. */
export interface TsneRng {
  /** Uniform number in [0, 1). */
  next(): number;
  /** Standard-normal number (Box-Muller). */
  normal(): number;
}

/**
 * Creates a deterministic generator (mulberry32 core) from an integer seed.
 *
 * @param seed any finite number; its low 32 bits are used.
 */
export function createRng(seed: number): TsneRng {
  if (!Number.isFinite(seed)) throw new Error(`createRng: seed must be finite, got ${seed}`);
  let state = (seed >>> 0) ^ 0x9e3779b9;
  let spare = NaN;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = NaN;
      return s;
    }
    let u = 0;
    while (u <= Number.MIN_VALUE) u = next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { next, normal };
}
