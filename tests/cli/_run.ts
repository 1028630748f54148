/** Runs a CLI script of the repository in a subprocess (single wasm thread) for the CLI tests. */
import * as path from "node:path";

/** The repository root. */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** Output of {@link runScript}. */
export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `deno run -A <script> ...args` from the repository root, with RUL_THREADS=1. */
export async function runScript(script: string, args: string[]): Promise<ScriptResult> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path.join(ROOT, script), ...args],
    cwd: ROOT,
    env: { RUL_THREADS: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}
