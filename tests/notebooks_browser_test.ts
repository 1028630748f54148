/**
 * Notebook 02 in classic Jupyter Notebook 6 (Debian's apt package), in headless Chromium: the scenario of
 * tests/notebooks/browser_harness.ts.
 */
import { browserTest, CLASSIC } from "./notebooks/browser_harness.ts";

browserTest(CLASSIC, "classic Notebook");
