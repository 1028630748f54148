import * as tf from "@tensorflow/tfjs-core";
import {
  describeBackend,
  fastGradientsActive,
  initBackend,
  isSoftwareAdapter,
  setFastGradients,
} from "../lib/backend.ts";
import { dependency } from "./_deps.ts";

Deno.test("initBackend picks a working backend and reports it", async () => {
  const info = await initBackend();
  if (!["wasm", "cpu", "tensorflow", "webgpu"].includes(info.name)) {
    throw new Error(`unexpected backend ${info.name}`);
  }
  if (!Number.isInteger(info.threads) || info.threads < 1) {
    throw new Error(`threads ${info.threads}`);
  }
  const s = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]);
  if (s !== 3) throw new Error(`1 + 2 = ${s}`);
  if (!describeBackend().startsWith(info.name)) throw new Error(describeBackend());
  if ((await initBackend({ backend: "cpu" })) !== info) {
    throw new Error("second call re-initialised");
  }
});

Deno.test("setFastGradients overrides the backend default", async () => {
  await initBackend();
  const def = fastGradientsActive();
  if (def !== ["wasm", "cpu"].includes(tf.getBackend())) throw new Error(`default ${def}`);
  setFastGradients(!def);
  const flipped = fastGradientsActive();
  setFastGradients(undefined);
  if (flipped === def || fastGradientsActive() !== def) throw new Error("override not applied");
});

const probeFile = new URL("./engine/_backend_probe.ts", import.meta.url).pathname;

/** Run the probe in a fresh process (initBackend is once per process). */
async function probe(opts: object, env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", probeFile, JSON.stringify(opts)],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const last = lines[lines.length - 1];
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`probe printed ${last}; stderr ${new TextDecoder().decode(out.stderr)}`);
  }
}

Deno.test("backend choice: option > RUL_BACKEND > auto; RUL_THREADS", async () => {
  const env = await probe({}, { RUL_BACKEND: "cpu" });
  if (!env.ok || env.info.name !== "cpu") throw new Error(JSON.stringify(env));
  const opt = await probe({ backend: "wasm", threads: 1 }, { RUL_BACKEND: "cpu" });
  if (!opt.ok || opt.info.name !== "wasm" || opt.info.threads !== 1) {
    throw new Error(JSON.stringify(opt));
  }
  const thr = await probe({ backend: "wasm" }, { RUL_THREADS: "1" });
  if (!thr.ok || thr.info.threads !== 1) throw new Error(JSON.stringify(thr));
});

Deno.test("wasm GEMM kernels: on by default, off with RUL_GEMM=0 or gemm: false", async () => {
  const on = await probe({ backend: "wasm", threads: 1 });
  if (!on.ok || on.info.gemmThreads !== 1 || !on.line.includes("wasm GEMM kernels")) {
    throw new Error(JSON.stringify(on));
  }
  const env = await probe({ backend: "wasm", threads: 1 }, { RUL_GEMM: "0" });
  if (!env.ok || env.info.gemmThreads !== 0 || !env.line.includes("XNNPACK formulations")) {
    throw new Error(JSON.stringify(env));
  }
  const opt = await probe({ backend: "wasm", threads: 1, gemm: false }, { RUL_GEMM: "1" });
  if (!opt.ok || opt.info.gemmThreads !== 0) throw new Error(JSON.stringify(opt));
  const bad = await probe({ backend: "wasm" }, { RUL_GEMM: "yes" });
  if (bad.ok || !bad.error.includes("RUL_GEMM=yes")) throw new Error(JSON.stringify(bad));
});

Deno.test("onednn: first CPU choice under auto; RUL_BACKEND=wasm excludes it; falls back", async () => {
  const auto = await probe({ threads: 2 });
  if (!auto.ok || auto.info.name !== "wasm" || !auto.info.onednn) {
    throw new Error(`auto did not pick oneDNN (libdnnl2 installed?): ${JSON.stringify(auto)}`);
  }
  if (auto.info.onednn.threads !== 2 || !auto.line.includes("oneDNN 2.")) {
    throw new Error(JSON.stringify(auto));
  }
  const forced = await probe({}, { RUL_BACKEND: "onednn", RUL_THREADS: "1" });
  if (!forced.ok || forced.info.onednn?.threads !== 1) throw new Error(JSON.stringify(forced));
  const wasm = await probe({}, { RUL_BACKEND: "wasm" });
  if (!wasm.ok || wasm.info.onednn || wasm.line.includes("oneDNN")) {
    throw new Error(`RUL_BACKEND=wasm still uses oneDNN: ${JSON.stringify(wasm)}`);
  }
  // Library absent: auto falls back to the wasm engine and says how to enable it (one line);
  // an explicit request is an error with the install command.
  const missing = { RUL_ONEDNN_LIB: "/nonexistent/libdnnl.so.2" };
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", probeFile, "{}"],
    env: missing,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "");
  const hints = new TextDecoder().decode(out.stderr).split("\n")
    .filter((l) => l.includes("apt-get install libdnnl2"));
  if (!r.ok || r.info.onednn || !r.line.includes("wasm GEMM kernels") || hints.length !== 1) {
    throw new Error(`fallback: ${JSON.stringify(r)}; hint lines ${JSON.stringify(hints)}`);
  }
  const req = await probe({ backend: "onednn" }, missing);
  if (
    req.ok || !req.error.includes("/nonexistent/libdnnl.so.2") || !req.error.includes("apt-get")
  ) {
    throw new Error(JSON.stringify(req));
  }
});

