/**
 * Exact k-nearest neighbours (squared Euclidean) by blocked brute force.
 *
 * Hand-written rather than an npm package: the npm kNN libraries build per-point objects and are
 * several times slower; here each pair distance is computed once (symmetry) from
 * ||a||² + ||b||² − 2·a·b with an unrolled dot product, and kept in per-row max-heaps held in flat
 * typed arrays. N = 10,000, D = 64 takes a few seconds single-threaded.
 *
 * @module
 */
import type { Matrix } from "./matrix.ts";

/** k nearest neighbours of every row, nearest first, self excluded. */
export interface KnnResult {
  /** Neighbour indices, `indices[i * k + r]` is the (r+1)-th nearest neighbour of i. */
  indices: Int32Array;
  /** Squared Euclidean distances matching `indices`. */
  distances: Float64Array;
  /** Number of neighbours per row. */
  k: number;
}

/**
 * Exact kNN of every row of `x` among the other rows.
 *
 * @param x points (rows).
 * @param k neighbours per point, 1 ≤ k < rows.
 */
export function exactKnn(x: Matrix, k: number): KnnResult {
  const n = x.rows, d = x.cols;
  if (!Number.isInteger(k) || k < 1 || k >= n) {
    throw new Error(`exactKnn: k must be an integer in [1, ${n - 1}], got ${k}`);
  }
  // Centred float64 copy: keeps ||a||² + ||b||² − 2·a·b accurate when the data has a large offset.
  const data = Float64Array.from(x.data);
  for (let c = 0; c < d; c++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += data[i * d + c];
    m /= n;
    for (let i = 0; i < n; i++) data[i * d + c] -= m;
  }
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * d;
    for (let c = 0; c < d; c++) s += data[o + c] * data[o + c];
    sq[i] = s;
  }
  // Per-row max-heap of the k best so far; heapD[i*k] is the current worst kept distance.
  const heapD = new Float64Array(n * k).fill(Infinity);
  const heapI = new Int32Array(n * k).fill(-1);
  const push = (row: number, dist: number, idx: number): void => {
    const base = row * k;
    // Replace the root (the worst) and sift down.
    let pos = 0;
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= k) break;
      const r = l + 1;
      let big = l;
      if (r < k && heapD[base + r] > heapD[base + l]) big = r;
      if (heapD[base + big] <= dist) break;
      heapD[base + pos] = heapD[base + big];
      heapI[base + pos] = heapI[base + big];
      pos = big;
    }
    heapD[base + pos] = dist;
    heapI[base + pos] = idx;
  };
  const B = 64; // block size: a 64-row block of 64-dim doubles is 32 KiB (L1/L2 friendly)
  const d4 = d - (d % 4);
  for (let ib = 0; ib < n; ib += B) {
    const ie = Math.min(ib + B, n);
    for (let jb = ib; jb < n; jb += B) {
      const je = Math.min(jb + B, n);
      for (let i = ib; i < ie; i++) {
        const oi = i * d;
        const sqi = sq[i];
        for (let j = jb === ib ? i + 1 : jb; j < je; j++) {
          const oj = j * d;
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          let c = 0;
          for (; c < d4; c += 4) {
            s0 += data[oi + c] * data[oj + c];
            s1 += data[oi + c + 1] * data[oj + c + 1];
            s2 += data[oi + c + 2] * data[oj + c + 2];
            s3 += data[oi + c + 3] * data[oj + c + 3];
          }
          for (; c < d; c++) s0 += data[oi + c] * data[oj + c];
          let dist = sqi + sq[j] - 2 * (s0 + s1 + s2 + s3);
          if (dist < 0) dist = 0;
          if (dist < heapD[i * k]) push(i, dist, j);
          if (dist < heapD[j * k]) push(j, dist, i);
        }
      }
    }
  }
  // Heap -> sorted ascending (ties by index for determinism).
  const indices = new Int32Array(n * k);
  const distances = new Float64Array(n * k);
  const order = new Array<number>(k);
  for (let i = 0; i < n; i++) {
    const base = i * k;
    for (let r = 0; r < k; r++) order[r] = r;
    order.sort((a, b) => heapD[base + a] - heapD[base + b] || heapI[base + a] - heapI[base + b]);
    for (let r = 0; r < k; r++) {
      indices[base + r] = heapI[base + order[r]];
      distances[base + r] = heapD[base + order[r]];
    }
  }
  return { indices, distances, k };
}
