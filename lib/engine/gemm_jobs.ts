/**
 * The two jobs the engine's GEMM tiles ({@link ./gemm_wat.ts}) run, written as loops over tiles
 * that split between threads without sharing any output: the main thread and each worker call
 * {@link runJob} with the same parameters and their own thread index.
 *
 * Every address is a byte offset into the wasm heap; every tensor is float32, NHWC, contiguous.
 *
 * @module
 */
import {
  type AdamFn,
  type ChanAffineFn,
  type ChanSumFn,
  type CopyFn,
  type GatherTileFn,
  MAX_TILE_ROWS,
  type Pack8Fn,
  type TileFn,
  type TransposeFn,
  type ZeroFn,
} from "./gemm_wat.ts";

/** Job kind: gradient of a convolution with respect to its filter. */
export const JOB_GRAD_FILTER = 1;
/** Job kind: a stride-1-in-the-reduction correlation (used for grad-input's polyphase parts). */
export const JOB_CORRELATE = 2;
/** Job kind: filter taps transposed [Ci,Co] → [Co,Ci] into a new order (grad-input's filters). */
export const JOB_REORDER = 3;
/** Job kind: zero a byte range. */
export const JOB_ZERO = 4;
/** Job kind: zero-pad the rows and columns of an NHWC tensor into a new buffer. */
export const JOB_PAD = 5;
/** Job kind: pack a [R, C] matrix into panels of 8 columns ([C/8, R, 8]). */
export const JOB_PACK = 6;
/** Job kind: one Adam update of a parameter (see the `adam` kernel of gemm_wat.ts). */
export const JOB_ADAM = 7;
/** Job kind: per-channel sums of batch-norm (see `csum0` … `csum2` of gemm_wat.ts). */
export const JOB_CHAN_SUM = 8;
/** Job kind: per-channel affine map out = (x − U)·A + K + y·B (see `caffine` of gemm_wat.ts). */
export const JOB_CHAN_AFFINE = 9;
/** Channels one per-channel-sum call covers (one 64-byte line of a row). */
export const CHAN_GROUP = 16;
/**
 * The pool's control words (a shared Int32Array of this length): [0] job sequence number,
 * [1 + i] last job done by thread i, [ERROR_BASE + i] whether thread i's share failed.
 */
export const CONTROL_WORDS = 32;
/** First error flag among the control words (so at most 15 worker threads). */
export const ERROR_BASE = 16;
/**
 * Polls of a control word before a thread sleeps on it (~20-50 µs): jobs come in bursts (a
 * layer's 2-3 jobs, then the next layer's), and waking a sleeping thread costs 5-50 µs.
 */
export const SPIN = 20000;
/** Length of the Int32Array that carries one job's parameters. */
export const JOB_WORDS = 24;
/** Output columns of one tile (two SIMD vectors). */
export const TILE_COLS = 8;

/** Offset parameters of the largest gather tile (A and C offsets of rows 1-5). */
const OFFSET_ARGS = 2 * (MAX_TILE_ROWS - 1);

/** Floats of dy one grad-filter block may hold: it and its rows of x stay in a core's L2. */
const BLOCK_FLOATS = 1 << 16;

/** Tile functions indexed by their row count (index 0 unused). */
export type Tiles = (TileFn | undefined)[];

/** The functions exported by an instance of the GEMM module. */
export interface Kernels {
  /** Tiles indexed by their row count. */
  tiles: Tiles;
  /** Gather tiles indexed by their row count (index 0 unused). */
  gtiles: (GatherTileFn | undefined)[];
  transpose: TransposeFn;
  zero: ZeroFn;
  copy: CopyFn;
  pack8: Pack8Fn;
  adam: AdamFn;
  /** Per-channel sums, indexed by mode (0: Σx, 1: Σ(x−mean)², 2: Σy and Σy·x). */
  csum: ChanSumFn[];
  caffine: ChanAffineFn;
}

/** The functions of an instance of the GEMM module. */
export function kernelsOf(exports: WebAssembly.Exports): Kernels {
  const tiles: Tiles = [undefined];
  for (let mr = 1; mr <= MAX_TILE_ROWS; mr++) tiles.push(exports[`tile${mr}`] as TileFn);
  const gtiles: (GatherTileFn | undefined)[] = [undefined];
  for (let mr = 1; mr <= MAX_TILE_ROWS; mr++) gtiles.push(exports[`gtile${mr}`] as GatherTileFn);
  return {
    tiles,
    gtiles,
    transpose: exports.transpose as TransposeFn,
    zero: exports.zero as ZeroFn,
    copy: exports.copy as CopyFn,
    pack8: exports.pack8 as Pack8Fn,
    adam: exports.adam as AdamFn,
    csum: [0, 1, 2].map((m) => exports[`csum${m}`] as ChanSumFn),
    caffine: exports.caffine as ChanAffineFn,
  };
}

