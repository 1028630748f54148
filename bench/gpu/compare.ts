/**
 * WebGPU against the wasm engine on the same training steps: the same model (same seed, so the
 * same initial weights), the same batch, pairing and dropout draws, the library's Adam. For each
 * variant it reports the first step's loss and every gradient, the losses of `steps` steps and
 * the weights after them, as relative errors of WebGPU against wasm:
 *
 *   loss:      |ℓ_gpu − ℓ_wasm| / |ℓ_wasm| (first step; later steps separately)
 *   gradients: ‖g_gpu,t − g_wasm,t‖₂ / max(‖g_wasm,t‖₂, 10⁻³·‖g_wasm‖₂·√(n_t/N)) per tensor t
 *              (n_t elements of N in all; the maximum over tensors is reported), and the same
 *              over all gradients at once
 *
 * The floor in the gradients' denominator is 1/1000 of the norm tensor t would have if the
 * gradient were spread evenly: without it a gradient that is zero in exact arithmetic (the bias
 * of a Linear feeding a batch norm, as in RUL's heads) would compare rounding noise with rounding
 * noise. After the first step the two runs drift apart by more than rounding: Adam's first
 * steps move every weight by about lr·sign(g), so gradients at rounding level take steps of
 * random sign on either backend (PyTorch on two GPUs does the same); later steps' losses are
 * therefore reported separately (`laterLossRelErr`).
 *
 * Used by tests/webgpu/correctness_test.ts (which asserts ≤ 1e-4 on Mesa's software adapter)
 * and by the GPU check (bench/gpu/check.ts), which records it from the real GPU.
 *
 * Usage: deno run -A bench/gpu/compare.ts [--size 32] [--batch 4] [--steps 3]
 *   [--variants baseline,rul,rul-pair-hardest] [--widths 64,128,256,512] [--threads N]
 * Prints one line per variant, then one JSON line (the LAST line) with every figure.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { parseArgs } from "node:util";
import { initBackend, probeWebgpuAdapter } from "../../lib/backend.ts";
import { createModel, disposeModelOutput } from "../../lib/model/mod.ts";
import { mulberry32 } from "../../lib/random.ts";
import { Adam } from "../../lib/train/adam.ts";
import { type Variant, variantSwitches } from "../../lib/rul/variants.ts";

/** Options of {@link compareBackends}. */
export interface CompareOptions {
  /** Input size in pixels. */
  size: number;
  /** Batch size. */
  batch: number;
  /** Training steps compared (the first one also gradient by gradient). */
  steps: number;
  /** Training variants (lib/train's names). */
  variants: Variant[];
  /** ResNet stage widths (default the real 64/128/256/512). */
  widths?: [number, number, number, number];
}

/** One backend's run of one variant, on the host. */
interface Run {
  losses: number[];
  grads: Map<string, Float32Array>;
  weights: Map<string, Float32Array>;
  seconds: number[];
}

/** WebGPU-vs-wasm figures of one variant. */
export interface VariantComparison {
  /** Variant name. */
  variant: Variant;
  /** Loss of each step on wasm and on WebGPU. */
  lossWasm: number[];
  /** Loss of each step on WebGPU. */
  lossWebgpu: number[];
  /** First step: |ℓ_gpu − ℓ_wasm| / |ℓ_wasm|. */
  lossRelErr: number;
  /** max over the later steps of |ℓ_gpu − ℓ_wasm| / |ℓ_wasm| (0 with one step). */
  laterLossRelErr: number;
  /** max over the first step's gradients of the floored relative error (see the module doc). */
  gradRelErr: number;
  /** ‖g_gpu − g_wasm‖₂ / ‖g_wasm‖₂ over all gradients of the first step together. */
  gradRelErrAll: number;
  /** The gradient with that largest error. */
  worstGrad: string;
  /** Number of gradients compared. */
  grads: number;
  /** max over parameters and buffers after `steps` steps of ‖w_gpu − w_wasm‖₂ / ‖w_wasm‖₂. */
  weightRelErr: number;
  /** The state tensor with that largest error. */
  worstWeight: string;
  /** Step times in seconds (first step includes kernel compilation). */
  secondsWasm: number[];
  /** Step times on WebGPU in seconds. */
  secondsWebgpu: number[];
}

