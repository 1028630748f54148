// PyTorch checkpoint writer: what it writes reads back bit for bit (our reader), the zip layout
// is torch's (64-byte aligned stored entries, data.pkl / byteorder / data/N / version), and
// PyTorch itself (torch.load, and the weights_only loader) reads the same values, dtypes,
// shapes and shared storages (when /usr/bin/python3 has torch; CI installs python3-torch).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  encodeTorchCheckpoint,
  PickleDict,
  readTorchCheckpoint,
  type TorchSaveValue,
  TorchTensor,
  writeTorchCheckpoint,
} from "../../lib/io/mod.ts";
import { hasTorch, TORCH_MISSING } from "../_python.ts";
import { dependency } from "../_deps.ts";

const TORCH = dependency("PyTorch", hasTorch(), TORCH_MISSING);

function sample(): TorchSaveValue {
  const w = TorchTensor.fromArray("float32", [2, 3], Float32Array.from([1, -2.5, 3, 0.125, 5, 6]));
  // a transposed view and an offset view sharing w's storage, as PyTorch can save
  const wt = new TorchTensor(w.storage, 0, [3, 2], [1, 3]);
  const tail = new TorchTensor(w.storage, 4, [2], [1]);
  const sd = new Map<string, TorchSaveValue>([
    ["w", w],
    ["wt", wt],
    ["tail", tail],
    ["n", TorchTensor.fromArray("int64", [], [3])],
    ["long", TorchTensor.fromArray("int64", [3], [-7, 0, 2 ** 31 - 1])],
    ["i32", TorchTensor.fromArray("int32", [2], [-1, 40000])],
    ["f64", TorchTensor.fromArray("float64", [2], [1 / 3, -0.1])],
    ["u8", TorchTensor.fromArray("uint8", [3], [0, 7, 255])],
    ["flag", TorchTensor.fromArray("bool", [2], [1, 0])],
    ["empty", TorchTensor.fromArray("float32", [0, 4], [])],
  ]);
  return {
    model_state_dict: sd,
    epoch: 12,
    neg: -70000,
    huge: 2n ** 70n,
    name: "acc_888 – ü",
    list: [1, "x", null, true, false],
    nested: { a: new Map([["b", 2]]) },
  };
}

Deno.test("written checkpoints read back bit for bit (values, views, shared storage)", () => {
  const bytes = encodeTorchCheckpoint(sample(), { file: "t.pth" });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-pthw-"));
  const f = path.join(dir, "t.pth");
  fs.writeFileSync(f, bytes);
  return readTorchCheckpoint(f).then((obj) => {
    const top = obj as PickleDict;
    assert.equal(top.pyClass, "builtins.dict");
    assert.equal(top.get("epoch"), 12);
    assert.equal(top.get("neg"), -70000);
    assert.equal(top.get("huge"), 2n ** 70n);
    assert.equal(top.get("name"), "acc_888 – ü");
    assert.deepEqual(top.get("list"), [1, "x", null, true, false]);
    assert.equal(((top.get("nested") as PickleDict).get("a") as PickleDict).get("b"), 2);
    const sd = top.get("model_state_dict") as PickleDict;
    assert.equal(sd.pyClass, "collections.OrderedDict");
    const v = (k: string) => Array.from((sd.get(k) as TorchTensor).toHost(k).data);
    assert.deepEqual(v("w"), [1, -2.5, 3, 0.125, 5, 6]);
    assert.deepEqual(v("wt"), [1, 0.125, -2.5, 5, 3, 6]);
    assert.deepEqual(v("tail"), [5, 6]);
    const w = sd.get("w") as TorchTensor;
    assert.equal((sd.get("wt") as TorchTensor).storage, w.storage, "one shared storage");
    assert.equal((sd.get("n") as TorchTensor).dtype, "int64");
    assert.deepEqual(v("n"), [3]);
    assert.deepEqual(v("long"), [-7, 0, 2 ** 31 - 1]);
    assert.deepEqual(v("i32"), [-1, 40000]);
    assert.deepEqual(v("f64"), [Math.fround(1 / 3), Math.fround(-0.1)]);
    assert.deepEqual(v("u8"), [0, 7, 255]);
    assert.deepEqual(v("flag"), [1, 0]);
    assert.deepEqual((sd.get("empty") as TorchTensor).shape, [0, 4]);
    fs.rmSync(dir, { recursive: true });
  });
});

/** Local headers of a zip: name, data offset, size (read from the central directory). */
function zipEntries(b: Uint8Array): { name: string; data: number; size: number; method: number }[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const eocd = b.length - 22;
  assert.equal(dv.getUint32(eocd, true), 0x06054b50, "end of central directory");
  const n = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  const out = [];
  for (let i = 0; i < n; i++) {
    assert.equal(dv.getUint32(p, true), 0x02014b50);
    const method = dv.getUint16(p + 10, true);
    const size = dv.getUint32(p + 24, true);
    const fn = dv.getUint16(p + 28, true);
    const skip = fn + dv.getUint16(p + 30, true) + dv.getUint16(p + 32, true);
    const local = dv.getUint32(p + 42, true);
    const name = new TextDecoder().decode(b.subarray(p + 46, p + 46 + fn));
    assert.equal(dv.getUint32(local, true), 0x04034b50);
    const data = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    out.push({ name, data, size, method });
    p += 46 + skip;
  }
  return out;
}

