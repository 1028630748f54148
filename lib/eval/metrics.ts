/**
 * Classification metrics on plain arrays: accuracy, per-class accuracy, confusion matrix, argmax.
 *
 * @module
 */

/** Integer labels or predictions, one per sample. */
export type LabelArray = ArrayLike<number>;

function checkSameLength(a: LabelArray, b: LabelArray, what: string): void {
  if (a.length !== b.length) {
    throw new Error(`${what}: predictions (${a.length}) and labels (${b.length}) differ in length`);
  }
}

function checkClass(v: number, numClasses: number, what: string, i: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
    throw new Error(`${what}: value ${v} at index ${i} is not a class in 0..${numClasses - 1}`);
  }
}

/** Fraction of samples whose prediction equals the label (NaN for zero samples). */
export function accuracy(predictions: LabelArray, labels: LabelArray): number {
  checkSameLength(predictions, labels, "accuracy");
  if (labels.length === 0) return NaN;
  let hit = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) hit++;
  return hit / labels.length;
}

/**
 * Confusion matrix `m[true][predicted]` (counts), `numClasses` × `numClasses`, rows indexed by the
 * label as in scikit-learn's `confusion_matrix(y_true, y_pred)`.
 */
export function confusionMatrix(
  predictions: LabelArray,
  labels: LabelArray,
  numClasses: number,
): number[][] {
  checkSameLength(predictions, labels, "confusionMatrix");
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    checkClass(labels[i], numClasses, "confusionMatrix label", i);
    checkClass(predictions[i], numClasses, "confusionMatrix prediction", i);
    m[labels[i]][predictions[i]]++;
  }
  return m;
}

/** Recall of each class (correct / samples of that class); NaN for a class with no samples. */
export function perClassAccuracy(
  predictions: LabelArray,
  labels: LabelArray,
  numClasses: number,
): number[] {
  const m = confusionMatrix(predictions, labels, numClasses);
  return m.map((row, c) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n === 0 ? NaN : row[c] / n;
  });
}

/** Mean of the per-class accuracies, ignoring classes without samples. */
export function balancedAccuracy(
  predictions: LabelArray,
  labels: LabelArray,
  numClasses: number,
): number {
  const pc = perClassAccuracy(predictions, labels, numClasses).filter((v) => !Number.isNaN(v));
  return pc.length === 0 ? NaN : pc.reduce((a, b) => a + b, 0) / pc.length;
}

/** Row-wise argmax of a row-major `[n, k]` matrix (first maximum wins, like `torch.argmax`). */
export function argmaxRows(values: ArrayLike<number>, k: number): Int32Array {
  checkRows("argmaxRows", values, k);
  const n = values.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestV = values[i * k];
    for (let j = 1; j < k; j++) {
      const v = values[i * k + j];
      if (v > bestV) {
        bestV = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

/** Row-wise softmax of a row-major `[n, k]` matrix of logits (numerically stable). */
export function softmaxRows(logits: ArrayLike<number>, k: number): Float32Array {
  checkRows("softmaxRows", logits, k);
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i += k) {
    const [mx, s] = maxAndExpSum(logits, i, k);
    for (let j = 0; j < k; j++) out[i + j] = Math.exp(logits[i + j] - mx) / s;
  }
  return out;
}

/**
 * Per-row cross-entropy −log softmax(logits_i)_{y_i} = log Σ_j exp(l_ij) − l_{i,y_i} of a
 * row-major `[n, k]` matrix, in double precision (log-sum-exp with the row maximum subtracted).
 */
export function crossEntropyRows(
  logits: ArrayLike<number>,
  k: number,
  labels: ArrayLike<number>,
): Float64Array {
  checkRows("crossEntropyRows", logits, k);
  const n = logits.length / k;
  if (labels.length !== n) {
    throw new Error(`crossEntropyRows: ${labels.length} labels for ${n} rows`);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const [mx, s] = maxAndExpSum(logits, i * k, k);
    out[i] = mx + Math.log(s) - logits[i * k + labels[i]];
  }
  return out;
}

/** The maximum m of `k` values from `offset` and Σ exp(v − m) (the stable log-sum-exp parts). */
function maxAndExpSum(values: ArrayLike<number>, offset: number, k: number): [number, number] {
  let mx = -Infinity;
  for (let j = 0; j < k; j++) mx = Math.max(mx, values[offset + j]);
  let s = 0;
  for (let j = 0; j < k; j++) s += Math.exp(values[offset + j] - mx);
  return [mx, s];
}

function checkRows(what: string, values: ArrayLike<number>, k: number): void {
  if (k <= 0 || values.length % k !== 0) {
    throw new Error(`${what}: ${values.length} values do not form rows of ${k}`);
  }
}
