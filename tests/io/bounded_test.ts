// Bounded loaders (issue 12, finding 5 and the safetensors items of point 6): crafted small files
// cannot make the readers allocate GBs, unreferenced zip members are never decompressed, and
// header oddities give errors naming the file.
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { unzipSync, Zip, ZipDeflate, ZipPassThrough } from "fflate";
import { initBackend } from "../../lib/backend.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  encodeTorchCheckpoint,
  parseTorchCheckpoint,
  readWeightsFile,
  TorchStorage,
  TorchTensor,
} from "../../lib/io/mod.ts";
import { createModel } from "../../lib/model/create.ts";

await initBackend();

/** A zip .pth holding one float tensor `w` of `shape`/`stride` over a storage of `values`. */
function pthWithView(values: number[], shape: number[], stride: number[]): Uint8Array {
  const st = new TorchStorage("float32", "0", values.length, "crafted");
  st.bytes = new Uint8Array(new Float32Array(values).buffer);
  return encodeTorchCheckpoint(new Map([["w", new TorchTensor(st, 0, shape, stride)]]));
}

/** Peak resident memory (kB) since the last reset (Linux). */
function peakKb(): number {
  const m = /VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"));
  return Number(m![1]);
}
function resetPeak(): void {
  Deno.writeTextFileSync("/proc/self/clear_refs", "5");
}
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]);

Deno.test("finding 5: a stride-0 tensor of shape [100000000] over one element is refused before allocating", async () => {
  const bytes = pthWithView([1.5], [100_000_000], [0]);
  assert.ok(bytes.length < 4096);
  const file = Deno.makeTempFileSync({ suffix: ".pth" });
  Deno.writeFileSync(file, bytes);
  resetPeak();
  const before = rssKb();
  await assert.rejects(
    readWeightsFile(file),
    (e: Error) =>
      e.message.includes(file) && /100000000 elements, more than its storage's 1/.test(e.message),
  );
  assert.ok(peakKb() - before < 100_000, `peak grew by ${peakKb() - before} kB`);
  // views outside their storage and negative strides are refused too
  assert.throws(
    () => parseTorchCheckpoint(pthWithView([1, 2], [3], [1]), "a.pth"),
    /a\.pth: .*reaches element 2/,
  );
  assert.throws(
    () => parseTorchCheckpoint(pthWithView([1, 2], [2], [-1]), "b.pth"),
    /b\.pth: .*negative/,
  );
  Deno.removeSync(file);
});

/** The checkpoint of {w: [1,2,3]} re-zipped with an extra deflated member of `mb` MB of zeros. */
function pthWithBomb(mb: number): Uint8Array {
  const members = unzipSync(pthWithView([1, 2, 3], [3], [1]));
  const parts: Uint8Array[] = [];
  let done = false;
  const zip = new Zip((err, chunk, final) => {
    if (err) throw err;
    parts.push(chunk);
    if (final) done = true;
  });
  for (const [name, data] of Object.entries(members)) {
    const f = new ZipPassThrough(name);
    zip.add(f);
    f.push(data, true);
  }
  const bomb = new ZipDeflate("archive/data/unreferenced", { level: 1 });
  zip.add(bomb);
  const zeros = new Uint8Array(1 << 20);
  for (let i = 0; i < mb; i++) bomb.push(zeros, i === mb - 1);
  zip.end();
  assert.ok(done);
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

Deno.test("finding 5: an unreferenced 256 MB deflated member is never decompressed", async () => {
  const bytes = pthWithBomb(256);
  assert.ok(bytes.length < 4_000_000, `${bytes.length} bytes`);
  const file = Deno.makeTempFileSync({ suffix: ".pth" });
  Deno.writeFileSync(file, bytes);
  resetPeak();
  const before = rssKb();
  const sd = (await readWeightsFile(file)).tensors;
  assert.deepEqual([...sd.get("w")!.dataSync()], [1, 2, 3]);
  tf.dispose([...sd.values()]);
  assert.ok(peakKb() - before < 100_000, `peak grew by ${peakKb() - before} kB`);
  Deno.removeSync(file);
});

Deno.test("safetensors: overlapping ranges and a null __metadata__ are refused, naming the file", () => {
  const good = encodeSafetensors(new Map([["a", tf.tensor([1, 2])], ["b", tf.tensor([3, 4])]]));
  const hlen = Number(new DataView(good.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + hlen)));
  const withHeader = (h: unknown) => {
    const hb = new TextEncoder().encode(JSON.stringify(h));
    const out = new Uint8Array(8 + hb.length + 16);
    new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
    out.set(hb, 8);
    out.set(good.subarray(8 + hlen), 8 + hb.length);
    return out;
  };
  assert.throws(
    () => decodeSafetensors(withHeader({ ...header, __metadata__: null }), "m.safetensors"),
    /m\.safetensors: .*__metadata__ is null/,
  );
  const overlap = { ...header, b: { ...header.b, data_offsets: [4, 12] } };
  assert.throws(
    () => decodeSafetensors(withHeader(overlap), "o.safetensors"),
    /o\.safetensors: .*tensors a \[0,8\] and b \[4,12\] overlap/,
  );
});

Deno.test("a float tensor relabelled I32 in a safetensors checkpoint is refused by the strict loader", () => {
  const model = createModel(
    { kind: "baseline", inputSize: 32, widths: [4, 4, 8, 8], numClasses: 7, seed: 1 } as never,
  );
  const sd = model.stateDict();
  const bytes = encodeSafetensors(sd);
  tf.dispose([...sd.values()]);
  const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen)));
  const first = Object.keys(header).find((k) => header[k].dtype === "F32")!;
  header[first].dtype = "I32"; // same element size: offsets stay valid
  let hb = new TextEncoder().encode(JSON.stringify(header));
  hb = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(hlen - hb.length));
  const patched = new Uint8Array(bytes);
  patched.set(hb, 8);
  const { tensors } = decodeSafetensors(patched, "relabelled.safetensors");
  assert.throws(
    () => model.loadStateDict(tensors, { strict: true, file: "relabelled.safetensors", log: null }),
    new RegExp(`relabelled\\.safetensors: tensor ${first.replace(/\./g, "\\.")} has dtype int32`),
  );
  tf.dispose([...tensors.values()]);
  model.dispose();
});