Deno.test("zip layout: torch's records, stored, every entry's data 64-byte aligned", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-pthw-"));
  const f = path.join(dir, "acc_888.pth");
  await writeTorchCheckpoint(f, sample());
  const b = fs.readFileSync(f);
  const e = zipEntries(b);
  assert.deepEqual(
    e.map((x) => x.name),
    [
      "acc_888/data.pkl",
      "acc_888/byteorder",
      ...Array.from({ length: 8 }, (_, i) => `acc_888/data/${i}`),
      "acc_888/version",
    ],
  );
  for (const x of e) {
    assert.equal(x.method, 0, `${x.name} stored`);
    assert.equal(x.data % 64, 0, `${x.name} data at ${x.data}`);
  }
  const text = (name: string) => {
    const x = e.find((y) => y.name === name)!;
    return new TextDecoder().decode(b.subarray(x.data, x.data + x.size));
  };
  assert.equal(text("acc_888/byteorder"), "little");
  assert.equal(text("acc_888/version"), "3\n");
  assert.equal(b[e[0].data], 0x80, "pickle PROTO");
  assert.equal(b[e[0].data + 1], 2, "protocol 2");
  assert.equal(e.find((x) => x.name === "acc_888/data/0")!.size, 24, "w's storage: 6 × float32");
  fs.rmSync(dir, { recursive: true });
});

Deno.test("values that cannot be written give errors naming the entry", () => {
  const bad = { sd: new Map([["x", TorchTensor.fromArray("float32", [1], [1])]]), f: 2 ** 60 };
  assert.throws(
    () => encodeTorchCheckpoint(bad, { file: "b.pth" }),
    /b\.pth: f: .*not a safe integer/,
  );
  assert.throws(
    () => TorchTensor.fromArray("int64", [2], [1.5, 2], "t"),
    /t: 1\.5 is not an integer/,
  );
  assert.throws(
    () => TorchTensor.fromArray("float32", [3], [1, 2], "u"),
    /u: 2 values for shape \[3\]/,
  );
});

Deno.test({
  name: "PyTorch reads the written file: values, dtypes, shapes, strides, shared storage",
  ignore: !TORCH,
  fn: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-pthw-"));
    const f = path.join(dir, "t.pth");
    await writeTorchCheckpoint(f, sample());
    const py = `
import json, sys, zipfile, torch
assert zipfile.ZipFile(sys.argv[1]).testzip() is None  # CRCs
ck = torch.load(sys.argv[1])
safe = torch.load(sys.argv[1], weights_only=True) if "weights_only" in torch.load.__code__.co_varnames else None
sd = ck["model_state_dict"]
out = {k: {"dtype": str(t.dtype), "shape": list(t.shape), "stride": list(t.stride()),
           "values": t.flatten().tolist()} for k, t in sd.items()}
out["_shared"] = sd["w"].data_ptr() == sd["wt"].data_ptr() and sd["tail"].storage_offset() == 4
out["_ordered"] = type(sd).__name__
out["_safe_keys"] = sorted(safe["model_state_dict"].keys()) if safe is not None else None
out["_extra"] = [ck["epoch"], ck["neg"], str(ck["huge"]), ck["name"], ck["list"], ck["nested"]["a"]["b"]]
print(json.dumps(out))
`;
    const r = new Deno.Command("/usr/bin/python3", { args: ["-c", py, f], stderr: "piped" })
      .outputSync();
    assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    const o = JSON.parse(new TextDecoder().decode(r.stdout));
    assert.deepEqual(o.w, {
      dtype: "torch.float32",
      shape: [2, 3],
      stride: [3, 1],
      values: [1, -2.5, 3, 0.125, 5, 6],
    });
    assert.deepEqual(o.wt, {
      dtype: "torch.float32",
      shape: [3, 2],
      stride: [1, 3],
      values: [1, 0.125, -2.5, 5, 3, 6],
    });
    assert.deepEqual(o.n, { dtype: "torch.int64", shape: [], stride: [], values: [3] });
    assert.deepEqual(o.long.values, [-7, 0, 2 ** 31 - 1]);
    assert.equal(o.long.dtype, "torch.int64");
    assert.deepEqual([o.i32.dtype, o.i32.values], ["torch.int32", [-1, 40000]]);
    assert.deepEqual([o.f64.dtype, o.f64.values], ["torch.float64", [1 / 3, -0.1]]);
    assert.deepEqual([o.u8.dtype, o.u8.values], ["torch.uint8", [0, 7, 255]]);
    assert.deepEqual([o.flag.dtype, o.flag.values], ["torch.bool", [true, false]]);
    assert.deepEqual(o.empty.shape, [0, 4]);
    assert.equal(o._shared, true);
    assert.equal(o._ordered, "OrderedDict");
    if (o._safe_keys) assert.equal(o._safe_keys.length, 10);
    assert.deepEqual(o._extra, [12, -70000, String(2n ** 70n), "acc_888 – ü", [
      1,
      "x",
      null,
      true,
      false,
    ], 2]);
    fs.rmSync(dir, { recursive: true });
  },
});
