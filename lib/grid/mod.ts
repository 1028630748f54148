/**
 * Ablation grids as data, run anywhere: a plan (variants × noise rates × swept hyper-parameters ×
 * seeds) becomes a grid folder of run specifications ({@link createGrid}); {@link submitGrid}
 * sends the runs that still need running to Slurm (one `sbatch --array`) or to local processes;
 * {@link gridStatus} / {@link watchGrid} tell queued / running / done / failed / cancelled per run
 * from the scheduler and the run folders; {@link collectGrid} aggregates the finished runs into
 * notebook 03's mean ± s.d. table with missing runs shown; {@link cancelGrid} cancels. The CLI is
 * `deno task grid submit|status|collect|cancel` (cli/grid.ts); docs/cluster.md explains the use on
 * a cluster.
 *
 * ```ts
 * import { ablationPlan } from "../notebook/settings.ts";
 * import { collectGrid, createGrid, submitGrid, watchGrid } from "./mod.ts";
 * const grid = createGrid("runs/grid-paper", ablationPlan("paper", "/data/RAF-DB"));
 * await submitGrid(grid, { backend: "slurm", slurm: { gpus: 1, time: "08:00:00" } });
 * await watchGrid(grid, { intervalMs: 60_000 });
 * console.log(collectGrid(grid).markdown);
 * ```
 *
 * @module
 */
export * from "./grid.ts";
export * from "./run_state.ts";
export * from "./journal.ts";
export * from "./task_script.ts";
export * from "./slurm.ts";
export * from "./status.ts";
export * from "./local.ts";
export * from "./submit.ts";
export * from "./collect.ts";
export * from "./watch.ts";
