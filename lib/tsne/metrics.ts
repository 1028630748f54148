/**
 * Embedding quality: trustworthiness (Venna & Kaski; same definition as scikit-learn's
 * `sklearn.manifold.trustworthiness`) and k-NN label accuracy.
 *
 * @module
 */
import { exactKnn } from "./knn.ts";
import { type MatrixLike, toMatrix } from "./matrix.ts";

/**
 * Trustworthiness T(k) ∈ [0, 1] of an embedding: 1 − 2/(n k (2n − 3k − 1)) Σ_i Σ_{j ∈ U_i}
 * (r(i, j) − k), where U_i are the embedding's k nearest neighbours of i that are not among its k
 * nearest in the input and r(i, j) is j's rank (1 = nearest) among i's input-space neighbours.
 *
 * Cost O(n² · d) time, O(n) memory beyond the inputs (input distances are computed row by row).
 *
 * @param x input points (n × d).
 * @param y embedded points (n × e).
 * @param k neighbourhood size (default 5, must be < n / 2).
 */
export function trustworthiness(x: MatrixLike, y: MatrixLike, k = 5): number {
  const X = toMatrix(x, "trustworthiness input");
  const Y = toMatrix(y, "trustworthiness embedding");
  const n = X.rows;
  if (Y.rows !== n) throw new Error(`trustworthiness: ${n} input rows but ${Y.rows} embedded`);
  if (!Number.isInteger(k) || k < 1 || k >= n / 2) {
    throw new Error(`trustworthiness: k must be an integer in [1, n/2), got ${k} (n = ${n})`);
  }
  const nnY = exactKnn(Y, k).indices;
  const nnX = exactKnn(X, k).indices;
  const d = X.cols, xd = X.data;
  const row = new Float64Array(n);
  const inX = new Uint8Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) inX[nnX[i * k + r]] = 1;
    let rowDone = false;
    for (let r = 0; r < k; r++) {
      const j = nnY[i * k + r];
      if (inX[j]) continue;
      if (!rowDone) {
        const oi = i * d;
        for (let m = 0; m < n; m++) {
          const om = m * d;
          let s = 0;
          for (let c = 0; c < d; c++) {
            const diff = xd[oi + c] - xd[om + c];
            s += diff * diff;
          }
          row[m] = s;
        }
        rowDone = true;
      }
      // rank = 1 + number of other points strictly closer to i than j
      const dj = row[j];
      let rank = 1;
      for (let m = 0; m < n; m++) if (m !== i && row[m] < dj) rank++;
      total += rank - k;
    }
    for (let r = 0; r < k; r++) inX[nnX[i * k + r]] = 0;
  }
  return 1 - (total * 2) / (n * k * (2 * n - 3 * k - 1));
}

/**
 * Leave-one-out k-NN classification accuracy in the embedding: the fraction of points whose
 * label equals the majority label of their k nearest neighbours (self excluded; ties go to the
 * tied label whose nearest member is closest).
 *
 * @param y embedded points (n × e).
 * @param labels integer class of each point.
 * @param k neighbours (default 10).
 */
export function knnAccuracy(y: MatrixLike, labels: ArrayLike<number>, k = 10): number {
  const Y = toMatrix(y, "knnAccuracy embedding");
  const n = Y.rows;
  if (labels.length !== n) {
    throw new Error(`knnAccuracy: ${labels.length} labels for ${n} points`);
  }
  const nn = exactKnn(Y, k).indices;
  const votes = new Map<number, number>();
  let correct = 0;
  for (let i = 0; i < n; i++) {
    votes.clear();
    let best = -1, bestVotes = 0;
    for (let r = 0; r < k; r++) {
      const l = labels[nn[i * k + r]];
      const v = (votes.get(l) ?? 0) + 1;
      votes.set(l, v);
      // Strictly greater: among ties, the label reached first (nearer neighbour) wins.
      if (v > bestVotes) {
        bestVotes = v;
        best = l;
      }
    }
    if (best === labels[i]) correct++;
  }
  return correct / n;
}
