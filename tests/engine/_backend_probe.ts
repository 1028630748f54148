/**
 * Subprocess helper of tests/backend_test.ts: initialise the backend with the options given as a
 * JSON argument and print the resulting BackendInfo (or the error) as one JSON line.
 *
 * @module
 */
import { type BackendOptions, describeBackend, initBackend } from "../../lib/backend.ts";

const opts = JSON.parse(Deno.args[0] ?? "{}") as BackendOptions;
try {
  const info = await initBackend(opts);
  console.log(JSON.stringify({ ok: true, info, line: describeBackend() }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: (e as Error).message }));
}
