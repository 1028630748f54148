/**
 * Notebook settings: the scale switch (`quick` | `paper`), the dataset folder, the output folder
 * and where grids run (in the kernel, or on a Slurm cluster), read from `RUL_SCALE`, `RUL_DATA`,
 * `RUL_OUT` and `RUL_CLUSTER` (so the same notebook runs unchanged in Jupyter, in a terminal and
 * in CI), and the training configuration each scale implies.
 *
 * @module
 */
import {
  DEFAULT_TRAIN_CONFIG,
  mergeConfig,
  resolveTrainConfig,
  TRAIN_OPTIONS,
  type TrainConfig,
  type TrainConfigInput,
} from "../train/config.ts";
import { NOISY_PROTOCOL_EPOCHS, QUICK_GRID_SEEDS, QUICK_PRESET } from "../train/presets.ts";
import type { SlurmOptions } from "../grid/slurm.ts";
import type { Variant } from "../rul/variants.ts";

/** The two scales: a small SynthFER run for CI and laptops, or the paper's setting. */
export type Scale = "quick" | "paper";

/** What every notebook's settings cell resolves. */
export interface NotebookSettings {
  /** The scale. */
  scale: Scale;
  /** RAF-DB root folder (`EmoLabel/` + `Image/aligned/`), or null for the embedded SynthFER. */
  dataRoot: string | null;
  /** Folder for caches, run folders, checkpoints and exported figures. */
  out: string;
  /**
   * Where ablation grids run: null = one after another in the notebook's kernel; `"slurm"` = as
   * a Slurm job array submitted from the notebook (lib/grid; `out` must then be on a filesystem
   * the compute nodes share).
   */
  cluster: "slurm" | null;
}

/**
 * Read the settings from environment variables (`RUL_SCALE`, `RUL_DATA`, `RUL_OUT`,
 * `RUL_CLUSTER`: `slurm`, or `none` / unset for the kernel); an empty variable counts as unset.
 *
 * @param env variable lookup (default `Deno.env.get`).
 * @param defaultOut output folder when `RUL_OUT` is unset (notebooks: `../runs/notebooks-work`).
 * @throws Error naming `RUL_SCALE` or `RUL_CLUSTER` and the valid values when one is invalid.
 */
