/**
 * Training checkpoints, built on the model checkpoints of weights.ts: the model file holds only the model's
 * state dict (PyTorch names and layouts, so PyTorch's strict `load_state_dict` accepts it) with the
 * model config, training config, epoch, best test accuracy and global step in its metadata; the
 * optimiser state (`adam.*`) goes to the sibling `<name>.optim.safetensors`
 * ({@link optimizerStatePath}); both carry the epoch, and reading checks they agree.
 *
 * Atomic pairs: the model and optimiser files of one epoch become visible together or not at all.
 * {@link saveCheckpoint} writes both into a temporary folder `checkpoints/.tmp-epoch-NNNN-…`,
 * flushes them and renames the folder to `checkpoints/epoch-NNNN/` (one rename: the commit); only
 * then are the convenience names `last.safetensors` / `last.optim.safetensors` (and
 * `best.safetensors` when the epoch is the best) pointed at the committed files (hard links, each
 * replaced atomically; copies where the file system has no hard links) and older epoch folders
 * removed. Resume ({@link findResumeCheckpoint}) reads the newest committed epoch folder, never the
 * `last.*` names, and {@link finishCheckpoint} redoes the linking and pruning, so a kill -9 at any
 * instant leaves a resumable run whose final files equal an uninterrupted run's. Nothing is
 * written when a parameter or optimiser moment is NaN or infinite (the error names the tensor).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as fs from "node:fs";
import * as path from "node:path";
import type { FerModel } from "../model/types.ts";
import { assertFiniteTensors, assertFiniteTensorsAsync } from "../model/state.ts";
import { decodeSafetensors, writeSafetensors } from "../io/safetensors.ts";
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
/** Folder of the checkpoints inside a run folder. */
export const CHECKPOINT_DIR = "checkpoints";
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
  /**
   * The trainer's label table when the method rewrites it (SCN's relabelling); stored as
   * `trainer.labels` in the optimiser file, beside the rest of the training state.
   */
  labels?: Int32Array;
}

/** Key of the label table ({@link CheckpointInfo.labels}) in the optimiser file. */
export const LABEL_TABLE_KEY = "trainer.labels";

function trainingMetadata(info: CheckpointInfo): Record<string, string> {
  return {
    config: JSON.stringify(info.config),
    best_acc: String(info.best.acc),
    best_epoch: String(info.best.epoch),
    global_step: String(info.globalStep),
    ...(info.stoppedAtStep !== undefined ? { stopped_at_step: String(info.stoppedAtStep) } : {}),
  };
}

/** Stages of {@link saveCheckpoint}, reported to {@link checkpointTestHook}. */
export type CheckpointStage =
  | "begin"
  | "optimizer-written"
  | "model-written"
  | "committed"
  | "last-linked"
  | "best-linked"
  | "pruned";

/**
 * Test-only hook: called at every {@link CheckpointStage} of {@link saveCheckpoint} (the crash
 * test kills the process there). Null in normal use.
 */
export const checkpointTestHook: {
  onStage: ((stage: CheckpointStage, epoch: number) => void | Promise<void>) | null;
} = { onStage: null };

async function stage(s: CheckpointStage, epoch: number): Promise<void> {
  if (checkpointTestHook.onStage) await checkpointTestHook.onStage(s, epoch);
}

