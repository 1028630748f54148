/**
 * Model configuration: which model, input size, classes, feature dimension, dropout and the RUL
 * variants, with the official defaults.
 *
 * @module
 */

import {
  ADD_UP_WEIGHTINGS,
  MODEL_KINDS,
  type ModelKind,
  PAIRINGS,
  type RulSwitches,
  variantSwitches,
} from "../rul/variants.ts";

/** Every option of a model (see {@link resolveModelConfig} for the defaults). */
export interface ModelConfig extends RulSwitches {
  /** Which network ({@link MODEL_KINDS}: RUL, baseline, SCN, EAC). */
  kind: ModelKind;
  /** Square input size in pixels (224 in the paper); the heads' flatten size follows from it. */
  inputSize: number;
  /** Number of classes (7 for RAF-DB). */
  numClasses: number;
  /** RUL feature dimension (64). Ignored by the baseline. */
  featureDim: number;
  /** Dropout rate inside the RUL heads (0.4). Ignored by the baseline. */
  dropout: number;
  /** Channel widths of the four ResNet stages ([64,128,256,512] = ResNet-18; smaller for tests). */
  widths: [number, number, number, number];
  /** Seed of the weight initialisation and of the model's own pairing/dropout randomness. */
  seed: number;
}

/** The official RUL defaults (RAF-DB, 224 px; the switches of the variant `rul`). */
export const DEFAULT_MODEL_CONFIG: Readonly<ModelConfig> = Object.freeze({
  ...variantSwitches("rul"),
  inputSize: 224,
  numClasses: 7,
  featureDim: 64,
  dropout: 0.4,
  widths: [64, 128, 256, 512],
  seed: 0,
}) as Readonly<ModelConfig>;

/** Fill missing options with {@link DEFAULT_MODEL_CONFIG} and validate every value. */
export function resolveModelConfig(partial: Partial<ModelConfig> = {}): ModelConfig {
  const c: ModelConfig = {
    ...DEFAULT_MODEL_CONFIG,
    ...partial,
    widths: [...(partial.widths ?? DEFAULT_MODEL_CONFIG.widths)] as ModelConfig["widths"],
  };
  const bad = (k: string, v: unknown, why: string) =>
    new Error(`model config: ${k} = ${JSON.stringify(v)} is invalid (${why})`);
  if (!MODEL_KINDS.includes(c.kind)) throw bad("kind", c.kind, MODEL_KINDS.join(" | "));
  if (!Number.isInteger(c.inputSize) || c.inputSize < 32) {
    throw bad("inputSize", c.inputSize, "integer >= 32");
  }
  if (!Number.isInteger(c.numClasses) || c.numClasses < 2) {
    throw bad("numClasses", c.numClasses, "integer >= 2");
  }
  if (!Number.isInteger(c.featureDim) || c.featureDim < 1) {
    throw bad("featureDim", c.featureDim, "integer >= 1");
  }
  if (!(c.dropout >= 0 && c.dropout < 1)) throw bad("dropout", c.dropout, "0 <= p < 1");
  if (c.widths.length !== 4 || c.widths.some((w) => !Number.isInteger(w) || w < 1)) {
    throw bad("widths", c.widths, "four positive integers");
  }
  if (!PAIRINGS.includes(c.pairing)) throw bad("pairing", c.pairing, PAIRINGS.join(" | "));
  if (!ADD_UP_WEIGHTINGS.includes(c.addUpWeighting)) {
    throw bad("addUpWeighting", c.addUpWeighting, ADD_UP_WEIGHTINGS.join(" | "));
  }
  if (!Number.isInteger(c.seed)) throw bad("seed", c.seed, "integer");
  return c;
}

/** Output size of a convolution/pooling along one axis (PyTorch's floor formula). */
export function spatialOutSize(n: number, k: number, stride: number, pad: number): number {
  return Math.floor((n + 2 * pad - k) / stride) + 1;
}

/** Shape [H, W, C] of the ResNet-18 feature map (before pooling) for a square input. */
export function backboneOutputShape(
  inputSize: number,
  widths: readonly number[] = DEFAULT_MODEL_CONFIG.widths,
): [number, number, number] {
  let s = spatialOutSize(inputSize, 7, 2, 3); // conv1
  s = spatialOutSize(s, 3, 2, 1); // maxpool
  for (let i = 1; i < 4; i++) s = spatialOutSize(s, 3, 2, 1); // stride-2 stages 2-4
  return [s, s, widths[3]];
}
