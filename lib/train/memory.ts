/**
 * Memory pre-check of a training step: estimate the peak memory of one step for (backend, input
 * size, batch, widths) before the first step, and refuse a setting that cannot fit with a message
 * that names the limit and the largest batch that fits. Without it, a batch too large for the wasm
 * heap hangs (multi-threaded: a worker dies waiting) or dies with "memory access out of bounds".
 *
 * Estimate (bytes) = {@link BYTES_PER_FEATURE} × batch × E + {@link BYTES_PER_PARAMETER} × P +
 * {@link BASE_BYTES}, where E = elements of the feature maps of one sample through ResNet-18
 * (input 3·S², stem (S/2)²·w₀, pool and stage 1 5·(S/4)²·w₀, stage k>1 4·(S/2^(k+1))²·w_{k−1}) and P
 * the parameter count. The feature coefficient is fitted to the wasm heap's high-water mark after
 * two steps with the trainer's backward pass (lib/train/grads.ts `variableGradsFreeing`, which
 * frees each activation and gradient once the backward pass is past it), measured by
 * tools/measure_step_memory.ts (docs/measurements/step_memory_onednn_2026-12-06.json,
 * step_memory_wasm_2026-12-06.json): 11-13 bytes per feature element at large batches (64 px
 * batch 256, 112 px batch 128, 224 px batches 64 and 128 on the native engine; 13.7 at 224 px
 * batch 64 on the wasm engine), up to 18 at small ones where fixed costs dominate (64 px batch 16,
 * 266 MB). 16 keeps a margin of about 15-40 % where the limit is near: 224 px batch 64 is estimated
 * at 2.9 GB (2.0-2.4 GB of heap measured) and fits; the largest batch at 224 px is about 95 (batch
 * 128 measured 3.9 GB, too close to the 4 GiB ceiling to allow). With TF.js's own
 * `tf.variableGrads`, which keeps every activation and gradient until the backward pass ends, the
 * figure was 35-49 and 224 px fitted batch 32, not 64.
 *
 * @module
 */
import * as os from "node:os";

/** The wasm32 heap limit (4 GiB). */
export const WASM_HEAP_LIMIT = 4 * 1024 ** 3;
/** Bytes per feature-map element per sample of a training step (forward + saved + gradients). */
export const BYTES_PER_FEATURE = 16;
/** Bytes per parameter (value, gradient, two Adam moments). */
export const BYTES_PER_PARAMETER = 16;
/** Fixed part (engine scratch, module, small tensors). */
export const BASE_BYTES = 32 * 1024 ** 2;

/** What the estimate needs. */
export interface StepShape {
  /** Square input size in pixels. */
  inputSize: number;
  /** Training batch size. */
  batch: number;
  /** ResNet-18 stage widths. */
  widths: readonly [number, number, number, number];
  /** RUL feature dimension (heads), or 0 for the baseline. */
  featureDim: number;
  /** Number of classes. */
  numClasses: number;
}

/** Feature-map elements of one sample through the ResNet-18 backbone (E of the module doc). */
export function featureElements(inputSize: number, widths: readonly number[]): number {
  const side = (div: number) => Math.ceil(inputSize / div);
  let e = 3 * inputSize * inputSize + side(2) ** 2 * widths[0] + 5 * side(4) ** 2 * widths[0];
  for (let k = 1; k < 4; k++) e += 4 * side(2 ** (k + 2)) ** 2 * widths[k];
  return e;
}

/** Parameter count of the model (backbone convs + batch norms, heads, classifier). */
export function parameterCount(s: Omit<StepShape, "batch">): number {
  const w = s.widths;
  let p = 7 * 7 * 3 * w[0] + 2 * w[0];
  let cin = w[0];
  for (const c of w) {
    p += 9 * cin * c + 9 * c * c + 4 * c + (cin !== c ? cin * c + 2 * c : 0); // block 1
    p += 2 * 9 * c * c + 4 * c; // block 2
    cin = c;
  }
  const map = Math.ceil(s.inputSize / 32) ** 2 * w[3];
  return p +
    (s.featureDim > 0 ? 2 * map * s.featureDim + s.featureDim * s.numClasses : w[3] * s.numClasses);
}

