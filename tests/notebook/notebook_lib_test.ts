import {
  ablationEntries,
  ablationJobs,
  ablationMarkdown,
  ablationPlan,
  describeNotebookConfig,
  notebookConfig,
  notebookSettings,
  runAblation,
  scaleConfig,
  summarizeAblation,
} from "../../lib/notebook/mod.ts";
import { mergeConfig, resolveTrainConfig } from "../../lib/train/config.ts";
import { NOISY_PROTOCOL_EPOCHS, QUICK_INIT } from "../../lib/train/presets.ts";
import { loadWeights } from "../../lib/train/weights.ts";
import { createModel } from "../../lib/model/create.ts";
import { initBackend } from "../../lib/backend.ts";
import { isAbsolute } from "node:path";
import { embeddingScatter, sideBySide } from "../../lib/plots/mod.ts";
import { assert } from "../_assert.ts";

function near(a: number, b: number, msg: string, tol = 1e-12) {
  assert(Math.abs(a - b) <= tol, `${msg}: ${a} != ${b}`);
}
function throwsWith(fn: () => unknown, text: string) {
  try {
    fn();
  } catch (e) {
    assert((e as Error).message.includes(text), `error "${(e as Error).message}" lacks "${text}"`);
    return;
  }
  throw new Error(`expected an error with "${text}"`);
}

Deno.test("notebookSettings reads RUL_SCALE / RUL_DATA / RUL_OUT and rejects bad scales", () => {
  const env = (m: Record<string, string>) => (n: string) => m[n];
  const d = notebookSettings(env({}), "out0");
  assert(d.scale === "quick" && d.dataRoot === null && d.out === "out0", JSON.stringify(d));
  const s = notebookSettings(env({ RUL_SCALE: "paper", RUL_DATA: "/raf", RUL_OUT: "/o" }));
  assert(s.scale === "paper" && s.dataRoot === "/raf" && s.out === "/o", JSON.stringify(s));
  assert(notebookSettings(env({ RUL_DATA: " " })).dataRoot === null, "blank = unset");
  throwsWith(() => notebookSettings(env({ RUL_SCALE: "fast" })), 'RUL_SCALE must be "quick"');
  assert(d.cluster === null, "runs in the kernel by default");
  assert(notebookSettings(env({ RUL_CLUSTER: "slurm" })).cluster === "slurm", "slurm switch");
  assert(notebookSettings(env({ RUL_CLUSTER: "none" })).cluster === null, "none = kernel");
  throwsWith(() => notebookSettings(env({ RUL_CLUSTER: "pbs" })), 'RUL_CLUSTER must be "slurm"');
});

Deno.test("scaleConfig: paper keeps the official defaults, quick is small; both validate", () => {
  const paper = resolveTrainConfig(scaleConfig("paper"));
  assert(paper.epochs === 60 && paper.batchSize === 64, "paper epochs/batch");
  assert(paper.model.inputSize === 224 && paper.model.widths[3] === 512, "paper model");
  assert(paper.init === null, "paper: the user sets init (resnet18_msceleb.pth)");
  const quick = resolveTrainConfig(scaleConfig("quick"));
  assert(quick.model.inputSize === 48 && quick.data.trainSize === 2000, "quick sizes");
  assert(quick.model.widths.join() === "32,64,128,256", `quick widths ${quick.model.widths}`);
  assert(quick.init === QUICK_INIT, `quick init ${quick.init}`);
  const raf = resolveTrainConfig(scaleConfig("quick", "/data/RAF-DB"));
  assert(raf.data.source === "rafdb" && raf.data.root === "/data/RAF-DB", "RAF-DB source");
  assert(raf.data.trainSize === 4000, "SynthFER sizes untouched with RAF-DB");
  assert(raf.init === QUICK_INIT, "RAF-DB quick keeps the pretrained init");
});

Deno.test("QUICK_INIT is an absolute path to the committed backbone that fits the quick model", async () => {
  assert(isAbsolute(QUICK_INIT), `absolute: ${QUICK_INIT}`);
  assert(Deno.statSync(QUICK_INIT).isFile, `${QUICK_INIT} exists`);
  await initBackend();
  const cfg = resolveTrainConfig(scaleConfig("quick"));
  for (const kind of ["baseline", "rul"] as const) {
    const model = createModel({ ...cfg.model, kind, numClasses: 7 });
    try {
      const r = await loadWeights(model, QUICK_INIT, { log: null });
      assert(r.source === "backbone", `${kind}: read as ${r.source}`);
      assert(r.missing.length === 0 && r.mismatched.length === 0, `${kind}: ${JSON.stringify(r)}`);
      assert(r.loaded.length > 0, `${kind}: nothing loaded`);
    } finally {
      model.dispose();
    }
  }
});

