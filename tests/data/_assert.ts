/**
 * Minimal assertions for the data tests (jsr:@std/assert is unreachable here), on node:assert.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Throws unless `cond` is truthy. */
export function assert(cond: unknown, msg?: string): asserts cond {
  if (!cond) throw new Error(msg ?? "assertion failed");
}

/** Deep strict equality (typed arrays compared element-wise). */
export function assertEquals(actual: unknown, expected: unknown, msg?: string): void {
  if (msg === undefined) nodeAssert.deepStrictEqual(actual, expected);
  else nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** |actual − expected| ≤ tol. */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tol: number,
  msg?: string,
): void {
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(`${msg ? msg + ": " : ""}expected ${expected} ± ${tol}, got ${actual}`);
  }
}

/** Awaits `fn`, expects it to reject with a message containing every one of `parts`. */
export async function assertRejectsWith(
  fn: () => Promise<unknown>,
  ...parts: string[]
): Promise<Error> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof Error)) {
    throw new Error(`expected a rejection containing ${JSON.stringify(parts)}`);
  }
  for (const p of parts) {
    if (!err.message.includes(p)) {
      throw new Error(`message ${JSON.stringify(err.message)} lacks ${JSON.stringify(p)}`);
    }
  }
  return err;
}

/** Calls `fn`, expects it to throw with a message containing every one of `parts`. */
export function assertThrowsWith(fn: () => unknown, ...parts: string[]): Error {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof Error)) {
    throw new Error(`expected a throw containing ${JSON.stringify(parts)}`);
  }
  for (const p of parts) {
    if (!err.message.includes(p)) {
      throw new Error(`message ${JSON.stringify(err.message)} lacks ${JSON.stringify(p)}`);
    }
  }
  return err;
}
