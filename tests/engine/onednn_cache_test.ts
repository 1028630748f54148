/**
 * The native CPU engine's primitive caches and input checks (lib/engine/onednn.ts): each cache
 * holds at most its capacity of shapes however many distinct shapes run (least recently used
 * destroyed, results still right when an evicted shape comes back), and a kernel refuses an
 * input whose shape is not the one its cached primitive was built for (oneDNN is handed raw
 * addresses: a larger dy would be read out of bounds), with an error naming the tensor and both
 * shapes, before allocating anything. On the default (wasm) store; the code under test is the
 * same for the cpu store. Needs libdnnl.so.2 (`.ci/setup` installs `libdnnl2`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend.ts";
import { conv2d } from "../../lib/engine/mod.ts";
import { RUL_CONV2D } from "../../lib/engine/conv2d.ts";
import {
  onednnActive,
  onednnCacheSizes,
  relu,
  RUL_DNNL_BATCH_NORM,
  RUL_DNNL_BATCH_NORM_GRAD,
  RUL_DNNL_GRAD_FILTER,
  RUL_DNNL_GRAD_INPUT,
  RUL_DNNL_MAX_POOL_GRAD,
  RUL_DNNL_RELU_GRAD,
  setConvGemmLimit,
  setOnednnCacheCapacity,
} from "../../lib/engine/onednn.ts";
import { assertClose, randomArray } from "./_helpers.ts";
import { type ConvShape, refForward } from "./_conv_reference.ts";

await initBackend({ backend: "onednn" });

/** max(v, 0) element by element: ReLU's definition. */
function reluRef(v: Float32Array): Float32Array {
  return v.map((x) => x > 0 ? x : 0);
}

Deno.test("onednn cache: the ReLU cache (keyed by element count) stays bounded over many sizes", () => {
  if (!onednnActive()) throw new Error("oneDNN is not active");
  setOnednnCacheCapacity(5);
  try {
    const first = randomArray(7, 1);
    const firstOut = tf.tidy(() => relu(tf.tensor1d(first)).dataSync() as Float32Array);
    for (let size = 8; size < 48; size++) {
      const v = randomArray(size, size);
      const got = tf.tidy(() => relu(tf.tensor1d(v)).dataSync() as Float32Array);
      assertClose(`relu of ${size} values`, got, reluRef(v), 0);
      const held = onednnCacheSizes().relu;
      if (held > 5) throw new Error(`relu cache holds ${held} shapes after ${size}, capacity 5`);
    }
    // The first size was evicted long ago: re-created, it gives the same values bit for bit.
    const again = tf.tidy(() => relu(tf.tensor1d(first)).dataSync() as Float32Array);
    assertClose("relu of an evicted size, again", again, firstOut, 0);
  } finally {
    setOnednnCacheCapacity(undefined);
  }
});

Deno.test("onednn cache: the default capacity bounds every cache (80 distinct ReLU sizes)", () => {
  for (let size = 100; size < 180; size++) {
    tf.tidy(() => relu(tf.tensor1d(randomArray(size, size))).dataSync());
  }
  const sizes = onednnCacheSizes();
  if (sizes.relu !== 64) {
    throw new Error(`relu cache holds ${sizes.relu}, expected its capacity 64`);
  }
  for (const [name, n] of Object.entries(sizes)) {
    if (n > 64) throw new Error(`${name} cache holds ${n} entries, over 64`);
  }
  setOnednnCacheCapacity(3);
  try {
    for (const [name, n] of Object.entries(onednnCacheSizes())) {
      if (n > 3) throw new Error(`${name} cache holds ${n} after lowering the capacity to 3`);
    }
  } finally {
    setOnednnCacheCapacity(undefined);
  }
  for (const bad of [0, -1, 2.5, NaN]) {
    let msg = "";
    try {
      setOnednnCacheCapacity(bad);
    } catch (e) {
      msg = (e as Error).message;
    }
    if (!msg.includes("setOnednnCacheCapacity")) throw new Error(`capacity ${bad} accepted`);
  }
});

Deno.test("onednn cache: convolutions over many shapes, both paths, stay bounded and right", () => {
  setOnednnCacheCapacity(3);
  try {
    for (const [path, limit] of [["direct", 0], ["im2col + matmul", Infinity]] as const) {
      setConvGemmLimit(limit);
      for (let h = 3; h < 10; h++) {
        const c: ConvShape = { n: 2, h, w: h + 1, ci: 8, co: 16, k: 3, s: 1, p: 1 };
        const x = randomArray(c.n * c.h * c.w * c.ci, h);
        const w = randomArray(c.k * c.k * c.ci * c.co, h + 100);
        const y = tf.tidy(() =>
          conv2d(tf.tensor4d(x, [c.n, c.h, c.w, c.ci]), tf.tensor4d(w, [3, 3, 8, 16]), 1, 1)
            .dataSync() as Float32Array
        );
        assertClose(`${path} conv at ${h}×${h + 1}`, y, refForward(c, x, w));
        const held = onednnCacheSizes();
        if (held.conv > 3 || held.matMul > 3) {
          throw new Error(`caches over capacity 3 after ${h}: ${JSON.stringify(held)}`);
        }
      }
    }
  } finally {
    setConvGemmLimit(undefined);
    setOnednnCacheCapacity(undefined);
  }
});

/** Tensors the test made as inputs (counted out of the leak check). */
let inputsMade = 0;

/**
 * Run `f` and return its error message; fail when it does not throw or when the kernel left a
 * tensor or a buffer behind (beyond the inputs `f` made).
 */
