// safetensors: bit-identical round trip, files written by Python, clear errors, atomic writes,
// model checkpoints (config + epoch metadata, optimiser state in a sibling file).
import * as tf from "@tensorflow/tfjs-core";
import { Buffer } from "node:buffer";
import { initBackend } from "../../lib/backend.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
} from "../../lib/io/mod.ts";
import { loadModel, optimizerStatePath, saveModelCheckpoint } from "../../lib/train/weights.ts";
import { createModel, disposeModelOutput } from "../../lib/model/mod.ts";
import { assert } from "../_assert.ts";
import { dependency } from "../_deps.ts";

await initBackend();
const DIR = new URL("../fixtures/model/", import.meta.url).pathname;

function bytesOf(t: tf.Tensor): Uint8Array {
  const d = t.dataSync() as Float32Array | Int32Array | Uint8Array;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function sameBytes(a: Uint8Array, b: Uint8Array, what: string) {
  assert(a.length === b.length, `${what}: ${a.length} vs ${b.length} bytes`);
  for (let i = 0; i < a.length; i++) assert(a[i] === b[i], `${what}: byte ${i} differs`);
}

function throwsWith(f: () => unknown, ...needles: string[]) {
  try {
    f();
  } catch (e) {
    for (const n of needles) {
      assert((e as Error).message.includes(n), `"${(e as Error).message}" lacks "${n}"`);
    }
    return;
  }
  throw new Error("expected an error");
}

Deno.test("safetensors round trip is bit-identical (file and bytes)", async () => {
  const specials = new Float32Array([
    0,
    -0,
    1e-45,
    -3.4028234663852886e38,
    Infinity,
    -Infinity,
    1 / 3,
  ]);
  const tensors = new Map<string, tf.Tensor>([
    ["a.weight", tf.randomNormal([3, 5, 2], 0, 1, "float32", 1)],
    ["special", tf.tensor1d(specials)],
    ["ints", tf.tensor2d([[2147483647, -2147483648], [0, -1]], [2, 2], "int32")],
    ["flags", tf.tensor1d([1, 0, 1], "bool")],
    ["scalar", tf.scalar(7, "int32")],
    ["empty", tf.zeros([0, 4])],
  ]);
  const meta = { epoch: "3", note: "ü ✓" };
  const dir = await Deno.makeTempDir();
  const file = `${dir}/x.safetensors`;
  await writeSafetensors(file, tensors, meta);
  await writeSafetensors(file, tensors, meta); // overwrite in place
  const left = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert(left.length === 1 && left[0] === "x.safetensors", `temp files left: ${left}`);
  const back = await readSafetensors(file);
  assert(JSON.stringify(back.metadata) === JSON.stringify(meta), "metadata");
  assert([...back.tensors.keys()].join() === [...tensors.keys()].join(), "names/order");
  for (const [k, t] of tensors) {
    const u = back.tensors.get(k)!;
    assert(u.dtype === t.dtype && u.shape.join() === t.shape.join(), `${k} dtype/shape`);
    sameBytes(bytesOf(u), bytesOf(t), k);
  }
  const bytes = await Deno.readFile(file);
  const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert((8 + hlen) % 8 === 0, "data section 8-byte aligned");
  sameBytes(encodeSafetensors(back.tensors, back.metadata), bytes, "re-encoded file");
  // The same bytes as a view into a larger buffer (what node:fs's readFileSync returns: a Buffer
  // sharing a pool) decode to the same tensors.
  const pool = new Uint8Array(bytes.length + 24).fill(0xaa);
  pool.set(bytes, 13);
  const viewed = decodeSafetensors(Buffer.from(pool.buffer, 13, bytes.length), "view");
  for (const [k, t] of tensors) sameBytes(bytesOf(viewed.tensors.get(k)!), bytesOf(t), `view ${k}`);
  tf.dispose([...viewed.tensors.values()]);
  tf.dispose([...tensors.values(), ...back.tensors.values()]);
  await Deno.remove(dir, { recursive: true });
});

/** Whether /usr/bin/python3 has numpy (CI: python3-numpy, a dependency of python3-torch). */
function hasNumpy(): boolean {
  try {
    return new Deno.Command("/usr/bin/python3", { args: ["-c", "import numpy"] }).outputSync()
      .success;
  } catch {
    return false;
  }
}

const NUMPY = dependency(
  "numpy",
  hasNumpy(),
  "/usr/bin/python3 cannot import numpy (apt-get install python3-numpy)",
);

// An independent reader written from the published format (huggingface/safetensors README: u64
// little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}} with an
// optional "__metadata__", then the little-endian data; BOOL is one byte per element).
const PY_READER = `
import json, struct, sys
import numpy as np
data = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n])
meta = header.pop("__metadata__", None)
kinds = {"F32": "<f4", "I32": "<i4", "BOOL": "u1"}
out = {"__metadata__": meta}
for name, e in header.items():
    a, b = e["data_offsets"]
    arr = np.frombuffer(data[8 + n + a:8 + n + b], dtype=kinds[e["dtype"]])
    assert arr.size == int(np.prod(e["shape"])), name
    if e["dtype"] == "BOOL":
        assert set(arr.tolist()) <= {0, 1}, name
    vals = [v if np.isfinite(v) else str(v) for v in arr.astype(np.float64).tolist()]
    out[name] = {"dtype": e["dtype"], "shape": e["shape"], "values": vals}
print(json.dumps(out))
`;

Deno.test({
  name: "Python (numpy, a reader written from the format spec) reads our I32, BOOL, empty and " +
    "scalar tensors",
  ignore: !NUMPY,
}, async () => {
  const tensors = new Map<string, tf.Tensor>([
    ["ints", tf.tensor2d([[2147483647, -2147483648], [0, -1]], [2, 2], "int32")],
    ["flags", tf.tensor1d([1, 0, 1], "bool")],
    ["scalar", tf.scalar(7, "int32")],
    ["fscalar", tf.scalar(-2.5)],
    ["empty", tf.zeros([0, 4])],
    ["floats", tf.tensor1d([0.5, -Infinity, 3])],
  ]);
  const dir = await Deno.makeTempDir();
  const file = `${dir}/x.safetensors`;
  await writeSafetensors(file, tensors, { note: "ü ✓" });
  const r = new Deno.Command("/usr/bin/python3", { args: ["-c", PY_READER, file] }).outputSync();
  const text = new TextDecoder().decode(r.stdout);
  const err = new TextDecoder().decode(r.stderr).trim();
  assert(r.success, `python could not read our file: ${err.split("\n").pop()}\n${err}`);
  const got = JSON.parse(text);
  const want = {
    __metadata__: { note: "ü ✓" },
    ints: { dtype: "I32", shape: [2, 2], values: [2147483647, -2147483648, 0, -1] },
    flags: { dtype: "BOOL", shape: [3], values: [1, 0, 1] },
    scalar: { dtype: "I32", shape: [], values: [7] },
    fscalar: { dtype: "F32", shape: [], values: [-2.5] },
    empty: { dtype: "F32", shape: [0, 4], values: [] },
    floats: { dtype: "F32", shape: [3], values: [0.5, "-inf", 3] },
  };
  assert(JSON.stringify(got) === JSON.stringify(want), `python read ${text}`);
  tf.dispose([...tensors.values()]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("reads safetensors written by Python (fixture) and rejects corrupt files", async () => {
  const { tensors, metadata } = await readSafetensors(DIR + "rul_small_expected.safetensors");
  assert(metadata.generator === "tools/make_fixtures.py", "python metadata");
  assert(tensors.get("x")!.shape.join() === "4,64,64,3", "x shape");
  assert(tensors.get("perm")!.dtype === "int32", "perm dtype");
  tf.dispose([...tensors.values()]);
  const good = encodeSafetensors(new Map([["t", tf.ones([4, 4])]]));
  throwsWith(
    () => decodeSafetensors(good.subarray(0, good.length - 3), "cut.safetensors"),
    "cut.safetensors",
    "truncated",
  );
  throwsWith(() => decodeSafetensors(good.subarray(0, 5), "tiny.safetensors"), "tiny.safetensors");
  const bad = good.slice();
  new DataView(bad.buffer).setBigUint64(0, 1n << 40n, true);
  throwsWith(() => decodeSafetensors(bad, "huge.safetensors"), "huge.safetensors", "header length");
  const junk = good.slice();
  junk[9] = 0x7b; // breaks the JSON
  junk[8] = 0x5b;
  throwsWith(() => decodeSafetensors(junk, "junk.safetensors"), "junk.safetensors", "JSON");
});

Deno.test("model checkpoint: config + epoch metadata, optimiser sibling, exact resume", async () => {
  const cfg = {
    kind: "rul" as const,
    inputSize: 64,
    featureDim: 16,
    widths: [8, 16, 32, 64] as [number, number, number, number],
    seed: 3,
  };
  const model = createModel(cfg);
  const x = tf.randomNormal([4, 64, 64, 3], 0, 1, "float32", 2) as tf.Tensor4D;
  disposeModelOutput(model.forwardTrain(x)); // moves BN running statistics off their init
  const optimizerState = new Map<string, tf.Tensor>([
    ["adam.exp_avg.fc.weight", tf.randomNormal([16, 7], 0, 1, "float32", 5)],
    ["adam.step.fc.weight", tf.scalar(12, "int32")],
  ]);
  const dir = await Deno.makeTempDir();
  const file = `${dir}/epoch3.safetensors`;
  await saveModelCheckpoint(file, model, {
    epoch: 3,
    optimizerState,
    optimizerMetadata: { lr: "0.0002" },
  });
  assert(optimizerStatePath(file) === `${dir}/epoch3.optim.safetensors`, "sibling name");
  const ck = await loadModel(file, { log: null }); // builds a new model from the stored config
  const c = ck.model.config;
  assert(ck.epoch === 3 && c.featureDim === 16 && c.seed === 3, "metadata");
  assert(ck.configSource === "metadata" && ck.report.loaded.length === 142, "strict load");
  const opt = await readSafetensors(optimizerStatePath(file));
  assert(opt.metadata.lr === "0.0002", "optimizer metadata");
  const a = model.stateDict();
  const b = ck.model.stateDict();
  assert(a.size === b.size && a.size === 142, `state sizes ${a.size} ${b.size}`);
  for (const [k, t] of a) sameBytes(bytesOf(b.get(k)!), bytesOf(t), k);
  for (const [k, t] of optimizerState) {
    sameBytes(bytesOf(opt.tensors.get(k)!), bytesOf(t), k);
  }
  const e1 = model.forwardEval(x);
  const e2 = ck.model.forwardEval(x);
  sameBytes(bytesOf(e1.logits), bytesOf(e2.logits), "eval logits after reload");
  disposeModelOutput(e1);
  disposeModelOutput(e2);
  tf.dispose([
    ...a.values(),
    ...b.values(),
    ...optimizerState.values(),
    ...opt.tensors.values(),
    x,
  ]);
  model.dispose();
  ck.model.dispose();
  await Deno.remove(dir, { recursive: true });
});
