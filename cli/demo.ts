/**
 * `deno task demo`, the README's main job: on the embedded SynthFER set with 30 % symmetric label
 * noise, train the baseline and RUL with the official recipe at a small size (a few minutes on a
 * 2-core laptop), then print a table (best-epoch and last-epoch test accuracy, noisy-label AUROC
 * of RUL's uncertainty u and of each model's per-sample loss, time) and write the run folders and
 * figures (training curves, u histogram clean vs flipped) in a new folder under `runs/demo/` per
 * run (`runs/demo/latest` points at the newest).
 *
 * The setting is fixed in advance (not tuned to make RUL win); the table reports what happens.
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomicSync } from "../lib/io/atomic_write.ts";
import type { ImageDataset } from "../lib/data/dataset.ts";
import { rocAuc } from "../lib/eval/roc.ts";
import {
  type Figure,
  FigureRenderer,
  findChromium,
  standaloneHtml,
  trainingCurves,
  uncertaintyHistogram,
} from "../lib/plots/mod.ts";
import { createModel } from "../lib/model/create.ts";
import {
  DEMO_CONFIG,
  loadRunData,
  loadWeights,
  mergeConfig,
  newRunFolder,
  perSampleLoss,
  resolveTrainConfig,
  type TrainConfig,
  type TrainConfigInput,
  Trainer,
} from "../lib/train/mod.ts";
import { type CliFlag, type Command, enumFlag, intFlag, runCommand } from "./args.ts";

/** `--quick`: a few seconds, for tests (numbers meaningless; no init). */
export const TINY_CONFIG: TrainConfigInput = {
  epochs: 2,
  batchSize: 16,
  evalBatchSize: 64,
  seed: 0,
  model: { inputSize: 32, widths: [4, 8, 8, 16], featureDim: 8, dropout: 0.4 },
  data: { source: "synthfer", noise: 0.3, trainSize: 64, testSize: 32, augment: true },
};

const FLAGS: CliFlag[] = [
  { flag: "quick", type: "bool", help: "tiny setting that runs in seconds (for tests)" },
  {
    flag: "out",
    type: "string",
    help: "output folder (refused when it already holds the demo's runs, unless --overwrite)",
    defaultText: "a new runs/demo/demo-<settings>-<time>/, pointed at by runs/demo/latest",
  },
  { flag: "overwrite", type: "bool", help: "replace the runs already in --out" },
  { flag: "epochs", type: "string", help: "epochs per variant", defaultText: "4" },
  { flag: "seed", type: "string", help: "training seed", defaultText: "0" },
  {
    flag: "init",
    type: "string",
    help: "backbone weights for both variants (.safetensors or .pth), or none (from scratch)",
    defaultText: "the pretrained SynthFER backbone in data/fixtures/ (none with --quick)",
  },
  {
    flag: "png",
    type: "string",
    help: "also export PNG figures: auto (when Chromium is installed) | yes | no",
    defaultText: "auto (no with --quick)",
  },
];

const DESCRIPTION = [
  "Baseline vs RUL on the embedded SynthFER set with 30 % symmetric label noise: ResNet-18 layout",
  "at half width (32-64-128-256), 48 px, 5,000 training / 1,000 test images, 4 epochs, batch 64,",
  "official optimiser (Adam 2e-4 / 2e-3, weight decay 1e-4, ExponentialLR 0.9), seed 0, both",
  "variants starting from the same backbone pretrained on clean SynthFER from another data seed",
  "(`deno task pretrain`; the paper starts from MS-Celeb-1M). Prints",
  "best-epoch and last-epoch test accuracy, the AUROC of RUL's u for detecting the flipped",
  "training labels (and of each model's per-sample loss), and the time; writes a new folder",
  "runs/demo/demo-<settings>-<time>/ (runs/demo/latest points at it) with <variant>/ (metrics,",
  "checkpoints, per-sample tables), figures.html (+ PNGs) and summary.{json,md}.",
].join("\n");