/** Estimated peak bytes of one training step (see the module doc). */
export function estimateStepBytes(s: StepShape): number {
  return BYTES_PER_FEATURE * s.batch * featureElements(s.inputSize, s.widths) +
    BYTES_PER_PARAMETER * parameterCount(s) + BASE_BYTES;
}

/**
 * Memory available to a training step on `backend`: the wasm heap (4 GiB, or the machine's
 * memory when smaller), the machine's memory for cpu, null (unknown: not checked) for GPU
 * backends.
 */
export function memoryLimit(backend: string): { bytes: number; what: string } | null {
  const total = os.totalmem();
  if (backend === "wasm") {
    return total < WASM_HEAP_LIMIT
      ? { bytes: total, what: "the machine's memory" }
      : { bytes: WASM_HEAP_LIMIT, what: "the wasm heap limit" };
  }
  if (backend === "cpu") return { bytes: total, what: "the machine's memory" };
  return null;
}

/** Largest batch whose estimate fits `limit` bytes (0 when not even 1 fits). */
export function largestBatch(s: Omit<StepShape, "batch">, limit: number): number {
  const fixed = estimateStepBytes({ ...s, batch: 0 });
  const per = BYTES_PER_FEATURE * featureElements(s.inputSize, s.widths);
  return Math.max(0, Math.floor((limit - fixed) / per));
}

function gb(bytes: number): string {
  return bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(1)} GiB`
    : `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

/**
 * The message of a step that does not fit, or (when the estimate fits but the backend ran out of
 * memory anyway) of one that did not: the setting, the estimate, the limit and what to change.
 */
export function memoryMessage(s: StepShape, backend: string): string {
  const limit = memoryLimit(backend);
  const need = estimateStepBytes(s);
  const setting = `batch ${s.batch} at ${s.inputSize} px (widths ${s.widths.join(",")})`;
  if (!limit) return `a training step of ${setting} needs about ${gb(need)}`;
  if (need <= limit.bytes) {
    const half = Math.max(2, Math.floor(s.batch / 2));
    return `a training step of ${setting} is estimated at about ${gb(need)}, within ` +
      `${limit.what} (${gb(limit.bytes)}), but the ${backend} backend ran out of memory; try ` +
      `--batch-size ${half} or a smaller --input-size`;
  }
  const fit = largestBatch(s, limit.bytes);
  return `a training step of ${setting} needs about ${gb(need)} on the ${backend} backend, ` +
    `more than ${limit.what} (${gb(limit.bytes)}); ` +
    (fit >= 2
      ? `the largest batch that fits is about ${fit} (--batch-size ${fit})`
      : "not even a batch of 2 fits") +
    ", or use a smaller --input-size or a GPU backend" +
    (backend === "wasm"
      ? ", or keep the native CPU engine's tensors outside the wasm heap with RUL_ONEDNN_STORE=cpu" +
        " (needs libdnnl2; docs/engine.md)"
      : "");
}

/**
 * Refuse a step that cannot fit on `backend` before it runs.
 * @throws Error with {@link memoryMessage} when the estimate exceeds the backend's limit
 */
export function checkStepMemory(s: StepShape, backend: string): void {
  const limit = memoryLimit(backend);
  if (limit && estimateStepBytes(s) > limit.bytes) throw new Error(memoryMessage(s, backend));
}

const OOM_RE =
  /memory access out of bounds|out of memory|Array buffer allocation failed|Cannot enlarge memory|Aborted\(OOM\)|Invalid typed array length|could not allocate/i;

/** Whether `e` is an out-of-memory failure of the backend (wasm traps, allocation errors). */
export function isOutOfMemory(e: unknown): boolean {
  return e instanceof Error && (OOM_RE.test(e.message) || e instanceof RangeError &&
      /allocation|memory/i.test(e.message));
}