/** Most taps one reorder job carries (the rest of its words). */
export const MAX_REORDER_TAPS = JOB_WORDS - 8;

/**
 * Parameters of a reorder job: the [Ci,Co] blocks of taps `taps[t]` of the filter at `src`
 * ([k·k,Ci,Co]), transposed and packed as panels of 8 input channels: the float for (tap t,
 * output channel o, input channel i) goes to dst + ((⌊i/8⌋·total + first + t)·Co + o)·8 + i mod 8,
 * so that one column tile of grad-input reads one contiguous slab. `first` is the index of
 * taps[0] among the `total` taps of the buffer. Ci must be a multiple of 8, Co of 4.
 */
export interface ReorderJob {
  src: number;
  dst: number;
  ci: number;
  co: number;
  first: number;
  total: number;
  taps: number[];
}

/** Parameters of a zero job: `bytes` (a multiple of 4) zero bytes at `ptr`. */
export interface ZeroJob {
  ptr: number;
  bytes: number;
}

/** Range [lo, hi) of `total` items that thread `t` of `threads` takes. */
function share(total: number, t: number, threads: number): [number, number] {
  return [Math.floor((t * total) / threads), Math.floor(((t + 1) * total) / threads)];
}

/**
 * Parameters of a grad-filter job: dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, s·oh+kh, s·ow+kw, ci] ·
 * dy[n,oh,ow,co], with x already zero-padded ([N,Hp,Wp,Ci]), dy [N,Ho,Wo,Co], dW [k,k,Ci,Co]
 * written whole (not accumulated). Co must be a multiple of {@link TILE_COLS}.
 */
export interface GradFilterJob {
  x: number;
  dy: number;
  out: number;
  n: number;
  hp: number;
  wp: number;
  ci: number;
  ho: number;
  wo: number;
  co: number;
  k: number;
  stride: number;
}

/**
 * Parameters of a correlation job: for every image `img` < nImg, output row `row` < outRows and
 * column `col` < outCols, the Cout floats at c + img·cImg + row·cRow + col·cCol are set to
 * Σ_{o<nO} Σ_{q<nQ} A[a + img·aImg + row·aRow + col·aCol + o·aO + 4q] · B[b + o·bO + q·bQ],
 * where the 8 output channels of column tile `tc` read B from b + tc·bTile (bTile = 32 for a
 * row-major B; packed panels put each tile's slab in one contiguous run).
 * Cout must be a multiple of {@link TILE_COLS}.
 */
export interface CorrelateJob {
  a: number;
  aImg: number;
  aRow: number;
  aCol: number;
  aO: number;
  b: number;
  bO: number;
  bQ: number;
  bTile: number;
  nO: number;
  nQ: number;
  c: number;
  cImg: number;
  cRow: number;
  cCol: number;
  nImg: number;
  outRows: number;
  outCols: number;
  cout: number;
}

/**
 * Parameters of a pad job: src [n,h,w,c] copied into dst [n, h+2·pad, w+2·pad, c] with zero
 * borders.
 */
export interface PadJob {
  src: number;
  dst: number;
  n: number;
  h: number;
  w: number;
  c: number;
  pad: number;
}

/** Parameters of a pack job: src [rows, cols] (cols a multiple of 8) → dst [cols/8, rows, 8]. */
export interface PackJob {
  src: number;
  dst: number;
  rows: number;
  cols: number;
}

/**
 * Parameters of an Adam job: byte addresses of p, g, m, v and of the three outputs, the float
 * count, and the float32 constants (see `AdamFn`).
 */
export interface AdamJob {
  p: number;
  g: number;
  m: number;
  v: number;
  po: number;
  mo: number;
  vo: number;
  n: number;
  hasWd: boolean;
  b1: number;
  omb1: number;
  b2: number;
  omb2: number;
  eps: number;
  wd: number;
  bc2: number;
  step: number;
}

/**
 * Parameters of a per-channel sum job over x [rows, C] (C a multiple of 16): mode 0 out = Σ x,
 * mode 1 out = Σ (x − mean)², mode 2 out = Σ y and out2 = Σ y·x (y like x). Outputs [C].
 */
