/**
 * `deno task demo`, the README's main job: on the embedded SynthFER set with 30 % symmetric label
 * noise, train the baseline and RUL with the official recipe over several seeds (same data, same
 * flipped labels, same pretrained backbone; the seed changes the order, augmentation, pairing and
 * dropout), for long enough that the baseline has begun to fit the flipped labels (the protocol and
 * how it was chosen: docs/training.md). Prints mean ± sd over seeds of best- and last-epoch test
 * accuracy, the paired t interval of RUL − baseline, the per-epoch memorisation of the flipped
 * labels and the per-epoch AUROC of RUL's u for them, and the measured time; writes the run
 * folders, summaries and figures in a new folder under `runs/demo/` per run (`runs/demo/latest`
 * points at the newest).
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomicSync } from "../lib/io/atomic_write.ts";
import type { ImageDataset } from "../lib/data/dataset.ts";
import { rocAuc } from "../lib/eval/roc.ts";
import type { MetricsRecord } from "../lib/eval/logger.ts";
import {
  bandGroups,
  type Figure,
  FigureRenderer,
  findChromium,
  meanStd,
  seedBandPanels,
  type SeedRecords,
  standaloneHtml,
  uncertaintyByEpoch,
  uncertaintyEpochRun,
  uncertaintyHistogram,
} from "../lib/plots/mod.ts";
import {
  type AblationResult,
  intervalVerdict,
  pairedDifferences,
  pairedMarkdown,
  summarizeAblation,
  verdictText,
} from "../lib/notebook/ablation.ts";
import { createModel } from "../lib/model/create.ts";
import {
  DEMO_CONFIG,
  DEMO_SEEDS,
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

/** `--quick`'s seeds: two, the fewest a paired interval needs. */
export const TINY_SEEDS: readonly number[] = [0, 1];

const FLAGS: CliFlag[] = [
  { flag: "quick", type: "bool", help: "tiny setting that runs in seconds (for tests)" },
  {
    flag: "out",
    type: "string",
    help: "output folder (refused when it already holds the demo's runs, unless --overwrite)",
    defaultText: "a new runs/demo/demo-<settings>-<time>/, pointed at by runs/demo/latest",
  },
  { flag: "overwrite", type: "bool", help: "replace the runs already in --out" },
  {
    flag: "epochs",
    type: "string",
    help: "epochs per run",
    defaultText: String(DEMO_CONFIG.epochs),
  },
  {
    flag: "seeds",
    type: "string",
    help: "training seeds, comma-separated (at least 2 for the paired interval)",
    defaultText: `${DEMO_SEEDS.join(",")} (${TINY_SEEDS.join(",")} with --quick)`,
  },
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
  `Baseline vs RUL on the embedded SynthFER set with 30 % symmetric label noise, ${DEMO_SEEDS.length} seeds each:`,
  "ResNet-18 layout at half width (32-64-128-256), 48 px, 1,000 training / 500 test images,",
  `${DEMO_CONFIG.epochs} epochs (long enough for the baseline to begin fitting the flipped labels), batch 64,`,
  "official optimiser (Adam 2e-4 / 2e-3, weight decay 1e-4, ExponentialLR 0.9), both variants",
  "starting from the same backbone pretrained on clean SynthFER from another data seed",
  "(`deno task pretrain`; the paper starts from MS-Celeb-1M). Prints mean ± sd over seeds of",
  "best- and last-epoch test accuracy, the paired t interval of RUL − baseline, per epoch the",
  "fit of the flipped labels and the AUROC of u for them (eval mode), and the time; writes a new folder",
  "runs/demo/demo-<settings>-<time>/ (runs/demo/latest points at it) with seed<k>/<variant>/",
  "(metrics, checkpoints, per-sample tables), figures.html (+ PNGs) and summary.{json,md}.",
].join("\n");

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

/** One training run of the demo (a variant at a seed). */
export interface DemoRun {
  /** `baseline` or `rul`. */
  variant: "baseline" | "rul";
  /** Training seed. */
  seed: number;
  /** Best test accuracy over the epochs (selection on the test set, as the official script). */
  bestTestAcc: number;
  /** Epoch of the best test accuracy. */
  bestEpoch: number;
  /** Test accuracy after the last epoch. */
  lastTestAcc: number;
  /** AUROC of u (eval mode, training set, after the last epoch) for flipped labels; null without u. */
  aurocU: number | null;
  /** Mean u (eval mode) of flipped and of clean training labels; null without u. */
  meanU: { flipped: number; clean: number } | null;
  /** AUROC of the per-sample cross-entropy (eval mode, training set) for flipped labels. */
  aurocLoss: number | null;
  /** Wall-clock seconds (training + evaluation + audit). */
  seconds: number;
  /** The per-epoch metrics records. */
  records: MetricsRecord[];
}

