/**
 * One training epoch end to end through the {@link Trainer}: SynthFER data (rendered at 100 px,
 * resized to the input size), official augmentation in the batch worker, RUL or baseline forward
 * + backward + Adam step, the per-epoch test evaluation and the checkpoint write. Reports the
 * training images/s (data + step), the wall time of each phase and the peak RSS. Prints a table;
 * the LAST line is one JSON object.
 *
 * Usage: deno run -A bench/epoch.ts [--size 112] [--batch 32] [--images 256] [--test 64]
 *        [--variant rul|baseline] [--widths 64,128,256,512] [--workers 1]
 *        [--distinct N] [--max-seconds S] [--torch] [--torch-python PY] [--torch-workers 4]
 *        [--torch-format nchw|channels_last]
 *
 * `--distinct N` renders only N distinct SynthFER images and repeats them up to `--images` (a
 * RAF-DB-sized set, 12,271 images, takes minutes to render; the loader still crops, flips,
 * resizes and normalises every sample, so the epoch costs the same). `--max-seconds S` stops
 * the training pass after S seconds and reports the images/s so far and the epoch time it
 * implies (`trainSecondsEstimate`, `complete: false`; no test evaluation or checkpoint then).
 *
 * `--torch` then runs the same epoch in PyTorch (tools/bench_torch_epoch.py: the official RUL
 * code's DataLoader, transforms and step) on the SAME images and labels, which it writes as
 * prepared-dataset caches for it, with as many threads as ours and the official 4 loader workers
 * (`--torch-workers`), in NCHW as the official code or in channels_last (`--torch-format`, often
 * faster on a CPU); the interpreter is `--torch-python`, RUL_TORCH2_PYTHON, else
 * `.venv-bench/bin/python` (tools/setup_bench_venv.sh). It reports PyTorch's training pass and
 * the ratio of the two (`torch`, `oursOverTorch`: PyTorch's seconds / ours, above 1 = ours faster).
 *
 * @module
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../lib/backend.ts";
import { synthFerSplits } from "../lib/data/synthfer.ts";
import { subsetDataset } from "../lib/data/dataset.ts";
import { saveDatasetCache } from "../lib/data/cache.ts";
import { withSymmetricNoise } from "../lib/data/noise.ts";
import { Trainer } from "../lib/train/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    size: { type: "string", default: "112" },
    batch: { type: "string", default: "32" },
    images: { type: "string", default: "256" },
    test: { type: "string", default: "64" },
    variant: { type: "string", default: "rul" },
    widths: { type: "string", default: "64,128,256,512" },
    workers: { type: "string", default: "1" },
    distinct: { type: "string" },
    "max-seconds": { type: "string" },
    torch: { type: "boolean", default: false },
    "torch-python": { type: "string" },
    "torch-workers": { type: "string", default: "4" },
    "torch-format": { type: "string", default: "nchw" },
  },
});
const SIZE = Number(values.size);
const BATCH = Number(values.batch);
const IMAGES = Number(values.images);
const TEST = Number(values.test);
const WORKERS = Number(values.workers);
const VARIANT = values.variant as "rul" | "baseline";
const WIDTHS = values.widths!.split(",").map(Number) as [number, number, number, number];
const DISTINCT = values.distinct === undefined ? IMAGES : Number(values.distinct);
const MAX_SECONDS = values["max-seconds"] === undefined ? Infinity : Number(values["max-seconds"]);
if (!(Number.isInteger(DISTINCT) && DISTINCT > 0 && MAX_SECONDS > 0)) {
  throw new Error("--distinct must be a positive integer and --max-seconds positive");
}
if (![SIZE, BATCH, IMAGES, TEST].every((v) => Number.isInteger(v) && v > 0)) {
  throw new Error("--size, --batch, --images and --test must be positive integers");
}

/** Peak resident set size of this process in MB (Linux VmHWM), or null elsewhere. */
function peakRssMb(): number | null {
  try {
    const m = fs.readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

await initBackend();
const backend = describeBackend();
const tData = performance.now();
const splits = synthFerSplits({
  train: Math.min(DISTINCT, IMAGES),
  test: Math.min(DISTINCT, TEST),
  size: Math.min(100, SIZE),
  seed: 0,
});
/** `ds` repeated up to `n` samples (a copy; index j holds sample j mod ds.n). */
const upTo = (ds: typeof splits.train, n: number) =>
  ds.n >= n ? ds : subsetDataset(ds, Int32Array.from({ length: n }, (_, j) => j % ds.n));
const data = {
  train: withSymmetricNoise(upTo(splits.train, IMAGES), 0.3, 1),
  test: upTo(splits.test, TEST),
};
const dataSeconds = (performance.now() - tData) / 1000;
const out = fs.mkdtempSync(path.join(os.tmpdir(), "rul-bench-epoch-"));
let trainSeconds = NaN;
let imagesPerSec = NaN;
/** Images trained when `--max-seconds` stopped the pass (null: the epoch completed). */
let stoppedAt: { images: number; seconds: number } | null = null;
class StopEpoch extends Error {}
/** Images and seconds at the end of the first step (which includes kernel compilation). */
const first = { images: 0, seconds: 0 };
const t = await Trainer.create({
  config: {
    variant: VARIANT,
    epochs: 1,
    batchSize: BATCH,
    evalBatchSize: BATCH,
    model: { inputSize: SIZE, widths: WIDTHS },
  },
  data,
  out,
  log: null,
  progress: "auto",
  workers: WORKERS,
  hooks: {
    onStep: (s) => {
      const images = Math.min(s.step * BATCH, IMAGES);
      const seconds = images / s.imagesPerSec; // the trainer's clock since the epoch began
      if (s.step === 1) Object.assign(first, { images, seconds });
      if (seconds > MAX_SECONDS && s.step < s.steps) {
        stoppedAt = { images, seconds };
        throw new StopEpoch(`stopped after ${seconds.toFixed(1)} s`);
      }
    },
    onEpoch: (e) => {
      trainSeconds = Number(e.record.train_seconds);
      imagesPerSec = Number(e.record.train_images_per_s);
    },
  },
});
const tensorsBefore = tf.memory().numTensors;
// Adam creates its two moments per trainable parameter at the first step.
const adamTensors = 2 * t.model.trainableVariables().length;
const t0 = performance.now();
try {
  await t.run();
} catch (e) {
  if (!(e instanceof StopEpoch)) throw e;
}
const stopped = stoppedAt as { images: number; seconds: number } | null;
if (stopped) {
  trainSeconds = stopped.seconds;
  imagesPerSec = stopped.images / stopped.seconds;
}
const epochSeconds = stopped ? NaN : (performance.now() - t0) / 1000;
// The first step compiles kernels (WebGPU: shaders): extrapolate from the steps after it.
const trainSecondsEstimate = !stopped
  ? trainSeconds
  : stopped.images > first.images
  ? first.seconds +
    (IMAGES - first.images) * (stopped.seconds - first.seconds) / (stopped.images - first.images)
  : IMAGES / imagesPerSec;
const tensorsAfter = tf.memory().numTensors;
t.dispose();
const rss = peakRssMb();
const torch = values.torch && !stopped ? await torchEpoch() : null;
fs.rmSync(out, { recursive: true });

/** Label counts and pixel sum of the training set, as tools/bench_torch_epoch.py reports them. */
function sameDataKeys() {
  const counts = new Array<number>(data.train.classNames.length).fill(0);
  for (const l of data.train.labels) counts[l]++;
  let sum = 0;
  for (const v of data.train.pixels) sum += v;
  return { trainLabelCounts: counts, trainPixelSum: sum };
}

/** The same epoch in PyTorch on the same data (tools/bench_torch_epoch.py); its JSON line. */
async function torchEpoch(): Promise<Record<string, unknown>> {
  const python = values["torch-python"] ?? Deno.env.get("RUL_TORCH2_PYTHON") ??
    new URL("../.venv-bench/bin/python", import.meta.url).pathname;
  const dir = path.join(out, "torch-data");
  await saveDatasetCache(data.train, path.join(dir, "train"), "bench-epoch");
  await saveDatasetCache(data.test, path.join(dir, "test"), "bench-epoch");
  const args = [
    new URL("../tools/bench_torch_epoch.py", import.meta.url).pathname,
    ...["--data", dir, "--size", String(SIZE), "--batch", String(BATCH), "--variant", VARIANT],
    ...["--widths", WIDTHS.join(","), "--workers", values["torch-workers"]!],
    ...["--memory-format", values["torch-format"]!],
    ...["--threads", String((await initBackend()).threads)],
  ];
  const p = await new Deno.Command(python, { args, stdout: "piped", stderr: "inherit" }).output();
  const last = new TextDecoder().decode(p.stdout).trim().split("\n").pop() ?? "";
  if (!p.success) throw new Error(`${python} ${args.join(" ")} failed (exit ${p.code}): ${last}`);
  return JSON.parse(last);
}

const rows: [string, string][] = [
  ["backend", backend],
  ["variant / size / batch", `${VARIANT} / ${SIZE} px / ${BATCH}`],
  ["widths", WIDTHS.join(",")],
  ["training images", String(IMAGES)],
  ["SynthFER generation", `${dataSeconds.toFixed(2)} s`],
  [
    "training pass (data + step)",
    stopped
      ? `${trainSeconds.toFixed(2)} s for ${stopped.images} images (--max-seconds), ` +
        `${trainSecondsEstimate.toFixed(1)} s for the epoch at this rate`
      : `${trainSeconds.toFixed(2)} s`,
  ],
  ["training images/s", imagesPerSec.toFixed(2)],
  ["epoch incl. test eval + checkpoint", stopped ? "-" : `${epochSeconds.toFixed(2)} s`],
  ["peak RSS", `${rss?.toFixed(0) ?? "?"} MB`],
  ...(torch
    ? [
      [
        `PyTorch ${torch.torch} training pass`,
        `${(torch.trainSeconds as number).toFixed(2)} s (${
          (torch.imagesPerSec as number).toFixed(2)
        } img/s; ${torch.memoryFormat}, ${torch.workers} loader workers, ${torch.threads} threads)`,
      ],
      [
        "PyTorch epoch incl. test eval + save",
        `${(torch.epochSeconds as number).toFixed(2)} s, peak RSS ${
          (torch.peakRssMb as number).toFixed(0)
        } MB (main process)`,
      ],
      [
        "ours / PyTorch (training pass)",
        `${((torch.trainSeconds as number) / trainSeconds).toFixed(2)}x (above 1: ours faster)`,
      ],
    ] as [string, string][]
    : []),
  [
    "numTensors before / after",
    `${tensorsBefore} / ${tensorsAfter} (Adam moments: +${adamTensors}; ${
      stopped
        ? "stopped mid-epoch: not compared"
        : tensorsAfter === tensorsBefore + adamTensors
        ? "no leak"
        : "LEAK"
    })`,
  ],
];
const w = Math.max(...rows.map((r) => r[0].length)) + 2;
for (const [k, v] of rows) console.log(`${k.padEnd(w)}${v}`);
console.log(JSON.stringify({
  bench: "epoch",
  backend,
  threads: (await initBackend()).threads,
  variant: VARIANT,
  size: SIZE,
  batch: BATCH,
  widths: WIDTHS,
  images: IMAGES,
  testImages: TEST,
  workers: WORKERS,
  distinct: DISTINCT,
  complete: !stopped,
  imagesTrained: stopped ? stopped.images : IMAGES,
  trainSeconds,
  trainSecondsEstimate,
  imagesPerSec,
  epochSeconds: stopped ? null : epochSeconds,
  dataSeconds,
  peakRssMb: rss,
  tensorsBefore,
  tensorsAfter,
  adamTensors,
  // what PyTorch's side computes from the caches, to check it got the same data (with --torch)
  ...(torch ? sameDataKeys() : {}),
  torch,
  oursOverTorch: torch ? (torch.trainSeconds as number) / trainSeconds : null,
  oursOverTorchEpoch: torch && !stopped ? (torch.epochSeconds as number) / epochSeconds : null,
}));
