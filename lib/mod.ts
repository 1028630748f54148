/**
 * rul-notebooks: Relative Uncertainty Learning (RUL) for facial expression recognition, in Deno +
 * TypeScript on TF.js. This index is the curated public API: what a notebook or a user script
 * needs (model, method, training, data, evaluation, figures, t-SNE, notebook helpers). Everything
 * else stays reachable by its module path (`lib/<part>/mod.ts` or the file itself); the layers
 * and where each formula lives are drawn in docs/architecture.md. `tests/mod_test.ts` lists the
 * exported names, so that growing this list is a decision.
 *
 * ```ts
 * import * as rul from "./lib/mod.ts";
 * await rul.initBackend();
 * const result = await rul.train({ config: rul.scaleConfig("quick"), out: "runs/quick" });
 * ```
 *
 * @module
 */

/** Backend: start TF.js (wasm, WebGPU, tfjs-node) and describe it. */
export { describeBackend, initBackend } from "./backend.ts";

/** The models: ResNet-18 + μ/σ heads (RUL) or + pooling/Linear (baseline), their outputs. */
export {
  createModel,
  DEFAULT_MODEL_CONFIG,
  disposeModelOutput,
  type EvalOutput,
  type FerModel,
  type ModelConfig,
  resolveModelConfig,
  type RulModel,
  type TrainForwardOptions,
  type TrainOutput,
} from "./model/mod.ts";

/** The method: its variants and the RUL training step with each of its formulas. */
export {
  addUpLoss,
  crossEntropy,
  differentLabelPairing,
  hardestDifferentLabelPairing,
  mixFeatures,
  mixWeights,
  type ModelKind,
  type PairingKind,
  pairingRng,
  permuteRows,
  perSampleCrossEntropy,
  randomPermutation,
  rulTrainingStep,
  uncertainty,
  type Variant,
  VARIANT_HELP,
  VARIANTS,
  variantSwitches,
} from "./rul/mod.ts";

/** Training: configuration, presets, the trainer, evaluation, weights and checkpoints. */
export {
  DEFAULT_TRAIN_CONFIG,
  defaultTrainStep,
  DEMO_CONFIG,
  type EpochInfo,
  type EvalResult,
  evaluateModel,
  exportTorchCheckpoint,
  loadCheckpoint,
  loadModel,
  loadRunData,
  loadWeights,
  mergeConfig,
  newRunFolder,
  perSampleLoss,
  QUICK_INIT,
  QUICK_PRESET,
  readLatestRun,
  resolveTrainConfig,
  sampleTableOf,
  saveModelCheckpoint,
  type StepContext,
  type StepInfo,
  type StepOutput,
  type StopInfo,
  type StopOptions,
  type StopReason,
  train,
  type TrainConfig,
  type TrainConfigInput,
  Trainer,
  type TrainerOptions,
  type TrainResult,
  type TrainStep,
} from "./train/mod.ts";

/**
 * The methods RUL is compared with, each as one pure training step tested against PyTorch: SCN
 * (importance weights, rank regularisation, relabelling) and EAC (flip consistency of the class
 * activation maps). Their models: `createModel({ kind: "scn" | "eac" })`, variants `scn`/`eac`.
 */
export { scnRelabel, scnTrainingStep } from "./scn/mod.ts";
export { eacTrainingStep } from "./eac/mod.ts";

/** Data: datasets (SynthFER, RAF-DB, image folders, Fashion-MNIST), noise, images. */
export {
  type Batch,
  BatchLoader,
  imageAt,
  type ImageDataset,
  loadFashionMnist,
  loadImageFolder,
  loadRafDb,
  synthFerSplits,
  withSymmetricNoise,
  writeRafDbLayout,
} from "./data/mod.ts";

/** Files: atomic writes, safetensors, PyTorch `.pth` weights as named tensors. */
export {
  readSafetensors,
  readWeightsFile,
  writeBytesAtomic,
  writeFileAtomic,
  writeSafetensors,
} from "./io/mod.ts";

/** Evaluation: metrics, AUROC, noisy-label detection by u, per-sample tables. */
export {
  accuracy,
  confusionMatrix,
  mostUncertain,
  noisyLabelDetection,
  perClassAccuracy,
  rocAuc,
  rocCurve,
  writeSampleTable,
} from "./eval/mod.ts";

/** Figures (Plotly): shown in Jupyter, exported to HTML/PNG/SVG. */
export {
  ablationBars,
  confusionHeatmap,
  embeddingScatter,
  exportFigure,
  type Figure,
  FigureRenderer,
  LiveTrainingCurves,
  seedBandPanels,
  seedBands,
  show,
  sideBySide,
  standaloneHtml,
  trainingCurves,
  uncertaintyByEpoch,
  uncertaintyEpochRun,
  uncertaintyGallery,
  uncertaintyHistogram,
} from "./plots/mod.ts";

/**
 * t-SNE of features (exact or Barnes-Hut, worker threads for the async form) and the measures of
 * a map that notebook 04 reports instead of reading it by eye: the map's leave-one-out kNN
 * accuracy and its trustworthiness.
 */
export { knnAccuracy, trustworthiness, tsne, tsneAsync } from "./tsne/mod.ts";

/** Paired t interval over matched seeds (RUL − baseline), as the demo and notebook 04 print. */
export { pairedTInterval } from "./eval/stats.ts";

/**
 * Notebook helpers: settings, scale presets and the effective configuration (preset first, the
 * user's cell last), ablation grids and their tables, the run registry (list and compare past
 * runs), t-SNE with progress, and checks that two computations agree.
 */
export {
  ablationEntries,
  ablationJobs,
  ablationMarkdown,
  ablationPlan,
  agreementScatter,
  assertClose,
  clusterOptions,
  compareRuns,
  describeNotebookConfig,
  gridCurves,
  listRuns,
  mixingMap,
  notebookConfig,
  notebookSettings,
  pairedDifferences,
  pairedMarkdown,
  perSampleBars,
  runAblation,
  runsMarkdown,
  scaleConfig,
  showGrid,
  summarizeAblation,
  tsneWithProgress,
} from "./notebook/mod.ts";

/**
 * Ablation grids as data, run in the kernel, as local processes or as Slurm job arrays
 * (`deno task grid`, docs/cluster.md): create, submit, watch, cancel, collect.
 */
export {
  cancelGrid,
  collectGrid,
  createGrid,
  gridStatus,
  loadGrid,
  runGridInProcess,
  statusLine,
  submitGrid,
  watchGrid,
} from "./grid/mod.ts";
