import { col2im, type ConvGeometry, im2col } from "../../lib/engine/im2col.ts";
import { assertClose, randomArray } from "./_helpers.ts";
import * as ref from "./_conv_reference.ts";

/** [m, k]·[k, n] in float64. */
function matMul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      for (let j = 0; j < n; j++) c[i * n + j] += av * b[p * n + j];
    }
  }
  return c;
}

/** Transpose of a row-major [r, c] matrix. */
function transpose(a: ArrayLike<number>, r: number, c: number): Float32Array {
  const t = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = a[i * c + j];
  return t;
}

// Convolutions as matrix products through im2col / col2im against the float64 definitions:
// odd sizes, stride 2, 1×1 stride 2 (rows never read), an image smaller than the kernel.
const SHAPES: ref.ConvShape[] = [
  { n: 2, h: 5, w: 4, ci: 3, co: 4, k: 3, s: 1, p: 1 },
  { n: 3, h: 7, w: 6, ci: 5, co: 2, k: 3, s: 2, p: 1 },
  { n: 2, h: 7, w: 9, ci: 4, co: 3, k: 1, s: 2, p: 0 },
  { n: 2, h: 2, w: 2, ci: 6, co: 5, k: 3, s: 1, p: 1 },
  { n: 1, h: 9, w: 8, ci: 2, co: 3, k: 7, s: 2, p: 3 },
];
for (const c of SHAPES) {
  Deno.test(`im2col/col2im: ${JSON.stringify(c)} = the convolution's definitions`, () => {
    const [ho, wo] = ref.outSize(c);
    const g: ConvGeometry = { ...c, stride: c.s, pad: c.p, ho, wo };
    const m = c.n * ho * wo, kk = c.k * c.k * c.ci;
    const x = randomArray(c.n * c.h * c.w * c.ci, 1), w = randomArray(kk * c.co, 2);
    const dy = randomArray(m * c.co, 3);
    // Filled with NaN first: every entry must be written (padding included).
    const col = new Float32Array(m * kk).fill(NaN);
    im2col(x, g, col);
    assertClose("forward col·W", matMul(col, w, m, kk, c.co), ref.refForward(c, x, w), 1e-6);
    assertClose(
      "grad-filter colᵀ·dy",
      matMul(transpose(col, m, kk), dy, kk, m, c.co),
      ref.refGradFilter(c, x, dy),
      1e-6,
    );
    const dcol = Float32Array.from(matMul(dy, transpose(w, kk, c.co), m, c.co, kk));
    const dx = new Float32Array(x.length).fill(NaN);
    col2im(dcol, g, dx);
    assertClose("grad-input col2im(dy·Wᵀ)", dx, ref.refGradInput(c, w, dy), 1e-6);
  });
}