Deno.test("notebookConfig: the user's cell wins over the preset at both scales, origins named", () => {
  for (const scale of ["quick", "paper"] as const) {
    const nc = notebookConfig(scale, null, { epochs: 2, model: { inputSize: 32 } });
    assert(nc.config.epochs === 2, `${scale}: epochs from the cell, got ${nc.config.epochs}`);
    assert(nc.config.model.inputSize === 32, `${scale}: inputSize from the cell`);
    const byKey = Object.fromEntries(nc.rows.map((r) => [r.key, r]));
    assert(byKey.epochs.from === "yours" && byKey["model.inputSize"].from === "yours", "yours");
    const text = describeNotebookConfig(nc);
    assert(/epochs\s+2\s+your cell/.test(text), text);
    if (scale === "quick") {
      assert(text.includes("your cell (quick preset: 4, official: 60)"), text);
      assert(byKey["model.widths"].from === "preset", "widths from the quick preset");
      assert(
        /model\.widths\s+\[32, 64, 128, 256\]\s+quick preset \(official: \[64, 128, 256, 512\]\)/
          .test(text),
        text,
      );
      assert(nc.config.model.widths.join() === "32,64,128,256", "preset value kept");
    } else {
      assert(text.includes("your cell (official: 60)"), text);
      assert(byKey["model.widths"].from === "official", "paper: official widths");
    }
  }
  const q = notebookConfig("quick", null, { epochs: undefined, model: { inputSize: undefined } });
  assert(q.config.epochs === 4, "an undefined user value leaves the preset's");
  assert(q.config.model.inputSize === 48, "also inside a section");
  assert(q.rows.find((r) => r.key === "epochs")!.from === "preset", "named as the preset's");
  let err = "";
  try {
    notebookConfig("quick", null, { epochs: -1 });
  } catch (e) {
    err = String(e);
  }
  assert(/hyper-parameter cell: epochs = -1 is invalid/.test(err), err);
});

Deno.test("mergeConfig merges sections key by key and copies arrays", () => {
  const widths: [number, number, number, number] = [1, 2, 3, 4];
  const a = { epochs: 3, model: { inputSize: 48, widths }, data: { noise: 0.1 } };
  const m = mergeConfig(a, { model: { dropout: 0.2 }, data: { noise: 0.3 }, seed: 5 });
  assert(m.epochs === 3 && m.seed === 5, "top-level values");
  assert(m.model!.inputSize === 48 && m.model!.dropout === 0.2, "model merged");
  assert(m.data!.noise === 0.3 && a.data.noise === 0.1, "later wins, inputs untouched");
  assert(m.model!.widths !== widths && m.model!.widths![2] === 3, "arrays copied");
  const u = mergeConfig(a, { epochs: undefined, model: { inputSize: undefined, dropout: 0.1 } });
  assert(u.epochs === 3 && u.model!.inputSize === 48, "undefined leaves earlier values");
  assert(u.model!.dropout === 0.1, "defined values apply");
});

Deno.test("ablationJobs expands noise × variant × seed with unique names and configs", () => {
  const plan = {
    variants: ["baseline", "rul"] as const,
    noises: [0, 0.3],
    seeds: [0, 1, 2],
    config: { epochs: 2, data: { trainSize: 50 } },
  };
  const jobs = ablationJobs({ ...plan, variants: [...plan.variants] });
  assert(jobs.length === 12, `${jobs.length} jobs`);
  assert(new Set(jobs.map((j) => j.name)).size === 12, "unique names");
  assert(jobs[0].name === "baseline-noise00-seed0", jobs[0].name);
  assert(jobs[11].name === "rul-noise30-seed2", jobs[11].name);
  const c = resolveTrainConfig(jobs[11].config);
  assert(c.variant === "rul" && c.seed === 2 && c.data.noise === 0.3, "config of the job");
  assert(c.epochs === 2 && c.data.trainSize === 50, "plan config kept");
  throwsWith(() => ablationJobs({ ...plan, variants: [], seeds: [0] }), "at least one");
  throwsWith(
    () => ablationJobs({ variants: ["rul"], noises: [1.2], seeds: [0], config: {} }),
    "1.2",
  );
  const q = ablationJobs(ablationPlan("quick"));
  const p = ablationJobs(ablationPlan("paper"));
  assert(q.length === 5 * 3 && p.length === 8 * 4 * 3, `quick ${q.length}, paper ${p.length}`);
  const qp = ablationPlan("quick");
  assert(
    qp.variants.join() === "baseline,rul,rul-no-sigma,scn,eac" && qp.noises.join() === "0.3",
    "grid",
  );
  assert(qp.config.init === QUICK_INIT, "quick ablations start from the pretrained backbone");
  assert(
    qp.config.epochs === NOISY_PROTOCOL_EPOCHS && qp.seeds.join() === "0,1,2",
    "demo protocol",
  );
  q.forEach((j) => resolveTrainConfig(j.config, j.name));
});