function refused(f: () => unknown): string {
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const made = inputsMade;
  const before = [tf.memory().numTensors, backend.numDataIds()];
  let msg: string | null = null;
  try {
    f();
  } catch (e) {
    msg = (e as Error).message;
  }
  const extra = inputsMade - made;
  const after = [tf.memory().numTensors - extra, backend.numDataIds() - extra];
  if (msg === null) throw new Error("the mismatched input was accepted");
  if (after[0] !== before[0] || after[1] !== before[1]) {
    throw new Error(`refusal leaked: tensors/data ${before} → ${after}`);
  }
  return msg;
}

/** Throw unless `msg` names the kernel, the tensor and both shapes. */
function expectMessage(msg: string, kernel: string, name: string, got: string, want: string) {
  const expected = `${kernel}: ${name} has shape [${got}], but its oneDNN primitive was ` +
    `built for [${want}]`;
  if (msg !== expected) throw new Error(`message '${msg}', expected '${expected}'`);
}

/** Run a kernel directly (the checks are the kernels' own, whatever the callers check). */
function run(kernel: string, inputs: Record<string, tf.Tensor>, attrs: object = {}) {
  return tf.engine().runKernel(
    kernel,
    inputs as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap,
  );
}

Deno.test("onednn checks: a mismatched dy, γ, β or statistics is refused, naming both shapes", () => {
  const x4 = tf.zeros([2, 5, 5, 4]);
  const stats = tf.zeros([4]);
  const tensors = [x4, stats];
  const t = (shape: number[]) => {
    const z = tf.zeros(shape);
    inputsMade++;
    tensors.push(z);
    return z;
  };
  try {
    // ReLU's gradient: dy of another shape than y (larger: would be read past y's size).
    expectMessage(
      refused(() => run(RUL_DNNL_RELU_GRAD, { dy: t([2, 5, 5, 5]), y: x4 })),
      RUL_DNNL_RELU_GRAD,
      "dy",
      "2,5,5,5",
      "2,5,5,4",
    );
    // Batch-norm forward: γ / β of another channel count.
    expectMessage(
      refused(() => run(RUL_DNNL_BATCH_NORM, { x: x4, gamma: t([8]), beta: stats }, { eps: 1e-5 })),
      RUL_DNNL_BATCH_NORM,
      "gamma",
      "8",
      "4",
    );
    expectMessage(
      refused(() => run(RUL_DNNL_BATCH_NORM, { x: x4, gamma: stats, beta: t([3]) }, { eps: 1e-5 })),
      RUL_DNNL_BATCH_NORM,
      "beta",
      "3",
      "4",
    );
    // Batch-norm backward: dy, mean, variance, γ.
    const bn = (over: Record<string, tf.Tensor>) =>
      refused(() =>
        run(
          RUL_DNNL_BATCH_NORM_GRAD,
          { x: x4, dy: x4, mean: stats, variance: stats, gamma: stats, beta: stats, ...over },
          { eps: 1e-5 },
        )
      );
    const k = RUL_DNNL_BATCH_NORM_GRAD;
    expectMessage(bn({ dy: t([2, 6, 5, 4]) }), k, "dy", "2,6,5,4", "2,5,5,4");
    expectMessage(bn({ mean: t([5]) }), k, "mean", "5", "4");
    expectMessage(bn({ variance: t([2, 2]) }), k, "variance", "2,2", "4");
    expectMessage(bn({ gamma: t([16]) }), k, "gamma", "16", "4");
    // Max-pool backward: dy of another output size.
    expectMessage(
      refused(() =>
        run(RUL_DNNL_MAX_POOL_GRAD, { x: x4, dy: t([2, 4, 4, 4]) }, { k: 3, stride: 2, pad: 1 })
      ),
      RUL_DNNL_MAX_POOL_GRAD,
      "dy",
      "2,4,4,4",
      "2,3,3,4",
    );
    // Convolution gradients, both paths: dy of another size, a filter of other channels.
    for (const limit of [0, Infinity]) {
      setConvGemmLimit(limit);
      try {
        const attrs = { xShape: [2, 5, 5, 4], stride: 1, pad: 1 };
        expectMessage(
          refused(() =>
            run(RUL_DNNL_GRAD_INPUT, { dy: t([2, 5, 6, 8]), filter: t([3, 3, 4, 8]) }, attrs)
          ),
          RUL_DNNL_GRAD_INPUT,
          "dy",
          "2,5,6,8",
          "2,5,5,8",
        );
        expectMessage(
          refused(() =>
            run(RUL_DNNL_GRAD_INPUT, { dy: t([2, 5, 5, 8]), filter: t([3, 3, 6, 8]) }, attrs)
          ),
          RUL_DNNL_GRAD_INPUT,
          "filter",
          "3,3,6,8",
          "3,3,4,8",
        );
        expectMessage(
          refused(() =>
            run(RUL_DNNL_GRAD_FILTER, { x: x4, dy: t([2, 4, 5, 8]) }, { k: 3, stride: 1, pad: 1 })
          ),
          RUL_DNNL_GRAD_FILTER,
          "dy",
          "2,4,5,8",
          "2,5,5,8",
        );
        expectMessage(
          // RulConv2D's kernel directly (conv2d() checks the channels itself first).
          refused(() => run(RUL_CONV2D, { x: x4, filter: t([3, 3, 2, 8]) }, { stride: 1, pad: 1 })),
          "conv2d",
          "filter",
          "3,3,2,8",
          "3,3,4,8",
        );
      } finally {
        setConvGemmLimit(undefined);
      }
    }
  } finally {
    tf.dispose(tensors);
  }
});
