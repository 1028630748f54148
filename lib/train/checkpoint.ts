/**
 * Training checkpoints: one safetensors file with the model's state dict (PyTorch names and
 * layouts, so PyTorch can load it), the optimiser state (`adam.*`) and, in the metadata, the
 * config, epoch, best test accuracy and global step. Written atomically.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as fs from "node:fs";
import * as path from "node:path";
import type { FerModel } from "../model/types.ts";
import { writeFileAtomicSync as writeFileAtomic } from "../io/atomic_write.ts";
import type { Adam } from "./adam.ts";
import type { TrainConfig } from "./config.ts";
import { decodeSafetensors, encodeSafetensors, type HostTensor } from "./safetensors.ts";

/** Path of the last-epoch checkpoint inside a run folder. */
export const CHECKPOINT_LAST = path.join("checkpoints", "last.safetensors");
/** Path of the best-test-accuracy checkpoint (model only) inside a run folder. */
export const CHECKPOINT_BEST = path.join("checkpoints", "best.safetensors");
/** `format` metadata value of our checkpoints. */
export const CHECKPOINT_FORMAT = "rul-notebooks-checkpoint-v1";

/** Training state stored beside the tensors. */
export interface CheckpointInfo {
  /** The run's configuration. */
  config: TrainConfig;
  /** Epochs completed. */
  epoch: number;
  /** Best test accuracy so far and its epoch. */
  best: { acc: number; epoch: number };
  /** Optimiser steps so far. */
  globalStep: number;
  /** Whether this epoch is the best so far (also writes the best checkpoint). */
  isBest?: boolean;
}

async function hostTensors(tensors: Map<string, tf.Tensor>): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of tensors) {
    if (t.dtype !== "float32" && t.dtype !== "int32") {
      throw new Error(`checkpoint: tensor "${name}" has unsupported dtype ${t.dtype}`);
    }
    const data = await t.data();
    out.set(name, {
      dtype: t.dtype === "float32" ? "F32" : "I32",
      shape: [...t.shape],
      data: data as Float32Array | Int32Array,
    });
  }
  return out;
}

/** Encode model (+ optimiser) and info as safetensors bytes. */
export async function encodeCheckpoint(
  model: FerModel,
  optimizer: Adam | null,
  info: CheckpointInfo,
): Promise<Uint8Array> {
  const sd = model.stateDict();
  const opt = optimizer ? optimizer.getState() : new Map<string, tf.Tensor>();
  try {
    const all = new Map([...sd, ...opt]);
    const host = await hostTensors(all);
    return encodeSafetensors(host, {
      format: CHECKPOINT_FORMAT,
      config: JSON.stringify(info.config),
      model_config: JSON.stringify(model.config),
      epoch: String(info.epoch),
      best_acc: String(info.best.acc),
      best_epoch: String(info.best.epoch),
      global_step: String(info.globalStep),
      optimizer: optimizer ? "adam" : "none",
    });
  } finally {
    tf.dispose([...sd.values(), ...opt.values()]);
  }
}

/**
 * Write `<runDir>/checkpoints/last.safetensors` (model + optimiser) and, when `info.isBest`,
 * `best.safetensors` (model only), atomically.
 */
export async function saveCheckpoint(
  runDir: string,
  model: FerModel,
  optimizer: Adam,
  info: CheckpointInfo,
): Promise<void> {
  writeFileAtomic(
    path.join(runDir, CHECKPOINT_LAST),
    await encodeCheckpoint(model, optimizer, info),
  );
  if (info.isBest) {
    writeFileAtomic(path.join(runDir, CHECKPOINT_BEST), await encodeCheckpoint(model, null, info));
  }
}

/** What {@link readCheckpoint} returns (tensors are the caller's to dispose). */
export interface LoadedCheckpoint {
  /** Every tensor in the file. */
  tensors: Map<string, tf.Tensor>;
  /** Training config stored in the file. */
  config: TrainConfig;
  /** Epochs completed. */
  epoch: number;
  /** Best test accuracy and epoch. */
  best: { acc: number; epoch: number };
  /** Global optimiser step. */
  globalStep: number;
}

/** Read one of our checkpoint files. @throws Error naming the file when it is not one. */
export function readCheckpoint(file: string): LoadedCheckpoint {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read checkpoint ${file}: ${(e as Error).message}`);
  }
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(
      `${file}: not a rul-notebooks checkpoint (metadata format = ${metadata.format ?? "none"})`,
    );
  }
  const out = new Map<string, tf.Tensor>();
  for (const [name, t] of tensors) {
    out.set(name, tf.tensor(t.data, t.shape, t.dtype === "F32" ? "float32" : "int32"));
  }
  return {
    tensors: out,
    config: JSON.parse(metadata.config),
    epoch: Number(metadata.epoch),
    best: { acc: Number(metadata.best_acc), epoch: Number(metadata.best_epoch) },
    globalStep: Number(metadata.global_step ?? 0),
  };
}

/**
 * Restore `model` (strictly: every tensor must match) and, when given, `optimizer` from a
 * checkpoint file; returns the stored training state.
 */
export function loadCheckpoint(
  file: string,
  model: FerModel,
  optimizer: Adam | null,
): LoadedCheckpoint {
  const ck = readCheckpoint(file);
  try {
    const modelPart = new Map([...ck.tensors].filter(([k]) => !k.startsWith("adam.")));
    model.loadStateDict(modelPart, { strict: true, source: "model", log: null, file });
    if (optimizer) optimizer.setState(ck.tensors);
  } finally {
    tf.dispose([...ck.tensors.values()]);
  }
  return ck;
}
