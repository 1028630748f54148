/**
 * WebAssembly text of the engine's GEMM tile kernels (wasm SIMD, relaxed fused multiply-add).
 *
 * Why hand-written: XNNPACK (behind TF.js wasm's Conv2D and MatMul) re-packs its "weights" operand
 * at every call, and in both convolution gradients that operand is new at every step (dy for
 * grad-filter, the re-ordered filter for grad-input). These kernels read both operands where
 * they lie on the wasm heap, with arbitrary strides, so no operand is packed, transposed or
 * im2col-copied. One tile keeps an MR×8 block of the output in 2·MR SIMD registers (MR ≤ 6, so
 * the 12 accumulators, 2 B vectors and one broadcast fit x86-64's 16 vector registers) and runs
 * at ~55-60 GFLOP/s per core on the 2-core AMD EPYC of these machines (XNNPACK's forward: ~43).
 *
 * A tile computes, for i < MR, the 8 floats
 *
 *     C[c + i·cI] (+)= Σ_{p<nP} Σ_{o<nO} Σ_{q<nQ} A[a + i·aI + p·aP + o·aO + q·aQ] · B[b + p·bP + o·bO + q·bQ]
 *
 * where every address is a byte offset into the shared heap, A is read one float at a time
 * (broadcast) and B and C 8 floats at a time. `init` = 1 starts from zero, 0 adds to C.
 *
 * @module
 */

/** Largest number of output rows of one tile. */
export const MAX_TILE_ROWS = 6;

/** Signature of every exported tile function `tile1` … `tile6`. */
export type TileFn = (
  c: number,
  cI: number,
  a: number,
  aI: number,
  b: number,
  nP: number,
  aP: number,
  bP: number,
  nO: number,
  aO: number,
  bO: number,
  nQ: number,
  aQ: number,
  bQ: number,
  init: number,
) => void;

/**
 * Signature of every exported gather tile `gtile1` … `gtile6`: as {@link TileFn} with row i of
 * A at a + aOff[i−1] and of C at c + cOff[i−1] (offsets given for rows 1 … mr−1), so that the
 * rows of one tile may come from different output rows or images.
 */
export type GatherTileFn = (
  c: number,
  a: number,
  b: number,
  nP: number,
  aP: number,
  bP: number,
  nO: number,
  aO: number,
  bO: number,
  nQ: number,
  aQ: number,
  bQ: number,
  init: number,
  ...offsets: number[]
) => void;

/**
 * WAT of the tile function with `mr` output rows: `tile<mr>` (rows i·aI and i·cI apart) or, with
 * `gather`, `gtile<mr>` (row offsets as parameters).
 */