/** One row of the demo table. */
export interface DemoRow {
  /** `baseline` or `rul`. */
  variant: string;
  /** Best test accuracy over the epochs (selection on the test set, as the official script). */
  bestTestAcc: number;
  /** Epoch of the best test accuracy. */
  bestEpoch: number;
  /** Test accuracy after the last epoch. */
  lastTestAcc: number;
  /** AUROC of u (eval mode, training set) for flipped vs clean labels; null without u. */
  aurocU: number | null;
  /** AUROC of the per-sample cross-entropy (eval mode, training set) for flipped labels. */
  aurocLoss: number | null;
  /** Wall-clock seconds (training + evaluation + audit). */
  seconds: number;
}

/**
 * Check that `file` initialises the whole backbone of both demo variants built from `config`
 * (every backbone tensor present with the right shape); returns the number of tensors loaded.
 * @throws Error naming the file and the missing or mismatched keys
 */
export async function checkInitFits(config: TrainConfig, file: string): Promise<number> {
  let loaded = -1;
  for (const kind of ["baseline", "rul"] as const) {
    const model = createModel({ ...config.model, kind, numClasses: 7 });
    try {
      const r = await loadWeights(model, file, { log: null });
      const bad = [
        ...r.missing.map((k) => `missing ${k}`),
        ...r.mismatched.map((m) => `${m.name}: expected [${m.expected}] got [${m.got}]`),
      ];
      if (r.source !== "backbone" || bad.length) {
        throw new Error(
          `--init ${file} does not fit the demo's ${kind} backbone (widths ` +
            `${config.model.widths.join(",")}, ${config.model.inputSize} px): ` +
            (bad.length ? bad.slice(0, 5).join("; ") : `read as a whole ${r.source}`) +
            (bad.length > 5 ? ` and ${bad.length - 5} more` : "") +
            "; run `deno task pretrain` or pass --init none",
        );
      }
      loaded = r.loaded.length;
    } finally {
      model.dispose();
    }
  }
  return loaded;
}

function pct(v: number): string {
  return (100 * v).toFixed(2);
}

/** Markdown table of the demo results. */
export function demoTable(rows: DemoRow[]): string {
  const head = [
    "variant",
    "best-epoch test acc %",
    "last-epoch test acc %",
    "noisy-label AUROC of u",
    "noisy-label AUROC of loss",
    "time",
  ];
  const body = rows.map((r) => [
    r.variant,
    `${pct(r.bestTestAcc)} (ep ${r.bestEpoch})`,
    pct(r.lastTestAcc),
    r.aurocU === null ? "n/a (no u)" : r.aurocU.toFixed(3),
    r.aurocLoss === null ? "n/a" : r.aurocLoss.toFixed(3),
    `${Math.floor(r.seconds / 60)} min ${Math.round(r.seconds % 60)} s`,
  ]);
  const w = head.map((h, j) => Math.max(h.length, ...body.map((b) => b[j].length)));
  const line = (cells: string[]) => "| " + cells.map((c, j) => c.padEnd(w[j])).join(" | ") + " |";
  return [line(head), "| " + w.map((n) => "-".repeat(n)).join(" | ") + " |", ...body.map(line)]
    .join("\n");
}

interface VariantResult {
  row: DemoRow;
  records: Record<string, unknown>[];
  u: Float32Array | null;
  loss: Float64Array;
}

