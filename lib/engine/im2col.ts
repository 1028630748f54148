/**
 * im2col and col2im for NHWC tensors and HWIO filters, so that a convolution is one matrix
 * product: with `col` = im2col(x) of shape [M, K] (M = N·Ho·Wo output positions, K = k·k·Ci,
 * row (b, oy, ox), column (ky·k + kx)·Ci + c) and the HWIO filter read as a [K, Co] matrix,
 *
 *   y  = col · W            ([M, Co], the NHWC output),
 *   dW = colᵀ · dy          ([K, Co], the HWIO gradient),
 *   dx = col2im(dy · Wᵀ)    (every column entry added back to the input element it came from).
 *
 * Element (b, oy, ox, ky, kx, c) of `col` is x[b, oy·s − p + ky, ox·s − p + kx, c], or 0 where that
 * falls in the zero padding. The native CPU engine uses these where a convolution has few output
 * positions and large weights (ResNet-18's last stages at small inputs): there the per-call weight
 * reorders of oneDNN's direct convolutions cost more than the convolution, while a matrix product
 * reads the HWIO weights as they are. Written here because oneDNN's C API has no im2col; with
 * NHWC every copy is a run of Ci contiguous floats.
 *
 * @module
 */

/** Shape of one convolution: input [n, h, w, ci], square kernel k, stride, symmetric padding. */
export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  k: number;
  stride: number;
  pad: number;
  ho: number;
  wo: number;
}

/** Elements of the im2col matrix: [n·ho·wo, k·k·ci]. */
export function colSize(g: ConvGeometry): number {
  return g.n * g.ho * g.wo * g.k * g.k * g.ci;
}

/**
 * Call `f(o, s)` for every (output position, kernel tap) in `col`'s order: `o` is the offset of the
 * tap's run of Ci values in `col`, `s` the offset of the input pixel it reads in x, or -1 where
 * the tap falls in the zero padding.
 */
function forEachTap(g: ConvGeometry, f: (o: number, s: number) => void): void {
  const { n, h, w, ci, k, stride, pad, ho, wo } = g;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * stride - pad + ky;
          for (let kx = 0; kx < k; kx++, o += ci) {
            const ix = ox * stride - pad + kx;
            f(o, iy < 0 || iy >= h || ix < 0 || ix >= w ? -1 : ((b * h + iy) * w + ix) * ci);
          }
        }
      }
    }
  }
}

/** Fill `col` ([n·ho·wo, k·k·ci]) from the NHWC input `x`. */
export function im2col(x: Float32Array, g: ConvGeometry, col: Float32Array): void {
  const ci = g.ci;
  forEachTap(g, (o, s) => {
    if (s < 0) col.fill(0, o, o + ci);
    else col.set(x.subarray(s, s + ci), o);
  });
}

/** dx (NHWC, overwritten) = the sum, for every input element, of the `col` entries read from it. */
export function col2im(col: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const ci = g.ci;
  dx.fill(0, 0, g.n * g.h * g.w * ci);
  forEachTap(g, (o, s) => {
    if (s < 0) return;
    for (let c = 0; c < ci; c++) dx[s + c] += col[o + c];
  });
}
