/**
 * The engine's wasm GEMM kernels (lib/engine/wasm_gemm.ts) against the definitions of the
 * forward convolution and its gradients
 * (tests/engine/_conv_reference.ts), on shapes that exercise every tile height, the blocking of
 * the reduction, the polyphase parts and the zero fill; plus the XNNPACK-based formulations they
 * replace, the single-threaded (non-shared heap) variant and the heap bookkeeping.
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend.ts";
import {
  conv2d,
  conv2dGradFilter,
  conv2dGradInput,
  setWasmGemm,
  wasmGemmActive,
  wasmGemmThreads,
} from "../../lib/engine/mod.ts";
import { assertClose, randomArray, setup } from "./_helpers.ts";
import {
  type ConvShape,
  outSize,
  refForward,
  refGradFilter,
  refGradInput,
} from "./_conv_reference.ts";

await setup();

/** Shapes: ResNet-18's kernels with channel counts that leave remainders (k·Ci mod 6 ≠ 0). */
const SHAPES: (ConvShape & { name: string })[] = [
  { name: "7x7/2 pad 3, 3→16", n: 2, h: 13, w: 11, ci: 3, co: 16, k: 7, s: 2, p: 3 },
  { name: "3x3/1 pad 1, 24→16", n: 2, h: 9, w: 14, ci: 24, co: 16, k: 3, s: 1, p: 1 },
  { name: "3x3/1 pad 1, 8→8, 1x1 image", n: 3, h: 1, w: 1, ci: 8, co: 8, k: 3, s: 1, p: 1 },
  { name: "3x3/2 pad 1, 16→24", n: 3, h: 11, w: 8, ci: 16, co: 24, k: 3, s: 2, p: 1 },
  { name: "3x3/2 pad 1, 8→8, 2x2 image", n: 1, h: 2, w: 2, ci: 8, co: 8, k: 3, s: 2, p: 1 },
  { name: "1x1/2 pad 0, 40→16", n: 2, h: 7, w: 10, ci: 40, co: 16, k: 1, s: 2, p: 0 },
  { name: "1x1/2 pad 0, 8→32", n: 1, h: 6, w: 6, ci: 8, co: 32, k: 1, s: 2, p: 0 },
];

/**
 * Forward and gradients on pseudo-random inputs; `integers`: values in {−4, …, 4}, so that every
 * product and partial sum is an integer below 2^24, exact in float32 whatever the summation
 * order (blocking, threads), and the results must equal the float64 definitions exactly.
 */
function grads(c: ConvShape, seed: number, integers = false) {
  const [ho, wo] = outSize(c);
  const values = (n: number, s: number) => {
    const v = randomArray(n, s);
    return integers ? v.map((a) => Math.round(4 * a)) : v;
  };
  const x = values(c.n * c.h * c.w * c.ci, seed);
  const w = values(c.k * c.k * c.ci * c.co, seed + 1);
  const dy = values(c.n * ho * wo * c.co, seed + 2);
  let gi: Float32Array | null = null;
  let gf: Float32Array = new Float32Array(0);
  let y: Float32Array = new Float32Array(0);
  tf.tidy(() => {
    const xt = tf.tensor4d(x, [c.n, c.h, c.w, c.ci]);
    const wt = tf.tensor4d(w, [c.k, c.k, c.ci, c.co]);
    const dyt = tf.tensor4d(dy, [c.n, ho, wo, c.co]);
    if (c.k !== 7) gi = conv2dGradInput(dyt, wt, xt.shape, c.s, c.p).dataSync() as Float32Array;
    gf = conv2dGradFilter(xt, dyt, wt.shape, c.s, c.p).dataSync() as Float32Array;
    y = conv2d(xt, wt, c.s, c.p).dataSync() as Float32Array;
  });
  return { x, w, dy, gi: gi as Float32Array | null, gf, y };
}

Deno.test("the GEMM kernels are active on wasm and report their threads", async () => {
  const info = await initBackend({ backend: "wasm" });
  if (!wasmGemmActive()) throw new Error(`GEMM not active: ${JSON.stringify(info)}`);
  if (info.gemmThreads !== wasmGemmThreads() || wasmGemmThreads() !== info.threads) {
    throw new Error(`threads: info ${JSON.stringify(info)}, pool ${wasmGemmThreads()}`);
  }
});

for (const gemm of [true, false]) {
  const what = gemm ? "GEMM kernels" : "XNNPACK formulations";
  for (const c of SHAPES) {
    Deno.test(`wasm ${what}: ${c.name}, ${c.n}×${c.h}×${c.w} = the definitions`, () => {
      setWasmGemm(gemm);
      try {
        const g = grads(c, c.h * 31 + c.ci);
        assertClose("forward", g.y, refForward(c, g.x, g.w));
        assertClose("grad-filter", g.gf, refGradFilter(c, g.x, g.dy));
        if (g.gi) assertClose("grad-input", g.gi, refGradInput(c, g.w, g.dy));
      } finally {
        setWasmGemm(undefined);
      }
    });
  }
}

Deno.test("GEMM grad-filter blocks the reduction (rows of one image; several images) exactly", () => {
  // 40×40 outputs × 64 channels exceed one block (65,536 floats of dy): rows are split; 5×5
  // outputs fit many images per block.
  for (
    const c of [
      { n: 2, h: 40, w: 40, ci: 8, co: 64, k: 3, s: 1, p: 1 },
      { n: 9, h: 10, w: 10, ci: 16, co: 8, k: 3, s: 2, p: 1 },
    ]
  ) {
    // integer inputs: exact sums, so "exactly" is tolerance 0 (n·ho·wo·4·4 ≤ 51,200 < 2^24)
    const g = grads(c, 7, true);
    assertClose(`forward ${JSON.stringify(c)}`, g.y, refForward(c, g.x, g.w), 0);
    assertClose(`grad-filter ${JSON.stringify(c)}`, g.gf, refGradFilter(c, g.x, g.dy), 0);
    if (g.gi) {
      assertClose(`grad-input ${JSON.stringify(c)}`, g.gi, refGradInput(c, g.w, g.dy), 0);
    }
  }
});

Deno.test("GEMM kernels free their scratch memory and leak no tensor", () => {
  const c = { n: 2, h: 9, w: 9, ci: 16, co: 16, k: 3, s: 2, p: 1 };
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const step = () => {
    const g = grads(c, 3);
    if (!g.gi) throw new Error("no grad-input");
  };
  step();
  const before = [tf.memory().numTensors, backend.numDataIds()];
  for (let i = 0; i < 5; i++) step();
  const after = [tf.memory().numTensors, backend.numDataIds()];
  if (after.join() !== before.join()) {
    throw new Error(`numTensors, heap buffers: ${before} → ${after}`);
  }
});

Deno.test("single-threaded wasm (heap not shared): GEMM kernels = the definitions", async () => {
  const probe = new URL("./_gemm_probe.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", probe],
    env: { RUL_THREADS: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  let r: { threads: number; gemmThreads: number; errors: number[] };
  try {
    r = JSON.parse(text);
  } catch {
    throw new Error(`probe printed '${text}'; stderr ${new TextDecoder().decode(out.stderr)}`);
  }
  if (r.threads !== 1 || r.gemmThreads !== 1) throw new Error(`threads ${JSON.stringify(r)}`);
  for (const e of r.errors) if (!(e <= 1e-4)) throw new Error(`errors ${r.errors}`);
});
