#!/usr/bin/python3
"""Write notebooks/02_train_rul.ipynb, 03_ablations.ipynb and 04_feature_visualisation.ipynb.

The notebooks are generated from the cell texts below so that their JSON stays tidy (no
outputs, stable cell ids, the Deno kernelspec); edit this file and re-run it, or edit the
notebooks in Jupyter and strip their outputs (`tools/run_notebooks.py --clear notebooks/`).

    /usr/bin/python3 tools/make_notebooks.py            # (re)writes the three notebooks
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
META = {
    "kernelspec": {"display_name": "Deno", "language": "typescript", "name": "deno"},
    "language_info": {
        "codemirror_mode": "typescript",
        "file_extension": ".ts",
        "mimetype": "text/x.typescript",
        "name": "typescript",
        "nbconvert_exporter": "script",
        "pygments_lexer": "typescript",
    },
}


def md(text: str) -> tuple[str, str]:
    return ("markdown", text.strip("\n"))


def code(text: str) -> tuple[str, str]:
    return ("code", text.strip("\n"))


SETTINGS_MD = md("""
## Settings

`RUL_SCALE` switches between the quick SynthFER run and the paper setting. `paper`: 224 px,
ResNet-18, batch 64, 60 epochs, backbone from `init` (the paper starts from ResNet-18 pretrained on
MS-Celeb-1M: set `init` to `resnet18_msceleb.pth`). `quick` follows the same protocol, smaller:
48 px, ResNet-18 at half width, a few epochs on a few thousand SynthFER images, starting from a
committed backbone pretrained on a separate, clean SynthFER split (our stand-in for MS-Celeb-1M;
about a minute per run on a laptop CPU). Quick numbers are one seed on a small test set: a few
points either way are noise. `RUL_DATA` is the RAF-DB folder (the one holding `EmoLabel/` and
`Image/aligned/`); unset, the embedded SynthFER data is used. `RUL_OUT` is where run folders,
checkpoints and figures go. Set them in the environment, or replace the `notebookSettings()`
call by literal values.
""")

BACKEND_MD = md("""
## Backend

TF.js picks the fastest backend available: `tfjs-node-gpu` (CUDA GPU) or `tfjs-node` when
installed, else WebAssembly with SIMD and threads, else plain JavaScript. The report below says
which one runs, with how many threads, and why faster ones were skipped (see `docs/gpu.md` to
install the GPU backend).
""")

BACKEND = code("""
const backend = await rul.initBackend();
console.log(rul.describeBackend());
console.log(backend.skipped.length ? `skipped: ${backend.skipped.join("; ")}` : "nothing skipped");
""")


def nb02() -> list[tuple[str, str]]:
    return [
        md("""
# 02 · Train RUL

**Relative Uncertainty Learning** (RUL, Zhang et al., NeurIPS 2021) trains a facial-expression
classifier that also learns how *uncertain* each training image is. A ResNet-18 backbone gives
every image a feature vector and an uncertainty value. During training, images are paired, and
each pair's features are **mixed** with weights taken from their relative uncertainty (the more
certain image counts more). The mixed feature must predict *both* labels (the **add-up loss**,
half weight each). An image whose label is wrong or ambiguous is hard to predict, so the network
learns to give it a high uncertainty, which lowers its weight in the mix: noisy labels hurt less.

This notebook trains RUL, shows the training curves live, reports the final accuracy and the
confusion matrix, checks whether the learned uncertainty points at the flipped labels, and saves
a checkpoint. Run the cells top to bottom.
"""),
        md("""
## Hyper-parameters

Every hyper-parameter of the official code, with its default value. Change one and re-run the
notebook. The quick scale (next cell) shrinks the network, input size, data and epochs on top of
these and sets `init` to the SynthFER-pretrained backbone; the paper scale uses them as they are.
Like the paper, training starts from a pretrained backbone (MS-Celeb-1M face recognition there),
not from random weights: with only a few thousand noisy images, a network trained from scratch
learns little.
"""),
        code("""