export interface ChanSumJob {
  mode: 0 | 1 | 2;
  x: number;
  y: number;
  rows: number;
  c: number;
  mean: number;
  out: number;
  out2: number;
}

/** Parameters of a per-channel affine job: out = (x − U)·A + K + y·B over [rows, C] (C % 4 = 0). */
export interface ChanAffineJob {
  x: number;
  y: number;
  out: number;
  rows: number;
  c: number;
  u: number;
  a: number;
  b: number;
  k: number;
  useY: boolean;
}

/** Any job. */
export type Job =
  | GradFilterJob
  | CorrelateJob
  | ReorderJob
  | ZeroJob
  | PadJob
  | PackJob
  | AdamJob
  | ChanSumJob
  | ChanAffineJob;

/**
 * Word order of every job whose parameters are integers (booleans as 0/1): the one place that
 * defines it, for both {@link encodeJob} and {@link runJob}. Reorder jobs add their tap list and
 * Adam jobs their float constants after these words.
 */
const FIELDS: Record<number, readonly string[]> = {
  [JOB_GRAD_FILTER]: ["x", "dy", "out", "n", "hp", "wp", "ci", "ho", "wo", "co", "k", "stride"],
  [JOB_CORRELATE]: [
    "a",
    "aImg",
    "aRow",
    "aCol",
    "aO",
    "b",
    "bO",
    "bQ",
    "bTile",
    "nO",
    "nQ",
    "c",
    "cImg",
    "cRow",
    "cCol",
    "nImg",
    "outRows",
    "outCols",
    "cout",
  ],
  [JOB_REORDER]: ["src", "dst", "ci", "co", "first", "total"],
  [JOB_ZERO]: ["ptr", "bytes"],
  [JOB_PAD]: ["src", "dst", "n", "h", "w", "c", "pad"],
  [JOB_PACK]: ["src", "dst", "rows", "cols"],
  [JOB_ADAM]: ["p", "g", "m", "v", "po", "mo", "vo", "n", "hasWd"],
  [JOB_CHAN_SUM]: ["mode", "x", "y", "rows", "c", "mean", "out", "out2"],
  [JOB_CHAN_AFFINE]: ["x", "y", "out", "rows", "c", "u", "a", "b", "k", "useY"],
};

/** Adam's float32 constants, in word order after its integer fields. */
const ADAM_CONSTANTS = ["b1", "omb1", "b2", "omb2", "eps", "wd", "bc2", "step"] as const;

/** Write a job into `words` (kind first, then its fields in the order of `FIELDS`). */
export function encodeJob(words: Int32Array, kind: number, job: Job): void {
  const fields = FIELDS[kind];
  if (!fields) throw new Error(`gemm: unknown job kind ${kind}`);
  const rec = job as unknown as Record<string, number | boolean>;
  words[0] = kind;
  fields.forEach((key, i) => (words[i + 1] = Number(rec[key])));
  const end = fields.length + 1;
  if (kind === JOB_REORDER) {
    const { taps } = job as ReorderJob;
    if (taps.length > MAX_REORDER_TAPS) {
      throw new Error(`gemm: a reorder job takes at most ${MAX_REORDER_TAPS} taps`);
    }
    words[end] = taps.length;
    words.set(taps, end + 1);
  } else if (kind === JOB_ADAM) {
    const a = job as AdamJob;
    floatView(words, end).set(ADAM_CONSTANTS.map((key) => a[key]));
  }
}

/** The float32 words of an Adam job, starting at word `start`. */
function floatView(words: Int32Array, start: number): Float32Array {
  return new Float32Array(words.buffer, words.byteOffset + start * 4, ADAM_CONSTANTS.length);
}

/** The integer fields of the job in `words`, by name. */
function decode<T>(words: Int32Array): T {
  const out: Record<string, number> = {};
  FIELDS[words[0]].forEach((key, i) => (out[key] = words[i + 1]));
  return out as T;
}

