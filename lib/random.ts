/**
 * The seeded pseudo-random generators of the library, one family in one file. Hand-written (not
 * an npm package) because they are a few lines each, must be bit-for-bit reproducible on every
 * platform and cheap to create per sample (seeds are derived with {@link mixSeed} from (seed,
 * epoch, position), so a batch augments the same inline or in a worker):
 *
 * - {@link Rng}: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state)
 *   seeded through splitmix32, with uniform, integer, Gaussian and shuffle: the data pipeline's;
 * - {@link mulberry32}: a 32-bit-state uniform stream: the pairing and dropout draws of the RUL
 *   step, and (through {@link createRng}) t-SNE's initialisation.
 *
 * Both keep the exact sequences they had before they were gathered here (every seeded result of
 * the library is unchanged); {@link normalSampler} is their one Box-Muller transform.
 *
 * @module
 */

/** A function returning uniform floats in [0, 1). */
export type UniformRng = () => number;

/** Deterministic uniform [0, 1) stream (mulberry32) from an integer seed (its low 32 bits). */
export function mulberry32(seed: number): UniformRng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Standard-normal variates from a uniform stream (Box-Muller: z = √(−2 ln u)·cos 2πv, the
 * second value √(−2 ln u)·sin 2πv is cached for the next call; u = 0 is redrawn).
 */
export function normalSampler(next: UniformRng): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** A seeded generator of uniform and standard-normal numbers (t-SNE's). */
export interface NormalRng {
  /** Uniform number in [0, 1). */
  next(): number;
  /** Standard-normal number (Box-Muller). */
  normal(): number;
}

/**
 * t-SNE's generator: {@link mulberry32} from `seed` XOR 0x9e3779b9, with {@link normalSampler}.
 *
 * @param seed any finite number; its low 32 bits are used.
 */
export function createRng(seed: number): NormalRng {
  if (!Number.isFinite(seed)) throw new Error(`createRng: seed must be finite, got ${seed}`);
  const next = mulberry32((seed >>> 0) ^ 0x9e3779b9);
  return { next, normal: normalSampler(next) };
}

/** splitmix32 step: a good 32-bit integer hash, used to derive and spread seeds. */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Combines integers (a seed, an epoch, a sample index, ...) into one 32-bit seed.
 * Order matters: `mixSeed(1, 2) !== mixSeed(2, 1)`.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x2545f491;
  for (const p of parts) {
    // Fold values beyond 32 bits too (e.g. Date.now()).
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = splitmix32(h ^ lo);
    if (hi !== 0) h = splitmix32(h ^ hi);
  }
  return h >>> 0;
}

/** A seeded generator of uniform, integer and Gaussian variates (sfc32). */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #normal: (() => number) | undefined;

  /** Creates a generator; the same seed always gives the same sequence. */
  constructor(seed: number) {
    const s = mixSeed(seed);
    this.#a = splitmix32(s);
    this.#b = splitmix32(this.#a);
    this.#c = splitmix32(this.#b);
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n) (n ≥ 1). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal variate (Box-Muller, the second value is cached). */
  normal(): number {
    this.#normal ??= normalSampler(() => this.next());
    return this.#normal();
  }

  /** Shuffles `a` in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

/** A random permutation of 0..n-1 as an Int32Array, seeded. */
export function permutation(n: number, seed: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return new Rng(seed).shuffle(p);
}
