/**
 * The GPU check's phases, run by tools/gpu_check.sh from the unpacked bundle (docs/gpu.md):
 *
 * 1. machine: nvidia-smi (GPU, driver, memory), the Vulkan set-up, Deno's version;
 * 2. adapter: Deno's WebGPU adapter report and what `initBackend()` picks under `auto`;
 * 3. correctness: bench/gpu/compare.ts (WebGPU against the wasm engine, every variant);
 * 4. PyTorch: tools/torch_rul_step.py, the same RUL model in fp32 eager on the GPU (CPU with
 *    `--local`), img/s and peak memory per (size, batch);
 * 5. WebGPU steps: bench/train_step.ts --model rul per (size, batch), each in its own process
 *    (an out-of-memory or crash costs one row), with the peak GPU memory sampled by nvidia-smi;
 * 6. epoch: bench/epoch.ts at RAF-DB size (12,271 training and 3,068 test images of SynthFER at
 *    224 px, batch 64), stopped and extrapolated if it would not fit the time left;
 * 7. profile: bench/profile_step.ts --model rul (per-kernel GPU time from timestamp queries).
 *
 * Every phase runs as a subprocess with a time limit taken from the budget; the JSON
 * (`<out>/gpu_check.json`) is rewritten after each phase, so a cut-off run still leaves what it
 * measured. `summary` holds the ratios to PyTorch and the goals (≥ 0.5× PyTorch at 224 px batch
 * 64; an epoch under 120 s). `--local` uses sizes that finish in minutes on the software adapter.
 *
 * Usage (inside the bundle; see tools/gpu_check.sh): deno run -A bench/gpu/check.ts --out DIR
 *   [--local] [--budget SECONDS]
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { describeBackend, initBackend, probeWebgpuAdapter } from "../../lib/backend.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: Deno.env.get("OUT") ?? "runs/gpu_check" },
    local: { type: "boolean", default: false },
    budget: { type: "string" },
    which: { type: "boolean", default: false },
  },
});
if (values.which) {
  // Phase 2's subprocess: what initBackend() picks under auto, and why.
  const info = await initBackend();
  console.log(JSON.stringify({ info, line: describeBackend() }));
  Deno.exit(0);
}
const LOCAL = values.local!;
const OUT = path.resolve(values.out!);
const BUDGET = Number(values.budget ?? (LOCAL ? 900 : 500));
if (!(BUDGET > 0)) throw new Error(`--budget: bad value ${values.budget}`);
const PY = Deno.env.get("GPU_CHECK_PYTHON") ?? "python3";
const T0 = performance.now();
const left = () => BUDGET - (performance.now() - T0) / 1000;

/** The sizes of each phase: the GPU's, or reduced ones that finish here in minutes. */
const PLAN = LOCAL
  ? {
    compare: ["--size=32", "--batch=8", "--steps=2", "--widths=8,16,32,64"],
    compareVariants: "baseline,rul",
    steps: [[32, 2]] as [number, number][],
    stepArgs: ["--steps=1", "--leak-steps=1"],
    torch: ["--device=cpu", "--sizes=32", "--batches=2", "--steps=1", "--warmup=1", "--threads=2"],
    epoch: [
      "--size=32",
      "--batch=8",
      "--images=48",
      "--test=8",
      "--distinct=16",
      "--widths=8,16,32,64",
    ],
    profile: ["--size=32", "--batch=2", "--top=15"],
  }
  : {
    compare: ["--size=64", "--batch=8", "--steps=3"],
    compareVariants: "baseline,rul,rul-pair-different,rul-pair-hardest,rul-addup-w,rul-no-sigma",
    // The goal configuration first: if time runs short, the smaller ones go.
    steps: [[224, 64], [224, 16], [112, 64], [112, 16]] as [number, number][],
    stepArgs: ["--steps=3", "--leak-steps=2"],
    torch: ["--device=cuda", "--sizes=112,224", "--batches=16,64", "--steps=5", "--warmup=2"],
    epoch: [
      "--size=224",
      "--batch=64",
      "--images=12271",
      "--test=3068",
      "--distinct=1024",
      "--workers=8",
    ],
    profile: ["--size=224", "--batch=16", "--top=25"],
  };

