/**
 * Training: PyTorch-semantics Adam with parameter groups and the ExponentialLR schedule, the
 * training configuration (official defaults, validation, schema for the CLI), dataset loading,
 * evaluation passes, checkpoints, and the {@link Trainer} (loop, metrics log, resume, hooks).
 *
 * ```ts
 * import { initBackend } from "../backend.ts";
 * import { Trainer } from "./mod.ts";
 * await initBackend();
 * const t = await Trainer.create({
 *   config: { variant: "rul", epochs: 3, model: { inputSize: 64 }, data: { noise: 0.3 } },
 *   out: "runs/quick",
 *   hooks: { onEpoch: (e) => console.log(e.record) },
 * });
 * const result = await t.run(); // { bestTestAcc, bestEpoch, lastTestAcc, records, ... }
 * t.dispose();
 * ```
 *
 * @module
 */
export * from "./adam.ts";
export * from "./grads.ts";
export * from "./schedule.ts";
export * from "./config.ts";
export * from "./presets.ts";
export * from "./evaluate.ts";
export * from "./checkpoint.ts";
export * from "./trainer.ts";
export * from "./data.ts";
export * from "./weights.ts";
export * from "./export.ts";
export * from "./summary.ts";
export * from "./run_folder.ts";
export * from "./pretrain.ts";
