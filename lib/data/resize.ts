/**
 * Bilinear resize of uint8 HWC images, replicating Pillow's `Image.resize(..., BILINEAR)` exactly
 * (the resize torchvision's `Resize` applies to PIL images in the official pipeline): separable
 * triangle filter whose support widens when downscaling (antialiasing), horizontal pass first,
 * 22-bit fixed-point coefficients, uint8 rounding between the passes.
 *
 * Hand-written rather than delegated to sharp because it runs per sample inside the batch loop on
 * typed arrays (no encode/decode round trip, usable in a worker) and must match Pillow bit for bit.
 *
 * @module
 */

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

/** Fixed-point filter taps for one axis: output j reads `size[j]` inputs from `start[j]`. */
interface Coeffs {
  start: Int32Array;
  size: Int32Array;
  ksize: number;
  k: Float64Array;
}

const coeffCache = new Map<string, Coeffs>();

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear (triangle) filter. */
function coeffs(inSize: number, outSize: number): Coeffs {
  const key = `${inSize}>${outSize}`;
  const hit = coeffCache.get(key);
  if (hit) return hit;
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 1 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const size = new Int32Array(outSize);
  const k = new Float64Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      let t = Math.abs((x + xmin - center + 0.5) * ss);
      t = t < 1 ? 1 - t : 0;
      w[x] = t;
      ww += t;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? w[x] / ww : w[x];
      // Pillow: (int)(0.5 + v * (1 << PRECISION_BITS)) for v >= 0 (triangle weights are >= 0).
      k[xx * ksize + x] = Math.trunc(0.5 + v * ONE);
    }
    start[xx] = xmin;
    size[xx] = xmax;
  }
  const c = { start, size, ksize, k };
  if (coeffCache.size > 64) coeffCache.clear();
  coeffCache.set(key, c);
  return c;
}

function clip8(ss: number): number {
  const v = Math.floor(ss / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Resizes a uint8 HWC image with Pillow's bilinear filter.
 * @param src `inH·inW·channels` bytes
 * @param out optional destination of `outH·outW·channels` bytes
 * @returns the resized image (`out` if given); `src` itself when the size is unchanged and no
 *   `out` was given
 */
export function resizeBilinear(
  src: Uint8Array,
  inH: number,
  inW: number,
  channels: number,
  outH: number,
  outW: number,
  out?: Uint8Array,
): Uint8Array {
  if (src.length !== inH * inW * channels) {
    throw new Error(
      `resizeBilinear: source has ${src.length} bytes, expected ${inH}x${inW}x${channels}`,
    );
  }
  const dst = out ?? new Uint8Array(outH * outW * channels);
  if (inH === outH && inW === outW) {
    if (dst !== src) dst.set(src);
    return out ?? src;
  }
  // Horizontal pass (inH x outW), skipped when widths agree, as Pillow does.
  let mid = src;
  if (inW !== outW) {
    mid = inH === outH ? dst : new Uint8Array(inH * outW * channels);
    const { start, size, ksize, k } = coeffs(inW, outW);
    for (let y = 0; y < inH; y++) {
      const row = y * inW * channels;
      const orow = y * outW * channels;
      for (let x = 0; x < outW; x++) {
        const s0 = start[x], n = size[x], kb = x * ksize;
        for (let c = 0; c < channels; c++) {
          let ss = HALF;
          let p = row + s0 * channels + c;
          for (let t = 0; t < n; t++, p += channels) ss += src[p] * k[kb + t];
          mid[orow + x * channels + c] = clip8(ss);
        }
      }
    }
    if (inH === outH) return dst;
  }
  // Vertical pass (outH x outW).
  const { start, size, ksize, k } = coeffs(inH, outH);
  const stride = outW * channels;
  for (let y = 0; y < outH; y++) {
    const s0 = start[y], n = size[y], kb = y * ksize;
    const orow = y * stride;
    for (let i = 0; i < stride; i++) {
      let ss = HALF;
      let p = s0 * stride + i;
      for (let t = 0; t < n; t++, p += stride) ss += mid[p] * k[kb + t];
      dst[orow + i] = clip8(ss);
    }
  }
  return dst;
}