/** Run thread `t`'s share (of `threads`) of the job encoded in `words`. */
export function runJob(k: Kernels, words: Int32Array, t: number, threads: number): void {
  const kind = words[0];
  if (!FIELDS[kind]) throw new Error(`gemm: unknown job kind ${kind}`);
  const end = FIELDS[kind].length + 1;
  switch (kind) {
    case JOB_GRAD_FILTER:
      return gradFilterPart(k.tiles, decode<GradFilterJob>(words), t, threads);
    case JOB_CORRELATE:
      return correlatePart(k, decode<CorrelateJob>(words), t, threads);
    case JOB_REORDER: {
      const taps = Array.from(words.subarray(end + 1, end + 1 + words[end]));
      return reorderPart(k, { ...decode<ReorderJob>(words), taps }, t, threads);
    }
    case JOB_ZERO:
      return zeroPart(k, decode<ZeroJob>(words), t, threads);
    case JOB_PAD:
      return padPart(k, decode<PadJob>(words), t, threads);
    case JOB_PACK:
      return packPart(k, decode<PackJob>(words), t, threads);
    case JOB_ADAM: {
      const f = floatView(words, end);
      const constants = Object.fromEntries(ADAM_CONSTANTS.map((key, i) => [key, f[i]]));
      return adamPart(k, { ...decode<AdamJob>(words), ...constants }, t, threads);
    }
    case JOB_CHAN_SUM:
      return chanSumPart(k, decode<ChanSumJob>(words), t, threads);
    case JOB_CHAN_AFFINE:
      return chanAffinePart(k, decode<ChanAffineJob>(words), t, threads);
  }
}

/** Thread t's share of a zero job, split on 64-byte boundaries (no shared cache line). */
function zeroPart(k: Kernels, j: ZeroJob, t: number, threads: number): void {
  const [l0, l1] = share(Math.ceil(j.bytes / 64), t, threads);
  const end = Math.min(j.bytes, l1 * 64);
  if (end > l0 * 64) k.zero(j.ptr + l0 * 64, end - l0 * 64);
}

/** Thread t's share of a pack job: the panels of 8 columns split between threads. */
function packPart(k: Kernels, j: PackJob, t: number, threads: number): void {
  const [p0, p1] = share(j.cols / TILE_COLS, t, threads);
  for (let p = p0; p < p1; p++) {
    k.pack8(j.src + p * TILE_COLS * 4, j.cols * 4, j.dst + p * j.rows * TILE_COLS * 4, j.rows);
  }
}

/** Thread t's share of an Adam job, split on multiples of 16 floats (no shared cache line). */
function adamPart(k: Kernels, j: AdamJob, t: number, threads: number): void {
  const [b0, b1] = share(Math.ceil(j.n / 16), t, threads);
  const from = b0 * 16, to = Math.min(j.n, b1 * 16);
  if (to <= from) return;
  const o = from * 4;
  k.adam(
    j.p + o,
    j.g + o,
    j.m + o,
    j.v + o,
    j.po + o,
    j.mo + o,
    j.vo + o,
    to - from,
    Number(j.hasWd),
    j.b1,
    j.omb1,
    j.b2,
    j.omb2,
    j.eps,
    j.wd,
    j.bc2,
    j.step,
  );
}

/** Thread t's share of a per-channel sum job: the 16-channel groups split between threads. */
function chanSumPart(k: Kernels, j: ChanSumJob, t: number, threads: number): void {
  const [g0, g1] = share(j.c / CHAN_GROUP, t, threads);
  for (let gi = g0; gi < g1; gi++) {
    const o = gi * CHAN_GROUP * 4;
    // csum2 writes Σ y·x where csum1 reads its mean: pass out2 there.
    k.csum[j.mode](
      j.x + o,
      j.y + o,
      j.rows,
      j.c * 4,
      (j.mode === 2 ? j.out2 : j.mean) + o,
      j.out + o,
    );
  }
}

/** Thread t's share of a per-channel affine job: the rows split between threads. */
function chanAffinePart(k: Kernels, j: ChanAffineJob, t: number, threads: number): void {
  const [r0, r1] = share(j.rows, t, threads);
  if (r1 <= r0) return;
  const o = r0 * j.c * 4;
  k.caffine(j.x + o, j.y + o, j.out + o, r1 - r0, j.c, j.u, j.a, j.b, j.k, Number(j.useY));
}

/**
 * Output rows of at least this many columns run on uniform tiles within each row (fewer call
 * arguments than gather tiles: measurably faster when the reduction per call is short, e.g. the
 * stem's 147 multiply-adds).
 */
const WIDE_ROW = 12;
/**
 * Gather tiles take 10 more arguments per call: below this many multiply-adds per call the call
 * costs more than the fuller tiles save (layer 4's 1×1 stride-2 forward: 256).
 */
const GATHER_MIN_WORK = 512;

