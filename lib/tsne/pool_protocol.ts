/**
 * Shared-memory protocol between {@link ForceEngine} and its worker threads.
 *
 * @module
 */

/** Slots of the shared Int32 control array. */
export const CTRL = {
  /** Iteration generation; bumped (and notified) to start an iteration. */
  GEN: 0,
  /** Workers that finished the current iteration. */
  DONE: 1,
  /** Next unclaimed position in the spatial order (atomic work counter). */
  NEXT: 2,
  /** Number of points this iteration. */
  N: 3,
  /** Points per claimed chunk. */
  CHUNK: 4,
  /** Workers that have started. */
  READY: 5,
  /** Non-zero: workers exit at the next generation. */
  STOP: 6,
  /** Length of the control array. */
  LENGTH: 8,
} as const;

/** The shared buffers posted to each worker once at start-up. */
export interface SharedForceBuffers {
  /** Control array (Int32, {@link CTRL} slots). */
  ctrl: SharedArrayBuffer;
  /** Positions (Float64, 2n). */
  y: SharedArrayBuffer;
  /** Packed nodes (Float64, 4·capacity). */
  nd: SharedArrayBuffer;
  /** Children (Int32, capacity). */
  child: SharedArrayBuffer;
  /** Spatial order (Int32, n). */
  order: SharedArrayBuffer;
  /** CSR row offsets (Int32, n + 1). */
  rowPtr: SharedArrayBuffer;
  /** CSR columns (Int32, nnz). */
  colIdx: SharedArrayBuffer;
  /** CSR values (Float64, nnz). */
  values: SharedArrayBuffer;
  /** Attraction output (Float64, 2n). */
  attr: SharedArrayBuffer;
  /** Repulsion output (Float64, 2n). */
  rep: SharedArrayBuffer;
  /** Per-point Z (Float64, n). */
  z: SharedArrayBuffer;
}
