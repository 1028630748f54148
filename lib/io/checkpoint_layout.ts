/**
 * The layouts in which FER code stores a model's weights, and their normalisation into one
 * PyTorch-named state dict (`features.*`, `mu.*`, `log_var.*`, `fc.*` for RUL; torchvision names
 * for the baseline and for pretrained backbones):
 *
 * | layout           | file contents                                                      |
 * | ---------------- | ------------------------------------------------------------------ |
 * | `official-rul`   | `{"model_state_dict": res18.state_dict(), "fc_state_dict": fc.state_dict()}` (the official `src/main.py`; the classifier's `weight`/`bias` become `fc.weight`/`fc.bias`) |
 * | `state_dict`     | `{"state_dict": sd, …}` (e.g. `resnet18_msceleb.pth`, DataParallel training scripts) |
 * | `model`          | `{"model": sd, …}`; likewise `model_state_dict` alone, `net`, `state` |
 * | `bare`           | `sd` itself (torchvision's `resnet18-*.pth`, our safetensors files) |
 * | `key`            | `obj[key]` for an explicitly chosen key                            |
 *
 * In every layout a DataParallel `module.` prefix (on all keys of a dict) is removed, and
 * non-tensor entries (epochs, optimiser state, …) are left out and listed. The functions here are
 * pure: they work on any tree of `Map`s (the restricted unpickler's dicts) with tensors of any
 * type recognised by the caller's predicate, so lib/io stays format-only.
 *
 * @module
 */

/** Which layout {@link normalizeCheckpointLayout} matched. */
export type CheckpointLayout =
  | "official-rul"
  | "state_dict"
  | "model_state_dict"
  | "model"
  | "net"
  | "state"
  | "bare"
  | "key";

/** What {@link normalizeCheckpointLayout} matched (the load reports carry it). */
export interface CheckpointLayoutReport {
  /** The layout matched. */
  layout: CheckpointLayout;
  /** Whether a DataParallel `module.` prefix was removed. */
  strippedModulePrefix: boolean;
  /** Top-level entries that are not part of the weights (e.g. `epoch`, `optimizer`). */
  ignored: string[];
  /** One line saying what was matched, e.g. for the load report. */
  description: string;
}

/** A state dict in one of the layouts, normalised. */
export interface NormalizedCheckpoint<T> extends CheckpointLayoutReport {
  /** The merged state dict (PyTorch names, no `module.` prefix). */
  stateDict: Map<string, T>;
}

/** Options of {@link normalizeCheckpointLayout}. */
export interface NormalizeLayoutOptions {
  /** Take the state dict from this top-level key (layout `key`; default: recognise the layout). */
  key?: string;
  /** File name for messages. */
  file?: string;
}

/** Keys that hold a whole state dict in the wrapped layouts, in order of preference. */
const WRAPPER_KEYS = ["state_dict", "model_state_dict", "model", "net", "state"] as const;

function isTensorDict<T>(v: unknown, isTensor: (x: unknown) => x is T): v is Map<unknown, unknown> {
  if (!(v instanceof Map) || v.size === 0) return false;
  let tensors = 0;
  for (const x of v.values()) if (isTensor(x)) tensors++;
  return tensors > 0 && tensors >= v.size / 2;
}

/** Tensor entries of `d`, `module.` prefix removed when every key has it. */
function tensorsOf<T>(
  d: Map<unknown, unknown>,
  isTensor: (x: unknown) => x is T,
): { sd: Map<string, T>; stripped: boolean } {
  const keys = [...d.keys()].map(String);
  const stripped = keys.length > 0 && keys.every((k) => k.startsWith("module."));
  const sd = new Map<string, T>();
  for (const [k, v] of d) {
    if (isTensor(v)) sd.set(stripped ? String(k).slice("module.".length) : String(k), v);
  }
  return { sd, stripped };
}

function keyList(obj: unknown): string {
  return obj instanceof Map ? [...obj.keys()].map(String).join(", ") : typeof obj;
}

/**
 * Recognise the layout of a checkpoint object (see the module table) and return one merged,
 * PyTorch-named state dict. `isTensor` says which values are tensors (e.g. `TorchTensor` of the
 * `.pth` reader, `tf.Tensor` of a safetensors file).
 * @throws Error naming the file and the top-level keys found when no layout fits, or when the
 * official layout's `model_state_dict` already holds `fc.*` keys
 */
