/**
 * Checks a notebook cell makes visible: two computations of the same values agree (e.g. lib/rul
 * against a formula written out in the cell).
 *
 * @module
 */

/**
 * Throws (naming `what`, the index and both values) unless `actual` and `expected` have the same
 * length and agree within `tol` (absolute, or relative to the larger magnitude when above 1);
 * returns the largest absolute difference.
 */
export function assertClose(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol = 1e-6,
): number {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: ${actual.length} values vs ${expected.length} expected`);
  }
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i], diff = Math.abs(a - e);
    if (!(diff <= tol * Math.max(1, Math.abs(a), Math.abs(e)))) {
      throw new Error(`${what}: element ${i} is ${a}, expected ${e} (|difference| ${diff})`);
    }
    worst = Math.max(worst, diff);
  }
  return worst;
}
