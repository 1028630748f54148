/**
 * EAC (Erasing Attention Consistency, Zhang et al., ECCV 2022), on this project's ResNet-18: its
 * training step after the backbone ({@link eacTrainingStep}: logits, class activation maps of the
 * images and their flips, flip-consistency loss, CE). The model is `createModel({ kind: "eac" })`;
 * the variant is `eac`.
 *
 * @module
 */
export * from "./step.ts";
