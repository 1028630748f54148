/**
 * Uncertainty audit: how well the uncertainty u singles out flipped (noisy) training labels, and
 * the list of the most uncertain samples.
 *
 * @module
 */
import { rocAuc } from "./roc.ts";

/** One entry of {@link mostUncertain}. */
export interface UncertainSample {
  /** Sample index in the dataset. */
  index: number;
  /** Uncertainty u. */
  u: number;
  /** Label used for training (possibly noisy). */
  label?: number;
  /** Clean label, when known. */
  cleanLabel?: number;
  /** Whether the training label differs from the clean label (when both are known). */
  flipped?: boolean;
  /** Model prediction, when given. */
  prediction?: number;
  /** Source file name, when given. */
  file?: string;
}

/** Optional per-sample information attached to {@link mostUncertain}'s entries. */
export interface AuditInfo {
  /** Training labels. */
  labels?: ArrayLike<number>;
  /** Clean labels. */
  cleanLabels?: ArrayLike<number>;
  /** Predictions. */
  predictions?: ArrayLike<number>;
  /** File names. */
  files?: ArrayLike<string>;
}

/** The `k` samples with the largest u, most uncertain first (ties: lower index first). */
export function mostUncertain(
  u: ArrayLike<number>,
  k: number,
  info: AuditInfo = {},
): UncertainSample[] {
  for (const [name, arr] of Object.entries(info)) {
    if (arr && arr.length !== u.length) {
      throw new Error(`mostUncertain: ${name} has ${arr.length} entries, u has ${u.length}`);
    }
  }
  const order = Array.from({ length: u.length }, (_, i) => i).sort((a, b) => u[b] - u[a] || a - b);
  return order.slice(0, Math.max(0, k)).map((i) => {
    const s: UncertainSample = { index: i, u: u[i] };
    if (info.labels) s.label = info.labels[i];
    if (info.cleanLabels) s.cleanLabel = info.cleanLabels[i];
    if (info.labels && info.cleanLabels) s.flipped = info.labels[i] !== info.cleanLabels[i];
    if (info.predictions) s.prediction = info.predictions[i];
    if (info.files) s.file = info.files[i];
    return s;
  });
}

/** Result of {@link noisyLabelDetection}. */
export interface NoisyLabelDetection {
  /** ROC AUC of u as a score for "this label was flipped" (0.5 = chance). */
  auroc: number;
  /** Number of flipped labels. */
  flipped: number;
  /** Number of samples. */
  total: number;
  /** Mean u of the flipped samples. */
  meanUFlipped: number;
  /** Mean u of the clean samples. */
  meanUClean: number;
}

/**
 * Score u as a detector of flipped labels (`labels[i] !== cleanLabels[i]`): ROC AUC plus the
 * mean u of each group. Throws when no label (or every label) is flipped.
 */
export function noisyLabelDetection(
  u: ArrayLike<number>,
  labels: ArrayLike<number>,
  cleanLabels: ArrayLike<number>,
): NoisyLabelDetection {
  if (labels.length !== u.length || cleanLabels.length !== u.length) {
    throw new Error(
      `noisyLabelDetection: u (${u.length}), labels (${labels.length}) and clean labels ` +
        `(${cleanLabels.length}) must have the same length`,
    );
  }
  const flipped = Array.from({ length: u.length }, (_, i) => labels[i] !== cleanLabels[i]);
  const nf = flipped.filter(Boolean).length;
  let sf = 0;
  let sc = 0;
  for (let i = 0; i < u.length; i++) flipped[i] ? (sf += u[i]) : (sc += u[i]);
  if (nf === 0 || nf === u.length) {
    throw new Error(
      `noisyLabelDetection: ${nf} of ${u.length} labels are flipped; AUROC needs both flipped ` +
        "and clean samples",
    );
  }
  return {
    auroc: rocAuc(u, flipped),
    flipped: nf,
    total: u.length,
    meanUFlipped: sf / nf,
    meanUClean: sc / (u.length - nf),
  };
}
