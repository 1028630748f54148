/**
 * Notebook 02 in JupyterLab 4 (pip, .venv-jupyter), in headless Chromium: the
 * scenario of tests/notebooks/browser_harness.ts.
 */
import { browserScenario, frontEndAvailable, LAB } from "./notebooks/browser_harness.ts";

const { ok, version } = frontEndAvailable(LAB);

Deno.test({
  name: `browser, JupyterLab ${version}: run 02, interrupt, re-run a figure, save, reload, ` +
    "reopen; 04 t-SNE after a reload: every figure drawn and interactive, no page error, no 404",
  ignore: !ok,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => browserScenario(LAB, version),
});
