/**
 * Measurement files (docs/measurements/*.json, convention in docs/measurements/README.md): the
 * machine and versions block every file carries, the writer of the RAF-DB-size epoch
 * measurement from the raw outputs of tools/measure_rafdb_epoch.sh, and the writer of a
 * `bench:noisy` measurement from its run files.
 *
 *   deno run -A tools/measurement.ts machine                      # print the machine block
 *   deno run -A tools/measurement.ts rafdb-epoch /tmp/rul-rafdb-epoch docs/measurements/x.json
 *   deno run -A tools/measurement.ts epoch-torch runs/idle-epoch docs/measurements/x.json
 *   deno run -A tools/measurement.ts bench-noisy docs/measurements/x.json runs/bench-noisy/ours \
 *     runs/bench-noisy/torch "what the runs are"
 *
 * @module
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;

/** Cores, CPU model and flags (/proc/cpuinfo), memory, kernel. */
export function machineInfo(): Record<string, unknown> {
  let model = "", flags: string[] = [];
  try {
    const info = fs.readFileSync("/proc/cpuinfo", "utf8");
    model = /^model name\s*:\s*(.*)$/m.exec(info)?.[1] ?? "";
    flags = (/^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? "").split(/\s+/).filter(Boolean);
  } catch {
    // not Linux: model and flags stay empty
  }
  return {
    cores: os.cpus().length,
    cpu_model: model,
    cpu_flags: flags,
    memory_gib: Math.round(os.totalmem() / 1024 ** 3 * 10) / 10,
    os: `${os.type()} ${os.release()}`,
  };
}

/** Deno, TF.js and (when it loads) oneDNN versions. */
export async function versions(): Promise<Record<string, string>> {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const out: Record<string, string> = {
    deno: Deno.version.deno,
    "@tensorflow/tfjs-core": pkg.dependencies?.["@tensorflow/tfjs-core"] ?? "",
  };
  try {
    const { loadDnnl } = await import("../lib/engine/onednn_ffi.ts");
    out.onednn = loadDnnl(1).version;
  } catch (e) {
    out.onednn = `not loaded: ${(e as Error).message}`;
  }
  return out;
}

/** Peak RSS in MiB from GNU time's `-v` report. */
function peakRssMiB(timeReport: string): number {
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(timeReport)?.[1]);
  return Math.round(kb / 1024);
}

/** The JSON of the RAF-DB-size epoch from the raw folder of tools/measure_rafdb_epoch.sh. */
export async function rafdbEpoch(raw: string): Promise<Record<string, unknown>> {
  const read = (f: string) => fs.readFileSync(path.join(raw, f), "utf8").trim();
  const rc = Number(read("rc"));
  if (rc !== 0) throw new Error(`${raw}: the run exited with ${rc}; see ${raw}/log`);
  const rec = JSON.parse(read("run/metrics.jsonl").split("\n").at(-1)!);
  const log = read("log");
  const epochLine = log.split("\n").find((l) => /^epoch 1\/1: /.test(l)) ?? "";
  const epochSeconds = Number(/\| epoch ([\d.]+) s/.exec(epochLine)?.[1]);
  const dataSeconds = Number(/^data: .* in ([\d.]+) s$/m.exec(log)?.[1]);
  const elapsed = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.*)$/m.exec(read("time"))?.[1];
  const load = (f: string) => read(f).split(/\s+/).slice(0, 3).map(Number);
  const sixty = 60 * epochSeconds;
  return {
    what: "One RUL training epoch at RAF-DB size on this machine's CPU: 12,271 SynthFER training " +
      "images rendered at 100 px (RAF-DB's aligned size) and resized to 224 px by the batch " +
      "pipeline with the official augmentations, batch 64, then the 3,068-image test set " +
      "evaluated; no environment variable (the trainer put the native engine's tensors on the " +
      "cpu store by itself). Measured while other jobs shared the 2 cores (load average below): " +
      "an upper bound of the idle time.",
    command: `tools/measure_rafdb_epoch.sh (${read("command")})`,
    date: read("start"),
    end: read("end"),
    machine: {
      ...machineInfo(),
      load_average_before: load("loadavg_before"),
      load_average_after: load("loadavg_after"),
    },
    versions: await versions(),
    engine: log.split("\n").find((l) => l.startsWith("backend: ")) ?? "",
    store_line: log.split("\n").find((l) => l.startsWith("native engine: ")) ?? "",
    under_load: true,
    figures: {
      train_images: 12271,
      test_images: 3068,
      input_px: 224,
      batch: 64,
      epoch_seconds: epochSeconds,
      epoch_minutes: Math.round(epochSeconds / 60 * 10) / 10,
      train_seconds: Math.round(rec.train_seconds * 10) / 10,
      train_images_per_s: Math.round(rec.train_images_per_s * 100) / 100,
      data_generation_seconds: dataSeconds,
      process_wall_clock: elapsed,
      peak_rss_mib: peakRssMiB(read("time")),
      peak_rss_gib: Math.round(peakRssMiB(read("time")) / 1024 * 10) / 10,
      sixty_epochs_hours: Math.round(sixty / 3600 * 10) / 10,
      cores: 2,
      epochs: 60,
    },
  };
}

