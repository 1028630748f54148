/**
 * `deno task bench:noisy`: a real-data noisy-label benchmark. Fashion-MNIST (Debian's
 * `dataset-fashion-mnist`) with 0 / 20 / 40 % symmetric label noise, baseline vs RUL, several
 * seeds, at a CPU-feasible size (defaults: the first 1,000 training and 1,000 test images, 32 px,
 * ResNet-18 layout at 1/4 width (16-32-64-128), from scratch, 15 epochs: the "onset" protocol of
 * docs/results.md; the memorisation-regime protocol there passes larger settings), the official
 * optimiser and schedule. With `--torch` the same images, flipped labels and seeds go through
 * tools/bench_noisy_torch.py (PyTorch, the official code's semantics; dev-time only), and the two
 * implementations are printed side by side. The LAST line is one JSON object.
 *
 * Per epoch each run prints the trainer's line and an eval-mode audit of the training set: the
 * eval-mode fit of the flipped labels (fraction of flipped samples whose NOISY label the model
 * predicts without augmentation, dropout or batch statistics) and, for RUL, the AUROC of eval-mode
 * u as a score for "this label was flipped" (0.5 = chance, > 0.5: flipped labels get the higher u).
 *
 * Resumable: each finished run is written at once to `OUT/ours/<variant>-noise<pct>-seed<s>.json`
 * (with the setting it ran under), and a rerun with the same setting skips the runs whose file
 * exists (a file of another setting is refused, not overwritten). A run killed mid-way restarts
 * from its first epoch.
 *
 * Usage: deno run -A bench/noisy.ts [--torch] [--noises 0,0.2,0.4] [--seeds 0,1,2]
 *        [--variants baseline,rul] [--epochs 15] [--train-size 1000] [--test-size 1000]
 *        [--size 32] [--widths 16,32,64,128] [--init FILE] (a pretrained backbone)
 *        [--root /usr/share/datasets/fashion-mnist] [--out runs/bench-noisy]
 *        [--torch-results FILE|DIR] (tabulate finished PyTorch runs instead of training them)
 *        [--labels-only] (only write OUT/labels.json, the PyTorch script's input, and stop)
 *        [--ours-results FILE|DIR,...] (tabulate finished runs of this project, no training)
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { describeBackend, initBackend } from "../lib/backend.ts";
import { FASHION_MNIST_DEBIAN_DIR } from "../lib/data/fashion_mnist.ts";
import { welchTInterval } from "../lib/eval/stats.ts";
import { writeFileAtomicSync } from "../lib/io/atomic_write.ts";
import { pairedDifferences, pairedMarkdown } from "../lib/notebook/ablation.ts";
import { meanStd } from "../lib/plots/ablation.ts";
import { noiseBandFigures } from "../lib/plots/bands.ts";
import { standaloneHtml } from "../lib/plots/html.ts";
import { loadRunData, resolveTrainConfig, Trainer } from "../lib/train/mod.ts";
import { type Variant, variantSwitches } from "../lib/rul/variants.ts";
import {
  aurocs,
  type EpochRecord,
  lastOf,
  readRuns,
  type Run,
  runFileName,
  type Setting,
} from "./noisy_runs.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    torch: { type: "boolean", default: false },
    "labels-only": { type: "boolean", default: false },
    "ours-results": { type: "string" },
    "torch-results": { type: "string" },
    noises: { type: "string", default: "0,0.2,0.4" },
    seeds: { type: "string", default: "0,1,2" },
    variants: { type: "string", default: "baseline,rul" },
    epochs: { type: "string", default: "15" },
    "train-size": { type: "string", default: "1000" },
    "test-size": { type: "string", default: "1000" },
    size: { type: "string", default: "32" },
    widths: { type: "string", default: "16,32,64,128" },
    init: { type: "string" },
    root: { type: "string", default: FASHION_MNIST_DEBIAN_DIR },
    out: { type: "string", default: "runs/bench-noisy" },
  },
});
const list = (s: string) => s.split(",").map((t) => Number(t.trim()));
const VARIANTS = values.variants!.split(",").map((v) => v.trim()) as Variant[];
for (const v of VARIANTS) variantSwitches(v); // an unknown name fails here, naming the valid ones
const EPOCHS = Number(values.epochs);
const TRAIN = Number(values["train-size"]);
const TEST = Number(values["test-size"]);
const SIZE = Number(values.size);
const WIDTHS = list(values.widths!) as [number, number, number, number];
const INIT = values.init ?? null;
const OUT = values.out!;

const SETTING: Setting = {
  root: values.root!,
  trainSize: TRAIN,
  testSize: TEST,
  size: SIZE,
  widths: WIDTHS,
  epochs: EPOCHS,
  init: INIT,
};

/** The first field in which two settings differ, or null. */
function settingDiff(a: Setting, b: Setting): string | null {
  for (const k of Object.keys(b) as (keyof Setting)[]) {
    if (JSON.stringify(a[k] ?? null) !== JSON.stringify(b[k] ?? null)) {
      return `${k}: ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`;
    }
  }
  return null;
}

