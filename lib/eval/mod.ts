/**
 * Evaluation and audit: accuracy, per-class accuracy, confusion matrix, ROC AUC (scikit-learn
 * semantics), noisy-label detection and the most uncertain samples, the per-sample table, the
 * metrics log of a run, progress reporting, atomic writes; small-sample statistics (Student t,
 * paired t interval).
 *
 * @module
 */
export * from "./metrics.ts";
export * from "./roc.ts";
export * from "./audit.ts";
export * from "./table.ts";
export * from "./logger.ts";
export * from "./progress.ts";
export * from "./stats.ts";
