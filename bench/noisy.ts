/**
 * `deno task bench:noisy`: a real-data noisy-label benchmark. Fashion-MNIST (Debian's
 * `dataset-fashion-mnist`) with 0 / 20 / 40 % symmetric label noise, baseline vs RUL, several
 * seeds, trained long enough for the baseline to fit the flipped labels (the fit is printed per
 * epoch), at a CPU-feasible size: the first 1,000 training and 1,000 test images, 32 px, ResNet-18
 * layout at 1/4 width (16-32-64-128), from scratch (no pretrained backbone exists for it), 15 epochs,
 * the official optimiser and schedule. With `--torch` the same images, flipped labels and seeds
 * go through tools/bench_noisy_torch.py (PyTorch, the official code's semantics; dev-time only),
 * and the two implementations are printed side by side. The LAST line is one JSON object.
 *
 * Usage: deno run -A bench/noisy.ts [--torch] [--noises 0,0.2,0.4] [--seeds 0,1,2]
 *        [--epochs 15] [--train-size 1000] [--test-size 1000] [--size 32] [--widths 16,32,64,128]
 *        [--root /usr/share/datasets/fashion-mnist] [--out runs/bench-noisy]
 *        [--torch-results FILE] (reuse a finished PyTorch run instead of training again)
 *        [--labels-only] (only write OUT/labels.json, the PyTorch script's input, and stop)
 *        [--ours-results A.json,B.json] (tabulate finished runs of this project, no training)
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { describeBackend, initBackend } from "../lib/backend.ts";
import { FASHION_MNIST_DEBIAN_DIR } from "../lib/data/fashion_mnist.ts";
import { writeFileAtomicSync } from "../lib/io/atomic_write.ts";
import {
  type AblationResult,
  pairedDifferences,
  pairedMarkdown,
} from "../lib/notebook/ablation.ts";
import { meanStd } from "../lib/plots/ablation.ts";
import { EPOCH_BAND_METRICS, noiseBandFigures } from "../lib/plots/bands.ts";
import { standaloneHtml } from "../lib/plots/html.ts";
import { loadRunData, resolveTrainConfig, Trainer } from "../lib/train/mod.ts";

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
    root: { type: "string", default: FASHION_MNIST_DEBIAN_DIR },
    out: { type: "string", default: "runs/bench-noisy" },
  },
});
const list = (s: string) => s.split(",").map((t) => Number(t.trim()));
const OURS_FILES = values["ours-results"]?.split(",") ?? null;
const OURS_DONE: Run[] | null = OURS_FILES
  ? OURS_FILES.flatMap((f) => JSON.parse(fs.readFileSync(f, "utf8")) as Run[])
  : null;
const NOISES = OURS_DONE
  ? [...new Set(OURS_DONE.map((r) => r.noise))].sort((a, b) => a - b)
  : list(values.noises!);
const SEEDS = list(values.seeds!);
const VARIANTS = values.variants!.split(",") as ("baseline" | "rul")[];
const EPOCHS = Number(values.epochs);
const TRAIN = Number(values["train-size"]);
const TEST = Number(values["test-size"]);
const SIZE = Number(values.size);
const WIDTHS = list(values.widths!) as [number, number, number, number];
const OUT = values.out!;

/** One run of either implementation. */
interface Run extends AblationResult {
  bestEpoch: number;
  aurocU: number | null;
  seconds: number;
  records: { epoch: number; test_acc: number; train_acc_flipped: number | null }[];
}