/**
 * The same run while it is still going (or cut off): the last progress line's images done and
 * cumulative img/s (done / elapsed), the train-pass time extrapolated to 12,271 images, the peak
 * RSS so far (VmHWM sampled every 30 s into `hwm` by the session) and the load averages sampled.
 */
export async function rafdbEpochPartial(raw: string): Promise<Record<string, unknown>> {
  const read = (f: string) => fs.readFileSync(path.join(raw, f), "utf8").trim();
  const progress = read("log").split("\n").filter((l) => /^epoch 1\/1 \[/.test(l)).at(-1) ?? "";
  const m = /(\d+)\/12271 .*\| ([\d.]+) img\/s/.exec(progress);
  if (!m) throw new Error(`${raw}/log: no progress line yet`);
  const done = Number(m[1]), ips = Number(m[2]);
  const samples = read("hwm").split("\n").map((l) => l.split(/\s+/));
  const hwmKb = Math.max(...samples.map((s) => Number(s[1])));
  const loads = samples.map((s) => Number(s[2]));
  const trainSeconds = 12271 / ips;
  // exact timestamps of the progress (sampled every 30 s into `progress_t`): the rate over them
  const ticks = read("progress_t").split("\n").map((l) => l.split(/\s+/))
    .filter((t) => t[1]).map((t) => ({ t: Number(t[0]), n: Number(t[1].split("/")[0]) }));
  const first = ticks[0], last = ticks.at(-1)!;
  const sampledIps = (last.n - first.n) / (last.t - first.t);
  return {
    what: "One RUL training epoch at RAF-DB size on this machine's CPU (12,271 SynthFER training " +
      "images at 100 px resized to 224 px by the batch pipeline, official augmentations, batch " +
      "64, no environment variable: the trainer chose the cpu store by itself), CUT OFF before " +
      "the end of the epoch at the session's deadline: the figures are the train pass so far and " +
      "its extrapolation to the whole epoch (test evaluation not measured). Measured while other " +
      "jobs shared the 2 cores (load averages below): an upper bound of the idle time.",
    command: `tools/measure_rafdb_epoch.sh (${read("command")})`,
    date: read("start"),
    partial: true,
    last_progress_line: progress,
    machine: {
      ...machineInfo(),
      load_average_before: read("loadavg_before").split(/\s+/).slice(0, 3).map(Number),
      load_average_1min_sampled: { min: Math.min(...loads), max: Math.max(...loads) },
    },
    versions: await versions(),
    engine: read("log").split("\n").find((l) => l.startsWith("backend: ")) ?? "",
    store_line: read("log").split("\n").find((l) => l.startsWith("native engine: ")) ?? "",
    under_load: true,
    figures: {
      train_images: 12271,
      input_px: 224,
      batch: 64,
      images_done: done,
      train_images_per_s: ips,
      train_images_per_s_sampled: Math.round(sampledIps * 100) / 100,
      sampled_window: {
        from: new Date(first.t * 1000).toISOString(),
        to: new Date(last.t * 1000).toISOString(),
        images: last.n - first.n,
      },
      train_seconds_so_far: Math.round(done / ips),
      train_pass_minutes_extrapolated: Math.round(trainSeconds / 60),
      sixty_epochs_hours_extrapolated: Math.round(60 * trainSeconds / 3600 * 10) / 10,
      peak_rss_so_far_mib: Math.round(hwmKb / 1024),
      peak_rss_so_far_gib: Math.round(hwmKb / 1024 ** 2 * 10) / 10,
      cores: 2,
      epochs: 60,
    },
  };
}

/**
 * A measurement file from finished bench:noisy run files (bench/noisy_runs.ts): `ours` and
 * optionally `torch` (the PyTorch twin's) are folders or files of runs; the commands and dates
 * are the runs' own, the machine this one's (the runs were made here; their engine lines are kept).
 */
export async function benchNoisyFile(
  ours: string,
  torch: string | null,
  what: string,
): Promise<Record<string, unknown>> {
  const { benchNoisySummary, readRuns } = await import("../bench/noisy_runs.ts");
  const read = (p: string) => p.split(",").flatMap((f) => readRuns(f.trim()));
  const a = read(ours), b = torch ? read(torch) : [];
  const all = [...a, ...b] as unknown as Record<string, unknown>[];
  const uniq = (k: string) => [...new Set(all.map((r) => r[k]).filter((v) => v !== undefined))];
  const dates = uniq("date").map(String).sort();
  return {
    what,
    command: uniq("command"),
    date: dates[0] ?? null,
    last_run_date: dates.at(-1) ?? null,
    machine: {
      ...machineInfo(),
      note: "the machine that wrote this file; each run's engine line (engine) names the ISA " +
        "it ran on",
    },
    versions: await versions(),
    engine: uniq("backend"),
    setting: uniq("setting")[0] ?? null,
    sources: { ours, torch },
    figures: benchNoisySummary(a, b),
  };
}

/**
 * A measurement file from the log of `deno task bench:train-step` (its last line is the JSON the
 * bench prints): per row ours, the wasm engine, PyTorch 1.13 and 2.x (both layouts) in img/s, the
 * ratios to 1.13 and to the better PyTorch 2.x layout, and the peak RSS of each side's process.
 * `load` holds the load averages sampled before and after (the caller's, as text).
 */
export async function trainStepFile(
  log: string,
  command: string,
  load: string,
): Promise<Record<string, unknown>> {
  const lines = fs.readFileSync(log, "utf8").trim().split("\n");
  const doc = lines.filter((l) => l.startsWith("{")).map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      return null;
    }
  }).filter((d) => d?.bench === "train_step").at(-1);
  if (!doc) throw new Error(`${log}: no bench:train-step JSON line`);
  const r2 = (
    v: number | null | undefined,
  ) => (typeof v === "number" ? Math.round(v * 100) / 100 : null);
  const mb = (v: number | null | undefined) => (typeof v === "number" ? Math.round(v) : null);
  // deno-lint-ignore no-explicit-any
  const rows = doc.rows.map((r: any) => ({
    size: r.size,
    batch: r.batch,
    engine: r.engine,
    ours_img_s: r2(r.oursImgS),
    wasm_img_s: r2(r.wasmImgS),
    pytorch113_img_s: r2(r.torchImgS),
    pytorch2_nchw_img_s: r2(r.torch2NchwImgS),
    pytorch2_channels_last_img_s: r2(r.torch2ChannelsLastImgS),
    ours_per_pytorch113: r2(r.ratio),
    ours_per_pytorch2_best: r2(r.ratioTorch2),
    pytorch2_best_layout: r.torch2BestLayout,
    wasm_per_pytorch113: r2(r.wasmRatio),
    ours_peak_rss_mb: mb(r.childPeakRssMb),
    pytorch_peak_rss_mb: Object.fromEntries(
      Object.entries(r.torchPeakRssMb ?? {}).map(([k, v]) => [k, mb(v as number)]),
    ),
  }));
  return {
    what: "deno task bench:train-step: one training step of ResNet-18 (the baseline) per row, " +
      "this project beside PyTorch 1.13 and PyTorch 2.x (NCHW and channels_last), interleaved",
    command,
    date: fs.statSync(log).mtime.toISOString(),
    machine: { ...machineInfo(), load_average: load },
    versions: { ...(await versions()), pytorch: doc.torchVersions },
    engine: doc.line,
    protocol: doc.protocol,
    figures: {
      rows,
      main_process_peak_rss_mb: mb(doc.peakRssMb),
      leak: doc.leak,
      failures: doc.failures,
    },
  };
}