async function runVariant(
  variant: "baseline" | "rul",
  config: TrainConfig,
  data: { train: ImageDataset; test: ImageDataset },
  out: string,
  opts: {
    progress?: "auto" | "terminal" | "lines" | "silent";
    workers?: number;
    overwrite?: boolean;
  },
): Promise<VariantResult> {
  const t0 = performance.now();
  console.log(`\n=== ${variant} ===`);
  const trainer = await Trainer.create({
    config: { ...config, variant },
    out: path.join(out, variant),
    data,
    progress: opts.progress,
    workers: opts.workers,
    overwrite: opts.overwrite,
  });
  try {
    const r = await trainer.run();
    await trainer.writeTestTable();
    const audit = await trainer.auditTrainingSet();
    const loss = perSampleLoss(audit.eval, data.train.labels);
    const clean = data.train.cleanLabels;
    const flipped = clean ? Array.from(data.train.labels, (v, i) => v !== clean[i]) : null;
    const row: DemoRow = {
      variant,
      bestTestAcc: r.bestTestAcc,
      bestEpoch: r.bestEpoch,
      lastTestAcc: r.lastTestAcc,
      aurocU: audit.noisyAuroc,
      aurocLoss: flipped && flipped.some(Boolean) && !flipped.every(Boolean)
        ? rocAuc(loss, flipped)
        : null,
      seconds: (performance.now() - t0) / 1000,
    };
    writeFileAtomicSync(
      path.join(out, variant, "summary.json"),
      JSON.stringify(
        {
          variant,
          best_epoch_test_acc: row.bestTestAcc,
          best_epoch: row.bestEpoch,
          last_epoch_test_acc: row.lastTestAcc,
          train_noisy_label_auroc_u: row.aurocU,
          train_noisy_label_auroc_loss: row.aurocLoss,
          train_mean_u: audit.meanU,
          seconds: row.seconds,
        },
        null,
        2,
      ) + "\n",
    );
    return { row, records: r.records, u: audit.eval.u, loss };
  } finally {
    trainer.dispose();
  }
}

function split<T extends ArrayLike<number>>(
  values: T,
  labels: ArrayLike<number>,
  clean: ArrayLike<number>,
): { clean: number[]; flipped: number[] } {
  const out = { clean: [] as number[], flipped: [] as number[] };
  for (let i = 0; i < values.length; i++) {
    (labels[i] === clean[i] ? out.clean : out.flipped).push(values[i]);
  }
  return out;
}

async function writeFigures(
  out: string,
  results: VariantResult[],
  train: ImageDataset,
  png: boolean,
): Promise<string[]> {
  const figs: [string, Figure][] = [];
  figs.push([
    "training_curves",
    trainingCurves(
      results.map((r) => ({
        name: r.row.variant,
        epochs: r.records.map((x) => Number(x.epoch)),
        loss: r.records.map((x) => Number(x.train_loss)),
        testAccuracy: r.records.map((x) => Number(x.test_acc)),
      })),
      { title: "SynthFER, 30 % label noise: training loss and test accuracy" },
    ),
  ]);
  const clean = train.cleanLabels;
  if (clean) {
    for (const r of results) {
      if (r.u) {
        const s = split(r.u, train.labels, clean);
        figs.push([
          `uncertainty_hist_${r.row.variant}`,
          uncertaintyHistogram(s.clean, s.flipped, {
            title: `${r.row.variant}: uncertainty u of training samples (AUROC ${
              r.row.aurocU?.toFixed(3)
            })`,
            xLabel: "uncertainty u (eval mode)",
          }),
        ]);
      }
    }
    for (const r of results) {
      const s = split(r.loss, train.labels, clean);
      figs.push([
        `loss_hist_${r.row.variant}`,
        uncertaintyHistogram(s.clean, s.flipped, {
          title: `${r.row.variant}: per-sample loss of training samples (AUROC ${
            r.row.aurocLoss?.toFixed(3)
          })`,
          xLabel: "cross-entropy with the (noisy) training label",
        }),
      ]);
    }
  }
  const written: string[] = [];
  const html = path.join(out, "figures.html");
  writeFileAtomicSync(html, standaloneHtml(figs.map(([, f]) => f), "RUL demo"));
  written.push(html);
  if (png) {
    let renderer: FigureRenderer | null = null;
    try {
      renderer = await FigureRenderer.launch();
      for (const [name, fig] of figs) {
        const file = path.join(out, "figures", `${name}.png`);
        writeFileAtomicSync(file, await renderer.render(fig, { format: "png" }));
        written.push(file);
      }
    } catch (e) {
      console.log(`PNG export skipped: ${(e as Error).message}`);
    } finally {
      await renderer?.close();
    }
  }
  return written;
}

function chromiumPresent(): boolean {
  try {
    findChromium();
    return true;
  } catch {
    return false;
  }
}

