/**
 * Backend selection for TF.js. Order when nothing is requested: `tfjs-node-gpu`, `tfjs-node`
 * (optional native packages, skipped silently when absent), WebGPU when Deno's adapter is a real
 * GPU (a software or fallback adapter such as Mesa's llvmpipe/lavapipe or SwiftShader is skipped:
 * it is slower than wasm), then `onednn` (a TF.js tensor store with the heavy kernels on oneDNN
 * through Deno FFI; needs `libdnnl.so.2`, Debian package `libdnnl2`), then wasm (SIMD,
 * multi-threaded under Deno through a worker shim, the engine's own wasm kernels), then cpu.
 * Override with the `backend` option or the `RUL_BACKEND`
 * environment variable (option > env > auto); thread count with `threads` / `RUL_THREADS`.
 *
 * Importing this module also registers TF.js's gradient functions (they ship in the
 * `@tensorflow/tfjs` package, not in `tfjs-core`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs"; // side effect: registers every op's gradient
import "@tensorflow/tfjs-backend-cpu";
import * as wasmBackend from "@tensorflow/tfjs-backend-wasm";
import os from "node:os";
import { fastGradientsActive, setFastGradients } from "./engine/fast_state.ts";
import { installWasmThreadShim, releaseWasmWorkers } from "./engine/wasm_threads.ts";
import { initWasmGemm, wasmGemmActive } from "./engine/wasm_gemm.ts";
import { installSharedWasmIdentity } from "./engine/wasm_identity.ts";
import {
  initOnednn,
  moveOnednnStoreToCpu,
  onednnActive,
  type OnednnInfo,
  type OnednnStore,
} from "./engine/onednn.ts";
import { dnnlLibraryName, loadDnnl } from "./engine/onednn_ffi.ts";

export { fastGradientsActive, setFastGradients };

/** Backends {@link initBackend} can be asked for. */
export type BackendChoice =
  | "auto"
  | "tfjs-node-gpu"
  | "tfjs-node"
  | "webgpu"
  | "onednn"
  | "wasm"
  | "cpu";

/** Options of {@link initBackend}. */
export interface BackendOptions {
  /** Which backend to use (default: `RUL_BACKEND`, else `auto`). */
  backend?: BackendChoice;
  /** wasm worker threads (default: `RUL_THREADS`, else `os.cpus().length`); 1 = no workers. */
  threads?: number;
  /**
   * wasm only: run the convolutions on the engine's own GEMM kernels (default: `RUL_GEMM`, `0`
   * turns them off; else on). Off, the engine uses its XNNPACK-based formulations.
   */
  gemm?: boolean;
  /**
   * `onednn` only: which TF.js backend holds the tensors (default: `RUL_ONEDNN_STORE`, else
   * {@link DEFAULT_ONEDNN_STORE}): `wasm` (the heap, at most 4 GB in all) or `cpu` (JavaScript
   * typed arrays, no size limit but the host's memory).
   */
  onednnStore?: OnednnStore;
}

/** The native engine's default tensor store. */
export const DEFAULT_ONEDNN_STORE: OnednnStore = "wasm";

/** What {@link initBackend} chose. */
export interface BackendInfo {
  /** TF.js backend name (`wasm`, `cpu`, `tensorflow`, `webgpu`). */
  name: string;
  /** Worker threads used by the backend (1 when single-threaded). */
  threads: number;
  /** Whether the engine's fast convolution gradients are active. */
  fastGradients: boolean;
  /** wasm only: whether the SIMD binary is in use. */
  simd?: boolean;
  /**
   * wasm only: threads of the engine's own GEMM kernels for the convolution gradients (0 when
   * they could not start and the XNNPACK-based formulations are used; the reason is in
   * `skipped`).
   */
  gemmThreads?: number;
  /**
   * `onednn` only: the oneDNN library behind the heavy kernels (version, the ISA it dispatches
   * to, its OpenMP threads). The TF.js backend (`name`) is then `wasm`, which holds the tensors.
   */
  onednn?: OnednnInfo;
  /** The package that provides the backend. */
  package: string;
  /** Backends tried before this one and why they were skipped. */
  skipped: string[];
  /** webgpu only: the adapter in use. */
  adapter?: WebgpuAdapterReport;
}

