/**
 * Notebook settings: the scale switch (`quick` | `paper`), the dataset folder, the output folder
 * and where grids run (in the kernel, or on a Slurm cluster), read from `RUL_SCALE`, `RUL_DATA`,
 * `RUL_OUT` and `RUL_CLUSTER` (so the same notebook runs unchanged in Jupyter, in a terminal and
 * in CI), and the training configuration each scale implies.
 *
 * @module
 */
import { mergeConfig, type TrainConfigInput } from "../train/config.ts";
import { QUICK_PRESET } from "../train/presets.ts";
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
 * The ablation grid of a scale. `paper`: all six variants at 0/10/20/30 % noise with three
 * seeds, official recipe. `quick`: the baseline, RUL and RUL without the σ head (plain feature
 * mixup) at 30 % noise, two seeds, 3 epochs on 1,000 training / 500 test SynthFER images, from
 * the pretrained backbone (6 runs, about two minutes on two cores).
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
    ];
    return { variants, noises: [0, 0.1, 0.2, 0.3], seeds: [0, 1, 2], config: base };
  }
  const data = dataRoot ? base.data : { ...base.data, trainSize: 1000, testSize: 500 };
  return {
    variants: ["baseline", "rul", "rul-no-sigma"],
    noises: [0.3],
    seeds: [0, 1],
    config: { ...base, epochs: 3, data },
  };
}

/**
 * Slurm resources per run of a scale's ablation grid, as a starting point for notebook 03's
 * cluster path (edit them there): `paper` = one GPU, 8 CPUs, 32 GB, 12 h per run (a 60-epoch
 * RAF-DB run at 224 px takes a few GPU-hours), requeued after node failures (the run resumes from
 * its last checkpoint); `quick` = 2 CPUs, 4 GB, 30 min, no GPU. Partition, account and the
 * prologue (module loads) are cluster-specific and left unset.
 */
export function clusterOptions(scale: Scale): SlurmOptions {
  return scale === "paper"
    ? { gpus: 1, cpus: 8, mem: "32G", time: "12:00:00", requeue: true }
    : { cpus: 2, mem: "4G", time: "00:30:00" };
}