/**
 * A measurement file from the raw folder of one `bench:epoch --torch` run on the idle machine
 * (what /tmp-style scripts leave: `command`, `commit`, `start`, `end`, `loadavg`, `epoch.log`
 * whose last JSON line is the bench's): this project's epoch beside PyTorch's on the same images.
 */
export async function epochTorchFile(raw: string): Promise<Record<string, unknown>> {
  const read = (f: string) => fs.readFileSync(path.join(raw, f), "utf8").trim();
  const doc = read("epoch.log").split("\n").filter((l) => l.startsWith('{"bench":"epoch"'))
    .map((l) => JSON.parse(l)).at(-1);
  if (!doc?.torch) throw new Error(`${raw}/epoch.log: no bench:epoch JSON line with a torch part`);
  const r2 = (v: number) => Math.round(v * 100) / 100;
  const t = doc.torch;
  // optional: the output of bench_torch_epoch.py --check-transforms (command line, JSON line)
  const check = fs.existsSync(path.join(raw, "transforms_check"))
    ? read("transforms_check").split("\n")
    : null;
  return {
    what: `One training epoch at RAF-DB size (${doc.images} SynthFER images rendered at 100 px, ` +
      `resized to ${doc.size} px by each side's data pipeline, official augmentations, batch ` +
      `${doc.batch}, ${doc.variant.toUpperCase()}, 30 % symmetric label noise), then the test ` +
      `evaluation (${doc.testImages} images) and a checkpoint: this project (the trainer, its ` +
      `batch worker, the engine it chose by itself) and then PyTorch ${t.torch} (the official ` +
      `code's DataLoader with ${t.workers} workers, transforms and RUL step; ` +
      `tools/bench_torch_epoch.py) on the same images and labels, one after the other on the ` +
      "otherwise idle machine (the background benchmark runs were paused with SIGSTOP). " +
      "Training pass = first batch requested to last optimiser step, data pipeline included.",
    command: read("command"),
    commit: read("commit"),
    date: read("start"),
    end: read("end"),
    machine: { ...machineInfo(), load_average: read("loadavg").split("\n") },
    versions: { ...(await versions()), pytorch: t.torch, pytorch_transforms: t.transforms },
    engine: doc.backend,
    figures: {
      train_images: doc.images,
      test_images: doc.testImages,
      input_px: doc.size,
      batch: doc.batch,
      threads: doc.threads,
      ours_train_seconds: r2(doc.trainSeconds),
      ours_train_images_per_s: r2(doc.imagesPerSec),
      ours_epoch_seconds: r2(doc.epochSeconds),
      ours_peak_rss_mb: Math.round(doc.peakRssMb),
      pytorch_train_seconds: r2(t.trainSeconds),
      pytorch_train_images_per_s: r2(t.imagesPerSec),
      pytorch_epoch_seconds: r2(t.epochSeconds),
      pytorch_peak_rss_mb: Math.round(t.peakRssMb),
      pytorch_worker_peak_rss_mb: Math.round(t.workerPeakRssMb),
      pytorch_loader_workers: t.workers,
      pytorch_threads: t.threads,
      ours_over_pytorch_train: r2(doc.oursOverTorch),
      ours_over_pytorch_epoch: r2(doc.oursOverTorchEpoch),
      ours_over_pytorch_note: "PyTorch's seconds / ours: above 1, ours is faster",
      source_px: Math.min(100, doc.size), // bench/epoch.ts renders SynthFER at min(100, size)
      official_code_loader_workers: 4, // the official src/main.py's default, for the text
      paper_epochs: 60, // the official schedule's length, for the hours below
      ours_hours_for_paper_epochs: Math.round(doc.epochSeconds * 60 / 3600 * 10) / 10,
      ...(check
        ? {
          transforms_check_command: check[0],
          transforms_check_images: JSON.parse(check[1]).images,
          transforms_check_max_abs_diff: JSON.parse(check[1]).max_abs_diff,
        }
        : {}),
    },
  };
}