/** What one subprocess phase returned. */
interface PhaseResult {
  ok: boolean;
  seconds: number;
  timedOut?: boolean;
  exitCode?: number;
  json?: unknown;
  error?: string;
  tail?: string;
  peakGpuMemMiB?: number | null;
}

const report: Record<string, unknown> = {
  check: "gpu_check",
  version: 1,
  local: LOCAL,
  started: new Date().toISOString(),
  budgetSeconds: BUDGET,
  phases: {} as Record<string, unknown>,
};
const phases = report.phases as Record<string, unknown>;
fs.mkdirSync(OUT, { recursive: true });
const save = () => {
  report.elapsedSeconds = (performance.now() - T0) / 1000;
  const file = path.join(OUT, "gpu_check.json");
  fs.writeFileSync(file + ".tmp", JSON.stringify(report, null, 2) + "\n");
  fs.renameSync(file + ".tmp", file);
};

function has(cmd: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}
const NVSMI = has("nvidia-smi");

/** Samples the GPU's used memory (MiB) with nvidia-smi while a phase runs; null without it. */
function gpuMemorySampler(): { stop: () => Promise<number | null> } {
  if (!NVSMI) return { stop: () => Promise.resolve(null) };
  const p = new Deno.Command("nvidia-smi", {
    args: ["--query-gpu=memory.used", "--format=csv,noheader,nounits", "-lms", "200"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let peak = 0;
  const reading = (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of p.stdout) {
      buf += dec.decode(chunk);
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) {
        const v = Number(l.trim().split(",")[0]);
        if (v > peak) peak = v;
      }
    }
  })();
  return {
    stop: async () => {
      try {
        p.kill("SIGTERM");
      } catch { /* already gone */ }
      await reading.catch(() => {});
      await p.status;
      return peak;
    },
  };
}

/**
 * Run `cmd args` with `env`, at most `limit` seconds (and never past the budget); the last line
 * of stdout that parses as JSON is the phase's result.
 */
async function phase(
  name: string,
  cmd: string,
  args: string[],
  limit: number,
  env: Record<string, string> = {},
): Promise<PhaseResult> {
  const secs = Math.floor(Math.min(limit, left() - 5));
  if (secs < 10) {
    const r = { ok: false, seconds: 0, error: `skipped: ${left().toFixed(0)} s of budget left` };
    console.log(`[${name}] ${r.error}`);
    return r;
  }
  console.log(`[${name}] ${cmd} ${args.join(" ")} (limit ${secs} s)`);
  const t0 = performance.now();
  const mem = gpuMemorySampler();
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), secs * 1000);
  let r: PhaseResult;
  try {
    const p = new Deno.Command(cmd, {
      args,
      env,
      stdout: "piped",
      stderr: "piped",
      signal: ac.signal,
    }).spawn();
    const outP = new Response(p.stdout).text();
    const errP = new Response(p.stderr).text();
    const [st, out, err] = await Promise.all([p.status, outP, errP]);
    const lines = out.trim().split("\n");
    let json: unknown;
    for (let i = lines.length - 1; i >= 0 && json === undefined; i--) {
      try {
        if (lines[i].startsWith("{")) json = JSON.parse(lines[i]);
      } catch { /* not JSON */ }
    }
    const tail = (out.split("\n").filter((l) => !l.startsWith("{")).join("\n") + "\n" + err)
      .trim().slice(-1500);
    r = {
      ok: st.success && json !== undefined,
      seconds: (performance.now() - t0) / 1000,
      timedOut: ac.signal.aborted,
      exitCode: st.code,
      ...(json !== undefined ? { json } : {}),
      ...(st.success ? {} : { error: ac.signal.aborted ? `timed out after ${secs} s` : "failed" }),
      tail,
    };
  } catch (e) {
    r = { ok: false, seconds: (performance.now() - t0) / 1000, error: String(e) };
  } finally {
    clearTimeout(timer);
  }
  r.peakGpuMemMiB = await mem.stop();
  console.log(
    `[${name}] ${r.ok ? "ok" : `FAILED (${r.error})`} in ${r.seconds.toFixed(1)} s` +
      (r.peakGpuMemMiB ? `, peak GPU memory ${r.peakGpuMemMiB} MiB (whole GPU)` : ""),
  );
  if (!r.ok && r.tail) console.log(r.tail.split("\n").slice(-8).join("\n"));
  return r;
}

