/**
 * The per-point t-SNE force kernel shared by the single-threaded path and the worker threads:
 * attraction over the sparse P plus Barnes-Hut repulsion over a packed quadtree, for a range of
 * points in spatial order. Works on plain or shared typed arrays; each point's result depends
 * only on the inputs, so the output is identical whichever thread computes it.
 *
 * @module
 */

/** Arrays read and written by {@link computeForces}. */
export interface ForceBuffers {
  /** Positions, interleaved x,y (length 2n). */
  y: Float64Array;
  /** Packed quadtree nodes: [comX, comY, mass, width²/θ²] per node. */
  nd: Float64Array;
  /** First child of each node (4 consecutive), −1 for a leaf. */
  child: Int32Array;
  /** Points in spatial (tree) order. */
  order: Int32Array;
  /** CSR row offsets of P. */
  rowPtr: Int32Array;
  /** CSR column indices of P. */
  colIdx: Int32Array;
  /** CSR values of P. */
  values: Float64Array;
  /** Output: Σ_j p_ij q_ij (y_i − y_j) (length 2n). */
  attr: Float64Array;
  /** Output: Σ_j q_ij² (y_i − y_j), unnormalised (length 2n). */
  rep: Float64Array;
  /** Output: Σ_{j≠i} q_ij per point (length n); Z is their sum. */
  z: Float64Array;
  /** Scratch stack (length ≥ 4·64 + 8). */
  stack: Int32Array;
}

/** Stack length needed for trees of depth ≤ 62. */
export const STACK_SIZE = 4 * 64 + 8;

/**
 * Attractive force on point i, Σ_j p_ij (y_i − y_j) / (1 + ‖y_i − y_j‖²) over row i of the
 * sparse P (CSR `rowPtr`/`colIdx`/`values`), written into `attr[2i..2i+1]`.
 */
export function attractionAt(
  i: number,
  y: Float64Array,
  rowPtr: Int32Array,
  colIdx: Int32Array,
  values: Float64Array,
  attr: Float64Array,
): void {
  const xi = y[2 * i], yi = y[2 * i + 1];
  let ax = 0, ay = 0;
  for (let t = rowPtr[i], e = rowPtr[i + 1]; t < e; t++) {
    const j = colIdx[t];
    const dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
    const f = values[t] / (1 + dx * dx + dy * dy);
    ax += f * dx;
    ay += f * dy;
  }
  attr[2 * i] = ax;
  attr[2 * i + 1] = ay;
}

/**
 * Computes attraction, repulsion and per-point Z for the points `order[from..to)`.
 * A cell is summarised when width² < θ²·d² (stored as nd[4t+3] = width²/θ²); empty children are
 * skipped; a leaf at distance 0 is the point's own leaf (its duplicates add q = 1, no force).
 */
export function computeForces(b: ForceBuffers, from: number, to: number): void {
  const { y, nd, child, order, rowPtr, colIdx, values, attr, rep, z, stack } = b;
  for (let k = from; k < to; k++) {
    const i = order[k];
    const xi = y[2 * i], yi = y[2 * i + 1];
    attractionAt(i, y, rowPtr, colIdx, values, attr);
    // Repulsion.
    let fx = 0, fy = 0, zi = 0;
    let sp = 0;
    stack[sp++] = 0;
    while (sp > 0) {
      const t = stack[--sp];
      const o = 4 * t;
      const dx = xi - nd[o], dy = yi - nd[o + 1];
      const d2 = dx * dx + dy * dy;
      const c = child[t];
      if (c < 0) {
        if (d2 === 0) {
          zi += nd[o + 2] - 1;
          continue;
        }
      } else if (nd[o + 3] >= d2) {
        if (nd[4 * c + 2] > 0) stack[sp++] = c;
        if (nd[4 * c + 6] > 0) stack[sp++] = c + 1;
        if (nd[4 * c + 10] > 0) stack[sp++] = c + 2;
        if (nd[4 * c + 14] > 0) stack[sp++] = c + 3;
        continue;
      }
      const q = 1 / (1 + d2);
      const mq = nd[o + 2] * q;
      zi += mq;
      const f = mq * q;
      fx += f * dx;
      fy += f * dy;
    }
    rep[2 * i] = fx;
    rep[2 * i + 1] = fy;
    z[i] = zi;
  }
}
