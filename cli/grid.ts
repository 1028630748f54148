/**
 * `deno task grid submit|status|collect|cancel`: ablation grids on Slurm (one job array) or on this
 * machine, with their state in a grid folder (lib/grid; docs/cluster.md).
 *
 * @module
 */
import * as fs from "node:fs";
import process from "node:process";
import { type AblationPlan, ablationPlan } from "../lib/notebook/settings.ts";
import { mergeConfig, setOption, type TrainConfigInput } from "../lib/train/config.ts";
import { VARIANTS } from "../lib/rul/variants.ts";
import {
  cancelGrid,
  collectGrid,
  createGrid,
  type Grid,
  gridStatus,
  loadGrid,
  type SlurmOptions,
  statusLine,
  statusMarkdown,
  submitGrid,
  watchGrid,
} from "../lib/grid/mod.ts";
import { type CliFlag, helpText, intFlag, parseArgs, runCli, TRAIN_FLAGS } from "./args.ts";

const FLAGS: CliFlag[] = [
  { flag: "help", type: "bool", help: "show this help and exit" },
  { flag: "grid", type: "string", help: "grid folder (required; shared by all compute nodes)" },
  { flag: "json", type: "bool", help: "status/collect: print JSON instead of tables" },
  // plan
  {
    flag: "plan",
    type: "string",
    help: "submit: JSON plan {variants, noises, seeds, config, sweep}",
  },
  { flag: "scale", type: "string", help: "submit: start from notebook 03's plan: quick | paper" },
  {
    flag: "variants",
    type: "string",
    help: "submit: comma-separated variants (overrides the plan)",
  },
  { flag: "noises", type: "string", help: "submit: comma-separated noise rates, e.g. 0,0.3" },
  { flag: "seeds", type: "string", help: "submit: comma-separated seeds, e.g. 0,1,2" },
  {
    flag: "sweep",
    type: "string",
    help: "submit: swept option(s), e.g. optim.lrBackbone=1e-4,2e-4 (several: separate with ;)",
  },
  // where
  { flag: "backend", type: "string", help: "submit: slurm | local", defaultText: "slurm" },
  { flag: "parallel", type: "string", help: "local: runs at the same time", defaultText: "1" },
  { flag: "only", type: "string", help: "submit/cancel: comma-separated run names or indexes" },
  { flag: "fresh", type: "bool", help: "submit: restart the runs (old folders renamed aside)" },
  { flag: "prologue", type: "string", help: "shell file run before each run (module load ...)" },
  {
    flag: "train-arg",
    type: "string",
    help: "extra `deno task train` flags, e.g. --train-arg=--backend=cpu",
  },
  // slurm
  { flag: "partition", type: "string", help: "slurm: --partition" },
  { flag: "time", type: "string", help: "slurm: --time per run, e.g. 08:00:00" },
  { flag: "cpus", type: "string", help: "slurm: --cpus-per-task" },
  { flag: "mem", type: "string", help: "slurm: --mem, e.g. 32G" },
  { flag: "gpus", type: "string", help: "slurm: GPUs per run (--gres=gpu:N or TYPE:N)" },
  { flag: "requeue", type: "bool", help: "slurm: --requeue (the run resumes from its checkpoint)" },
  { flag: "max-parallel", type: "string", help: "slurm: at most N runs at once (--array=...%N)" },
  {
    flag: "sbatch-arg",
    type: "string",
    help: "slurm: further sbatch flags, ;-separated, e.g. --sbatch-arg=--account=fer;--qos=long",
  },
  // status
  {
    flag: "watch",
    type: "string",
    help: "status: poll every N seconds until no run is queued or running",
  },
];

const DESCRIPTION = [
  "Run an ablation grid (variants × noise rates × swept options × seeds) as Slurm job arrays or as",
  "local processes. The grid folder holds the plan, one spec and one run folder per run and the",
  "journal of submissions: every command can be run again at any time, from any shell.",
  "",
  "commands:",
  "  submit   create/update the grid and submit the runs that are not done, queued or running",
  "  status   state of every run: done | running | queued | failed | cancelled | unknown | not-submitted",
  "  collect  mean ± s.d. table over seeds of the finished runs (missing runs listed)",
  "  cancel   cancel the queued and running runs (or --only some)",
  "",
  "examples:",
  "  deno task grid submit --grid /shared/rul/grid-paper --scale paper --data-root /shared/RAF-DB \\",
  "      --init /shared/resnet18_msceleb.pth --gpus 1 --cpus 8 --mem 32G --time 08:00:00 \\",
  "      --prologue env.sh --requeue",
  "  deno task grid status --grid /shared/rul/grid-paper --watch 60",
  "  deno task grid submit --grid /shared/rul/grid-paper --only rul-noise30-seed2   # retry one",
  "  deno task grid collect --grid /shared/rul/grid-paper",
  "  deno task grid submit --grid runs/grid-quick --scale quick --backend local --parallel 2",
].join("\n");