const DENO = Deno.execPath();
const denoRun = (
  script: string,
  ...args: string[]
) => ["run", "--cached-only", "-A", script, ...args];

// 1. The machine.
const machine: Record<string, unknown> = {
  deno: Deno.version,
  os: `${Deno.build.os} ${Deno.build.arch}`,
  vulkan: Deno.env.get("GPU_CHECK_VULKAN") ?? null,
  nvidiaDriverCapabilities: Deno.env.get("NVIDIA_DRIVER_CAPABILITIES") ?? null,
  vkIcd: Deno.env.get("VK_ICD_FILENAMES") ?? null,
  vulkanLibraries: Deno.env.get("GPU_CHECK_VKLIBS") ?? null,
};
if (NVSMI) {
  const q = new Deno.Command("nvidia-smi", {
    args: [
      "--query-gpu=name,driver_version,memory.total,memory.used,compute_cap",
      "--format=csv,noheader",
    ],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  machine.nvidiaSmi = new TextDecoder().decode(q.stdout).trim();
}
report.machine = machine;
console.log(`machine: ${JSON.stringify(machine)}`);

// 2. The adapter, and what auto picks.
const adapter = await probeWebgpuAdapter();
phases.adapter = adapter;
console.log(`adapter: ${JSON.stringify(adapter)}`);
const auto = await phase("auto-backend", DENO, denoRun("bench/gpu/check.ts", "--which"), 60);
phases.autoBackend = auto.json ?? auto;
save();
const webgpuOk = typeof adapter !== "string";
// On the GPU machine a software adapter (the NVIDIA Vulkan driver not found, Mesa's lavapipe
// answering instead) would spend the whole budget on GPU-sized steps: measure correctness only.
const speedOk = webgpuOk && (LOCAL || !adapter.software);
if (webgpuOk && !speedOk) {
  report.note = "software WebGPU adapter on the GPU machine: speed phases skipped (see machine)";
  console.log(`[speed] skipped: ${report.note}`);
}

// 3. Correctness.
if (webgpuOk) {
  phases.correctness = await phase(
    "correctness",
    DENO,
    denoRun("bench/gpu/compare.ts", ...PLAN.compare, `--variants=${PLAN.compareVariants}`),
    LOCAL ? 300 : 120,
  );
  save();
}

// 4. PyTorch.
const torch = await phase(
  "pytorch",
  PY,
  ["tools/torch_rul_step.py", ...PLAN.torch],
  LOCAL ? 300 : 150,
);
phases.pytorch = torch;
save();

// 5. WebGPU train steps.
const steps: Record<string, PhaseResult> = {};
phases.webgpuSteps = steps;
if (speedOk) {
  for (const [size, batch] of PLAN.steps) {
    steps[`${size}x${batch}`] = await phase(
      `webgpu ${size} px batch ${batch}`,
      DENO,
      denoRun(
        "bench/train_step.ts",
        "--model=rul",
        "--no-torch",
        `--sizes=${size}`,
        `--batches=${batch}`,
        ...PLAN.stepArgs,
      ),
      LOCAL ? 300 : 110,
      { RUL_BACKEND: "webgpu" },
    );
    save();
  }
}

// 6. One RAF-DB-sized epoch, stopped (and extrapolated) when it would overrun the budget.
if (speedOk) {
  const reserve = LOCAL ? 60 : 45; // for the profile
  const cap = Math.max(20, Math.floor(left() - reserve - 40));
  phases.epoch = await phase(
    "epoch",
    DENO,
    denoRun("bench/epoch.ts", ...PLAN.epoch, "--variant=rul", `--max-seconds=${cap}`),
    cap + 60,
    { RUL_BACKEND: "webgpu" },
  );
  save();
}

// 7. Per-kernel profile.
if (speedOk) {
  phases.profile = await phase(
    "profile",
    DENO,
    denoRun("bench/profile_step.ts", "--model=rul", ...PLAN.profile),
    LOCAL ? 200 : 60,
    { RUL_BACKEND: "webgpu" },
  );
}

// Summary: ratios to PyTorch and the goals.
interface TorchRow {
  size: number;
  batch: number;
  img_per_s?: number;
  peak_mem_mb?: number;
  error?: string;
}
const torchRows = (torch.json as { rows?: TorchRow[] } | undefined)?.rows ?? [];
const rows = Object.entries(steps).map(([k, r]) => {
  const [size, batch] = k.split("x").map(Number);
  const j = r.json as
    | { rows?: { oursImgS: number }[]; memory?: { memory: unknown }[]; warmupSeconds?: unknown }
    | undefined;
  const ours = j?.rows?.[0]?.oursImgS ?? null;
  const t = torchRows.find((x) => x.size === size && x.batch === batch);
  return {
    size,
    batch,
    webgpuImgS: ours,
    pytorchImgS: t?.img_per_s ?? null,
    ratio: ours && t?.img_per_s ? ours / t.img_per_s : null,
    webgpuPeakGpuMemMiB: r.peakGpuMemMiB ?? null,
    webgpuTfMemory: j?.memory?.[0]?.memory ?? null,
    pytorchPeakMemMiB: t?.peak_mem_mb ?? null,
    error: r.ok ? undefined : r.error,
  };
});
const ep = (phases.epoch as PhaseResult | undefined)?.json as
  | { complete: boolean; trainSeconds: number; trainSecondsEstimate: number; imagesPerSec: number }
  | undefined;
const goalRow = rows.find((r) => r.size === 224 && r.batch === 64);
report.summary = {
  adapter: typeof adapter === "string" ? adapter : adapter.description,
  softwareAdapter: typeof adapter === "string" ? null : adapter.software,
  correctness: ((phases.correctness as PhaseResult | undefined)?.json as
    | { variants?: unknown[] }
    | undefined)?.variants ?? null,
  steps: rows,
  epoch: ep
    ? {
      complete: ep.complete,
      trainSeconds: ep.trainSeconds,
      trainSecondsEstimate: ep.trainSecondsEstimate,
      imagesPerSec: ep.imagesPerSec,
    }
    : null,
  // Only a GPU run at the real sizes can meet or miss the goals.
  goals: LOCAL ? "not assessed (--local: reduced sizes, software adapter)" : {
    "ratio >= 0.5 at 224 px batch 64": goalRow?.ratio != null ? goalRow.ratio >= 0.5 : null,
    "epoch (12,271 images, 224 px) < 120 s": ep ? ep.trainSecondsEstimate < 120 : null,
  },
};
report.finished = new Date().toISOString();
const failed: string[] = [];
const collect = (name: string, v: unknown) => {
  if (v && typeof v === "object" && "ok" in v && (v as PhaseResult).ok === false) failed.push(name);
};
for (const [k, v] of Object.entries(phases)) {
  if (k === "webgpuSteps") {
    for (const [s, r] of Object.entries(steps)) collect(`webgpu ${s}`, r);
  } else collect(k, v);
}
if (!speedOk) failed.push("adapter");
report.failedPhases = failed;
save();
console.log(`summary: ${JSON.stringify(report.summary)}`);
console.log(`wrote ${path.join(OUT, "gpu_check.json")}`);
if (failed.length) {
  console.log(`failed phases: ${failed.join(", ")}`);
  Deno.exit(1);
}
