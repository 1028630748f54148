/**
 * SynthFER: a procedural generator of small face-like images for the 7 RAF-DB expression classes,
 * the embedded default dataset of the demo, notebooks and tests (no download).
 *
 * Each sample draws an expression vector (brow raise, inner-brow raise, eye opening, mouth-corner
 * curve, mouth opening, mouth width, nose wrinkle) from its class prototype (FACS-inspired: e.g.
 * Surprise = raised brows + wide eyes + round open mouth; Anger = lowered, inward-slanted brows +
 * narrowed eyes + pressed mouth), scaled by a random intensity towards Neutral and jittered; then
 * nuisance factors: face shape, skin and hair colour, hairline, background colour/gradient/texture,
 * directional lighting, global gain, pose (roll, scale, shift, yaw-like feature shift), optional
 * occluder, pixel noise.
 *
 * Why a small ResNet-18 cannot reach 100 %: (1) a fraction `blendProb` of samples *blend* a second
 * expression with weight w ∈ blendWeight (default up to 0.5): near w = 0.5 the image carries
 * both expressions almost equally, so the label is close to a coin flip (irreducible error); the
 * blend class and weight are recorded per sample (`extra.blendClass`, `extra.blendWeight`) as the
 * known ambiguity; (2) low intensities pull every class towards Neutral and the per-sample jitter
 * makes neighbouring prototypes (Fear/Surprise, Disgust/Anger, Sadness/Neutral) overlap; (3)
 * occluders hide the mouth or eyes on some samples; (4) optional symmetric label noise. The Bayes
 * error is therefore well above zero by construction, independent of the model.
 *
 * Deterministic: sample i depends only on (seed, i). Rendering is a per-pixel signed-distance
 * evaluation with analytic anti-aliasing, hand-written on typed arrays for speed (no canvas in
 * Deno).
 *
 * @module
 */
import { RAF_DB_CLASSES } from "./classes.ts";
import { allocPixels, type ImageDataset } from "./dataset.ts";
import { injectSymmetricNoise } from "./noise.ts";
import { mixSeed, Rng } from "../random.ts";

/** Expression parameters: [browRaise, browInner, eyeOpen, mouthCurve, mouthOpen, mouthWidth, wrinkle]. */
export type Expression = [number, number, number, number, number, number, number];

/** Prototype expression of each class, in RAF-DB label order. */
export const SYNTHFER_PROTOTYPES: readonly Expression[] = Object.freeze([
  [1.0, 0.15, 1.55, 0.0, 0.95, 0.62, 0], // Surprise: brows up, eyes wide, round open mouth
  [0.65, 0.75, 1.45, -0.35, 0.4, 1.28, 0], // Fear: inner brows up, wide eyes, stretched mouth
  [-0.45, -0.2, 0.55, -0.65, 0.22, 0.92, 1], // Disgust: lowered brows, squint, wrinkled nose
  [0.1, 0.0, 0.68, 1.0, 0.35, 1.35, 0], // Happiness: smile, slightly narrowed eyes
  [0.0, 0.95, 0.72, -0.85, 0.0, 0.9, 0], // Sadness: inner brows up, corners down
  [-0.85, -0.95, 0.72, -0.2, 0.0, 0.78, 0.25], // Anger: V brows, narrowed eyes, pressed mouth
  [0, 0, 1, 0, 0, 1, 0], // Neutral
] as Expression[]);

const NEUTRAL = 6;

/** Options of {@link generateSynthFer}. */
export interface SynthFerOptions {
  /** Number of images. */
  n: number;
  /** Image size in pixels (square). Default 64. */
  size?: number;
  /** Seed (default 0). */
  seed?: number;
  /** Probability that a sample blends a second expression (default 0.3). */
  blendProb?: number;
  /** Range of the second expression's weight (default [0.15, 0.5]). */
  blendWeight?: [number, number];
  /** Range of the expression intensity (towards Neutral at 0; default [0.45, 1]). */
  intensity?: [number, number];
  /** Std of the per-parameter jitter (default 0.12). */
  jitter?: number;
  /** Probability of an occluder over part of the face (default 0.1). */
  occlusionProb?: number;
  /** Symmetric label-noise fraction (default 0; clean labels kept when > 0). */
  noise?: number;
  /** Class probabilities (default uniform over the 7 classes). */
  classPriors?: number[];
  /** Name prefix of the generated file names (default "synth"). */
  namePrefix?: string;
}

