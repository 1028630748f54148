/**
 * Gallery of the most uncertain samples: a grid of images, each titled with its label,
 * prediction and uncertainty. Images are embedded as data-URI PNGs (encoded with `pngjs`), so
 * the figure is self-contained.
 *
 * @module
 */
import pngjs from "pngjs";
import type { Buffer } from "node:buffer";
import { className, type Figure, paperLayout, RAF_DB_CLASS_NAMES } from "./figure.ts";

// pngjs's bundled typings omit PNG.sync (documented in its README); type the part used here.
const { PNG } = pngjs as unknown as {
  PNG: {
    new (o: { width: number; height: number }): { data: Uint8Array };
    sync: { write(png: { data: Uint8Array }): Buffer };
  };
};

/** An image in row-major HWC layout, values 0–255 (uint8) or 0–1 (floats). */
export interface GalleryImage {
  /** Pixel values, length width·height·channels. */
  data: ArrayLike<number>;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 1 (grey), 3 (RGB) or 4 (RGBA). */
  channels: number;
}

/** One gallery tile. */
export interface GallerySample {
  /** The image. */
  image: GalleryImage;
  /** Given (possibly noisy) label. */
  label: number;
  /** Model prediction. */
  prediction?: number;
  /** Uncertainty score (sorted descending when `sort` is true). */
  uncertainty?: number;
  /** Extra caption line (e.g. `#3 (flipped)`). */
  caption?: string;
}

/** Options of {@link uncertaintyGallery}. */
export interface GalleryOptions {
  /** Tiles per row (default 6). */
  columns?: number;
  /** Keep only the first `limit` tiles after sorting (default 24). */
  limit?: number;
  /** Sort by uncertainty, most uncertain first (default true). */
  sort?: boolean;
  /** Class names (default RAF-DB). */
  classNames?: readonly string[];
  /** Tile size in px (default 120). */
  tileSize?: number;
  /** Figure title. */
  title?: string;
}

/**
 * Encodes an image as a `data:image/png;base64,…` URI. Float images are taken as 0–1 when
 * their maximum is ≤ 1, otherwise as 0–255; values are clamped.
 */
export function imageToDataUri(img: GalleryImage): string {
  const { width, height, channels, data } = img;
  if (![1, 3, 4].includes(channels)) throw new Error(`imageToDataUri: channels = ${channels}`);
  if (!(width > 0 && height > 0) || data.length !== width * height * channels) {
    throw new Error(
      `imageToDataUri: ${data.length} values for ${width}×${height}×${channels}`,
    );
  }
  let max = 0;
  for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i];
  const scale = data instanceof Uint8Array || data instanceof Uint8ClampedArray || max > 1
    ? 1
    : 255;
  const png = new PNG({ width, height });
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 4; c++) {
      let v: number;
      if (c === 3) v = channels === 4 ? data[p * 4 + 3] * scale : 255;
      else v = data[p * channels + (channels === 1 ? 0 : c)] * scale;
      png.data[p * 4 + c] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  const buf: Buffer = PNG.sync.write(png);
  return `data:image/png;base64,${buf.toString("base64")}`;
}

/**
 * Grid of sample images with "label → prediction (u = …)" captions; a wrong prediction is
 * captioned in vermillion.
 *
 * @param samples candidate samples (e.g. the whole test set with uncertainties).
 * @param options see {@link GalleryOptions}.
 */
export function uncertaintyGallery(
  samples: readonly GallerySample[],
  options: GalleryOptions = {},
): Figure {
  if (samples.length === 0) throw new Error("uncertaintyGallery: no samples");
  const cols = options.columns ?? 6;
  const limit = options.limit ?? 24;
  const names = options.classNames ?? RAF_DB_CLASS_NAMES;
  let chosen = samples.slice();
  if (options.sort ?? true) {
    chosen.sort((a, b) => (b.uncertainty ?? -Infinity) - (a.uncertainty ?? -Infinity));
  }
  chosen = chosen.slice(0, limit);
  const rows = Math.ceil(chosen.length / cols);
  const tile = options.tileSize ?? 120;
  // One caption line each for the label, the prediction, u and the extra caption, so captions
  // of neighbouring tiles never run into each other.
  const lines = Math.max(
    1,
    ...chosen.map((s) =>
      1 + (s.prediction !== undefined ? 1 : 0) + (s.uncertainty !== undefined ? 1 : 0) +
      (s.caption ? 1 : 0)
    ),
  );
  const captionH = 14 * lines + 6;
  const width = cols * tile + 40;
  const height = rows * (tile + captionH) + (options.title ? 60 : 20);
  const images: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  chosen.forEach((s, i) => {
    const r = Math.floor(i / cols), c = i % cols;
    // Layout in paper coordinates: x to the right, y from the top (1) down.
    const x0 = c / cols, y0 = 1 - r / rows;
    const cellH = 1 / rows;
    const imgH = cellH * tile / (tile + captionH);
    images.push({
      source: imageToDataUri(s.image),
      xref: "paper",
      yref: "paper",
      x: x0 + 0.04 / cols,
      y: y0 - (cellH - imgH),
      sizex: 0.92 / cols,
      sizey: imgH * 0.95,
      xanchor: "left",
      yanchor: "top",
      sizing: "contain",
      layer: "above",
    });
    const wrong = s.prediction !== undefined && s.prediction !== s.label;
    const text = [
      s.caption,
      className(names, s.label),
      s.prediction !== undefined ? `→ ${className(names, s.prediction)}` : undefined,
      s.uncertainty !== undefined ? `u = ${s.uncertainty.toFixed(3)}` : undefined,
    ].filter((t) => t !== undefined).join("<br>");
    annotations.push({
      text,
      xref: "paper",
      yref: "paper",
      x: x0 + 0.5 / cols,
      y: y0,
      xanchor: "center",
      yanchor: "top",
      showarrow: false,
      font: { size: 11, color: wrong ? "#D55E00" : "#222222" },
    });
  });
  const hidden = { visible: false, range: [0, 1], fixedrange: true };
  return {
    // An invisible trace so Plotly draws the (empty) axes area that hosts the images.
    data: [{
      type: "scatter",
      mode: "markers",
      x: [0, 1],
      y: [0, 1],
      marker: { opacity: 0 },
      hoverinfo: "skip",
      showlegend: false,
    }],
    layout: paperLayout({
      showlegend: false,
      ...(options.title ? { title: { text: options.title } } : {}),
      width,
      height,
      margin: { l: 20, r: 20, t: options.title ? 60 : 20, b: 10 },
      xaxis: hidden,
      yaxis: hidden,
      images,
      annotations,
    }),
  };
}
