import { assertEquals } from "../_assert.ts";
import { Buffer } from "node:buffer";
import { resizeBilinear } from "../../lib/data/resize.ts";

const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

Deno.test("resizeBilinear: upsampling 2 -> 4 matches the hand-computed Pillow values", () => {
  // Pillow centres (x+0.5)*scale; triangle taps 0.75/0.25; edges renormalised.
  assertEquals(Array.from(resizeBilinear(new Uint8Array([0, 255]), 1, 2, 1, 1, 4)), [
    0,
    64,
    191,
    255,
  ]);
});

Deno.test("resizeBilinear: downsampling 4 -> 2 widens the triangle (antialias), by hand", () => {
  // filterscale 2: weights 3/7, 3/7, 1/7 and 1/7, 3/7, 3/7.
  assertEquals(Array.from(resizeBilinear(new Uint8Array([0, 70, 140, 210]), 1, 4, 1, 1, 2)), [
    50,
    160,
  ]);
});

Deno.test("resizeBilinear: same size is the identity", () => {
  const src = new Uint8Array([1, 2, 3, 4, 5, 6]);
  assertEquals(resizeBilinear(src, 1, 2, 3, 1, 2), src);
});

Deno.test("resizeBilinear: equals Pillow (torchvision Resize) bit for bit on fixture images", async () => {
  const doc = JSON.parse(
    await Deno.readTextFile(new URL("./fixtures/pil_resize.json", import.meta.url)),
  );
  for (const c of doc.resize) {
    const got = resizeBilinear(b64(c.src), c.h, c.w, c.c, c.oh, c.ow);
    const want = b64(c.out);
    let diff = 0;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) diff++;
    assertEquals(diff, 0, `${c.h}x${c.w}x${c.c} -> ${c.oh}x${c.ow}: ${diff} bytes differ`);
  }
});
