/**
 * ROC curve and the area under it, with scikit-learn's semantics (`roc_curve`, `roc_auc_score`):
 * samples with tied scores form one threshold, so ties contribute half a concordant pair.
 *
 * @module
 */

/** Points of an ROC curve, one per distinct score threshold (descending), starting at (0, 0). */
export interface RocCurve {
  /** False-positive rates. */
  fpr: number[];
  /** True-positive rates. */
  tpr: number[];
  /** Thresholds: a sample is predicted positive when its score is >= the threshold. */
  thresholds: number[];
}

function validate(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): void {
  if (scores.length !== positive.length) {
    throw new Error(`ROC: ${scores.length} scores but ${positive.length} labels`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new Error(`ROC: score at index ${i} is NaN`);
  }
}

/**
 * The ROC curve of `scores` for the binary truth `positive` (true/1 = positive), with every
 * distinct threshold kept (scikit-learn's `roc_curve(..., drop_intermediate=False)`, whose first
 * threshold is +Infinity in recent versions).
 */
export function rocCurve(
  scores: ArrayLike<number>,
  positive: ArrayLike<boolean | number>,
): RocCurve {
  validate(scores, positive);
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let nPos = 0;
  for (let i = 0; i < n; i++) if (positive[i]) nPos++;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw new Error(
      "ROC: only one class present in the labels (" +
        (nPos === 0 ? "no positives" : "no negatives") +
        "); ROC AUC is not defined in that case",
    );
  }
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Infinity];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    if (positive[i]) tp++;
    else fp++;
    // Emit a point only after the last sample of a run of tied scores.
    if (k === n - 1 || scores[order[k + 1]] !== scores[i]) {
      fpr.push(fp / nNeg);
      tpr.push(tp / nPos);
      thresholds.push(scores[i]);
    }
  }
  return { fpr, tpr, thresholds };
}

/**
 * Area under the ROC curve (trapezoidal over distinct thresholds — identical to scikit-learn's
 * `roc_auc_score` for binary labels). Throws when only one class is present.
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): number {
  const { fpr, tpr } = rocCurve(scores, positive);
  let area = 0;
  for (let i = 1; i < fpr.length; i++) area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
  return area;
}
