/**
 * Mapping a PyTorch state dict onto a model: name normalisation (`module.` prefix, torchvision vs
 * `features.N` names), layout conversion, and a report of missing, unexpected and
 * shape-mismatched keys (PyTorch's `strict=False` hides these; we print them).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { fromTorchLayout, type ParamEntry, type ParamStore, torchShape } from "./params.ts";
import type { BackboneNaming } from "./resnet.ts";

/** Options of {@link loadStateDictInto}. */
export interface LoadStateDictOptions {
  /** Throw (without changing the model) when anything is missing, unexpected or mismatched. */
  strict?: boolean;
  /**
   * `"model"`: keys are this model's names; `"backbone"`: only the ResNet-18 backbone is loaded
   * (torchvision names `conv1.*`/`layerK.*` or `features.N.*`), anything else (e.g. the 1000-way
   * `fc`) is reported as unexpected and ignored; `"auto"` (default): `"model"` when more of the
   * model's non-backbone tensors (heads, classifier) are present with the right shape than with
   * a wrong one, else `"backbone"` (so torchvision's 1000-way `fc` selects `"backbone"`).
   */
  source?: "auto" | "model" | "backbone";
  /** Where to print the report lines (default `console.log`; `null` prints nothing). */
  log?: ((line: string) => void) | null;
  /** Name of the file the state dict came from, used in messages. */
  file?: string;
}

/** A key whose shape differs from the model's. */
export interface ShapeMismatch {
  /** Model (PyTorch-style) name. */
  name: string;
  /** Shape the model expects (PyTorch layout). */
  expected: number[];
  /** Shape found in the state dict. */
  got: number[];
}

/** What {@link loadStateDictInto} did. */
export interface StateDictReport {
  /** How keys were interpreted. */
  source: "model" | "backbone";
  /** Whether a DataParallel `module.` prefix was stripped. */
  strippedModulePrefix: boolean;
  /** Model names that received a value. */
  loaded: string[];
  /** Model names with no value in the state dict (they keep their current value). */
  missing: string[];
  /** `num_batches_tracked` buffers absent from old checkpoints (left unchanged, as PyTorch). */
  defaulted: string[];
  /** State-dict keys the model has no place for (ignored). */
  unexpected: string[];
  /** Keys present in both but with different shapes (ignored). */
  mismatched: ShapeMismatch[];
}

const BACKBONE_RE = /^(conv1|bn1|layer[1-4])\./;
const FEATURES_RE = /^features\.(\d+)(\..*)$/;

/** torchvision backbone name of a state-dict key (`features.N…` inverted), or null. */
function canonicalBackboneName(key: string): string | null {
  if (BACKBONE_RE.test(key)) return key;
  const m = FEATURES_RE.exec(key);
  if (!m) return null;
  const i = Number(m[1]);
  if (i === 0) return "conv1" + m[2];
  if (i === 1) return "bn1" + m[2];
  if (i >= 4 && i <= 7) return `layer${i - 3}${m[2]}`;
  return null;
}

/**
 * Load `sd` (PyTorch names and layouts; the caller keeps ownership of its tensors) into the
 * variables of `store`. `backboneNames` lists the model's backbone names and `naming` maps
 * torchvision names to them. Prints the report unless `options.log === null`.
 */
