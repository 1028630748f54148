// seedBands / bandStats: each variant's mean over seeds with a band, the seeds thin and faint,
// baseline and RUL in their own colours; the traces checked against values computed by hand, and
// a PNG export checked for both variants' colours (when Chromium is installed).
import {
  bandGroups,
  bandStats,
  FigureRenderer,
  findChromium,
  noiseBandFigures,
  OKABE_ITO,
  seedBandPanels,
  seedBands,
  variantColor,
} from "../../lib/plots/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { countColor, decodePng, hexRgb } from "./pixels.ts";

const close = (a: readonly number[], b: readonly number[], what: string) => {
  assertEquals(a.length, b.length, `${what}: length`);
  a.forEach((v, i) => assert(Math.abs(v - b[i]) < 1e-12, `${what}[${i}]: ${v} vs ${b[i]}`));
};

// three seeds; seed 2 stopped after epoch 2, seed 0 has an epoch 3 the others lack
const SEEDS = [
  { seed: 0, epochs: [1, 2, 3], values: [1, 2, 7] },
  { seed: 1, epochs: [1, 2], values: [3, 2] },
  { seed: 2, epochs: [1, 2], values: [5, 8] },
];

Deno.test("bandStats: mean, sample s.d. and band edges per epoch, by hand", () => {
  const s = bandStats(SEEDS);
  // epoch 1: {1, 3, 5}: mean 3, s.d. √((4 + 0 + 4) / 2) = 2
  // epoch 2: {2, 2, 8}: mean 4, s.d. √((4 + 4 + 16) / 2) = √12
  // epoch 3: {7}: mean 7, s.d. 0
  assertEquals(s.epochs, [1, 2, 3]);
  assertEquals(s.n, [3, 3, 1]);
  close(s.mean, [3, 4, 7], "mean");
  close(s.sd, [2, Math.sqrt(12), 0], "sd");
  close(s.lower, [1, 4 - Math.sqrt(12), 7], "lower");
  close(s.upper, [5, 4 + Math.sqrt(12), 7], "upper");
  // 95 % t interval of the mean, t₀.₉₇₅,₂ = 4.302652729911275 (tables)
  const c = bandStats(SEEDS, "ci95");
  const h = [4.302652729911275 * 2 / Math.sqrt(3), 4.302652729911275 * Math.sqrt(12 / 3), 0];
  c.upper.forEach((v, i) => assert(Math.abs(v - (c.mean[i] + h[i])) < 1e-7, `ci upper ${i}`));
  c.lower.forEach((v, i) => assert(Math.abs(v - (c.mean[i] - h[i])) < 1e-7, `ci lower ${i}`));
});

Deno.test("seedBands: mean bold, band shaded, seeds thin and faint, one colour per variant", () => {
  const fig = seedBands([
    { name: "baseline", seeds: SEEDS },
    { name: "rul", seeds: SEEDS.map((s) => ({ ...s, values: s.values.map((v) => v + 1) })) },
  ], { yLabel: "test accuracy", reference: { y: 0.5, name: "chance" } });
  const byName = (n: string) => fig.data.find((t) => t.name === n)!;
  const mean = byName("baseline (mean ± s.d., 3 seeds)");
  assertEquals(mean.x, [1, 2, 3]);
  close(mean.y as number[], [3, 4, 7], "baseline mean trace");
  close(byName("rul (mean ± s.d., 3 seeds)").y as number[], [4, 5, 8], "rul mean trace");
  // the band: upper edge left to right, then the lower edge back
  const band = byName("baseline band");
  assertEquals(band.x, [1, 2, 3, 3, 2, 1]);
  close(band.y as number[], [5, 4 + Math.sqrt(12), 7, 7, 4 - Math.sqrt(12), 1], "band");
  assertEquals(band.fill, "toself");
  // seeds: as given, thin, faint, in the variant's colour, not in the legend
  const seed = byName("baseline seed 2");
  assertEquals(seed.y, [5, 8]);
  const line = seed.line as { color: string; width: number };
  assert(line.width <= 1 && /rgba\(213, 94, 0, 0\.3\d*\)/.test(line.color), line.color);
  assertEquals(seed.showlegend, false);
  const meanLine = mean.line as { color: string; width: number };
  assert(meanLine.width >= 3, "the mean is bold");
  // baseline vermillion, RUL blue, whatever their order; other variants get other colours
  assertEquals(meanLine.color, OKABE_ITO[5]);
  assertEquals(
    (byName("rul (mean ± s.d., 3 seeds)").line as { color: string }).color,
    OKABE_ITO[4],
  );
  assertEquals(variantColor("RUL"), variantColor("rul"));
  const others = ["rul-no-sigma", "scn", "eac"].map((n, i) => variantColor(n, i));
  assert(
    new Set([...others, OKABE_ITO[4], OKABE_ITO[5]]).size === 5,
    `distinct colours ${others}`,
  );
  // every trace of a variant is in its legend group (one click hides mean, band and seeds)
  assert(
    fig.data.filter((t) => t.name !== "chance").every((t) =>
      String(t.name).startsWith(String(t.legendgroup))
    ),
    "legend groups",
  );
  let threw = "";
  try {
    seedBands([{ name: "rul", seeds: [{ seed: 0, epochs: [1, 2], values: [1, NaN] }] }], {
      yLabel: "y",
    });
  } catch (e) {
    threw = (e as Error).message;
  }
  assert(/seed 0: value at index 1 is NaN/.test(threw), threw);
});