/** Everything {@link compareBackends} measured. */
export interface Comparison {
  /** The options used. */
  options: CompareOptions;
  /** The WebGPU adapter (or why there is none). */
  adapter: unknown;
  /** One entry per variant. */
  variants: VariantComparison[];
}

/** A deterministic batch (host-generated, so identical on every backend). */
function batchOf(n: number, size: number): { x: Float32Array; labels: Int32Array } {
  const rng = mulberry32(12345);
  const x = new Float32Array(n * size * size * 3);
  for (let i = 0; i < x.length; i++) x[i] = 2 * rng() - 1;
  // Two samples per label where possible, so every pairing has different-label partners.
  const labels = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 2) % 7);
  return { x, labels };
}

/** Train `steps` steps of `variant` on the active backend; everything read back to the host. */
async function runOn(variant: Variant, o: CompareOptions): Promise<Run> {
  const sw = variantSwitches(variant);
  const model = createModel({
    ...sw,
    inputSize: o.size,
    numClasses: 7,
    seed: 7,
    ...(o.widths ? { widths: o.widths } : {}),
  });
  const opt = new Adam([{ name: "all", params: model.namedParameters(), lr: 1e-3 }]);
  const { x: xh, labels } = batchOf(o.batch, o.size);
  const x = tf.tensor4d(xh, [o.batch, o.size, o.size, 3]);
  const rng = mulberry32(99);
  const vars = model.trainableVariables();
  const names = new Map<tf.Variable, string>();
  for (const [n, v] of model.namedParameters()) names.set(v, n);
  const run: Run = { losses: [], grads: new Map(), weights: new Map(), seconds: [] };
  try {
    for (let s = 0; s < o.steps; s++) {
      const t0 = performance.now();
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forwardTrain(x, { labels, rng });
        const loss = model.loss(out, labels);
        disposeModelOutput(out);
        return loss;
      }, vars);
      if (s === 0) {
        for (const v of vars) {
          run.grads.set(names.get(v)!, (await grads[v.name].data()) as Float32Array);
        }
      }
      opt.step(grads);
      run.losses.push((await value.data())[0]);
      tf.dispose([value, ...Object.values(grads)]);
      run.seconds.push((performance.now() - t0) / 1000);
    }
    const sd = model.stateDict();
    for (const [n, t] of sd) {
      if (t.dtype === "float32") run.weights.set(n, (await t.data()) as Float32Array);
    }
    tf.dispose([...sd.values()]);
  } finally {
    x.dispose();
    opt.dispose();
    model.dispose();
  }
  return run;
}

/** Σ x² of every tensor of `m`, and the number of elements. */
function energy(m: Map<string, Float32Array>): { sq: number; n: number } {
  let sq = 0, n = 0;
  for (const a of m.values()) {
    for (let i = 0; i < a.length; i++) sq += a[i] * a[i];
    n += a.length;
  }
  return { sq, n };
}

/**
 * Largest relative error over the tensors of `ref` and its name; with `floor`, each tensor's
 * denominator is at least floor·‖ref‖₂·√(n_t/N) (see the module doc).
 */
function worst(
  a: Map<string, Float32Array>,
  ref: Map<string, Float32Array>,
  floor = 0,
): [number, string] {
  const all = energy(ref);
  let e = 0, name = "";
  for (const [n, r] of ref) {
    const g = a.get(n);
    if (!g || g.length !== r.length) return [Infinity, `${n} (missing or mis-shaped)`];
    let d = 0, q = 0;
    for (let i = 0; i < r.length; i++) {
      d += (g[i] - r[i]) ** 2;
      q += r[i] ** 2;
    }
    const den = Math.max(Math.sqrt(q), floor * Math.sqrt(all.sq * r.length / all.n));
    const v = den === 0 ? (d === 0 ? 0 : Infinity) : Math.sqrt(d) / den;
    if (!(v <= e)) [e, name] = [v, n];
  }
  return [e, name];
}

