/**
 * Synthetic Gaussian-cluster data (for the t-SNE benchmark, tests and demos).
 *
 * @module
 */
import type { Matrix } from "./matrix.ts";
import { createRng } from "../random.ts";

/** Points with their class labels. */
export interface LabelledPoints {
  /** Points, rows × features. */
  x: Matrix;
  /** Class of each row, 0..classes-1. */
  labels: Int32Array;
}

/**
 * `n` points in `d` dimensions from `classes` isotropic unit-variance Gaussians whose centres
 * are drawn from N(0, separation²·I); labels are assigned round-robin (balanced classes).
 *
 * @param n number of points.
 * @param d dimensionality.
 * @param classes number of clusters (default 7).
 * @param separation standard deviation of the cluster centres (default 1).
 * @param seed random seed (default 0).
 */
export function gaussianClusters(
  n: number,
  d: number,
  classes = 7,
  separation = 1,
  seed = 0,
): LabelledPoints {
  if (!Number.isInteger(n) || n < 1) throw new Error(`gaussianClusters: bad n ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new Error(`gaussianClusters: bad d ${d}`);
  if (!Number.isInteger(classes) || classes < 1) {
    throw new Error(`gaussianClusters: bad classes ${classes}`);
  }
  const rng = createRng(seed);
  const centres = new Float64Array(classes * d);
  for (let t = 0; t < centres.length; t++) centres[t] = separation * rng.normal();
  const data = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let j = 0; j < d; j++) data[i * d + j] = centres[c * d + j] + rng.normal();
  }
  return { x: { data, rows: n, cols: d }, labels };
}
