/**
 * Live training curves for notebooks: collects per-epoch loss / test accuracy of one or more runs
 * and keeps a {@link LiveFigure} of {@link trainingCurves} up to date. Plugs into the trainer's
 * `hooks.onEpoch` (structurally: any `{ epoch, record: { train_loss, test_acc } }`).
 *
 * @module
 */
import { type CurveOptions, type CurveRun, trainingCurves } from "./curves.ts";
import type { Figure } from "./figure.ts";
import { LiveFigure, type LiveFigureOptions } from "./jupyter.ts";

/** The part of the trainer's epoch report that the live curves read. */
export interface EpochReport {
  /** Epoch number (1-based). */
  epoch: number;
  /** Per-epoch metrics. */
  record: { train_loss?: number | null; test_acc?: number | null };
}

/** Collected histories plus a live figure. */
export class LiveTrainingCurves {
  /** Run histories in insertion order. */
  readonly runs = new Map<string, { epochs: number[]; loss: number[]; acc: number[] }>();
  /** The live figure (display id, latest figure). */
  readonly live: LiveFigure;

  /**
   * Creates empty histories and a live figure (shown at the first epoch).
   *
   * @param curveOptions passed to {@link trainingCurves}.
   * @param liveOptions passed to {@link LiveFigure}.
   */
  constructor(
    private readonly curveOptions: CurveOptions = {},
    liveOptions: LiveFigureOptions = {},
  ) {
    this.live = new LiveFigure(liveOptions);
  }

  /** Adds one epoch of run `name` and refreshes the display (throttled). */
  async add(
    name: string,
    epoch: number,
    loss?: number | null,
    testAccuracy?: number | null,
  ): Promise<void> {
    let r = this.runs.get(name);
    if (!r) this.runs.set(name, r = { epochs: [], loss: [], acc: [] });
    r.epochs.push(epoch);
    r.loss.push(loss ?? NaN);
    r.acc.push(testAccuracy ?? NaN);
    await this.live.update(this.figure());
  }

  /** A hook for `Trainer` options: `hooks: { onEpoch: curves.onEpoch("RUL") }`. */
  onEpoch(name: string): (info: EpochReport) => Promise<void> {
    return (info) => this.add(name, info.epoch, info.record.train_loss, info.record.test_acc);
  }

  /** The current figure (missing values dropped). */
  figure(): Figure {
    const runs: CurveRun[] = [...this.runs].map(([name, r]) => {
      const keep = (vals: number[]) => {
        const idx = r.epochs.map((_, i) => i).filter((i) => Number.isFinite(vals[i]));
        return { epochs: idx.map((i) => r.epochs[i]), values: idx.map((i) => vals[i]) };
      };
      const l = keep(r.loss), a = keep(r.acc);
      return {
        name,
        epochs: l.epochs,
        loss: l.values,
        testAccuracyEpochs: a.epochs,
        testAccuracy: a.values,
      };
    });
    return trainingCurves(
      runs.length ? runs : [{ name: "(no data yet)", loss: [] }],
      this.curveOptions,
    );
  }

  /** Shows the final state (call after training). */
  async finish(): Promise<void> {
    await this.live.flush();
  }
}
