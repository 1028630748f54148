/**
 * Plotly figures for RUL results (paper defaults), Jupyter display under the Deno kernel, and
 * static PNG/SVG/PDF export through headless Chromium.
 *
 * @example
 * ```ts
 * import { embeddingScatter, exportFigure, show } from "./mod.ts";
 * const fig = embeddingScatter(new Float64Array([0, 0, 1, 1]), [0, 3]);
 * show(fig); // as the last expression of a notebook cell: renders the chart
 * await exportFigure(fig, "tsne.pdf");
 * ```
 *
 * @module
 */
export {
  assertFinite,
  className,
  colorAt,
  type Figure,
  OKABE_ITO,
  PAPER_FONT_SIZE,
  paperAxis,
  paperLayout,
  RAF_DB_CLASS_NAMES,
  type Trace,
} from "./figure.ts";
export { embeddingScatter, type ScatterOptions } from "./scatter.ts";
export { type CurveOptions, type CurveRun, trainingCurves } from "./curves.ts";
export {
  epochLines,
  type EpochLinesOptions,
  type EpochSeries,
  type UMode,
  uncertaintyByEpoch,
  type UncertaintyEpochRun,
  uncertaintyEpochRun,
} from "./epochs.ts";
export {
  type BandGroup,
  bandGroups,
  type BandKind,
  type BandMetric,
  type BandPanel,
  type BandStats,
  bandStats,
  EPOCH_BAND_METRICS,
  noiseBandFigures,
  type NoisyRunRecords,
  seedBandPanels,
  seedBands,
  type SeedBandsOptions,
  type SeedCurve,
  type SeedRecords,
  variantColor,
} from "./bands.ts";
export { confusionCounts, confusionHeatmap, type ConfusionOptions } from "./confusion.ts";
export { type HistogramOptions, uncertaintyHistogram } from "./histogram.ts";
export {
  type GalleryImage,
  type GalleryOptions,
  type GallerySample,
  imageToDataUri,
  uncertaintyGallery,
} from "./gallery.ts";
export { ablationBars, type AblationEntry, type AblationOptions, meanStd } from "./ablation.ts";
export {
  figureHtml,
  type FigureHtmlOptions,
  figureTitle,
  newFigureId,
  NOTEBOOK_ASSETS_DIR,
  notebookPlotlyFile,
  plotlyJsPath,
  plotlyJsSource,
  plotlyJsVersion,
  plotlyLoaderHtml,
  scriptJson,
  standaloneHtml,
} from "./html.ts";
export {
  type BundleOptions,
  closeStaticRenderer,
  type DisplayableFigure,
  displayFigure,
  type DisplayTarget,
  ensureNotebookPlotly,
  figureBundle,
  figureBundleWithImage,
  inJupyter,
  JUPYTER_DISPLAY,
  kernelNotebookDirs,
  LiveFigure,
  type LiveFigureOptions,
  type MimeBundle,
  setDisplayTarget,
  setStaticRenderer,
  show,
  type StaticRenderer,
} from "./jupyter.ts";
export { type EpochReport, LiveTrainingCurves } from "./live_curves.ts";
export { sideBySide, type SideBySideOptions } from "./side_by_side.ts";
export {
  chromiumArgs,
  exportFigure,
  type ExportOptions,
  FigureRenderer,
  figureToImage,
  findChromium,
  formatFromPath,
  type ImageFormat,
} from "./export.ts";