/** Name of the committed folder of an epoch (`epoch-0003`). */
export function epochFolderName(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, "0")}`;
}

const EPOCH_DIR_RE = /^epoch-(\d+)$/;

/** Flush a folder's entries (renames inside it) to disk; a no-op where folders cannot be opened. */
function syncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // some platforms cannot fsync a folder: the rename is still atomic
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** Make `link` name the same file as `target`, atomically (hard link, or a copy). */
function linkAtomic(target: string, link: string): void {
  const tmp = path.join(
    path.dirname(link),
    `.${path.basename(link)}.tmp-${Deno.pid}-${Math.random().toString(36).slice(2)}`,
  );
  try {
    try {
      fs.linkSync(target, tmp);
    } catch {
      fs.copyFileSync(target, tmp);
    }
    fs.renameSync(tmp, link);
    // rename(2) does nothing when both names are links to the same file: drop the temp name
    fs.rmSync(tmp, { force: true });
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`cannot write ${link}: ${(e as Error).message}`);
  }
}

/**
 * Write the checkpoint of epoch `info.epoch` as an atomic pair (see the module doc):
 * `<runDir>/checkpoints/epoch-NNNN/{model,model.optim}.safetensors`, then `last.safetensors` +
 * `last.optim.safetensors` and, when `info.isBest`, `best.safetensors` (model only). Another
 * `file` (e.g. {@link CHECKPOINT_STOPPED}, a mid-epoch stop) writes just that pair in place.
 * @throws Error naming the tensor, before anything is written, when a parameter, buffer or
 *   optimiser moment is not finite
 */
export async function saveCheckpoint(
  runDir: string,
  model: FerModel,
  optimizer: Adam,
  info: CheckpointInfo,
  file: string = CHECKPOINT_LAST,
): Promise<void> {
  const dir = path.join(runDir, CHECKPOINT_DIR);
  fs.mkdirSync(dir, { recursive: true });
  const meta = trainingMetadata(info);
  const opt = optimizer.getState();
  if (info.labels) opt.set(LABEL_TABLE_KEY, tf.tensor1d(info.labels, "int32"));
  try {
    const sd = model.stateDict();
    try {
      const where = `epoch ${info.epoch}: not writing a checkpoint`;
      await assertFiniteTensorsAsync(sd, `${where} (model)`);
      await assertFiniteTensorsAsync(opt, `${where} (optimiser state)`);
    } finally {
      tf.dispose([...sd.values()]);
    }
    if (file !== CHECKPOINT_LAST) {
      // an extra pair (e.g. stopped.safetensors): not what resume reads, written in place
      await writePair(path.join(runDir, file), model, opt, info, meta);
      return;
    }
    await stage("begin", info.epoch);
    const final = path.join(dir, epochFolderName(info.epoch));
    const tmp = path.join(
      dir,
      `.tmp-${epochFolderName(info.epoch)}-${Deno.pid}-${Math.random().toString(36).slice(2)}`,
    );
    fs.mkdirSync(tmp);
    try {
      await writePair(path.join(tmp, "model.safetensors"), model, opt, info, meta);
      syncDir(tmp);
      fs.rmSync(final, { recursive: true, force: true });
      fs.renameSync(tmp, final);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    syncDir(dir);
    await stage("committed", info.epoch);
  } finally {
    tf.dispose([...opt.values()]);
  }
  if (file === CHECKPOINT_LAST) await finishCheckpoint(runDir, info.epoch, info.isBest === true);
}

/** Write the optimiser file, then the model file (each atomic) of one checkpoint. */
async function writePair(
  modelFile: string,
  model: FerModel,
  opt: Map<string, tf.Tensor>,
  info: CheckpointInfo,
  meta: Record<string, string>,
): Promise<void> {
  await writeSafetensors(optimizerStatePath(modelFile), opt, {
    format: MODEL_CHECKPOINT_FORMAT + "/optimizer",
    optimizer: "adam",
    epoch: String(info.epoch),
    global_step: String(info.globalStep),
  });
  await stage("optimizer-written", info.epoch);
  await saveModelCheckpoint(modelFile, model, { epoch: info.epoch, metadata: meta });
  await stage("model-written", info.epoch);
}

/**
 * Point `last.safetensors` / `last.optim.safetensors` (and `best.safetensors` when `isBest`) at
 * the committed folder of `epoch` and remove every other epoch folder. Idempotent: resume calls
 * it again to finish a commit a kill interrupted.
 */
export async function finishCheckpoint(
  runDir: string,
  epoch: number,
  isBest: boolean,
): Promise<void> {
  const dir = path.join(runDir, CHECKPOINT_DIR);
  const folder = path.join(dir, epochFolderName(epoch));
  const model = path.join(folder, "model.safetensors");
  const last = path.join(runDir, CHECKPOINT_LAST);
  linkAtomic(optimizerStatePath(model), optimizerStatePath(last));
  linkAtomic(model, last);
  await stage("last-linked", epoch);
  if (isBest) {
    linkAtomic(model, path.join(runDir, CHECKPOINT_BEST));
    await stage("best-linked", epoch);
  }
  syncDir(dir);
  for (const n of fs.readdirSync(dir)) {
    if (EPOCH_DIR_RE.test(n) && n !== epochFolderName(epoch)) {
      fs.rmSync(path.join(dir, n), { recursive: true, force: true });
    }
  }
  await stage("pruned", epoch);
}

/**
 * The model file of the checkpoint a resume continues from: the newest committed epoch folder
 * (`checkpoints/epoch-NNNN/model.safetensors`), else (runs written before epoch folders)
 * `checkpoints/last.safetensors`, else null.
 */
export function findResumeCheckpoint(runDir: string): string | null {
  const dir = path.join(runDir, CHECKPOINT_DIR);
  let best = -1;
  for (const n of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const m = EPOCH_DIR_RE.exec(n);
    if (m && Number(m[1]) > best) best = Number(m[1]);
  }
  if (best >= 0) return path.join(dir, epochFolderName(best), "model.safetensors");
  const last = path.join(runDir, CHECKPOINT_LAST);
  return fs.existsSync(last) ? last : null;
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
  /** The trainer's label table ({@link CheckpointInfo.labels}), or null when none was saved. */
  labels: Int32Array | null;
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
  const table = tensors.get(LABEL_TABLE_KEY);
  return {
    tensors,
    labels: table ? Int32Array.from(table.dataSync()) : null,
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
 * `checkConfig` sees the stored training config first and may throw to refuse the checkpoint;
 * NaN or infinite tensors are refused (the error names the tensor) before anything is assigned.
 */
export function loadCheckpoint(
  file: string,
  model: FerModel,
  optimizer: Adam | null,
  checkConfig?: (stored: TrainConfig) => void,
): LoadedCheckpoint {
  const ck = readCheckpoint(file);
  try {
    checkConfig?.(ck.config);
    if (optimizer && !ck.hasOptimizerState) {
      throw new Error(
        `cannot resume from ${file}: optimiser state ${optimizerStatePath(file)} is missing`,
      );
    }
    assertFiniteTensors(ck.tensors, `cannot resume from ${file}`);
    applyWeights(model, ck.tensors, { strict: true, source: "model", log: null, file });
    if (optimizer) optimizer.setState(ck.tensors);
  } finally {
    tf.dispose([...ck.tensors.values()]);
  }
  return ck;
}
