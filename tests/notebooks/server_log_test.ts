/**
 * The browser tests' 404 check on the Jupyter server log (tests/notebooks/browser_harness.ts),
 * on lines in the formats the servers print (taken from CI runs' server.log files).
 */
import { notFoundLines } from "./browser_harness.ts";
import { assertEquals } from "../_assert.ts";

const LOG = [
  // jupyter_server (JupyterLab, Notebook 7): a timestamp whose milliseconds read 404
  "[I 2026-12-06 14:53:05.404 ServerApp] Kernel started: b9f8841e-71f4-4350-8397-2227d153f6dc",
  // a real 404 of jupyter_server
  "[W 2026-12-06 14:53:07.120 ServerApp] 404 GET /files/x/_plotly/plotly.min.js (127.0.0.1) 2.10ms",
  // classic Notebook 6's ipywidgets probe (allowed for classic only) and another classic 404
  "[W 14:57:51.363 NotebookApp] 404 GET /nbextensions/widgets/notebook/js/extension.js?v=2026 " +
  "(127.0.0.1) 92.110000ms referer=http://127.0.0.1:44219/notebooks/02_train_rul.ipynb",
  "[W 14:57:52.001 NotebookApp] 404 GET /static/missing.js (127.0.0.1) 1.0ms",
  "",
].join("\n");

Deno.test("server log 404 check: a timestamp reading .404 is not a 404; real ones are found", () => {
  const lines = LOG.split("\n");
  assertEquals(notFoundLines(LOG, "lab"), [lines[1], lines[2], lines[3]]);
  assertEquals(notFoundLines(LOG, "classic"), [lines[1], lines[3]]);
});