export function loadStateDictInto(
  store: ParamStore,
  backboneNames: Set<string>,
  naming: BackboneNaming,
  sd: Map<string, tf.Tensor>,
  options: LoadStateDictOptions = {},
): StateDictReport {
  const log = options.log === undefined ? console.log : options.log;
  const where = options.file ? ` from ${options.file}` : "";
  let keys = [...sd.keys()];
  const strippedModulePrefix = keys.length > 0 && keys.every((k) => k.startsWith("module."));
  const byKey = new Map<string, tf.Tensor>();
  for (const k of keys) byKey.set(strippedModulePrefix ? k.slice(7) : k, sd.get(k)!);
  keys = [...byKey.keys()];

  let source = options.source ?? "auto";
  if (source === "auto") {
    const heads = [...store.entries.values()].filter((e) => !backboneNames.has(e.name));
    let fit = 0;
    let misfit = 0;
    for (const e of heads) {
      const t = byKey.get(e.name);
      if (t !== undefined) sameShape(t.shape, torchShape(e)) ? fit++ : misfit++;
    }
    source = fit > misfit ? "model" : "backbone";
  }

  // target model name for every state-dict key (null = unexpected)
  const target = new Map<string, string | null>();
  for (const k of keys) {
    if (source === "model" && store.entries.has(k)) {
      target.set(k, k);
      continue;
    }
    const c = canonicalBackboneName(k);
    let name: string | null = null;
    if (c !== null) {
      try {
        name = naming(c);
      } catch {
        name = null;
      }
    }
    target.set(k, name !== null && store.entries.has(name) ? name : null);
  }

  const report: StateDictReport = {
    source,
    strippedModulePrefix,
    loaded: [],
    missing: [],
    defaulted: [],
    unexpected: [],
    mismatched: [],
  };
  const assignments: [ParamEntry, tf.Tensor, string][] = [];
  const seen = new Set<string>();
  for (const k of keys) {
    const name = target.get(k)!;
    if (name === null || seen.has(name)) {
      report.unexpected.push(k);
      continue;
    }
    seen.add(name);
    const e = store.entries.get(name)!;
    const t = byKey.get(k)!;
    const want = torchShape(e);
    if (!sameShape(t.shape, want)) {
      report.mismatched.push({ name, expected: want, got: [...t.shape] });
      continue;
    }
    assignments.push([e, t, k]);
  }
  for (const e of store.entries.values()) {
    if (seen.has(e.name)) continue;
    if (source === "backbone" && !backboneNames.has(e.name)) continue;
    if (e.layout.kind === "count") report.defaulted.push(e.name);
    else report.missing.push(e.name);
  }

  if (log) {
    log(
      `state dict${where}: ${assignments.length} tensors loaded as ${source}` +
        (strippedModulePrefix ? " (stripped 'module.' prefix)" : ""),
    );
    if (report.missing.length) {
      log(`  missing (${report.missing.length}): ${report.missing.join(", ")}`);
    }
    if (report.unexpected.length) {
      log(`  unexpected, ignored (${report.unexpected.length}): ${report.unexpected.join(", ")}`);
    }
    for (const m of report.mismatched) {
      log(`  shape mismatch, ignored: ${m.name} expected [${m.expected}] got [${m.got}]`);
    }
    if (report.defaulted.length) {
      log(`  num_batches_tracked absent, kept (${report.defaulted.length})`);
    }
  }
  if (
    options.strict &&
    (report.missing.length || report.unexpected.length || report.mismatched.length)
  ) {
    const parts: string[] = [];
    if (report.missing.length) parts.push(`missing: ${report.missing.join(", ")}`);
    if (report.unexpected.length) parts.push(`unexpected: ${report.unexpected.join(", ")}`);
    for (const m of report.mismatched) {
      parts.push(`shape mismatch ${m.name}: expected [${m.expected}] got [${m.got}]`);
    }
    throw new Error(`strict state-dict load${where} failed; ${parts.join("; ")}`);
  }
  // A float parameter must come from a float tensor (a float tensor relabelled I32 in a
  // safetensors header is not a parameter), a count from an integer one; no NaN or infinity.
  const floats = new Map<string, tf.Tensor>();
  for (const [e, t, k] of assignments) {
    const wantFloat = e.layout.kind !== "count";
    if (wantFloat !== (t.dtype === "float32")) {
      throw new Error(
        `state dict${where}: tensor ${k} has dtype ${t.dtype}, the model's ${e.name} needs ` +
          `${wantFloat ? "a float" : "an integer"} tensor (wrong dtype in the file?)`,
      );
    }
    if (wantFloat) floats.set(k, t);
  }
  assertFiniteTensors(floats, `state dict${where}: refusing to load non-finite weights`);
  for (const [e, t] of assignments) {
    const v = fromTorchLayout(e, t);
    e.variable.assign(v);
    v.dispose();
    report.loaded.push(e.name);
  }
  return report;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Throw when `v` (the values of tensor `name`) holds NaN or ±Infinity, with the counts. */
function assertFiniteValues(name: string, v: ArrayLike<number>, where: string): void {
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x - x !== 0) x !== x ? nan++ : inf++;
  }
  if (nan || inf) {
    throw new Error(
      `${where}: tensor ${name} holds ${nan} NaN and ${inf} infinite value(s) of ${v.length}`,
    );
  }
}

/**
 * Throw when any float tensor of `tensors` holds NaN or ±Infinity, naming the first such tensor
 * (with its counts) and `where`. Reads synchronously: for tensors whose values are on the host
 * (just read from a file); use {@link assertFiniteTensorsAsync} for tensors a GPU computed.
 */
export function assertFiniteTensors(tensors: Map<string, tf.Tensor>, where: string): void {
  for (const [name, t] of tensors) {
    if (t.dtype === "float32") assertFiniteValues(name, t.dataSync() as Float32Array, where);
  }
}

/** {@link assertFiniteTensors} with asynchronous reads (WebGPU has no `dataSync`). */
export async function assertFiniteTensorsAsync(
  tensors: Map<string, tf.Tensor>,
  where: string,
): Promise<void> {
  for (const [name, t] of tensors) {
    if (t.dtype === "float32") assertFiniteValues(name, (await t.data()) as Float32Array, where);
  }
}