function tileText(mr: number, gather: boolean): string {
  const L: string[] = [];
  const get = (v: string) => `(local.get $${v})`;
  const addTo = (v: string, d: string) => `(local.set $${v} (i32.add ${get(v)} ${get(d)}))`;
  const cAddr = (i: number) =>
    gather ? (i === 0 ? get("c") : `(i32.add ${get("c")} ${get(`q${i}`)})`) : get("cp");
  const common = ` (param $b i32) (param $nP i32) (param $aP i32) (param $bP i32) (param $nO i32)` +
    ` (param $aO i32) (param $bO i32) (param $nQ i32) (param $aQ i32) (param $bQ i32)` +
    ` (param $init i32)`;
  if (gather) {
    let offs = "";
    for (let i = 1; i < mr; i++) offs += ` (param $r${i} i32)`;
    for (let i = 1; i < mr; i++) offs += ` (param $q${i} i32)`;
    L.push(`(func (export "gtile${mr}") (param $c i32) (param $a i32)${common}${offs}`);
  } else {
    L.push(
      `(func (export "tile${mr}") (param $c i32) (param $cI i32) (param $a i32) (param $aI i32)` +
        common,
    );
  }
  for (let i = 0; i < mr; i++) L.push(`(local $c${i}a v128) (local $c${i}b v128)`);
  L.push(`(local $b0 v128) (local $b1 v128) (local $s v128)`);
  L.push(`(local $ao i32) (local $bo i32) (local $ap i32) (local $bp i32) (local $o i32)`);
  L.push(`(local $q i32) (local $cp i32)`);
  if (!gather) {
    // Row offsets i·aI: one add per broadcast (measured as fast as constant offsets).
    for (let i = 1; i < mr; i++) L.push(`(local $r${i} i32)`);
    for (let i = 1; i < mr; i++) {
      L.push(`(local.set $r${i} (i32.mul ${get("aI")} (i32.const ${i})))`);
    }
  }
  L.push(`(if (i32.eqz ${get("init")}) (then (local.set $cp ${get("c")})`);
  for (let i = 0; i < mr; i++) {
    L.push(`(local.set $c${i}a (v128.load ${cAddr(i)}))`);
    L.push(`(local.set $c${i}b (v128.load offset=16 ${cAddr(i)}))`);
    if (!gather) L.push(addTo("cp", "cI"));
  }
  L.push(`))`);
  L.push(`(block $endP (loop $loopP (br_if $endP (i32.eqz ${get("nP")}))`);
  L.push(`(local.set $ao ${get("a")}) (local.set $bo ${get("b")}) (local.set $o ${get("nO")})`);
  L.push(`(block $endO (loop $loopO (br_if $endO (i32.eqz ${get("o")}))`);
  L.push(`(local.set $ap ${get("ao")}) (local.set $bp ${get("bo")}) (local.set $q ${get("nQ")})`);
  L.push(`(block $endQ (br_if $endQ (i32.eqz ${get("q")})) (loop $loopQ`);
  L.push(`(local.set $b0 (v128.load ${get("bp")}))`);
  L.push(`(local.set $b1 (v128.load offset=16 ${get("bp")}))`);
  for (let i = 0; i < mr; i++) {
    const addr = i === 0 ? get("ap") : `(i32.add ${get("ap")} ${get(`r${i}`)})`;
    L.push(`(local.set $s (v128.load32_splat ${addr}))`);
    L.push(`(local.set $c${i}a (f32x4.relaxed_madd ${get("s")} ${get("b0")} ${get(`c${i}a`)}))`);
    L.push(`(local.set $c${i}b (f32x4.relaxed_madd ${get("s")} ${get("b1")} ${get(`c${i}b`)}))`);
  }
  L.push(addTo("ap", "aQ"), addTo("bp", "bQ"));
  L.push(`(br_if $loopQ (local.tee $q (i32.sub ${get("q")} (i32.const 1))))))`);
  L.push(addTo("ao", "aO"), addTo("bo", "bO"));
  L.push(`(local.set $o (i32.sub ${get("o")} (i32.const 1))) (br $loopO)))`);
  L.push(addTo("a", "aP"), addTo("b", "bP"));
  L.push(`(local.set $nP (i32.sub ${get("nP")} (i32.const 1))) (br $loopP)))`);
  L.push(`(local.set $cp ${get("c")})`);
  for (let i = 0; i < mr; i++) {
    L.push(`(v128.store ${cAddr(i)} ${get(`c${i}a`)})`);
    L.push(`(v128.store offset=16 ${cAddr(i)} ${get(`c${i}b`)})`);
    if (!gather) L.push(addTo("cp", "cI"));
  }
  L.push(`)`);
  return L.join("\n");
}

/** Signature of the exported `transpose`: dst[j][i] = src[i][j] for a rows×cols block. */
export type TransposeFn = (
  src: number,
  srcRow: number,
  dst: number,
  dstRow: number,
  rows: number,
  cols: number,
) => void;

/** Signature of the exported `zero`: `bytes` zero bytes at `ptr` (memory.fill). */
export type ZeroFn = (ptr: number, bytes: number) => void;

/**
 * WAT of `transpose` (rows and cols multiples of 4; strides in bytes): 4×4 blocks, each 4 loads,
 * 8 shuffles and 4 stores.
 */
