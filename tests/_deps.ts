/**
 * Test helper: the required-dependency switch. Some tests need something outside the repository
 * (PyTorch, Fashion-MNIST, oneDNN, Chromium, Jupyter, Slurm). Outside CI a missing one makes the
 * test skip with one line saying why; with `RUL_REQUIRE_DEPS=1` (set by `.ci/run`) a missing one
 * fails the run instead, so a broken install in CI cannot silently turn a check into "ignored".
 */

/** Whether missing dependencies fail instead of skip (`RUL_REQUIRE_DEPS=1`, set by `.ci/run`). */
export function depsRequired(): boolean {
  return Deno.env.get("RUL_REQUIRE_DEPS") === "1" || Deno.env.get("RUL_REQUIRE_SLURM") === "1";
}

const reported = new Set<string>();

/**
 * Whether the dependency `name` is available. When it is not: with {@link depsRequired} this
 * throws (naming the dependency and `why`), otherwise it prints one line (once per name and
 * reason) and returns false so that the caller can skip (`ignore: !dependency(...)`).
 */
export function dependency(name: string, available: boolean, why: string): boolean {
  if (available) return true;
  const line = `${name} unavailable: ${why}`;
  if (depsRequired()) {
    throw new Error(`required dependency missing (RUL_REQUIRE_DEPS=1): ${line}`);
  }
  if (!reported.has(line)) {
    reported.add(line);
    console.warn(`skipped: ${line}`);
  }
  return false;
}