import * as rul from "../lib/mod.ts";
// Official RUL defaults. variant: rul | baseline | rul-pair-different | rul-pair-hardest | rul-addup-w | rul-no-sigma
const HP: rul.TrainConfigInput = {
  variant: "rul", epochs: 60, batchSize: 64, evalBatchSize: 128, seed: 0,
  // paper scale: set to the official resnet18_msceleb.pth (quick scale: its own pretrained file)
  init: null,
  model: { inputSize: 224, featureDim: 64, dropout: 0.4, widths: [64, 128, 256, 512] },
  optim: { lrBackbone: 2e-4, lrClassifier: 2e-3, weightDecay: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, gamma: 0.9 },
  // noise: fraction of training labels flipped (official default 0; the paper's noisy runs: 0.1-0.3)
  data: { noise: 0.3, noiseFile: null, augment: true },
};
"""),
        SETTINGS_MD,
        code("""
// Scale and dataset: RUL_SCALE=quick|paper, RUL_DATA=<RAF-DB root> (unset: SynthFER), RUL_OUT.
const { scale: SCALE, dataRoot: DATA_ROOT, out: OUT } = rul.notebookSettings();
const CONFIG = rul.mergeConfig(HP, rul.scaleConfig(SCALE, DATA_ROOT));
const RUN_DIR = `${OUT}/runs/02-train-rul`;
const cfg = rul.resolveTrainConfig(CONFIG); // validates every value, fills the rest
console.log({ SCALE, DATA_ROOT, RUN_DIR });
console.log(`${cfg.variant}: ${cfg.epochs} epochs, batch ${cfg.batchSize}, ${cfg.model.inputSize} px, widths ${cfg.model.widths}`);
console.log(`init: ${cfg.init ?? "none (random weights)"}`);
"""),
        BACKEND_MD,
        BACKEND,
        md("""
## Data

The training split gets its labels flipped at the configured rate (seeded, so every run flips
the same images); the clean labels are kept beside them to evaluate the uncertainty later.
"""),
        code("""
const data = await rul.loadRunData(cfg);
console.log(`${data.train.n} train / ${data.test.n} test images from ${DATA_ROOT ?? "SynthFER"}`);
console.log(`source: ${data.train.source}`);
"""),
        md("""
## Train

The curves update in place after every epoch: training loss (left) and test accuracy (right).
The trainer writes `metrics.csv`, and after every epoch a checkpoint, to the run folder.
"""),
        code("""
const curves = new rul.LiveTrainingCurves({ title: "Live training curves" });
const trainer = await rul.Trainer.create({
  config: CONFIG, out: RUN_DIR, data,
  hooks: { onEpoch: curves.onEpoch(cfg.variant) },
});
const result = await trainer.run();
await curves.finish();
"""),
        md("""
## Final metrics