const OURS_DONE: Run[] | null = values["ours-results"]
  ? values["ours-results"].split(",").flatMap((f) => readRuns(f.trim()))
  : null;
const NOISES = OURS_DONE
  ? [...new Set(OURS_DONE.map((r) => r.noise))].sort((a, b) => a - b)
  : list(values.noises!);
const SEEDS = OURS_DONE
  ? [...new Set(OURS_DONE.map((r) => r.seed))].sort((a, b) => a - b)
  : list(values.seeds!);

await initBackend();
console.log(`backend: ${describeBackend()}`);
if (OURS_DONE) {
  // Tabulating finished runs: the setting is the files' own, not this command line's defaults.
  const settings = [...new Set(OURS_DONE.map((r) => JSON.stringify(r.setting ?? null)))];
  console.log(
    `results of ${values["ours-results"]}; setting${settings.length > 1 ? "s" : ""}: ` +
      settings.join(" | "),
  );
} else {console.log(
    `Fashion-MNIST (${values.root}), first ${TRAIN} train / ${TEST} test images, ${SIZE} px, widths ` +
      `${WIDTHS.join(",")}, ${
        INIT ? `from ${INIT}` : "from scratch"
      }, ${EPOCHS} epochs, batch 64, ` +
      `official optimiser; noise ${NOISES.map((n) => `${Math.round(100 * n)} %`).join(" / ")}, ` +
      `seeds ${SEEDS.join(",")}`,
  );}
const t0 = performance.now();
const base = {
  epochs: EPOCHS,
  batchSize: 64,
  init: INIT,
  initPartial: INIT !== null,
  model: { inputSize: SIZE, widths: WIDTHS },
  data: {
    source: "fashion-mnist" as const,
    root: values.root!,
    trainSize: TRAIN,
    testSize: TEST,
    augment: true,
  },
};
// The noisy labels of each rate, for the PyTorch side (same images, same flips).
const labelsDoc: Record<string, unknown> = {
  ...SETTING,
  seeds: SEEDS,
  variants: VARIANTS,
  noises: [] as unknown[],
};
const datasets = [];
for (const noise of OURS_DONE ? [] : NOISES) {
  const cfg = resolveTrainConfig({ ...base, data: { ...base.data, noise } }, "bench");
  const data = await loadRunData(cfg);
  labelsDoc.cleanLabels ??= Array.from(data.train.cleanLabels ?? data.train.labels);
  (labelsDoc.noises as unknown[]).push({ noise, labels: Array.from(data.train.labels) });
  datasets.push({ noise, cfg, data });
}
const labelsFile = path.join(OUT, "labels.json");
if (!OURS_DONE) {
  fs.mkdirSync(OUT, { recursive: true });
  if (values["labels-only"] || values.torch || !fs.existsSync(labelsFile)) {
    writeFileAtomicSync(labelsFile, JSON.stringify(labelsDoc) + "\n");
    console.log(`wrote ${labelsFile} (the PyTorch side's images, noisy labels and seeds)`);
  } else {
    // Kept as it is (a PyTorch process may be reading it); its flips must be this run's.
    const kept = JSON.parse(fs.readFileSync(labelsFile, "utf8"));
    for (const { noise, data } of datasets) {
      const k = kept.noises?.find((x: { noise: number }) => Math.abs(x.noise - noise) < 1e-9);
      if (k && JSON.stringify(k.labels) !== JSON.stringify(Array.from(data.train.labels))) {
        throw new Error(`${labelsFile}: its noise ${noise} labels differ from this run's`);
      }
    }
  }
}
if (values["labels-only"]) Deno.exit(0);
const pct = (v: number | null | undefined, d = 1) =>
  typeof v === "number" ? (100 * v).toFixed(d) : "-";
