/**
 * Writing a model as a PyTorch `.pth` (no PyTorch needed): the official RUL checkpoint layout
 * that the official `src/main.py` code path loads, or a plain state dict.
 *
 * ```ts
 * const { model } = await loadModel("runs/rul/checkpoints/best.safetensors");
 * await exportTorchCheckpoint(model, "acc_888.pth", "official-pth");
 * // PyTorch: ckpt = torch.load("acc_888.pth")
 * //          res18.load_state_dict(ckpt['model_state_dict']); fc.load_state_dict(ckpt['fc_state_dict'])
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { TorchTensor } from "../io/torch_tensor.ts";
import { type TorchSaveValue, writeTorchCheckpoint } from "../io/torch_writer.ts";
import { toOfficialRulLayout } from "../io/checkpoint_layout.ts";
import { backboneOutputShape, DEFAULT_MODEL_CONFIG } from "../model/config.ts";
import type { FerModel } from "../model/types.ts";

/**
 * `official-pth`: `{"model_state_dict": res18feature's state dict (features.*, mu.*, log_var.*),
 * "fc_state_dict": the classifier's (weight, bias)}`, as the official `src/main.py` saves it;
 * `pth`: one plain state dict (RUL: the official names plus `fc.*`; baseline: torchvision's
 * names, so `torchvision.models.resnet18(num_classes=7)` loads a full-width baseline strictly).
 */
export type TorchExportFormat = "official-pth" | "pth";

/** The formats of {@link TorchExportFormat}. */
export const TORCH_EXPORT_FORMATS: readonly TorchExportFormat[] = ["official-pth", "pth"];

/** What {@link exportTorchCheckpoint} wrote. */
export interface TorchExportReport {
  /** The file written. */
  file: string;
  /** The layout written. */
  format: TorchExportFormat;
  /** Number of tensors. */
  tensors: number;
  /**
   * Ways in which the model differs from what the unmodified official code builds (224 px, stage
   * widths 64…512, feature dimension 64, 7 classes); each needs the matching change there.
   */
  notes: string[];
}

/**
 * The model's state dict as checkpoint tensors: float32 stays float32, int32 buffers
 * (`num_batches_tracked`) become int64 as in PyTorch.
 */
async function torchStateDict(model: FerModel): Promise<Map<string, TorchTensor>> {
  const sd = model.stateDict();
  try {
    const out = new Map<string, TorchTensor>();
    for (const [k, t] of sd) {
      const dtype = t.dtype === "float32" ? "float32" : t.dtype === "int32" ? "int64" : null;
      if (!dtype) throw new Error(`${k}: cannot export a ${t.dtype} tensor`);
      // An asynchronous read: WebGPU has no synchronous one.
      out.set(k, TorchTensor.fromArray(dtype, t.shape, (await t.data()) as Float32Array, k));
    }
    return out;
  } finally {
    tf.dispose([...sd.values()]);
  }
}

/** Differences from the unmodified official model (see {@link TorchExportReport.notes}). */
function officialNotes(model: FerModel): string[] {
  const c = model.config;
  const notes: string[] = [];
  const official = DEFAULT_MODEL_CONFIG;
  if (c.widths.join() !== official.widths.join()) {
    notes.push(`stage widths ${c.widths.join(",")} (official ${official.widths.join(",")})`);
  }
  const [s] = backboneOutputShape(c.inputSize, c.widths);
  if (s !== 7) {
    notes.push(
      `input ${c.inputSize} px: the heads' Linear takes ${c.widths[3]}×${s}×${s} inputs ` +
        `(official 512 * 7 * 7 at 224 px)`,
    );
  }
  if (c.featureDim !== 64) {
    notes.push(`feature dim ${c.featureDim} (--out_dimension ${c.featureDim})`);
  }
  if (c.numClasses !== 7) {
    notes.push(`${c.numClasses} classes (main.py builds fc = nn.Linear(out_dimension, 7))`);
  }
  return notes;
}

/**
 * The object {@link exportTorchCheckpoint} writes: for `official-pth` a plain dict (as main.py's
 * `{...}` literal) of two OrderedDicts, for `pth` one OrderedDict.
 * @throws Error for `official-pth` when the model is not a RUL model with σ head
 */
export async function torchExportValue(
  model: FerModel,
  format: TorchExportFormat,
): Promise<TorchSaveValue> {
  if (format === "official-pth" && model.config.kind !== "rul") {
    throw new Error(
      `--format official-pth holds a RUL model (res18feature + fc); this is a ` +
        `${model.config.kind} model: use --format pth (its own names: torchvision's for the ` +
        "baseline, the official features.* / fc.* / alpha.0.* for SCN and EAC)",
    );
  }
  const sd = await torchStateDict(model);
  if (format === "pth") return sd;
  const o = toOfficialRulLayout(sd);
  return { model_state_dict: o.model_state_dict, fc_state_dict: o.fc_state_dict };
}

/**
 * Write `model` to `file` as a PyTorch checkpoint in `format` (atomically). The report lists the
 * ways the model differs from the unmodified official code's (empty for a full-size RUL model
 * at 224 px with 7 classes).
 */
export async function exportTorchCheckpoint(
  model: FerModel,
  file: string,
  format: TorchExportFormat,
): Promise<TorchExportReport> {
  const value = await torchExportValue(model, format);
  await writeTorchCheckpoint(file, value);
  return {
    file,
    format,
    tensors: countTensors(value),
    notes: format === "official-pth" ? officialNotes(model) : [],
  };
}

function countTensors(v: TorchSaveValue): number {
  if (v instanceof TorchTensor) return 1;
  if (v instanceof Map) return [...v.values()].reduce((a: number, x) => a + countTensors(x), 0);
  if (v && typeof v === "object" && !Array.isArray(v)) {
    return Object.values(v).reduce((a: number, x) => a + countTensors(x), 0);
  }
  return 0;
}