Deno.test("bad or unavailable backend requests give clear errors", async () => {
  const bogus = await probe({}, { RUL_BACKEND: "tpu" });
  if (bogus.ok || !bogus.error.includes("RUL_BACKEND=tpu")) throw new Error(JSON.stringify(bogus));
  const threads = await probe({ threads: 0 });
  if (threads.ok || !threads.error.includes("threads")) throw new Error(JSON.stringify(threads));
  // tfjs-node cannot be installed on these machines: requesting it must say why and how.
  const node = await probe({ backend: "tfjs-node" });
  if (node.ok) {
    // a machine with tfjs-node installed (an optional package, not a test dependency): the
    // request must then give that backend
    if (node.info.name !== "tensorflow") throw new Error(JSON.stringify(node));
    return;
  }
  if (!node.error.includes("tfjs-node") || !node.error.includes("npm install")) {
    throw new Error(JSON.stringify(node));
  }
});

Deno.test("Web Workers and node workers still work after initBackend({wasm, threads: 2})", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./engine/_worker_probe.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const r = JSON.parse(lines[lines.length - 1]);
  if (!r.ok) throw new Error(`${r.error}; stderr ${new TextDecoder().decode(out.stderr)}`);
  if (r.info.name !== "wasm" || r.info.threads !== 2) {
    throw new Error(`expected threaded wasm, got ${JSON.stringify(r.info)}`);
  }
  if (r.webAnswer !== 42) throw new Error(`web worker answered ${r.webAnswer}, expected 42`);
  if (r.nodeAnswer !== 42) throw new Error(`node worker answered ${r.nodeAnswer}, expected 42`);
  // 2 images × 14·14 outputs × 4 channels, each a sum of 3·3·8 ones.
  if (r.convSum !== 2 * 14 * 14 * 4 * 72) throw new Error(`conv sum ${r.convSum}`);
  if (!out.success) throw new Error(`probe exited with ${out.code}`);
});

Deno.test("isSoftwareAdapter: fallback flag and software renderer names, not real GPUs", () => {
  const soft = [
    { isFallbackAdapter: true, description: "whatever" },
    { vendor: "65541", device: "0", description: "" },
    { description: "llvmpipe (LLVM 15.0.6, 256 bits)" },
    { device: "lavapipe" },
    { description: "SwiftShader Device (Subzero)" },
    { description: "Microsoft Basic Render Driver" },
  ];
  for (const a of soft) {
    if (isSoftwareAdapter(a) === "") throw new Error(`not recognised: ${JSON.stringify(a)}`);
  }
  const real = [
    { vendor: "nvidia", description: "NVIDIA H200", isFallbackAdapter: false },
    { vendor: "4318", device: "8967", description: "NVIDIA GeForce RTX 4090" },
    { vendor: "apple", architecture: "metal-3", description: "Apple M2" },
    { vendor: "4098", description: "AMD Radeon RX 7900 XTX (RADV NAVI31)" },
  ];
  for (const a of real) {
    const why = isSoftwareAdapter(a);
    if (why !== "") throw new Error(`${JSON.stringify(a)} taken for software: ${why}`);
  }
});

Deno.test("auto skips a software WebGPU adapter and says why; webgpu on request uses it", async () => {
  const auto = await probe({ threads: 1 });
  if (!auto.ok) throw new Error(JSON.stringify(auto));
  const gpu = await probe({ backend: "webgpu" });
  if (!gpu.ok) {
    // No Vulkan/Metal driver at all: auto must still have said why WebGPU was skipped.
    if (!auto.info.skipped.some((s: string) => s.startsWith("webgpu:"))) {
      throw new Error(`auto gave no reason for skipping webgpu: ${JSON.stringify(auto)}`);
    }
    // the adapter checks below need one (CI installs Mesa lavapipe): required there
    dependency("WebGPU adapter", false, `${gpu.error} (.ci/setup installs mesa-vulkan-drivers)`);
    return;
  }
  if (gpu.info.name !== "webgpu" || !gpu.info.adapter || !gpu.line.includes(" on ")) {
    throw new Error(JSON.stringify(gpu));
  }
  if (gpu.info.adapter.software) {
    // The software adapter (Mesa lavapipe in CI) must not be chosen under auto.
    if (auto.info.name === "webgpu") throw new Error(`auto chose ${JSON.stringify(auto.info)}`);
    if (!/skipped webgpu: software adapter/.test(auto.line)) throw new Error(auto.line);
  } else if (auto.info.name !== "webgpu" && auto.info.name !== "tensorflow") {
    throw new Error(`a real GPU adapter was passed over: ${auto.line}`);
  }
});
