/**
 * A small run registry over run folders: list the runs under a folder (every run folder has
 * `config.json` and `metrics.jsonl`, see lib/train/run_folder.ts; `run.json` and `stopped.json`
 * when present), tabulate them and overlay their training curves and final metrics in one figure,
 * so a notebook cell can compare the settings it tried.
 *
 * ```ts
 * const runs = listRuns(`${OUT}/runs`);
 * console.log(runsMarkdown(runs));
 * show(compareRuns(runs));
 * ```
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { trainingCurves } from "../plots/curves.ts";
import { colorAt, type Figure, paperAxis } from "../plots/figure.ts";

/** One metrics record as read back from `metrics.jsonl`. */
export type RunMetrics = Record<string, number | string | boolean | null>;

/** A past run, read from its folder. */
export interface RunRecord {
  /** The run folder. */
  dir: string;
  /** Its name (the folder's name). */
  name: string;
  /** When the run started (ISO; from `run.json`, else the folder's mtime). */
  created: string;
  /** Variant trained (from `config.json`). */
  variant: string;
  /** The saved configuration (`config.json`), or null when unreadable. */
  config: Record<string, unknown> | null;
  /** Per-epoch metrics in order (`metrics.jsonl`). */
  records: RunMetrics[];
  /** Epochs completed. */
  epochs: number;
  /** Epochs asked for (config), or null. */
  plannedEpochs: number | null;
  /** Highest test accuracy over the epochs and its epoch, or null before the first epoch. */
  best: { acc: number; epoch: number } | null;
  /** Test accuracy of the last completed epoch, or null. */
  lastTestAcc: number | null;
  /** How the run stopped early (`stopped.json`), or null. */
  stopped: { reason: string; epoch: number; step: number } | null;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

/** Reads `metrics.jsonl`, skipping a torn last line (a run killed while writing). */
function readMetrics(file: string): RunMetrics[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: RunMetrics[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // A partial line from an interrupted write: the complete records before it still count.
    }
  }
  return out;
}

/** Reads one run folder; null when `dir` holds no run (no `config.json` nor `metrics.jsonl`). */
export function readRun(dir: string): RunRecord | null {
  const cfgFile = path.join(dir, "config.json"), metricsFile = path.join(dir, "metrics.jsonl");
  if (!fs.existsSync(cfgFile) && !fs.existsSync(metricsFile)) return null;
  const config = readJson(cfgFile) as Record<string, unknown> | null;
  const info = readJson(path.join(dir, "run.json")) as { created?: string } | null;
  const records = readMetrics(metricsFile);
  let best: RunRecord["best"] = null;
  for (const r of records) {
    const acc = Number(r.test_acc);
    if (Number.isFinite(acc) && (!best || acc > best.acc)) best = { acc, epoch: Number(r.epoch) };
  }
  const last = records.at(-1);
  const stoppedJson = readJson(path.join(dir, "stopped.json")) as RunRecord["stopped"];
  const epochs = last ? Number(last.epoch) : 0;
  return {
    dir,
    name: path.basename(dir),
    created: info?.created ?? fs.statSync(dir).mtime.toISOString(),
    variant: String(config?.variant ?? "?"),
    config,
    records,
    epochs,
    plannedEpochs: typeof config?.epochs === "number" ? config.epochs : null,
    best,
    lastTestAcc: last && Number.isFinite(Number(last.test_acc)) ? Number(last.test_acc) : null,
    // A stop recorded before the last completed epoch belongs to an earlier, resumed attempt.
    stopped: stoppedJson && stoppedJson.epoch > epochs ? stoppedJson : null,
  };
}

/**
 * The runs under `root` (the folder itself when it is a run folder, else its sub-folders, down
 * to `depth` levels), oldest first. Symbolic links (such as the `latest` pointer) are skipped, so
 * no run is listed twice.
 *
 * @param root a runs folder (e.g. `${OUT}/runs`).
 * @param options `depth`: levels of sub-folders searched (default 2).
 */
export function listRuns(root: string, options: { depth?: number } = {}): RunRecord[] {
  const out: RunRecord[] = [];
  const visit = (dir: string, depth: number) => {
    const run = readRun(dir);
    if (run) {
      out.push(run);
      return;
    }
    if (depth <= 0) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith(".")) visit(path.join(dir, e.name), depth - 1);
    }
  };
  visit(root, options.depth ?? 2);
  return out.sort((a, b) => a.created.localeCompare(b.created) || a.dir.localeCompare(b.dir));
}

const pct = (
  v: number | null | undefined,
) => (v === null || v === undefined ? "–" : (100 * v).toFixed(2));

