/**
 * Principal component analysis for quick looks and for t-SNE initialisation.
 *
 * The covariance matrix (D × D) is formed once, then its leading eigenvectors are found by
 * subspace iteration with a Rayleigh-Ritz step (Jacobi on the small projected matrix); signs are
 * fixed so that the largest-magnitude loading of each component is positive.
 *
 * @module
 */
import { type MatrixLike, toMatrix } from "./matrix.ts";
import { createRng } from "../random.ts";

/** Result of {@link pca}. */
export interface PcaResult {
  /** Projected points, row-major `rows × components`. */
  projection: Float64Array;
  /** Principal axes, row-major `components × cols` (unit length, orthogonal). */
  components: Float64Array;
  /** Variance along each axis (eigenvalues of the covariance, divisor rows − 1). */
  explainedVariance: Float64Array;
  /** Column means subtracted before projecting. */
  mean: Float64Array;
  /** Number of components. */
  nComponents: number;
}

/** Eigen-decomposition of a small symmetric matrix (cyclic Jacobi); values descending. */
export function symmetricEigen(
  a: Float64Array,
  m: number,
): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(a);
  const V = new Float64Array(m * m);
  for (let i = 0; i < m; i++) V[i * m + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) off += A[p * m + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = A[p * m + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q * m + q] - A[p * m + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < m; k++) {
          const akp = A[k * m + p], akq = A[k * m + q];
          A[k * m + p] = c * akp - s * akq;
          A[k * m + q] = s * akp + c * akq;
        }
        for (let k = 0; k < m; k++) {
          const apk = A[p * m + k], aqk = A[q * m + k];
          A[p * m + k] = c * apk - s * aqk;
          A[q * m + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < m; k++) {
          const vkp = V[k * m + p], vkq = V[k * m + q];
          V[k * m + p] = c * vkp - s * vkq;
          V[k * m + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => A[j * m + j] - A[i * m + i]);
  const values = new Float64Array(m);
  const vectors = new Float64Array(m * m); // column r = eigenvector r
  order.forEach((src, r) => {
    values[r] = A[src * m + src];
    for (let k = 0; k < m; k++) vectors[k * m + r] = V[k * m + src];
  });
  return { values, vectors };
}

/**
 * Projects points onto their leading principal components.
 *
 * @param x points (rows × features).
 * @param nComponents number of components (default 2, at most the feature count).
 * @param seed seed of the random start of the subspace iteration (result does not depend on it
 *   beyond sign-fixed round-off).
 */
export function pca(x: MatrixLike, nComponents = 2, seed = 0): PcaResult {
  const X = toMatrix(x, "pca");
  const n = X.rows, d = X.cols;
  if (n < 2) throw new Error(`pca: need at least 2 rows, got ${n}`);
  if (!Number.isInteger(nComponents) || nComponents < 1 || nComponents > d) {
    throw new Error(`pca: nComponents must be in [1, ${d}], got ${nComponents}`);
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) mean[c] += X.data[i * d + c];
  for (let c = 0; c < d; c++) mean[c] /= n;
  // Covariance (upper triangle accumulated row by row, then mirrored).
  const C = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) row[c] = X.data[i * d + c] - mean[c];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      const o = a * d;
      for (let b = a; b < d; b++) C[o + b] += ra * row[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      C[a * d + b] /= n - 1;
      C[b * d + a] = C[a * d + b];
    }
  }
  let vecs: Float64Array, vals: Float64Array;
  if (d <= 64) {
    const e = symmetricEigen(C, d);
    vecs = e.vectors;
    vals = e.values;
    // Keep the leading columns.
    const k = nComponents;
    const V = new Float64Array(d * k);
    for (let a = 0; a < d; a++) for (let r = 0; r < k; r++) V[a * k + r] = vecs[a * d + r];
    vecs = V;
    vals = vals.slice(0, k);
  } else {
    ({ vecs, vals } = subspaceIteration(C, d, nComponents, seed));
  }
  const k = nComponents;
  const components = new Float64Array(k * d);
  for (let r = 0; r < k; r++) {
    let best = 0;
    for (let a = 0; a < d; a++) {
      if (Math.abs(vecs[a * k + r]) > Math.abs(best)) best = vecs[a * k + r];
    }
    const s = best < 0 ? -1 : 1;
    for (let a = 0; a < d; a++) components[r * d + a] = s * vecs[a * k + r];
  }
  const projection = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) row[c] = X.data[i * d + c] - mean[c];
    for (let r = 0; r < k; r++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += row[c] * components[r * d + c];
      projection[i * k + r] = s;
    }
  }
  return { projection, components, explainedVariance: vals, mean, nComponents: k };
}

