/**
 * Barnes-Hut t-SNE gradient in 2-D: a quadtree held in flat typed arrays (rebuilt every
 * iteration, nodes reused between iterations) and an explicit-stack traversal per point.
 *
 * Hand-written for speed: there is no npm quadtree that avoids per-node objects, and the
 * repulsion pass is the inner loop of t-SNE (N · ~100 cell interactions per iteration).
 *
 * @module
 */
import type { CsrMatrix } from "./affinities.ts";
import { attractionAt, computeForces, STACK_SIZE } from "./kernel.ts";

/** Reusable Barnes-Hut workspace for one point count (avoids per-iteration allocation). */
export class BarnesHutTree {
  /** Number of nodes in use after the last {@link build}. */
  nodeCount = 0;
  private cap = 0;
  private cx = new Float64Array(0); // cell centre x
  private cy = new Float64Array(0); // cell centre y
  private hw = new Float64Array(0); // half width
  private comX = new Float64Array(0); // sum, then centre of mass
  private comY = new Float64Array(0);
  private mass = new Float64Array(0);
  private child = new Int32Array(0); // index of first of 4 children, -1 for a leaf
  private point = new Int32Array(0); // point held by a leaf, -1 when empty
  private w2 = new Float64Array(0); // (cell width)²
  private stack = new Int32Array(0);
  private seen = new Uint8Array(0);

  /** Grows every node array to hold at least `min` nodes (doubling). */
  private grow(min: number): void {
    let cap = Math.max(this.cap * 2, 1024);
    while (cap < min) cap *= 2;
    const f = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const g = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.cx = f(this.cx);
    this.cy = f(this.cy);
    this.hw = f(this.hw);
    this.comX = f(this.comX);
    this.comY = f(this.comY);
    this.mass = f(this.mass);
    this.w2 = f(this.w2);
    this.child = g(this.child);
    this.point = g(this.point);
    this.cap = cap;
  }

  /** Appends an empty leaf cell centred at (x, y) with half-width h; returns its index. */
  private newNode(x: number, y: number, h: number): number {
    if (this.nodeCount >= this.cap) this.grow(this.nodeCount + 1);
    const t = this.nodeCount++;
    this.cx[t] = x;
    this.cy[t] = y;
    this.hw[t] = h;
    this.comX[t] = 0;
    this.comY[t] = 0;
    this.mass[t] = 0;
    this.child[t] = -1;
    this.point[t] = -1;
    return t;
  }