/**
 * The engine check of issue 23: one variant at one noise rate from several implementations
 * (`label=dir` of bench:noisy run files: this project on each engine, the PyTorch twin), each
 * with its seeds' last-epoch AUROC of u and test accuracy, mean ± s.d., the per-epoch mean AUROC,
 * and Welch 95 % intervals for every pair (second − first, in the order given).
 */
export async function engineCheckFile(
  sources: [string, string][],
  variant: string,
  noise: number,
  what: string,
): Promise<Record<string, unknown>> {
  const { readRuns } = await import("../bench/noisy_runs.ts");
  const { welchTInterval } = await import("../lib/eval/stats.ts");
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  const { meanStd } = await import("../lib/plots/ablation.ts");
  const meanSd = (v: number[]) => {
    const { mean, std } = meanStd(v);
    return { mean: r3(mean), sd: r3(std) };
  };
  const sides = sources.map(([label, dir]) => {
    const runs = readRuns(dir).filter((r) => r.variant === variant && r.noise === noise)
      .sort((a, b) => a.seed - b.seed);
    if (runs.length < 2) throw new Error(`${dir}: fewer than 2 ${variant} runs at noise ${noise}`);
    const last = (r: (typeof runs)[number]) => r.records[r.records.length - 1];
    const auroc = runs.map((r) => Number(last(r).auroc_u));
    const acc = runs.map((r) => r.lastTestAcc * 100);
    const epochs = runs[0].records.length;
    return {
      label,
      dir,
      backend: (runs[0] as unknown as { backend?: string }).backend ?? null,
      seeds: runs.map((r) => r.seed),
      n_seeds: runs.length,
      last_auroc_u: auroc.map(r3),
      last_auroc_u_summary: meanSd(auroc),
      last_test_acc_pct: acc.map((v) => Math.round(v * 100) / 100),
      last_test_acc_pct_summary: meanSd(acc),
      auroc_u_by_epoch_mean: Array.from(
        { length: epochs },
        (_, e) => r3(runs.reduce((a, r) => a + Number(r.records[e].auroc_u), 0) / runs.length),
      ),
    };
  });
  const pairs = [];
  for (let i = 0; i < sides.length; i++) {
    for (let j = i + 1; j < sides.length; j++) {
      const w = welchTInterval(sides[i].last_auroc_u, sides[j].last_auroc_u);
      const a = welchTInterval(sides[i].last_test_acc_pct, sides[j].last_test_acc_pct);
      pairs.push({
        difference: `${sides[j].label} − ${sides[i].label}`,
        auroc_u: { mean: r3(w.mean), low: r3(w.low), high: r3(w.high), df: r3(w.df) },
        last_test_acc_points: {
          mean: Math.round(a.mean * 100) / 100,
          low: Math.round(a.low * 100) / 100,
          high: Math.round(a.high * 100) / 100,
        },
      });
    }
  }
  return {
    what,
    command: `deno run -A tools/measurement.ts engine-check <out.json> ${variant} ${noise} ` +
      sources.map(([l, d]) => `${l}=${d}`).join(" "),
    date: new Date().toISOString().slice(0, 10),
    machine: machineInfo(),
    versions: await versions(),
    // the epochs the docs' by-epoch table shows
    figures: {
      variant,
      noise,
      epochs: sides[0].auroc_u_by_epoch_mean.length,
      interval_level_pct: 95,
      sides,
      pairs,
      report_epochs: [1, 5, 10, 15, 20, 25, 30],
    },
  };
}