/** What Deno's WebGPU adapter says about itself ({@link probeWebgpuAdapter}). */
export interface WebgpuAdapterReport {
  /** `adapter.info.vendor` (a name or a PCI id). */
  vendor: string;
  /** `adapter.info.architecture`. */
  architecture: string;
  /** `adapter.info.device`. */
  device: string;
  /** `adapter.info.description`, e.g. `NVIDIA H200` or `llvmpipe (LLVM 15.0.6, 256 bits)`. */
  description: string;
  /** Whether the adapter is a software or fallback adapter (see {@link isSoftwareAdapter}). */
  software: boolean;
  /** Why it counts as software (empty for a real GPU). */
  softwareReason: string;
  /** The adapter's optional features (e.g. `timestamp-query`, `shader-f16`). */
  features: string[];
  /** `maxBufferSize` and `maxStorageBufferBindingSize` in bytes. */
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
}

/** Adapter names of software renderers: Mesa llvmpipe/lavapipe, SwiftShader, WARP, softpipe. */
const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|softpipe|microsoft basic render|\bwarp\b/i;

/**
 * Whether an adapter is a software or fallback one: `isFallbackAdapter` (on the adapter or, in
 * newer WebGPU, on `adapter.info`), or a vendor/device/description naming a software renderer
 * (Mesa's vendor id 0x10005 = 65541 is Mesa's software Vulkan). Returns the reason, or `""` for
 * a real GPU.
 */
export function isSoftwareAdapter(a: {
  isFallbackAdapter?: boolean;
  vendor?: string;
  device?: string;
  description?: string;
  architecture?: string;
}): string {
  if (a.isFallbackAdapter) return "the adapter reports isFallbackAdapter";
  for (const k of ["description", "device", "vendor", "architecture"] as const) {
    const v = a[k] ?? "";
    const m = v.match(SOFTWARE_NAMES);
    if (m) return `${k} '${v}' names the software renderer ${m[0]}`;
  }
  if (a.vendor === "65541" || a.vendor?.toLowerCase() === "0x10005") {
    return `vendor ${a.vendor} is Mesa's software Vulkan (0x10005)`;
  }
  return "";
}

/**
 * Run `fn` (which creates Deno's Vulkan instance) with `XDG_RUNTIME_DIR` set when it is not:
 * without it Mesa's Wayland code prints `error: XDG_RUNTIME_DIR is invalid or not set` twice on
 * every start (harmless, but alarming on a machine without a GPU). Any value silences it; the
 * variable is removed again afterwards so child processes see the environment unchanged.
 */
async function quietVulkan<T>(fn: () => Promise<T>): Promise<T> {
  if (Deno.env.get("XDG_RUNTIME_DIR") !== undefined) return await fn();
  Deno.env.set("XDG_RUNTIME_DIR", os.tmpdir());
  try {
    return await fn();
  } finally {
    Deno.env.delete("XDG_RUNTIME_DIR");
  }
}

/**
 * Ask Deno's WebGPU for its (high-performance) adapter and describe it; the reason as a string
 * when there is none. Does not initialise TF.js.
 */
export async function probeWebgpuAdapter(): Promise<WebgpuAdapterReport | string> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) return "this Deno has no navigator.gpu";
  let adapter: GPUAdapter | null;
  try {
    adapter = await quietVulkan(() => gpu.requestAdapter({ powerPreference: "high-performance" }));
  } catch (e) {
    return `requestAdapter failed: ${e instanceof Error ? e.message : e}`;
  }
  if (!adapter) return "no WebGPU adapter (no Vulkan/Metal/D3D12 driver found)";
  const info = (adapter.info ?? {}) as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const fields = {
    vendor: String(info.vendor ?? ""),
    architecture: String(info.architecture ?? ""),
    device: String(info.device ?? ""),
    description: String(info.description ?? ""),
  };
  const fallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    info.isFallbackAdapter;
  const softwareReason = isSoftwareAdapter({ ...fields, isFallbackAdapter: fallback });
  return {
    ...fields,
    software: softwareReason !== "",
    softwareReason,
    features: [...adapter.features].map(String).sort(),
    limits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    },
  };
}

