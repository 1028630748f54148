/**
 * Deno FFI bindings to oneDNN's C API (`libdnnl.so.2`, oneDNN 2.x as packaged by Debian as
 * `libdnnl2`) and the small helpers the engine's oneDNN kernels need: memory descriptors,
 * primitive descriptors, primitives, reorders and their execution on raw addresses.
 *
 * Every oneDNN structure the engine touches is passed by pointer (descriptors are filled by
 * oneDNN into byte buffers sized above oneDNN 2.x's `sizeof`, so nothing depends on their field
 * layout); the constants below are oneDNN 2.x's enum values (`dnnl_types.h`, stable across 2.x).
 * Data handles are passed as addresses (`usize`), so a kernel can point oneDNN at any float32
 * buffer: TF.js wasm's heap (see {@link ./onednn.ts}) or a JavaScript ArrayBuffer.
 *
 * Threads: oneDNN 2.x as packaged by Debian runs on OpenMP (libgomp); {@link loadDnnl} sets the
 * calling thread's OpenMP thread count with `omp_set_num_threads`. libgomp's default wait policy
 * (idle threads spin briefly, then sleep) is kept: `OMP_WAIT_POLICY=passive` (sleep at once) made
 * small primitives 10-100× slower on a busy machine (each parallel region then waits for a
 * sleeping thread to be scheduled; oneDNN's batch-norm has several regions and barriers).
 *
 * @module
 */

/** oneDNN 2.x constants used by the engine (values from `dnnl_types.h`). */
export const DNNL = {
  f32: 3,
  tagAny: 1,
  a: 2,
  ab: 3,
  nhwc: 20,
  hwio: 30,
  forwardTraining: 64,
  forwardInference: 96,
  backward: 128,
  backwardData: 160,
  backwardWeights: 192,
  convolutionDirect: 1,
  eltwiseRelu: 31,
  eltwiseReluUseDst: 256,
  poolingMax: 511,
  querySrcMd: 129,
  queryDiffSrcMd: 130,
  queryWeightsMd: 131,
  queryDiffWeightsMd: 132,
  queryDstMd: 133,
  queryDiffDstMd: 134,
  queryWorkspaceMd: 135,
  queryImplInfoStr: 8,
  argSrc: 1,
  argDst: 17,
  argWeights: 33,
  argDiffSrc: 129,
  argDiffDst: 145,
  argDiffWeights: 161,
  argWorkspace: 64,
  argMean: 49,
  argVariance: 50,
  argScale: 51,
  argShift: 52,
  argDiffScale: 255,
  argDiffShift: 256,
  useScale: 8,
  useShift: 16,
  useGlobalStats: 1,
  fuseNormRelu: 4,
} as const;

/** `dnnl_query_exec_arg_md`: the memory descriptor a primitive expects for an argument. */
const QUERY_EXEC_ARG_MD = 255;

/** Bytes reserved for a `dnnl_memory_desc_t` (696 in oneDNN 2.6) and an op descriptor. */
const MD_BYTES = 1024;
const OP_DESC_BYTES = 8192;

/** FFI parameter and result types, short: the symbol table below reads as oneDNN's signatures. */
const B = "buffer", P = "pointer", I = "i32", U = "u32", Z = "usize", F = "f32";

/** One foreign function's declaration. */
function fn<const A extends readonly Deno.NativeType[], const R extends Deno.NativeResultType>(
  parameters: A,
  result: R,
): { parameters: A; result: R } {
  return { parameters, result };
}

