/**
 * GFLOP/s of forward, grad-input and grad-filter for every ResNet-18 convolution shape, stock
 * TF.js kernels vs the engine's fast gradients, per backend.
 *
 * Usage: deno run -A bench/conv_grad.ts [--size 112] [--batch 16] [--reps 5] [--threads N]
 *   [--cpu]  (also time the cpu backend, at batch 1; it is ~100× slower)
 *   [--stock-wasm-gi] (time the stock wasm grad-input; ~1 GFLOP/s, slow)
 *
 * Prints a table, then one JSON line with every figure.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { parseArgs } from "node:util";
import { describeBackend, initBackend } from "../lib/backend.ts";
import {
  conv2d,
  conv2dGradFilter,
  conv2dGradInput,
  convOutSize,
  setWasmGemm,
  stockConv2dGradFilter,
  stockConv2dGradInput,
  wasmGemmActive,
} from "../lib/engine/mod.ts";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "112" },
    batch: { type: "string", default: "16" },
    reps: { type: "string", default: "5" },
    threads: { type: "string" },
    cpu: { type: "boolean", default: false },
    "stock-wasm-gi": { type: "boolean", default: false },
  },
});
const size = Number(values.size);
const batch = Number(values.batch);
const reps = Number(values.reps);

/** One ResNet-18 convolution: input side h, channels ci→co, kernel k, stride s, pad p. */
interface Layer {
  name: string;
  h: number;
  ci: number;
  co: number;
  k: number;
  s: number;
  p: number;
}

/** The distinct convolution shapes of ResNet-18 for a `size`-px input. */
function layers(size: number): Layer[] {
  const h1 = convOutSize(size, 7, 2, 3); // after the stem
  const h2 = convOutSize(h1, 3, 2, 1); // after max-pool
  const h3 = convOutSize(h2, 3, 2, 1), h4 = convOutSize(h3, 3, 2, 1);
  return [
    { name: "stem 7x7/2 3-64", h: size, ci: 3, co: 64, k: 7, s: 2, p: 3 },
    { name: "l1 3x3/1 64-64", h: h2, ci: 64, co: 64, k: 3, s: 1, p: 1 },
    { name: "l2 3x3/2 64-128", h: h2, ci: 64, co: 128, k: 3, s: 2, p: 1 },
    { name: "l2 3x3/1 128-128", h: h3, ci: 128, co: 128, k: 3, s: 1, p: 1 },
    { name: "l2 1x1/2 64-128", h: h2, ci: 64, co: 128, k: 1, s: 2, p: 0 },
    { name: "l3 3x3/2 128-256", h: h3, ci: 128, co: 256, k: 3, s: 2, p: 1 },
    { name: "l3 3x3/1 256-256", h: h4, ci: 256, co: 256, k: 3, s: 1, p: 1 },
    { name: "l3 1x1/2 128-256", h: h3, ci: 128, co: 256, k: 1, s: 2, p: 0 },
    { name: "l4 3x3/2 256-512", h: h4, ci: 256, co: 512, k: 3, s: 2, p: 1 },
    {
      name: "l4 3x3/1 512-512",
      h: convOutSize(h4, 3, 2, 1),
      ci: 512,
      co: 512,
      k: 3,
      s: 1,
      p: 1,
    },
    { name: "l4 1x1/2 256-512", h: h4, ci: 256, co: 512, k: 1, s: 2, p: 0 },
  ];
}

/**
 * Best wall time in ms of each function, measured round-robin (one warm-up call each, then
 * rounds of one call per function) so that a burst of load from other processes hits every
 * variant alike. At least `reps` rounds; small layers get more (until ~0.4 s per layer or 40
 * rounds), since one preemption spoils a 1 ms sample. Results are disposed.
 */
function timeAll(
  fs: Record<string, (() => tf.Tensor) | null>,
  reps: number,
): Record<string, number | null> {
  const names = Object.keys(fs).filter((k) => fs[k] !== null);
  const best: Record<string, number | null> = {};
  for (const k of Object.keys(fs)) best[k] = null;
  const t0 = performance.now();
  for (const k of names) tf.dispose((fs[k] as () => tf.Tensor)());
  for (let round = 0; round < 40; round++) {
    for (const k of names) {
      const t = performance.now();
      const out = (fs[k] as () => tf.Tensor)();
      // wasm and cpu kernels run synchronously: the result is complete when the op returns.
      // Reading it back (dataSync) would charge each variant for copying its output out of the
      // heap, which training never does (2× more for grad-input than for a stride-2 forward).
      const ms = performance.now() - t;
      out.dispose();
      best[k] = Math.min(best[k] ?? Infinity, ms);
    }
    if (round + 1 >= reps && performance.now() - t0 > 400) break;
  }
  return best;
}

interface Row {
  backend: string;
  layer: string;
  batch: number;
  gflop: number;
  fwd: number | null;
  fwdFresh: number | null;
  fwdOurs: number | null;
  giStock: number | null;
  giFast: number | null;
  gfStock: number | null;
  gfFast: number | null;
  /** The engine's XNNPACK-based formulations (before the GEMM kernels), when GEMM is active. */
  giXnn: number | null;
  gfXnn: number | null;
}

/** Run `f` with the GEMM kernels off (the XNNPACK-based formulations). */
function xnn(f: () => tf.Tensor): tf.Tensor {
  setWasmGemm(false);
  try {
    return f();
  } finally {
    setWasmGemm(undefined);
  }
}

