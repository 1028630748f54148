/**
 * Multi-seed curves as a paper prints them: each variant's mean over seeds as one bold line with a
 * shaded band (± sample s.d., or the 95 % t interval of the mean), the individual seeds as thin,
 * faint lines of the same colour, and one fixed colour per variant (baseline vermillion, RUL blue,
 * the other variants the rest of the Okabe-Ito palette), so that baseline vs RUL read at a glance.
 * Every multi-seed figure of the project (the demo's memorisation and u-by-epoch figures, the
 * real-data benchmark's curves, notebook 03's curves) is built here.
 *
 * @module
 */
import { meanStd } from "./ablation.ts";
import { assertFinite, epochPanel, type Figure, OKABE_ITO, type Trace } from "./figure.ts";
import { sideBySide } from "./side_by_side.ts";
import { studentTQuantile } from "../eval/stats.ts";

/** One seed's curve. */
export interface SeedCurve {
  /** Seed (or any label), shown on hover. */
  seed: number | string;
  /** Epoch numbers. */
  epochs: ArrayLike<number>;
  /** One value per epoch. */
  values: ArrayLike<number>;
}

/** One variant (or group) of a {@link seedBands} panel: its seeds' curves. */
export interface BandGroup {
  /** Legend name, e.g. "baseline" or "rul". */
  name: string;
  /** One curve per seed (at least one). */
  seeds: readonly SeedCurve[];
  /** Colour (CSS hex `#rrggbb`); default {@link variantColor} of the name. */
  color?: string;
  /** Dash style of the mean line: `solid` (default), `dash`, `dot`. */
  dash?: "solid" | "dash" | "dot";
}

/** The mean ± band of a group, per epoch (what {@link seedBands} draws). */
export interface BandStats {
  /** Epochs, ascending: every epoch at which at least one seed has a value. */
  epochs: number[];
  /** Seeds with a value at each epoch. */
  n: number[];
  /** Mean over those seeds. */
  mean: number[];
  /** Sample standard deviation (n − 1; 0 for one seed). */
  sd: number[];
  /** Lower edge of the band. */
  lower: number[];
  /** Upper edge of the band. */
  upper: number[];
}

/** What the band shows: ± one sample s.d. (default) or the 95 % t interval of the mean. */
export type BandKind = "sd" | "ci95";

/**
 * Mean, sample s.d. and band edges per epoch over the seeds of a group (`sd`: mean ± s.d.;
 * `ci95`: mean ± t₀.₉₇₅,ₙ₋₁ · s.d./√n, no width for one seed).
 * @throws Error when there is no seed, a value is not finite or a curve's lengths differ
 */
export function bandStats(seeds: readonly SeedCurve[], band: BandKind = "sd"): BandStats {
  if (seeds.length === 0) throw new Error("bandStats: no seed curves given");
  const byEpoch = new Map<number, number[]>();
  for (const s of seeds) {
    assertFinite(s.values, `bandStats seed ${s.seed}`);
    if (s.epochs.length !== s.values.length) {
      throw new Error(
        `bandStats seed ${s.seed}: ${s.epochs.length} epochs but ${s.values.length} values`,
      );
    }
    for (let k = 0; k < s.epochs.length; k++) {
      const list = byEpoch.get(s.epochs[k]) ?? [];
      list.push(s.values[k]);
      byEpoch.set(s.epochs[k], list);
    }
  }
  const out: BandStats = { epochs: [], n: [], mean: [], sd: [], lower: [], upper: [] };
  for (const e of [...byEpoch.keys()].sort((a, b) => a - b)) {
    const xs = byEpoch.get(e)!;
    const { mean, std } = meanStd(xs);
    const half = band === "sd"
      ? std
      : xs.length > 1
      ? studentTQuantile(0.975, xs.length - 1) * std / Math.sqrt(xs.length)
      : 0;
    out.epochs.push(e);
    out.n.push(xs.length);
    out.mean.push(mean);
    out.sd.push(std);
    out.lower.push(mean - half);
    out.upper.push(mean + half);
  }
  return out;
}

/** Fixed colours of the variants (colour-blind safe): baseline vermillion, RUL blue. */
const VARIANT_COLORS: Record<string, string> = {
  baseline: OKABE_ITO[5],
  rul: OKABE_ITO[4],
};
const OTHER_COLORS = [OKABE_ITO[2], OKABE_ITO[6], OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[7]];

/**
 * The colour of a variant: baseline vermillion and RUL blue always; any other name the
 * `index`-th of the remaining palette (green, reddish purple, orange, sky blue, grey).
 */
