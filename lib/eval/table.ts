/**
 * The per-sample table of an evaluation (file, label, clean label, prediction, softmax,
 * uncertainty u, feature vector), written as CSV (csv-stringify) and JSON, atomically.
 *
 * @module
 */
import { stringify } from "csv-stringify/sync";
import * as path from "node:path";
import { writeFileAtomicSync as writeFileAtomic } from "../io/atomic_write.ts";

/** Per-sample results of one evaluation pass; arrays are indexed by sample. */
export interface SampleTable {
  /** Class names (length = number of classes). */
  classNames: string[];
  /** Source file (or synthetic id) of each sample. */
  files: string[];
  /** Label each sample was trained/evaluated with (possibly noisy). */
  labels: ArrayLike<number>;
  /** Clean label when known (e.g. synthetic noise); omit otherwise. */
  cleanLabels?: ArrayLike<number>;
  /** Predicted class. */
  predictions: ArrayLike<number>;
  /** Softmax probabilities, row-major `[n, classes]`. */
  softmax: ArrayLike<number>;
  /** Uncertainty u (RUL models); omit for the baseline. */
  u?: ArrayLike<number>;
  /** Feature vectors, row-major `[n, featureDim]` (RUL's μ, or the baseline's pooled feature). */
  features?: ArrayLike<number>;
  /** Feature dimension (required with `features`). */
  featureDim?: number;
}

function checkLengths(t: SampleTable): number {
  const n = t.files.length;
  const k = t.classNames.length;
  const want: [string, number, number][] = [
    ["labels", t.labels.length, n],
    ["predictions", t.predictions.length, n],
    ["softmax", t.softmax.length, n * k],
  ];
  if (t.cleanLabels) want.push(["cleanLabels", t.cleanLabels.length, n]);
  if (t.u) want.push(["u", t.u.length, n]);
  if (t.features) {
    if (!t.featureDim) throw new Error("SampleTable: features given without featureDim");
    want.push(["features", t.features.length, n * t.featureDim]);
  }
  for (const [name, got, exp] of want) {
    if (got !== exp) throw new Error(`SampleTable: ${name} has ${got} values, expected ${exp}`);
  }
  return n;
}

/** Column names of the CSV form of `t`. */
export function sampleTableColumns(t: SampleTable): string[] {
  const cols = ["index", "file", "label", "label_name"];
  if (t.cleanLabels) cols.push("clean_label", "flipped");
  cols.push("prediction", "prediction_name", "correct");
  cols.push(...t.classNames.map((c) => `p_${c}`));
  if (t.u) cols.push("u");
  if (t.features) { for (let j = 0; j < t.featureDim!; j++) cols.push(`f${j}`); }
  return cols;
}

/** Rows of the table as plain objects (JSON form: softmax and feature as arrays). */
export function sampleTableRows(t: SampleTable): Record<string, unknown>[] {
  const n = checkLengths(t);
  const k = t.classNames.length;
  const d = t.featureDim ?? 0;
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const r: Record<string, unknown> = {
      index: i,
      file: t.files[i],
      label: t.labels[i],
      label_name: t.classNames[t.labels[i]],
    };
    if (t.cleanLabels) {
      r.clean_label = t.cleanLabels[i];
      r.flipped = t.cleanLabels[i] !== t.labels[i];
    }
    r.prediction = t.predictions[i];
    r.prediction_name = t.classNames[t.predictions[i]];
    r.correct = t.predictions[i] === t.labels[i];
    r.softmax = Array.from({ length: k }, (_, j) => t.softmax[i * k + j]);
    if (t.u) r.u = t.u[i];
    if (t.features) r.feature = Array.from({ length: d }, (_, j) => t.features![i * d + j]);
    rows.push(r);
  }
  return rows;
}

/** The table as CSV text (one row per sample; softmax and features spread over columns). */
export function sampleTableCsv(t: SampleTable): string {
  const cols = sampleTableColumns(t);
  const records = sampleTableRows(t).map((r) => {
    const flat: unknown[] = [r.index, r.file, r.label, r.label_name];
    if (t.cleanLabels) flat.push(r.clean_label, r.flipped ? 1 : 0);
    flat.push(r.prediction, r.prediction_name, r.correct ? 1 : 0);
    flat.push(...(r.softmax as number[]));
    if (t.u) flat.push(r.u);
    if (t.features) flat.push(...(r.feature as number[]));
    return flat;
  });
  return stringify(records, { header: true, columns: cols });
}

/**
 * Write `<dir>/<name>.csv` and `<dir>/<name>.json` (`{classNames, rows}`) atomically and return
 * their paths.
 */
export function writeSampleTable(
  dir: string,
  t: SampleTable,
  name = "samples",
): { csv: string; json: string } {
  const csv = path.join(dir, `${name}.csv`);
  const json = path.join(dir, `${name}.json`);
  writeFileAtomic(csv, sampleTableCsv(t));
  writeFileAtomic(json, JSON.stringify({ classNames: t.classNames, rows: sampleTableRows(t) }));
  return { csv, json };
}