function measure(backend: string, l: Layer, n: number): Row {
  const ho = convOutSize(l.h, l.k, l.s, l.p);
  const flop = 2 * n * ho * ho * l.co * l.k * l.k * l.ci;
  const gf = (ms: number | null) => (ms === null ? null : flop / ms / 1e6);
  const pad: [[0, 0], [number, number], [number, number], [0, 0]] = [[0, 0], [l.p, l.p], [
    l.p,
    l.p,
  ], [0, 0]];
  const x = tf.randomNormal([n, l.h, l.h, l.ci]) as tf.Tensor4D;
  const w = tf.randomNormal([l.k, l.k, l.ci, l.co]) as tf.Tensor4D;
  const dy = tf.randomNormal([n, ho, ho, l.co]) as tf.Tensor4D;
  const xShape = x.shape;
  const stem = l.k === 7; // the stem's input is the image: no grad-input in training
  const gemm = backend === "wasm" && wasmGemmActive();
  const t = timeAll({
    fwd: () => tf.conv2d(x, w, l.s, pad),
    // As in training: the weights are a new tensor at every step, so the backend re-packs them.
    fwdFresh: () => tf.tidy(() => tf.conv2d(x, tf.add(w, 0) as tf.Tensor4D, l.s, pad)),
    // The engine's forward (what training runs): on wasm its GEMM kernels when active.
    fwdOurs: () => conv2d(x, w, l.s, l.p),
    giFast: stem ? null : () => conv2dGradInput(dy, w, xShape, l.s, l.p),
    gfFast: () => conv2dGradFilter(x, dy, w.shape, l.s, l.p),
    giXnn: stem || !gemm ? null : () => xnn(() => conv2dGradInput(dy, w, xShape, l.s, l.p)),
    gfXnn: !gemm ? null : () => xnn(() => conv2dGradFilter(x, dy, w.shape, l.s, l.p)),
  }, reps);
  const fwd = t.fwd, fwdFresh = t.fwdFresh, giFast = t.giFast, gfFast = t.gfFast;
  let giStock: number | null = null;
  if (!stem && (backend !== "wasm" || values["stock-wasm-gi"])) {
    giStock = timeAll({ g: () => stockConv2dGradInput(dy, w, xShape, l.s, l.p) }, 1).g;
  }
  // The wasm backend has no Conv2DBackpropFilter kernel at all.
  const gfStock = backend === "wasm"
    ? null
    : timeAll({ g: () => stockConv2dGradFilter(x, dy, w.shape, l.s, l.p) }, 1).g;
  tf.dispose([x, w, dy]);
  return {
    backend,
    layer: l.name,
    batch: n,
    gflop: flop / 1e9,
    fwd: gf(fwd),
    fwdFresh: gf(fwdFresh),
    fwdOurs: gf(t.fwdOurs),
    giStock: gf(giStock),
    giFast: gf(giFast),
    gfStock: gf(gfStock),
    gfFast: gf(gfFast),
    giXnn: gf(t.giXnn),
    gfXnn: gf(t.gfXnn),
  };
}

const info = await initBackend({
  backend: "wasm",
  threads: values.threads ? Number(values.threads) : undefined,
});
console.log(`backend: ${describeBackend()}`);
console.log(
  `ResNet-18 conv shapes at ${size} px, batch ${batch}; GFLOP/s, best of >= ${reps} interleaved rounds; ` +
    "machine shared with other jobs: figures are noisy.",
);
const rows: Row[] = [];
for (const l of layers(size)) rows.push(measure("wasm", l, batch));
if (values.cpu) {
  await tf.setBackend("cpu");
  for (const l of layers(size)) rows.push(measure("cpu", l, 1));
  await tf.setBackend("wasm");
}
const f = (v: number | null, w = 8) =>
  (v === null ? "-" : v < 1 ? v.toPrecision(2) : v.toFixed(1)).padStart(w);
console.log(
  "backend  layer              batch  GFLOP  fwd fwd-new fwd-ours gi-stock gi-xnn gi-fast gf-stock gf-xnn" +
    " gf-fast  gi/fwd gf/fwd  gi/new gf/new",
);
for (const r of rows) {
  const ratio = (v: number | null, ref: number | null) =>
    (v === null || ref === null ? "-" : (v / ref).toFixed(2)).padStart(7);
  console.log(
    `${r.backend.padEnd(8)} ${r.layer.padEnd(18)} ${String(r.batch).padStart(5)} ${
      r.gflop.toFixed(3).padStart(6)
    } ${f(r.fwd, 4)} ${f(r.fwdFresh, 7)} ${f(r.fwdOurs)} ${f(r.giStock)} ${f(r.giXnn, 6)} ${
      f(r.giFast, 7)
    } ${f(r.gfStock)} ${f(r.gfXnn, 6)} ${f(r.gfFast, 7)} ${ratio(r.giFast, r.fwd)}${
      ratio(r.gfFast, r.fwd)
    } ${ratio(r.giFast, r.fwdFresh)}${ratio(r.gfFast, r.fwdFresh)}`,
  );
}
console.log(
  "fwd: forward with the same (cached, pre-packed) filter; fwd-new: a new filter tensor per call, " +
    "as in training where the weights change every step (the backend re-packs them); fwd-ours: " +
    "the engine's conv2d (on wasm: its GEMM kernels when active). Ratios are against the " +
    "backend's forward (fwd, fwd-new).",
);
if (!values.cpu) console.log("cpu backend: skipped (~0.01-2 GFLOP/s; run with --cpu, batch 1)");
console.log(
  "gi-fast/gf-fast: the engine's gradients as training runs them (on wasm: its own GEMM kernels " +
    "when active); gi-xnn/gf-xnn: its earlier formulations on XNNPACK convolutions, for comparison.",
);
console.log(
  "gi-stock on wasm is skipped unless --stock-wasm-gi (~1 GFLOP/s); gf-stock on wasm: no kernel.",
);
console.log(JSON.stringify({ bench: "conv_grad", size, batch, backend: info, rows }));