export function variantColor(name: string, index = 0): string {
  return VARIANT_COLORS[name.toLowerCase()] ??
    OTHER_COLORS[((index % OTHER_COLORS.length) + OTHER_COLORS.length) % OTHER_COLORS.length];
}

/** `#rrggbb` at opacity `alpha` as `rgba(...)`. */
function rgba(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`seedBands: colour "${hex}" is not #rrggbb`);
  const [r, g, b] = [m[1], m[2], m[3]].map((h) => parseInt(h, 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** Options of {@link seedBands}. */
export interface SeedBandsOptions {
  /** y-axis label. */
  yLabel: string;
  /** Panel title. */
  title?: string;
  /** Band: ± s.d. over seeds (`sd`, default) or the 95 % t interval of the mean (`ci95`). */
  band?: BandKind;
  /** Draw each seed as a thin faint line (default true). */
  showSeeds?: boolean;
  /** A dotted grey reference line at this y (e.g. 0.5 = chance for an AUROC), with its name. */
  reference?: { y: number; name: string };
}

/**
 * One panel: per group, the seeds' curves thin and faint, the band (mean ± s.d. or the 95 %
 * interval) shaded and the mean over seeds bold, all in the group's colour; legend entries
 * "<name> (mean ± s.d., n seeds)". Combine panels with {@link sideBySide}.
 * @throws Error when no group is given, a group has no seed, or a value is not finite
 */
export function seedBands(groups: readonly BandGroup[], options: SeedBandsOptions): Figure {
  if (groups.length === 0) throw new Error("seedBands: no groups given");
  const band = options.band ?? "sd";
  const data: Trace[] = [];
  let lo = Infinity, hi = -Infinity;
  let others = 0;
  for (const g of groups) {
    const stats = bandStats(g.seeds, band);
    const known = g.name.toLowerCase() in VARIANT_COLORS;
    const color = g.color ?? variantColor(g.name, known ? 0 : others++);
    const nSeeds = g.seeds.length;
    const label = nSeeds === 1
      ? g.name
      : `${g.name} (mean ${band === "sd" ? "± s.d." : "and 95 % interval"}, ${nSeeds} seeds)`;
    lo = Math.min(lo, stats.epochs[0]);
    hi = Math.max(hi, stats.epochs[stats.epochs.length - 1]);
    if (nSeeds > 1 && options.showSeeds !== false) {
      for (const s of g.seeds) {
        data.push({
          type: "scatter",
          mode: "lines",
          name: `${g.name} seed ${s.seed}`,
          legendgroup: g.name,
          showlegend: false,
          x: Array.from(s.epochs),
          y: Array.from(s.values),
          line: { color: rgba(color, 0.35), width: 1 },
          hovertemplate: `${g.name} seed ${s.seed}: %{y:.4f}<extra></extra>`,
        });
      }
    }
    // the band as one closed polygon: upper edge left to right, lower edge back
    if (nSeeds > 1) {
      data.push({
        type: "scatter",
        mode: "lines",
        name: `${g.name} band`,
        legendgroup: g.name,
        showlegend: false,
        x: [...stats.epochs, ...[...stats.epochs].reverse()],
        y: [...stats.upper, ...[...stats.lower].reverse()],
        fill: "toself",
        fillcolor: rgba(color, 0.18),
        line: { color: "rgba(0, 0, 0, 0)", width: 0 },
        hoverinfo: "skip",
      });
    }
    data.push({
      type: "scatter",
      mode: "lines+markers",
      name: label,
      legendgroup: g.name,
      x: stats.epochs,
      y: stats.mean,
      line: { color, width: 3, dash: g.dash ?? "solid" },
      marker: { color, size: 6 },
      customdata: stats.sd,
      hovertemplate: `${g.name}: %{y:.4f} ± %{customdata:.4f}<extra></extra>`,
    });
  }
  return epochPanel(data, lo, hi, options);
}

/** One panel of {@link seedBandPanels}: groups, axis label and panel title. */
export interface BandPanel extends SeedBandsOptions {
  /** The groups of this panel. */
  groups: readonly BandGroup[];
}

/**
 * Several {@link seedBands} panels side by side (one legend: a group's entry is shown once).
 */
export function seedBandPanels(
  panels: readonly BandPanel[],
  options: { title?: string; width?: number; height?: number } = {},
): Figure {
  if (panels.length === 0) throw new Error("seedBandPanels: no panels given");
  return sideBySide(panels.map((p) => seedBands(p.groups, p)), {
    title: options.title,
    titles: panels.map((p) => p.title ?? ""),
    width: options.width ?? (panels.length > 1 ? 520 * panels.length : 640),
    height: options.height ?? 480,
    gap: 0.12,
  });
}

/** One run's per-epoch records, tagged with its group (variant) and seed, for {@link bandGroups}. */
export interface SeedRecords {
  /** Group (variant) name. */
  group: string;
  /** Seed. */
  seed: number | string;
  /** Per-epoch records (e.g. the trainer's metrics: `epoch` and the metric by name). */
  records: readonly Record<string, unknown>[];
}

/**
 * The {@link BandGroup}s of one metric over runs: one group per distinct `group`, in order of first
 * appearance, one curve per run from its records' `epoch` and `key` (epochs where the value is
 * missing or not finite are left out; a run without any value is skipped, and a group without any
 * run too).
 */
export function bandGroups(runs: readonly SeedRecords[], key: string): BandGroup[] {
  const groups = new Map<string, SeedCurve[]>();
  for (const r of runs) {
    const rows = r.records.filter((x) => typeof x[key] === "number" && Number.isFinite(x[key]));
    if (rows.length === 0) continue;
    const list = groups.get(r.group) ?? [];
    list.push({
      seed: r.seed,
      epochs: rows.map((x) => Number(x.epoch)),
      values: rows.map((x) => x[key] as number),
    });
    groups.set(r.group, list);
  }
  return [...groups].map(([name, seeds]) => ({ name, seeds }));
}

/** One metric panel of {@link noiseBandFigures}: record key, axis label, optional reference. */
export interface BandMetric {
  /** Key in the per-epoch records, e.g. `test_acc`. */
  key: string;
  /** Axis label and panel title. */
  label: string;
  /** A dotted reference line (e.g. chance for an AUROC). */
  reference?: { y: number; name: string };
}

/**
 * The default panels of {@link noiseBandFigures}: test accuracy, the eval-mode fit of the flipped
 * labels and the eval-mode AUROC of u for them (the trainer's `test_acc`, `eval_acc_flipped` and
 * `eval_u_auroc_noisy`, logged with `auditEachEpoch`).
 */
export const EPOCH_BAND_METRICS: readonly BandMetric[] = Object.freeze([
  { key: "test_acc", label: "test accuracy" },
  { key: "eval_acc_flipped", label: "fit of flipped labels (eval mode)" },
  {
    key: "eval_u_auroc_noisy",
    label: "AUROC of u for flipped labels (eval mode)",
    reference: { y: 0.5, name: "chance" },
  },
]);

/** A run of a noisy-label grid or benchmark for {@link noiseBandFigures}. */
export interface NoisyRunRecords extends SeedRecords {
  /** Fraction of training labels flipped. */
  noise: number;
}

/**
 * Per noise rate, one figure of the runs' per-epoch metrics side by side (default
 * {@link EPOCH_BAND_METRICS}), each variant as its mean over seeds with a ± s.d. band and its seeds
 * thin and faint ({@link seedBands}); a panel without any value at that noise rate (no flipped
 * label at 0 %, no u for a model without σ head) is left out. Used by notebook 03
 * (`gridCurves`) and the real-data benchmark (bench/noisy.ts).
 */
export function noiseBandFigures(
  runs: readonly NoisyRunRecords[],
  options: { metrics?: readonly BandMetric[]; title?: string; band?: BandKind } = {},
): { noise: number; figure: Figure }[] {
  const noises = [...new Set(runs.map((r) => r.noise))].sort((a, b) => a - b);
  const out: { noise: number; figure: Figure }[] = [];
  for (const noise of noises) {
    const at = runs.filter((r) => r.noise === noise);
    const panels = (options.metrics ?? EPOCH_BAND_METRICS).flatMap((m) => {
      const groups = bandGroups(at, m.key);
      return groups.length
        ? [{ groups, yLabel: m.label, title: m.label, reference: m.reference, band: options.band }]
        : [];
    });
    if (panels.length === 0) continue;
    const seeds = new Set(at.map((r) => r.seed)).size;
    const what = options.band === "ci95" ? "mean and 95 % interval" : "mean ± s.d.";
    out.push({
      noise,
      figure: seedBandPanels(panels, {
        title: `${options.title ? `${options.title}, ` : ""}${Math.round(100 * noise)} % ` +
          `label noise (${what} over ${seeds} seed${seeds === 1 ? "" : "s"})`,
        height: 500,
      }),
    });
  }
  return out;
}
