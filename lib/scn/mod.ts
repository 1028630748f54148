/**
 * SCN (Self-Cure Network, Wang et al., CVPR 2020), one of the methods RUL is compared with: its
 * training step after the backbone ({@link scnTrainingStep}: importance α, weighted logits, rank
 * regularisation, CE), its relabelling rule ({@link scnRelabel}) and the trainer's label table
 * ({@link RelabelTable}). The model is `createModel({ kind: "scn" })`; the variant is `scn`.
 *
 * @module
 */
export * from "./step.ts";
export * from "./label_table.ts";
