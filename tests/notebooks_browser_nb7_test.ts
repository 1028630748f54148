/**
 * Notebook 02 in Notebook 7 (pip, .venv-jupyter), in headless Chromium: the
 * scenario of tests/notebooks/browser_harness.ts.
 */
import { browserScenario, frontEndAvailable, NB7 } from "./notebooks/browser_harness.ts";

const { ok, version } = frontEndAvailable(NB7);

Deno.test({
  name: `browser, Notebook ${version}: run 02, interrupt, re-run a figure, save, reload, ` +
    "reopen; 04 t-SNE after a reload: every figure drawn and interactive, no page error, no 404",
  ignore: !ok,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => browserScenario(NB7, version),
});