/** Pairs [p0, p1) of a correlation job, each output row cut into equal uniform tiles. */
function correlateRows(tiles: Tiles, j: CorrelateJob, p0: number, p1: number): void {
  const nTiles = Math.ceil(j.outCols / MAX_TILE_ROWS);
  const width = Math.ceil(j.outCols / nTiles);
  for (let tc = 0; tc < j.cout / TILE_COLS; tc++) {
    const c0 = tc * TILE_COLS * 4, b = j.b + tc * j.bTile;
    for (let p = p0; p < p1; p++) {
      const img = Math.floor(p / j.outRows), row = p - img * j.outRows;
      const cRowBase = j.c + img * j.cImg + row * j.cRow + c0;
      const aRowBase = j.a + img * j.aImg + row * j.aRow;
      for (let col = 0; col < j.outCols; col += width) {
        const mr = Math.min(width, j.outCols - col);
        (tiles[mr] as TileFn)(
          cRowBase + col * j.cCol,
          j.cCol,
          aRowBase + col * j.aCol,
          j.aCol,
          b,
          1,
          0,
          0,
          j.nO,
          j.aO,
          j.bO,
          j.nQ,
          4,
          j.bQ,
          1,
        );
      }
    }
  }
}

/** Thread t's share of a pad job: the rows of the padded tensor split between threads. */
export function padPart(k: Kernels, j: PadJob, t: number, threads: number): void {
  const hp = j.h + 2 * j.pad, wp = j.w + 2 * j.pad;
  const rowBytes = wp * j.c * 4, edge = j.pad * j.c * 4, inner = j.w * j.c * 4;
  const [r0, r1] = share(j.n * hp, t, threads);
  for (let r = r0; r < r1; r++) {
    const img = Math.floor(r / hp), y = r - img * hp - j.pad;
    const dst = j.dst + r * rowBytes;
    if (y < 0 || y >= j.h) {
      k.zero(dst, rowBytes);
      continue;
    }
    if (edge > 0) k.zero(dst, edge);
    k.copy(dst + edge, j.src + (img * j.h + y) * inner, inner);
    if (edge > 0) k.zero(dst + edge + inner, edge);
  }
}

/** Thread t's share of a reorder job: (tap, panel of 8 input channels) items between threads. */
export function reorderPart(k: Kernels, j: ReorderJob, t: number, threads: number): void {
  const panels = j.ci / TILE_COLS;
  const [i0, i1] = share(j.taps.length * panels, t, threads);
  for (let item = i0; item < i1; item++) {
    const tap = Math.floor(item / panels), panel = item - tap * panels;
    k.transpose(
      j.src + (j.taps[tap] * j.ci + panel * TILE_COLS) * j.co * 4,
      j.co * 4,
      j.dst + ((panel * j.total + j.first + tap) * j.co) * TILE_COLS * 4,
      TILE_COLS * 4,
      TILE_COLS,
      j.co,
    );
  }
}

/**
 * Thread t's share of a grad-filter job: the output columns (Co) are split between threads. The
 * reduction over positions runs in blocks of whole images (or of rows of one image) whose dy fits
 * in L2; within a block every (kh, column tile, row tile) is one tile call over all its
 * positions, with the rows of the output for kernel row kh being the k·Ci contiguous floats
 * (kw, ci) of x.
 */
export function gradFilterPart(tiles: Tiles, j: GradFilterJob, t: number, threads: number): void {
  const { x, dy, out, n, hp, wp, ci, ho, wo, co, k, stride: s } = j;
  const [t0, t1] = share(co / TILE_COLS, t, threads);
  if (t0 === t1) return;
  const rowsOut = k * ci;
  const perImage = ho * wo * co;
  const images = Math.max(1, Math.min(n, Math.floor(BLOCK_FLOATS / perImage)));
  const ohBlock = images > 1 ? ho : Math.max(1, Math.min(ho, Math.floor(BLOCK_FLOATS / (wo * co))));
  const aImg = hp * wp * ci * 4, bImg = perImage * 4;
  const aRow = s * wp * ci * 4, bRow = wo * co * 4;
  const aCol = s * ci * 4, bCol = co * 4;
  let init = 1;
  for (let n0 = 0; n0 < n; n0 += images) {
    const nP = Math.min(images, n - n0);
    for (let oh0 = 0; oh0 < ho; oh0 += ohBlock) {
      const nO = Math.min(ohBlock, ho - oh0);
      // The three reduction loops (images, rows, columns) in any order: the longest innermost,
      // so that small outputs (2×2 on layer 4) do not run 2-iteration inner loops.
      const [lp, lo, lq] = [
        [nP, aImg, bImg],
        [nO, aRow, bRow],
        [wo, aCol, bCol],
      ].sort((u, v) => u[0] - v[0]);
      for (let kh = 0; kh < k; kh++) {
        const aBase = x + ((n0 * hp + s * oh0 + kh) * wp * ci) * 4;
        const bBase = dy + ((n0 * ho + oh0) * wo * co) * 4;
        const cBase = out + kh * rowsOut * co * 4;
        for (let tc = t0; tc < t1; tc++) {
          const c0 = tc * TILE_COLS * 4;
          for (let r = 0; r < rowsOut; r += MAX_TILE_ROWS) {
            const mr = Math.min(MAX_TILE_ROWS, rowsOut - r);
            (tiles[mr] as TileFn)(
              cBase + r * co * 4 + c0,
              co * 4,
              aBase + r * 4,
              4,
              bBase + c0,
              lp[0],
              lp[1],
              lp[2],
              lo[0],
              lo[1],
              lo[2],
              lq[0],
              lq[1],
              lq[2],
              init,
            );
          }
        }
      }
      init = 0;
    }
  }
}

