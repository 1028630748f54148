/**
 * `deno task eval`: evaluate a checkpoint (ours `.safetensors`, or a PyTorch `.pth`) on a dataset
 * split or on a tensor file, writing the per-sample table, the raw outputs (logits, softmax, u,
 * features) and the metrics (accuracy, per-class accuracy, confusion matrix, and the noisy-label
 * AUROC of u and of the per-sample loss when clean labels are known).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as path from "node:path";
import type { ImageDataset } from "../lib/data/dataset.ts";
import { mostUncertain, noisyLabelDetection, rocAuc, writeSampleTable } from "../lib/eval/mod.ts";
import { writeFileAtomicSync } from "../lib/io/atomic_write.ts";
import { readSafetensors, writeSafetensors } from "../lib/io/safetensors.ts";
import type { FerModel } from "../lib/model/types.ts";
import {
  type EvalOutputs,
  evaluateModel,
  evaluateTensor,
  loadModel,
  loadRunData,
  perSampleLoss,
  resolveTrainConfig,
  sampleTableOf,
  scoreOutputs,
  setOption,
  type TrainConfigInput,
} from "../lib/train/mod.ts";
import { type CliFlag, type Command, enumFlag, intFlag, runCommand, TRAIN_FLAGS } from "./args.ts";

/** Config options that select the data (the rest of the training config is irrelevant here). */
const DATA_OPTIONS = TRAIN_FLAGS.filter((o) =>
  (o.key.startsWith("data.") && o.key !== "data.augment") || o.key === "model.inputSize" ||
  o.key === "evalBatchSize"
);

const FLAGS: CliFlag[] = [
  {
    flag: "checkpoint",
    type: "string",
    help: "weights: our .safetensors checkpoint, or a PyTorch .pth (official RUL acc_888.pth, " +
      "{state_dict}, {model} or bare; config inferred from shapes)",
  },
  {
    flag: "split",
    type: "string",
    help:
      "dataset split(s): test | train | both (train: noisy-label AUROC when clean labels known)",
    defaultText: "test",
  },
  {
    flag: "inputs",
    type: "string",
    help: "evaluate a tensor file instead of a dataset: .safetensors with an NHWC (or NCHW) " +
      "float batch, already normalised as the model expects",
  },
  { flag: "inputs-key", type: "string", help: "tensor name of the batch", defaultText: "x" },
  {
    flag: "labels-key",
    type: "string",
    help: "tensor name of the labels in --inputs (optional)",
    defaultText: "labels",
  },
  {
    flag: "key",
    type: "string",
    help: "state-dict key inside a .pth",
    defaultText: "auto: the layout is recognised",
  },
  { flag: "top", type: "string", help: "most uncertain samples listed", defaultText: "20" },
  { flag: "out", type: "string", help: "output folder", defaultText: "runs/eval-<date>" },
];

const DESCRIPTION = [
  "Evaluate a trained model. With one of our checkpoints the dataset defaults to the one it was",
  "trained on (its config is in the checkpoint); data flags override it. A .pth needs the data",
  "flags (or --inputs); its model (RUL or baseline, widths, classes, feature dim, input size) is",
  "inferred from the tensor shapes.",
  "",
  "writes to --out, per split S (test, train or inputs):",
  "  eval_S.csv / eval_S.json            per-sample table (file, label, clean label, prediction,",
  "                                      softmax, u, features)",
  "  eval_S_outputs.safetensors          logits, softmax, predictions, u, features",
  "  eval_S_metrics.json                 accuracy, loss, per-class accuracy, confusion matrix,",
  "                                      noisy-label AUROC of u and of the loss, most uncertain",
  "",
  "examples:",
  "  deno task eval --checkpoint runs/demo/latest/seed0/rul/checkpoints/best.safetensors --split both",
  "  deno task eval --checkpoint acc_888.pth --data rafdb --data-root ~/RAF-DB",
  "  deno task eval --checkpoint tests/fixtures/model/rul_small.pth \\",
  "    --inputs tests/fixtures/model/rul_small_expected.safetensors --out runs/eval-fixture",
].join("\n");

