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
  /**
   * Training splits: every class folder must hold at least one image (a model would otherwise
   * have a class it never saw) and, with `classNames`, no other class folder may exist (its
   * images would be dropped silently).
   */
  strictClasses?: boolean;
}

/**
 * Whether a directory entry is a folder / a file, following symbolic links (a dataset assembled
 * from links on shared storage is read like a copied one, as torchvision's ImageFolder does).
 * @throws DataError naming the link when it points nowhere
 */
async function entryKind(dir: string, e: Deno.DirEntry): Promise<"dir" | "file" | "other"> {
  if (!e.isSymlink) return e.isDirectory ? "dir" : e.isFile ? "file" : "other";
  const p = join(dir, e.name);
  try {
    const st = await Deno.stat(p);
    return st.isDirectory ? "dir" : st.isFile ? "file" : "other";
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? "broken symbolic link (its target does not exist)"
      : `symbolic link cannot be followed: ${(err as Error).message}`;
    throw new DataError(p, why);
  }
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Lists `<dir>/<class>/*` images. Class folders are sorted by code point (Python's `sorted`, as
 * torchvision does); files within a class too. Symbolic links to folders and files are followed.
 * @throws DataError naming the folder when it is missing, has no class folders, a required
 *   class folder is missing, or holds no image at all (empty split); with `strictClasses`, also
 *   naming an empty class folder or one that is not among `classNames`
 */
export async function listImageFolder(dir: string, o: ImageFolderOptions = {}): Promise<FileList> {
  const subdirs: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.name.startsWith(".") && await entryKind(dir, e) === "dir") subdirs.push(e.name);
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    const why = e instanceof Deno.errors.NotFound ? "folder not found" : (e as Error).message;
    throw new DataError(dir, why);
  }
  subdirs.sort(byCodePoint);
  const classNames = o.classNames ? [...o.classNames] : subdirs;
  const extra = subdirs.filter((d) => !classNames.includes(d));
  if (o.strictClasses && extra.length) {
    throw new DataError(
      join(dir, extra[0]),
      `class "${extra[0]}" is not among the expected classes ${classNames.join(", ")} ` +
        "(e.g. missing from the training split)",
    );
  }
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
      if (!IMAGE_EXTENSIONS.some((x) => lower.endsWith(x))) continue;
      if (await entryKind(cdir, e) === "file") files.push(e.name);
    }
    files.sort(byCodePoint);
    if (o.strictClasses && files.length === 0) {
      throw new DataError(cdir, `class "${classNames[label]}" holds no image`);
    }
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

/**
 * Lists and decodes a folder-per-class dataset: every image resized once, from its own size
 * straight to `size` × `size` (Pillow bilinear, torchvision's `Resize((size, size))` on a PIL
 * image; default 100, RAF-DB's size). Training passes the model's input size, so the batch
 * pipeline does not resize again.
 */
export async function loadImageFolder(
  dir: string,
  o: ImageFolderOptions & DecodeListOptions = {},
): Promise<ImageDataset> {
  return await decodeFileList(await listImageFolder(dir, o), o);
}
