/**
 * The one path from a weights file into a model, for initialisation (`--init`), evaluation and
 * resuming, and our model checkpoints out:
 *
 * 1. lib/io reads the file ({@link readWeightsFile}: `.pth` in any layout the official code,
 *    torchvision or DataParallel scripts write, or `.safetensors`) into PyTorch-named tensors;
 * 2. {@link applyWeights} normalises the keys (one step: optimiser state `adam.*` is left out;
 *    the model's `loadStateDict` then maps `features.N` ↔ torchvision names) and loads them into
 *    the model with one report of loaded / missing / unexpected / shape-mismatched keys.
 *
 * {@link loadWeights} loads a file into an existing model (init; backbone-only files such as
 * `resnet18_msceleb.pth` fill the backbone); {@link loadModel} builds the model from the file
 * (config from our metadata or inferred from the shapes) and loads it strictly (eval, export);
 * lib/train/checkpoint.ts resumes through {@link applyWeights}.
 *
 * ```ts
 * const model = createModel({ kind: "rul" });
 * const report = await loadWeights(model, "resnet18_msceleb.pth"); // backbone, fc ignored
 * await saveModelCheckpoint("runs/x/last.safetensors", model, { epoch: 3 });
 * const { model: again, epoch } = await loadModel("runs/x/last.safetensors");
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { createModel } from "../model/create.ts";
import { type ModelConfig, resolveModelConfig } from "../model/config.ts";
import type { FerModel } from "../model/types.ts";
import type { LoadStateDictOptions, StateDictReport } from "../model/state.ts";
import type { CheckpointLayoutReport } from "../io/checkpoint_layout.ts";
import { readWeightsFile } from "../io/weights.ts";
import { writeSafetensors } from "../io/safetensors.ts";
import type { TrainConfig } from "./config.ts";

/** Value of the `format` metadata entry of our model checkpoints. */
export const MODEL_CHECKPOINT_FORMAT = "rul-notebooks/model-v1";

/** A load report: the model's {@link StateDictReport} plus the file layout matched, if known. */
export interface WeightsReport extends StateDictReport {
  /** The checkpoint layout of the file (null for a state dict given in memory). */
  layout: CheckpointLayoutReport | null;
}

/** Options of {@link applyWeights} and {@link loadWeights}. */
export interface LoadWeightsOptions extends LoadStateDictOptions {
  /** Key of the state dict inside a `.pth` (default: recognise the layout). */
  key?: string;
  /** The layout the tensors were read in (printed first). */
  layout?: CheckpointLayoutReport | null;
}

/**
 * The one key-normalisation step between a file's tensors and a model: optimiser state (`adam.*`,
 * kept in the same file by older checkpoints) and the trainer's state (`trainer.*`: SCN's label
 * table, in the optimiser file) are left out. (Layout wrappers and the DataParallel
 * `module.` prefix are removed by lib/io's reader; `features.N` ↔ torchvision names are mapped by
 * the model's `loadStateDict`.) Returns a new map of the same tensors.
 */
export function normalizeWeights(sd: Map<string, tf.Tensor>): Map<string, tf.Tensor> {
  return new Map([...sd].filter(([k]) => !k.startsWith("adam.") && !k.startsWith("trainer.")));
}

/**
 * Load PyTorch-named tensors into `model` (the caller keeps ownership of `sd`):
 * {@link normalizeWeights}, the layout line, then the model's
 * `loadStateDict` with its report (printed through `options.log`, default `console.log`;
 * `strict` makes any missing, unexpected or mismatched key an error).
 */
export function applyWeights(
  model: FerModel,
  sd: Map<string, tf.Tensor>,
  options: LoadWeightsOptions = {},
): WeightsReport {
  const { layout = null, key: _key, ...loadOptions } = options;
  const log = options.log === undefined ? console.log : options.log;
  if (layout) log?.(`${options.file ?? "weights"}: ${layout.description}`);
  return { ...model.loadStateDict(normalizeWeights(sd), loadOptions), layout };
}

/**
 * Load a weights file (`.pth` in any layout of {@link readWeightsFile}, or `.safetensors`) into
 * `model`: a whole-model state dict loads everything (our checkpoints, the official RUL
 * `acc_888.pth`, …); backbone-only files (MS-Celeb or ImageNet ResNet-18) load into the backbone
 * and the rest (e.g. the 1000-way `fc`) is reported. Prints the layout matched and the report.
 * @throws Error naming the file for unreadable, corrupt or refused files, and for any mismatch
 * when `strict`
 */
