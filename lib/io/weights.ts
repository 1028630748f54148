/**
 * Model weights in and out: PyTorch checkpoints (`resnet18_msceleb.pth`, torchvision's
 * `resnet18-*.pth`, official RUL checkpoints) into a model, and our own safetensors checkpoints
 * (PyTorch names and layouts, model config + epoch in the metadata, optimiser state in a sibling
 * file) out and back.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { createModel } from "../model/create.ts";
import { type ModelConfig, resolveModelConfig } from "../model/config.ts";
import type { FerModel } from "../model/types.ts";
import type { LoadStateDictOptions, StateDictReport } from "../model/state.ts";
import {
  type CheckpointLayoutReport,
  normalizeCheckpointLayout,
} from "../model/checkpoint_layout.ts";
import { readTorchCheckpoint } from "./torch_file.ts";
import { TorchTensor } from "./torch_tensor.ts";
import { readSafetensors, writeSafetensors } from "./safetensors.ts";

/** Value of the `format` metadata entry of our model checkpoints. */
export const MODEL_CHECKPOINT_FORMAT = "rul-notebooks/model-v1";

/** A weights file read by {@link readWeightsFile}. */
export interface WeightsFile {
  /** The merged state dict in PyTorch names and layouts (caller disposes). */
  tensors: Map<string, tf.Tensor>;
  /** Metadata of a safetensors file (empty for `.pth`). */
  metadata: Record<string, string>;
  /** The checkpoint layout matched (official RUL, `{"state_dict": …}`, bare, …). */
  layout: CheckpointLayoutReport;
}

const isTorchTensor = (x: unknown): x is TorchTensor => x instanceof TorchTensor;
const isTfTensor = (x: unknown): x is tf.Tensor => x instanceof tf.Tensor;

/**
 * Read the weights of a `.pth`/`.pt`/`.tar` PyTorch checkpoint (zip or legacy format) or a
 * `.safetensors` file as one PyTorch-named state dict of TF.js tensors (float16/64 → float32,
 * int64 → int32), whatever layout the file uses (see {@link normalizeCheckpointLayout}: the
 * official `{model_state_dict, fc_state_dict}`, `{state_dict}` with or without a DataParallel
 * `module.` prefix, `{model}`, bare, …). `key` picks the state dict explicitly.
 * @throws Error naming the file for unreadable, corrupt, refused (malicious) or unrecognised files
 */
export async function readWeightsFile(file: string, key?: string): Promise<WeightsFile> {
  if (file.endsWith(".safetensors")) {
    const { tensors, metadata } = await readSafetensors(file);
    try {
      const n = normalizeCheckpointLayout(tensors, isTfTensor, { file, key });
      const { stateDict, ...layout } = n;
      return { tensors: stateDict, metadata, layout };
    } catch (e) {
      tf.dispose([...tensors.values()]);
      throw e;
    }
  }
  const obj = await readTorchCheckpoint(file);
  const { stateDict, ...layout } = normalizeCheckpointLayout(obj, isTorchTensor, { file, key });
  const out = new Map<string, tf.Tensor>();
  try {
    for (const [k, t] of stateDict) out.set(k, t.toTf(k));
  } catch (e) {
    tf.dispose([...out.values()]);
    throw e;
  }
  return { tensors: out, metadata: {}, layout };
}

/**
 * The state dict of a weights file as TF.js tensors in PyTorch layout (see
 * {@link readWeightsFile}; this drops the layout report). The caller disposes the tensors.
 */
export async function readTorchStateDict(
  file: string,
  key?: string,
): Promise<Map<string, tf.Tensor>> {
  return (await readWeightsFile(file, key)).tensors;
}

/** Short alias of {@link readTorchStateDict} (what `lib/train/init.ts` looks for). */
export const readPth: (file: string, key?: string) => Promise<Map<string, tf.Tensor>> =
  readTorchStateDict;

/**
 * Load a PyTorch checkpoint (any layout of {@link readWeightsFile}) into `model`, printing the
 * layout matched and missing / unexpected / shape-mismatched keys (`strict: true` makes any of
 * them an error). For `resnet18_msceleb.pth` and torchvision's `resnet18-*.pth` the backbone is
 * loaded and the 1000-way `fc` is reported and ignored.
 */
export async function loadTorchWeights(
  model: FerModel,
  file: string,
  options: LoadStateDictOptions & { key?: string } = {},
): Promise<StateDictReport & { layout: CheckpointLayoutReport }> {
  const { tensors, layout } = await readWeightsFile(file, options.key);
  try {
    const log = options.log === undefined ? console.log : options.log;
    log?.(`${file}: ${layout.description}`);
    return { ...model.loadStateDict(tensors, { file, ...options }), layout };
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

/** A checkpoint read back by {@link loadModelCheckpoint}. */
export interface LoadedModelCheckpoint {
  /** The model (the one passed in, or a new one built from the stored config). */
  model: FerModel;
  /** Stored model configuration. */
  config: ModelConfig;
  /** Stored epoch. */
  epoch: number;
  /** All metadata of the model file. */
  metadata: Record<string, string>;
  /** Optimiser state from the sibling file, if present (caller disposes). */
  optimizerState: Map<string, tf.Tensor> | null;
  /** Metadata of the optimiser file. */
  optimizerMetadata: Record<string, string> | null;
}

/**
 * Read a checkpoint written by {@link saveModelCheckpoint} and load it strictly into `model`
 * (or into a new model built from the stored config when `model` is omitted).
 */
export async function loadModelCheckpoint(
  file: string,
  model?: FerModel,
): Promise<LoadedModelCheckpoint> {
  const { tensors, metadata } = await readSafetensors(file);
  try {
    if (metadata.format !== MODEL_CHECKPOINT_FORMAT) {
      throw new Error(`${file}: not a ${MODEL_CHECKPOINT_FORMAT} checkpoint`);
    }
    let config: ModelConfig;
    try {
      config = resolveModelConfig(JSON.parse(metadata.model_config ?? ""));
    } catch (e) {
      throw new Error(`${file}: bad model_config metadata: ${(e as Error).message}`);
    }
    const m = model ?? createModel(config);
    try {
      m.loadStateDict(tensors, { strict: true, source: "model", file, log: null });
    } catch (e) {
      if (!model) m.dispose();
      throw e;
    }
    let optimizerState: Map<string, tf.Tensor> | null = null;
    let optimizerMetadata: Record<string, string> | null = null;
    const ofile = optimizerStatePath(file);
    let exists = true;
    try {
      await Deno.stat(ofile);
    } catch {
      exists = false;
    }
    if (exists) {
      const o = await readSafetensors(ofile);
      optimizerState = o.tensors;
      optimizerMetadata = o.metadata;
    }
    return {
      model: m,
      config,
      epoch: Number(metadata.epoch ?? 0),
      metadata,
      optimizerState,
      optimizerMetadata,
    };
  } finally {
    tf.dispose([...tensors.values()]);
  }
}
