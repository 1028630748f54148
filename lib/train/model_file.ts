/**
 * Building a model from a weights file for evaluation: our safetensors checkpoints (the model
 * config is in the metadata) or a PyTorch `.pth` / bare safetensors state dict, whose model
 * configuration (kind, stage widths, feature dimension, classes, σ head, input size) is inferred
 * from the tensor shapes.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { createModel } from "../model/create.ts";
import { type ModelConfig, resolveModelConfig } from "../model/config.ts";
import type { FerModel } from "../model/types.ts";
import type { CheckpointLayoutReport } from "../model/checkpoint_layout.ts";
import { MODEL_CHECKPOINT_FORMAT } from "../io/weights.ts";
import { readInitStateDict } from "./init.ts";
import type { TrainConfig } from "./config.ts";

/** The model configuration implied by a state dict's names and shapes. */
export interface InferredModelConfig {
  /** `rul` when the μ head is present, else `baseline`. */
  kind: "rul" | "baseline";
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
    kind: "baseline",
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

/** Options of {@link loadModelForEval}. */
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
  /** The checkpoint layout matched (official RUL, `{"state_dict": …}`, bare, …). */
  layout: CheckpointLayoutReport;
}

/**
 * Build and strictly load a model from `file`: one of our `.safetensors` checkpoints (config from
 * the metadata), or a `.pth` (any layout of `normalizeCheckpointLayout`: the official RUL
 * `{model_state_dict, fc_state_dict}`, `{state_dict}` with or without `module.`, `{model}`, bare)
 * / bare `.safetensors` state dict (config inferred from the shapes; the input size follows from
 * the RUL heads, or `options.inputSize`). Every tensor must match. The layout matched is logged
 * and returned.
 */
export async function loadModelForEval(
  file: string,
  options: LoadModelOptions = {},
): Promise<LoadedModel> {
  const log = options.log === undefined ? console.log : (options.log ?? (() => {}));
  const { tensors: sd, metadata, layout } = await readInitStateDict(file, options.key);
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
    try {
      model.loadStateDict(sd, { strict: true, source: "model", file, log: null });
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
      layout,
    };
  } finally {
    tf.dispose([...sd.values()]);
  }
}
