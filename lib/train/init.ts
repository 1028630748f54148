/**
 * Initialising a model from a PyTorch `.pth` (e.g. `resnet18_msceleb.pth`, whose `state_dict`
 * holds torchvision names, or torchvision's bare ImageNet state dict) or from one of our
 * safetensors checkpoints.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { FerModel, StateDictReport } from "../model/mod.ts";
import { readCheckpoint } from "./checkpoint.ts";

/** Reads a `.pth` into PyTorch-named tensors (lib/io's reader, resolved lazily). */
async function readPth(file: string): Promise<Map<string, tf.Tensor>> {
  // deno-lint-ignore no-explicit-any
  const io: any = await import("../io/mod.ts");
  const fn = io.loadPth ?? io.readPth ?? io.loadStateDict ?? io.readStateDict;
  if (typeof fn !== "function") {
    throw new Error(`cannot read ${file}: lib/io does not provide a .pth reader yet`);
  }
  const sd = await fn(file);
  return sd instanceof Map ? sd : new Map(Object.entries(sd));
}

/**
 * Load weights into `model`: `.safetensors` (our checkpoint: the whole model) or `.pth`
 * (PyTorch; backbone-only files such as MS-Celeb or ImageNet ResNet-18 load into the backbone,
 * everything else is reported). Prints the report through `log`.
 */
export async function loadInitWeights(
  model: FerModel,
  file: string,
  log: (line: string) => void,
): Promise<StateDictReport> {
  let sd: Map<string, tf.Tensor>;
  if (file.endsWith(".safetensors")) sd = readCheckpoint(file).tensors;
  else sd = await readPth(file);
  try {
    const modelPart = new Map([...sd].filter(([k]) => !k.startsWith("adam.")));
    return model.loadStateDict(modelPart, { log, file });
  } finally {
    tf.dispose([...sd.values()]);
  }
}
