/**
 * Watching a grid: poll {@link gridStatus} every few seconds until no run is queued or running
 * (or a time limit), reporting each poll and, separately, the runs that finished since the last
 * one, so a view can re-draw the results only when they change. Everything comes from the run
 * folders, the journal and the scheduler, so a watch can start at any time (after a kernel
 * restart, from another terminal).
 *
 * @module
 */
import type { Grid, GridRun } from "./grid.ts";
import { gridSettled, gridStatus, type RunStatus } from "./status.ts";

/** Options of {@link watchGrid}. */
export interface WatchOptions {
  /** Milliseconds between polls (default 10,000). */
  intervalMs?: number;
  /** Stop after this many milliseconds even if runs are still queued or running (default: none). */
  timeoutMs?: number;
  /**
   * Called after every poll with the statuses and the runs that became done since the previous
   * poll (all done runs at the first poll).
   */
  onPoll?: (statuses: RunStatus[], newlyDone: GridRun[]) => void | Promise<void>;
  /** Stops the watch at the next poll when aborted. */
  signal?: AbortSignal;
}

/**
 * Poll until the grid is settled (every run done, failed, cancelled, unknown or not submitted),
 * the time limit passes or the signal aborts; returns the last statuses.
 */
export async function watchGrid(grid: Grid, options: WatchOptions = {}): Promise<RunStatus[]> {
  const interval = options.intervalMs ?? 10_000;
  const deadline = Date.now() + (options.timeoutMs ?? Infinity);
  const done = new Set<number>();
  for (;;) {
    const statuses = await gridStatus(grid);
    const newly = statuses.filter((s) => s.state === "done" && !done.has(s.run.index)).map((s) =>
      s.run
    );
    for (const r of newly) done.add(r.index);
    await options.onPoll?.(statuses, newly);
    if (gridSettled(statuses) || Date.now() >= deadline || options.signal?.aborted) {
      return statuses;
    }
    await new Promise((res) => setTimeout(res, Math.min(interval, deadline - Date.now())));
  }
}
