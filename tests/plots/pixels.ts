/**
 * PNG pixel helpers for the rendering tests (decode with pngjs, count colours in a region).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import pngjs from "pngjs";

/** A decoded RGBA image. */
export interface Rgba {
  /** Width in px. */
  width: number;
  /** Height in px. */
  height: number;
  /** RGBA bytes. */
  data: Uint8Array;
}

/** Decodes PNG bytes; throws if they are not a PNG. */
export function decodePng(bytes: Uint8Array): Rgba {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!sig.every((b, i) => bytes[i] === b)) throw new Error("not a PNG (bad signature)");
  const { PNG } = pngjs as unknown as { PNG: { sync: { read(b: Buffer): Rgba } } };
  return PNG.sync.read(Buffer.from(bytes));
}

/** "#RRGGBB" → [r, g, b]. */
export function hexRgb(hex: string): [number, number, number] {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** Number of pixels in the box whose colour is within `tol` (per channel) of `rgb`. */
export function countColor(
  img: Rgba,
  rgb: [number, number, number],
  tol = 10,
  box = { x0: 0, y0: 0, x1: img.width, y1: img.height },
): number {
  let n = 0;
  for (let y = box.y0; y < box.y1; y++) {
    for (let x = box.x0; x < box.x1; x++) {
      const o = 4 * (y * img.width + x);
      if (
        Math.abs(img.data[o] - rgb[0]) <= tol && Math.abs(img.data[o + 1] - rgb[1]) <= tol &&
        Math.abs(img.data[o + 2] - rgb[2]) <= tol
      ) n++;
    }
  }
  return n;
}

/** Number of pixels in the box that are not (near) white. */
export function countNonWhite(
  img: Rgba,
  box = { x0: 0, y0: 0, x1: img.width, y1: img.height },
): number {
  return box.x1 - box.x0 > 0
    ? (box.x1 - box.x0) * (box.y1 - box.y0) - countColor(img, [255, 255, 255], 8, box)
    : 0;
}

/** Blend of `rgb` drawn with `opacity` over white. */
export function overWhite(
  rgb: [number, number, number],
  opacity: number,
): [number, number, number] {
  return rgb.map((c) => Math.round(c * opacity + 255 * (1 - opacity))) as [number, number, number];
}