function list<T>(text: string | undefined, flag: string, parse: (s: string) => T): T[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) throw new Error(`--${flag}: empty list`);
  return items.map(parse);
}

function num(flag: string) {
  return (s: string) => {
    const v = Number(s);
    if (!Number.isFinite(v)) throw new Error(`--${flag}: "${s}" is not a number`);
    return v;
  };
}

function sweepValue(s: string): number | string | boolean {
  if (s === "true" || s === "false") return s === "true";
  const n = Number(s);
  return s !== "" && Number.isFinite(n) ? n : s;
}

function readJsonFile<T>(file: string, flag: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`--${flag} ${file}: ${(e as Error).message}`);
  }
}

/** The plan from --plan / --scale and the overriding flags, or null when none is given. */
function planFromFlags(
  flags: Map<string, string | boolean>,
  options: Map<string, unknown>,
): AblationPlan | null {
  const file = flags.get("plan") as string | undefined;
  const scale = flags.get("scale") as string | undefined;
  const overrides = ["variants", "noises", "seeds", "sweep"].some((f) => flags.has(f)) ||
    options.size > 0;
  if (!file && !scale) {
    if (overrides) throw new Error("plan flags need --plan FILE or --scale quick|paper");
    return null;
  }
  if (file && scale) throw new Error("give --plan or --scale, not both");
  if (scale && scale !== "quick" && scale !== "paper") {
    throw new Error(`--scale "${scale}": expected quick | paper`);
  }
  const root = options.get("data.root") as string | undefined;
  const plan: AblationPlan = file
    ? readJsonFile<AblationPlan>(file, "plan")
    : ablationPlan(scale as "quick" | "paper", root ?? null);
  const variants = list(flags.get("variants") as string | undefined, "variants", (s) => {
    if (!(VARIANTS as readonly string[]).includes(s)) {
      throw new Error(`--variants: "${s}" is not a variant; valid: ${VARIANTS.join(", ")}`);
    }
    return s as AblationPlan["variants"][number];
  });
  if (variants) plan.variants = variants;
  plan.noises = list(flags.get("noises") as string | undefined, "noises", num("noises")) ??
    plan.noises;
  plan.seeds = list(flags.get("seeds") as string | undefined, "seeds", num("seeds")) ?? plan.seeds;
  const sweep = flags.get("sweep") as string | undefined;
  if (sweep) {
    plan.sweep = { ...(plan.sweep ?? {}) };
    for (const part of sweep.split(";").filter((p) => p.trim())) {
      const eq = part.indexOf("=");
      if (eq < 0) throw new Error(`--sweep "${part}": expected key=v1,v2`);
      plan.sweep[part.slice(0, eq).trim()] = list(part.slice(eq + 1), "sweep", sweepValue)!;
    }
  }
  for (const k of ["variant", "seed", "data.noise"]) {
    if (options.has(k)) {
      throw new Error(
        `--${TRAIN_FLAGS.find((o) => o.key === k)!.flag} is a grid axis: use ` +
          "--variants, --seeds or --noises",
      );
    }
  }
  const cfg: TrainConfigInput = {};
  for (const [k, v] of options) setOption(cfg, k, v);
  plan.config = mergeConfig(plan.config ?? {}, cfg);
  return plan;
}

function slurmFromFlags(flags: Map<string, string | boolean>): SlurmOptions | undefined {
  const o: SlurmOptions = {};
  const s = (f: string) => flags.get(f) as string | undefined;
  if (s("partition")) o.partition = s("partition");
  if (s("time")) o.time = s("time");
  if (flags.has("cpus")) o.cpus = intFlag(flags, "cpus", undefined);
  if (s("mem")) o.mem = s("mem");
  if (s("gpus")) o.gpus = /^\d+$/.test(s("gpus")!) ? Number(s("gpus")) : s("gpus");
  if (flags.has("requeue")) o.requeue = flags.get("requeue") === true;
  if (flags.has("max-parallel")) o.maxParallel = intFlag(flags, "max-parallel", undefined);
  if (s("sbatch-arg")) o.sbatchArgs = s("sbatch-arg")!.split(";").filter((a) => a.trim());
  if (s("prologue")) o.prologue = fs.readFileSync(s("prologue")!, "utf8");
  return Object.keys(o).length ? o : undefined;
}

function openGrid(flags: Map<string, string | boolean>, options: Map<string, unknown>): Grid {
  const dir = flags.get("grid") as string | undefined;
  if (!dir) throw new Error("--grid DIR is required");
  const plan = planFromFlags(flags, options);
  return plan ? createGrid(dir, plan) : loadGrid(dir);
}