await initBackend();
console.log(`backend: ${describeBackend()}`);
console.log(
  `Fashion-MNIST (${values.root}), first ${TRAIN} train / ${TEST} test images, ${SIZE} px, widths ` +
    `${WIDTHS.join(",")}, from scratch, ${EPOCHS} epochs, batch 64, official optimiser; noise ` +
    `${NOISES.map((n) => `${Math.round(100 * n)} %`).join(" / ")}, seeds ${SEEDS.join(",")}`,
);
const t0 = performance.now();
const base = {
  epochs: EPOCHS,
  batchSize: 64,
  init: null,
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
  root: values.root,
  trainSize: TRAIN,
  testSize: TEST,
  size: SIZE,
  widths: WIDTHS,
  epochs: EPOCHS,
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
  writeFileAtomicSync(labelsFile, JSON.stringify(labelsDoc) + "\n");
  console.log(`wrote ${labelsFile} (the PyTorch side's images, noisy labels and seeds)`);
}
if (values["labels-only"]) Deno.exit(0);
const ours: Run[] = OURS_DONE ?? [];
for (const { noise, cfg, data } of datasets) {
  for (const variant of VARIANTS) {
    for (const seed of SEEDS) {
      const ts = performance.now();
      const trainer = await Trainer.create({
        config: { ...cfg, variant, seed },
        out: null,
        data,
        progress: "silent",
        log: null,
      });
      try {
        const r = await trainer.run();
        const audit = variant === "rul" && noise > 0 ? await trainer.auditTrainingSet() : null;
        ours.push({
          variant,
          noise,
          seed,
          bestTestAcc: r.bestTestAcc,
          bestEpoch: r.bestEpoch,
          lastTestAcc: r.lastTestAcc,
          aurocU: audit?.noisyAuroc ?? null,
          seconds: (performance.now() - ts) / 1000,
          records: r.records.map((x) => ({
            epoch: Number(x.epoch),
            test_acc: Number(x.test_acc),
            train_acc_flipped: typeof x.train_acc_flipped === "number" ? x.train_acc_flipped : null,
          })),
        });
      } finally {
        trainer.dispose();
      }
      const o = ours[ours.length - 1];
      console.log(
        `ours ${variant} noise ${noise} seed ${seed}: best ${(100 * o.bestTestAcc).toFixed(2)} ` +
          `(ep ${o.bestEpoch}) last ${(100 * o.lastTestAcc).toFixed(2)} %, fit of flipped ` +
          `${o.records.map((x) => x.train_acc_flipped?.toFixed(2) ?? "-").join(" ")} ` +
          `(${o.seconds.toFixed(0)} s)`,
      );
      writeFileAtomicSync(path.join(OUT, "ours.json"), JSON.stringify(ours, null, 1) + "\n");
    }
  }
}
let torch: Run[] | null = null;
const torchFile = values["torch-results"] ?? path.join(OUT, "torch.json");
if (values.torch && !values["torch-results"]) {
  console.log(`\nPyTorch: /usr/bin/python3 tools/bench_noisy_torch.py --labels ${labelsFile}`);
  const p = new Deno.Command("/usr/bin/python3", {
    args: ["tools/bench_noisy_torch.py", "--labels", labelsFile, "--out", torchFile],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const st = await p.status;
  if (!st.success) throw new Error(`tools/bench_noisy_torch.py failed (exit ${st.code})`);
}
if (values.torch || values["torch-results"]) {
  torch = (JSON.parse(fs.readFileSync(torchFile, "utf8")).results as Run[])
    .filter((r) => NOISES.some((n) => Math.abs(n - r.noise) < 1e-9));
}

const pm = (xs: number[], d = 2, s = 100) => {
  if (!xs.length) return "n/a";
  const m = meanStd(xs);
  return `${(s * m.mean).toFixed(d)} ± ${(s * m.std).toFixed(d)}`;
};
const pick = (runs: Run[], v: string, n: number) =>
  runs.filter((r) => r.variant === v && Math.abs(r.noise - n) < 1e-9);
const fitLast = (rs: Run[]) =>
  rs.flatMap((r) => {
    const f = r.records[r.records.length - 1]?.train_acc_flipped;
    return typeof f === "number" ? [f] : [];
  });
const rows: string[] = [];
const head = torch
  ? "| noise | variant | seeds | ours best % | PyTorch best % | ours last % | PyTorch last % | " +
    "ours fit of flipped (last) % | PyTorch fit of flipped (last) % | ours AUROC u | PyTorch AUROC u |"
  : "| noise | variant | seeds | best-epoch % | last-epoch % | fit of flipped (last) % | AUROC u |";
rows.push(head, head.replace(/[^|]+/g, " --- "));
for (const noise of NOISES) {
  for (const v of VARIANTS) {
    const a = pick(ours, v, noise);
    const au = a.flatMap((r) => (r.aurocU === null ? [] : [r.aurocU]));
    const n = `${Math.round(100 * noise)} %`;
    if (torch) {
      const b = pick(torch, v, noise);
      const bu = b.flatMap((r) => (r.aurocU === null ? [] : [r.aurocU]));
      rows.push(
        `| ${n} | ${v} | ${a.length} / ${b.length} | ${pm(a.map((r) => r.bestTestAcc))} | ` +
          `${pm(b.map((r) => r.bestTestAcc))} | ${pm(a.map((r) => r.lastTestAcc))} | ` +
          `${pm(b.map((r) => r.lastTestAcc))} | ${pm(fitLast(a), 1)} | ${pm(fitLast(b), 1)} | ` +
          `${pm(au, 3, 1)} | ${pm(bu, 3, 1)} |`,
      );
    } else {
      rows.push(
        `| ${n} | ${v} | ${a.length} | ${pm(a.map((r) => r.bestTestAcc))} | ` +
          `${pm(a.map((r) => r.lastTestAcc))} | ${pm(fitLast(a), 1)} | ${pm(au, 3, 1)} |`,
      );
    }
  }
}
const table = rows.join("\n");
const pairedOurs = pairedMarkdown(pairedDifferences(ours));
const pairedTorch = torch ? pairedMarkdown(pairedDifferences(torch)) : null;
const total = (performance.now() - t0) / 1000;
const md = [
  table,
  "",
  "RUL − baseline, this project:",
  "",
  pairedOurs,
  ...(pairedTorch ? ["", "RUL − baseline, PyTorch:", "", pairedTorch] : []),
  "",
  `total ${(total / 60).toFixed(1)} min (this project's runs: ${
    (ours.reduce((s, r) => s + r.seconds, 0) / 60).toFixed(1)
  } min)`,
].join("\n");
writeFileAtomicSync(path.join(OUT, "table.md"), md + "\n");
console.log("\n" + md);
// Per noise rate, each variant's curves as its mean ± s.d. over seeds, the seeds faint (lib/plots).
const figures = [["this project", ours], ["PyTorch", torch ?? []]] as const;
writeFileAtomicSync(
  path.join(OUT, "figures.html"),
  standaloneHtml(
    figures.flatMap(([who, runs]) =>
      noiseBandFigures(runs.map((r) => ({ ...r, group: r.variant })), {
        title: who,
        metrics: [...EPOCH_BAND_METRICS, {
          key: "train_acc_flipped",
          label: "fit of flipped (train)",
        }],
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
  ours: ours.map(({ records: _r, ...x }) => x),
  torch: torch?.map(({ records: _r, ...x }) => x) ?? null,
  seconds: total,
}));
