/**
 * t-SNE input affinities: perplexity calibration by binary search on sparse kNN distances, then
 * the symmetrised, normalised joint probabilities P in CSR form (as scikit-learn's
 * `_joint_probabilities_nn`).
 *
 * @module
 */
import type { KnnResult } from "./knn.ts";

/** Sparse symmetric matrix in compressed-sparse-row form. */
export interface CsrMatrix {
  /** Row start offsets, length rows + 1. */
  rowPtr: Int32Array;
  /** Column index of each stored value. */
  colIdx: Int32Array;
  /** Stored values. */
  values: Float64Array;
  /** Number of rows (= columns). */
  rows: number;
}

/**
 * Conditional probabilities p(j|i) over each row's k neighbours, with the Gaussian precision
 * found by binary search so that the row's entropy equals log(perplexity) (natural log), like
 * scikit-learn's `_binary_search_perplexity` (tolerance 1e-5, at most 100 steps).
 *
 * @param knn neighbours with squared distances.
 * @param perplexity target perplexity (> 0, normally < k).
 * @returns `n * k` probabilities aligned with `knn.indices`; each row sums to 1.
 */
export function conditionalProbabilities(knn: KnnResult, perplexity: number): Float64Array {
  if (!(perplexity > 0)) throw new Error(`perplexity must be > 0, got ${perplexity}`);
  const k = knn.k;
  const n = knn.indices.length / k;
  const dist = knn.distances;
  const P = new Float64Array(n * k);
  const target = Math.log(perplexity);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let beta = 1, betaMin = -Infinity, betaMax = Infinity;
    for (let step = 0; step < 100; step++) {
      let sumP = 0;
      for (let r = 0; r < k; r++) {
        const p = Math.exp(-dist[o + r] * beta);
        P[o + r] = p;
        sumP += p;
      }
      if (sumP === 0) sumP = 1e-8;
      let sumDP = 0;
      for (let r = 0; r < k; r++) {
        P[o + r] /= sumP;
        sumDP += dist[o + r] * P[o + r];
      }
      const entropy = Math.log(sumP) + beta * sumDP;
      const diff = entropy - target;
      if (Math.abs(diff) <= 1e-5) break;
      if (diff > 0) {
        betaMin = beta;
        beta = betaMax === Infinity ? beta * 2 : (beta + betaMax) / 2;
      } else {
        betaMax = beta;
        beta = betaMin === -Infinity ? beta / 2 : (beta + betaMin) / 2;
      }
    }
  }
  return P;
}

/**
 * Symmetrises conditional probabilities: P = (P_cond + P_condᵀ) / sum, stored as CSR with sorted
 * column indices and no explicit zeros (rows may have different lengths).
 *
 * @param knn the neighbour lists the conditional probabilities refer to.
 * @param cond output of {@link conditionalProbabilities}.
 */
export function symmetrize(knn: KnnResult, cond: Float64Array): CsrMatrix {
  const k = knn.k;
  const n = knn.indices.length / k;
  const idx = knn.indices;
  // Count entries per row of P_cond + P_condᵀ (with duplicates, merged below).
  const count = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) {
      count[i + 1]++;
      count[idx[i * k + r] + 1]++;
    }
  }
  for (let i = 0; i < n; i++) count[i + 1] += count[i];
  const fill = count.slice(0, n);
  const tmpCol = new Int32Array(count[n]);
  const tmpVal = new Float64Array(count[n]);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) {
      const j = idx[i * k + r];
      const p = cond[i * k + r];
      tmpCol[fill[i]] = j;
      tmpVal[fill[i]++] = p;
      tmpCol[fill[j]] = i;
      tmpVal[fill[j]++] = p;
    }
  }
  // Sort each row by column and merge duplicates.
  const rowPtr = new Int32Array(n + 1);
  const colOut: number[] = [];
  const valOut: number[] = [];
  let total = 0;
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = count[i], e = count[i + 1];
    order.length = 0;
    for (let t = s; t < e; t++) order.push(t);
    order.sort((a, b) => tmpCol[a] - tmpCol[b]);
    let last = -1;
    for (const t of order) {
      const c = tmpCol[t];
      if (c === last) {
        valOut[valOut.length - 1] += tmpVal[t];
      } else {
        colOut.push(c);
        valOut.push(tmpVal[t]);
        last = c;
      }
    }
    rowPtr[i + 1] = colOut.length;
  }
  const values = Float64Array.from(valOut);
  for (let t = 0; t < values.length; t++) total += values[t];
  const norm = Math.max(total, 2.220446049250313e-16);
  for (let t = 0; t < values.length; t++) values[t] /= norm;
  return { rowPtr, colIdx: Int32Array.from(colOut), values, rows: n };
}