const SYMBOLS = {
  dnnl_version: fn([], P),
  dnnl_get_effective_cpu_isa: fn([], I),
  dnnl_engine_create: fn([B, I, Z], I),
  dnnl_stream_create: fn([B, P, U], I),
  dnnl_stream_wait: fn([P], I),
  dnnl_memory_desc_init_by_tag: fn([B, I, B, I, I], I),
  dnnl_memory_desc_init_by_strides: fn([B, I, B, I, B], I),
  dnnl_matmul_desc_init: fn([B, B, B, P, B], I),
  dnnl_memory_desc_equal: fn([P, P], I),
  dnnl_memory_desc_get_size: fn([P], Z),
  dnnl_convolution_forward_desc_init: fn([B, I, I, B, B, P, B, B, B, B], I),
  dnnl_convolution_backward_data_desc_init: fn([B, I, B, B, B, B, B, B], I),
  dnnl_convolution_backward_weights_desc_init: fn([B, I, B, B, P, B, B, B, B], I),
  dnnl_batch_normalization_forward_desc_init: fn([B, I, B, F, U], I),
  dnnl_batch_normalization_backward_desc_init: fn([B, I, B, B, F, U], I),
  dnnl_pooling_forward_desc_init: fn([B, I, I, B, B, B, B, B, B], I),
  dnnl_pooling_backward_desc_init: fn([B, I, B, B, B, B, B, B], I),
  dnnl_eltwise_forward_desc_init: fn([B, I, I, B, F, F], I),
  dnnl_eltwise_backward_desc_init: fn([B, I, B, B, F, F], I),
  dnnl_primitive_desc_create: fn([B, B, P, P, P], I),
  dnnl_reorder_primitive_desc_create: fn([B, P, P, P, P, P], I),
  dnnl_primitive_desc_query_md: fn([P, I, I], P),
  dnnl_primitive_desc_query: fn([P, I, I, B], I),
  dnnl_primitive_desc_destroy: fn([P], I),
  dnnl_primitive_create: fn([B, P], I),
  dnnl_primitive_destroy: fn([P], I),
  dnnl_memory_destroy: fn([P], I),
  dnnl_primitive_execute: fn([P, P, I, B], I),
  dnnl_memory_create: fn([B, P, P, Z], I),
  dnnl_memory_set_data_handle: fn([P, Z], I),
} as const;

const GOMP_SYMBOLS = {
  omp_set_num_threads: { parameters: ["i32"], result: "void" },
  omp_get_max_threads: { parameters: [], result: "i32" },
} as const;

type DnnlSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** ISA names of `dnnl_cpu_isa_t` values (oneDNN 2.x). */
const ISA_NAMES: Record<number, string> = {
  0x0: "all",
  0x1: "sse41",
  0x3: "avx",
  0x7: "avx2",
  0xf: "avx512_mic",
  0x1f: "avx512_mic_4ops",
  0x27: "avx512_core",
  0x67: "avx512_core_vnni",
  0xe7: "avx512_core_bf16",
  0x3e7: "avx512_core_amx",
  0x407: "avx2_vnni",
};

/** A memory descriptor: oneDNN's struct in a byte buffer (pass with {@link DnnlLib.mdPtr}). */
export type MemDesc = Uint8Array;

/**
 * A primitive ready to execute: its argument list with one memory object per argument. It owns
 * its primitive, its memory objects and its primitive descriptor, which
 * {@link DnnlLib.destroy} frees.
 */
export interface Exec {
  prim: Deno.PointerValue;
  /** Its primitive descriptor (memory descriptors queried from it live as long as it does). */
  pd: Deno.PointerValue;
  /** `dnnl_exec_arg_t[]` (int arg; dnnl_memory_t memory), 16 bytes each. */
  args: Uint8Array;
  /** Memory objects in argument order (their data handles are set at each run). */
  mems: Deno.PointerValue[];
  /** Argument kinds, in the same order. */
  kinds: number[];
  /** oneDNN's implementation name (e.g. `brg:avx512_core`). */
  impl: string;
  /** OpenMP threads it was created for (and runs with). */
  threads: number;
}

/**
 * An argument's memory descriptor: a buffer, a pointer to one (e.g. queried from another
 * primitive), or a `DNNL.query…Md` kind asked of the primitive being built.
 */
export type ArgMd = MemDesc | Deno.PointerValue | number;

/** What {@link DnnlLib.primitive} builds: one op descriptor → primitive descriptor → primitive. */
export interface PrimitiveSpec {
  /** For error messages, e.g. `conv 2,8,8,16,16,3,1,1 forward`. */
  what: string;
  /** Fill the op descriptor buffer `op` (a oneDNN `dnnl_*_desc_init` call); returns its status. */
  init: (op: Uint8Array) => number;
  /** The forward primitive a backward one is created against (oneDNN's hint). */
  hint?: Exec;
  /**
   * Arguments in the order {@link DnnlLib.run} takes their addresses: `[DNNL.arg…, md]`, where a
   * number `md` is a `DNNL.query…Md` kind: the layout the primitive chose (`format_tag_any`).
   */
  args: [number, ArgMd][];
}

