/**
 * The training configuration shared by the CLI and the notebooks: its types, the official RUL
 * defaults (each written once: the model's come from {@link DEFAULT_MODEL_CONFIG}), a schema (one
 * entry per option: key, type, valid values, help) from which validation is derived, clear errors
 * that list the valid options, and {@link mergeConfig} for layering partial configurations. The
 * CLI's flag names and text parsing live in `cli/args.ts`; the presets in `presets.ts`.
 *
 * @module
 */
import { DEFAULT_MODEL_CONFIG, type ModelConfig } from "../model/config.ts";
import { type Variant, VARIANTS } from "../rul/variants.ts";
import { SCN_DEFAULTS } from "../scn/step.ts";

/** Dataset sources the trainer can read. */
export const DATA_SOURCES = ["synthfer", "rafdb", "folder", "fashion-mnist", "cache"] as const;

/** One of {@link DATA_SOURCES}. */
export type DataSource = typeof DATA_SOURCES[number];

/**
 * Model options of a run (documented in {@link ModelConfig}); the number of classes follows from
 * the dataset, the kind and RUL switches from the variant, the seed from the run's seed.
 */
export type ModelOptions = Pick<ModelConfig, "inputSize" | "featureDim" | "dropout" | "widths">;

/** Data options. */
export interface DataOptions {
  /** Where the images come from. */
  source: DataSource;
  /** Dataset folder (rafdb, folder), IDX folder (fashion-mnist) or cache file (cache). */
  root: string | null;
  /** Fraction of training labels flipped to another class (0, 0.1, 0.2, 0.3), seeded. */
  noise: number;
  /** EAC-style noisy label file (replaces `noise` when given). */
  noiseFile: string | null;
  /** Number of SynthFER training images (synthfer only). */
  trainSize: number;
  /** Number of SynthFER test images (synthfer only). */
  testSize: number;
  /** Apply the official train augmentations (flip/noise, RandomErasing). */
  augment: boolean;
}

/** Optimiser and schedule options (PyTorch Adam + ExponentialLR). */
export interface OptimOptions {
  /** Learning rate of the backbone and the heads (2e-4). */
  lrBackbone: number;
  /** Learning rate of the classifier (2e-3). */
  lrClassifier: number;
  /** Weight decay added to the gradient (1e-4). */
  weightDecay: number;
  /** Adam β1 (0.9). */
  beta1: number;
  /** Adam β2 (0.999). */
  beta2: number;
  /** Adam ε (1e-8). */
  eps: number;
  /** ExponentialLR γ per epoch (0.9). */
  gamma: number;
}

/** Everything a training run needs. */
export interface TrainConfig {
  /** Which model/loss to train. */
  variant: Variant;
  /** Number of epochs (60 official). */
  epochs: number;
  /** Training batch size (64). */
  batchSize: number;
  /** Evaluation batch size. */
  evalBatchSize: number;
  /** Seed of initialisation, shuffling, augmentation, pairing and dropout (0). */
  seed: number;
  /** PyTorch `.pth` to initialise the backbone from (e.g. `resnet18_msceleb.pth`), or null. */
  init: string | null;
  /**
   * Accept an `init` file that fills only part of what it should (missing or shape-mismatched
   * tensors); without it such a file is an error. A file matching nothing is always an error.
   */
  initPartial: boolean;
  /** SCN only: the first epoch (1-based) that relabels the training set (official 10). */
  relabelEpoch: number;
  /** Model options. */
  model: ModelOptions;
  /** Data options. */
  data: DataOptions;
  /** Optimiser options. */
  optim: OptimOptions;
}

/** A partial configuration, as read from JSON or flags (nested objects may be partial). */
export type TrainConfigInput = Partial<Omit<TrainConfig, "model" | "data" | "optim">> & {
  model?: Partial<ModelOptions>;
  data?: Partial<DataOptions>;
  optim?: Partial<OptimOptions>;
};

/** The official defaults (RAF-DB recipe; the dataset defaults to the embedded SynthFER). */
export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  variant: "rul",
  epochs: 60,
  batchSize: 64,
  evalBatchSize: 128,
  seed: 0,
  init: null,
  initPartial: false,
  relabelEpoch: SCN_DEFAULTS.relabelEpoch,
  model: {
    inputSize: DEFAULT_MODEL_CONFIG.inputSize,
    featureDim: DEFAULT_MODEL_CONFIG.featureDim,
    dropout: DEFAULT_MODEL_CONFIG.dropout,
    widths: [...DEFAULT_MODEL_CONFIG.widths],
  },
  data: {
    source: "synthfer",
    root: null,
    noise: 0,
    noiseFile: null,
    trainSize: 4000,
    testSize: 1000,
    augment: true,
  },
  optim: {
    lrBackbone: 2e-4,
    lrClassifier: 2e-3,
    weightDecay: 1e-4,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    gamma: 0.9,
  },
}) as Readonly<TrainConfig>;