const CHOICES: BackendChoice[] = [
  "auto",
  "tfjs-node-gpu",
  "tfjs-node",
  "webgpu",
  "onednn",
  "wasm",
  "cpu",
];

const INSTALL: Record<string, string> = {
  "tfjs-node-gpu": "npm install --save-exact @tensorflow/tfjs-node-gpu@4.22.0 " +
    "(needs lifecycle scripts allowed, Linux x86-64, CUDA 11.2 + cuDNN 8.1; see docs/gpu.md)",
  "tfjs-node": "npm install --save-exact @tensorflow/tfjs-node@4.22.0 " +
    "(needs lifecycle scripts allowed; downloads libtensorflow)",
  webgpu: "npm install --save-exact @tensorflow/tfjs-backend-webgpu@4.22.0 (see docs/gpu.md)",
  onednn: "apt-get install libdnnl2 (Debian/Ubuntu: oneDNN 2.x, libdnnl.so.2)",
};

/** The line printed when `auto` falls back from oneDNN to the wasm engine (`why`: the reason). */
export function onednnMissingHint(why: string): string {
  return `initBackend: oneDNN unavailable (${why}); CPU training runs on the slower wasm ` +
    "engine; enable the native CPU engine with: apt-get install libdnnl2";
}

let current: BackendInfo | undefined;

/** Parse a thread count from the option or `RUL_THREADS`; throws on a bad value. */
function resolveThreads(opt: number | undefined): number {
  const env = Deno.env.get("RUL_THREADS");
  const raw = opt ?? (env !== undefined && env !== "" ? Number(env) : os.cpus().length);
  if (!Number.isInteger(raw) || raw < 1) {
    throw new Error(
      `initBackend: threads must be a positive integer, got ${opt ?? `RUL_THREADS=${env}`}`,
    );
  }
  return raw;
}

/** Whether to start the GEMM kernels: the option, else `RUL_GEMM` (0/1), else on. */
function resolveGemm(opt: boolean | undefined): boolean {
  if (opt !== undefined) return opt;
  const env = Deno.env.get("RUL_GEMM");
  if (env === undefined || env === "" || env === "1") return true;
  if (env === "0") return false;
  throw new Error(`initBackend: RUL_GEMM must be 0 or 1, got RUL_GEMM=${env}`);
}

/**
 * Whether the native engine's store was chosen by the caller (option or `RUL_ONEDNN_STORE`):
 * then {@link fitOnednnStore} leaves it alone.
 */
let storePinned = false;

/** The native engine's tensor store: the option, else `RUL_ONEDNN_STORE`, else the default. */
function resolveStore(opt: OnednnStore | undefined): OnednnStore {
  const env = Deno.env.get("RUL_ONEDNN_STORE");
  storePinned = opt !== undefined || (env !== undefined && env !== "");
  const raw = opt ?? (env !== undefined && env !== "" ? env : DEFAULT_ONEDNN_STORE);
  if (raw !== "wasm" && raw !== "cpu") {
    const where = opt !== undefined ? `option onednnStore=${opt}` : `RUL_ONEDNN_STORE=${env}`;
    throw new Error(`initBackend: ${where} is not one of wasm, cpu`);
  }
  return raw;
}