export function normalizeCheckpointLayout<T>(
  obj: unknown,
  isTensor: (x: unknown) => x is T,
  options: NormalizeLayoutOptions = {},
): NormalizedCheckpoint<T> {
  const file = options.file ?? "checkpoint";
  const others = (used: string[]) =>
    obj instanceof Map ? [...obj.keys()].map(String).filter((k) => !used.includes(k)) : [];
  const prefixNote = (s: boolean) => s ? " (DataParallel 'module.' prefix removed)" : "";

  if (options.key !== undefined) {
    if (!(obj instanceof Map) || !obj.has(options.key)) {
      throw new Error(`${file}: no key '${options.key}' (top-level keys: ${keyList(obj)})`);
    }
    const d = obj.get(options.key);
    if (!isTensorDict(d, isTensor)) {
      throw new Error(`${file}: '${options.key}' is not a state dict of tensors`);
    }
    const { sd, stripped } = tensorsOf(d, isTensor);
    return {
      stateDict: sd,
      layout: "key",
      strippedModulePrefix: stripped,
      ignored: others([options.key]),
      description: `state dict under '${options.key}': ${sd.size} tensors${prefixNote(stripped)}`,
    };
  }

  if (isTensorDict(obj, isTensor)) {
    const { sd, stripped } = tensorsOf(obj, isTensor);
    const ignored = [...obj.entries()].filter(([, v]) => !isTensor(v)).map(([k]) => String(k));
    return {
      stateDict: sd,
      layout: "bare",
      strippedModulePrefix: stripped,
      ignored,
      description: `bare state dict: ${sd.size} tensors${prefixNote(stripped)}`,
    };
  }

  if (!(obj instanceof Map)) {
    throw new Error(`${file}: not a checkpoint dict (found ${typeof obj})`);
  }

  const model = obj.get("model_state_dict");
  const fc = obj.get("fc_state_dict");
  if (isTensorDict(model, isTensor) && isTensorDict(fc, isTensor)) {
    const m = tensorsOf(model, isTensor);
    const f = tensorsOf(fc, isTensor);
    const sd = new Map(m.sd);
    for (const k of sd.keys()) {
      if (k.startsWith("fc.")) {
        throw new Error(
          `${file}: model_state_dict already holds ${k} and fc_state_dict holds a classifier ` +
            "too; choose one with --key",
        );
      }
    }
    for (const [k, v] of f.sd) sd.set("fc." + k, v);
    const stripped = m.stripped || f.stripped;
    return {
      stateDict: sd,
      layout: "official-rul",
      strippedModulePrefix: stripped,
      ignored: others(["model_state_dict", "fc_state_dict"]),
      description: `official RUL layout: model_state_dict (${m.sd.size} tensors) + ` +
        `fc_state_dict (${f.sd.size}, as fc.*)${prefixNote(stripped)}`,
    };
  }

  for (const k of WRAPPER_KEYS) {
    const d = obj.get(k);
    if (!isTensorDict(d, isTensor)) continue;
    const { sd, stripped } = tensorsOf(d, isTensor);
    return {
      stateDict: sd,
      layout: k,
      strippedModulePrefix: stripped,
      ignored: others([k]),
      description: `{'${k}': state dict}: ${sd.size} tensors${prefixNote(stripped)}`,
    };
  }
  throw new Error(
    `${file}: no state dict found (top-level keys: ${keyList(obj)}); recognised layouts: ` +
      "{model_state_dict, fc_state_dict} (official RUL), {state_dict}, {model}, " +
      "{model_state_dict}, {net}, {state}, or a bare state dict (--key picks another entry)",
  );
}

/** The official `src/main.py` checkpoint: the `res18feature` state dict and the classifier's. */
export interface OfficialRulCheckpoint<T> {
  /** `features.*`, `mu.*`, `log_var.*` (what `res18.load_state_dict` expects). */
  model_state_dict: Map<string, T>;
  /** `weight`, `bias` (what `fc.load_state_dict` expects). */
  fc_state_dict: Map<string, T>;
}

/**
 * Split a RUL state dict (our names = the official ones, plus `fc.*`) into the official layout,
 * the inverse of the `official-rul` case of {@link normalizeCheckpointLayout}.
 * @throws Error when the dict is not a RUL model's (no `mu.*` head or no `fc.weight`)
 */
export function toOfficialRulLayout<T>(sd: Map<string, T>): OfficialRulCheckpoint<T> {
  const has = (p: string) => [...sd.keys()].some((k) => k.startsWith(p));
  if (!sd.has("fc.weight") || !has("mu.") || !has("features.")) {
    throw new Error(
      "the official RUL layout needs a RUL model (features.*, mu.*, log_var.*, fc.*); " +
        "a baseline is written as a plain state dict (--format pth)",
    );
  }
  if (!has("log_var.")) {
    throw new Error(
      "this RUL model has no σ head (log_var.*), which the official res18feature always has: " +
        "write it as a plain state dict (--format pth)",
    );
  }
  const model = new Map<string, T>();
  const fc = new Map<string, T>();
  for (const [k, v] of sd) {
    if (k.startsWith("fc.")) fc.set(k.slice(3), v);
    else model.set(k, v);
  }
  return { model_state_dict: model, fc_state_dict: fc };
}
