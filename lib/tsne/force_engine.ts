/**
 * Computes t-SNE forces for one iteration, single-threaded or with worker threads sharing
 * memory (Deno/Web Workers + SharedArrayBuffer + Atomics). Hand-written because the repulsion
 * pass dominates t-SNE time and splits cleanly by point; results do not depend on the number of
 * threads (each point's forces are computed by the same kernel; Z is summed in point order).
 *
 * @module
 */
import type { CsrMatrix } from "./affinities.ts";
import type { BarnesHutTree } from "./barnes_hut.ts";
import { computeForces, type ForceBuffers, STACK_SIZE } from "./kernel.ts";
import { CTRL, type SharedForceBuffers } from "./pool_protocol.ts";

/** Forces of one iteration (views owned by the engine; valid until the next call). */
export interface Forces {
  /** Σ_j p_ij q_ij (y_i − y_j). */
  attr: Float64Array;
  /** Σ_j q_ij² (y_i − y_j), unnormalised. */
  rep: Float64Array;
  /** Z = Σ_{i≠j} q_ij. */
  sumQ: number;
}

const CHUNK = 64;

/** Force computation with optional worker threads; call {@link ForceEngine.close} when done. */
export class ForceEngine {
  /** Threads in use (1 = no workers). */
  readonly threads: number;
  private local: ForceBuffers;
  private shared: ForceBuffers | undefined;
  private ctrl: Int32Array | undefined;
  private workers: Worker[] = [];
  private capacity = 0;

  /**
   * Prepares buffers and, for `threads` > 1, starts the worker threads.
   *
   * @param P joint probabilities.
   * @param threads total threads including the caller (workers = threads − 1); falls back to 1
   *   when workers cannot start within 10 s.
   */
  constructor(P: CsrMatrix, threads = 1) {
    const n = P.rows;
    this.local = {
      y: new Float64Array(2 * n),
      nd: new Float64Array(0),
      child: new Int32Array(0),
      order: new Int32Array(n),
      rowPtr: P.rowPtr,
      colIdx: P.colIdx,
      values: P.values,
      attr: new Float64Array(2 * n),
      rep: new Float64Array(2 * n),
      z: new Float64Array(n),
      stack: new Int32Array(STACK_SIZE),
    };
    this.threads = threads > 1 ? this.startWorkers(P, threads - 1) + 1 : 1;
  }

  /** Starts `count` workers on shared buffers; returns how many run (0 on failure). */
  private startWorkers(P: CsrMatrix, count: number): number {
    const n = P.rows;
    if (typeof Worker === "undefined" || typeof SharedArrayBuffer === "undefined") return 0;
    this.capacity = 8 * n + 4096;
    const sab = (bytes: number) => new SharedArrayBuffer(Math.max(bytes, 8));
    const raw: SharedForceBuffers = {
      ctrl: sab(4 * CTRL.LENGTH),
      y: sab(16 * n),
      nd: sab(32 * this.capacity),
      child: sab(4 * this.capacity),
      order: sab(4 * n),
      rowPtr: sab(4 * (n + 1)),
      colIdx: sab(4 * P.colIdx.length),
      values: sab(8 * P.values.length),
      attr: sab(16 * n),
      rep: sab(16 * n),
      z: sab(8 * n),
    };
    const b: ForceBuffers = {
      y: new Float64Array(raw.y, 0, 2 * n),
      nd: new Float64Array(raw.nd, 0, 4 * this.capacity),
      child: new Int32Array(raw.child, 0, this.capacity),
      order: new Int32Array(raw.order, 0, n),
      rowPtr: new Int32Array(raw.rowPtr, 0, n + 1),
      colIdx: new Int32Array(raw.colIdx, 0, P.colIdx.length),
      values: new Float64Array(raw.values, 0, P.values.length),
      attr: new Float64Array(raw.attr, 0, 2 * n),
      rep: new Float64Array(raw.rep, 0, 2 * n),
      z: new Float64Array(raw.z, 0, n),
      stack: new Int32Array(STACK_SIZE),
    };
    b.rowPtr.set(P.rowPtr);
    b.colIdx.set(P.colIdx);
    b.values.set(P.values);
    const ctrl = new Int32Array(raw.ctrl);
    ctrl[CTRL.CHUNK] = CHUNK;
    try {
      for (let w = 0; w < count; w++) {
        const worker = new Worker(new URL("./force_worker.ts", import.meta.url), {
          type: "module",
        });
        this.workers.push(worker);
        worker.postMessage(raw);
      }
      // Wait (synchronously) until every worker has started.
      const deadline = performance.now() + 10_000;
      for (;;) {
        const ready = Atomics.load(ctrl, CTRL.READY);
        if (ready >= count) break;
        const left = deadline - performance.now();
        if (left <= 0) throw new Error("t-SNE worker threads did not start within 10 s");
        Atomics.wait(ctrl, CTRL.READY, ready, Math.min(left, 100));
      }
    } catch {
      this.terminate();
      return 0;
    }
    this.ctrl = ctrl;
    this.shared = b;
    return count;
  }

  /**
   * Forces for positions `y` with `tree` built from them.
   *
   * @param y positions (length 2n).
   * @param tree quadtree of `y`.
   * @param theta Barnes-Hut angle.
   */
  compute(y: Float64Array, tree: BarnesHutTree, theta: number): Forces {
    const n = this.local.order.length;
    const useShared = this.shared !== undefined && tree.nodeCount <= this.capacity;
    const b = useShared ? this.shared! : this.local;
    if (!useShared && b.child.length < tree.nodeCount) {
      const cap = Math.ceil(tree.nodeCount * 1.5);
      b.nd = new Float64Array(4 * cap);
      b.child = new Int32Array(cap);
    }
    b.y.set(y);
    tree.pack(theta, b.nd, b.child);
    tree.spatialOrder(n, b.order);
    if (useShared) this.runParallel(b, n);
    else computeForces(b, 0, n);
    let sumQ = 0;
    const z = b.z;
    for (let i = 0; i < n; i++) sumQ += z[i];
    return { attr: b.attr, rep: b.rep, sumQ };
  }

  /** One iteration over the shared buffers: wake the workers, help, wait for them. */
  private runParallel(b: ForceBuffers, n: number): void {
    const ctrl = this.ctrl!;
    const workers = this.workers.length;
    Atomics.store(ctrl, CTRL.N, n);
    Atomics.store(ctrl, CTRL.NEXT, 0);
    Atomics.store(ctrl, CTRL.DONE, 0);
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);
    for (;;) {
      const s = Atomics.add(ctrl, CTRL.NEXT, CHUNK);
      if (s >= n) break;
      computeForces(b, s, Math.min(s + CHUNK, n));
    }
    const deadline = performance.now() + 60_000;
    for (;;) {
      const done = Atomics.load(ctrl, CTRL.DONE);
      if (done >= workers) break;
      if (performance.now() > deadline) {
        this.close();
        throw new Error("t-SNE worker threads stopped responding (60 s)");
      }
      Atomics.wait(ctrl, CTRL.DONE, done, 1000);
    }
  }

  /** Terminates the workers and drops the shared buffers. */
  private terminate(): void {
    for (const w of this.workers) w.terminate();
    this.workers = [];
    this.shared = undefined;
    this.ctrl = undefined;
  }

  /** Stops the worker threads (idempotent). */
  close(): void {
    if (this.ctrl) {
      Atomics.store(this.ctrl, CTRL.STOP, 1);
      Atomics.add(this.ctrl, CTRL.GEN, 1);
      Atomics.notify(this.ctrl, CTRL.GEN);
    }
    this.terminate();
  }
}