/** Relative error over all tensors at once. */
function relAll(a: Map<string, Float32Array>, ref: Map<string, Float32Array>): number {
  let d = 0, q = 0;
  for (const [n, r] of ref) {
    const g = a.get(n)!;
    for (let i = 0; i < r.length; i++) {
      d += (g[i] - r[i]) ** 2;
      q += r[i] ** 2;
    }
  }
  return q === 0 ? (d === 0 ? 0 : Infinity) : Math.sqrt(d / q);
}

/**
 * Run every variant on wasm, then on WebGPU (whatever adapter Deno offers; the software one
 * included), and compare. Leaves the WebGPU backend active. Throws when WebGPU cannot start.
 */
export async function compareBackends(o: CompareOptions): Promise<Comparison> {
  await initBackend({ backend: "wasm" });
  const wasm = new Map<Variant, Run>();
  for (const v of o.variants) wasm.set(v, await runOn(v, o));
  const adapter = await probeWebgpuAdapter();
  await import("@tensorflow/tfjs-backend-webgpu");
  if (!(await tf.setBackend("webgpu"))) throw new Error("the webgpu backend did not initialise");
  const out: VariantComparison[] = [];
  for (const v of o.variants) {
    const g = await runOn(v, o);
    const w = wasm.get(v)!;
    const rel = w.losses.map((l, i) => Math.abs(g.losses[i] - l) / Math.max(Math.abs(l), 1e-12));
    const [gradRelErr, worstGrad] = worst(g.grads, w.grads, 1e-3);
    const [weightRelErr, worstWeight] = worst(g.weights, w.weights);
    out.push({
      variant: v,
      lossWasm: w.losses,
      lossWebgpu: g.losses,
      lossRelErr: rel[0],
      laterLossRelErr: Math.max(0, ...rel.slice(1)),
      gradRelErr,
      gradRelErrAll: relAll(g.grads, w.grads),
      worstGrad,
      grads: w.grads.size,
      weightRelErr,
      worstWeight,
      secondsWasm: w.seconds,
      secondsWebgpu: g.seconds,
    });
  }
  return { options: o, adapter, variants: out };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      size: { type: "string", default: "32" },
      batch: { type: "string", default: "4" },
      steps: { type: "string", default: "3" },
      variants: { type: "string", default: "baseline,rul,rul-pair-hardest" },
      widths: { type: "string" },
      threads: { type: "string" },
    },
  });
  const int = (s: string, flag: string) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${flag}: bad value '${s}'`);
    return n;
  };
  if (values.threads) Deno.env.set("RUL_THREADS", values.threads);
  const widths = values.widths?.split(",").map((w) => int(w, "widths"));
  if (widths && widths.length !== 4) throw new Error("--widths needs four numbers");
  const r = await compareBackends({
    size: int(values.size!, "size"),
    batch: int(values.batch!, "batch"),
    steps: int(values.steps!, "steps"),
    variants: values.variants!.split(",") as Variant[],
    widths: widths as [number, number, number, number] | undefined,
  });
  const a = r.adapter as { description?: string };
  console.log(`adapter: ${typeof r.adapter === "string" ? r.adapter : a.description}`);
  for (const v of r.variants) {
    console.log(
      `${v.variant}: loss rel err ${v.lossRelErr.toExponential(2)} (steps 2+: ${
        v.laterLossRelErr.toExponential(2)
      }), grads ${v.gradRelErr.toExponential(2)} (worst ${v.worstGrad}; all ${
        v.gradRelErrAll.toExponential(2)
      }), weights after ${r.options.steps} steps ${
        v.weightRelErr.toExponential(2)
      } (worst ${v.worstWeight})`,
    );
  }
  console.log(JSON.stringify({ bench: "webgpu_vs_wasm", ...r }));
}