function only(flags: Map<string, string | boolean>): string[] {
  return list(flags.get("only") as string | undefined, "only", (s) => s) ?? [];
}

async function main(): Promise<void> {
  const args = parseArgs(Deno.args, TRAIN_FLAGS, FLAGS);
  const cmd = args.positional[0];
  if (args.flags.get("help") || !cmd) {
    console.log(
      helpText(
        "deno task grid submit|status|collect|cancel --grid DIR [options]",
        DESCRIPTION,
        TRAIN_FLAGS.filter((o) => !["variant", "seed", "data.noise"].includes(o.key)),
        FLAGS,
        "training configuration of every run (submit; overrides the plan's config):",
      ),
    );
    if (!cmd && !args.flags.get("help")) {
      throw new Error("missing command: submit | status | collect | cancel");
    }
    return;
  }
  if (args.positional.length > 1) throw new Error(`unexpected argument ${args.positional[1]}`);
  if (
    cmd !== "submit" && (args.options.size || args.flags.has("plan") || args.flags.has("scale"))
  ) {
    throw new Error(`${cmd} takes no plan or training flags (give them to submit)`);
  }
  const json = args.flags.get("json") === true;
  switch (cmd) {
    case "submit": {
      const grid = openGrid(args.flags, args.options);
      const backend = (args.flags.get("backend") as string | undefined) ?? "slurm";
      if (backend !== "slurm" && backend !== "local") {
        throw new Error(`--backend "${backend}": expected slurm | local`);
      }
      const prologueFile = args.flags.get("prologue") as string | undefined;
      const trainArg = args.flags.get("train-arg") as string | undefined;
      const abort = new AbortController();
      const stop = () => abort.abort();
      if (backend === "local") Deno.addSignalListener("SIGTERM", stop);
      try {
        const r = await submitGrid(grid, {
          backend,
          slurm: slurmFromFlags(args.flags),
          prologue: prologueFile ? fs.readFileSync(prologueFile, "utf8") : undefined,
          only: only(args.flags),
          fresh: args.flags.get("fresh") === true,
          trainArgs: trainArg ? trainArg.split(/\s+/).filter((a) => a) : undefined,
          local: {
            parallel: intFlag(args.flags, "parallel", 1),
            signal: abort.signal,
            onRunEnd: (e, n, total) =>
              console.log(
                `${n}/${total} ${e.run.name}: ${e.code === 0 ? "finished" : `exit ${e.code}`} ` +
                  `(log ${e.log})`,
              ),
          },
        });
        for (const s of r.skipped) console.log(`skipped ${s.run.name}: ${s.state}`);
        if (!r.event) console.log(`nothing to submit in ${grid.dir}`);
        else if (backend === "slurm") {
          console.log(
            `submitted ${r.submitted.length} run(s) of ${grid.dir} as Slurm job ${r.event.job} ` +
              `(array ${r.event.indexes.join(",")}; script ${r.event.script})`,
          );
        }
        if (json) {
          console.log(
            JSON.stringify({ event: r.event, submitted: r.submitted.map((x) => x.name) }),
          );
        }
        if (r.local?.some((e) => e.code !== 0)) process.exitCode = 1;
      } finally {
        if (backend === "local") Deno.removeSignalListener("SIGTERM", stop);
      }
      break;
    }
    case "status": {
      const grid = openGrid(args.flags, args.options);
      const watch = args.flags.get("watch") as string | undefined;
      const statuses = watch
        ? await watchGrid(grid, {
          intervalMs: 1000 * Number(watch),
          onPoll: (st) =>
            console.log(`${new Date().toISOString().slice(11, 19)} ${statusLine(st)}`),
        })
        : await gridStatus(grid);
      if (json) {
        console.log(JSON.stringify(statuses.map((s) => ({
          index: s.run.index,
          name: s.run.name,
          state: s.state,
          detail: s.detail,
          task: s.task,
          backend: s.backend,
          epochs: s.epochs,
          acc: s.acc,
        }))));
      } else console.log(statusMarkdown(statuses));
      break;
    }
    case "collect": {
      const c = collectGrid(openGrid(args.flags, args.options));
      console.log(
        json
          ? JSON.stringify({ results: c.results, missing: c.missing, rows: c.rows })
          : c.markdown,
      );
      break;
    }
    case "cancel": {
      const grid = openGrid(args.flags, args.options);
      const cancelled = await cancelGrid(grid, only(args.flags));
      console.log(
        cancelled.length
          ? `cancelled ${cancelled.map((s) => `${s.run.name} (${s.task})`).join(", ")}`
          : "nothing queued or running to cancel",
      );
      break;
    }
    default:
      throw new Error(`unknown command "${cmd}": expected submit | status | collect | cancel`);
  }
}

if (import.meta.main) await runCli(main);