/** Value kinds of the schema. */
export type OptionType = "int" | "number" | "string" | "path" | "bool" | "enum" | "widths";

/** One configurable option (the CLI adds its flag name in `cli/args.ts`). */
export interface OptionRule {
  /** Dotted key in {@link TrainConfig}, e.g. `optim.lrBackbone`. */
  key: string;
  /** Value kind. */
  type: OptionType;
  /** Valid values (enum). */
  choices?: readonly string[];
  /** Inclusive lower bound (numbers). */
  min?: number;
  /** Exclusive upper bound (numbers). */
  below?: number;
  /** Whether null is allowed (paths). */
  nullable?: boolean;
  /** One-line description. */
  help: string;
}

/** Every option of {@link TrainConfig}. */
export const TRAIN_OPTIONS: readonly OptionRule[] = [
  {
    key: "variant",
    type: "enum",
    choices: VARIANTS,
    help: "model/loss variant",
  },
  { key: "epochs", type: "int", min: 1, help: "number of epochs" },
  { key: "batchSize", type: "int", min: 2, help: "training batch size" },
  { key: "evalBatchSize", type: "int", min: 1, help: "eval batch size" },
  { key: "seed", type: "int", min: 0, help: "random seed" },
  {
    key: "init",
    type: "path",
    nullable: true,
    help: "PyTorch .pth to initialise the backbone from",
  },
  {
    key: "initPartial",
    type: "bool",
    help: "accept an --init file with missing or shape-mismatched tensors",
  },
  {
    key: "relabelEpoch",
    type: "int",
    min: 1,
    help: "SCN: first epoch that relabels the training set",
  },
  { key: "model.inputSize", type: "int", min: 32, help: "input size (px)" },
  { key: "model.featureDim", type: "int", min: 1, help: "RUL feature dim" },
  {
    key: "model.dropout",
    type: "number",
    min: 0,
    below: 1,
    help: "dropout in the RUL heads",
  },
  {
    key: "model.widths",
    type: "widths",
    help: "ResNet stage widths, e.g. 64,128,256,512",
  },
  {
    key: "data.source",
    type: "enum",
    choices: DATA_SOURCES,
    help: "dataset source",
  },
  {
    key: "data.root",
    type: "path",
    nullable: true,
    help: "dataset folder / IDX folder / cache file",
  },
  {
    key: "data.noise",
    type: "number",
    min: 0,
    below: 1,
    help: "fraction of training labels flipped",
  },
  {
    key: "data.noiseFile",
    type: "path",
    nullable: true,
    help: "EAC-style noisy label file",
  },
  {
    key: "data.trainSize",
    type: "int",
    min: 1,
    help: "SynthFER training images",
  },
  { key: "data.testSize", type: "int", min: 1, help: "SynthFER test images" },
  { key: "data.augment", type: "bool", help: "official train augmentations" },
  {
    key: "optim.lrBackbone",
    type: "number",
    min: 0,
    help: "lr of backbone and heads",
  },
  {
    key: "optim.lrClassifier",
    type: "number",
    min: 0,
    help: "lr of the classifier",
  },
  { key: "optim.weightDecay", type: "number", min: 0, help: "weight decay" },
  { key: "optim.beta1", type: "number", min: 0, below: 1, help: "Adam β1" },
  { key: "optim.beta2", type: "number", min: 0, below: 1, help: "Adam β2" },
  { key: "optim.eps", type: "number", min: 0, help: "Adam ε" },
  {
    key: "optim.gamma",
    type: "number",
    min: 0,
    help: "ExponentialLR γ per epoch (0 < γ <= 1)",
  },
];

/** Short names of the options whose name is not their last key part in kebab case. */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  "data.source": "data",
  "data.root": "data-root",
};

/**
 * The short name of an option (`optim.lrBackbone` → `lr-backbone`, `data.source` → `data`): its
 * CLI flag (`--lr-backbone`) and its label in ablation run names.
 */
export function optionName(key: string): string {
  return SHORT_NAMES[key] ?? key.split(".").pop()!.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** The value at a dotted key (`model.widths`) of a (partial) configuration, or undefined. */
export function getOption(obj: object, key: string): unknown {
  return key.split(".").reduce<unknown>(
    (o, k) => (o as Record<string, unknown> | undefined)?.[k],
    obj,
  );
}

function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof o[p] !== "object" || o[p] === null) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts[parts.length - 1]] = value;
}

