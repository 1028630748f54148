/**
 * Notebook 02 in JupyterLab 4 (pip, `.venv-jupyter`), in headless Chromium: the scenario of
 * tests/notebooks/browser_harness.ts.
 */
import { browserTest, LAB } from "./notebooks/browser_harness.ts";

browserTest(LAB, "JupyterLab");
