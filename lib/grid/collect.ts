/**
 * Collecting a grid: the best-epoch and last-epoch test accuracy of every finished run, read from
 * the run folders' summary.json, aggregated over seeds into the same mean ± s.d. rows, Markdown
 * table and bar-chart entries as notebook 03 (lib/notebook/ablation.ts), with the runs that have
 * not finished counted as missing.
 *
 * @module
 */
import type { Grid, GridRun } from "./grid.ts";
import { readRunSummary } from "../train/summary.ts";
import {
  ablationMarkdown,
  type AblationResult,
  type AblationRow,
  type MissingRun,
  summarizeAblation,
} from "../notebook/ablation.ts";

/** A collected grid. */
export interface GridResults {
  /** One result per finished run, in grid order. */
  results: (AblationResult & { name: string })[];
  /** Runs without a summary (not finished). */
  missing: (MissingRun & { name: string })[];
  /** Aggregated rows (see `summarizeAblation`). */
  rows: AblationRow[];
  /** The table as Markdown, followed by the list of missing runs when there are any. */
  markdown: string;
}

/**
 * Gather the results of the grid from its run folders.
 *
 * @throws Error naming the file when a summary.json is unreadable.
 */
export function collectGrid(grid: Grid): GridResults {
  const results: GridResults["results"] = [];
  const missing: GridResults["missing"] = [];
  const key = (r: GridRun) => ({ variant: r.label, noise: r.noise, seed: r.seed, name: r.name });
  for (const run of grid.runs) {
    const s = readRunSummary(run.dir);
    if (s) {
      results.push({
        ...key(run),
        bestTestAcc: s.best_epoch_test_acc,
        lastTestAcc: s.last_epoch_test_acc,
      });
    } else missing.push(key(run));
  }
  const rows = summarizeAblation(results, missing);
  const markdown = ablationMarkdown(rows) +
    (missing.length
      ? `\n\nMissing runs (${missing.length} of ${grid.runs.length}): ` +
        missing.map((m) => m.name).join(", ")
      : "");
  return { results, missing, rows, markdown };
}