const ours: Run[] = OURS_DONE ?? [];
const oursDir = path.join(OUT, "ours");
if (!OURS_DONE) fs.mkdirSync(oursDir, { recursive: true });
for (const { noise, cfg, data } of datasets) {
  for (const variant of VARIANTS) {
    for (const seed of SEEDS) {
      const tag = `ours ${variant} noise ${noise} seed ${seed}`;
      const file = path.join(oursDir, runFileName(variant, noise, seed));
      if (fs.existsSync(file)) {
        const [done] = readRuns(file);
        const diff = done.setting ? settingDiff(done.setting, SETTING) : "no setting recorded";
        if (diff) {
          throw new Error(
            `${file} holds a run of another setting (${diff}); move it away or use another --out`,
          );
        }
        console.log(`${tag}: done (${file}), skipped`);
        ours.push(done);
        continue;
      }
      const ts = performance.now();
      const trainer = await Trainer.create({
        config: { ...cfg, variant, seed },
        out: null,
        data,
        progress: "silent",
        log: (line) => console.log(`${tag}: ${line}`),
        // the eval-mode audit of the training set after every epoch (the trainer's
        // evalFitOfNoisyLabels): fit of the flipped and clean labels, AUROC of the method's score
        auditEachEpoch: true,
        hooks: {
          onEpoch: ({ record }) => {
            if (record.eval_acc_flipped === undefined) return;
            const auroc = record.eval_u_auroc_noisy ?? record.eval_score_auroc_noisy;
            console.log(
              `${tag}: epoch ${record.epoch} audit (eval mode): fit of flipped ` +
                `${pct(record.eval_acc_flipped as number)} %, of clean ` +
                `${pct(record.eval_acc_clean as number)} %` +
                (typeof auroc === "number" ? `, AUROC of its score ${auroc.toFixed(3)}` : ""),
            );
          },
        },
      });
      let run: Run;
      try {
        const r = await trainer.run();
        const last = r.records[r.records.length - 1];
        const num = (v: unknown) => (typeof v === "number" ? v : null);
        run = {
          variant,
          noise,
          seed,
          bestTestAcc: r.bestTestAcc,
          bestEpoch: r.bestEpoch,
          lastTestAcc: r.lastTestAcc,
          aurocU: num(last?.eval_u_auroc_noisy ?? last?.eval_score_auroc_noisy),
          seconds: (performance.now() - ts) / 1000,
          records: r.records.map((x) => {
            return {
              epoch: Number(x.epoch),
              test_acc: Number(x.test_acc),
              train_acc_flipped: num(x.train_acc_flipped),
              eval_fit_flipped: num(x.eval_acc_flipped),
              eval_fit_clean: num(x.eval_acc_clean),
              // the method's score: RUL's u, SCN's α, EAC's flip consistency
              auroc_u: num(x.eval_u_auroc_noisy ?? x.eval_score_auroc_noisy),
            };
          }),
          setting: SETTING,
        };
      } finally {
        trainer.dispose();
      }
      writeFileAtomicSync(
        file,
        JSON.stringify(
          {
            ...run,
            implementation: "ours",
            backend: describeBackend(),
            date: new Date().toISOString(),
            command: `deno run -A bench/noisy.ts ${Deno.args.join(" ")}`,
          },
          null,
          1,
        ) + "\n",
      );
      ours.push(run);
      console.log(
        `${tag}: best ${pct(run.bestTestAcc, 2)} (ep ${run.bestEpoch}) last ` +
          `${pct(run.lastTestAcc, 2)} %, eval-mode fit of flipped by epoch ` +
          `${run.records.map((x) => pct(x.eval_fit_flipped, 0)).join(" ")} ` +
          `(${run.seconds.toFixed(0)} s) → ${file}`,
      );
    }
  }
}
let torch: Run[] | null = null;
const torchOut = values["torch-results"] ?? path.join(OUT, "torch");
if (values.torch && !values["torch-results"]) {
  const args = [
    "tools/bench_noisy_torch.py",
    "--labels",
    labelsFile,
    "--out",
    torchOut,
    "--threads",
    Deno.env.get("RUL_THREADS") ?? "2",
  ];
  console.log(`\nPyTorch: /usr/bin/python3 ${args.join(" ")}`);
  const p = new Deno.Command("/usr/bin/python3", { args, stdout: "inherit", stderr: "inherit" })
    .spawn();
  const st = await p.status;
  if (!st.success) throw new Error(`tools/bench_noisy_torch.py failed (exit ${st.code})`);
}
if (values.torch || values["torch-results"]) {
  torch = torchOut.split(",").flatMap((f) => readRuns(f.trim()))
    .filter((r) => NOISES.some((n) => Math.abs(n - r.noise) < 1e-9));
}