export function notebookSettings(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
  defaultOut = "../runs/notebooks-work",
): NotebookSettings {
  const get = (n: string) => {
    const v = env(n);
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const scale = get("RUL_SCALE") ?? "quick";
  if (scale !== "quick" && scale !== "paper") {
    throw new Error(`RUL_SCALE must be "quick" or "paper", got "${scale}"`);
  }
  const cluster = get("RUL_CLUSTER") ?? "none";
  if (cluster !== "none" && cluster !== "slurm") {
    throw new Error(`RUL_CLUSTER must be "slurm" or "none" (or unset), got "${cluster}"`);
  }
  return {
    scale,
    dataRoot: get("RUL_DATA") ?? null,
    out: get("RUL_OUT") ?? defaultOut,
    cluster: cluster === "slurm" ? "slurm" : null,
  };
}

/**
 * The training configuration of a scale: `paper` is the official recipe (every default of
 * {@link TrainConfigInput} left as is: 224 px, ResNet-18 widths, batch 64, 60 epochs, `init`
 * null: the user points it at `resnet18_msceleb.pth`). `quick` is the demo's {@link QUICK_PRESET}
 * (48 px, ResNet-18 layout at half width, batch 64, 4 epochs, from the SynthFER-pretrained
 * backbone, as the paper starts from MS-Celeb-1M) on 2,000 training / 500 test SynthFER images,
 * evaluated in batches of 100, so that a run takes about a minute on two CPU cores. With
 * `dataRoot` the data source is RAF-DB at that folder (all of it, same init: the shapes match),
 * otherwise the embedded SynthFER.
 */
export function scaleConfig(scale: Scale, dataRoot: string | null = null): TrainConfigInput {
  const data: TrainConfigInput["data"] = dataRoot
    ? { source: "rafdb", root: dataRoot }
    : { source: "synthfer" };
  if (scale === "paper") return { data };
  return mergeConfig(QUICK_PRESET, {
    evalBatchSize: 100,
    data: dataRoot ? data : { ...data, trainSize: 2000, testSize: 500 },
  });
}

/** An ablation grid: variants × noise rates × swept hyper-parameters × seeds. */
export interface AblationPlan {
  /** Variants compared (the first is the reference, usually the baseline). */
  variants: Variant[];
  /** Fractions of flipped training labels. */
  noises: number[];
  /** Training seeds (the data and its noise do not depend on them). */
  seeds: number[];
  /** Overrides applied to {@link scaleConfig} for every run of the grid. */
  config: TrainConfigInput;
  /**
   * Further swept hyper-parameters: dotted training-config key → values, e.g.
   * `{ "optim.lrBackbone": [1e-4, 2e-4] }` (every combination is run; none by default).
   */
  sweep?: Record<string, (number | string | boolean)[]>;
}

/**
 * The ablation grid of a scale. `paper`: the baseline, RUL and its four ablations, SCN and EAC at
 * 0/10/20/30 % noise with three seeds, official recipe. `quick`: the demo's protocol (`DEMO_CONFIG` of lib/train/presets: 1,000
 * training / 500 test SynthFER images, {@link NOISY_PROTOCOL_EPOCHS} epochs, long enough for the
 * baseline to have begun fitting the flipped labels, seeds {@link QUICK_GRID_SEEDS}) for the baseline,
 * RUL, RUL without the σ head (plain feature mixup), SCN and EAC at 30 % noise, from the pretrained
 * backbone (15 runs). SCN relabels from epoch 5 there (official: 10 of 70 epochs; the quick runs
 * have {@link NOISY_PROTOCOL_EPOCHS}, so the official epoch would never come): chosen before any
 * quick SCN run was seen.
 */
export function ablationPlan(scale: Scale, dataRoot: string | null = null): AblationPlan {
  const base = scaleConfig(scale, dataRoot);
  if (scale === "paper") {
    const variants: Variant[] = [
      "baseline",
      "rul",
      "rul-pair-different",
      "rul-pair-hardest",
      "rul-addup-w",
      "rul-no-sigma",
      "scn",
      "eac",
    ];
    return { variants, noises: [0, 0.1, 0.2, 0.3], seeds: [0, 1, 2], config: base };
  }
  const data = dataRoot ? base.data : { ...base.data, trainSize: 1000, testSize: 500 };
  return {
    variants: ["baseline", "rul", "rul-no-sigma", "scn", "eac"],
    noises: [0.3],
    seeds: [...QUICK_GRID_SEEDS],
    config: { ...base, epochs: NOISY_PROTOCOL_EPOCHS, relabelEpoch: 5, data },
  };
}

/**
 * Slurm resources per run of a scale's ablation grid, as a starting point for notebook 03's
 * cluster path (edit them there): `paper` = one GPU, 8 CPUs, 32 GB, 12 h per run (a generous
 * limit: this project has not timed a 60-epoch RAF-DB run at 224 px on a GPU; on 2 shared CPU
 * cores one epoch's training pass took 98 min, docs/measurements/rafdb_epoch_cpu_2026-12-06.json),
 * requeued after node failures (the run resumes from its last checkpoint); `quick` = 2 CPUs,
 * 4 GB, 30 min, no GPU. Partition, account and the prologue (module loads) are cluster-specific
 * and left unset.
 */
export function clusterOptions(scale: Scale): SlurmOptions {
  return scale === "paper"
    ? { gpus: 1, cpus: 8, mem: "32G", time: "12:00:00", requeue: true }
    : { cpus: 2, mem: "4G", time: "00:30:00" };
}

/** Where one value of a notebook's effective configuration comes from. */
export interface ConfigRow {
  /** Dotted option name, e.g. `model.inputSize`. */
  key: string;
  /** The effective value. */
  value: unknown;
  /** The official default. */
  official: unknown;
  /** The scale preset's value, or undefined when the preset leaves the option alone. */
  preset: unknown;
  /** Who set the effective value: the official default, the scale preset or the user's cell. */
  from: "official" | "preset" | "yours";
}

/** A notebook's configuration: preset first, the user's hyper-parameters last. */
export interface NotebookConfig {
  /** The scale. */
  scale: Scale;
  /** The merged input (`mergeConfig(scaleConfig(scale, dataRoot), user)`), for the trainer. */
  input: TrainConfigInput;
  /** The resolved, validated configuration. */
  config: TrainConfig;
  /** Every option, with its origin. */
  rows: ConfigRow[];
}

function getKey(obj: unknown, key: string): unknown {
  let cur = obj;
  for (const part of key.split(".")) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * The configuration of a notebook run: the official defaults, then the scale preset
 * ({@link scaleConfig}), then the user's hyper-parameters, which always win (`epochs: 2` in the
 * cell trains 2 epochs at every scale). Validates the result (errors name the option).
 *
 * @param scale the scale.
 * @param dataRoot RAF-DB root, or null for SynthFER.
 * @param user the hyper-parameter cell's values (only what the user sets).
 */
export function notebookConfig(
  scale: Scale,
  dataRoot: string | null,
  user: TrainConfigInput = {},
): NotebookConfig {
  const preset = scaleConfig(scale, dataRoot);
  const input = mergeConfig(preset, user);
  const config = resolveTrainConfig(input, "hyper-parameter cell");
  const rows = TRAIN_OPTIONS.map((o): ConfigRow => {
    const mine = getKey(user, o.key), pre = getKey(preset, o.key);
    return {
      key: o.key,
      value: getKey(config, o.key),
      official: getKey(DEFAULT_TRAIN_CONFIG, o.key),
      preset: pre,
      from: mine !== undefined ? "yours" : pre !== undefined ? "preset" : "official",
    };
  });
  return { scale, input, config, rows };
}

/**
 * The effective configuration as text, one option per line, naming each value that the scale
 * preset or the user's cell set and what it replaced, e.g.
 * `epochs  2  your cell (quick preset: 4, official: 60)`.
 */
export function describeNotebookConfig(nc: NotebookConfig): string {
  const show = (v: unknown) => {
    if (typeof v === "string" && v.includes("/")) return `…/${v.split("/").pop()}`;
    return Array.isArray(v) ? `[${v.join(", ")}]` : String(v);
  };
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const w = Math.max(...nc.rows.map((r) => r.key.length));
  const vw = Math.min(24, Math.max(...nc.rows.map((r) => show(r.value).length)));
  const lines = nc.rows.map((r) => {
    let note = "";
    if (r.from === "preset" && !same(r.preset, r.official)) {
      note = `${nc.scale} preset (official: ${show(r.official)})`;
    } else if (r.from === "yours") {
      const before = r.preset !== undefined && !same(r.preset, r.official)
        ? `${nc.scale} preset: ${show(r.preset)}, official: ${show(r.official)}`
        : `official: ${show(r.official)}`;
      note = `your cell (${before})`;
    }
    return `  ${r.key.padEnd(w)}  ${show(r.value).padEnd(vw)}  ${note}`.trimEnd();
  });
  return `effective configuration (${nc.scale} scale: preset first, your cell last)\n` +
    lines.join("\n");
}
