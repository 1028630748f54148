/**
 * Weights files → named tensors, whatever the format (`.pth` zip or legacy, `.safetensors`) and
 * layout (see checkpoint_layout.ts). Knows nothing of the model: lib/train/weights.ts loads the
 * tensors into one.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type CheckpointLayoutReport, normalizeCheckpointLayout } from "./checkpoint_layout.ts";
import { readTorchCheckpoint } from "./torch_file.ts";
import { TorchTensor } from "./torch_tensor.ts";
import { readSafetensors } from "./safetensors.ts";

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
