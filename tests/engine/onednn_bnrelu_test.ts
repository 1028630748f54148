/**
 * Batch-norm + ReLU fused into oneDNN's batch-norm primitives (`fuse_norm_relu`,
 * `batchNormTrain(..., { relu: true })`, as every ResNet-18 block's first batch-norm and the
 * stem's run): value and gradients (dx, dγ, dβ) bit-identical to batch-norm then the separate
 * ReLU kernel on oneDNN, and within 1e-4 of TF.js's stock composed kernels (the independent
 * reference: tf.moments, tf.relu and their stock gradients); ReLU's rule at 0 (dy·[y > 0]) as
 * PyTorch's; no tensor leaked. On the wasm store here and, in a subprocess, on the cpu store.
 * Needs libdnnl.so.2 (`.ci/setup` installs `libdnnl2`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend.ts";
import { batchNormTrain, relu } from "../../lib/engine/mod.ts";
import { dnnlBatchNormGrad, onednnActive } from "../../lib/engine/onednn.ts";
import { assertClose, onStockKernels, randomArray } from "./_helpers.ts";

const store = Deno.env.get("RUL_ONEDNN_STORE") === "cpu" ? "cpu" : "wasm";
await initBackend({ backend: "onednn", onednnStore: store });

/** y and the gradients of Σ y·dy wrt x, γ, β, for batch-norm + ReLU fused or not. */
function run(shape: number[], fused: boolean, seed: number): Float32Array[] {
  const c = shape[shape.length - 1];
  const n = shape.reduce((a, b) => a * b, 1);
  // An offset mean, and some values that land exactly on 0 after the ReLU.
  const xv = randomArray(n, seed).map((v) => 3 * v + 1.5);
  const dyv = randomArray(n, seed + 1);
  return tf.tidy(() => {
    const x = tf.tensor(xv, shape);
    const g = tf.tensor1d(randomArray(c, seed + 2).map((v) => v + 1.2));
    const b = tf.tensor1d(randomArray(c, seed + 3));
    const dy = tf.tensor(dyv, shape);
    const f = (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => {
      const args = [xi as tf.Tensor4D, gi as tf.Tensor1D, bi as tf.Tensor1D, 1e-5] as const;
      return fused ? batchNormTrain(...args, { relu: true }).y : relu(batchNormTrain(...args).y);
    };
    const y = f(x, g, b);
    const grads = tf.grads((xi, gi, bi) => tf.sum(tf.mul(f(xi, gi, bi), dy)))([x, g, b]);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

const SHAPES = [[4, 9, 7, 16], [3, 5, 5, 64], [2, 3, 3, 3], [32, 24]];

for (const shape of SHAPES) {
  Deno.test(`batch-norm + ReLU fused (${store} store) [${shape}] = separate kernels, bit for bit; = stock 1e-4`, async () => {
    if (!onednnActive()) throw new Error("oneDNN is not active");
    const seed = shape.reduce((a, b) => a + b, 0);
    const fused = run(shape, true, seed);
    const separate = run(shape, false, seed);
    const ref = onStockKernels(store, () => run(shape, false, seed));
    const names = ["y", "dx", "dγ", "dβ"];
    // The fusion ran: batch-norm's kernels and no ReLU kernel either way.
    const kernels = (await tf.profile(() => run(shape, true, seed))).kernels.map((k) => k.name);
    if (!kernels.includes("RulDnnBatchNormGrad") || kernels.some((k) => /relu/i.test(k))) {
      throw new Error(`not fused: kernels ${[...new Set(kernels)]}`);
    }
    if (!fused[0].some((v) => v === 0)) throw new Error("no value clipped to 0 by the ReLU");
    fused.forEach((got, i) => {
      assertClose(`${names[i]} fused vs separate`, got, separate[i], 0);
      assertClose(`${names[i]} fused vs stock`, got, ref[i], 1e-4);
    });
  });
}

Deno.test(`batch-norm + ReLU fused (${store} store): no tensor leaked; the workspace is required`, () => {
  run([2, 4, 4, 8], true, 1);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) run([2, 4, 4, 8], true, 1);
  if (tf.memory().numTensors !== before) {
    throw new Error(`numTensors ${before} → ${tf.memory().numTensors}`);
  }
  // The fused backward without the forward's workspace: refused, not run on garbage.
  tf.tidy(() => {
    const x = tf.ones([2, 4, 4, 8]), s = tf.ones([8]);
    const ws = tf.zeros([1], "int32");
    let msg = "";
    try {
      dnnlBatchNormGrad(
        x,
        x,
        s as tf.Tensor1D,
        s as tf.Tensor1D,
        s as tf.Tensor1D,
        s as tf.Tensor1D,
        1e-5,
        ws,
      );
    } catch (e) {
      msg = (e as Error).message;
    }
    if (!msg.includes("workspace has shape [1]")) throw new Error(`message: '${msg}'`);
  });
});

if (store === "wasm") {
  Deno.test("batch-norm + ReLU fused: the same tests on the cpu store (subprocess)", async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", new URL(import.meta.url).pathname],
      env: { RUL_ONEDNN_STORE: "cpu" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    if (!out.success || !text.includes("(cpu store)")) {
      throw new Error(`cpu store run failed:\n${text}`);
    }
  });
}
