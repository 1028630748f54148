// PyTorch checkpoint reader: zip and legacy formats, dtypes, strides, nested dicts, full-size
// torchvision / MS-Celeb layouts, malicious pickles, truncated files.
import * as tf from "@tensorflow/tfjs-core";
import { gunzipSync } from "fflate";
import { initBackend } from "../../lib/backend.ts";
import {
  normalizeCheckpointLayout,
  parseTorchCheckpoint,
  PickleDict,
  PickleError,
  readTorchCheckpoint,
  TorchTensor,
} from "../../lib/io/mod.ts";
import { createModel } from "../../lib/model/mod.ts";
import { loadWeights } from "../../lib/train/weights.ts";
import { assert } from "../_assert.ts";

const isTorchTensor = (x: unknown): x is TorchTensor => x instanceof TorchTensor;
/** The state dict of a parsed checkpoint (layout recognised, or `key`). */
const findStateDict = (obj: unknown, options: { key?: string; file?: string } = {}) =>
  normalizeCheckpointLayout(obj, isTorchTensor, options).stateDict;

await initBackend();
const DIR = new URL("../fixtures/model/", import.meta.url).pathname;

async function assertThrows(f: () => unknown, ...needles: string[]): Promise<string> {
  try {
    await f();
  } catch (e) {
    const m = (e as Error).message;
    for (const n of needles) assert(m.includes(n), `error "${m}" lacks "${n}"`);
    return m;
  }
  throw new Error(`expected an error containing ${needles.join(", ")}`);
}

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>, what: string) {
  assert(a.length === b.length, `${what}: length ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    assert(Object.is(a[i], b[i]), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

Deno.test("zip and legacy .pth files give bit-identical state dicts", async () => {
  const zip = await readTorchCheckpoint(DIR + "rul_small.pth") as PickleDict;
  const legacy = await readTorchCheckpoint(DIR + "rul_small_legacy.pth") as PickleDict;
  assert(zip.get("epoch") === 7 && legacy.get("epoch") === 7, "epoch");
  const a = findStateDict(zip);
  const b = findStateDict(legacy, { key: "state_dict" });
  assert(a.size === b.size && a.size > 100, `sizes ${a.size} ${b.size}`);
  for (const [k, t] of a) {
    const u = b.get(k)!;
    assert(t.shape.join() === u.shape.join(), `${k} shape`);
    const x = t.toHost(k);
    assert(x.sourceDtype === (k.endsWith("num_batches_tracked") ? "int64" : "float32"), k);
    sameArray(x.data, u.toHost(k).data, k);
  }
});

Deno.test("dtypes, strides, offsets and nested values (zip and legacy)", async () => {
  for (const f of ["misc_tensors.pth", "misc_tensors_legacy.pth"]) {
    const obj = await readTorchCheckpoint(DIR + f) as PickleDict;
    const meta = obj.get("meta") as PickleDict;
    assert(meta.get("name") === "misc", "meta.name");
    const nested = meta.get("nested") as PickleDict;
    const list = nested.get("list") as unknown[];
    assert(JSON.stringify(list) === JSON.stringify([1, 2.5, "x", null, true]), `list ${list}`);
    assert(nested.get("big") === 2n ** 70n, "big int");
    const n = normalizeCheckpointLayout(obj, isTorchTensor, { key: "weights", file: f });
    assert(n.layout === "key" && n.strippedModulePrefix, "DataParallel prefix removed");
    assert(n.ignored.join() === "meta", `ignored ${n.ignored}`);
    const w = n.stateDict;
    const v = (k: string) => w.get(k)!.toHost(k);
    const range = (n: number, f: (i: number) => number) =>
      Array.from({ length: n }, (_, i) => f(i));
    sameArray(v("half").data, range(12, (i) => i / 4 - 1), "half");
    assert(v("half").sourceDtype === "float16" && v("half").shape.join() === "3,4", "half");
    sameArray(v("bf16").data, range(6, (i) => i / 2 - 1), "bf16");
    sameArray(v("double").data, range(5, (i) => Math.fround(i / 3)), "double");
    sameArray(v("long").data, [-3, 0, 7, 2147483647, -2147483648, 5], "long");
    assert(v("long").dtype === "int32", "long dtype");
    sameArray(v("flag").data, [1, 0, 1], "flag");
    assert(v("flag").dtype === "bool", "bool dtype");
    const tr = w.get("transposed")!;
    assert(!tr.isContiguous() && tr.shape.join() === "3,2", "transposed is a strided view");
    sameArray(v("transposed").data, [0, 3, 1, 4, 2, 5], "transposed");
    sameArray(v("view_a").data, range(6, (i) => (i + 2) / 8), "view_a");
    sameArray(v("view_b").data, [10, 13, 16, 19].map((i) => i / 8), "view_b");
    assert(v("scalar").shape.length === 0 && v("scalar").data[0] === 2.5, "scalar");
  }
});

/** Value of element i of the ti-th tensor in the pattern checkpoints (make_fixtures.py). */
const pattern = (i: number, ti: number) => (((37 * i + 11 * ti) % 251) - 125) / 256;

function checkPattern(sd: Map<string, TorchTensor>, file: string) {
  let ti = 0;
  for (const [k, t] of sd) {
    const h = t.toHost(k);
    if (k.endsWith("num_batches_tracked")) assert(h.data[0] === ti, `${file} ${k}`);
    else {
      for (let i = 0; i < h.data.length; i++) {
        if (h.data[i] !== pattern(i, ti)) throw new Error(`${file} ${k}[${i}] = ${h.data[i]}`);
      }
    }
    ti++;
  }
}

Deno.test("full-size torchvision and MS-Celeb (legacy) ResNet-18 files load into the backbone", async () => {
  const files: [string, string | undefined][] = [
    ["resnet18_pattern.pth", undefined],
    ["msceleb_pattern_legacy.pth", "state_dict"],
  ];
  for (const [name, key] of files) {
    const bytes = gunzipSync(await Deno.readFile(DIR + name + ".gz"));
    const obj = parseTorchCheckpoint(bytes, name);
    if (key) {
      const top = obj as PickleDict;
      assert(top.get("epoch") === 40 && top.get("arch") === "resnet18", "msceleb extras");
      assert(top.get("best_prec1") === 61.25, `numpy scalar ${top.get("best_prec1")}`);
    }
    const sd = findStateDict(obj, { file: name });
    assert(sd.size === 122, `${name}: ${sd.size} tensors`);
    checkPattern(sd, name);
    const tfsd = new Map([...sd].map(([k, t]) => [k, t.toTf(k)]));
    for (const kind of ["rul", "baseline"] as const) {
      const model = createModel({ kind, inputSize: 64 });
      const lines: string[] = [];
      await assertThrows(
        () => model.loadStateDict(tfsd, { strict: true, log: null, file: name }),
        "unexpected: fc.weight, fc.bias",
        name,
      );
      const r = model.loadStateDict(tfsd, { log: (l) => lines.push(l), file: name });
      assert(r.source === "backbone", `${kind}: source ${r.source}`);
      assert(r.loaded.length === 120 && r.missing.length === 0, `${kind}: ${lines.join("\n")}`);
      assert(r.unexpected.join() === "fc.weight,fc.bias", `${kind}: unexpected ${r.unexpected}`);
      assert(lines.some((l) => l.includes("fc.weight")), "report printed");
      // values survive the layout conversions (OIHW -> HWIO -> OIHW)
      const back = model.stateDict();
      const conv1 = kind === "rul" ? "features.0.weight" : "conv1.weight";
      const l4 = kind === "rul" ? "features.7.1.conv2.weight" : "layer4.1.conv2.weight";
      sameArray(back.get(conv1)!.dataSync(), tfsd.get("conv1.weight")!.dataSync(), conv1);
      sameArray(back.get(l4)!.dataSync(), tfsd.get("layer4.1.conv2.weight")!.dataSync(), l4);
      tf.dispose([...back.values()]);
      model.dispose();
    }
    tf.dispose([...tfsd.values()]);
  }
});

Deno.test("loadWeights reads a .pth and maps it (nested state_dict, strict)", async () => {
  const model = createModel({
    kind: "rul",
    inputSize: 64,
    featureDim: 16,
    widths: [8, 16, 32, 64],
  });
  const r = await loadWeights(model, DIR + "rul_small.pth", { strict: true, log: null });
  assert(r.source === "model" && r.loaded.length === 142 && !r.missing.length, "loaded all");
  model.dispose();
});

Deno.test("malicious pickles are refused, naming the global, never executed", async () => {
  const marker = await Deno.makeTempFile();
  await Deno.remove(marker);
  for (
    const [f, g] of [
      ["malicious_zip.pth", "os.system"],
      ["malicious_legacy.pth", "os.system"],
      ["malicious_eval.pkl", "builtins.eval"],
    ]
  ) {
    const m = await assertThrows(() => readTorchCheckpoint(DIR + f), `'${g}'`, f, "refusing");
    assert(m.includes("not executed"), m);
  }
  // a crafted pickle that would create a file if executed
  const text = `\x80\x02cbuiltins\nopen\n(S'${marker}'\nS'w'\ntR.`;
  const evil = Uint8Array.from(text, (c) => c.charCodeAt(0));
  let err: unknown;
  try {
    parseTorchCheckpoint(evil, "evil.pth");
  } catch (e) {
    err = e;
  }
  assert(err instanceof PickleError, "PickleError");
  assert((err as Error).message.includes("builtins.open"), (err as Error).message);
  let created = true;
  await Deno.stat(marker).catch(() => (created = false));
  assert(!created, "the refused pickle must not have run");
});

Deno.test("truncated or corrupt files give clear errors naming the file", async () => {
  const zip = await Deno.readFile(DIR + "rul_small.pth");
  await assertThrows(
    () => parseTorchCheckpoint(zip.subarray(0, Math.floor(zip.length * 0.6)), "cut.pth"),
    "cut.pth",
    "truncated",
  );
  const legacy = await Deno.readFile(DIR + "rul_small_legacy.pth");
  await assertThrows(
    () => parseTorchCheckpoint(legacy.subarray(0, Math.floor(legacy.length * 0.6)), "cut2.pth"),
    "cut2.pth",
    "truncated",
  );
  await assertThrows(
    () => parseTorchCheckpoint(legacy.subarray(0, 300), "cut3.pth"),
    "cut3.pth",
    "ends unexpectedly",
  );
  await assertThrows(
    () => parseTorchCheckpoint(new TextEncoder().encode("hello world"), "text.pth"),
    "text.pth",
    "not a PyTorch checkpoint",
  );
  await assertThrows(() => readTorchCheckpoint(DIR + "does_not_exist.pth"), "does_not_exist.pth");
});
