/**
 * JPEG/PNG decoding and JPEG encoding: `sharp` (libvips, native) when it loads, else the pure-JS
 * `jpeg-js` + `pngjs`. {@link codecInfo} says which is in use. Resizing is not delegated to the
 * codec: images are decoded at their own size and resized with {@link resizeBilinear} so both
 * codecs give Pillow's bilinear result.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { DataError } from "./errors.ts";
import { resizeBilinear } from "./resize.ts";

/** A decoded image, HWC uint8. */
export interface DecodedImage {
  /** `height·width·channels` bytes. */
  data: Uint8Array;
  /** Height in pixels. */
  height: number;
  /** Width in pixels. */
  width: number;
  /** 1 or 3. */
  channels: number;
}

/** Which codec the pipeline uses and why. */
export interface CodecInfo {
  /** `sharp` or `jpeg-js+pngjs`. */
  name: "sharp" | "jpeg-js+pngjs";
  /** Library version. */
  version: string;
  /** Why the fallback is in use (load error or explicit choice). */
  reason?: string;
}

// deno-lint-ignore no-explicit-any
type Sharp = any;
let sharpMod: Sharp | null | undefined;
let info: CodecInfo | undefined;
let preference: "auto" | "sharp" | "js" = "auto";

/**
 * Chooses the codec: `auto` (sharp if it loads, the default), `sharp` (fail if it cannot load) or
 * `js` (always the pure-JS fallback). The environment variable `RUL_IMAGE_CODEC` sets the default.
 */
export function setCodec(choice: "auto" | "sharp" | "js"): void {
  preference = choice;
  sharpMod = undefined;
  info = undefined;
}

async function loadSharp(): Promise<Sharp | null> {
  if (sharpMod !== undefined) return sharpMod;
  let pref = preference;
  if (pref === "auto") {
    try {
      const env = Deno.env.get("RUL_IMAGE_CODEC");
      if (env === "js" || env === "sharp") pref = env;
    } catch { /* no env permission: keep auto */ }
  }
  if (pref === "js") {
    sharpMod = null;
    info = { name: "jpeg-js+pngjs", version: "jpeg-js 0.4", reason: "chosen explicitly" };
    return null;
  }
  try {
    const m = await import("sharp");
    sharpMod = m.default ?? m;
    info = { name: "sharp", version: String(sharpMod.versions?.sharp ?? "?") };
  } catch (e) {
    if (pref === "sharp") throw e;
    sharpMod = null;
    info = {
      name: "jpeg-js+pngjs",
      version: "jpeg-js 0.4",
      reason: `sharp failed to load: ${(e as Error).message}`,
    };
  }
  return sharpMod;
}

/** The codec in use (loads it on first call). */
export async function codecInfo(): Promise<CodecInfo> {
  await loadSharp();
  return info!;
}

function convertChannels(d: DecodedImage, channels: number): DecodedImage {
  if (d.channels === channels) return d;
  const px = d.width * d.height;
  const out = new Uint8Array(px * channels);
  if (d.channels === 1 && channels === 3) {
    for (let p = 0; p < px; p++) out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = d.data[p];
  } else if (channels === 1) {
    // ITU-R 601-2 luma, as Pillow's convert("L"): L = R*299/1000 + G*587/1000 + B*114/1000.
    const c = d.channels;
    for (let p = 0; p < px; p++) {
      const r = d.data[c * p], g = d.data[c * p + 1], b = d.data[c * p + 2];
      out[p] = Math.trunc((r * 19595 + g * 38470 + b * 7471 + 0x8000) / 65536);
    }
  } else {
    for (let p = 0; p < px; p++) {
      for (let k = 0; k < channels; k++) out[channels * p + k] = d.data[d.channels * p + k];
    }
  }
  return { data: out, height: d.height, width: d.width, channels };
}

async function decodeJs(bytes: Uint8Array): Promise<DecodedImage> {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const jpeg = (await import("jpeg-js")).default;
    const r = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    return { data: r.data as Uint8Array, height: r.height, width: r.width, channels: 4 };
  }
  if (bytes[0] === 0x89 && bytes[1] === 0x50) {
    // pngjs's bundled typings omit PNG.sync; the API is documented in its README.
    const mod = (await import("pngjs")).default as unknown as {
      PNG: { sync: { read(b: Buffer): { data: Uint8Array; width: number; height: number } } };
    };
    const r = mod.PNG.sync.read(Buffer.from(bytes));
    return { data: new Uint8Array(r.data), height: r.height, width: r.width, channels: 4 };
  }
  throw new Error("not a JPEG or PNG file (the pure-JS fallback decodes only these)");
}

/** Options of {@link decodeImage}. */
export interface DecodeOptions {
  /** Output channels: 3 (RGB, default) or 1 (grey). */
  channels?: number;
  /** Resize to size × size (Pillow bilinear) after decoding. */
  size?: number;
  /** Name used in error messages (defaults to "image"). */
  file?: string;
  /** Extra context for error messages, e.g. "listed at list.txt:3". */
  context?: string;
}

/**
 * Decodes JPEG/PNG (and, with sharp, WebP/TIFF/…) bytes to uint8 HWC, optionally resized.
 * @throws DataError naming `o.file` when the bytes cannot be decoded
 */
export async function decodeImage(bytes: Uint8Array, o: DecodeOptions = {}): Promise<DecodedImage> {
  const channels = o.channels ?? 3;
  const sharp = await loadSharp();
  let d: DecodedImage;
  try {
    if (sharp) {
      const { data, info } = await sharp(bytes, { failOn: "error" }).removeAlpha().raw()
        .toBuffer({ resolveWithObject: true });
      d = {
        data: new Uint8Array(data.buffer, data.byteOffset, data.length),
        height: info.height,
        width: info.width,
        channels: info.channels,
      };
    } else {
      d = await decodeJs(bytes);
    }
  } catch (e) {
    const ctx = o.context ? ` (${o.context})` : "";
    throw new DataError(o.file ?? "image", `cannot decode image${ctx}: ${(e as Error).message}`);
  }
  d = convertChannels(d, channels);
  if (o.size && (d.height !== o.size || d.width !== o.size)) {
    const data = resizeBilinear(d.data, d.height, d.width, channels, o.size, o.size);
    d = { data, height: o.size, width: o.size, channels };
  }
  return d;
}

/** Reads and decodes an image file; errors name the file. */
export async function readImageFile(path: string, o: DecodeOptions = {}): Promise<DecodedImage> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    const ctx = o.context ? ` (${o.context})` : "";
    const why = e instanceof Deno.errors.NotFound ? "image not found" : (e as Error).message;
    throw new DataError(path, `${why}${ctx}`);
  }
  return await decodeImage(bytes, { ...o, file: o.file ?? path });
}

/** Encodes uint8 HWC pixels (1 or 3 channels) as JPEG (quality 0-100, default 95). */
export async function encodeJpeg(
  pixels: Uint8Array,
  height: number,
  width: number,
  channels: number,
  quality = 95,
): Promise<Uint8Array> {
  const sharp = await loadSharp();
  if (sharp) {
    const buf = await sharp(pixels, { raw: { width, height, channels } })
      .jpeg({ quality, chromaSubsampling: "4:4:4" }).toBuffer();
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let k = 0; k < 3; k++) rgba[4 * p + k] = pixels[channels * p + (channels === 1 ? 0 : k)];
    rgba[4 * p + 3] = 255;
  }
  const jpeg = (await import("jpeg-js")).default;
  const r = jpeg.encode({ data: rgba, width, height }, quality);
  return new Uint8Array(r.data);
}
