/**
 * Learning-rate schedule: PyTorch's `ExponentialLR`, stepped once per epoch.
 *
 * @module
 */
import type { Adam } from "./adam.ts";

/**
 * `torch.optim.lr_scheduler.ExponentialLR`: after each {@link step} every group's lr is multiplied
 * by `gamma`. The lr after `k` steps is computed by `k` successive double-precision
 * multiplications from the group's initial lr, exactly PyTorch's chainable update, so restoring
 * `lastEpoch` (see {@link setLastEpoch}) reproduces the lr bit for bit.
 */
export class ExponentialLR {
  /** Number of {@link step} calls so far (PyTorch's `last_epoch`, which starts at 0). */
  lastEpoch = 0;

  /** Attach the schedule to `optimizer`; `gamma` must be in (0, 1]. */
  constructor(readonly optimizer: Adam, readonly gamma: number) {
    if (!(gamma > 0 && gamma <= 1)) {
      throw new Error(`ExponentialLR: gamma must be in (0, 1], got ${gamma}`);
    }
  }

  /** Advance one epoch: multiply every group's lr by gamma. */
  step(): void {
    this.lastEpoch += 1;
    for (const g of this.optimizer.groups) g.lr = g.lr * this.gamma;
  }

  /** Restore the schedule to `lastEpoch` steps after the start (for resuming). */
  setLastEpoch(lastEpoch: number): void {
    if (!Number.isInteger(lastEpoch) || lastEpoch < 0) {
      throw new Error(`ExponentialLR: lastEpoch must be a non-negative integer, got ${lastEpoch}`);
    }
    this.lastEpoch = lastEpoch;
    for (const g of this.optimizer.groups) {
      let lr = g.initialLr;
      for (let i = 0; i < lastEpoch; i++) lr = lr * this.gamma;
      g.lr = lr;
    }
  }

  /** Current lr of every group, by group name. */
  lrs(): Record<string, number> {
    return Object.fromEntries(this.optimizer.groups.map((g) => [g.name, g.lr]));
  }
}
