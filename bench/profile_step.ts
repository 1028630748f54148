/**
 * Where the time of one ResNet-18 training step goes: phase times (forward, forward+backward,
 * Adam update) and the per-kernel breakdown from `tf.profile` (kernel wall time summed by kernel
 * name; on wasm/cpu kernels are synchronous, so this is their real cost). Time not inside any
 * kernel (JS-side work such as the max-pool backward scatter and TF.js bookkeeping) is reported
 * as "outside kernels".
 *
 * On WebGPU (`RUL_BACKEND=webgpu`) kernels are queued, not run, when called: phase times wait
 * for a read-back, and `tf.profile`'s kernel times come from the GPU's timestamp queries (the
 * adapter's `timestamp-query` feature; without it they are 0 and the backend warns), so the
 * breakdown names the slow shader programs.
 *
 * Usage: deno run -A bench/profile_step.ts [--size 112] [--batch 16] [--top 25] [--threads N]
 *   [--model baseline|rul] [--width 64]
 *
 * `--width` is the first stage's channels (the others double: 32 = the demo's model).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { parseArgs } from "node:util";
import { describeBackend, initBackend } from "../lib/backend.ts";
import { createModel, disposeModelOutput } from "../lib/model/mod.ts";
import { Adam } from "../lib/train/adam.ts";
import { variableGradsFreeing } from "../lib/train/grads.ts";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "112" },
    batch: { type: "string", default: "16" },
    top: { type: "string", default: "25" },
    threads: { type: "string" },
    model: { type: "string", default: "baseline" },
    width: { type: "string", default: "64" },
  },
});
if (values.model !== "baseline" && values.model !== "rul") {
  throw new Error(`--model: baseline or rul, got '${values.model}'`);
}
const size = Number(values.size), batch = Number(values.batch), top = Number(values.top);
const info = await initBackend({ threads: values.threads ? Number(values.threads) : undefined });
console.log(
  `backend: ${describeBackend()}; ${size} px, batch ${batch}, width ${values.width}; ` +
    "noisy shared machine",
);

const model = createModel({
  kind: values.model as "baseline" | "rul",
  inputSize: size,
  widths: [1, 2, 4, 8].map((m) => m * Number(values.width)) as [number, number, number, number],
  numClasses: 7,
  seed: 0,
});
// The library's Adam (PyTorch semantics, fused on wasm), as the trainer uses it.
const opt = new Adam([{ name: "all", params: model.namedParameters(), lr: 1e-3 }]);
const x = tf.randomNormal([batch, size, size, 3], 0, 1, "float32", 1) as tf.Tensor4D;
const labels = Int32Array.from({ length: batch }, (_, i) => i % 7);
const vars = model.trainableVariables();

const lossOf = () => {
  const out = model.forwardTrain(x, { labels });
  const loss = model.loss(out, labels);
  disposeModelOutput(out);
  return loss;
};
const grads = () => variableGradsFreeing(lossOf, vars);
const step = () =>
  tf.tidy(() => {
    const g = grads();
    opt.step(g.grads);
    tf.dispose([g.value, g.grads]);
  });

/** Wait until everything queued so far has run (a read of the last updated weight). */
const settle = async () => void await vars[vars.length - 1].data();
step(); // warm-up, creates Adam's slots
await settle();
/** Milliseconds of `f` until its work has run (a read-back; WebGPU queues work). */
const ms = async (f: () => tf.Tensor | void) => {
  const t0 = performance.now();
  const t = f();
  if (t) {
    await t.data();
    t.dispose();
  } else await settle();
  return performance.now() - t0;
};
// Best of 3 for each phase (the machine is shared).
let fwd = Infinity, fwdBwd = Infinity, adam = Infinity, whole = Infinity;
for (let rep = 0; rep < 3; rep++) {
  fwd = Math.min(fwd, await ms(() => tf.tidy(() => lossOf())));
  let g: ReturnType<typeof variableGradsFreeing> | undefined;
  fwdBwd = Math.min(
    fwdBwd,
    await ms(() => {
      g = grads();
      return tf.clone(g.grads[vars[0].name]); // the last gradient computed (first layer)
    }),
  );
  adam = Math.min(adam, await ms(() => opt.step(g!.grads)));
  tf.dispose([g!.value, g!.grads]);
  whole = Math.min(whole, await ms(step));
}
console.log(
  `phases (ms): forward ${fwd.toFixed(0)}, backward ${(fwdBwd - fwd).toFixed(0)}, ` +
    `Adam ${adam.toFixed(0)}; whole step ${whole.toFixed(0)} (${
      (batch / whole * 1000).toFixed(2)
    } ` +
    "img/s)",
);

const t0 = performance.now();
const prof = await tf.profile(async () => {
  step();
  await settle();
});
const profiledMs = performance.now() - t0;
const byName = new Map<string, { ms: number; n: number }>();
let kernelMs = 0;
for (const k of prof.kernels) {
  const t = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
  const e = byName.get(k.name) ?? { ms: 0, n: 0 };
  e.ms += t;
  e.n += 1;
  byName.set(k.name, e);
  kernelMs += t;
}
const sorted = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms);
console.log(
  `\nkernel breakdown of one profiled step (${profiledMs.toFixed(0)} ms with profiling):`,
);
console.log("kernel                        calls     ms      %");
for (const [name, e] of sorted.slice(0, top)) {
  console.log(
    `${name.padEnd(28)} ${String(e.n).padStart(6)} ${e.ms.toFixed(1).padStart(7)} ${
      (100 * e.ms / profiledMs).toFixed(1).padStart(6)
    }`,
  );
}
const outside = profiledMs - kernelMs;
console.log(
  `${"outside kernels".padEnd(28)} ${"".padStart(6)} ${outside.toFixed(1).padStart(7)} ${
    (100 * outside / profiledMs).toFixed(1).padStart(6)
  }`,
);
console.log(JSON.stringify({
  bench: "profile_step",
  backend: info,
  model: values.model,
  size,
  batch,
  phasesMs: { forward: fwd, backward: fwdBwd - fwd, adam, step: whole },
  profiledMs,
  outsideKernelsMs: outside,
  kernels: sorted.map(([name, e]) => ({ name, calls: e.n, ms: e.ms })),
}));
x.dispose();
opt.dispose();
model.dispose();
