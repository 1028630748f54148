/**
 * The live view of a grid in a notebook: a status table (queued / running / done / failed /
 * cancelled per run, epochs logged, accuracies) refreshed in place at every poll, and the
 * ablation table and the best-epoch and last-epoch bar charts re-drawn whenever runs finish, all
 * from the grid folder and the scheduler (lib/grid), so the cell works after a kernel restart.
 * Outside Jupyter it prints a line when the counts change and one per finished run.
 *
 * @module
 */
import type { Grid } from "../grid/grid.ts";
import { collectGrid, type GridResults } from "../grid/collect.ts";
import { type RunStatus, statusLine, statusMarkdown } from "../grid/status.ts";
import { watchGrid, type WatchOptions } from "../grid/watch.ts";
import { ablationBars } from "../plots/ablation.ts";
import { displayTarget, LiveFigure } from "../plots/jupyter.ts";
import { ablationEntries } from "./ablation.ts";

/** A Markdown output that later calls replace in place (Jupyter display id). */
export class LiveMarkdown {
  private readonly id = `rul-md-${Math.floor(Math.random() * 2 ** 32).toString(16)}-${
    Date.now().toString(16)
  }`;
  private shown = false;

  /** Show or replace the Markdown; returns false outside Jupyter. */
  async update(markdown: string): Promise<boolean> {
    const j = displayTarget();
    if (!j) return false;
    await j.display({ "text/markdown": markdown, "text/plain": markdown }, {
      raw: true,
      display_id: this.id,
      ...(this.shown ? { update: true } : {}),
    });
    this.shown = true;
    return true;
  }
}

/** Options of {@link showGrid}. */
export interface ShowGridOptions extends Omit<WatchOptions, "onPoll"> {
  /** Also show the results table and bar charts, re-drawn as runs finish (default true). */
  results?: boolean;
  /** Called after every poll, after the displays are updated. */
  onPoll?: (statuses: RunStatus[], results: GridResults) => void | Promise<void>;
}

/** Last state of {@link showGrid}. */
export interface GridView {
  /** Statuses at the last poll. */
  statuses: RunStatus[];
  /** Results collected at the last poll. */
  results: GridResults;
}

/**
 * Watch the grid (see `watchGrid`) and keep its status table, results table and bar charts up to
 * date; returns when no run is queued or running (or at the time limit).
 */
export async function showGrid(grid: Grid, options: ShowGridOptions = {}): Promise<GridView> {
  const statusView = new LiveMarkdown();
  const tableView = new LiveMarkdown();
  const bars = {
    best: new LiveFigure({ minIntervalMs: 0 }),
    last: new LiveFigure({ minIntervalMs: 0 }),
  };
  const jupyter = displayTarget() !== undefined;
  let results = collectGrid(grid);
  let lastLine = "";
  let first = true;
  const statuses = await watchGrid(grid, {
    ...options,
    onPoll: async (st, newly) => {
      const line = statusLine(st);
      if (jupyter) await statusView.update(statusMarkdown(st));
      else if (line !== lastLine) console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
      lastLine = line;
      if ((newly.length || first) && (options.results ?? true)) {
        results = collectGrid(grid);
        if (jupyter) {
          await tableView.update(results.markdown);
          for (const metric of ["best", "last"] as const) {
            const entries = ablationEntries(results.rows, metric);
            if (entries.length === 0) continue;
            await bars[metric].update(
              ablationBars(entries, {
                title: `${metric === "best" ? "Best" : "Last"}-epoch test accuracy ` +
                  `(mean ± s.d. over seeds; ${results.results.length}/${grid.runs.length} runs)`,
                zoom: true,
              }),
              true,
            );
          }
        } else {
          for (const r of newly) {
            const s = st.find((x) => x.run.index === r.index)!;
            console.log(
              `done: ${r.name}: best ${(100 * s.acc!.best).toFixed(2)} %, last ` +
                `${(100 * s.acc!.last).toFixed(2)} %`,
            );
          }
        }
      }
      first = false;
      await options.onPoll?.(st, results);
    },
  });
  return { statuses, results };
}
