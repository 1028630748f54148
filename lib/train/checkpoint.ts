/**
 * Training checkpoints, built on the model checkpoints of weights.ts: the model file holds only the model's
 * state dict (PyTorch names and layouts, so PyTorch's strict `load_state_dict` accepts it) with the
 * model config, training config, epoch, best test accuracy and global step in its metadata; the
 * optimiser state (`adam.*`) goes to the sibling `<name>.optim.safetensors`
 * ({@link optimizerStatePath}). Both writes are atomic (temp file + rename), the optimiser file
 * first; both carry the epoch, and reading checks they agree, so a crash between the two writes
 * is detected instead of resuming from mismatched state.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as fs from "node:fs";
import * as path from "node:path";
import type { FerModel } from "../model/types.ts";
import { decodeSafetensors } from "../io/safetensors.ts";
import {
  applyWeights,
  MODEL_CHECKPOINT_FORMAT,
  optimizerStatePath,
  saveModelCheckpoint,
} from "./weights.ts";
import type { Adam } from "./adam.ts";
import type { TrainConfig } from "./config.ts";

/** Path of the last-epoch checkpoint inside a run folder (optimiser state beside it). */
export const CHECKPOINT_LAST = path.join("checkpoints", "last.safetensors");
/** Path of the best-test-accuracy checkpoint (model only) inside a run folder. */
export const CHECKPOINT_BEST = path.join("checkpoints", "best.safetensors");
/**
 * Weights + optimiser state where a run stopped mid-epoch (interrupt, deadline, …): written by the
 * trainer beside `last.safetensors`, which keeps the last completed epoch.
 */
export const CHECKPOINT_STOPPED = path.join("checkpoints", "stopped.safetensors");

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
  /** Steps done in the epoch after `epoch` when a run stopped mid-epoch (stopped checkpoints). */
  stoppedAtStep?: number;
}

function trainingMetadata(info: CheckpointInfo): Record<string, string> {
  return {
    config: JSON.stringify(info.config),
    best_acc: String(info.best.acc),
    best_epoch: String(info.best.epoch),
    global_step: String(info.globalStep),
    ...(info.stoppedAtStep !== undefined ? { stopped_at_step: String(info.stoppedAtStep) } : {}),
  };
}

/**
 * Write `<runDir>/checkpoints/last.safetensors` (model) + `last.optim.safetensors` (Adam state)
 * and, when `info.isBest`, `best.safetensors` (model only), atomically. `file` writes the pair
 * elsewhere (e.g. {@link CHECKPOINT_STOPPED}).
 */
export async function saveCheckpoint(
  runDir: string,
  model: FerModel,
  optimizer: Adam,
  info: CheckpointInfo,
  file: string = CHECKPOINT_LAST,
): Promise<void> {
  fs.mkdirSync(path.join(runDir, path.dirname(file)), { recursive: true });
  const meta = trainingMetadata(info);
  const opt = optimizer.getState();
  try {
    await saveModelCheckpoint(path.join(runDir, file), model, {
      epoch: info.epoch,
      metadata: meta,
      optimizerState: opt,
      optimizerMetadata: {
        optimizer: "adam",
        epoch: String(info.epoch),
        global_step: String(info.globalStep),
      },
    });
  } finally {
    tf.dispose([...opt.values()]);
  }
  if (info.isBest) {
    await saveModelCheckpoint(path.join(runDir, CHECKPOINT_BEST), model, {
      epoch: info.epoch,
      metadata: meta,
    });
  }
}

/** What {@link readCheckpoint} returns (tensors are the caller's to dispose). */
export interface LoadedCheckpoint {
  /** Every tensor: the model's state dict plus, when present, the `adam.*` optimiser state. */
  tensors: Map<string, tf.Tensor>;
  /** Training config stored in the file. */
  config: TrainConfig;
  /** Epochs completed. */
  epoch: number;
  /** Best test accuracy and epoch. */
  best: { acc: number; epoch: number };
  /** Global optimiser step. */
  globalStep: number;
  /** Whether the sibling optimiser file was found (and its tensors merged into `tensors`). */
  hasOptimizerState: boolean;
  /** Metadata of the model file. */
  metadata: Record<string, string>;
}

function readBytes(file: string, what: string): Uint8Array {
  try {
    // Deno's reader: a plain Uint8Array (a Node Buffer may be a view into a shared pool, which
    // lib/io's decoder does not expect).
    return Deno.readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

/**
 * Read one of our training checkpoints (model file + sibling optimiser file when present).
 * @throws Error naming the file when it is not a training checkpoint, or when the optimiser file
 * belongs to another epoch (a crash between the two writes)
 */
export function readCheckpoint(file: string): LoadedCheckpoint {
  const { tensors, metadata } = decodeSafetensors(readBytes(file, "checkpoint"), file);
  const fail = (why: string) => {
    tf.dispose([...tensors.values()]);
    return new Error(`${file}: ${why}`);
  };
  if (metadata.format !== MODEL_CHECKPOINT_FORMAT) {
    throw fail(
      `not a rul-notebooks checkpoint (metadata format = ${metadata.format ?? "none"})`,
    );
  }
  if (!metadata.config) {
    throw fail("model-only checkpoint without a training config (cannot resume from it)");
  }
  let config: TrainConfig;
  try {
    config = JSON.parse(metadata.config);
  } catch (e) {
    throw fail(`bad config metadata: ${(e as Error).message}`);
  }
  const epoch = Number(metadata.epoch);
  const ofile = optimizerStatePath(file);
  let hasOptimizerState = false;
  if (fs.existsSync(ofile)) {
    let o: ReturnType<typeof decodeSafetensors>;
    try {
      o = decodeSafetensors(readBytes(ofile, "optimiser state"), ofile);
    } catch (e) {
      throw fail((e as Error).message);
    }
    if (Number(o.metadata.epoch) !== epoch) {
      tf.dispose([...o.tensors.values()]);
      throw fail(
        `optimiser state ${ofile} is from epoch ${o.metadata.epoch ?? "?"}, the model from epoch ` +
          `${epoch} (interrupted write?); delete both or restore a consistent pair`,
      );
    }
    for (const [k, t] of o.tensors) tensors.set(k, t);
    hasOptimizerState = true;
  }
  return {
    tensors,
    config,
    epoch,
    best: { acc: Number(metadata.best_acc), epoch: Number(metadata.best_epoch) },
    globalStep: Number(metadata.global_step ?? 0),
    hasOptimizerState,
    metadata,
  };
}

/**
 * Restore `model` (strictly: every tensor must match) and, when given, `optimizer` (its state
 * must be in the sibling optimiser file) from a checkpoint; returns the stored training state.
 */
export function loadCheckpoint(
  file: string,
  model: FerModel,
  optimizer: Adam | null,
): LoadedCheckpoint {
  const ck = readCheckpoint(file);
  try {
    if (optimizer && !ck.hasOptimizerState) {
      throw new Error(
        `cannot resume from ${file}: optimiser state ${optimizerStatePath(file)} is missing`,
      );
    }
    applyWeights(model, ck.tensors, { strict: true, source: "model", log: null, file });
    if (optimizer) optimizer.setState(ck.tensors);
  } finally {
    tf.dispose([...ck.tensors.values()]);
  }
  return ck;
}
