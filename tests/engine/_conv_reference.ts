/**
 * Convolution gradients by their definitions, as plain loops in float64: the independent
 * reference of the GEMM kernel tests (no TF.js involved).
 *
 * x [N,H,W,Ci], w [k,k,Ci,Co], dy [N,Ho,Wo,Co]; y[n,o,p,c] = Σ x[n, s·o+i−pad, s·p+j−pad, ci] ·
 * w[i,j,ci,c] (zero outside x).
 *
 * @module
 */

/** Shape of a reference convolution. */
export interface ConvShape {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  s: number;
  p: number;
}

/** Output height and width. */
export function outSize(c: ConvShape): [number, number] {
  return [
    Math.floor((c.h + 2 * c.p - c.k) / c.s) + 1,
    Math.floor((c.w + 2 * c.p - c.k) / c.s) + 1,
  ];
}

/** Visit every (x index, w index, dy index) triple that contributes to the convolution. */
function forEachTerm(c: ConvShape, f: (xi: number, wi: number, yi: number) => void): void {
  const [ho, wo] = outSize(c);
  for (let n = 0; n < c.n; n++) {
    for (let o = 0; o < ho; o++) {
      for (let q = 0; q < wo; q++) {
        for (let i = 0; i < c.k; i++) {
          const r = c.s * o + i - c.p;
          if (r < 0 || r >= c.h) continue;
          for (let j = 0; j < c.k; j++) {
            const col = c.s * q + j - c.p;
            if (col < 0 || col >= c.w) continue;
            const xb = ((n * c.h + r) * c.w + col) * c.ci;
            const wb = (i * c.k + j) * c.ci * c.co;
            const yb = ((n * ho + o) * wo + q) * c.co;
            for (let a = 0; a < c.ci; a++) f(xb + a, wb + a * c.co, yb);
          }
        }
      }
    }
  }
}

/** dL/dw for L = Σ y·dy. */
export function refGradFilter(c: ConvShape, x: Float32Array, dy: Float32Array): Float64Array {
  const out = new Float64Array(c.k * c.k * c.ci * c.co);
  forEachTerm(c, (xi, wi, yi) => {
    const xv = x[xi];
    for (let b = 0; b < c.co; b++) out[wi + b] += xv * dy[yi + b];
  });
  return out;
}

/** dL/dx for L = Σ y·dy. */
export function refGradInput(c: ConvShape, w: Float32Array, dy: Float32Array): Float64Array {
  const out = new Float64Array(c.n * c.h * c.w * c.ci);
  forEachTerm(c, (xi, wi, yi) => {
    let acc = 0;
    for (let b = 0; b < c.co; b++) acc += w[wi + b] * dy[yi + b];
    out[xi] += acc;
  });
  return out;
}

/** y = conv2d(x, w). */
export function refForward(c: ConvShape, x: Float32Array, w: Float32Array): Float64Array {
  const [ho, wo] = outSize(c);
  const out = new Float64Array(c.n * ho * wo * c.co);
  forEachTerm(c, (xi, wi, yi) => {
    const xv = x[xi];
    for (let b = 0; b < c.co; b++) out[yi + b] += xv * w[wi + b];
  });
  return out;
}