/** Z = C·Q (into `Z`, d × q) and the Rayleigh-Ritz matrix T = Qᵀ·Z (q × q), returned. */
function rayleighRitz(
  C: Float64Array,
  Q: Float64Array,
  Z: Float64Array,
  d: number,
  q: number,
): Float64Array {
  Z.fill(0);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      const cab = C[a * d + b];
      if (cab === 0) continue;
      for (let r = 0; r < q; r++) Z[a * q + r] += cab * Q[b * q + r];
    }
  }
  const T = new Float64Array(q * q);
  for (let r = 0; r < q; r++) {
    for (let s = 0; s < q; s++) {
      let v = 0;
      for (let a = 0; a < d; a++) v += Q[a * q + r] * Z[a * q + s];
      T[r * q + s] = v;
    }
  }
  return T;
}

function subspaceIteration(
  C: Float64Array,
  d: number,
  k: number,
  seed: number,
): { vecs: Float64Array; vals: Float64Array } {
  const q = Math.min(d, k + 8);
  const rng = createRng(seed);
  let Q = new Float64Array(d * q);
  for (let t = 0; t < Q.length; t++) Q[t] = rng.normal();
  orthonormalize(Q, d, q);
  const Z = new Float64Array(d * q);
  let prev = new Float64Array(k);
  let ritz: { values: Float64Array; vectors: Float64Array } = {
    values: new Float64Array(q),
    vectors: new Float64Array(q * q),
  };
  for (let it = 0; it < 500; it++) {
    ritz = symmetricEigen(rayleighRitz(C, Q, Z, d, q), q);
    const done = it > 3 &&
      Array.from({ length: k }, (_, r) => Math.abs(ritz.values[r] - prev[r])).every((diff, r) =>
        diff <= 1e-12 * Math.max(1e-300, Math.abs(ritz.values[r]))
      );
    prev = ritz.values.slice(0, k);
    Q = Z.slice();
    orthonormalize(Q, d, q);
    if (done) break;
  }
  // Final Ritz vectors from the last orthonormal basis.
  ritz = symmetricEigen(rayleighRitz(C, Q, Z, d, q), q);
  const vecs = new Float64Array(d * k);
  for (let a = 0; a < d; a++) {
    for (let r = 0; r < k; r++) {
      let v = 0;
      for (let s = 0; s < q; s++) v += Q[a * q + s] * ritz.vectors[s * q + r];
      vecs[a * k + r] = v;
    }
  }
  return { vecs, vals: ritz.values.slice(0, k) };
}

/** Modified Gram-Schmidt on the q columns of a row-major d × q matrix. */
function orthonormalize(Q: Float64Array, d: number, q: number): void {
  for (let r = 0; r < q; r++) {
    for (let s = 0; s < r; s++) {
      let dot = 0;
      for (let a = 0; a < d; a++) dot += Q[a * q + r] * Q[a * q + s];
      for (let a = 0; a < d; a++) Q[a * q + r] -= dot * Q[a * q + s];
    }
    let norm = 0;
    for (let a = 0; a < d; a++) norm += Q[a * q + r] ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let a = 0; a < d; a++) Q[a * q + r] /= norm;
  }
}
