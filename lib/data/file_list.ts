/**
 * A list of image files with labels (what the folder loaders produce before decoding), and its
 * decoding into an {@link ImageDataset}.
 *
 * @module
 */
import { decodeImage } from "./codec.ts";
import { allocPixels, type ImageDataset } from "./dataset.ts";
import { DataError } from "./errors.ts";

/** One image file to load. */
export interface FileItem {
  /** Full path of the image. */
  path: string;
  /** Short name for reports (`train_00001.jpg`). */
  name: string;
  /** Training label (possibly noisy), 0-based. */
  label: number;
  /** True label, 0-based. */
  cleanLabel: number;
  /** Where the item was listed (`list_patition_label.txt:12`), for error messages. */
  where?: string;
}

/** Labelled image files of one split. */
export interface FileList {
  /** The files. */
  items: FileItem[];
  /** Class names, index = label. */
  classNames: string[];
  /** Whether any label differs from its clean label source (a noise file/injection was used). */
  noisy: boolean;
  /** Description (root, split, noise file). */
  source: string;
}

/** Options of {@link decodeFileList}. */
export interface DecodeListOptions {
  /** Decode and resize every image to size × size (Pillow bilinear). Default 100 (RAF-DB's size). */
  size?: number;
  /** 3 (RGB, default) or 1. */
  channels?: number;
  /** Images decoded concurrently (sharp decodes on its own thread pool). Default 8. */
  concurrency?: number;
  /** Called after each image with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Decodes every file of a list into one in-memory dataset.
 * @throws DataError naming the image (and its label-file line) when it is missing or undecodable
 */
export async function decodeFileList(
  list: FileList,
  o: DecodeListOptions = {},
): Promise<ImageDataset> {
  const size = o.size ?? 100;
  const channels = o.channels ?? 3;
  const n = list.items.length;
  if (n === 0) throw new DataError(list.source, "no images to decode (empty split)");
  const bpi = size * size * channels;
  const pixels = allocPixels(n * bpi);
  let next = 0, done = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const it = list.items[i];
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(it.path);
      } catch (e) {
        const why = e instanceof Deno.errors.NotFound ? "image not found" : (e as Error).message;
        throw new DataError(it.path, `${why}${it.where ? ` (listed at ${it.where})` : ""}`);
      }
      const img = await decodeImage(bytes, {
        size,
        channels,
        file: it.path,
        context: it.where ? `listed at ${it.where}` : undefined,
      });
      pixels.set(img.data, i * bpi);
      o.onProgress?.(++done, n);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 8, n) }, worker));
  return {
    pixels,
    n,
    height: size,
    width: size,
    channels,
    labels: Int32Array.from(list.items, (it) => it.label),
    cleanLabels: list.noisy ? Int32Array.from(list.items, (it) => it.cleanLabel) : undefined,
    classNames: [...list.classNames],
    fileNames: list.items.map((it) => it.name),
    source: list.source,
  };
}