function transposeText(): string {
  const lanes = (...ix: number[]) => ix.flatMap((i) => [4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3]);
  const lo = lanes(0, 4, 1, 5).join(" "), hi = lanes(2, 6, 3, 7).join(" ");
  const lo2 = lanes(0, 1, 4, 5).join(" "), hi2 = lanes(2, 3, 6, 7).join(" ");
  const g = (v: string) => `(local.get $${v})`;
  return `(func (export "transpose") (param $src i32) (param $srcRow i32) (param $dst i32)
  (param $dstRow i32) (param $rows i32) (param $cols i32)
  (local $i i32) (local $j i32) (local $p i32) (local $q i32)
  (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
  (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
  (block $endI (loop $loopI (br_if $endI (i32.ge_u ${g("i")} ${g("rows")}))
    (local.set $j (i32.const 0))
    (block $endJ (loop $loopJ (br_if $endJ (i32.ge_u ${g("j")} ${g("cols")}))
      (local.set $p (i32.add ${g("src")} (i32.add (i32.mul ${g("i")} ${g("srcRow")}) (i32.shl ${
    g("j")
  } (i32.const 2)))))
      (local.set $r0 (v128.load ${g("p")}))
      (local.set $p (i32.add ${g("p")} ${g("srcRow")})) (local.set $r1 (v128.load ${g("p")}))
      (local.set $p (i32.add ${g("p")} ${g("srcRow")})) (local.set $r2 (v128.load ${g("p")}))
      (local.set $p (i32.add ${g("p")} ${g("srcRow")})) (local.set $r3 (v128.load ${g("p")}))
      (local.set $t0 (i8x16.shuffle ${lo} ${g("r0")} ${g("r1")}))
      (local.set $t1 (i8x16.shuffle ${hi} ${g("r0")} ${g("r1")}))
      (local.set $t2 (i8x16.shuffle ${lo} ${g("r2")} ${g("r3")}))
      (local.set $t3 (i8x16.shuffle ${hi} ${g("r2")} ${g("r3")}))
      (local.set $q (i32.add ${g("dst")} (i32.add (i32.mul ${g("j")} ${g("dstRow")}) (i32.shl ${
    g("i")
  } (i32.const 2)))))
      (v128.store ${g("q")} (i8x16.shuffle ${lo2} ${g("t0")} ${g("t2")}))
      (local.set $q (i32.add ${g("q")} ${g("dstRow")}))
      (v128.store ${g("q")} (i8x16.shuffle ${hi2} ${g("t0")} ${g("t2")}))
      (local.set $q (i32.add ${g("q")} ${g("dstRow")}))
      (v128.store ${g("q")} (i8x16.shuffle ${lo2} ${g("t1")} ${g("t3")}))
      (local.set $q (i32.add ${g("q")} ${g("dstRow")}))
      (v128.store ${g("q")} (i8x16.shuffle ${hi2} ${g("t1")} ${g("t3")}))
      (local.set $j (i32.add ${g("j")} (i32.const 4))) (br $loopJ)))
    (local.set $i (i32.add ${g("i")} (i32.const 4))) (br $loopI))))`;
}

/** Signature of the exported `copy`: `bytes` bytes from `src` to `dst` (memory.copy). */
export type CopyFn = (dst: number, src: number, bytes: number) => void;

/** Signature of the exported `pack8`: 32 bytes of each of `rows` rows into consecutive slots. */
export type Pack8Fn = (src: number, srcRow: number, dst: number, rows: number) => void;

/**
 * Signature of the exported `adam`: one PyTorch-Adam update of n floats (p, g, m, v → p', m', v'),
 * every operation in float32 in the same order as the optimiser's TF.js ops (so the results are
 * bit-identical to them): g' = g + p·wd (when hasWd), m' = m·b1 + g'·omb1, v' = v·b2 + g'²·omb2,
 * p' = p − (m' / (√v' / bc2 + eps))·step.
 */