interface SplitReport {
  split: string;
  n: number;
  accuracy: number | null;
  loss: number | null;
  perClass: Record<string, number> | null;
  confusion: number[][] | null;
  noisyLabels: {
    flipped: number;
    aurocU: number | null;
    aurocLoss: number;
    /** The method's own per-sample score (SCN α, EAC flip consistency) and its AUROC. */
    score: string | null;
    aurocScore: number | null;
    meanUFlipped: number | null;
    meanUClean: number | null;
  } | null;
  mostUncertain: unknown[] | null;
}

function pct(v: number): string {
  return (v * 100).toFixed(2) + " %";
}

function printReport(r: SplitReport, classNames: string[]): void {
  console.log(`\n== ${r.split}: ${r.n} samples ==`);
  if (r.accuracy === null) {
    console.log("no labels: outputs only");
    return;
  }
  console.log(`accuracy ${pct(r.accuracy)}  mean cross-entropy ${r.loss!.toFixed(4)}`);
  const w = Math.max(8, ...classNames.map((c) => c.length)) + 1;
  console.log("per-class accuracy:");
  for (const [c, a] of Object.entries(r.perClass!)) {
    console.log(`  ${c.padEnd(w)}${Number.isFinite(a) ? pct(a) : "n/a (no samples)"}`);
  }
  console.log("confusion matrix (rows: label, columns: prediction):");
  console.log(" ".repeat(w + 2) + classNames.map((c) => c.slice(0, 6).padStart(7)).join(""));
  r.confusion!.forEach((row, i) => {
    console.log(`  ${classNames[i].padEnd(w)}${row.map((v) => String(v).padStart(7)).join("")}`);
  });
  if (r.noisyLabels) {
    const nl = r.noisyLabels;
    console.log(
      `noisy labels: ${nl.flipped} of ${r.n} flipped; AUROC of u ${
        nl.aurocU === null ? "n/a (no σ head)" : nl.aurocU.toFixed(4)
      }, AUROC of the per-sample loss ${nl.aurocLoss.toFixed(4)}` +
        (nl.score ? `, AUROC of ${nl.score} ${nl.aurocScore!.toFixed(4)}` : ""),
    );
  }
}

async function writeOutputs(
  file: string,
  ev: EvalOutputs,
  n: number,
  k: number,
): Promise<void> {
  const t = new Map<string, tf.Tensor>();
  t.set("logits", tf.tensor2d(ev.logits, [n, k]));
  t.set("softmax", tf.tensor2d(ev.softmax, [n, k]));
  t.set("predictions", tf.tensor1d(ev.predictions, "int32"));
  if (ev.u) t.set("u", tf.tensor1d(ev.u));
  if (ev.score) t.set("score", tf.tensor1d(ev.score));
  if (ev.featureDim) t.set("features", tf.tensor2d(ev.features, [n, ev.featureDim]));
  try {
    await writeSafetensors(file, t, { format: "rul-notebooks/eval-outputs-v1" });
  } finally {
    tf.dispose([...t.values()]);
  }
}

