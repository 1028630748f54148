/**
 * ResNet-18 training steps (forward, cross-entropy, backward, Adam) in images/s: the library's
 * baseline model (backbone + global pool + fc) on the engine, side by side with torchvision's
 * ResNet-18 layout in PyTorch on the same machine (same threads, batch, size;
 * `tools/bench_torch_step.py`): Debian's PyTorch 1.13 (`/usr/bin/python3`) and a current PyTorch
 * 2.x (`.venv-bench/bin/python`, made by `tools/setup_bench_venv.sh`; `--torch2-python` or
 * `RUL_TORCH2_PYTHON` name another interpreter) in NCHW and in channels_last. `ours/PT2` is the
 * ratio to the faster PyTorch 2.x layout of each row. Every PyTorch run reports its process's
 * peak RSS, printed beside ours for the configurations that run in their own process: the cpu
 * store's, and those named by `--rss-rows` (default the paper's 224x64), which are run once more
 * in a child process of their own after their timed rounds, only for that process's peak RSS
 * (its images/s are not used).
 * With the native CPU engine (oneDNN) active, each configuration is also timed on the wasm engine
 * (oneDNN switched off with `setOnednn(false)`, same process, same model), so both CPU engines
 * appear beside PyTorch in one run.
 *
 * Usage: deno run -A bench/train_step.ts [--sizes 64,112,224] [--batches 16,64] [--steps 5]
 *   [--warmup 3] [--rounds 2]
 *   [--leak-steps 20] [--threads N] [--no-torch] [--no-torch2] [--torch2-python PATH] [--no-wasm]
 *   [--model baseline|rul]
 *
 * `--model rul` times the RUL model (heads, mixing, add-up loss) instead of the baseline; the
 * PyTorch side stays torchvision's ResNet-18 (the GPU check compares RUL with RUL through
 * tools/torch_rul_step.py). The backend is `initBackend()`'s (`RUL_BACKEND=webgpu` for WebGPU).
 *
 * Prints a table, then one JSON line with every figure. Figures are best-of-`steps` step times
 * after `warmup` untimed steps (the same counts on both sides; one warm-up step left the first
 * configuration of a process 15 % slow: V8's compilation and the first allocations), in
 * `rounds` interleaved rounds per configuration (ours, PyTorch, ours, PyTorch, ...; each side's
 * best round is reported): these machines drift by ±20 % over minutes, more than the engines
 * differ, and interleaving gives every side the same chances (ours, PyTorch 1.13, PyTorch 2.x
 * NCHW, PyTorch 2.x channels_last, then again), each step timed until one of its updated weights
 * has been read back
 * (on WebGPU the work is queued: without the read the time would miss the GPU's part); on a
 * machine shared with other jobs they are noisy. `memory` in the JSON is `tf.memory()` after
 * the steps (on WebGPU with the bytes the backend holds in GPU buffers).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { describeBackend, initBackend } from "../lib/backend.ts";
import { createModel, type FerModel } from "../lib/model/mod.ts";
import { Adam } from "../lib/train/adam.ts";
import { estimateStepBytes, largestBatch, WASM_HEAP_LIMIT } from "../lib/train/memory.ts";
import { trainStep } from "./step.ts";
import { onednnActive, setOnednn } from "../lib/engine/onednn.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "64,112,224" },
    batches: { type: "string", default: "16,64" },
    steps: { type: "string", default: "5" },
    warmup: { type: "string", default: "3" },
    rounds: { type: "string", default: "2" },
    "leak-steps": { type: "string", default: "20" },
    threads: { type: "string" },
    "no-torch": { type: "boolean", default: false },
    "no-torch2": { type: "boolean", default: false },
    "torch2-python": { type: "string" },
    model: { type: "string", default: "baseline" },
    "no-wasm": { type: "boolean", default: false },
    "rss-rows": { type: "string", default: "224x64" },
  },
});
if (values.model !== "baseline" && values.model !== "rul") {
  throw new Error(`--model: baseline or rul, got '${values.model}'`);
}
const kind = values.model as "baseline" | "rul";
const list = (s: string, flag: string) =>
  s.split(",").map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${flag}: bad value '${v}'`);
    return n;
  });
const sizes = list(values.sizes!, "sizes");
const batches = list(values.batches!, "batches");
const steps = Number(values.steps);
const warmup = Number(values.warmup);
if (!Number.isInteger(warmup) || warmup < 1) throw new Error(`--warmup: bad value '${warmup}'`);
/** The configurations ("SIZExBATCH") whose step also runs in a child process for its peak RSS. */
const rssRows = new Set(values["rss-rows"]!.split(",").filter(Boolean));
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: bad value '${rounds}'`);

/** The better of two measurements (images/s; null: not measured). */
function best<T extends { imgS: number | null }>(a: T | null, b: T): T {
  return a === null || (b.imgS !== null && (a.imgS === null || b.imgS > a.imgS)) ? b : a;
}
const leakSteps = Number(values["leak-steps"]);

/** Peak resident set size of this process in MB (Linux VmHWM), or null elsewhere. */
function peakRssMb(): number | null {
  try {
    const m = readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

interface Row {
  size: number;
  batch: number;
  /**
   * The engine: oneDNN (`onednn` on its wasm store, `onednn-cpu` on its cpu store above the
   * wasm heap), else wasm; on other backends their name (webgpu).
   */
  engine: string;
  /** Peak RSS of the child process that ran this row (onednn-cpu rows). */
  childPeakRssMb?: number | null;
  oursImgS: number;
  oursStepS: number[];
  /** The wasm engine in the same run (null when not measured). */
  wasmImgS: number | null;
  /** Debian's PyTorch 1.13 (NCHW). */
  torchImgS: number | null;
  ratio: number | null;
  /** PyTorch 2.x in NCHW and channels_last, the better of them, and ours over that. */
  torch2NchwImgS: number | null;
  torch2ChannelsLastImgS: number | null;
  torch2BestImgS: number | null;
  torch2BestLayout: TorchFormat | null;
  ratioTorch2: number | null;
  /** Peak RSS (MB) of each PyTorch process (the largest of its rounds). */
  torchPeakRssMb: Partial<Record<TorchKey, number>>;
  wasmRatio: number | null;
  torchNote?: string;
}

const info = await initBackend({ threads: values.threads ? Number(values.threads) : undefined });
console.log(`backend: ${describeBackend()}`);
console.log("machine shared with other jobs: figures are noisy.");

type TorchFormat = "nchw" | "channels_last";
type TorchKey = "torch113" | "torch2Nchw" | "torch2ChannelsLast";
/** One PyTorch side of the comparison: an interpreter and a memory format. */
interface TorchSide {
  key: TorchKey;
  label: string;
  python: string;
  format: TorchFormat;
}
/** A PyTorch measurement: images/s (null: not run, with the reason), its peak RSS and version. */
interface TorchResult {
  imgS: number | null;
  note?: string;
  peakRssMb?: number | null;
  version?: string;
}

/** The interpreter with PyTorch 2.x: the option, RUL_TORCH2_PYTHON, else .venv-bench's. */
const torch2Python = values["torch2-python"] ?? Deno.env.get("RUL_TORCH2_PYTHON") ??
  new URL("../.venv-bench/bin/python", import.meta.url).pathname;
const torch2Missing = (() => {
  try {
    Deno.statSync(torch2Python);
    return null;
  } catch {
    return `no PyTorch 2.x at ${torch2Python} (make it with: bash tools/setup_bench_venv.sh)`;
  }
})();
const torchSides: TorchSide[] = values["no-torch"] ? [] : [
  { key: "torch113", label: "PyTorch 1.13", python: "/usr/bin/python3", format: "nchw" },
  ...(values["no-torch2"] ? [] : [
    { key: "torch2Nchw", label: "PyTorch 2 NCHW", python: torch2Python, format: "nchw" },
    {
      key: "torch2ChannelsLast",
      label: "PyTorch 2 channels_last",
      python: torch2Python,
      format: "channels_last",
    },
  ] as TorchSide[]),
];

/** Run one PyTorch side; returns images/s and peak RSS, or the reason it could not. */
function torchStep(side: TorchSide, size: number, batch: number): TorchResult {
  if (side.python === torch2Python && torch2Missing) return { imgS: null, note: torch2Missing };
  try {
    const out = new Deno.Command(side.python, {
      args: [
        "tools/bench_torch_step.py",
        "--size",
        String(size),
        "--batch",
        String(batch),
        "--threads",
        String(info.threads),
        "--steps",
        String(steps),
        "--warmup",
        String(warmup),
        "--memory-format",
        side.format,
      ],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
    if (!out.success) {
      return { imgS: null, note: new TextDecoder().decode(out.stderr).trim().split("\n").pop() };
    }
    const r = JSON.parse(text);
    return r.ok
      ? { imgS: r.img_per_s, peakRssMb: r.peak_rss_mb, version: r.torch }
      : { imgS: null, note: r.error };
  } catch (e) {
    return { imgS: null, note: `PyTorch not run: ${e instanceof Error ? e.message : e}` };
  }
}

/** The best of each PyTorch side over the rounds (and the largest peak RSS). */
type TorchBest = Partial<Record<TorchKey, TorchResult>>;
/** One round of every PyTorch side, folded into `acc`. */
function torchRound(acc: TorchBest, size: number, batch: number): TorchBest {
  for (const side of torchSides) {
    const r = torchStep(side, size, batch);
    const prev = acc[side.key] ?? null;
    const rss = Math.max(prev?.peakRssMb ?? 0, r.peakRssMb ?? 0) || null;
    acc[side.key] = { ...best(prev, r), peakRssMb: rss };
    if (r.version) versions[side.key] = r.version;
  }
  return acc;
}
/** The PyTorch part of a row's progress line. */
function torchLine(r: Row): string {
  const f = (v: number | null) => v?.toFixed(2) ?? "-";
  return `PyTorch 1.13 ${f(r.torchImgS)}, 2.x NCHW ${f(r.torch2NchwImgS)}, 2.x channels_last ${
    f(r.torch2ChannelsLastImgS)
  } img/s${r.torchNote ? ` (${r.torchNote})` : ""}`;
}

/** PyTorch versions by side (from the runs). */
const versions: Partial<Record<TorchKey, string>> = {};

/** The PyTorch columns of a row from the rounds' best, against our images/s. */
function torchColumns(t: TorchBest, ours: number) {
  const n = t.torch2Nchw?.imgS ?? null, c = t.torch2ChannelsLast?.imgS ?? null;
  const bestLayout: TorchFormat | null = n === null && c === null
    ? null
    : (c ?? -1) > (n ?? -1)
    ? "channels_last"
    : "nchw";
  const best2 = bestLayout === null ? null : Math.max(n ?? -1, c ?? -1);
  const t113 = t.torch113?.imgS ?? null;
  const note = [t.torch113, t.torch2Nchw, t.torch2ChannelsLast].find((r) => r?.note)?.note;
  return {
    torchImgS: t113,
    ratio: t113 ? ours / t113 : null,
    torch2NchwImgS: n,
    torch2ChannelsLastImgS: c,
    torch2BestImgS: best2,
    torch2BestLayout: bestLayout,
    ratioTorch2: best2 ? ours / best2 : null,
    torchPeakRssMb: Object.fromEntries(
      Object.entries(t).filter(([, r]) => r?.peakRssMb).map(([k, r]) => [k, r?.peakRssMb]),
    ) as Partial<Record<TorchKey, number>>,
    ...(note ? { torchNote: note } : {}),
  };
}

/**
 * One configuration of the native engine in a child process running this bench with
 * `RUL_ONEDNN_STORE=store` (`cpu`: tensors outside the wasm heap, for steps beyond it; `wasm`:
 * the store the parent measured, for the step's own peak RSS); images/s, step times, peak RSS.
 */
function childStep(size: number, batch: number, store: "cpu" | "wasm") {
  const fail = (note: string) => ({ imgS: null, times: [], peakRssMb: null, note });
  try {
    const out = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL(import.meta.url).pathname,
        `--sizes=${size}`,
        `--batches=${batch}`,
        `--steps=${steps}`,
        `--warmup=${warmup}`,
        "--leak-steps=0",
        `--threads=${info.threads}`,
        `--model=${kind}`,
        "--no-torch",
        "--no-wasm",
        "--rss-rows=",
      ],
      env: { RUL_BACKEND: "onednn", RUL_ONEDNN_STORE: store },
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
    if (!out.success) {
      return fail(new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "");
    }
    const r = JSON.parse(text);
    const row = r.rows?.[0];
    if (!row) return fail(r.failures?.[0]?.error ?? "no row");
    return {
      imgS: row.oursImgS as number,
      times: row.oursStepS as number[],
      peakRssMb: r.peakRssMb as number | null,
      note: "",
    };
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
}

/** Whether a training step of this model at `size` px, batch `batch` exceeds the wasm32 heap (4
 * GiB), by the trainer's own estimate (lib/train/memory.ts): the trainer then uses the cpu store. */
function beyondWasmHeap(size: number, batch: number): boolean {
  return estimateStepBytes({ ...benchShape(size), batch }) > WASM_HEAP_LIMIT;
}
/** The bench model's step shape at `size` px (lib/train/memory.ts), without the batch. */
function benchShape(size: number) {
  const widths = [64, 128, 256, 512] as const;
  return { inputSize: size, widths, featureDim: kind === "rul" ? 64 : 0, numClasses: 7 };
}
const rows: Row[] = [];
const failures: { size: number; batch: number; error: string }[] = [];

/** Warm-up, then `steps` timed steps (and the leak check on the first configuration). */
async function runOurs(model: FerModel, opt: Adam, size: number, batch: number) {
  const x = tf.randomNormal([batch, size, size, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  try {
    const labels = Int32Array.from({ length: batch }, (_, i) => i % 7);
    const tw = performance.now();
    // warm-up (creates Adam's slots and the primitives, compiles kernels)
    for (let i = 0; i < warmup; i++) await trainStep(model, opt, x, labels);
    warmupSeconds.push({ size, batch, seconds: (performance.now() - tw) / 1000 });
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await trainStep(model, opt, x, labels);
      times.push((performance.now() - t0) / 1000);
    }
    memoryBox.push({ size, batch, memory: tf.memory() }); // while the model and Adam live
    if (leakBox.value === null && leakSteps > 0) {
      const before = tf.memory().numTensors;
      for (let i = 0; i < leakSteps; i++) await trainStep(model, opt, x, labels);
      leakBox.value = { steps: leakSteps, before, after: tf.memory().numTensors, size, batch };
    }
    return { imgS: batch / Math.min(...times), times };
  } finally {
    x.dispose();
  }
}
/** numTensors before/after `steps` extra steps of the first configuration. */
interface Leak {
  steps: number;
  before: number;
  after: number;
  size: number;
  batch: number;
}
const leakBox: { value: Leak | null } = { value: null };
/** `tf.memory()` after each configuration's timed steps (WebGPU: bytes in GPU buffers). */
const memoryBox: { size: number; batch: number; memory: tf.MemoryInfo }[] = [];
/** Time of each configuration's first step (kernel compilation included). */
const warmupSeconds: { size: number; batch: number; seconds: number }[] = [];
for (const size of sizes) {
  const model = createModel({ kind, inputSize: size, numClasses: 7, seed: 0 });
  // The library's Adam (PyTorch semantics, fused on wasm), as the trainer uses it.
  const opt = new Adam([{ name: "all", params: model.namedParameters(), lr: 1e-3 }]);
  for (const batch of batches) {
    if (info.onednn?.store === "wasm" && beyondWasmHeap(size, batch)) {
      // Too big for the wasm heap: the native engine on its cpu store, in a child process.
      let c: ReturnType<typeof childStep> | null = null;
      const t: TorchBest = {};
      for (let round = 0; round < rounds; round++) {
        c = best(c, childStep(size, batch, "cpu"));
        if (c.imgS === null) break;
        torchRound(t, size, batch);
      }
      c = c as ReturnType<typeof childStep>;
      if (c.imgS === null) {
        console.log(`size ${size} batch ${batch}: onednn-cpu FAILED: ${c.note}`);
        failures.push({ size, batch, error: `onednn-cpu: ${c.note}` });
        continue;
      }
      rows.push({
        size,
        batch,
        engine: "onednn-cpu",
        oursImgS: c.imgS,
        oursStepS: c.times,
        wasmImgS: null,
        wasmRatio: null,
        childPeakRssMb: c.peakRssMb,
        ...torchColumns(t, c.imgS),
      });
      console.log(
        `size ${size} batch ${batch}: ours (onednn, cpu store) ${c.imgS.toFixed(2)} img/s ` +
          `(peak RSS ${c.peakRssMb?.toFixed(0) ?? "?"} MB), wasm engine skipped (4 GB heap), ` +
          torchLine(rows[rows.length - 1]),
      );
      continue;
    }
    if (info.name === "wasm" && beyondWasmHeap(size, batch)) {
      // Beyond the 4 GB ceiling the wasm32 heap aborts (single-threaded) or hangs (multi-threaded).
      const why =
        `skipped: needs more than the 4 GB wasm heap (limit ~${
          largestBatch(benchShape(size), WASM_HEAP_LIMIT)
        } images of ${size} px per step` +
        (info.onednn ? "; RUL_ONEDNN_STORE=cpu keeps the tensors outside it)" : ")");
      console.log(`size ${size} batch ${batch}: ours ${why}`);
      failures.push({ size, batch, error: why });
      continue;
    }
    let oursImgS: number, times: number[];
    // The CPU engines by name; otherwise the backend (webgpu, tensorflow).
    const engine = info.name === "wasm" || info.name === "cpu"
      ? (onednnActive() ? "onednn" : "wasm")
      : info.name;
    let wasmImgS: number | null = null;
    const t: TorchBest = {};
    try {
      let r: Awaited<ReturnType<typeof runOurs>> | null = null;
      for (let round = 0; round < rounds; round++) {
        r = best(r, await runOurs(model, opt, size, batch));
        torchRound(t, size, batch);
      }
      r = r as Awaited<ReturnType<typeof runOurs>>;
      oursImgS = r.imgS;
      times = r.times;
      // The wasm engine shares the wasm store's tensors; the cpu store has no wasm engine.
      if (engine === "onednn" && info.onednn?.store === "wasm" && !values["no-wasm"]) {
        setOnednn(false);
        try {
          wasmImgS = (await runOurs(model, opt, size, batch)).imgS;
        } finally {
          setOnednn(undefined);
        }
      }
    } catch (e) {
      // e.g. the wasm heap (4 GB at most) is too small for 224 px at batch 64.
      const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
      console.log(`size ${size} batch ${batch}: ours FAILED: ${why}`);
      failures.push({ size, batch, error: why });
      continue;
    }
    const cols = torchColumns(t, oursImgS);
    const wasm = engine === "wasm" ? oursImgS : wasmImgS;
    // The step's own peak RSS (this process holds every row's model and the wasm engine's run).
    const own = engine === "onednn" && rssRows.has(`${size}x${batch}`)
      ? childStep(size, batch, "wasm")
      : null;
    if (own && own.peakRssMb === null) {
      failures.push({ size, batch, error: `peak RSS child: ${own.note}` });
    }
    rows.push({
      size,
      batch,
      engine,
      oursImgS,
      oursStepS: times,
      wasmImgS: wasm,
      wasmRatio: cols.torchImgS && wasm ? wasm / cols.torchImgS : null,
      childPeakRssMb: own?.peakRssMb ?? null,
      ...cols,
    });
    const r = rows[rows.length - 1];
    console.log(
      `size ${size} batch ${batch}: ours (${engine}) ${oursImgS.toFixed(2)} img/s, wasm engine ${
        r.wasmImgS?.toFixed(2) ?? "-"
      } img/s, ${torchLine(r)}`,
    );
  }
  opt.dispose();
  model.dispose();
}

const cells: [string, (r: Row) => string][] = [
  ["size", (r) => String(r.size)],
  ["batch", (r) => String(r.batch)],
  ["engine", (r) => r.engine],
  ["ours img/s", (r) => r.oursImgS.toFixed(2)],
  ["wasm img/s", (r) => r.wasmImgS?.toFixed(2) ?? "-"],
  ["PT1.13 img/s", (r) => r.torchImgS?.toFixed(2) ?? "-"],
  ["PT2 NCHW", (r) => r.torch2NchwImgS?.toFixed(2) ?? "-"],
  ["PT2 ch_last", (r) => r.torch2ChannelsLastImgS?.toFixed(2) ?? "-"],
  ["ours/PT1.13", (r) => r.ratio?.toFixed(2) ?? "-"],
  ["ours/PT2 best", (r) => r.ratioTorch2?.toFixed(2) ?? "-"],
  ["wasm/PT1.13", (r) => r.wasmRatio?.toFixed(2) ?? "-"],
];
console.log("\n" + cells.map(([h]) => h.padStart(Math.max(h.length, 6))).join(" "));
for (const r of rows) {
  console.log(cells.map(([h, f]) => f(r).padStart(Math.max(h.length, 6))).join(" "));
}
console.log(`PyTorch versions: ${JSON.stringify(versions)}`);
if (rows.some((r) => r.torchImgS === null)) {
  console.log(`PyTorch: ${rows.find((r) => r.torchNote)?.torchNote ?? "not run"}`);
}
const rss = peakRssMb();
const leak = leakBox.value;
console.log(`peak RSS ${rss?.toFixed(0) ?? "?"} MB (ours; PyTorch runs in its own process)`);
for (const r of rows.filter((r) => r.childPeakRssMb)) {
  console.log(
    `peak RSS ${r.childPeakRssMb?.toFixed(0) ?? "?"} MB at ${r.size} px batch ${r.batch} (ours, ` +
      (r.engine === "onednn-cpu"
        ? "onednn on its cpu store, own process: tensors outside the 4 GB wasm heap"
        : "onednn on its wasm store, the same step in a process of its own") +
      "); PyTorch's own processes: " +
      (Object.entries(r.torchPeakRssMb).map(([k, v]) => `${k} ${v?.toFixed(0)} MB`).join(", ") ||
        "-"),
  );
}
if (leak) {
  console.log(
    `numTensors before/after ${leak.steps} steps (${leak.size} px, batch ${leak.batch}): ` +
      `${leak.before} / ${leak.after}${leak.before === leak.after ? " (flat)" : " (LEAK)"}`,
  );
}
for (const f of failures) console.log(`failed: ${f.size} px batch ${f.batch}: ${f.error}`);
console.log(
  JSON.stringify({
    bench: "train_step",
    backend: info,
    line: describeBackend(),
    model: kind,
    protocol: { sizes, batches, steps, warmup, rounds, leakSteps, threads: info.threads },
    torchVersions: versions,
    torch2Python,
    rows,
    failures,
    warmupSeconds,
    peakRssMb: rss,
    memory: memoryBox,
    leak,
  }),
);