const pm = (xs: number[], d = 2, s = 100) => {
  if (!xs.length) return "n/a";
  const m = meanStd(xs);
  return `${(s * m.mean).toFixed(d)} ± ${(s * m.std).toFixed(d)}`;
};
const pick = (runs: Run[], v: string, n: number) =>
  runs.filter((r) => r.variant === v && Math.abs(r.noise - n) < 1e-9);
const rows: string[] = [];
const head = torch
  ? "| noise | variant | seeds (ours / PyTorch) | ours best % | PyTorch best % | ours last % | " +
    "PyTorch last % | ours eval fit of flipped (last) % | PyTorch eval fit of flipped (last) % | " +
    "ours AUROC u | PyTorch AUROC u |"
  : "| noise | variant | seeds | best-epoch % | last-epoch % | eval fit of flipped (last) % | " +
    "AUROC of its score (u / α / consistency) |";
rows.push(head, head.replace(/[^|]+/g, " --- "));
for (const noise of NOISES) {
  for (const v of VARIANTS) {
    const a = pick(ours, v, noise);
    const n = `${Math.round(100 * noise)} %`;
    if (torch) {
      const b = pick(torch, v, noise);
      rows.push(
        `| ${n} | ${v} | ${a.length} / ${b.length} | ${pm(a.map((r) => r.bestTestAcc))} | ` +
          `${pm(b.map((r) => r.bestTestAcc))} | ${pm(a.map((r) => r.lastTestAcc))} | ` +
          `${pm(b.map((r) => r.lastTestAcc))} | ${pm(lastOf(a, "eval_fit_flipped"), 1)} | ` +
          `${pm(lastOf(b, "eval_fit_flipped"), 1)} | ${pm(aurocs(a), 3, 1)} | ` +
          `${pm(aurocs(b), 3, 1)} |`,
      );
    } else {
      rows.push(
        `| ${n} | ${v} | ${a.length} | ${pm(a.map((r) => r.bestTestAcc))} | ` +
          `${pm(a.map((r) => r.lastTestAcc))} | ${pm(lastOf(a, "eval_fit_flipped"), 1)} | ` +
          `${pm(aurocs(a), 3, 1)} |`,
      );
    }
  }
}