/** Everything that defines one rendered sample (drawn by {@link drawSynthFerSample}). */
export interface SynthFerSample {
  /** Dominant (true) class. */
  label: number;
  /** Second class blended in, or -1. */
  blendClass: number;
  /** Its weight (0 when none). */
  blendWeight: number;
  /** Expression intensity. */
  intensity: number;
  /** Final expression vector. */
  expr: Expression;
  /** Whether an occluder is drawn. */
  occluded: boolean;
  /** Seed of the nuisance factors and rendering. */
  renderSeed: number;
}

function pickClass(rng: Rng, priors?: number[]): number {
  if (!priors) return rng.int(7);
  const total = priors.reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  for (let k = 0; k < priors.length; k++) {
    u -= priors[k];
    if (u < 0) return k;
  }
  return priors.length - 1;
}

function scaled(c: number, a: number): Expression {
  const p = SYNTHFER_PROTOTYPES[c], z = SYNTHFER_PROTOTYPES[NEUTRAL];
  return p.map((v, k) => z[k] + a * (v - z[k])) as Expression;
}

/** Draws the class, blend, intensity and expression of sample `index` (deterministic). */
export function drawSynthFerSample(index: number, o: SynthFerOptions): SynthFerSample {
  const rng = new Rng(mixSeed(o.seed ?? 0, index));
  const label = pickClass(rng, o.classPriors);
  const [i0, i1] = o.intensity ?? [0.45, 1];
  const intensity = rng.uniform(i0, i1);
  let expr = scaled(label, intensity);
  let blendClass = -1, blendWeight = 0;
  if (rng.next() < (o.blendProb ?? 0.3)) {
    blendClass = (label + 1 + rng.int(6)) % 7;
    const [w0, w1] = o.blendWeight ?? [0.15, 0.5];
    blendWeight = rng.uniform(w0, w1);
    const other = scaled(blendClass, rng.uniform(i0, i1));
    expr = expr.map((v, k) => (1 - blendWeight) * v + blendWeight * other[k]) as Expression;
  }
  const j = o.jitter ?? 0.12;
  expr = expr.map((v) => v + j * rng.normal()) as Expression;
  expr[2] = Math.max(0.2, expr[2]);
  expr[4] = Math.max(0, expr[4]);
  expr[5] = Math.max(0.45, expr[5]);
  expr[6] = Math.min(1, Math.max(0, expr[6]));
  const occluded = rng.next() < (o.occlusionProb ?? 0.1);
  return {
    label,
    blendClass,
    blendWeight,
    intensity,
    expr,
    occluded,
    renderSeed: rng.nextUint32(),
  };
}

const SKIN: [number, number, number][] = [
  [0.98, 0.85, 0.74],
  [0.92, 0.74, 0.6],
  [0.8, 0.6, 0.45],
  [0.62, 0.43, 0.3],
  [0.45, 0.3, 0.2],
  [0.96, 0.8, 0.66],
];
const HAIR: [number, number, number][] = [
  [0.1, 0.07, 0.05],
  [0.3, 0.18, 0.1],
  [0.55, 0.38, 0.2],
  [0.85, 0.7, 0.45],
  [0.5, 0.5, 0.5],
  [0.2, 0.2, 0.22],
];

/**
 * 4096 standard normals drawn once from a fixed seed: per-pixel noise indexes this table with the
 * sample's RNG (one integer draw instead of a Box-Muller pair per value; 3·size² values per image
 * made Box-Muller the largest cost of rendering).
 */
const NORMALS: Float32Array = (() => {
  const r = new Rng(0x5f3759df);
  return Float32Array.from({ length: 4096 }, () => r.normal());
})();

/** Coverage of a signed distance d (negative inside) for a pixel of width pw. */
function cov(d: number, pw: number): number {
  const t = 0.5 - d / pw;
  return t <= 0 ? 0 : t >= 1 ? 1 : t;
}

