/**
 * Folder-per-class datasets (torchvision ImageFolder layout): `<dir>/<class>/<image>`, class names
 * from the folder names, sorted; for FERPlus / AffectNet / FER2013 exports and the like.
 *
 * @module
 */
import { join } from "node:path";
import {
  decodeFileList,
  type DecodeListOptions,
  type FileItem,
  type FileList,
} from "./file_list.ts";
import type { ImageDataset } from "./dataset.ts";
import { DataError } from "./errors.ts";

/** Image extensions picked up (lower case). */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze([
  ".jpg",
  ".jpeg",
  ".png",
  ".bmp",
  ".webp",
  ".tif",
  ".tiff",
]);

/** Options of {@link listImageFolder}. */
export interface ImageFolderOptions {
  /** Required class names (in label order); default: the sorted sub-folder names. */
  classNames?: string[];
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Lists `<dir>/<class>/*` images. Class folders are sorted by code point (Python's `sorted`, as
 * torchvision does); files within a class too.
 * @throws DataError naming the folder when it is missing, has no class folders, a required
 *   class folder is missing, or holds no image at all (empty split)
 */
export async function listImageFolder(dir: string, o: ImageFolderOptions = {}): Promise<FileList> {
  const subdirs: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory && !e.name.startsWith(".")) subdirs.push(e.name);
    }
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "folder not found" : (e as Error).message;
    throw new DataError(dir, why);
  }
  subdirs.sort(byCodePoint);
  const classNames = o.classNames ? [...o.classNames] : subdirs;
  if (classNames.length === 0) {
    throw new DataError(dir, "no class sub-folders (expected <dir>/<class>/<image>)");
  }
  const items: FileItem[] = [];
  for (let label = 0; label < classNames.length; label++) {
    const cdir = join(dir, classNames[label]);
    if (!subdirs.includes(classNames[label])) throw new DataError(cdir, "class folder not found");
    const files: string[] = [];
    for await (const e of Deno.readDir(cdir)) {
      const lower = e.name.toLowerCase();
      if (e.isFile && IMAGE_EXTENSIONS.some((x) => lower.endsWith(x))) files.push(e.name);
    }
    files.sort(byCodePoint);
    for (const f of files) {
      items.push({
        path: join(cdir, f),
        name: `${classNames[label]}/${f}`,
        label,
        cleanLabel: label,
      });
    }
  }
  if (items.length === 0) throw new DataError(dir, "no images in any class folder (empty split)");
  return { items, classNames, noisy: false, source: `folder ${dir}` };
}

/** Lists and decodes a folder-per-class dataset (default 100 × 100 RGB). */
export async function loadImageFolder(
  dir: string,
  o: ImageFolderOptions & DecodeListOptions = {},
): Promise<ImageDataset> {
  return await decodeFileList(await listImageFolder(dir, o), o);
}
