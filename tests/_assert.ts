/**
 * The shared assertions of the tests (JSR's `@std/assert` is unreachable here), on
 * `node:assert/strict`.
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

/** Throws when `text` does not contain `part`. */
export function assertStringIncludes(text: string, part: string, msg = ""): void {
  if (!text.includes(part)) {
    throw new Error(`${msg ? msg + ": " : ""}${JSON.stringify(part)} not found in output`);
  }
}

/** The error `err` (thrown or rejected), checked to be an Error whose message holds every part. */
function errorWith(err: unknown, how: string, parts: string[]): Error {
  if (!(err instanceof Error)) {
    throw new Error(`expected ${how} containing ${JSON.stringify(parts)}`);
  }
  for (const p of parts) {
    if (!err.message.includes(p)) {
      throw new Error(`message ${JSON.stringify(err.message)} lacks ${JSON.stringify(p)}`);
    }
  }
  return err;
}

/** Awaits `fn`, expects it to reject with a message containing every one of `parts`. */
export async function assertRejectsWith(
  fn: () => Promise<unknown>,
  ...parts: string[]
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return errorWith(e, "a rejection", parts);
  }
  return errorWith(undefined, "a rejection", parts);
}

/** Calls `fn`, expects it to throw with a message containing every one of `parts`. */
export function assertThrowsWith(fn: () => unknown, ...parts: string[]): Error {
  try {
    fn();
  } catch (e) {
    return errorWith(e, "a throw", parts);
  }
  return errorWith(undefined, "a throw", parts);
}