Deno.test("runAblation: an interrupted run ends the grid, completed runs are returned", async () => {
  const jobs = ablationJobs({
    variants: ["baseline", "rul"],
    noises: [0.3],
    seeds: [0],
    config: {},
  });
  const calls: string[] = [];
  const results = await runAblation(jobs, (j) => {
    calls.push(j.name);
    const stopped = j.variant === "baseline" ? null : { reason: "interrupt", epoch: 1, step: 3 };
    return Promise.resolve({ bestTestAcc: 0.5, lastTestAcc: 0.4, stopped });
  });
  assert(calls.join() === "baseline-noise30-seed0,rul-noise30-seed0", `${calls}`);
  assert(results.length === 1 && results[0].variant === "baseline", "only the complete run");
});

Deno.test("runAblation + summarizeAblation: mean and sample s.d. over seeds, by hand", async () => {
  const jobs = ablationJobs({
    variants: ["baseline", "rul"],
    noises: [0.1],
    seeds: [0, 1, 2],
    config: {},
  });
  // Fake training: accuracies chosen so the statistics are easy to check by hand.
  const acc: Record<string, [number, number]> = {
    "baseline-noise10-seed0": [0.5, 0.4],
    "baseline-noise10-seed1": [0.6, 0.5],
    "baseline-noise10-seed2": [0.7, 0.6],
    "rul-noise10-seed0": [0.8, 0.8],
    "rul-noise10-seed1": [0.8, 0.8],
    "rul-noise10-seed2": [0.8, 0.7],
  };
  const seen: number[] = [];
  const results = await runAblation(
    jobs,
    (j) => Promise.resolve({ bestTestAcc: acc[j.name][0], lastTestAcc: acc[j.name][1] }),
    (_r, done, total) => {
      seen.push(done.length);
      assert(total === 6, "total");
    },
  );
  assert(seen.join() === "1,2,3,4,5,6", `progress ${seen}`);
  const rows = summarizeAblation(results);
  assert(rows.length === 2 && rows[0].variant === "baseline" && rows[0].seeds === 3, "rows");
  near(rows[0].best.mean, 0.6, "baseline best mean", 1e-12);
  near(rows[0].best.std, 0.1, "baseline best s.d. (n-1)", 1e-12);
  near(rows[1].last.mean, 2.3 / 3, "rul last mean", 1e-12);
  near(rows[1].last.std, Math.sqrt(((0.1 / 3) ** 2 * 2 + (0.2 / 3) ** 2) / 2), "rul last s.d.");
  near(rows[1].best.std, 0, "identical seeds: s.d. 0", 1e-12);
  const md = ablationMarkdown(rows);
  assert(md.includes("| 10 % | baseline | 3 | 60.00 ± 10.00 | 50.00 ± 10.00 |"), md);
  const e = ablationEntries(rows, "last");
  assert(e[1].name === "rul" && e[1].values.join() === "0.8,0.8,0.7", JSON.stringify(e));
  const two = summarizeAblation([...results, { ...results[0], noise: 0.3 }]);
  assert(ablationEntries(two, "best")[2].name === "baseline @ 30 %", "noise in the bar name");
  await runAblation(jobs, () => Promise.reject(new Error("disk full"))).then(
    () => {
      throw new Error("expected a failure");
    },
    (e) => assert((e as Error).message.includes("baseline-noise10-seed0 failed: disk full"), e),
  );
  throwsWith(() => summarizeAblation([results[0], results[0]]), "twice");
  throwsWith(() => summarizeAblation([{ ...results[0], lastTestAcc: NaN }]), "not finite");
});

Deno.test("sideBySide puts panels in columns, shares legend entries, keeps axes", () => {
  const a = embeddingScatter([0, 0, 1, 1, 2, 0], [0, 1, 1], { title: "RUL" });
  const b = embeddingScatter([5, 5, 6, 6], [1, 2], { title: "baseline" });
  const f = sideBySide([a, b], { title: "t-SNE" });
  assert(f.data.length === a.data.length + b.data.length, "every trace kept");
  const second = f.data.slice(a.data.length);
  assert(second.every((t) => t.xaxis === "x2" && t.yaxis === "y2"), "second panel on x2/y2");
  const shown = f.data.filter((t) => t.showlegend).map((t) => t.name);
  assert(shown.join() === "Surprise,Fear,Disgust", `one legend entry per class: ${shown}`);
  const x1 = f.layout.xaxis as { domain: number[] }, x2 = f.layout.xaxis2 as { domain: number[] };
  assert(x1.domain[1] < x2.domain[0] && x2.domain[1] <= 1, "columns do not overlap");
  const notes = (f.layout.annotations as { text: string }[]).map((n) => n.text);
  assert(notes.join() === "RUL,baseline", `panel titles ${notes}`);
  assert(JSON.stringify(f.data[0].x) === "[0]", "data untouched");
  throwsWith(() => sideBySide([]), "no figures");
  throwsWith(() => sideBySide([{ data: [{ xaxis: "x2" }], layout: {} }]), "not on the x/y");
});
