/**
 * Factory for the models.
 *
 * @module
 */
import { type ModelConfig, resolveModelConfig } from "./config.ts";
import type { FerModel } from "./types.ts";
import { RulModel } from "./rul_model.ts";
import { BaselineModel } from "./baseline.ts";
import { ScnModel } from "./scn_model.ts";
import { EacModel } from "./eac_model.ts";

/** The model class of each kind. */
const MODELS = {
  rul: RulModel,
  baseline: BaselineModel,
  scn: ScnModel,
  eac: EacModel,
} as const;

/**
 * Build a model from (partial) options; missing options take the official defaults
 * (RUL, 224 px, 7 classes, D = 64, dropout 0.4, random pairing, 0.5/0.5 add-up loss).
 * Weights are freshly initialised (PyTorch's schemes, seeded by `config.seed`).
 */
export function createModel(config: Partial<ModelConfig> = {}): FerModel {
  const c = resolveModelConfig(config);
  return new MODELS[c.kind](c);
}