/** Ours − PyTorch, Welch's 95 % interval of the difference of the means (seeds are not pairs). */
function welchMarkdown(a: Run[], b: Run[]): string {
  const cell = (xa: number[], xb: number[], s: number, d: number) => {
    if (xa.length < 2 || xb.length < 2) return "n/a";
    try {
      const w = welchTInterval(xb, xa);
      const f = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(s * v).toFixed(d)}`;
      return `${f(w.mean)} [${f(w.low)}, ${f(w.high)}]`;
    } catch {
      return "n/a";
    }
  };
  const out = [
    "| noise | variant | best-epoch pts | last-epoch pts | AUROC of u |",
    "| ---: | --- | --- | --- | --- |",
  ];
  for (const noise of NOISES) {
    for (const v of VARIANTS) {
      const x = pick(a, v, noise), y = pick(b, v, noise);
      out.push(
        `| ${Math.round(100 * noise)} % | ${v} | ` +
          `${cell(x.map((r) => r.bestTestAcc), y.map((r) => r.bestTestAcc), 100, 2)} | ` +
          `${cell(x.map((r) => r.lastTestAcc), y.map((r) => r.lastTestAcc), 100, 2)} | ` +
          `${cell(aurocs(x), aurocs(y), 1, 3)} |`,
      );
    }
  }
  return out.join("\n");
}

/** Mean over seeds, by epoch: test accuracy, eval-mode fit of the flipped labels, AUROC of u. */
function perEpochMarkdown(sides: [string, Run[]][]): string {
  const epochs = Math.max(0, ...sides.flatMap(([, rs]) => rs.map((r) => r.records.length)));
  const shown = [
    ...new Set([
      1,
      2,
      3,
      5,
      ...Array.from({ length: epochs }, (_, i) => i + 1)
        .filter((e) => e % 5 === 0),
      epochs,
    ]),
  ].filter((e) => e >= 1 && e <= epochs).sort((a, b) => a - b);
  const out = [
    `| side | noise | variant | seeds | figure | ${shown.map((e) => `ep ${e}`).join(" | ")} |`,
    `| --- | ---: | --- | ---: | --- |${shown.map(() => " ---: |").join("")}`,
  ];
  const mean = (rs: Run[], e: number, k: keyof EpochRecord, s: number, d: number) => {
    const xs = rs.flatMap((r) => {
      const v = r.records[e - 1]?.[k];
      return typeof v === "number" ? [v] : [];
    });
    return xs.length ? (s * xs.reduce((p, q) => p + q, 0) / xs.length).toFixed(d) : "-";
  };
  for (const [side, runs] of sides) {
    for (const noise of NOISES) {
      for (const v of VARIANTS) {
        const rs = pick(runs, v, noise);
        if (!rs.length) continue;
        const figs: [string, keyof EpochRecord, number, number][] = [[
          "test acc %",
          "test_acc",
          100,
          1,
        ]];
        if (noise > 0) figs.push(["eval fit of flipped %", "eval_fit_flipped", 100, 1]);
        if (noise > 0 && v !== "baseline") figs.push(["AUROC of the score", "auroc_u", 1, 3]);
        for (const [name, k, s, d] of figs) {
          out.push(
            `| ${side} | ${Math.round(100 * noise)} % | ${v} | ${rs.length} | ${name} | ` +
              `${shown.map((e) => mean(rs, e, k, s, d)).join(" | ")} |`,
          );
        }
      }
    }
  }
  return out.join("\n");
}

const table = rows.join("\n");
const pairedOurs = pairedMarkdown(pairedDifferences(ours));
const pairedTorch = torch ? pairedMarkdown(pairedDifferences(torch)) : null;
const total = (performance.now() - t0) / 1000;
const md = [
  table,
  "",
  "each variant − baseline, this project:",
  "",
  pairedOurs,
  ...(pairedTorch ? ["", "each variant − baseline, PyTorch:", "", pairedTorch] : []),
  ...(torch
    ? ["", "This project − PyTorch (95 % Welch interval):", "", welchMarkdown(ours, torch)]
    : []),
  "",
  "By epoch (mean over seeds; eval mode for the fit and u):",
  "",
  perEpochMarkdown([["ours", ours], ...(torch ? [["PyTorch", torch] as [string, Run[]]] : [])]),
  "",
  `total ${(total / 60).toFixed(1)} min (this project's runs: ${
    (ours.reduce((s, r) => s + r.seconds, 0) / 60).toFixed(1)
  } min)`,
].join("\n");
if (!OURS_DONE) writeFileAtomicSync(path.join(OUT, "table.md"), md + "\n");
console.log("\n" + md);
// Per noise rate, each variant's curves as its mean ± s.d. over seeds, the seeds faint (lib/plots).
const figures = [["this project", ours], ["PyTorch", torch ?? []]] as const;
writeFileAtomicSync(
  path.join(OUT, "figures.html"),
  standaloneHtml(
    figures.flatMap(([who, runs]) =>
      noiseBandFigures(runs.map((r) => ({ ...r, group: r.variant })), {
        title: who,
        // this bench's own record keys (its eval-mode audit runs in the onEpoch hook above)
        metrics: [
          { key: "test_acc", label: "test accuracy" },
          { key: "eval_fit_flipped", label: "fit of flipped labels (eval mode)" },
          {
            key: "auroc_u",
            label: "AUROC of the score for flipped labels (eval mode)",
            reference: { y: 0.5, name: "chance" },
          },
          { key: "train_acc_flipped", label: "fit of flipped (train)" },
        ],
      }).map((f) => f.figure)
    ),
    "bench:noisy",
  ),
);
console.log(`figures: ${path.join(OUT, "figures.html")}`);
console.log(JSON.stringify({
  bench: "noisy",
  noises: NOISES,
  seeds: SEEDS,
  ours: ours.map(({ records: _r, setting: _s, ...x }) => x),
  torch: torch?.map(({ records: _r, setting: _s, ...x }) => x) ?? null,
  seconds: total,
}));