/** Parse the backend from the option or `RUL_BACKEND`; throws on an unknown name. */
function resolveChoice(opt: BackendChoice | undefined): BackendChoice {
  const env = Deno.env.get("RUL_BACKEND");
  const raw = opt ?? (env !== undefined && env !== "" ? env : "auto");
  if (!CHOICES.includes(raw as BackendChoice)) {
    const where = opt !== undefined ? `option backend=${opt}` : `RUL_BACKEND=${env}`;
    throw new Error(`initBackend: unknown backend in ${where}; expected one of ${CHOICES}`);
  }
  return raw as BackendChoice;
}

/** Try a native tfjs-node package; returns the failure reason or null on success. */
async function tryNode(pkg: "tfjs-node-gpu" | "tfjs-node"): Promise<string | null> {
  try {
    // A computed specifier keeps `deno check` from requiring the optional package.
    const spec = `@tensorflow/${pkg}`;
    await import(spec);
    if (!(await tf.setBackend("tensorflow"))) return "backend 'tensorflow' failed to initialise";
    return null;
  } catch (e) {
    return e instanceof Error ? e.message.split("\n")[0] : String(e);
  }
}

/**
 * Try the WebGPU backend (Deno's built-in WebGPU); returns the failure reason or null. Under
 * `auto` (`realGpuOnly`) a software adapter is refused with the reason.
 */
async function tryWebgpu(
  realGpuOnly: boolean,
  report: { adapter?: WebgpuAdapterReport },
): Promise<string | null> {
  try {
    const probe = await probeWebgpuAdapter();
    if (typeof probe === "string") return probe;
    report.adapter = probe;
    if (realGpuOnly && probe.software) {
      return `software adapter '${probe.description || probe.vendor}' (${probe.softwareReason}; ` +
        "slower than wasm; RUL_BACKEND=webgpu uses it anyway)";
    }
    const spec = "@tensorflow/tfjs-backend-webgpu";
    await import(spec);
    if (!(await quietVulkan(() => tf.setBackend("webgpu")))) {
      return "backend 'webgpu' failed to initialise";
    }
    return null;
  } catch (e) {
    return e instanceof Error ? e.message.split("\n")[0] : String(e);
  }
}