export async function loadWeights(
  model: FerModel,
  file: string,
  options: LoadWeightsOptions = {},
): Promise<WeightsReport> {
  const { tensors, layout } = await readWeightsFile(file, options.key);
  try {
    return applyWeights(model, tensors, { ...options, file, layout });
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

/** Path of the optimiser-state file that accompanies model checkpoint `file`. */
export function optimizerStatePath(file: string): string {
  return file.replace(/\.safetensors$/, "") + ".optim.safetensors";
}

/** What to store besides the weights in {@link saveModelCheckpoint}. */
export interface ModelCheckpointExtras {
  /** Completed epochs. */
  epoch?: number;
  /** More metadata (string values). */
  metadata?: Record<string, string>;
  /** Optimiser state (any names; written to {@link optimizerStatePath}). */
  optimizerState?: Map<string, tf.Tensor>;
  /** Metadata of the optimiser file (e.g. step counts, learning-rate schedule). */
  optimizerMetadata?: Record<string, string>;
}

/**
 * Write `model`'s full state dict (PyTorch names and layouts: `torch` can `load_state_dict` it
 * into the official model) to a safetensors file with metadata `format`, `model_config` (JSON)
 * and `epoch`; the optimiser state, when given, goes to the sibling file first. Both writes are
 * atomic.
 */
export async function saveModelCheckpoint(
  file: string,
  model: FerModel,
  extras: ModelCheckpointExtras = {},
): Promise<void> {
  if (extras.optimizerState) {
    await writeSafetensors(optimizerStatePath(file), extras.optimizerState, {
      format: MODEL_CHECKPOINT_FORMAT + "/optimizer",
      ...(extras.optimizerMetadata ?? {}),
    });
  }
  const sd = model.stateDict();
  try {
    await writeSafetensors(file, sd, {
      ...(extras.metadata ?? {}),
      format: MODEL_CHECKPOINT_FORMAT,
      model_config: JSON.stringify(model.config),
      epoch: String(extras.epoch ?? 0),
    });
  } finally {
    tf.dispose([...sd.values()]);
  }
}

/** The model configuration implied by a state dict's names and shapes. */
export interface InferredModelConfig {
  /**
   * `rul` when the μ head is present, `scn` with SCN's importance branch (`alpha.0.*`), else
   * `baseline` (an EAC state dict, `features.*` + `fc.*`, is indistinguishable from it and
   * evaluates identically; our checkpoints name their kind in the metadata).
   */
  kind: "rul" | "baseline" | "scn";
  /** Stage widths from the first conv and the first conv of each stage. */
  widths: [number, number, number, number];
  /** Number of classes (rows of `fc.weight`). */
  numClasses: number;
  /** RUL feature dimension (rows of `mu.3.weight`; the baseline's: widths[3]). */
  featureDim: number;
  /** Whether the σ head (`log_var.*`) is present. */
  sigmaHead: boolean;
  /** Side of the backbone's output map (RUL: from the head's flatten size), or null (baseline). */
  mapSize: number | null;
}

/**
 * Infer the model configuration from a PyTorch-named state dict (official RUL `features.N` names
 * or torchvision names; a DataParallel `module.` prefix is ignored).
 * @throws Error naming `file` and the missing key when the dict is not a ResNet-18 RUL/baseline
 */
export function inferModelConfig(
  sd: Map<string, { shape: number[] }>,
  file = "state dict",
): InferredModelConfig {
  const keys = [...sd.keys()];
  const strip = keys.length > 0 && keys.every((k) => k.startsWith("module."));
  const get = (...names: string[]): number[] | null => {
    for (const n of names) {
      const t = sd.get(strip ? "module." + n : n);
      if (t) return [...t.shape];
    }
    return null;
  };
  const need = (what: string, ...names: string[]): number[] => {
    const s = get(...names);
    if (!s) {
      throw new Error(
        `${file}: cannot infer the model: no ${what} (${names.join(" or ")}); ` +
          `keys start with ${keys.slice(0, 5).join(", ")}`,
      );
    }
    return s;
  };
  const w0 = need("first convolution", "features.0.weight", "conv1.weight")[0];
  const stage = (k: number) =>
    need(`stage ${k}`, `features.${k + 3}.0.conv1.weight`, `layer${k}.0.conv1.weight`)[0];
  const widths: [number, number, number, number] = [w0, stage(2), stage(3), stage(4)];
  const fc = need("classifier", "fc.weight");
  const mu = get("mu.3.weight");
  if (mu) {
    const flat = mu[1] / widths[3];
    const s = Math.round(Math.sqrt(flat));
    if (s * s !== flat) {
      throw new Error(
        `${file}: mu.3.weight has ${mu[1]} inputs, not widths[3]=${widths[3]} × a square map`,
      );
    }
    return {
      kind: "rul",
      widths,
      numClasses: fc[0],
      featureDim: mu[0],
      sigmaHead: get("log_var.3.weight") !== null,
      mapSize: s,
    };
  }
  return {
    kind: get("alpha.0.weight") ? "scn" : "baseline",
    widths,
    numClasses: fc[0],
    featureDim: widths[3],
    sigmaHead: false,
    mapSize: null,
  };
}

/** Input sizes whose backbone map has side `mapSize` (each stride-2 stage rounds up): 32·s−31…32·s. */
export function inputSizesForMap(mapSize: number): [number, number] {
  return [32 * mapSize - 31, 32 * mapSize];
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** Input size (required for a `.pth` baseline unless the default 224 is right). */
  inputSize?: number;
  /** Key of the state dict inside a `.pth` (default: auto-detect, e.g. `state_dict`). */
  key?: string;
  /** Report lines (default console.log; null = quiet). */
  log?: ((line: string) => void) | null;
}

/** A model built from a weights file. */
export interface LoadedModel {
  /** The model (caller disposes). */
  model: FerModel;
  /** Where the configuration came from. */
  configSource: "metadata" | "inferred";
  /** The training configuration stored in our checkpoints (null for `.pth` files). */
  trainConfig: TrainConfig | null;
  /** Epoch stored in our checkpoints (null otherwise). */
  epoch: number | null;
  /** All metadata of a safetensors file (empty for `.pth`). */
  metadata: Record<string, string>;
  /** The checkpoint layout matched (official RUL, `{"state_dict": …}`, bare, …). */
  layout: CheckpointLayoutReport;
  /** The (strict) load report: every key loaded. */
  report: StateDictReport;
}

/**
 * Build and strictly load a model from `file`: one of our `.safetensors` checkpoints (config from
 * the metadata), or a `.pth` (any layout of `normalizeCheckpointLayout`: the official RUL
 * `{model_state_dict, fc_state_dict}`, `{state_dict}` with or without `module.`, `{model}`, bare)
 * / bare `.safetensors` state dict (config inferred from the shapes; the input size follows from
 * the RUL heads, or `options.inputSize`). Every tensor must match. The layout matched is logged
 * and returned.
 */
export async function loadModel(
  file: string,
  options: LoadModelOptions = {},
): Promise<LoadedModel> {
  const log = options.log === undefined ? console.log : (options.log ?? (() => {}));
  const read = await readWeightsFile(file, options.key);
  const { metadata, layout } = read;
  const sd = normalizeWeights(read.tensors);
  const ours = metadata.format === MODEL_CHECKPOINT_FORMAT && !!metadata.model_config;
  if (!ours) log(`${file}: ${layout.description}`);
  try {
    let config: ModelConfig;
    let configSource: LoadedModel["configSource"];
    if (ours) {
      try {
        config = resolveModelConfig(JSON.parse(metadata.model_config));
      } catch (e) {
        throw new Error(`${file}: bad model_config metadata: ${(e as Error).message}`);
      }
      if (options.inputSize !== undefined && options.inputSize !== config.inputSize) {
        throw new Error(
          `${file} was trained at ${config.inputSize} px; --input-size ${options.inputSize} ` +
            "does not fit its heads",
        );
      }
      configSource = "metadata";
    } else {
      const inf = inferModelConfig(sd, file);
      let inputSize = options.inputSize;
      if (inf.mapSize !== null) {
        const [lo, hi] = inputSizesForMap(inf.mapSize);
        inputSize ??= hi;
        if (inputSize < lo || inputSize > hi) {
          throw new Error(
            `${file}: its RUL heads expect a ${inf.mapSize}×${inf.mapSize} backbone map, i.e. ` +
              `an input of ${lo}..${hi} px; got --input-size ${inputSize}`,
          );
        }
      }
      config = resolveModelConfig({
        kind: inf.kind,
        widths: inf.widths,
        numClasses: inf.numClasses,
        featureDim: inf.kind === "rul" ? inf.featureDim : undefined,
        sigmaHead: inf.sigmaHead,
        inputSize: inputSize ?? 224,
      });
      configSource = "inferred";
      log(
        `${file}: inferred ${config.kind} model, widths ${config.widths.join(",")}, ` +
          `${config.numClasses} classes` +
          (config.kind === "rul"
            ? `, feature dim ${config.featureDim}, σ head ${config.sigmaHead ? "yes" : "no"}`
            : "") +
          `, input ${config.inputSize} px`,
      );
    }
    const model = createModel(config);
    let report: StateDictReport;
    try {
      report = applyWeights(model, sd, { strict: true, source: "model", file, log: null });
    } catch (e) {
      model.dispose();
      throw e;
    }
    let trainConfig: TrainConfig | null = null;
    if (metadata.config) {
      try {
        trainConfig = JSON.parse(metadata.config);
      } catch {
        trainConfig = null;
      }
    }
    return {
      model,
      configSource,
      trainConfig,
      epoch: metadata.epoch !== undefined ? Number(metadata.epoch) : null,
      metadata,
      layout,
      report,
    };
  } finally {
    tf.dispose([...read.tensors.values()]);
  }
}