async function main(args: Command): Promise<void> {
  const quick = args.flags.get("quick") === true;
  const input = mergeConfig(quick ? TINY_CONFIG : DEMO_CONFIG); // a fresh copy
  const epochs = intFlag(args.flags, "epochs", undefined);
  if (epochs !== undefined) {
    if (epochs < 1) throw new Error(`--epochs "${epochs}": expected an integer >= 1`);
    input.epochs = epochs;
  }
  input.seed = intFlag(args.flags, "seed", input.seed);
  const initFlag = args.text("init");
  if (initFlag !== undefined) input.init = initFlag === "none" || initFlag === "" ? null : initFlag;
  const config = resolveTrainConfig(input, "demo");
  const pngMode = enumFlag(args.flags, "png", ["auto", "yes", "no"] as const) ?? "auto";
  const png = pngMode === "yes" || (pngMode === "auto" && !quick && chromiumPresent());
  const outFlag = args.text("out");
  const overwrite = args.flags.get("overwrite") === true;
  const { progress, workers } = args;

  const t0 = performance.now();
  await args.startBackend();
  const m = config.model;
  console.log(
    `setting: SynthFER ${config.data.trainSize} train / ${config.data.testSize} test, ` +
      `${Math.round(config.data.noise * 100)} % label noise, ${m.inputSize} px, widths ` +
      `${
        m.widths.join(",")
      }, ${config.epochs} epochs, batch ${config.batchSize}, seed ${config.seed}`,
  );
  if (config.init) {
    if (!fs.existsSync(config.init)) {
      throw new Error(
        `--init ${config.init}: file not found (run \`deno task pretrain\`, or --init none)`,
      );
    }
    const n = await checkInitFits(config, config.init);
    console.log(
      `init: ${path.relative(Deno.cwd(), config.init) || config.init} (${n} backbone tensors, ` +
        "same weights for both variants)",
    );
  } else console.log("init: none (from scratch)");
  const data = await loadRunData(config, (l) => console.log(l));
  // a fresh folder per demo run (runs/demo/latest points at it), unless --out names one
  const out = outFlag ?? newRunFolder("runs/demo", config, { label: "demo" });
  console.log(`output folder: ${out}`);
  const results: VariantResult[] = [];
  for (const v of ["baseline", "rul"] as const) {
    results.push(await runVariant(v, config, data, out, { progress, workers, overwrite }));
  }
  const files = await writeFigures(out, results, data.train, png);
  const rows = results.map((r) => r.row);
  const table = demoTable(rows);
  const total = (performance.now() - t0) / 1000;
  const md = [
    `# RUL demo${quick ? " (--quick: numbers are meaningless)" : ""}`,
    "",
    `SynthFER, ${Math.round(config.data.noise * 100)} % symmetric label noise, ` +
    `${config.data.trainSize} train / ${config.data.testSize} test, ${m.inputSize} px, widths ` +
    `${m.widths.join(",")}, ${config.epochs} epochs, seed ${config.seed}, init ` +
    `${config.init ? path.basename(config.init) : "none (from scratch)"}. AUROCs: eval-mode ` +
    "scores over the training set, flipped vs clean labels (0.5 = chance).",
    "",
    table,
    "",
    `total ${total.toFixed(0)} s`,
    "",
  ].join("\n");
  writeFileAtomicSync(path.join(out, "summary.md"), md);
  writeFileAtomicSync(
    path.join(out, "summary.json"),
    JSON.stringify({ quick, config, rows, totalSeconds: total }, null, 2) + "\n",
  );
  console.log("\n" + table);
  const [b, r] = rows;
  console.log(
    `\nRUL vs baseline: last-epoch test acc ${pct(r.lastTestAcc)} vs ${pct(b.lastTestAcc)} %, ` +
      `best-epoch ${pct(r.bestTestAcc)} vs ${pct(b.bestTestAcc)} %` +
      (r.aurocU !== null ? `; AUROC of u for flipped labels ${r.aurocU.toFixed(3)}` : ""),
  );
  console.log(`total ${Math.floor(total / 60)} min ${Math.round(total % 60)} s`);
  console.log(`run folders: ${path.join(out, "baseline")}, ${path.join(out, "rul")}`);
  console.log(`figures: ${files.join(", ")}${png ? "" : " (PNG export off or no Chromium)"}`);
}

if (import.meta.main) {
  await runCommand({
    usage: "deno task demo [--quick] [options]",
    description: DESCRIPTION,
    flags: FLAGS,
  }, main);
}