export type AdamFn = (
  p: number,
  g: number,
  m: number,
  v: number,
  po: number,
  mo: number,
  vo: number,
  n: number,
  hasWd: number,
  b1: number,
  omb1: number,
  b2: number,
  omb2: number,
  eps: number,
  wd: number,
  bc2: number,
  step: number,
) => void;

/** WAT of `adam`: the update on 4 floats at a time, then the tail one float at a time. */
function adamText(): string {
  const g = (v: string) => `(local.get $${v})`;
  const body = (t: "f32x4" | "f32", load: string, store: string, splat: (v: string) => string) => {
    const ld = (ptr: string) => `(${load} (i32.add ${g(ptr)} ${g("i")}))`;
    return `
      (local.set $${t}g ${ld("g")})
      (if ${g("hasWd")} (then (local.set $${t}g (${t}.add ${g(`${t}g`)} (${t}.mul ${ld("p")} ${
      splat("wd")
    })))))
      (local.set $${t}m (${t}.add (${t}.mul ${ld("m")} ${splat("b1")}) (${t}.mul ${g(`${t}g`)} ${
      splat("omb1")
    })))
      (local.set $${t}v (${t}.add (${t}.mul ${ld("v")} ${splat("b2")}) (${t}.mul (${t}.mul ${
      g(`${t}g`)
    } ${g(`${t}g`)}) ${splat("omb2")})))
      (${store} (i32.add ${g("mo")} ${g("i")}) ${g(`${t}m`)})
      (${store} (i32.add ${g("vo")} ${g("i")}) ${g(`${t}v`)})
      (${store} (i32.add ${g("po")} ${g("i")}) (${t}.sub ${ld("p")} (${t}.mul (${t}.div ${
      g(`${t}m`)
    } (${t}.add (${t}.div (${t}.sqrt ${g(`${t}v`)}) ${splat("bc2")}) ${splat("eps")})) ${
      splat("step")
    })))`;
  };
  const vec = (v: string) => `(f32x4.splat ${g(v)})`;
  const sca = (v: string) => g(v);
  return `(func (export "adam") (param $p i32) (param $g i32) (param $m i32) (param $v i32)
  (param $po i32) (param $mo i32) (param $vo i32) (param $n i32) (param $hasWd i32)
  (param $b1 f32) (param $omb1 f32) (param $b2 f32) (param $omb2 f32) (param $eps f32)
  (param $wd f32) (param $bc2 f32) (param $step f32)
  (local $i i32) (local $end i32) (local $f32x4g v128) (local $f32x4m v128) (local $f32x4v v128)
  (local $f32g f32) (local $f32m f32) (local $f32v f32)
  (local.set $end (i32.shl (i32.and ${g("n")} (i32.const -4)) (i32.const 2)))
  (block $done (loop $next (br_if $done (i32.ge_u ${g("i")} ${g("end")}))
    ${body("f32x4", "v128.load", "v128.store", vec)}
    (local.set $i (i32.add ${g("i")} (i32.const 16))) (br $next)))
  (local.set $end (i32.shl ${g("n")} (i32.const 2)))
  (block $done2 (loop $next2 (br_if $done2 (i32.ge_u ${g("i")} ${g("end")}))
    ${body("f32", "f32.load", "f32.store", sca)}
    (local.set $i (i32.add ${g("i")} (i32.const 4))) (br $next2))))`;
}

/** Signature of the exported `csum0`/`csum1`/`csum2` (see `chanSumText`). */
export type ChanSumFn = (
  x: number,
  y: number,
  rows: number,
  rowBytes: number,
  mean: number,
  out: number,
) => void;

/** Rows summed into one partial sum before it is added to the total (limits rounding growth). */
const SUM_BLOCK = 128;