/** The loaded library with the helpers the engine uses. */
export interface DnnlLib {
  /** e.g. `2.6.3`. */
  version: string;
  /** The ISA oneDNN dispatches to, e.g. `avx512_core`. */
  isa: string;
  /** OpenMP threads oneDNN uses on the calling thread. */
  threads: number;
  /** Raw symbols. */
  sym: DnnlSymbols;
  engine: Deno.PointerValue;
  stream: Deno.PointerValue;
  /** A float32 memory descriptor with `dims` (oneDNN's logical order) and a format tag. */
  md(dims: number[], tag: number): MemDesc;
  /** A float32 memory descriptor with `dims` and explicit `strides` (in elements). */
  mdStrided(dims: number[], strides: number[]): MemDesc;
  /** Pointer to a descriptor buffer. */
  ptr(buf: Uint8Array): Deno.PointerValue;
  /** A memory descriptor queried from a primitive descriptor (pointer owned by the pd). */
  query(pd: Deno.PointerValue, what: number): Deno.PointerValue;
  /** Whether two memory descriptors are equal. */
  equal(a: Deno.PointerValue, b: Deno.PointerValue): boolean;
  /** Bytes of a memory descriptor's buffer. */
  size(md: Deno.PointerValue): number;
  /**
   * The one way the engine builds a primitive: the op descriptor ({@link PrimitiveSpec.init}), its
   * primitive descriptor (against `hint`'s for a backward primitive, for the thread count of
   * {@link DnnlLib.withThreads}), and the primitive with one memory object per argument, each
   * checked to be the layout the primitive expects. Throws naming `what` and the failing step.
   */
  primitive(spec: PrimitiveSpec): Exec;
  /** A reorder primitive from `src` to `dst` (memory descriptors). */
  reorder(src: Deno.PointerValue, dst: Deno.PointerValue, what: string): Exec;
  /**
   * Free primitives made by {@link DnnlLib.primitive} / {@link DnnlLib.reorder}, given together
   * when some were made against others' descriptors (a backward primitive's hint): first every
   * primitive and memory object, then the primitive descriptors, the later-made first.
   */
  destroy(execs: Exec[]): void;
  /** Run `e` with one address per argument (in the order of `e.kinds`). */
  run(e: Exec, addrs: number[]): void;
  /**
   * Create primitives inside `f` for `threads` OpenMP threads (≤ {@link DnnlLib.threads}); they
   * run with that many. oneDNN sizes a primitive's work split and scratchpad for the thread count
   * at creation, so creation and execution use the same count.
   */
  withThreads<T>(threads: number, f: () => T): T;
}

/** Throw a readable error naming `what` when a oneDNN call returned a failure status. */
export function check(status: number, what: string): void {
  if (status !== 0) {
    const names = [
      "success",
      "out_of_memory",
      "invalid_arguments",
      "unimplemented",
      "iterator_ends",
      "runtime_error",
      "not_required",
    ];
    throw new Error(`oneDNN: ${what} failed with dnnl_${names[status] ?? `status ${status}`}`);
  }
}

function readPointer(buf: Uint8Array): Deno.PointerValue {
  const v = new BigUint64Array(buf.buffer, buf.byteOffset, 1)[0];
  return Deno.UnsafePointer.create(v);
}

let loaded: DnnlLib | null = null;

/** The library file {@link loadDnnl} opens: `RUL_ONEDNN_LIB`, else `libdnnl.so.2`. */
export function dnnlLibraryName(): string {
  const env = Deno.env.get("RUL_ONEDNN_LIB");
  return env !== undefined && env !== "" ? env : "libdnnl.so.2";
}

/**
 * How long an idle OpenMP thread spins before it sleeps (libgomp's `GOMP_SPINCOUNT`, in
 * iterations), unless the user set `GOMP_SPINCOUNT` or `OMP_WAIT_POLICY`. libgomp's default
 * (300 000 iterations, ~1 ms or more) keeps oneDNN's threads spinning through the wasm kernels
 * and JavaScript that run between two primitives, on the same cores as the wasm threads: the
 * fused Adam update took 19 ms after a backward pass instead of 10-11 ms. Measured with
 * `bench/train_step.ts --sizes 64 --batches 16` (2 threads, idle machine, 3 interleaved runs
 * each, img/s): default 151-157, passive 155-160, 1 000: 164-170, 10 000: 166-168, 100 000:
 * 155-166.
 */
