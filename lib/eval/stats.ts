/**
 * Small-sample statistics for comparing variants over seeds: Student's t quantile, the paired
 * t interval of a difference and Welch's interval of a difference of two independent means.
 *
 * Written here (no npm statistics package is a dependency, and JSR is unreachable); the t
 * distribution function is the regularised incomplete beta function, evaluated by its continued
 * fraction (Numerical Recipes §6.4), and inverted by bisection.
 *
 * @module
 */
function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9), relative error < 1e-13 for x > 0.
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61503916999185,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - (a + b) * x / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbt = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) +
    b * Math.log(1 - x);
  return x < (a + 1) / (a + b + 2)
    ? Math.exp(lbt) * betaContinuedFraction(a, b, x) / a
    : 1 - Math.exp(lbt) * betaContinuedFraction(b, a, 1 - x) / b;
}

/** Distribution function of Student's t with `df` degrees of freedom: P(T ≤ t). */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * Quantile of Student's t: the t with P(T ≤ t) = p (e.g. p = 0.975, df = 2 → 4.3027).
 * @throws Error unless 0 < p < 1 and df > 0
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new Error(`studentTQuantile: df must be > 0, got ${df}`);
  if (p === 0.5) return 0;
  let lo = -1, hi = 1;
  while (studentTCdf(lo, df) > p) lo *= 2;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(hi)); i++) {
    const mid = 0.5 * (lo + hi);
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** Result of {@link pairedTInterval}. */
export interface PairedInterval {
  /** Per-pair differences `b[i] − a[i]`. */
  differences: number[];
  /** Mean difference d̄. */
  mean: number;
  /** Sample standard deviation of the differences (n − 1). */
  sd: number;
  /** Lower and upper end of the interval d̄ ∓ t_{(1+level)/2, n−1} · sd / √n. */
  low: number;
  /** Upper end. */
  high: number;
  /** Confidence level (e.g. 0.95). */
  level: number;
  /** Number of pairs. */
  n: number;
}

/**
 * Paired t interval for the mean of `b − a` over matched pairs (e.g. RUL − baseline, the same
 * seed in each pair): `d̄ ± t_{(1+level)/2, n−1} · s_d / √n`. Assumes the per-pair differences
 * are roughly normal; with 3 pairs the interval is wide (t = 4.30 at 95 %).
 * @throws Error when the lengths differ or there are fewer than 2 pairs
 */
export function pairedTInterval(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  level = 0.95,
): PairedInterval {
  if (a.length !== b.length) {
    throw new Error(`pairedTInterval: ${a.length} vs ${b.length} values (pairs must match)`);
  }
  const n = a.length;
  if (n < 2) throw new Error(`pairedTInterval: needs at least 2 pairs, got ${n}`);
  const differences = Array.from({ length: n }, (_, i) => b[i] - a[i]);
  const mean = differences.reduce((a, d) => a + d, 0) / n;
  const sd = Math.sqrt(differences.reduce((a, d) => a + (d - mean) ** 2, 0) / (n - 1));
  const half = studentTQuantile((1 + level) / 2, n - 1) * sd / Math.sqrt(n);
  return { differences, mean, sd, low: mean - half, high: mean + half, level, n };
}

/** Result of {@link welchTInterval}. */
export interface WelchInterval {
  /** Difference of the means, mean(b) − mean(a). */
  mean: number;
  /** Standard error √(s_a²/n_a + s_b²/n_b). */
  se: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** Lower end of the interval mean ∓ t_{(1+level)/2, df} · se. */
  low: number;
  /** Upper end. */
  high: number;
  /** Confidence level (e.g. 0.95). */
  level: number;
  /** Sizes of the two samples. */
  n: [number, number];
}

/**
 * Welch's t interval for the difference of the means of two independent samples, `b − a` (e.g.
 * this project − PyTorch over seeds: the random streams differ, so the seeds are not pairs):
 * `b̄ − ā ± t_{(1+level)/2, ν} · √(s_a²/n_a + s_b²/n_b)` with the Welch–Satterthwaite
 * `ν = (s_a²/n_a + s_b²/n_b)² / ((s_a²/n_a)²/(n_a − 1) + (s_b²/n_b)²/(n_b − 1))` (non-integer).
 * @throws Error when a sample has fewer than 2 values, or both have zero variance
 */
export function welchTInterval(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  level = 0.95,
): WelchInterval {
  const moments = (x: ArrayLike<number>, name: string) => {
    const n = x.length;
    if (n < 2) throw new Error(`welchTInterval: sample ${name} needs at least 2 values, got ${n}`);
    let m = 0;
    for (let i = 0; i < n; i++) m += x[i];
    m /= n;
    let s = 0;
    for (let i = 0; i < n; i++) s += (x[i] - m) ** 2;
    return { n, mean: m, v: s / (n - 1) / n };
  };
  const A = moments(a, "a"), B = moments(b, "b");
  const se2 = A.v + B.v;
  if (!(se2 > 0)) throw new Error("welchTInterval: both samples have zero variance");
  const df = se2 ** 2 / (A.v ** 2 / (A.n - 1) + B.v ** 2 / (B.n - 1));
  const mean = B.mean - A.mean;
  const se = Math.sqrt(se2);
  const half = studentTQuantile((1 + level) / 2, df) * se;
  return { mean, se, df, low: mean - half, high: mean + half, level, n: [A.n, B.n] };
}