/** Distance from (u,v) to the segment (ax,ay)-(bx,by). */
function segDist(u: number, v: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax, dy = by - ay;
  let t = ((u - ax) * dx + (v - ay) * dy) / (dx * dx + dy * dy);
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const ex = u - ax - t * dx, ey = v - ay - t * dy;
  return Math.sqrt(ex * ex + ey * ey);
}

/** Approximate signed distance to an axis-aligned ellipse centred at (cx, cy). */
function ellipseSd(u: number, v: number, cx: number, cy: number, rx: number, ry: number): number {
  const a = (u - cx) / rx, b = (v - cy) / ry;
  return (Math.sqrt(a * a + b * b) - 1) * Math.min(rx, ry);
}

/**
 * Renders one sample into `out[offset..]` (size·size·3 uint8, HWC).
 * All nuisance factors are drawn from `s.renderSeed`.
 */
export function renderSynthFer(s: SynthFerSample, size: number, out: Uint8Array, offset = 0): void {
  const rng = new Rng(s.renderSeed);
  const [browRaise, browInner, eyeOpen, curve, open, mwidth, wrinkle] = s.expr;
  // Nuisance factors.
  const roll = rng.uniform(-0.26, 0.26);
  const scale = rng.uniform(0.82, 1.05);
  const tx = rng.uniform(-0.07, 0.07), ty = rng.uniform(-0.06, 0.06);
  const yaw = rng.uniform(-0.09, 0.09);
  const faceRx = rng.uniform(0.6, 0.72), faceRy = rng.uniform(0.78, 0.9);
  const skin = SKIN[rng.int(SKIN.length)].map((c) => c * rng.uniform(0.92, 1.06));
  const hair = HAIR[rng.int(HAIR.length)];
  const hairline = rng.uniform(-0.62, -0.42);
  const bg1 = [rng.next(), rng.next(), rng.next()], bg2 = [rng.next(), rng.next(), rng.next()];
  const bgAng = rng.uniform(0, 2 * Math.PI),
    bgFreq = rng.uniform(3, 14),
    bgAmp = rng.uniform(0, 0.12);
  const lAng = rng.uniform(0, 2 * Math.PI), lStr = rng.uniform(0, 0.4);
  const lu = Math.cos(lAng), lv = Math.sin(lAng);
  const gain = rng.uniform(0.7, 1.2);
  const pixNoise = rng.uniform(0, 6) / 255;
  const iris = [rng.uniform(0.05, 0.35), rng.uniform(0.05, 0.3), rng.uniform(0.03, 0.3)];
  const gx = rng.uniform(-0.03, 0.03), gy = rng.uniform(-0.015, 0.015);
  const occ = s.occluded
    ? {
      x0: rng.uniform(-0.9, 0.3),
      y0: rng.uniform(-0.4, 0.5),
      w: rng.uniform(0.35, 0.8),
      h: rng.uniform(0.25, 0.5),
      c: [rng.next(), rng.next(), rng.next()],
    }
    : undefined;
  // Feature geometry (face units; v grows downwards).
  const fx = yaw;
  const eyeY = -0.1, eyeX = 0.28, eyeRx = 0.16, eyeRy = Math.max(0.012, 0.085 * eyeOpen);
  const browY = -0.34 - 0.13 * browRaise;
  const browIn = 0.1 * browInner; // inner end raised by this much
  const browT = 0.045;
  const mouthY = 0.43 + 0.03 * open, mouthW = 0.24 * mwidth;
  const lipT = 0.022, openH = 0.13 * open, curveH = 0.13 * curve;
  const cr = Math.cos(roll), sr = Math.sin(roll);
  const bgC = Math.cos(bgAng), bgS = Math.sin(bgAng);
  const pw = 2 / size / scale;
  const lip = [skin[0] * 0.75, skin[1] * 0.42, skin[2] * 0.42];
  const dark = [0.22, 0.04, 0.05];
  // Constant colours hoisted out of the pixel loop (no per-pixel allocation).
  const noseCol = [skin[0] * 0.7, skin[1] * 0.6, skin[2] * 0.55];
  const wrinkleCol = [skin[0] * 0.6, skin[1] * 0.5, skin[2] * 0.45];
  const browCol = [hair[0] * 0.7, hair[1] * 0.7, hair[2] * 0.7];
  const pupilCol = [0.02, 0.02, 0.02], lidCol = [0.15, 0.1, 0.08], teethCol = [0.95, 0.94, 0.88];
  const sclera = [0, 0, 0];
  const col = [0, 0, 0];
  const mix = (c: ArrayLike<number>, a: number) => {
    if (a <= 0) return;
    col[0] += (c[0] - col[0]) * a;
    col[1] += (c[1] - col[1]) * a;
    col[2] += (c[2] - col[2]) * a;
  };
  for (let y = 0; y < size; y++) {
    const py = ((y + 0.5) / size) * 2 - 1;
    for (let x = 0; x < size; x++) {
      const px = ((x + 0.5) / size) * 2 - 1;
      // Background: gradient between two colours plus a stripe texture.
      const along = px * bgC + py * bgS;
      const t = 0.5 + 0.5 * along + bgAmp * Math.sin(bgFreq * along * 3.1);
      col[0] = bg1[0] + (bg2[0] - bg1[0]) * t;
      col[1] = bg1[1] + (bg2[1] - bg1[1]) * t;
      col[2] = bg1[2] + (bg2[2] - bg1[2]) * t;
      // Face coordinates.
      const qx = (px - tx) / scale, qy = (py - ty) / scale;
      const u = cr * qx + sr * qy, v = -sr * qx + cr * qy;
      // Hair (behind the face, slightly larger ellipse, upper part).
      const dHair = Math.max(ellipseSd(u, v, 0, -0.05, faceRx + 0.09, faceRy + 0.07), v - 0.1);
      mix(hair, cov(dHair, pw));
      const dFace = ellipseSd(u, v, 0, 0.05, faceRx, faceRy);
      const aFace = cov(dFace, pw);
      if (aFace > 0) {
        const shade = 1 + lStr * (lu * u + lv * v) - 0.18 * (u * u + v * v) * (u * u + v * v);
        col[0] += (skin[0] * shade - col[0]) * aFace;
        col[1] += (skin[1] * shade - col[1]) * aFace;
        col[2] += (skin[2] * shade - col[2]) * aFace;
        // Fringe: hair over the forehead above the hairline.
        if (v < hairline + 0.06) {
          mix(hair, cov(v - (hairline + 0.04 * Math.sin(6 * u)), pw) * aFace);
        }
        const fu = u - fx;
        const au = Math.abs(fu), side = fu < 0 ? -1 : 1;
        // Brows: segment from inner (0.09) to outer (0.44), inner end raised by browIn.
        if (v < -0.05 && Math.abs(v - browY) < 0.25) {
          const d = segDist(au, v, 0.09, browY - browIn, 0.44, browY + 0.3 * browIn) - browT;
          mix(browCol, cov(d, pw));
        }
        // Eyes: sclera ellipse, iris/pupil clipped to it, lid line.
        const dEye = ellipseSd(au, v, eyeX, eyeY, eyeRx, eyeRy);
        if (dEye < pw * 2) {
          const aEye = cov(dEye, pw);
          sclera[0] = sclera[1] = 0.93 * shade;
          sclera[2] = 0.92 * shade;
          mix(sclera, aEye);
          const dIris = Math.hypot(au - eyeX - side * gx, v - eyeY - gy) - 0.065;
          mix(iris, cov(Math.max(dIris, dEye), pw));
          mix(pupilCol, cov(Math.max(dIris + 0.035, dEye), pw));
          mix(lidCol, cov(Math.abs(dEye) - 0.012, pw));
        }
        // Nose: a soft line and, for disgust, wrinkles across the bridge.
        if (au < 0.1 && v > -0.06 && v < 0.26) {
          mix(noseCol, 0.8 * cov(segDist(fu, v, 0.0, 0.0, 0.03, 0.2) - 0.012, pw));
        }
        if (wrinkle > 0.05 && au < 0.12 && v > -0.08 && v < 0.08) {
          const dw = Math.min(Math.abs(v + 0.035), Math.abs(v - 0.02), Math.abs(v - 0.06)) - 0.008;
          mix(wrinkleCol, wrinkle * cov(dw, pw));
        }
        // Mouth: a curved band; corners lifted by curveH (smile > 0); opening shown dark.
        if (au < mouthW + pw && Math.abs(v - mouthY) < 0.35) {
          const r = Math.min(1, au / mouthW);
          const yc = mouthY - curveH * r * r;
          const halfOpen = openH * Math.sqrt(Math.max(0, 1 - r * r));
          const dOut = Math.max(Math.abs(v - yc) - (lipT + halfOpen), au - mouthW);
          mix(lip, cov(dOut, pw));
          if (halfOpen > 0.004) {
            const dIn = Math.max(Math.abs(v - yc) - halfOpen, au - mouthW + lipT);
            mix(dark, cov(dIn, pw));
            if (curve > 0.3) {
              // Teeth in the upper part of an open smile.
              const dTeeth = Math.max(dIn, v - (yc - halfOpen * 0.2));
              mix(teethCol, cov(dTeeth, pw));
            }
          }
        }
      }
      if (occ) {
        const d = Math.max(occ.x0 - u, u - occ.x0 - occ.w, occ.y0 - v, v - occ.y0 - occ.h);
        mix(occ.c, cov(d, pw));
      }
      const o = offset + (y * size + x) * 3;
      for (let k = 0; k < 3; k++) {
        const val = (col[k] * gain + pixNoise * NORMALS[rng.nextUint32() & 4095]) * 255;
        out[o + k] = val <= 0 ? 0 : val >= 255 ? 255 : Math.round(val);
      }
    }
  }
}