/** Initialise wasm with `threads` workers (1 = single-threaded); returns the failure or null. */
async function tryWasm(threads: number): Promise<string | null> {
  try {
    const dist = new URL(".", import.meta.resolve("@tensorflow/tfjs-backend-wasm"));
    // A directory prefix (not a file map) so that every binary, threaded included, is found.
    try {
      wasmBackend.setWasmPaths(dist.pathname);
    } catch {
      // Already set by an earlier (failed) attempt.
    }
    if (threads > 1) {
      installWasmThreadShim();
      tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
      wasmBackend.setThreadsCount(threads);
    } else {
      tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    }
    // The wasm backend caps its thread pool at half of os.cpus() (emscripten asks `os` through
    // Node's require, which Deno shares): report 2×threads cores while it initialises.
    const cpus = os.cpus;
    if (threads > 1) {
      os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => cpus()[i % cpus().length]);
    }
    try {
      if (!(await tf.setBackend("wasm"))) return "backend 'wasm' failed to initialise";
      installSharedWasmIdentity();
    } finally {
      os.cpus = cpus;
      if (threads > 1) releaseWasmWorkers();
    }
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * Initialise the requested (or best available) backend once and report it. Calling it again
 * returns the first result; a missing optional backend is skipped under `auto`, an explicitly
 * requested one that cannot load is an error naming the reason and the install command.
 */
export async function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  if (current) return current;
  const choice = resolveChoice(options.backend);
  const threads = resolveThreads(options.threads);
  const gemm = resolveGemm(options.gemm);
  const store = resolveStore(options.onednnStore);
  const skipped: string[] = [];
  const fail = (name: string, why: string): never => {
    const how = INSTALL[name] ? `; install with: ${INSTALL[name]}` : "";
    throw new Error(`initBackend: backend '${name}' was requested but cannot load: ${why}${how}`);
  };
  let pkg = "";
  if (choice === "auto" || choice === "tfjs-node-gpu" || choice === "tfjs-node") {
    const order: ("tfjs-node-gpu" | "tfjs-node")[] = choice === "auto"
      ? ["tfjs-node-gpu", "tfjs-node"]
      : [choice];
    for (const p of order) {
      const why = await tryNode(p);
      if (why === null) {
        pkg = `@tensorflow/${p}`;
        break;
      }
      if (choice !== "auto") fail(p, why);
      skipped.push(`${p}: ${why}`);
    }
  }
  const gpuReport: { adapter?: WebgpuAdapterReport } = {};
  if (!pkg && (choice === "auto" || choice === "webgpu")) {
    const why = await tryWebgpu(choice === "auto", gpuReport);
    if (why === null) pkg = "@tensorflow/tfjs-backend-webgpu";
    else if (choice === "webgpu") fail("webgpu", why);
    else skipped.push(`webgpu: ${why}`);
  }
  let simd: boolean | undefined;
  let gemmThreads: number | undefined;
  let usedThreads = 1;
  let onednn: OnednnInfo | undefined;
  // oneDNN first (it needs no backend): whether it loads decides between the native engine and
  // the wasm engine, and its store decides which TF.js backend holds the tensors.
  let dnnlWhy: string | null = "not requested";
  if (!pkg && (choice === "auto" || choice === "onednn")) {
    try {
      loadDnnl(threads);
      dnnlWhy = null;
    } catch (e) {
      dnnlWhy = e instanceof Error ? e.message.split("\n")[0] : String(e);
      if (choice === "onednn") fail("onednn", dnnlWhy);
      skipped.push(`onednn: ${dnnlWhy}`);
      console.error(onednnMissingHint(dnnlWhy));
    }
  }
  if (!pkg && dnnlWhy === null && store === "cpu") {
    if (!(await tf.setBackend("cpu"))) fail("onednn", "backend 'cpu' failed to initialise");
    quietCpuBanner();
    pkg = "@tensorflow/tfjs-backend-cpu";
    onednn = initOnednn(threads);
    usedThreads = threads;
  }
  if (!pkg && (choice === "auto" || choice === "wasm" || choice === "onednn")) {
    let why = await tryWasm(threads);
    if (why !== null && threads > 1) {
      skipped.push(`wasm with ${threads} threads: ${why}`);
      why = await tryWasm(1);
    }
    if (why === null) {
      pkg = "@tensorflow/tfjs-backend-wasm";
      simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT") as boolean;
      usedThreads = wasmBackend.getThreadsCount();
      if (!gemm) {
        gemmThreads = 0;
        skipped.push("wasm GEMM kernels: turned off (gemm: false or RUL_GEMM=0)");
      } else {
        try {
          gemmThreads = (await initWasmGemm(usedThreads)).threads;
        } catch (e) {
          gemmThreads = 0;
          skipped.push(`wasm GEMM kernels: ${e instanceof Error ? e.message : e}`);
        }
      }
      if (dnnlWhy === null) onednn = initOnednn(usedThreads);
    } else if (choice === "wasm" || choice === "onednn") {
      fail(choice, why);
    } else {
      skipped.push(`wasm: ${why}`);
    }
  }
  if (!pkg) {
    if (!(await tf.setBackend("cpu"))) fail("cpu", "backend 'cpu' failed to initialise");
    pkg = "@tensorflow/tfjs-backend-cpu";
  }
  await tf.ready();
  current = {
    name: tf.getBackend(),
    threads: usedThreads,
    fastGradients: fastGradientsActive(),
    ...(simd === undefined ? {} : { simd }),
    ...(gemmThreads === undefined ? {} : { gemmThreads }),
    ...(onednn === undefined ? {} : { onednn }),
    package: onednn ? `${pkg} + ${dnnlLibraryName()}` : pkg,
    skipped,
    ...(pkg === "@tensorflow/tfjs-backend-webgpu" ? { adapter: gpuReport.adapter } : {}),
  };
  return current;
}

