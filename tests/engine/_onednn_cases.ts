/**
 * The tests of the native CPU engine (lib/engine/onednn.ts), shared by its two tensor stores
 * (onednn_test.ts: TF.js wasm's heap; onednn_cpu_store_test.ts: TF.js cpu's typed arrays):
 * oneDNN's convolutions against the float64 definitions (tests/engine/_conv_reference.ts),
 * batch-norm, max-pool and ReLU against TF.js's stock kernels on the cpu backend, a whole
 * ResNet-18 step against the wasm engine (wasm store) or the stock kernels (cpu store),
 * bit-identical repeats, and no leaked tensor or buffer. Needs libdnnl.so.2 (`.ci/setup`
 * installs `libdnnl2`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../../lib/backend.ts";
import {
  batchNormTrain,
  conv2d,
  conv2dGradFilter,
  conv2dGradInput,
  maxPool2d,
  relu,
} from "../../lib/engine/mod.ts";
import {
  onednnActive,
  onednnConvImpls,
  onednnMatMulShapes,
  type OnednnStore,
  setConvGemmLimit,
  setOnednn,
} from "../../lib/engine/onednn.ts";
import { assertClose, onStockKernels, randomArray, relError, resnetStep } from "./_helpers.ts";
import { bnGrads, checkBatchNormEps } from "./_bn_grads.ts";
import {
  type ConvShape,
  outSize,
  refForward,
  refGradFilter,
  refGradInput,
} from "./_conv_reference.ts";

/** Define every test for `store` (call once, at the top level of a test file). */
export async function defineOnednnTests(store: OnednnStore): Promise<void> {
  const info = await initBackend({ backend: "onednn", onednnStore: store });
  /** `f` on TF.js's stock kernels (the independent reference; tests/engine/_helpers.ts). */
  const reference = <T>(f: () => T): T => onStockKernels(store, f);

  /** ResNet-18's kernels, odd and even sizes (1×1 stride 2 on even sizes: negative right pad). */
  const SHAPES: (ConvShape & { name: string })[] = [
    { name: "7x7/2 pad 3, 3→16", n: 2, h: 13, w: 11, ci: 3, co: 16, k: 7, s: 2, p: 3 },
    { name: "7x7/2 pad 3, 3→64, even", n: 2, h: 16, w: 16, ci: 3, co: 64, k: 7, s: 2, p: 3 },
    { name: "3x3/1 pad 1, 24→16", n: 2, h: 9, w: 14, ci: 24, co: 16, k: 3, s: 1, p: 1 },
    { name: "3x3/1 pad 1, 8→8, 1x1 image", n: 3, h: 1, w: 1, ci: 8, co: 8, k: 3, s: 1, p: 1 },
    { name: "3x3/2 pad 1, 16→24", n: 3, h: 11, w: 8, ci: 16, co: 24, k: 3, s: 2, p: 1 },
    { name: "3x3/2 pad 1, 8→8, 2x2 image", n: 1, h: 2, w: 2, ci: 8, co: 8, k: 3, s: 2, p: 1 },
    { name: "1x1/2 pad 0, 40→16, odd", n: 2, h: 7, w: 9, ci: 40, co: 16, k: 1, s: 2, p: 0 },
    { name: "1x1/2 pad 0, 64→128, even", n: 2, h: 8, w: 8, ci: 64, co: 128, k: 1, s: 2, p: 0 },
    {
      name: "3x3/1 pad 1, 5→7 (no multiple of 8)",
      n: 2,
      h: 6,
      w: 5,
      ci: 5,
      co: 7,
      k: 3,
      s: 1,
      p: 1,
    },
  ];

  function grads(c: ConvShape, seed: number) {
    const [ho, wo] = outSize(c);
    const x = randomArray(c.n * c.h * c.w * c.ci, seed);
    const w = randomArray(c.k * c.k * c.ci * c.co, seed + 1);
    const dy = randomArray(c.n * ho * wo * c.co, seed + 2);
    let gi: Float32Array = new Float32Array(0);
    let gf: Float32Array = new Float32Array(0);
    let y: Float32Array = new Float32Array(0);
    tf.tidy(() => {
      const xt = tf.tensor4d(x, [c.n, c.h, c.w, c.ci]);
      const wt = tf.tensor4d(w, [c.k, c.k, c.ci, c.co]);
      const dyt = tf.tensor4d(dy, [c.n, ho, wo, c.co]);
      gi = conv2dGradInput(dyt, wt, xt.shape, c.s, c.p).dataSync() as Float32Array;
      gf = conv2dGradFilter(xt, dyt, wt.shape, c.s, c.p).dataSync() as Float32Array;
      y = conv2d(xt, wt, c.s, c.p).dataSync() as Float32Array;
    });
    return { x, w, dy, gi, gf, y };
  }

  Deno.test(`onednn (${store} store): chosen on request, reports version, ISA and threads`, () => {
    if (!onednnActive() || !info.onednn) throw new Error(`not active: ${JSON.stringify(info)}`);
    if (info.name !== store || info.onednn.store !== store) {
      throw new Error(`tensor store ${info.name}, expected ${store}`);
    }
    if (!/^2\.\d+\.\d+$/.test(info.onednn.version)) throw new Error(info.onednn.version);
    if (!info.onednn.isa || info.onednn.threads < 1) throw new Error(JSON.stringify(info.onednn));
    const line = describeBackend();
    for (const part of [`oneDNN ${info.onednn.version}`, info.onednn.isa, "oneDNN kernels"]) {
      if (!line.includes(part)) throw new Error(`'${line}' lacks '${part}'`);
    }
  });

  // Each shape on both paths: oneDNN's direct convolutions (limit 0) and im2col + matmul on the
  // HWIO weights (limit Infinity); the default limit picks one of them by N·Ho·Wo.
  for (const [path, limit] of [["direct", 0], ["im2col + matmul", Infinity]] as const) {
    for (const c of SHAPES) {
      Deno.test(`onednn (${store} store) convolution (${path}): ${c.name}, ${c.n}×${c.h}×${c.w} = the definitions`, () => {
        setConvGemmLimit(limit);
        try {
          const g = grads(c, c.h * 31 + c.ci);
          assertClose("forward", g.y, refForward(c, g.x, g.w));
          assertClose("grad-filter", g.gf, refGradFilter(c, g.x, g.dy));
          assertClose("grad-input", g.gi, refGradInput(c, g.w, g.dy));
        } finally {
          setConvGemmLimit(undefined);
        }
      });
    }
  }

  Deno.test(`onednn (${store} store) convolutions run on oneDNN's primitives, cached per shape and path`, () => {
    const impls = onednnConvImpls();
    const shapes = Object.keys(impls);
    const gemm = shapes.filter((k) => k.endsWith(",gemm"));
    if (shapes.length - gemm.length < SHAPES.length || gemm.length < SHAPES.length) {
      throw new Error(`only ${shapes.length - gemm.length} direct and ${gemm.length} gemm cached`);
    }
    const before = shapes.length;
    grads(SHAPES[2], 5);
    if (Object.keys(onednnConvImpls()).length !== before) throw new Error("shape not reused");
    for (const [k, v] of Object.entries(impls)) {
      if (k.endsWith(",gemm") !== v.startsWith("im2col + matmul")) throw new Error(`${k}: ${v}`);
      // "ref:any" would be oneDNN's reference loops: slow, and a sign of an unsupported layout.
      if (SHAPES.some((c) => c.ci % 8 === 0 && k.startsWith(`${c.n},${c.h},${c.w},${c.ci},`))) {
        if (v.includes("ref")) throw new Error(`${k}: ${v}`);
      }
    }
  });

  Deno.test(`onednn (${store} store) default path: im2col + matmul up to 128 output positions`, () => {
    // 2·8·8 = 128 positions: matmul; 3·8·8 = 192: direct.
    for (const [n, gemm] of [[2, true], [3, false]] as const) {
      const c = { n, h: 8, w: 8, ci: 16, co: 16, k: 3, s: 1, p: 1 };
      grads(c, 9);
      const key = `${n},8,8,16,16,3,1,1${gemm ? ",gemm" : ""}`;
      if (!(key in onednnConvImpls())) throw new Error(`${key} not cached`);
    }
  });

  // Batch-norm: ranks 2 and 4, affine or not, channel counts oneDNN blocks and does not, a large
  // mean; against the composed version with TF.js's stock gradients on the cpu backend.
  for (
    const c of [
      { shape: [3, 5, 5, 4], affine: true, eps: 1e-5, offset: 2 },
      { shape: [2, 7, 6, 3], affine: false, eps: 2e-5, offset: 2 },
      { shape: [6, 4], affine: true, eps: 2e-5, offset: 2 },
      { shape: [8, 5], affine: false, eps: 2e-5, offset: 2 },
      { shape: [4, 13, 11, 32], affine: true, eps: 1e-5, offset: 2 },
      { shape: [300, 48], affine: true, eps: 1e-5, offset: 2 },
      { shape: [3, 6, 6, 16], affine: true, eps: 1e-5, offset: 50 },
    ]
  ) {
    Deno.test(`onednn (${store} store) batch-norm [${c.shape}] affine=${c.affine} = stock cpu`, () => {
      const n = c.shape.reduce((a, b) => a * b);
      const xv = randomArray(n, 3).map((v) => c.offset + 3 * v);
      const ref = reference(() => bnGrads(xv, c.shape, c.affine, c.eps));
      const got = bnGrads(xv, c.shape, c.affine, c.eps);
      const names = ["y", "mean", "variance", "dx", "dgamma", "dbeta"];
      ref.forEach((r, i) => assertClose(names[i], got[i], r));
    });
  }

  Deno.test(`onednn (${store} store) batch-norm: eps changes the result as by hand`, () => {
    if (!onednnActive()) throw new Error("oneDNN is not active");
    checkBatchNormEps(`onednn ${store}`, assertClose);
  });

  /** y and dL/dx of L = Σ maxPool2d(x)·dy on the active backend. */
  function poolGrads(xv: Float32Array, shape: [number, number, number, number], seed: number) {
    return tf.tidy(() => {
      const x = tf.tensor4d(xv, shape);
      const y = maxPool2d(x);
      const dy = tf.tensor(randomArray(y.size, seed), y.shape);
      const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(maxPool2d(a as tf.Tensor4D), dy)))(x);
      return [y.dataSync(), dx.dataSync()] as Float32Array[];
    });
  }

  Deno.test(`onednn (${store} store) max-pool gradient = stock cpu, ties to the first maximum`, () => {
    for (const shape of [[2, 8, 8, 5], [2, 9, 9, 16], [1, 7, 6, 4], [3, 4, 4, 64]] as const) {
      const n = shape.reduce((a: number, b: number) => a * b, 1);
      // Values from {-2, …, 2}: most windows hold ties.
      const xv = randomArray(n, 11 + shape[1]).map((v) => Math.round(2 * v));
      const ref = reference(() => poolGrads(xv, [...shape], 7));
      const got = poolGrads(xv, [...shape], 7);
      assertClose(`forward [${shape}]`, got[0], ref[0], 0);
      assertClose(`grad [${shape}]`, got[1], ref[1], 1e-6);
    }
    // The hand example of maxpool_test.ts: the tie 7/7 in window (1,0) goes to (2,0).
    const x = tf.tensor4d([1, 5, 2, 0, 3, 4, 9, 1, 7, 7, 0, 2, 6, 1, 8, 8], [1, 4, 4, 1]);
    const w = tf.tensor4d([1, 10, 100, 1000], [1, 2, 2, 1]);
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(maxPool2d(a as tf.Tensor4D), w)))(x);
    assertClose("hand dx", dx.dataSync(), [0, 1, 0, 0, 0, 0, 1010, 0, 100, 0, 0, 0, 0, 0, 0, 0], 0);
    tf.dispose([x, w, dx]);
  });

  Deno.test(`onednn (${store} store) relu and its gradient (from the output; 0 at 0, as PyTorch) = tf.relu on cpu`, () => {
    // Values from {-1, -0.5, 0, 0.5, 1}, so that many are exactly 0.
    const xv = randomArray(2 * 5 * 7 * 3, 4).map((v) => Math.round(2 * v) / 2);
    const dyv = randomArray(xv.length, 5);
    const run = (f: (t: tf.Tensor) => tf.Tensor) =>
      tf.tidy(() => {
        const x = tf.tensor4d(xv, [2, 5, 7, 3]), dy = tf.tensor4d(dyv, [2, 5, 7, 3]);
        const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), dy)))(x);
        return [f(x).dataSync(), dx.dataSync()] as Float32Array[];
      });
    const ref = reference(() => run((t) => tf.relu(t)));
    const got = run((t) => relu(t));
    assertClose("relu", got[0], ref[0], 0);
    assertClose("relu grad", got[1], ref[1], 0);
    if (!ref[1].some((v, i) => v === 0 && xv[i] === 0)) throw new Error("no zero input tested");
  });

  Deno.test(`onednn (${store} store) matMul (every transpose, rank 2 and 3) = the float64 definition`, () => {
    /** C = op(A)·op(B) in float64 from row-major stores. */
    const refMatMul = (
      a: Float32Array,
      b: Float32Array,
      [batch, m, k, n]: number[],
      ta: boolean,
      tb: boolean,
    ) => {
      const c = new Float64Array(batch * m * n);
      for (let q = 0; q < batch; q++) {
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let p = 0; p < k; p++) {
              const av = a[q * m * k + (ta ? p * m + i : i * k + p)];
              const bv = b[q * k * n + (tb ? j * k + p : p * n + j)];
              sum += av * bv;
            }
            c[(q * m + i) * n + j] = sum;
          }
        }
      }
      return c;
    };
    let seed = 20;
    for (const [batch, m, k, n] of [[1, 5, 7, 3], [1, 64, 1024, 64], [3, 4, 6, 5], [1, 9, 9, 1]]) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const av = randomArray(batch * m * k, seed++), bv = randomArray(batch * k * n, seed++);
          const rank3 = batch > 1;
          const aShape = [...(rank3 ? [batch] : []), ...(ta ? [k, m] : [m, k])];
          const bShape = [...(rank3 ? [batch] : []), ...(tb ? [n, k] : [k, n])];
          const got = tf.tidy(() =>
            tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), ta, tb).dataSync()
          );
          const what = `matMul ${batch}×[${m},${k}]·[${k},${n}] ta=${ta} tb=${tb}`;
          assertClose(what, got, refMatMul(av, bv, [batch, m, k, n], ta, tb), 1e-5);
        }
      }
    }
    // a float32 tensor cast from int32 (TF.js cpu shares the Int32Array: the kernel must convert)
    const got = tf.tidy(() => {
      const pm = tf.cast(tf.oneHot(tf.tensor1d([2, 0, 1], "int32"), 3), "float32");
      return tf.matMul(pm, tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2])).dataSync();
    });
    assertClose("one-hot pairing matMul", got, [5, 6, 1, 2, 3, 4], 0);
    const ran = onednnMatMulShapes();
    for (const key of ["1,64,1024,64,true,false", "3,4,6,5,false,true", "1,3,3,2,false,false"]) {
      if (!ran.includes(key)) throw new Error(`matMul ${key} did not run on oneDNN: ${ran}`);
    }
  });

  Deno.test(`onednn (${store} store) Add of equal shapes (cpu store: typed-array loop) = stock cpu, bit for bit`, () => {
    const av = randomArray(3 * 5 * 7 * 4, 30), bv = randomArray(av.length, 31);
    const run = () =>
      tf.tidy(() => {
        const same = tf.add(tf.tensor4d(av, [3, 5, 7, 4]), tf.tensor4d(bv, [3, 5, 7, 4]));
        const bcast = tf.add(tf.tensor4d(av, [3, 5, 7, 4]), tf.tensor1d(bv.slice(0, 4)));
        const ints = tf.add(tf.tensor1d([1, 2], "int32"), tf.tensor1d([3, 4], "int32"));
        return [same.dataSync(), bcast.dataSync(), ints.dataSync()] as Float32Array[];
      });
    const ref = reference(run);
    const got = run();
    assertClose("add, equal shapes", got[0], ref[0], 0);
    assertClose("add, broadcast", got[1], ref[1], 0);
    assertClose("add, int32", got[2], [4, 6], 0);
  });

  Deno.test(`onednn (${store} store) kernels leak no tensor and no heap buffer`, () => {
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.randomNormal([2, 9, 9, 3], 0, 1, "float32", 1) as tf.Tensor4D;
    const w1 = tf.variable(tf.randomNormal([7, 7, 3, 16], 0, 0.1, "float32", 2));
    const w2 = tf.variable(tf.randomNormal([3, 3, 16, 16], 0, 0.1, "float32", 3));
    const w3 = tf.variable(tf.randomNormal([1, 1, 16, 16], 0, 0.1, "float32", 4));
    const g = tf.variable(tf.ones([16])), b = tf.variable(tf.zeros([16]));
    const step = () => {
      const { value, grads } = tf.variableGrads(() => {
        let h = conv2d(x, w1 as tf.Tensor4D, 2, 3);
        const bn = batchNormTrain(h, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
        h = maxPool2d(relu(bn.y));
        const r = conv2d(h, w2 as tf.Tensor4D, 2, 1);
        const s = conv2d(h, w3 as tf.Tensor4D, 2, 0);
        const bn2 = batchNormTrain(tf.add(r, s) as tf.Tensor4D, null, null, 1e-5);
        tf.dispose([bn.mean, bn.variance, bn2.mean, bn2.variance]);
        return tf.mean(tf.square(bn2.y)) as tf.Scalar;
      }, [w1, w2, w3, g, b]);
      tf.dispose([value, grads]);
    };
    try {
      // Both convolution paths (direct; im2col + matmul).
      for (const limit of [0, Infinity]) {
        setConvGemmLimit(limit);
        step();
        const before = [tf.memory().numTensors, backend.numDataIds()];
        for (let i = 0; i < 5; i++) step();
        const after = [tf.memory().numTensors, backend.numDataIds()];
        if (after.join() !== before.join()) {
          throw new Error(`limit ${limit}: numTensors, buffers ${before} → ${after}`);
        }
      }
    } finally {
      setConvGemmLimit(undefined);
      tf.dispose([x, w1, w2, w3, g, b]);
    }
  });

  const step = resnetStep;

  /** Worst relative error over every parameter gradient (and its name). */
  function worstGrad(got: Map<string, Float32Array>, ref: Map<string, Float32Array>) {
    if (ref.size < 60) throw new Error(`only ${ref.size} parameters`);
    let worst = 0, name = "";
    for (const [k, r] of ref) {
      const g = got.get(k);
      if (!g) throw new Error(`no gradient for ${k}`);
      const e = relError(g, r);
      if (!(e <= worst)) [worst, name] = [e, k];
    }
    return { worst, name };
  }

  // wasm store: against the wasm engine (itself checked against the cpu backend's stock kernels in
  // train_step_test.ts); cpu store: the PyTorch fixtures (onednn_cpu_store_test.ts runs
  // tests/model/reference_test.ts on it; the wasm store meets them under `auto`).
  Deno.test(
    `onednn (${store} store): ResNet-18 step, 64 px batch 2${
      store === "wasm" ? " = wasm engine (1e-4)" : ""
    }, bit-identical repeat`,
    () => {
      const ours = step(64, 2);
      if (!Number.isFinite(ours.loss)) throw new Error(`loss ${ours.loss}`);
      if (store === "wasm") {
        setOnednn(false);
        let other: ReturnType<typeof step>;
        try {
          other = step(64, 2);
        } finally {
          setOnednn(undefined);
        }
        assertClose("loss", [ours.loss], [other.loss]);
        const { worst, name } = worstGrad(ours.grads, other.grads);
        if (!(worst <= 1e-4)) throw new Error(`worst gradient ${name}: ${worst.toExponential(3)}`);
      }
      // Same inputs, same machine, same threads: bit-identical (resume relies on it).
      const again = step(64, 2);
      if (again.loss !== ours.loss) throw new Error(`loss ${ours.loss} then ${again.loss}`);
      for (const [k, g] of ours.grads) {
        const h = again.grads.get(k) as Float32Array;
        for (let i = 0; i < g.length; i++) {
          if (!Object.is(g[i], h[i])) throw new Error(`${k}[${i}]: ${g[i]} then ${h[i]}`);
        }
      }
    },
  );
}