/**
 * Generates a SynthFER dataset (RGB, RAF-DB class names). `extra` holds per sample:
 * `blendClass` (int32, −1 if none), `blendWeight` (float32, the known ambiguity), `intensity`
 * (float32), `occluded` (int32 0/1). With `noise > 0`, `labels` are noisy and `cleanLabels` true.
 */
export function generateSynthFer(o: SynthFerOptions): ImageDataset {
  const n = o.n, size = o.size ?? 64, seed = o.seed ?? 0;
  if (!(n >= 1)) throw new Error(`SynthFER: n must be ≥ 1, got ${n}`);
  const pixels = allocPixels(n * size * size * 3);
  const clean = new Int32Array(n);
  const blendClass = new Int32Array(n), blendWeight = new Float32Array(n);
  const intensity = new Float32Array(n), occluded = new Int32Array(n);
  const prefix = o.namePrefix ?? "synth";
  const fileNames: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const s = drawSynthFerSample(i, o);
    renderSynthFer(s, size, pixels, i * size * size * 3);
    clean[i] = s.label;
    blendClass[i] = s.blendClass;
    blendWeight[i] = s.blendWeight;
    intensity[i] = s.intensity;
    occluded[i] = s.occluded ? 1 : 0;
    fileNames[i] = `${prefix}_${String(i + 1).padStart(5, "0")}`;
  }
  const noise = o.noise ?? 0;
  const labels = noise > 0
    ? injectSymmetricNoise(clean, noise, 7, mixSeed(seed, 0x401)).labels
    : clean;
  return {
    pixels,
    n,
    height: size,
    width: size,
    channels: 3,
    labels,
    cleanLabels: noise > 0 ? clean : undefined,
    classNames: [...RAF_DB_CLASSES],
    fileNames,
    extra: { blendClass, blendWeight, intensity, occluded },
    source: `SynthFER n=${n} size=${size} seed=${seed}${noise > 0 ? ` noise=${noise}` : ""}`,
  };
}

/** Train and test SynthFER sets from one seed (disjoint sample streams). */
export function synthFerSplits(
  o: Omit<SynthFerOptions, "n"> & { train: number; test: number },
): { train: ImageDataset; test: ImageDataset } {
  const seed = o.seed ?? 0;
  const train = generateSynthFer({ ...o, n: o.train, seed: mixSeed(seed, 1), namePrefix: "train" });
  // The test split is never noisy: it measures accuracy against the true labels.
  const test = generateSynthFer({
    ...o,
    n: o.test,
    seed: mixSeed(seed, 2),
    noise: 0,
    namePrefix: "test",
  });
  return { train, test };
}