/** Describe the valid values of an option ("one of: a | b", "integer >= 1", …). */
export function validValues(spec: OptionRule): string {
  switch (spec.type) {
    case "enum":
      return `one of: ${spec.choices!.join(" | ")}`;
    case "bool":
      return "true | false";
    case "widths":
      return "four positive integers separated by commas";
    case "path":
      return spec.nullable ? "a path, or none" : "a path";
    case "string":
      return "text";
    default: {
      const kind = spec.type === "int" ? "an integer" : "a number";
      const lo = spec.min !== undefined ? ` >= ${spec.min}` : "";
      const hi = spec.below !== undefined ? `${lo ? " and" : ""} < ${spec.below}` : "";
      return kind + lo + hi;
    }
  }
}

/** Why `v` is not a valid value of option `spec` ("expected …"), or null when it is valid. */
export function optionError(spec: OptionRule, v: unknown): string | null {
  const need = `expected ${validValues(spec)}`;
  switch (spec.type) {
    case "int":
    case "number": {
      if (typeof v !== "number" || !Number.isFinite(v)) return need;
      if (spec.type === "int" && !Number.isInteger(v)) return need;
      if (spec.min !== undefined && v < spec.min) return need;
      if (spec.below !== undefined && v >= spec.below) return need;
      return null;
    }
    case "bool":
      return typeof v === "boolean" ? null : need;
    case "enum":
      return typeof v === "string" && spec.choices!.includes(v) ? null : need;
    case "widths":
      return Array.isArray(v) && v.length === 4 &&
          v.every((w) => typeof w === "number" && Number.isInteger(w) && w >= 1)
        ? null
        : need;
    case "path":
    case "string":
      if (v === null && spec.nullable) return null;
      return typeof v === "string" && v.length > 0 ? null : need;
  }
}

/**
 * Fill `input` with {@link DEFAULT_TRAIN_CONFIG} and validate every value.
 * @throws Error naming the key (and `where`, e.g. a config file) and listing the valid values;
 * unknown keys are rejected with the list of valid keys.
 */
export function resolveTrainConfig(input: TrainConfigInput = {}, where = "config"): TrainConfig {
  const known = new Set(TRAIN_OPTIONS.map((o) => o.key));
  const sections = new Set(["model", "data", "optim"]);
  const check = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix + k;
      if (sections.has(key) && typeof v === "object" && v !== null && !Array.isArray(v)) {
        check(v as Record<string, unknown>, key + ".");
      } else if (!known.has(key)) {
        throw new Error(
          `${where}: unknown option "${key}"; valid options: ${[...known].join(", ")}`,
        );
      }
    }
  };
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new Error(`${where}: expected an object of options`);
  }
  check(input as Record<string, unknown>, "");
  const cfg = structuredClone(DEFAULT_TRAIN_CONFIG) as unknown as Record<string, unknown>;
  for (const spec of TRAIN_OPTIONS) {
    const v = getOption(input as Record<string, unknown>, spec.key);
    if (v === undefined) continue;
    const err = optionError(spec, v);
    if (err) throw new Error(`${where}: ${spec.key} = ${JSON.stringify(v)} is invalid: ${err}`);
    setPath(cfg, spec.key, Array.isArray(v) ? [...v] : v);
  }
  const c = cfg as unknown as TrainConfig;
  if (c.optim.gamma <= 0 || c.optim.gamma > 1) {
    throw new Error(`${where}: optim.gamma = ${c.optim.gamma} is invalid: expected 0 < γ <= 1`);
  }
  if (
    (c.data.source === "rafdb" || c.data.source === "folder" || c.data.source === "cache") &&
    !c.data.root
  ) {
    throw new Error(`${where}: data.source "${c.data.source}" needs data.root (--data-root)`);
  }
  return c;
}

/** Set a dotted option in a config input (used by flag parsing). */
export function setOption(input: TrainConfigInput, key: string, value: unknown): void {
  setPath(input as Record<string, unknown>, key, value);
}

/**
 * Merge configuration inputs left to right: nested sections (`model`, `data`, `optim`) are merged
 * key by key, other values (arrays included) are replaced; an `undefined` value (at any level)
 * leaves the earlier value in place. The inputs are not modified.
 */
export function mergeConfig(...inputs: readonly TrainConfigInput[]): TrainConfigInput {
  const out: Record<string, unknown> = {};
  for (const input of inputs) {
    for (const [k, v] of Object.entries(input)) {
      if (v === undefined) continue;
      const prev = out[k];
      if (isSection(v)) {
        const defined = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined));
        out[k] = copy({ ...(isSection(prev) ? prev : {}), ...defined });
      } else out[k] = copy(v);
    }
  }
  return out as TrainConfigInput;
}

function copy<T>(v: T): T {
  if (Array.isArray(v)) return [...v] as T;
  if (isSection(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)])) as T;
  }
  return v;
}

function isSection(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