Deno.test({
  name: "seedBandPanels: PNG export shows both variants' colours",
  ignore: (() => {
    try {
      findChromium();
      return false;
    } catch {
      return true;
    }
  })(),
  async fn() {
    const groups = ["baseline", "rul"].map((name, v) => ({
      name,
      seeds: [0, 1, 2].map((seed) => ({
        seed,
        epochs: [1, 2, 3, 4],
        values: [0.5, 0.6, 0.62, 0.6].map((x) => x + 0.1 * v + 0.02 * seed),
      })),
    }));
    const fig = seedBandPanels([
      { groups, yLabel: "test accuracy", title: "test" },
      { groups, yLabel: "fit", title: "fit" },
    ]);
    const r = await FigureRenderer.launch();
    try {
      assertEquals(await r.validate(fig), []);
      const img = decodePng(await r.render(fig, { format: "png" }));
      for (const c of [OKABE_ITO[5], OKABE_ITO[4]]) {
        const n = countColor(img, hexRgb(c), 6);
        assert(n > 200, `colour ${c}: ${n} pixels`);
      }
    } finally {
      await r.close();
    }
  },
});

Deno.test("bandGroups: one group per variant in order, one curve per run, missing values left out", () => {
  const rec = (e: number, v: number | null) => ({ epoch: e, test_acc: v });
  const g = bandGroups([
    { group: "rul", seed: 0, records: [rec(1, 0.5), rec(2, 0.6)] },
    { group: "baseline", seed: 0, records: [rec(1, 0.4), rec(2, null)] },
    { group: "rul", seed: 1, records: [rec(1, 0.7), rec(2, 0.8)] },
    { group: "scn", seed: 0, records: [rec(1, null)] },
  ], "test_acc");
  assertEquals(g.map((x) => x.name), ["rul", "baseline"]);
  assertEquals(g[0].seeds.map((s) => [s.seed, Array.from(s.epochs), Array.from(s.values)]), [
    [0, [1, 2], [0.5, 0.6]],
    [1, [1, 2], [0.7, 0.8]],
  ]);
  assertEquals(Array.from(g[1].seeds[0].epochs), [1]);
});

Deno.test("noiseBandFigures: one figure per noise rate, panels without values left out", () => {
  const rec = (e: number, acc: number, auroc: number | null) => ({
    epoch: e,
    test_acc: acc,
    eval_acc_flipped: auroc === null ? null : 0.1 * e,
    eval_u_auroc_noisy: auroc,
  });
  const runs = [0, 1].flatMap((seed) => [
    { group: "baseline", seed, noise: 0.3, records: [rec(1, 0.5, null), rec(2, 0.6, null)] },
    { group: "rul", seed, noise: 0.3, records: [rec(1, 0.5 + seed / 10, 0.4), rec(2, 0.7, 0.45)] },
    { group: "rul", seed, noise: 0, records: [rec(1, 0.8, null)] },
  ]);
  const figs = noiseBandFigures(runs);
  assertEquals(figs.map((f) => f.noise), [0, 0.3]);
  const titles = (i: number) =>
    (figs[i].figure.layout.annotations as { text: string }[]).map((a) => a.text);
  assertEquals(titles(0), ["test accuracy"]); // no flipped label, no u at 0 %
  assertEquals(titles(1), [
    "test accuracy",
    "fit of flipped labels (eval mode)",
    "AUROC of u for flipped labels (eval mode)",
  ]);
  const mean = figs[1].figure.data.find((t) =>
    t.name === "rul (mean ± s.d., 2 seeds)" && t.xaxis === "x"
  )!;
  close(mean.y as number[], [0.55, 0.7], "rul test accuracy mean at 30 %");
});