  /**
   * Builds the quadtree of the 2-D points `y` (interleaved x0,y0,x1,y1,...).
   *
   * @param y positions, length 2n.
   * @param n number of points.
   */
  build(y: Float64Array, n: number): void {
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      const a = y[2 * i], b = y[2 * i + 1];
      if (a < minX) minX = a;
      if (a > maxX) maxX = a;
      if (b < minY) minY = b;
      if (b > maxY) maxY = b;
    }
    this.nodeCount = 0;
    if (this.cap < 2 * n + 16) this.grow(2 * n + 16);
    const h = Math.max(maxX - minX, maxY - minY) / 2 * (1 + 1e-5) + 1e-10;
    this.newNode((minX + maxX) / 2, (minY + maxY) / 2, h);
    for (let i = 0; i < n; i++) this.insert(i, y[2 * i], y[2 * i + 1], y);
    // Sums -> centres of mass, widths².
    for (let t = 0; t < this.nodeCount; t++) {
      const m = this.mass[t];
      if (m > 0) {
        this.comX[t] /= m;
        this.comY[t] /= m;
      }
      const w = 2 * this.hw[t];
      this.w2[t] = w * w;
    }
  }

  /** Inserts point i at (x, yv), splitting occupied leaves; duplicates share a leaf. */
  private insert(i: number, x: number, yv: number, y: Float64Array): void {
    let t = 0;
    for (let depth = 0;; depth++) {
      this.mass[t] += 1;
      this.comX[t] += x;
      this.comY[t] += yv;
      const c = this.child[t];
      if (c < 0) {
        const p = this.point[t];
        if (p < 0 && this.mass[t] === 1) {
          this.point[t] = i;
          return;
        }
        // Occupied leaf: duplicates (or too deep) stay together in this leaf.
        const px = y[2 * p], py = y[2 * p + 1];
        if ((px === x && py === yv) || depth > 60) return;
        // Split: move the old point(s) down into the right child.
        const h = this.hw[t] / 2;
        const first = this.nodeCount;
        const ccx = this.cx[t], ccy = this.cy[t];
        this.newNode(ccx - h, ccy - h, h);
        this.newNode(ccx + h, ccy - h, h);
        this.newNode(ccx - h, ccy + h, h);
        this.newNode(ccx + h, ccy + h, h);
        this.child[t] = first;
        this.point[t] = -1;
        const q = first + (px >= ccx ? 1 : 0) + (py >= ccy ? 2 : 0);
        const oldMass = this.mass[t] - 1;
        this.mass[q] = oldMass;
        this.comX[q] = px * oldMass;
        this.comY[q] = py * oldMass;
        this.point[q] = p;
      }
      const cc = this.child[t];
      t = cc + (x >= this.cx[t] ? 1 : 0) + (yv >= this.cy[t] ? 2 : 0);
    }
  }

  /**
   * Writes the points in depth-first leaf order into `order` (length n): consecutive points then
   * traverse nearly the same cells, which keeps them in cache (~20 % faster than input order).
   * Points sharing a leaf (exact duplicates) are appended at the end.
   */
  spatialOrder(n: number, order: Int32Array): void {
    const seen = this.seen.length === n ? this.seen : (this.seen = new Uint8Array(n));
    seen.fill(0);
    if (this.stack.length < STACK_SIZE) this.stack = new Int32Array(STACK_SIZE);
    const stack = this.stack;
    let sp = 0, m = 0;
    stack[sp++] = 0;
    while (sp > 0) {
      const t = stack[--sp];
      const c = this.child[t];
      if (c < 0) {
        const p = this.point[t];
        if (p >= 0 && !seen[p]) {
          seen[p] = 1;
          order[m++] = p;
        }
      } else {
        stack[sp++] = c + 3;
        stack[sp++] = c + 2;
        stack[sp++] = c + 1;
        stack[sp++] = c;
      }
    }
    for (let i = 0; i < n && m < n; i++) if (!seen[i]) order[m++] = i;
  }

  /**
   * Packs the nodes for {@link computeForces}: `nd[4t..4t+3]` = centre of mass x, y, mass,
   * width²/θ², and `child[t]`. The arrays must hold at least {@link nodeCount} nodes.
   */
  pack(theta: number, nd: Float64Array, child: Int32Array): void {
    const count = this.nodeCount;
    if (nd.length < 4 * count || child.length < count) {
      throw new Error(`BarnesHutTree.pack: arrays too small for ${count} nodes`);
    }
    const theta2 = theta * theta;
    for (let t = 0; t < count; t++) {
      nd[4 * t] = this.comX[t];
      nd[4 * t + 1] = this.comY[t];
      nd[4 * t + 2] = this.mass[t];
      nd[4 * t + 3] = this.w2[t] / theta2; // Infinity for θ = 0: always open (exact)
      child[t] = this.child[t];
    }
  }

  /**
   * Repulsive forces: for each point i, writes Σ_j q_ij² (y_i − y_j) (unnormalised) into `rep`
   * and returns Z = Σ_{i≠j} q_ij with q_ij = 1 / (1 + ‖y_i − y_j‖²), using cell summaries when
   * (cell width)² < θ² · distance². The tree must have been built from `y`.
   *
   * @param y positions (length 2n).
   * @param n number of points.
   * @param theta Barnes-Hut accuracy (0 = exact).
   * @param rep output, length 2n (overwritten).
   */
  repulsion(y: Float64Array, n: number, theta: number, rep: Float64Array): number {
    const nd = new Float64Array(4 * this.nodeCount);
    const child = new Int32Array(this.nodeCount);
    this.pack(theta, nd, child);
    const order = new Int32Array(n);
    this.spatialOrder(n, order);
    const z = new Float64Array(n);
    computeForces(
      {
        y,
        nd,
        child,
        order,
        rowPtr: new Int32Array(n + 1),
        colIdx: new Int32Array(0),
        values: new Float64Array(0),
        attr: new Float64Array(2 * n),
        rep,
        z,
        stack: new Int32Array(STACK_SIZE),
      },
      0,
      n,
    );
    let sumQ = 0;
    for (let i = 0; i < n; i++) sumQ += z[i];
    return sumQ;
  }
}

/**
 * Attractive forces Σ_j p_ij q_ij (y_i − y_j) over the sparse P, written into `attr`.
 *
 * @param y positions (length 2n).
 * @param P symmetric joint probabilities (CSR).
 * @param attr output, length 2n (overwritten).
 */
export function attraction(y: Float64Array, P: CsrMatrix, attr: Float64Array): void {
  for (let i = 0; i < P.rows; i++) attractionAt(i, y, P.rowPtr, P.colIdx, P.values, attr);
}

/**
 * KL(P‖Q) for the current embedding, with Q normalised by `sumQ` (e.g. the Barnes-Hut Z).
 *
 * @param y positions (length 2n).
 * @param P joint probabilities (unexaggerated).
 * @param sumQ normalisation Σ_{i≠j} 1/(1+d²).
 */
export function klDivergence(y: Float64Array, P: CsrMatrix, sumQ: number): number {
  const { rowPtr, colIdx, values, rows } = P;
  let kl = 0;
  for (let i = 0; i < rows; i++) {
    const xi = y[2 * i], yi = y[2 * i + 1];
    for (let t = rowPtr[i], e = rowPtr[i + 1]; t < e; t++) {
      const p = values[t];
      if (p <= 0) continue;
      const j = colIdx[t];
      const dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
      const q = 1 / (1 + dx * dx + dy * dy) / sumQ;
      kl += p * Math.log(Math.max(p, 1e-300) / Math.max(q, 1e-300));
    }
  }
  return kl;
}