function pct(v: number): string {
  return (100 * v).toFixed(2);
}

function pm(values: number[], digits = 2, scale = 100): string {
  if (values.length === 0) return "n/a";
  const s = meanStd(values);
  return `${(scale * s.mean).toFixed(digits)} ± ${(scale * s.std).toFixed(digits)}`;
}

function minSec(seconds: number): string {
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function markdownTable(head: string[], body: string[][]): string {
  const w = head.map((h, j) => Math.max(h.length, ...body.map((b) => b[j].length)));
  const line = (cells: string[]) => "| " + cells.map((c, j) => c.padEnd(w[j])).join(" | ") + " |";
  return [line(head), "| " + w.map((n) => "-".repeat(n)).join(" | ") + " |", ...body.map(line)]
    .join("\n");
}

/** Mean ± sd over seeds per variant: best- and last-epoch accuracy, AUROCs, time per run. */
export function demoTable(runs: readonly DemoRun[]): string {
  const variants = [...new Set(runs.map((r) => r.variant))];
  const body = variants.map((v) => {
    const rs = runs.filter((r) => r.variant === v);
    const u = rs.flatMap((r) => (r.aurocU === null ? [] : [r.aurocU]));
    const l = rs.flatMap((r) => (r.aurocLoss === null ? [] : [r.aurocLoss]));
    return [
      v,
      String(rs.length),
      pm(rs.map((r) => r.bestTestAcc)),
      pm(rs.map((r) => r.lastTestAcc)),
      u.length ? pm(u, 3, 1) : "n/a (no u)",
      l.length ? pm(l, 3, 1) : "n/a",
      minSec(meanStd(rs.map((r) => r.seconds)).mean),
    ];
  });
  return markdownTable([
    "variant",
    "seeds",
    "best-epoch test acc %",
    "last-epoch test acc %",
    "AUROC of u (end, eval)",
    "AUROC of loss (end, eval)",
    "time per run",
  ], body);
}

/**
 * What the runs say about the direction of u for the flipped labels, from the eval-mode AUROC after
 * the last epoch (u as the score for "flipped", as computed: below 0.5 = flipped labels ranked
 * LOWER) and the mean u of each group; a direction is named only when every seed agrees.
 */
export function uDirection(runs: readonly DemoRun[]): string {
  const a = runs.map((r) => r.aurocU!);
  const s = meanStd(a);
  const below = a.every((v) => v < 0.5), above = a.every((v) => v > 0.5);
  const mf = meanStd(runs.map((r) => r.meanU?.flipped ?? NaN)).mean;
  const mc = meanStd(runs.map((r) => r.meanU?.clean ?? NaN)).mean;
  return `AUROC of u for the flipped labels after the last epoch (eval mode): ${
    s.mean.toFixed(3)
  } ± ${s.std.toFixed(3)} over ${a.length} seeds (${a.map((v) => v.toFixed(3)).join(", ")}); ` +
    `mean u flipped ${mf.toFixed(3)} vs clean ${mc.toFixed(3)}: ` +
    (below
      ? "every seed ranks the flipped labels BELOW the clean ones (they get the lower u)."
      : above
      ? "every seed ranks the flipped labels ABOVE the clean ones (they get the higher u)."
      : "no direction shared by every seed.");
}

/** The runs as ablation results (one noise rate), for the shared summaries and paired intervals. */
export function asAblationResults(runs: readonly DemoRun[], noise: number): AblationResult[] {
  return runs.map((r) => ({
    variant: r.variant,
    noise,
    seed: r.seed,
    bestTestAcc: r.bestTestAcc,
    lastTestAcc: r.lastTestAcc,
  }));
}

function column(runs: readonly DemoRun[], key: string, epoch: number): number[] {
  return runs.flatMap((r) => {
    const rec = r.records.find((x) => Number(x.epoch) === epoch);
    const v = rec?.[key];
    return typeof v === "number" && Number.isFinite(v) ? [v] : [];
  });
}

/** How to read {@link epochTable}'s columns. */
export const EPOCH_TABLE_NOTE = "eval = eval mode over the whole training set after the epoch " +
  "(running BN statistics, no dropout, RUL on μ alone: u as the official code's att = " +
  "exp(log σ²) averaged, on a model in eval mode); fit of flipped = accuracy against the flipped " +
  "labels' noisy targets; train mode = over the epoch's training batches (RUL's fit there is " +
  "scored on its mixed features, so only the baseline's is shown); AUROC of u: u as the score " +
  'for "flipped", as computed (below 0.5: the flipped labels get the lower u).';

/**
 * Per epoch, mean over seeds: test accuracy of both variants; the fit of the flipped labels
 * (accuracy against their noisy targets) of both variants in eval mode and of the baseline in
 * training mode (the protocol's criterion); RUL's eval-mode mean u of flipped / clean labels and
 * the AUROC of u for flipped labels in eval mode and in training mode (mean ± sd). AUROC as defined
 * in docs/training.md: u as the score for "flipped", reported as computed.
 */
export function epochTable(runs: readonly DemoRun[]): string {
  const b = runs.filter((r) => r.variant === "baseline");
  const u = runs.filter((r) => r.variant === "rul");
  const epochs = Math.max(...runs.map((r) => r.records.length));
  const m = (xs: number[], scale = 100, d = 1) =>
    xs.length ? (scale * meanStd(xs).mean).toFixed(d) : "n/a";
  const body: string[][] = [];
  for (let e = 1; e <= epochs; e++) {
    body.push([
      String(e),
      m(column(b, "test_acc", e)),
      m(column(u, "test_acc", e)),
      m(column(b, "eval_acc_flipped", e)),
      m(column(u, "eval_acc_flipped", e)),
      m(column(b, "train_acc_flipped", e)),
      `${m(column(u, "eval_u_mean_flipped", e), 1, 3)} / ${
        m(column(u, "eval_u_mean_clean", e), 1, 3)
      }`,
      pm(column(u, "eval_u_auroc_noisy", e), 3, 1),
      pm(column(u, "train_u_auroc_noisy", e), 3, 1),
    ]);
  }
  return markdownTable([
    "epoch",
    "baseline test acc %",
    "RUL test acc %",
    "baseline fit of flipped % (eval)",
    "RUL fit of flipped % (eval)",
    "baseline fit of flipped % (train mode)",
    "RUL mean u flipped / clean (eval)",
    "RUL AUROC of u (eval)",
    "RUL AUROC of u (train mode)",
  ], body);
}

/**
 * Which way u points by epoch: the epochs at which every seed's eval-mode AUROC of u is below 0.5
 * (flipped labels get the lower u), above 0.5, or neither, so that a statement about u's direction
 * can name the stage of training it holds for.
 */
export function uDirectionByEpoch(runs: readonly DemoRun[]): string {
  const u = runs.filter((r) => r.variant === "rul");
  const epochs = Math.max(0, ...u.map((r) => r.records.length));
  const below: number[] = [], above: number[] = [], mixed: number[] = [];
  for (let e = 1; e <= epochs; e++) {
    const a = column(u, "eval_u_auroc_noisy", e);
    if (a.length !== u.length || a.length === 0) continue;
    (a.every((v) => v < 0.5) ? below : a.every((v) => v > 0.5) ? above : mixed).push(e);
  }
  const list = (xs: number[]) =>
    xs.length === 0 ? "no epoch" : `epoch${xs.length > 1 ? "s" : ""} ${xs.join(", ")}`;
  return `eval-mode AUROC of u by epoch: every seed below 0.5 (flipped labels get the lower u) ` +
    `after ${list(below)}; every seed above 0.5 (the higher u) after ${list(above)}; seeds ` +
    `disagree after ${list(mixed)}.`;
}

async function runOne(
  variant: "baseline" | "rul",
  seed: number,
  config: TrainConfig,
  data: { train: ImageDataset; test: ImageDataset },
  out: string,
  opts: {
    progress?: "auto" | "terminal" | "lines" | "silent";
    workers?: number;
    overwrite?: boolean;
  },
): Promise<{ run: DemoRun; u: Float32Array | null; loss: Float64Array }> {
  const t0 = performance.now();
  console.log(`\n=== ${variant}, seed ${seed} ===`);
  const dir = path.join(out, `seed${seed}`, variant);
  const trainer = await Trainer.create({
    config: { ...config, variant, seed },
    out: dir,
    data,
    auditEachEpoch: true,
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
    const run: DemoRun = {
      variant,
      seed,
      bestTestAcc: r.bestTestAcc,
      bestEpoch: r.bestEpoch,
      lastTestAcc: r.lastTestAcc,
      aurocU: audit.noisyAuroc,
      meanU: audit.meanU,
      aurocLoss: flipped && flipped.some(Boolean) && !flipped.every(Boolean)
        ? rocAuc(loss, flipped)
        : null,
      seconds: (performance.now() - t0) / 1000,
      records: r.records,
    };
    writeFileAtomicSync(
      path.join(dir, "summary.json"),
      JSON.stringify(
        {
          variant,
          seed,
          best_epoch_test_acc: run.bestTestAcc,
          best_epoch: run.bestEpoch,
          last_epoch_test_acc: run.lastTestAcc,
          train_noisy_label_auroc_u: run.aurocU,
          train_noisy_label_auroc_loss: run.aurocLoss,
          train_mean_u: run.meanU,
          seconds: run.seconds,
        },
        null,
        2,
      ) + "\n",
    );
    return { run, u: audit.eval.u, loss };
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

/** The runs as {@link SeedRecords} for the band figures (one group per variant). */
function seedRecords(runs: readonly DemoRun[]): SeedRecords[] {
  return runs.map((r) => ({ group: r.variant, seed: r.seed, records: r.records }));
}

/** The demo's figures (Plotly specs), by file name. */
export function demoFigures(
  runs: readonly DemoRun[],
  first: { u: Float32Array | null; loss: Float64Array; run: DemoRun }[],
  train: ImageDataset,
): [string, Figure][] {
  const figs: [string, Figure][] = [];
  const rs = seedRecords(runs);
  const n = new Set(runs.map((r) => r.seed)).size;
  const over = `mean ± s.d. over ${n} seeds`;
  figs.push([
    "training_curves",
    seedBandPanels([
      { groups: bandGroups(rs, "train_loss"), yLabel: "training loss", title: "training loss" },
      { groups: bandGroups(rs, "test_acc"), yLabel: "test accuracy", title: "test accuracy" },
    ], { title: `SynthFER, 30 % label noise: training loss and test accuracy (${over})` }),
  ]);
  const fit = bandGroups(rs, "eval_acc_flipped");
  if (fit.length) {
    figs.push([
      "memorisation",
      seedBandPanels([
        {
          groups: fit,
          yLabel: "fit of flipped labels (eval mode)",
          title: "accuracy on the flipped labels' noisy targets (eval mode)",
        },
        { groups: bandGroups(rs, "test_acc"), yLabel: "test accuracy", title: "test accuracy" },
      ], { title: `Fit of the flipped labels and test accuracy, by epoch (${over})` }),
    ]);
  }
  const uRuns = runs.flatMap((r) => {
    const e = r.variant === "rul" ? uncertaintyEpochRun(`${r.seed}`, r.records, "eval") : null;
    return e ? [e] : [];
  });
  if (uRuns.length) {
    figs.push([
      "uncertainty_by_epoch",
      uncertaintyByEpoch(uRuns, {
        title: `RUL: uncertainty u of flipped vs clean training labels (${over})`,
      }),
    ]);
  }
  const clean = train.cleanLabels;
  if (clean) {
    for (const f of first) {
      if (f.u) {
        const s = split(f.u, train.labels, clean);
        figs.push([
          `uncertainty_hist_${f.run.variant}`,
          uncertaintyHistogram(s.clean, s.flipped, {
            title: `${f.run.variant} seed ${f.run.seed}: u of training samples after the last ` +
              `epoch (AUROC ${f.run.aurocU?.toFixed(3)})`,
            xLabel: "uncertainty u (eval mode)",
          }),
        ]);
      }
    }
    for (const f of first) {
      const s = split(f.loss, train.labels, clean);
      figs.push([
        `loss_hist_${f.run.variant}`,
        uncertaintyHistogram(s.clean, s.flipped, {
          title: `${f.run.variant} seed ${f.run.seed}: per-sample loss of training samples (AUROC ${
            f.run.aurocLoss?.toFixed(3)
          })`,
          xLabel: "cross-entropy with the (noisy) training label",
        }),
      ]);
    }
  }
  return figs;
}

async function writeFigures(
  out: string,
  figs: [string, Figure][],
  png: boolean,
): Promise<string[]> {
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

/** Parse `--seeds 0,1,2`: distinct non-negative integers, at least two. */
export function parseSeeds(text: string): number[] {
  const seeds = text.split(",").map((t) => t.trim()).filter((t) => t !== "").map(Number);
  if (seeds.some((s) => !Number.isInteger(s) || s < 0) || new Set(seeds).size !== seeds.length) {
    throw new Error(`--seeds "${text}": expected distinct non-negative integers, e.g. 0,1,2`);
  }
  if (seeds.length < 2) {
    throw new Error(`--seeds "${text}": give at least 2 seeds (the paired interval needs them)`);
  }
  return seeds;
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
  const seedsFlag = args.text("seeds");
  const seeds = seedsFlag !== undefined
    ? parseSeeds(seedsFlag)
    : [...(quick ? TINY_SEEDS : DEMO_SEEDS)];
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
  const noisePct = Math.round(config.data.noise * 100);
  const setting = `SynthFER ${config.data.trainSize} train / ${config.data.testSize} test, ` +
    `${noisePct} % symmetric label noise, ${m.inputSize} px, widths ${m.widths.join(",")}, ` +
    `${config.epochs} epochs, batch ${config.batchSize}, seeds ${seeds.join(",")}`;
  console.log(`setting: ${setting}`);
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
  const runs: DemoRun[] = [];
  const first: { u: Float32Array | null; loss: Float64Array; run: DemoRun }[] = [];
  for (const seed of seeds) {
    for (const v of ["baseline", "rul"] as const) {
      const r = await runOne(v, seed, config, data, out, { progress, workers, overwrite });
      runs.push(r.run);
      if (seed === seeds[0]) first.push(r);
      console.log(
        `${v} seed ${seed}: best ${pct(r.run.bestTestAcc)} % (ep ${r.run.bestEpoch}), last ` +
          `${pct(r.run.lastTestAcc)} %` +
          (r.run.aurocU !== null ? `, AUROC of u ${r.run.aurocU.toFixed(3)}` : "") +
          ` (${minSec(r.run.seconds)})`,
      );
    }
  }
  const files = await writeFigures(out, demoFigures(runs, first, data.train), png);
  const results = asAblationResults(runs, config.data.noise);
  const summary = summarizeAblation(results);
  const paired = pairedDifferences(results, "baseline");
  const table = demoTable(runs);
  const pairedMd = pairedMarkdown(paired);
  const perEpoch = epochTable(runs);
  const total = (performance.now() - t0) / 1000;
  const p = paired[0];
  const rulRuns = runs.filter((r) => r.variant === "rul" && r.aurocU !== null);
  const reading = [
    p
      ? `RUL − baseline, last-epoch test accuracy: ${(100 * p.last.mean).toFixed(2)} points, ` +
        `95 % paired t interval [${(100 * p.last.low).toFixed(2)}, ${
          (100 * p.last.high).toFixed(2)
        }] over ${p.seeds.length} seeds: ${verdictText("RUL", p.last)}` +
        (intervalVerdict(p.last) === "no difference established"
          ? " (the interval contains 0)."
          : " (the interval excludes 0).")
      : "fewer than 2 paired seeds: no interval.",
    rulRuns.length ? uDirection(rulRuns) : "",
    rulRuns.length ? uDirectionByEpoch(rulRuns) : "",
  ].filter((x) => x);
  const md = [
    `# RUL demo${quick ? " (--quick: numbers are meaningless)" : ""}`,
    "",
    `${setting}, init ${config.init ? path.basename(config.init) : "none (from scratch)"}. ` +
    "AUROCs: scores over the training set for flipped vs clean labels (0.5 = chance; higher score " +
    "= flipped).",
    "",
    table,
    "",
    pairedMd,
    "",
    ...reading,
    "",
    `Per epoch (mean over seeds): ${EPOCH_TABLE_NOTE}`,
    "",
    perEpoch,
    "",
    `total ${minSec(total)}`,
    "",
  ].join("\n");
  writeFileAtomicSync(path.join(out, "summary.md"), md);
  writeFileAtomicSync(
    path.join(out, "summary.json"),
    JSON.stringify(
      {
        quick,
        config,
        seeds,
        runs: runs.map((r) => ({ ...r, records: undefined })),
        summary,
        paired,
        totalSeconds: total,
      },
      null,
      2,
    ) + "\n",
  );
  console.log("\n" + table + "\n\n" + pairedMd + "\n\n" + reading.join("\n"));
  console.log(`\nper epoch (mean over seeds): ${EPOCH_TABLE_NOTE}\n${perEpoch}`);
  console.log(`\ntotal ${minSec(total)}`);
  console.log(`run folders: ${path.join(out, "seed<k>", "{baseline,rul}")}`);
  console.log(`figures: ${files.join(", ")}${png ? "" : " (PNG export off or no Chromium)"}`);
}

if (import.meta.main) {
  await runCommand({
    usage: "deno task demo [--quick] [options]",
    description: DESCRIPTION,
    flags: FLAGS,
  }, main);
}