Two accuracies are reported, because papers use both: the **best-epoch** accuracy (the highest
test accuracy over all epochs, which is what the official script prints; it selects on the test
set) and the **last-epoch** accuracy (the number in the paper's noisy-label tables).
"""),
        code("""
console.log(`best-epoch test accuracy: ${(100 * result.bestTestAcc).toFixed(2)} % (epoch ${result.bestEpoch})`);
console.log(`last-epoch test accuracy: ${(100 * result.lastTestAcc).toFixed(2)} % (epoch ${result.epochs})`);
const ev = trainer.lastTestEval()!;
console.log("per-class accuracy:", Object.fromEntries(data.test.classNames.map((c, i) => [c, +ev.perClass[i].toFixed(3)])));
"""),
        md("""
## Confusion matrix

Rows are the true classes, columns the predictions, after the last epoch; the right panel is
normalised per row (recall per class).
"""),
        code("""
rul.show(rul.confusionHeatmap(ev.confusion, {
  classNames: data.test.classNames, mode: "both", title: "Test confusion matrix (last epoch)",
}))
"""),
        md("""
## Does the uncertainty find the noisy labels?

An eval-mode pass over the training set gives every image its uncertainty u. If RUL works, the
images whose label was flipped get a higher u than the clean ones: the AUROC of u for telling
them apart is above 0.5 (1 = perfect). (Not available for the baseline or without noise.)
In the quick setting expect it near 0.5: a few epochs from a pretrained start barely move u, as
in the demo (docs/training.md).
"""),
        code("""
const audit = await trainer.auditTrainingSet();
console.log(`AUROC of u for flipped labels: ${audit.noisyAuroc?.toFixed(3) ?? "n/a"}; mean u:`, audit.meanU);
const flipped = (i: number) => data.train.labels[i] !== data.train.cleanLabels?.[i];
const u = Array.from(audit.eval.u ?? []);
rul.show(rul.uncertaintyHistogram(u.filter((_, i) => !flipped(i)), u.filter((_, i) => flipped(i)), {
  title: "Uncertainty of clean vs flipped training labels",
}))
"""),
        md("""
## Checkpoint

`checkpoints/last.safetensors` holds the model (PyTorch parameter names and layouts; it loads into
PyTorch with `load_state_dict(strict=True)`) and the epoch, its sibling `last.optim.safetensors`
the Adam state, so `deno task train --out <run> --resume` continues the run;
`checkpoints/best.safetensors` is the model of the best epoch. The per-sample tables
(`samples_test.*`, `samples_train.*`) list prediction, softmax, u and feature of every image.
"""),
        code("""
await trainer.writeTestTable();
for (const f of [...Deno.readDirSync(`${RUN_DIR}/checkpoints`)].map((e) => e.name).sort()) {
  console.log(`${RUN_DIR}/checkpoints/${f}: ${(Deno.statSync(`${RUN_DIR}/checkpoints/${f}`).size / 1e6).toFixed(2)} MB`);
}
console.log("run folder:", [...Deno.readDirSync(RUN_DIR)].map((e) => e.name).sort().join(", "));
trainer.dispose();
"""),
        md("Next: `03_ablations.ipynb` compares RUL with the baseline and its variants."),
    ]


def nb03() -> list[tuple[str, str]]:
    return [
        md("""
# 03 · Ablations

Which parts of RUL matter? This notebook trains the **baseline** (the same ResNet-18 with plain
cross-entropy) and RUL with one part changed at a time:

| variant | what changes |
| --- | --- |
| `rul` | RUL as released: random pairs, add-up loss with weights 0.5/0.5, uncertainty (σ) head |
| `rul-pair-different` | each image is paired with an image of a *different* label |
| `rul-pair-hardest` | each image is paired with its nearest different-label neighbour |
| `rul-addup-w` | the add-up loss is weighted by the mixing weights w / 1−w instead of 0.5/0.5 |
| `rul-no-sigma` | no uncertainty head: features are mixed 50/50 (plain feature mixup) |

each at several label-noise rates and several seeds, and reports mean ± standard deviation over
the seeds of the best-epoch and last-epoch test accuracy.
"""),
        SETTINGS_MD,
        code("""
import * as rul from "../lib/mod.ts";
const { scale: SCALE, dataRoot: DATA_ROOT, out: OUT } = rul.notebookSettings();
// paper: 6 variants × 0/10/20/30 % noise × 3 seeds, official recipe (set PLAN.config.init to
// resnet18_msceleb.pth); quick: baseline/rul/rul-no-sigma, 30 % noise, 2 seeds, 3 epochs, pretrained
const PLAN = rul.ablationPlan(SCALE, DATA_ROOT);
// Edit the grid here, e.g. PLAN.noises = [0, 0.3]; PLAN.seeds = [0, 1, 2];
const JOBS = rul.ablationJobs(PLAN);
const DIR = `${OUT}/runs/03-ablations`;
console.log({ SCALE, DATA_ROOT, DIR, runs: JOBS.length, variants: PLAN.variants.length, noises: PLAN.noises, seeds: PLAN.seeds });
"""),
        BACKEND_MD,
        BACKEND,
        md("""
## Run the grid

The runs go one after another (each in its own run folder under `DIR`); the curves of every
run appear live, and one line per finished run reports its accuracies. The data seed is fixed,
so all seeds of a noise rate see the same images with the same flipped labels: the seeds only
change the initialisation, the data order, the augmentation and the pairing.
"""),
        code("""
const curves = new rul.LiveTrainingCurves({ title: "Live training curves (every run)" });
const results = await rul.runAblation(JOBS, (job) => rul.train({
  config: job.config, out: `${DIR}/${job.name}`, log: null, progress: "silent",
  hooks: { onEpoch: curves.onEpoch(job.name) },
}), (r, done, total) => console.log(`${done.length}/${total} ${r.variant} noise ${r.noise} seed ${r.seed}: ` +
  `best ${(100 * r.bestTestAcc).toFixed(2)} %, last ${(100 * r.lastTestAcc).toFixed(2)} %`));
await curves.finish();
await rul.writeFileAtomic(`${DIR}/results.json`, JSON.stringify(results, null, 1));
"""),
        md("""
## Results table

Mean ± sample standard deviation over the seeds, in %. The best-epoch column picks the best
test accuracy over the epochs (the official script's number); the last-epoch column is the
accuracy at the end of training (the paper's noisy-label tables).
"""),
        code("""
const rows = rul.summarizeAblation(results);
const table = rul.ablationMarkdown(rows);
console.log(table);
await rul.writeFileAtomic(`${DIR}/results.md`, table + "\\n");
Deno.jupyter.md`${table}`
"""),
        md("""
## Bar charts

One bar per variant (and noise rate), the height being the mean over seeds, the error bar ±1
standard deviation, the dots the individual seeds.
"""),
        code("""
rul.show(rul.ablationBars(rul.ablationEntries(rows, "best"), {
  title: "Best-epoch test accuracy (mean ± s.d. over seeds)", zoom: true,
}))
"""),
        code("""
rul.show(rul.ablationBars(rul.ablationEntries(rows, "last"), {
  title: "Last-epoch test accuracy (mean ± s.d. over seeds)", zoom: true,
}))
"""),
        md("""
The quick grid is small: three variants, two seeds, 1,000 noisy training images, 500 test images
(one test image = 0.2 points), 3 epochs from the pretrained backbone. Differences of a point or two
are within the seed-to-seed spread; add seeds and variants to the cell above, or run with
`RUL_SCALE=paper` (and RAF-DB) for the paper's comparison. Next:
`04_feature_visualisation.ipynb`.
"""),
    ]


def nb04() -> list[tuple[str, str]]:
    return [
        md("""
# 04 · Feature visualisation

The paper shows that RUL's features of the test images form tighter, better separated clusters
per expression than the baseline's. This notebook trains both models on the same noisy data,
embeds their test features in 2-D with **t-SNE** (a map that keeps images with similar features
close together), and plots them side by side, coloured by the true class. It then overlays
RUL's uncertainty on the map, shows the training images RUL finds most uncertain, and exports
the figures to PNG, SVG and PDF. Both models start from the same pretrained backbone (quick
scale: pretrained on a separate clean SynthFER split, like the paper's MS-Celeb-1M start), so the
clusters partly come from pretraining; quick numbers are one seed on 500 test images.
"""),
        SETTINGS_MD,
        code("""
import * as rul from "../lib/mod.ts";
const { scale: SCALE, dataRoot: DATA_ROOT, out: OUT } = rul.notebookSettings();
const NOISE = 0.3; // fraction of flipped training labels
const PERPLEXITY = 30; // t-SNE neighbourhood size (scikit-learn's default)
const CONFIG = rul.mergeConfig(rul.scaleConfig(SCALE, DATA_ROOT), { data: { noise: NOISE } });
const FIG_DIR = `${OUT}/figures/04`;
await rul.initBackend();
console.log({ SCALE, DATA_ROOT, FIG_DIR }, rul.describeBackend());
"""),
        md("""
## Train RUL and the baseline

Both models see the same images with the same flipped labels. The RUL trainer is kept to
measure the uncertainty of the training images afterwards.
"""),
        code("""
const data = await rul.loadRunData(rul.resolveTrainConfig(CONFIG));
console.log(`${data.train.n} train / ${data.test.n} test images from ${DATA_ROOT ?? "SynthFER"}`);
const curves = new rul.LiveTrainingCurves({ title: "Live training curves" });
const trainers: Record<string, rul.Trainer> = {};
for (const variant of ["rul", "baseline"] as const) {
  trainers[variant] = await rul.Trainer.create({ config: { ...CONFIG, variant }, data,
    out: `${OUT}/runs/04-${variant}`, hooks: { onEpoch: curves.onEpoch(variant) } });
  await trainers[variant].run();
}
await curves.finish();
"""),
        md("""
## t-SNE of the test features

The features are the vectors the classifier reads: RUL's mean feature μ (64 values) and the
baseline's pooled ResNet feature. t-SNE (Barnes-Hut, scikit-learn's defaults) places each test
image on a plane; the colours are the true classes, not used by t-SNE.
"""),
        code("""
const evals = { rul: trainers.rul.lastTestEval()!, baseline: trainers.baseline.lastTestEval()! };
const maps: Record<string, Float64Array> = {};
for (const [name, ev] of Object.entries(evals)) {
  const m = { data: ev.features, rows: ev.n, cols: ev.featureDim };
  maps[name] = (await rul.tsneAsync(m, { perplexity: Math.min(PERPLEXITY, (ev.n - 1) / 3), seed: 0 })).embedding;
  console.log(`${name}: ${ev.n} × ${ev.featureDim} features, test accuracy ${(100 * ev.accuracy).toFixed(2)} %`);
}
"""),
        code("""
const classNames = data.test.classNames;
const scatter = (name: "rul" | "baseline", title: string) =>
  rul.embeddingScatter(maps[name], data.test.labels, { classNames, title });
const FIGS: Record<string, rul.Figure> = {};
FIGS.tsne_rul_vs_baseline = rul.sideBySide([scatter("rul", "RUL"), scatter("baseline", "Baseline")], {
  title: "t-SNE of test features, coloured by class",
});
rul.show(FIGS.tsne_rul_vs_baseline)
"""),
        md("""
## Uncertainty on the map

The same RUL map, with each marker sized by the image's uncertainty u: uncertain images tend to
sit between clusters or inside the wrong one.
"""),
        code("""
FIGS.tsne_rul_uncertainty = rul.embeddingScatter(maps.rul, data.test.labels, {
  classNames, uncertainty: evals.rul.u!, uncertaintyAs: "size",
  title: "RUL test features: marker size = uncertainty u",
});
rul.show(FIGS.tsne_rul_uncertainty)
"""),
        md("""
## The most uncertain training images

An eval pass over the training set gives each image its u. The gallery shows the images with
the highest u, with their (possibly flipped) training label and RUL's prediction: many are
images whose label was flipped, or genuinely ambiguous faces.
"""),
        code("""
const audit = await trainers.rul.auditTrainingSet();
console.log(`AUROC of u for flipped labels: ${audit.noisyAuroc?.toFixed(3) ?? "n/a"}`);
const tr = data.train;
FIGS.most_uncertain = rul.uncertaintyGallery(Array.from({ length: tr.n }, (_, i) => ({
  image: { data: rul.imageAt(tr, i), width: tr.width, height: tr.height, channels: tr.channels },
  label: tr.labels[i], prediction: audit.eval.predictions[i], uncertainty: audit.eval.u![i],
})), { limit: 14, columns: 7, classNames: tr.classNames, title: "Most uncertain training images" });
rul.show(FIGS.most_uncertain)
"""),
        md("""
## Export

Every figure is written as PNG (for slides), SVG and PDF (vector, for papers) by headless
Chromium, to `FIG_DIR`.
"""),
        code("""
await Deno.mkdir(FIG_DIR, { recursive: true });
const renderer = await rul.FigureRenderer.launch();
for (const [name, fig] of Object.entries(FIGS)) {
  for (const format of ["png", "svg", "pdf"] as const) {
    const bytes = await renderer.render(fig, { format });
    await rul.writeBytesAtomic(`${FIG_DIR}/${name}.${format}`, bytes);
    console.log(`${FIG_DIR}/${name}.${format}: ${(bytes.length / 1024).toFixed(0)} KiB`);
  }
}
await renderer.close();
for (const t of Object.values(trainers)) t.dispose();
"""),
    ]


def build(name: str, cells: list[tuple[str, str]]) -> dict:
    out = []
    for i, (kind, text) in enumerate(cells):
        lines = text.split("\n")
        source = [line + "\n" for line in lines[:-1]] + [lines[-1]]
        cid = hashlib.sha1(f"{name}:{i}".encode()).hexdigest()[:8]
        cell = {"cell_type": kind, "id": cid, "metadata": {}, "source": source}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        out.append(cell)
    return {"cells": out, "metadata": META, "nbformat": 4, "nbformat_minor": 5}


def main() -> int:
    books = {
        "02_train_rul.ipynb": nb02(),
        "03_ablations.ipynb": nb03(),
        "04_feature_visualisation.ipynb": nb04(),
    }
    for name, cells in books.items():
        path = ROOT / "notebooks" / name
        tmp = path.with_suffix(".ipynb.tmp")
        tmp.write_text(json.dumps(build(name, cells), indent=1, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
        print(f"make_notebooks: wrote {path.relative_to(ROOT)} ({len(cells)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
