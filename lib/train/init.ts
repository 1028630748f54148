/**
 * Initialising a model from a PyTorch `.pth` (e.g. `resnet18_msceleb.pth`, whose `state_dict`
 * holds torchvision names, torchvision's bare ImageNet state dict, an official RUL checkpoint, a
 * DataParallel `module.`-prefixed dict; zip or legacy format, read by lib/io's restricted reader)
 * or from a safetensors file (one of our checkpoints, or any state dict in PyTorch names).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CheckpointLayoutReport, FerModel, StateDictReport } from "../model/mod.ts";
import { readWeightsFile, type WeightsFile } from "../io/weights.ts";

/**
 * Read the PyTorch-named state dict of a `.pth`/`.pt`/`.tar` or `.safetensors` file in any of the
 * layouts of {@link normalizeCheckpointLayout} (official RUL, `{"state_dict": …}` with or
 * without `module.`, `{"model": …}`, bare; `key` picks one explicitly), without optimiser state
 * (`adam.*`), with the layout matched and the file's safetensors metadata. The caller disposes
 * the tensors.
 * @throws Error naming the file for unreadable, corrupt or refused (malicious) files
 */
export async function readInitStateDict(file: string, key?: string): Promise<WeightsFile> {
  const w = await readWeightsFile(file, key);
  for (const [k, t] of w.tensors) {
    if (k.startsWith("adam.")) {
      t.dispose();
      w.tensors.delete(k);
    }
  }
  return w;
}

/**
 * Load weights into `model` from a `.pth` or `.safetensors` file: a whole-model state dict loads
 * everything (our checkpoints, the official RUL `acc_888.pth`, …); backbone-only files (MS-Celeb
 * or ImageNet ResNet-18) load into the backbone and the rest (e.g. the 1000-way `fc`) is
 * reported. Prints the layout matched and the report (missing, unexpected, shape-mismatched
 * keys) through `log`; `strict` makes any mismatch an error.
 */
export async function loadInitWeights(
  model: FerModel,
  file: string,
  log: (line: string) => void,
  options: { strict?: boolean; key?: string } = {},
): Promise<StateDictReport & { layout: CheckpointLayoutReport }> {
  const { tensors, layout } = await readInitStateDict(file, options.key);
  try {
    log(`${file}: ${layout.description}`);
    return { ...model.loadStateDict(tensors, { log, file, strict: options.strict }), layout };
  } finally {
    tf.dispose([...tensors.values()]);
  }
}