/**
 * WAT of the per-channel sums of batch-norm over `rows` rows (`rowBytes` apart) for the 16
 * channels at x: `csum0` out = Σ x; `csum1` out = Σ (x − mean)² (mean: 16 floats); `csum2` out =
 * Σ y and, at the `mean` pointer, Σ y·x. Each 16-channel row segment is one 64-byte cache line; the rows are summed
 * in blocks of 128 whose partial sums are then added to the total.
 */
function chanSumText(mode: 0 | 1 | 2): string {
  const g = (v: string) => `(local.get $${v})`;
  const nAcc = mode === 2 ? 8 : 4;
  const L: string[] = [];
  L.push(`(func (export "csum${mode}") (param $x i32) (param $y i32) (param $rows i32)`);
  L.push(`  (param $rowBytes i32) (param $mean i32) (param $out i32)`);
  for (let i = 0; i < nAcc; i++) L.push(`(local $t${i} v128) (local $b${i} v128)`);
  L.push(`(local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $v v128)`);
  L.push(`(local $w v128) (local $n i32) (local $left i32)`);
  if (mode === 1) {
    for (let i = 0; i < 4; i++) {
      L.push(`(local.set $m${i} (v128.load offset=${16 * i} ${g("mean")}))`);
    }
  }
  L.push(`(local.set $left ${g("rows")})`);
  L.push(`(block $done (loop $blocks (br_if $done (i32.eqz ${g("left")}))`);
  L.push(
    `(local.set $n (select (i32.const ${SUM_BLOCK}) ${g("left")} (i32.gt_u ${
      g("left")
    } (i32.const ${SUM_BLOCK}))))`,
  );
  L.push(`(local.set $left (i32.sub ${g("left")} ${g("n")}))`);
  for (let i = 0; i < nAcc; i++) L.push(`(local.set $b${i} (v128.const i32x4 0 0 0 0))`);
  L.push(`(loop $rowsLoop`);
  for (let i = 0; i < 4; i++) {
    L.push(`(local.set $v (v128.load offset=${16 * i} ${g("x")}))`);
    if (mode === 0) L.push(`(local.set $b${i} (f32x4.add ${g(`b${i}`)} ${g("v")}))`);
    if (mode === 1) {
      L.push(`(local.set $v (f32x4.sub ${g("v")} ${g(`m${i}`)}))`);
      L.push(`(local.set $b${i} (f32x4.add ${g(`b${i}`)} (f32x4.mul ${g("v")} ${g("v")})))`);
    }
    if (mode === 2) {
      L.push(`(local.set $w (v128.load offset=${16 * i} ${g("y")}))`);
      L.push(`(local.set $b${i} (f32x4.add ${g(`b${i}`)} ${g("w")}))`);
      L.push(
        `(local.set $b${i + 4} (f32x4.add ${g(`b${i + 4}`)} (f32x4.mul ${g("w")} ${g("v")})))`,
      );
    }
  }
  L.push(`(local.set $x (i32.add ${g("x")} ${g("rowBytes")}))`);
  if (mode === 2) L.push(`(local.set $y (i32.add ${g("y")} ${g("rowBytes")}))`);
  L.push(`(br_if $rowsLoop (local.tee $n (i32.sub ${g("n")} (i32.const 1)))))`);
  for (let i = 0; i < nAcc; i++) {
    L.push(`(local.set $t${i} (f32x4.add ${g(`t${i}`)} ${g(`b${i}`)}))`);
  }
  L.push(`(br $blocks)))`);
  for (let i = 0; i < nAcc; i++) {
    // csum2: Σ y·x goes to the `mean` pointer (unused as an input there).
    const dst = i < 4 ? g("out") : g("mean");
    L.push(`(v128.store offset=${16 * (i % 4)} ${dst} ${g(`t${i}`)})`);
  }
  L.push(`)`);
  return L.join("\n");
}

/**
 * Signature of the exported `caffine`: for `rows` rows of C channels, out = (x − U)·A + K + y·B
 * per channel (U, A, B, K: C floats each; without the y term when `useY` is 0). Subtracting U
 * (the batch mean) first keeps batch-norm's x̂ free of cancellation.
 */