if (import.meta.main) {
  const [cmd, a, b] = Deno.args;
  if (cmd === "train-step" && a && b) {
    // measurement.ts train-step <out.json> <bench log> [command] [load averages]
    const [, , , command, load] = Deno.args;
    const doc = await trainStepFile(b, command ?? "deno task bench:train-step", load ?? "");
    fs.writeFileSync(a, JSON.stringify(doc, null, 2) + "\n");
    console.log(`wrote ${a}`);
    Deno.exit(0);
  }
  if (cmd === "bench-noisy" && a && b) {
    // measurement.ts bench-noisy <out.json> <ours runs> [torch runs] [what]
    const [, , , torch, what] = Deno.args;
    const doc = await benchNoisyFile(b, torch || null, what ?? "deno task bench:noisy runs");
    fs.writeFileSync(a, JSON.stringify(doc, null, 2) + "\n");
    console.log(`wrote ${a}`);
    Deno.exit(0);
  }
  if (cmd === "bench-noisy-md" && a) {
    // measurement.ts bench-noisy-md <file.json>: the tables docs/results.md shows for it
    const { benchNoisyMarkdown } = await import("../bench/noisy_runs.ts");
    console.log(benchNoisyMarkdown(JSON.parse(fs.readFileSync(a, "utf8")).figures.rows));
    Deno.exit(0);
  }
  if (cmd === "machine") console.log(JSON.stringify(machineInfo(), null, 2));
  else if (cmd === "rafdb-epoch" && a && b) {
    fs.writeFileSync(b, JSON.stringify(await rafdbEpoch(a), null, 2) + "\n");
    console.log(`wrote ${b}`);
  } else if (cmd === "engine-check" && a && b) {
    // measurement.ts engine-check <out.json> <variant> <noise> <label=dir>... [--what TEXT]
    const rest = Deno.args.slice(4);
    const wi = rest.indexOf("--what");
    const what = wi >= 0 ? rest.splice(wi, 2)[1] : "engine check";
    const sources = rest.map((x) => x.split("=", 2) as [string, string]);
    const doc = await engineCheckFile(sources, b, Number(Deno.args[3]), what);
    fs.writeFileSync(a, JSON.stringify(doc, null, 2) + "\n");
    console.log(`wrote ${a}`);
  } else if (cmd === "epoch-torch" && a && b) {
    // measurement.ts epoch-torch <raw folder> <out.json>
    fs.writeFileSync(b, JSON.stringify(await epochTorchFile(a), null, 2) + "\n");
    console.log(`wrote ${b}`);
  } else if (cmd === "rafdb-epoch-partial" && a && b) {
    fs.writeFileSync(b, JSON.stringify(await rafdbEpochPartial(a), null, 2) + "\n");
    console.log(`wrote ${b}`);
  } else {
    console.error(
      "usage: measurement.ts machine | rafdb-epoch[-partial] <raw folder> <out.json> | " +
        "epoch-torch <raw folder> <out.json> | " +
        "engine-check <out.json> <variant> <noise> <label=dir>... [--what TEXT] | " +
        "bench-noisy <out.json> <ours runs> [torch runs] [what] | bench-noisy-md <file.json> | " +
        "train-step <out.json> <bench log> [command] [load]",
    );
    Deno.exit(2);
  }
}