/** Evaluate on a dataset split; writes table, outputs and metrics. */
async function evalSplit(
  model: FerModel,
  ds: ImageDataset,
  split: string,
  out: string,
  opts: { batchSize: number; progress?: "auto" | "terminal" | "lines" | "silent"; top: number },
): Promise<SplitReport> {
  const ev = await evaluateModel(model, ds, {
    batchSize: opts.batchSize,
    progress: opts.progress ?? "auto",
    label: `eval ${split}`,
    scores: split === "train", // EAC's costs a second (flipped) pass: for the noisy-label audit
  });
  writeSampleTable(out, sampleTableOf(ds, ev), `eval_${split}`);
  await writeOutputs(path.join(out, `eval_${split}_outputs.safetensors`), ev, ds.n, ev.numClasses);
  let noisyLabels: SplitReport["noisyLabels"] = null;
  const clean = ds.cleanLabels;
  if (clean) {
    const flipped = Array.from(ds.labels, (v, i) => v !== clean[i]);
    const nf = flipped.filter(Boolean).length;
    if (nf > 0 && nf < ds.n) {
      const d = ev.u ? noisyLabelDetection(ev.u, ds.labels, clean) : null;
      const kind = model.config.kind;
      noisyLabels = {
        flipped: nf,
        aurocU: d ? d.auroc : null,
        aurocLoss: rocAuc(perSampleLoss(ev, ds.labels), flipped),
        score: ev.score ? (kind === "scn" ? "α" : "flip consistency") : null,
        aurocScore: ev.score ? rocAuc(ev.score, flipped) : null,
        meanUFlipped: d ? d.meanUFlipped : null,
        meanUClean: d ? d.meanUClean : null,
      };
    }
  }
  const report: SplitReport = {
    split,
    n: ds.n,
    accuracy: ev.accuracy,
    loss: ev.loss,
    perClass: Object.fromEntries(ds.classNames.map((c, i) => [c, ev.perClass[i]])),
    confusion: ev.confusion,
    noisyLabels,
    mostUncertain: ev.u
      ? mostUncertain(ev.u, opts.top, {
        labels: ds.labels,
        cleanLabels: ds.cleanLabels,
        predictions: ev.predictions,
        files: ds.fileNames,
      })
      : null,
  };
  writeFileAtomicSync(
    path.join(out, `eval_${split}_metrics.json`),
    JSON.stringify({ ...report, classNames: ds.classNames, source: ds.source }, null, 2) + "\n",
  );
  printReport(report, ds.classNames);
  return report;
}

