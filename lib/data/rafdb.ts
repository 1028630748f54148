/**
 * RAF-DB basic in its official layout:
 * `EmoLabel/list_patition_label.txt` (lines `train_00001.jpg 5`, labels 1-7) and
 * `Image/aligned/<stem>_aligned.jpg`; the split is given by the file-name prefix (`train`/`test`).
 * Optional EAC-layout noisy label file (`noise01.txt`, same line format) for the train split.
 *
 * @module
 */
import { join } from "node:path";
import { RAF_DB_CLASSES } from "./classes.ts";
import {
  decodeFileList,
  type DecodeListOptions,
  type FileItem,
  type FileList,
} from "./file_list.ts";
import type { ImageDataset } from "./dataset.ts";
import { DataError } from "./errors.ts";
import { cachedDataset } from "./cache.ts";
import { readLabelList } from "./label_file.ts";

/** Path of the label list inside a RAF-DB root. */
export const RAF_LABEL_FILE = "EmoLabel/list_patition_label.txt";
/** Folder of the aligned images inside a RAF-DB root. */
export const RAF_IMAGE_DIR = "Image/aligned";

/** Image path of a label-list name: `train_00001.jpg` → `Image/aligned/train_00001_aligned.jpg`. */
export function rafImagePath(root: string, name: string): string {
  const dot = name.lastIndexOf(".");
  const stem = dot > 0 ? name.slice(0, dot) : name;
  return join(root, RAF_IMAGE_DIR, `${stem}_aligned.jpg`);
}

/** Options of {@link listRafDb}. */
export interface RafDbOptions {
  /** `train` or `test`. */
  split: "train" | "test";
  /**
   * Noisy label file for the train split (EAC layout, e.g. `noise01.txt`): a path, or a bare
   * name looked up in `EmoLabel/` then in the root. Clean labels are kept beside the noisy ones.
   */
  noiseFile?: string;
  /** Check that every image exists now (default true), so errors come before decoding. */
  checkImages?: boolean;
}

async function resolveNoiseFile(root: string, f: string): Promise<string> {
  if (f.includes("/")) return f;
  for (const cand of [join(root, "EmoLabel", f), join(root, f)]) {
    try {
      await Deno.stat(cand);
      return cand;
    } catch { /* try next */ }
  }
  return join(root, "EmoLabel", f);
}

/**
 * Lists one split of a RAF-DB root (labels 0-6 in the order of {@link RAF_DB_CLASSES}).
 * @throws DataError naming the file (and line) for a missing label file, malformed line, label
 *   out of range, missing image, a noise file that disagrees with the list, or an empty split
 */
export async function listRafDb(root: string, o: RafDbOptions): Promise<FileList> {
  const labelPath = join(root, RAF_LABEL_FILE);
  const entries = await readLabelList(labelPath, RAF_DB_CLASSES.length);
  const chosen = entries.filter((e) => e.name.startsWith(o.split));
  if (chosen.length === 0) {
    throw new DataError(
      labelPath,
      `no '${o.split}' samples (names starting with "${o.split}"): empty split`,
    );
  }
  let noisy: Map<string, number> | undefined;
  let noisePath: string | undefined;
  if (o.noiseFile && o.split === "train") {
    noisePath = await resolveNoiseFile(root, o.noiseFile);
    const noiseEntries = await readLabelList(noisePath, RAF_DB_CLASSES.length);
    const names = new Set(chosen.map((e) => e.name));
    noisy = new Map();
    for (const e of noiseEntries) {
      if (!e.name.startsWith("train")) continue;
      if (!names.has(e.name)) {
        throw new DataError(noisePath, `${e.name} is not in ${labelPath}`, e.line);
      }
      noisy.set(e.name, e.label);
    }
    const missing = chosen.find((e) => !noisy!.has(e.name));
    if (missing) {
      throw new DataError(
        noisePath,
        `lacks ${missing.name} (listed at ${labelPath}:${missing.line})`,
      );
    }
  }
  const items: FileItem[] = chosen.map((e) => ({
    path: rafImagePath(root, e.name),
    name: e.name,
    label: noisy ? noisy.get(e.name)! : e.label,
    cleanLabel: e.label,
    where: `${labelPath}:${e.line}`,
  }));
  if (o.checkImages ?? true) {
    for (const it of items) {
      try {
        const st = await Deno.stat(it.path);
        if (!st.isFile) throw new Error("not a file");
      } catch {
        throw new DataError(it.path, `image not found (listed at ${it.where})`);
      }
    }
  }
  return {
    items,
    classNames: [...RAF_DB_CLASSES],
    noisy: noisy !== undefined,
    source: `RAF-DB ${root} ${o.split}${noisePath ? ` noise=${noisePath}` : ""}`,
  };
}

/**
 * Lists and decodes one split of a RAF-DB root into memory (default 100 × 100 RGB).
 * @throws DataError as {@link listRafDb}, plus undecodable images
 */
export async function loadRafDb(
  root: string,
  o: RafDbOptions & DecodeListOptions,
): Promise<ImageDataset> {
  return await decodeFileList(await listRafDb(root, o), o);
}

/**
 * {@link loadRafDb} through the prepared-dataset cache: the first call decodes and writes
 * `<cacheDir>/raf-<split>-<size>[-<noise>].{u8,json}`; later calls load it in one read. The cache
 * is rebuilt when the root, split, size, channels, noise file or the label files' modification
 * times change.
 */
export async function loadRafDbCached(
  root: string,
  o: RafDbOptions & DecodeListOptions & { cacheDir: string },
): Promise<ImageDataset> {
  const size = o.size ?? 100, channels = o.channels ?? 3;
  const mtime = async (p: string) => {
    try {
      return (await Deno.stat(p)).mtime?.getTime() ?? 0;
    } catch {
      return 0;
    }
  };
  const noise = o.split === "train" && o.noiseFile ? await resolveNoiseFile(root, o.noiseFile) : "";
  const key = JSON.stringify({
    root,
    split: o.split,
    size,
    channels,
    noise,
    labels: await mtime(join(root, RAF_LABEL_FILE)),
    noiseTime: noise ? await mtime(noise) : 0,
  });
  const tag = noise ? `-${noise.replace(/^.*\//, "").replace(/\.[^.]*$/, "")}` : "";
  const base = join(o.cacheDir, `raf-${o.split}-${size}${tag}`);
  return await cachedDataset(base, key, () => loadRafDb(root, o));
}
