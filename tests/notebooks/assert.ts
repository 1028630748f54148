/**
 * Minimal assertions for the notebook tests (JSR's `@std/assert` is unreachable here).
 *
 * @module
 */

/** Throws when `cond` is falsy. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Throws when `actual !== expected`. */
export function assertEquals<T>(actual: T, expected: T, msg = ""): void {
  if (actual !== expected) {
    throw new Error(`${msg ? msg + ": " : ""}expected ${String(expected)}, got ${String(actual)}`);
  }
}

/** Throws when `text` does not contain `part`. */
export function assertStringIncludes(text: string, part: string, msg = ""): void {
  if (!text.includes(part)) {
    throw new Error(`${msg ? msg + ": " : ""}${JSON.stringify(part)} not found in output`);
  }
}
