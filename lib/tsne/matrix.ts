/**
 * A dense row-major matrix on a typed array, the input format of the t-SNE and PCA routines.
 *
 * @module
 */

/** Dense row-major matrix: `data[i * cols + j]` is row i, column j. */
export interface Matrix {
  /** Row-major values, length `rows * cols`. */
  data: Float32Array | Float64Array;
  /** Number of rows (points). */
  rows: number;
  /** Number of columns (features). */
  cols: number;
}

/** Anything the t-SNE/PCA entry points accept as a point set. */
export type MatrixLike = Matrix | ArrayLike<ArrayLike<number>>;

/**
 * Normalises a {@link MatrixLike} to a validated {@link Matrix} (copies only `number[][]` input).
 * Throws naming the first offending row/column when values are missing or not finite.
 *
 * @param x the input points.
 * @param what name used in error messages.
 */
export function toMatrix(x: MatrixLike, what = "input"): Matrix {
  let m: Matrix;
  if (isMatrix(x)) {
    if (!Number.isInteger(x.rows) || !Number.isInteger(x.cols) || x.rows < 0 || x.cols < 1) {
      throw new Error(`${what}: bad shape rows=${x.rows} cols=${x.cols}`);
    }
    if (x.data.length !== x.rows * x.cols) {
      throw new Error(
        `${what}: data length ${x.data.length} != rows*cols = ${x.rows}*${x.cols}`,
      );
    }
    m = x;
  } else {
    const rows = x.length;
    const cols = rows > 0 ? x[0].length : 0;
    if (rows > 0 && cols < 1) throw new Error(`${what}: row 0 is empty`);
    const data = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      const r = x[i];
      if (!r || r.length !== cols) {
        throw new Error(`${what}: row ${i} has ${r ? r.length : 0} values, expected ${cols}`);
      }
      for (let j = 0; j < cols; j++) data[i * cols + j] = r[j];
    }
    m = { data, rows, cols: Math.max(cols, 1) };
  }
  const d = m.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      throw new Error(
        `${what}: value at row ${Math.floor(i / m.cols)}, column ${i % m.cols} is ${d[i]}`,
      );
    }
  }
  return m;
}

function isMatrix(x: MatrixLike): x is Matrix {
  return (x as Matrix).data !== undefined && typeof (x as Matrix).rows === "number";
}