/** Evaluate on a raw tensor batch from a safetensors file. */
async function evalInputs(
  model: FerModel,
  file: string,
  xKey: string,
  yKey: string,
  out: string,
  batchSize: number,
): Promise<SplitReport> {
  const { tensors } = await readSafetensors(file);
  try {
    let x = tensors.get(xKey);
    if (!x) {
      throw new Error(
        `--inputs ${file} has no tensor "${xKey}" (tensors: ${[...tensors.keys()].join(", ")}); ` +
          "choose one with --inputs-key",
      );
    }
    if (x.rank !== 4 || x.dtype !== "float32") {
      throw new Error(
        `--inputs ${file}: "${xKey}" must be a float 4-D batch, got ${x.dtype} [${x.shape}]`,
      );
    }
    const s = model.config.inputSize;
    if (x.shape[3] !== 3 && x.shape[1] === 3) x = tf.transpose(x, [0, 2, 3, 1]); // NCHW → NHWC
    if (x.shape[1] !== s || x.shape[2] !== s || x.shape[3] !== 3) {
      throw new Error(
        `--inputs ${file}: "${xKey}" has shape [${x.shape}]; the model expects [N, ${s}, ${s}, 3]`,
      );
    }
    const ev = await evaluateTensor(model, x as tf.Tensor4D, batchSize);
    if (x !== tensors.get(xKey)) x.dispose();
    const { n, numClasses: k, softmax, u, features, featureDim } = ev;
    await writeOutputs(path.join(out, "eval_inputs_outputs.safetensors"), ev, n, k);
    const yT = tensors.get(yKey);
    let report: SplitReport = {
      split: "inputs",
      n,
      accuracy: null,
      loss: null,
      perClass: null,
      confusion: null,
      noisyLabels: null,
      mostUncertain: null,
    };
    const classNames = Array.from({ length: k }, (_, j) => `class${j}`);
    if (yT) {
      const labels = Int32Array.from(await yT.data());
      if (labels.length !== n || labels.some((v) => v < 0 || v >= k || !Number.isInteger(v))) {
        throw new Error(`--inputs ${file}: "${yKey}" must hold ${n} labels in 0..${k - 1}`);
      }
      const scores = scoreOutputs(ev, labels);
      report = {
        ...report,
        accuracy: scores.accuracy,
        loss: scores.loss,
        perClass: Object.fromEntries(scores.perClass.map((a, j) => [classNames[j], a])),
        confusion: scores.confusion,
      };
      writeSampleTable(out, {
        classNames,
        files: Array.from({ length: n }, (_, i) => `${path.basename(file)}#${i}`),
        labels,
        predictions: ev.predictions,
        softmax,
        u: u ?? undefined,
        features,
        featureDim,
      }, "eval_inputs");
    }
    writeFileAtomicSync(
      path.join(out, "eval_inputs_metrics.json"),
      JSON.stringify({ ...report, source: file }, null, 2) + "\n",
    );
    printReport(report, classNames);
    return report;
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

async function main(args: Command): Promise<void> {
  const ckpt = args.flags.get("checkpoint");
  if (typeof ckpt !== "string") {
    throw new Error("--checkpoint FILE is required (a .safetensors checkpoint or a .pth)");
  }
  const split = enumFlag(args.flags, "split", ["test", "train", "both"] as const) ?? "test";
  const inputs = args.text("inputs");
  if (inputs !== undefined && (args.options.size > 0 || args.flags.has("split"))) {
    const given = [...args.options.keys()].filter((k) => k !== "evalBatchSize");
    if (given.length || args.flags.has("split")) {
      throw new Error(
        "--inputs evaluates a tensor file: do not combine it with data flags or --split",
      );
    }
  }
  const top = intFlag(args.flags, "top", 20)!;
  const progress = args.progress;
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const out = args.text("out") ?? path.join("runs", `eval-${stamp}`);
  await args.startBackend();

  const inputSize = args.options.get("model.inputSize") as number | undefined;
  const loaded = await loadModel(ckpt, {
    inputSize: inputs ? undefined : inputSize,
    key: args.text("key"),
  });
  const model = loaded.model;
  try {
    const c = model.config;
    console.log(
      `model: ${c.kind}, ${c.inputSize} px, widths ${c.widths.join(",")}, ${c.numClasses} classes` +
        (loaded.epoch !== null ? `, epoch ${loaded.epoch}` : "") +
        ` (config ${loaded.configSource})`,
    );
    Deno.mkdirSync(out, { recursive: true });
    const reports: SplitReport[] = [];
    const batchSize = (args.options.get("evalBatchSize") as number | undefined) ??
      loaded.trainConfig?.evalBatchSize ?? 128;
    if (inputs) {
      reports.push(
        await evalInputs(
          model,
          inputs,
          args.text("inputs-key") ?? "x",
          args.text("labels-key") ?? "labels",
          out,
          batchSize,
        ),
      );
    } else {
      // data: the checkpoint's training data, overridden by flags
      const input: TrainConfigInput = {
        data: structuredClone(loaded.trainConfig?.data ?? {}),
        model: { inputSize: c.inputSize },
      };
      for (const [key, value] of args.options) {
        if (key !== "model.inputSize") setOption(input, key, value);
      }
      const cfg = resolveTrainConfig(input, "data options");
      if (!loaded.trainConfig && !args.options.has("data.source")) {
        console.log("data: none given, using the embedded SynthFER set (--data to choose)");
      }
      const data = await loadRunData(cfg, (l) => console.log(l));
      const splits = split === "both" ? ["test", "train"] as const : [split];
      for (const s of splits) {
        reports.push(
          await evalSplit(model, data[s], s, out, { batchSize, progress, top }),
        );
      }
    }
    writeFileAtomicSync(
      path.join(out, "summary.json"),
      JSON.stringify(
        {
          checkpoint: ckpt,
          model: c,
          epoch: loaded.epoch,
          splits: reports.map((r) => ({
            split: r.split,
            n: r.n,
            accuracy: r.accuracy,
            noisyLabels: r.noisyLabels,
          })),
        },
        null,
        2,
      ) + "\n",
    );
    console.log(`\nwritten to ${out}`);
  } finally {
    model.dispose();
  }
}

if (import.meta.main) {
  await runCommand({
    usage: "deno task eval --checkpoint FILE [--split test|train|both | --inputs FILE] [options]",
    description: DESCRIPTION,
    flags: FLAGS,
    options: DATA_OPTIONS,
    optionsHeading: "data (default: the checkpoint's training data; for a .pth: SynthFER):",
  }, main);
}
