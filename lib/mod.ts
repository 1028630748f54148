/**
 * rul-notebooks: Relative Uncertainty Learning (RUL) for facial expression recognition,
 * in Deno + TypeScript on TF.js. This index re-exports the public API of every sub-module.
 *
 * @module
 */
export * from "./backend.ts";
export * from "./engine/mod.ts";
export * from "./model/mod.ts";
export * from "./rul/mod.ts";
export * from "./io/mod.ts";
export * from "./data/mod.ts";
export * from "./train/mod.ts";
export * from "./eval/mod.ts";
export * from "./tsne/mod.ts";
export * from "./plots/mod.ts";
export * from "./notebook/mod.ts";
export * from "./grid/mod.ts";
