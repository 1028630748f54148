/**
 * Notebook 02 in classic Jupyter Notebook 6 (Debian's apt package), in headless Chromium: the
 * scenario of tests/notebooks/browser_harness.ts.
 */
import { browserScenario, CLASSIC, frontEndAvailable } from "./notebooks/browser_harness.ts";

const { ok, version } = frontEndAvailable(CLASSIC);

Deno.test({
  name: `browser, classic Notebook ${version}: run 02, interrupt, re-run a figure, save, reload, ` +
    "reopen: every figure drawn and interactive, no page error, no 404",
  ignore: !ok,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => browserScenario(CLASSIC, version),
});