/**
 * TF.js cpu prints, at its first tensor, advice to install tfjs-node "to speed things up"; as the
 * native engine's store the kernels that matter run on oneDNN, so the advice is wrong there: the
 * backend is marked as already used (its `firstUse` flag, read only for that message).
 */
function quietCpuBanner(): void {
  const b = tf.findBackend("cpu") as unknown as { firstUse?: boolean } | null;
  if (b && "firstUse" in b) b.firstUse = false;
}

/**
 * Keep the native engine's tensors outside the wasm heap when a training step needs more than it
 * holds: when oneDNN runs on its wasm store, the store was not pinned (option `onednnStore` or
 * `RUL_ONEDNN_STORE`) and `needBytes` exceeds `heapBytes`, TF.js cpu becomes the active backend
 * and the engine's store (the `RUL_ONEDNN_STORE=cpu` setting, chosen by itself). The trainer
 * calls it before building the model. Returns the one line that says so, or null when nothing
 * changed (another backend, a pinned store, or a step that fits).
 */
export async function fitOnednnStore(
  needBytes: number,
  heapBytes: number,
  what: string,
): Promise<string | null> {
  const d = current?.onednn;
  if (!current || !d || d.store !== "wasm" || storePinned || needBytes <= heapBytes) return null;
  if (!(await tf.setBackend("cpu"))) return null;
  quietCpuBanner();
  const onednn = moveOnednnStoreToCpu();
  current = {
    ...current,
    name: "cpu",
    threads: onednn.threads,
    onednn,
    package: `@tensorflow/tfjs-backend-cpu + ${dnnlLibraryName()}`,
  };
  delete current.simd;
  delete current.gemmThreads;
  const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
  return `native engine: ${what} needs about ${gib(needBytes)}, more than the wasm heap ` +
    `(${gib(heapBytes)}): tensors on the cpu store (as RUL_ONEDNN_STORE=cpu; ` +
    "RUL_ONEDNN_STORE=wasm keeps the heap and refuses the step)";
}

/**
 * One line describing the active backend and why it was chosen, e.g. `wasm (SIMD, 2 threads),
 * fast gradients on [...]; skipped webgpu: software adapter ...`, `webgpu on <adapter description>
 * (real GPU), fast gradients off [...]` (never seen yet: no real GPU used) or, with oneDNN,
 * `wasm (SIMD, 2 threads) + oneDNN 2.6.3
 * (avx512_core, 2 OpenMP threads, tensors on wasm), fast gradients on (oneDNN kernels) [...]`.
 */
export function describeBackend(): string {
  if (!current) return "no backend initialised (call initBackend first)";
  const extra: string[] = [];
  if (current.simd !== undefined) extra.push(current.simd ? "SIMD" : "no SIMD");
  const a = current.adapter;
  const on = a
    ? ` on ${a.description || `vendor ${a.vendor} device ${a.device}`} (${
      a.software ? `software adapter: ${a.softwareReason}` : "real GPU"
    })`
    : "";
  if (current.name === "wasm") {
    extra.push(`${current.threads} thread${current.threads === 1 ? "" : "s"}`);
  }
  const gemm = onednnActive()
    ? " (oneDNN kernels)"
    : current.name === "wasm" && fastGradientsActive()
    ? (wasmGemmActive() ? " (wasm GEMM kernels)" : " (XNNPACK formulations)")
    : "";
  const grads = `fast gradients ${fastGradientsActive() ? "on" : "off"}${gemm}`;
  const d = current.onednn;
  const native = d
    ? ` + oneDNN ${d.version} (${d.isa}, ${d.threads} OpenMP thread${
      d.threads === 1 ? "" : "s"
    }, tensors on ${d.store})`
    : "";
  // Why the faster candidates were passed over (only what matters to a reader: GPU routes).
  const why = current.skipped.filter((s) => s.startsWith("webgpu:"));
  return `${current.name}${on}${
    extra.length ? ` (${extra.join(", ")})` : ""
  }${native}, ${grads} [${current.package}]${why.length ? `; skipped ${why.join("; ")}` : ""}`;
}
