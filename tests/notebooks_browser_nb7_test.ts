/**
 * Notebook 02 in Notebook 7 (pip, `.venv-jupyter`), in headless Chromium: the scenario of
 * tests/notebooks/browser_harness.ts.
 */
import { browserTest, NB7 } from "./notebooks/browser_harness.ts";

browserTest(NB7, "Notebook");
