/**
 * The memory of a training step, measured for lib/train/memory.ts's estimate (its
 * BYTES_PER_FEATURE) and docs/engine.md: for each configuration, in a child process of its own,
 * two training steps (forward, loss, `variableGradsFreeing` or `tf.variableGrads`, Adam) of the
 * RUL or baseline model on random data, then the wasm heap's size (it only grows: its high-water
 * mark; on the wasm store), the process's peak RSS (VmHWM), the step times, and the bytes per
 * feature-map element that the estimate's formula implies.
 *
 * Usage:
 *   deno run -A tools/measure_step_memory.ts OUT.json "SIZE BATCH [W0 [KIND [GRADS [STORE]]]]" ...
 *   (KIND rul|baseline, GRADS freeing|tfjs, STORE wasm|cpu; defaults 64 rul freeing wasm)
 *   deno run -A tools/measure_step_memory.ts --one SIZE BATCH W0 KIND GRADS   (one child)
 *
 * @module
 */
import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../lib/backend.ts";
import { createModel } from "../lib/model/mod.ts";
import { trainStep } from "../bench/step.ts";
import { Adam } from "../lib/train/adam.ts";
import { variableGradsFreeing } from "../lib/train/grads.ts";
import {
  BASE_BYTES,
  BYTES_PER_PARAMETER,
  featureElements,
  parameterCount,
} from "../lib/train/memory.ts";
import { machineInfo, versions } from "./measurement.ts";

/** This process's peak resident set size in MB (Linux VmHWM). */
function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

async function one(args: string[]): Promise<void> {
  const [size, batch, w0] = args.slice(0, 3).map(Number);
  const kind = args[3] as "rul" | "baseline", grads = args[4];
  await initBackend();
  const widths = [w0, 2 * w0, 4 * w0, 8 * w0] as [number, number, number, number];
  // deno-lint-ignore no-explicit-any
  const be = tf.backend() as any;
  const mem: WebAssembly.Memory | undefined = be.wasm?.wasmMemory ?? be.wasm?.asm?.memory;
  const model = createModel({ kind, inputSize: size, numClasses: 7, seed: 0, widths });
  const opt = new Adam([{ name: "all", params: model.namedParameters(), lr: 1e-3 }]);
  const x = tf.randomNormal([batch, size, size, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  const labels = new Int32Array(batch).map((_, i) => i % 7);
  const g = grads === "tfjs"
    ? (tf.variableGrads as unknown as typeof variableGradsFreeing)
    : variableGradsFreeing;
  const times: number[] = [];
  for (let s = 0; s < 2; s++) {
    const t0 = performance.now();
    await trainStep(model, opt, x, labels, g);
    times.push(Math.round((performance.now() - t0) / 10) / 100);
  }
  const heap = mem ? mem.buffer.byteLength : null;
  const E = featureElements(size, widths);
  const P = parameterCount({
    inputSize: size,
    widths,
    featureDim: kind === "rul" ? 64 : 0,
    numClasses: 7,
  });
  console.log(JSON.stringify({
    size,
    batch,
    widths: widths.join("-"),
    kind,
    grads,
    engine: describeBackend().split(";")[0],
    wasm_heap_mb: heap === null ? null : Math.round(heap / 2 ** 20),
    peak_rss_mb: peakRssMb(),
    step_seconds: times,
    bytes_per_feature: heap === null
      ? null
      : Math.round((heap - BYTES_PER_PARAMETER * P - BASE_BYTES) / (batch * E) * 10) / 10,
    num_tensors: tf.memory().numTensors,
  }));
}

async function main(): Promise<void> {
  if (Deno.args[0] === "--one") return one(Deno.args.slice(1));
  const [out, ...configs] = Deno.args;
  if (!out || configs.length === 0) {
    console.error(
      'usage: measure_step_memory.ts OUT.json "SIZE BATCH [W0 [KIND [GRADS [STORE]]]]" ...',
    );
    Deno.exit(2);
  }
  const loadBefore = fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
  const rows = [];
  for (const c of configs) {
    const [size, batch, w0 = "64", kind = "rul", grads = "freeing", store = "wasm"] = c.split(
      /\s+/,
    );
    const r = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", import.meta.filename!, "--one", size, batch, w0, kind, grads],
      env: { RUL_ONEDNN_STORE: store },
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    const text = new TextDecoder().decode(r.stdout).trim().split("\n").pop() ?? "";
    const row = r.success ? { ...JSON.parse(text), store } : {
      size: +size,
      batch: +batch,
      kind,
      grads,
      store,
      error: new TextDecoder().decode(r.stderr).trim().split("\n").pop(),
    };
    console.log(JSON.stringify(row));
    rows.push(row);
  }
  const doc = {
    what: "Memory of a training step (two steps of forward, loss, gradients, Adam on random " +
      "data, each configuration in its own process): the wasm heap's size after them (its " +
      "high-water mark, wasm store), the process's peak RSS (VmHWM), step times, and the bytes " +
      "per feature-map element implied by lib/train/memory.ts's formula. Step times depend on " +
      "the machine's load (see load_average); the memory figures do not.",
    command: `deno run -A tools/measure_step_memory.ts ${out} ${
      configs.map((c) => `"${c}"`).join(" ")
    }`,
    date: new Date().toISOString(),
    machine: {
      ...machineInfo(),
      load_average: {
        before: loadBefore,
        after: fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number),
      },
    },
    versions: await versions(),
    env: { RUL_THREADS: Deno.env.get("RUL_THREADS") ?? null },
    figures: { rows },
  };
  fs.writeFileSync(out, JSON.stringify(doc, null, 2) + "\n");
  console.log(`wrote ${out}`);
}

if (import.meta.main) await main();
