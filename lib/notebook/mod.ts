/**
 * Helpers for the notebooks: settings read from the environment (scale, dataset, output folder),
 * the training configuration and ablation grid of each scale, and the ablation grid runner and
 * aggregation (mean ± s.d. over seeds of the best-epoch and last-epoch test accuracy).
 *
 * ```ts
 * import { ablationPlan, notebookSettings } from "./mod.ts";
 * const s = notebookSettings();
 * const plan = ablationPlan(s.scale, s.dataRoot); // variants × noises × seeds
 * ```
 *
 * @module
 */
export * from "./settings.ts";
export * from "./ablation.ts";
export * from "./grid_view.ts";
export * from "./runs.ts";
export * from "./tsne_progress.ts";
export * from "./check.ts";
export * from "./method_figures.ts";
export * from "./seed_curves.ts";
