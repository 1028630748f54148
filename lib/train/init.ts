/**
 * Initialising a model from a PyTorch `.pth` (e.g. `resnet18_msceleb.pth`, whose `state_dict`
 * holds torchvision names, torchvision's bare ImageNet state dict, an official RUL checkpoint, a
 * DataParallel `module.`-prefixed dict; zip or legacy format, read by lib/io's restricted reader)
 * or from a safetensors file (one of our checkpoints, or any state dict in PyTorch names).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { FerModel, StateDictReport } from "../model/mod.ts";
import { readSafetensors } from "../io/safetensors.ts";
import { readTorchStateDict } from "../io/weights.ts";

/**
 * Read the PyTorch-named state dict of a `.pth`/`.pt`/`.tar` (lib/io; `state_dict` and similar
 * wrappers are found automatically, `key` picks one explicitly) or `.safetensors` file, without
 * optimiser state (`adam.*`). The caller disposes the tensors.
 * @throws Error naming the file for unreadable, corrupt or refused (malicious) files
 */
export async function readInitStateDict(
  file: string,
  key?: string,
): Promise<Map<string, tf.Tensor>> {
  let sd: Map<string, tf.Tensor>;
  if (file.endsWith(".safetensors")) sd = (await readSafetensors(file)).tensors;
  else sd = await readTorchStateDict(file, key);
  for (const [k, t] of sd) {
    if (k.startsWith("adam.")) {
      t.dispose();
      sd.delete(k);
    }
  }
  return sd;
}

/**
 * Load weights into `model` from a `.pth` or `.safetensors` file: a whole-model state dict loads
 * everything; backbone-only files (MS-Celeb or ImageNet ResNet-18) load into the backbone and
 * the rest (e.g. the 1000-way `fc`) is reported. Prints the report (missing, unexpected,
 * shape-mismatched keys) through `log`; `strict` makes any mismatch an error.
 */
export async function loadInitWeights(
  model: FerModel,
  file: string,
  log: (line: string) => void,
  options: { strict?: boolean; key?: string } = {},
): Promise<StateDictReport> {
  const sd = await readInitStateDict(file, options.key);
  try {
    return model.loadStateDict(sd, { log, file, strict: options.strict });
  } finally {
    tf.dispose([...sd.values()]);
  }
}