export type ChanAffineFn = (
  x: number,
  y: number,
  out: number,
  rows: number,
  c: number,
  u: number,
  a: number,
  b: number,
  k: number,
  useY: number,
) => void;

/** WAT of `caffine` (C a multiple of 4). */
function chanAffineText(): string {
  const g = (v: string) => `(local.get $${v})`;
  return `(func (export "caffine") (param $x i32) (param $y i32) (param $out i32) (param $rows i32)
  (param $c i32) (param $u i32) (param $a i32) (param $b i32) (param $k i32) (param $useY i32)
  (local $j i32) (local $rowBytes i32) (local $v v128)
  (local.set $rowBytes (i32.shl ${g("c")} (i32.const 2)))
  (block $done (loop $rowsLoop (br_if $done (i32.eqz ${g("rows")}))
    (local.set $j (i32.const 0))
    (loop $cols
      (local.set $v (f32x4.add (f32x4.mul (f32x4.sub (v128.load (i32.add ${g("x")} ${g("j")}))
        (v128.load (i32.add ${g("u")} ${g("j")}))) (v128.load (i32.add ${g("a")} ${g("j")})))
        (v128.load (i32.add ${g("k")} ${g("j")}))))
      (if ${g("useY")} (then (local.set $v (f32x4.add ${g("v")} (f32x4.mul
        (v128.load (i32.add ${g("y")} ${g("j")})) (v128.load (i32.add ${g("b")} ${g("j")})))))))
      (v128.store (i32.add ${g("out")} ${g("j")}) ${g("v")})
      (br_if $cols (i32.lt_u (local.tee $j (i32.add ${g("j")} (i32.const 16))) ${g("rowBytes")})))
    (local.set $x (i32.add ${g("x")} ${g("rowBytes")}))
    (local.set $y (i32.add ${g("y")} ${g("rowBytes")}))
    (local.set $out (i32.add ${g("out")} ${g("rowBytes")}))
    (local.set $rows (i32.sub ${g("rows")} (i32.const 1)))
    (br $rowsLoop))))`;
}

/** WAT of `zero`, `copy` and `pack8`. */
function zeroText(): string {
  return `(func (export "zero") (param $ptr i32) (param $bytes i32)
  (memory.fill (local.get $ptr) (i32.const 0) (local.get $bytes)))
(func (export "copy") (param $dst i32) (param $src i32) (param $bytes i32)
  (memory.copy (local.get $dst) (local.get $src) (local.get $bytes)))
(func (export "pack8") (param $src i32) (param $srcRow i32) (param $dst i32) (param $rows i32)
  (block $end (loop $next (br_if $end (i32.eqz (local.get $rows)))
    (v128.store (local.get $dst) (v128.load (local.get $src)))
    (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
    (local.set $src (i32.add (local.get $src) (local.get $srcRow)))
    (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
    (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
    (br $next))))`;
}

/**
 * The whole module: it imports the heap as `env.memory` (shared when the wasm backend runs
 * threads, so that the engine's workers compute on the same memory) and exports `tile1` …
 * `tile6`, `gtile1` … `gtile6`, `transpose`, `zero`, `copy`, `pack8`, `adam`, `csum0` … `csum2`
 * and `caffine`.
 */
export function gemmModuleText(sharedMemory: boolean): string {
  const memory = sharedMemory ? `(memory 1 65536 shared)` : `(memory 1)`;
  const tiles = Array.from({ length: MAX_TILE_ROWS }, (_, i) => tileText(i + 1, false));
  const gtiles = Array.from({ length: MAX_TILE_ROWS }, (_, i) => tileText(i + 1, true));
  const body = [
    ...tiles,
    ...gtiles,
    transposeText(),
    zeroText(),
    adamText(),
    chanSumText(0),
    chanSumText(1),
    chanSumText(2),
    chanAffineText(),
  ].join("\n");
  return `(module\n(import "env" "memory" ${memory})\n${body}\n)\n`;
}
