/**
 * SCN's persistent relabelling of the training set (`src/train.py` L250-258 writes
 * `train_loader.dataset.label[...]`): the trainer's label table, what changed, and how many of
 * the changed labels were flipped ones (when the clean labels are known).
 *
 * @module
 */
import type { ScnRelabelDecision } from "./step.ts";

/** Which labels SCN changed so far ({@link RelabelTable.report}). */
export interface RelabelReport {
  /** Samples whose current label differs from the given (possibly noisy) one. */
  changed: number[];
  /** Their given labels, current labels and (when known) clean labels, in `changed` order. */
  given: number[];
  current: number[];
  clean: number[] | null;
  /** How many of `changed` had a flipped given label (null without clean labels). */
  changedFlipped: number | null;
  /** How many of `changed` now carry their clean label (null without clean labels). */
  fixed: number | null;
  /** Flipped given labels in all (null without clean labels). */
  flipped: number | null;
}

/** The training set's label table as SCN rewrites it (a copy: the dataset is not touched). */
export class RelabelTable {
  /** Current labels, indexed like the dataset. */
  readonly labels: Int32Array;
  private epochChanges = 0;

  /** Start from the given labels (and the clean ones, when known, for the report). */
  constructor(
    private readonly given: Int32Array,
    private readonly clean: Int32Array | null = null,
  ) {
    this.labels = Int32Array.from(given);
  }

  /** Write a batch's decision (`batchIndex[p]` = dataset index of batch position p). */
  apply(batchIndex: ArrayLike<number>, d: ScnRelabelDecision): number {
    d.positions.forEach((p, j) => (this.labels[batchIndex[p]] = d.newLabels[j]));
    this.epochChanges += d.positions.length;
    return d.positions.length;
  }

  /** Restore a table saved in a checkpoint. */
  restore(labels: ArrayLike<number>, file: string): void {
    if (labels.length !== this.labels.length) {
      throw new Error(
        `${file}: the SCN label table has ${labels.length} entries, the training set ` +
          `${this.labels.length}`,
      );
    }
    this.labels.set(labels);
  }

  /** What changed relative to the given labels. */
  report(): RelabelReport {
    const changed: number[] = [];
    for (let i = 0; i < this.labels.length; i++) {
      if (this.labels[i] !== this.given[i]) changed.push(i);
    }
    const clean = this.clean;
    const count = (f: (i: number) => boolean) => clean ? changed.filter(f).length : null;
    let flipped: number | null = null;
    if (clean) flipped = this.given.reduce((a, v, i) => a + (v !== clean[i] ? 1 : 0), 0);
    return {
      changed,
      given: changed.map((i) => this.given[i]),
      current: changed.map((i) => this.labels[i]),
      clean: clean ? changed.map((i) => clean[i]) : null,
      changedFlipped: count((i) => this.given[i] !== clean![i]),
      fixed: count((i) => this.labels[i] === clean![i]),
      flipped,
    };
  }

  /**
   * Metrics of the epoch just trained (and resets the epoch count): `scn_relabel_writes` (label
   * writes this epoch), `scn_labels_changed` (labels differing from the given ones),
   * `scn_changed_flipped` and `scn_changed_fixed` (of those, originally flipped / now clean).
   */
  epochRecord(): Record<string, number | null> {
    const r = this.report();
    const out = {
      scn_relabel_writes: this.epochChanges,
      scn_labels_changed: r.changed.length,
      scn_changed_flipped: r.changedFlipped,
      scn_changed_fixed: r.fixed,
    };
    this.epochChanges = 0;
    return out;
  }
}