/** The runs as a Markdown table: epochs done, best-epoch and last-epoch test accuracy, status. */
export function runsMarkdown(runs: readonly RunRecord[]): string {
  const rows = runs.map((r, i) => {
    const status = r.stopped
      ? `stopped (${r.stopped.reason}) in epoch ${r.stopped.epoch}, step ${r.stopped.step}`
      : r.plannedEpochs !== null && r.epochs < r.plannedEpochs
      ? "incomplete"
      : "done";
    const best = r.best ? `${pct(r.best.acc)} (ep ${r.best.epoch})` : "–";
    const planned = r.plannedEpochs ?? "?";
    return `| ${i + 1} | ${r.name} | ${r.variant} | ${r.epochs}/${planned} | ${best} | ` +
      `${pct(r.lastTestAcc)} | ${status} |`;
  });
  return [
    "| # | run | variant | epochs | best-epoch test acc % | last-epoch test acc % | status |",
    "| ---: | --- | --- | ---: | ---: | ---: | --- |",
    ...rows,
  ].join("\n");
}

/** Options of {@link compareRuns}. */
export interface CompareOptions {
  /** Figure title. */
  title?: string;
  /** Legend label of a run (default `#<n> <folder name>`). */
  label?: (run: RunRecord, index: number) => string;
  /** Figure width in px (default 900). */
  width?: number;
}

/**
 * One figure comparing runs: training loss and test accuracy per epoch overlaid (top), and each
 * run's best-epoch and last-epoch test accuracy as bars (bottom), one colour per run.
 *
 * @throws Error when no run has a completed epoch.
 */
export function compareRuns(runs: readonly RunRecord[], options: CompareOptions = {}): Figure {
  const label = options.label ?? ((r: RunRecord, i: number) => `#${i + 1} ${r.name}`);
  const withData = runs.filter((r) => r.records.length > 0);
  if (withData.length === 0) throw new Error("compareRuns: no run has a completed epoch yet");
  const num = (v: unknown) => (Number.isFinite(Number(v)) ? Number(v) : NaN);
  const names = withData.map((r) => label(r, runs.indexOf(r)));
  const curves = trainingCurves(
    withData.map((r, i) => {
      const acc = r.records.filter((m) => Number.isFinite(num(m.test_acc)));
      const loss = r.records.filter((m) => Number.isFinite(num(m.train_loss)));
      return {
        name: names[i],
        epochs: loss.map((m) => num(m.epoch)),
        loss: loss.map((m) => num(m.train_loss)),
        testAccuracyEpochs: acc.map((m) => num(m.epoch)),
        testAccuracy: acc.map((m) => num(m.test_acc)),
      };
    }),
  );
  // Bars: x = run number, grouped best vs last; colours per run, patterns per metric.
  const xs = withData.map((r) => `#${runs.indexOf(r) + 1}`);
  const colors = withData.map((_, i) => colorAt(i));
  const bars = [
    {
      type: "bar",
      name: "best epoch",
      x: xs,
      y: withData.map((r) => r.best?.acc ?? null),
      marker: { color: colors, line: { color: "#000", width: 1 } },
      text: withData.map((r) => (r.best ? `${pct(r.best.acc)} (ep ${r.best.epoch})` : "")),
      textposition: "outside",
      cliponaxis: false,
      xaxis: "x3",
      yaxis: "y3",
      showlegend: false,
      hovertemplate: "%{x} best epoch: %{y:.4f}<extra></extra>",
    },
    {
      type: "bar",
      name: "last epoch",
      x: xs,
      y: withData.map((r) => r.lastTestAcc),
      marker: { color: colors, pattern: { shape: "/" }, line: { color: "#000", width: 1 } },
      text: withData.map((r) => pct(r.lastTestAcc)),
      textposition: "outside",
      cliponaxis: false,
      xaxis: "x3",
      yaxis: "y3",
      showlegend: false,
      hovertemplate: "%{x} last epoch: %{y:.4f}<extra></extra>",
    },
  ];
  const accs = withData.flatMap((r) => [r.best?.acc, r.lastTestAcc]).filter((v) =>
    typeof v === "number"
  ) as number[];
  const lo = Math.max(0, Math.min(...accs) - 0.05), hi = Math.min(1, Math.max(...accs) + 0.04);
  const layout = curves.layout as Record<string, unknown>;
  const ax = (k: string) => layout[k] as Record<string, unknown>;
  return {
    data: [...curves.data, ...bars],
    layout: {
      ...layout,
      ...(options.title ? { title: { text: options.title } } : {}),
      width: options.width ?? 900,
      height: 760,
      yaxis: { ...ax("yaxis"), domain: [0.5, 1] },
      yaxis2: { ...ax("yaxis2"), domain: [0.5, 1] },
      xaxis3: paperAxis("run (solid: best epoch, hatched: last epoch)", {
        anchor: "y3",
        domain: [0, 1],
        type: "category",
      }),
      yaxis3: paperAxis("test accuracy", { anchor: "x3", domain: [0, 0.3], range: [lo, hi] }),
      barmode: "group",
      legend: { orientation: "h", y: 0.4, x: 0.5, xanchor: "center", yanchor: "top" },
      margin: { l: 70, r: 20, t: options.title ? 60 : 30, b: 60 },
    },
  };
}