/**
 * Thread t's share of a correlation job: the (image, row) pairs are split between threads; their
 * output positions, in order, are cut into tiles of ≤ 6 (equal sizes: 7 → 4 + 3, not 6 + 1, since
 * a 1-row tile is bound by its loads). Narrow outputs use gather tiles that span output rows and
 * images, so small outputs (2×2 on layer 4) still fill whole tiles; wide rows use uniform tiles. The column tiles of the output (Cout)
 * are the outer loop so that B's slab for one tile stays in cache while A streams by.
 */
export function correlatePart(k: Kernels, j: CorrelateJob, t: number, threads: number): void {
  const [p0, p1] = share(j.nImg * j.outRows, t, threads);
  if (j.outCols >= WIDE_ROW || j.nO * j.nQ < GATHER_MIN_WORK) {
    correlateRows(k.tiles, j, p0, p1);
    return;
  }
  const count = (p1 - p0) * j.outCols;
  if (count === 0) return;
  const aPos = new Int32Array(count), cPos = new Int32Array(count);
  let i = 0;
  for (let p = p0; p < p1; p++) {
    const img = Math.floor(p / j.outRows), row = p - img * j.outRows;
    const aRow = img * j.aImg + row * j.aRow, cRow = img * j.cImg + row * j.cRow;
    for (let col = 0; col < j.outCols; col++, i++) {
      aPos[i] = aRow + col * j.aCol;
      cPos[i] = cRow + col * j.cCol;
    }
  }
  // Per tile (the same for every column tile): first position and the other rows' offsets,
  // laid out as the gather tile's parameters (A offsets, then C offsets), always passed as 10
  // arguments (a wasm export ignores extra ones) so that the call has a fixed arity.
  const nTiles = Math.ceil(count / MAX_TILE_ROWS);
  const rows = new Int32Array(nTiles), a0 = new Int32Array(nTiles), c0s = new Int32Array(nTiles);
  const offs = new Int32Array(nTiles * OFFSET_ARGS);
  for (let tile = 0; tile < nTiles; tile++) {
    const first = Math.floor((tile * count) / nTiles);
    const mr = Math.floor(((tile + 1) * count) / nTiles) - first;
    rows[tile] = mr;
    a0[tile] = aPos[first];
    c0s[tile] = cPos[first];
    const o = tile * OFFSET_ARGS;
    for (let r = 1; r < mr; r++) {
      offs[o + r - 1] = aPos[first + r] - aPos[first];
      offs[o + mr - 1 + r - 1] = cPos[first + r] - cPos[first];
    }
  }
  for (let tc = 0; tc < j.cout / TILE_COLS; tc++) {
    const cBase = j.c + tc * TILE_COLS * 4, b = j.b + tc * j.bTile;
    for (let tile = 0; tile < nTiles; tile++) {
      const o = tile * OFFSET_ARGS;
      (k.gtiles[rows[tile]] as GatherTileFn)(
        cBase + c0s[tile],
        j.a + a0[tile],
        b,
        1,
        0,
        0,
        j.nO,
        j.aO,
        j.bO,
        j.nQ,
        4,
        j.bQ,
        1,
        offs[o],
        offs[o + 1],
        offs[o + 2],
        offs[o + 3],
        offs[o + 4],
        offs[o + 5],
        offs[o + 6],
        offs[o + 7],
        offs[o + 8],
        offs[o + 9],
      );
    }
  }
}