const GOMP_SPINCOUNT = 10_000;

/**
 * Open oneDNN ({@link dnnlLibraryName}; and libgomp for the thread count) and create a CPU
 * engine and stream. Returns the library or throws with the reason (library missing, symbol
 * missing, not oneDNN 2.x, no engine).
 */
export function loadDnnl(threads: number): DnnlLib {
  if (loaded) return loaded;
  const name = dnnlLibraryName();
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  // libgomp reads its environment once, when it loads (with libdnnl.so.2, a dependency): the
  // spin setting is put there for the load only and removed after, so child processes (such as
  // the PyTorch side of the benchmarks) keep their own defaults.
  const spin = Deno.env.get("GOMP_SPINCOUNT") === undefined &&
    Deno.env.get("OMP_WAIT_POLICY") === undefined;
  if (spin) Deno.env.set("GOMP_SPINCOUNT", String(GOMP_SPINCOUNT));
  try {
    lib = Deno.dlopen(name, SYMBOLS);
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new Error(`cannot open ${name}: ${why}`);
  } finally {
    if (spin) Deno.env.delete("GOMP_SPINCOUNT");
  }
  const s = lib.symbols;
  let ompThreads = 0;
  let setOmp: ((n: number) => void) | null = null;
  try {
    const gomp = Deno.dlopen("libgomp.so.1", GOMP_SYMBOLS);
    gomp.symbols.omp_set_num_threads(threads);
    ompThreads = gomp.symbols.omp_get_max_threads();
    setOmp = (n) => gomp.symbols.omp_set_num_threads(n);
  } catch {
    ompThreads = 0;
  }
  /** The OpenMP thread count in effect, and the one new primitives are created for. */
  let current = ompThreads, creating = ompThreads;
  const useThreads = (n: number) => {
    if (setOmp && n !== current && n > 0) {
      setOmp(n);
      current = n;
    }
  };
  const ver = new Deno.UnsafePointerView(s.dnnl_version() as Deno.PointerObject);
  const version = `${ver.getInt32(0)}.${ver.getInt32(4)}.${ver.getInt32(8)}`;
  if (ver.getInt32(0) !== 2) {
    lib.close();
    throw new Error(`${name} is oneDNN ${version}; the engine's bindings need oneDNN 2.x`);
  }
  const isaCode = s.dnnl_get_effective_cpu_isa();
  const isa = ISA_NAMES[isaCode] ?? `isa 0x${isaCode.toString(16)}`;
  const out = new Uint8Array(8);
  check(s.dnnl_engine_create(out, 1, 0n) as number, "dnnl_engine_create(cpu)");
  const engine = readPointer(out);
  check(s.dnnl_stream_create(out, engine, 1) as number, "dnnl_stream_create");
  const stream = readPointer(out);
  const ptr = (buf: Uint8Array) => Deno.UnsafePointer.of(buf as Uint8Array<ArrayBuffer>);
  const md = (d: number[], tag: number): MemDesc => {
    const m = new Uint8Array(MD_BYTES);
    check(
      s.dnnl_memory_desc_init_by_tag(m, d.length, dims(d), DNNL.f32, tag),
      `dnnl_memory_desc_init_by_tag([${d}], tag ${tag})`,
    );
    return m;
  };
  const mdStrided = (d: number[], strides: number[]): MemDesc => {
    const m = new Uint8Array(MD_BYTES);
    check(
      s.dnnl_memory_desc_init_by_strides(m, d.length, dims(d), DNNL.f32, dims(strides)),
      `dnnl_memory_desc_init_by_strides([${d}], strides [${strides}])`,
    );
    return m;
  };
  // Primitive descriptors decide their work split for the thread count in effect.
  const pd = (op: Uint8Array, hint: Deno.PointerValue, what: string): Deno.PointerValue => {
    useThreads(creating);
    const o = new Uint8Array(8);
    check(s.dnnl_primitive_desc_create(o, op, null, engine, hint), `${what}: primitive desc`);
    return readPointer(o);
  };
  const implOf = (p: Deno.PointerValue): string => {
    const o = new Uint8Array(8);
    if (s.dnnl_primitive_desc_query(p, DNNL.queryImplInfoStr, 0, o) !== 0) return "?";
    const str = readPointer(o);
    return str ? new Deno.UnsafePointerView(str).getCString() : "?";
  };
  const exec = (p: Deno.PointerValue, args: [number, ArgMd][], what: string): Exec => {
    const o = new Uint8Array(8);
    // Until the primitive owns `p`, a failure must free it (and what was made so far).
    const mems: Deno.PointerValue[] = [];
    let prim: Deno.PointerValue = null;
    try {
      check(s.dnnl_primitive_create(o, p), `${what}: primitive`);
      prim = readPointer(o);
      const argBuf = new Uint8Array(16 * args.length);
      const dv = new DataView(argBuf.buffer);
      args.forEach(([kind, arg], i) => {
        const m = typeof arg === "number"
          ? s.dnnl_primitive_desc_query_md(p, arg, 0)
          : arg instanceof Uint8Array
          ? ptr(arg)
          : arg;
        // The layout the primitive expects for this argument must be the caller's.
        const want = s.dnnl_primitive_desc_query_md(p, QUERY_EXEC_ARG_MD, kind);
        if (!m || !want || s.dnnl_memory_desc_equal(want, m) !== 1) {
          throw new Error(`oneDNN: ${what}: argument ${kind} has another layout than expected`);
        }
        check(s.dnnl_memory_create(o, m, engine, 0n), `${what}: memory for arg ${kind}`);
        const mem = readPointer(o);
        mems.push(mem);
        dv.setInt32(16 * i, kind, true);
        dv.setBigUint64(16 * i + 8, BigInt(Deno.UnsafePointer.value(mem)), true);
      });
      return {
        prim,
        pd: p,
        args: argBuf,
        mems,
        kinds: args.map((a) => a[0]),
        impl: implOf(p),
        threads: creating,
      };
    } catch (e) {
      for (const m of mems) s.dnnl_memory_destroy(m);
      if (prim) s.dnnl_primitive_destroy(prim);
      s.dnnl_primitive_desc_destroy(p);
      throw e;
    }
  };
  loaded = {
    version,
    isa,
    threads: ompThreads,
    sym: s,
    engine,
    stream,
    md,
    mdStrided,
    ptr,
    query: (p, what) => s.dnnl_primitive_desc_query_md(p, what, 0),
    equal: (a, b) => s.dnnl_memory_desc_equal(a, b) === 1,
    size: (m) => Number(s.dnnl_memory_desc_get_size(m)),
    primitive: (spec) => {
      const op = new Uint8Array(OP_DESC_BYTES);
      check(spec.init(op), `${spec.what}: op desc`);
      return exec(pd(op, spec.hint?.pd ?? null, spec.what), spec.args, spec.what);
    },
    destroy: (execs) => {
      for (const e of execs) {
        for (const m of e.mems) s.dnnl_memory_destroy(m);
        s.dnnl_primitive_destroy(e.prim);
        e.mems = [];
      }
      for (let i = execs.length - 1; i >= 0; i--) s.dnnl_primitive_desc_destroy(execs[i].pd);
    },
    reorder: (src, dst, what) => {
      const o = new Uint8Array(8);
      check(
        s.dnnl_reorder_primitive_desc_create(o, src, engine, dst, engine, null),
        `${what}: reorder desc`,
      );
      const rpd = readPointer(o);
      return exec(rpd, [[DNNL.argSrc, src], [DNNL.argDst, dst]], what);
    },
    withThreads: (n, f) => {
      const before = creating;
      creating = setOmp ? Math.max(1, Math.min(n, ompThreads)) : ompThreads;
      useThreads(creating);
      try {
        return f();
      } finally {
        creating = before;
        useThreads(before);
      }
    },
    run: (e, addrs) => {
      useThreads(e.threads);
      for (let i = 0; i < e.mems.length; i++) {
        // Deno passes a number to a usize parameter as is (typed bigint; a number avoids a
        // BigInt per call; heap addresses are below 2^53).
        s.dnnl_memory_set_data_handle(e.mems[i], addrs[i] as unknown as bigint);
      }
      check(
        s.dnnl_primitive_execute(e.prim, stream, e.mems.length, e.args),
        `execute ${e.impl}`,
      );
    },
  };
  return loaded;
}

/** `dnnl_dims_t` (12 int64) holding `v`. */
export function dims(v: number[]): Uint8Array {
  const d = new BigInt64Array(12);
  v.forEach((x, i) => d[i] = BigInt(x));
  return new Uint8Array(d.buffer);
}
