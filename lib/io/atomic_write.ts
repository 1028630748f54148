/**
 * Atomic file writes: write a temporary file in the target's folder, flush it, then rename it over
 * the target, so a reader (or a crash) sees either the old file or the complete new one, never a
 * partial write. The one place in the library that writes files atomically.
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";

let counter = 0;

/** A temp-file name beside `file` that no other writer (process or call) uses. */
function tempName(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.tmp-${Deno.pid}-${counter++}-${Math.random().toString(36).slice(2)}`,
  );
}

function asBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? new TextEncoder().encode(data) : data;
}

/**
 * Writes `data` to `file` atomically (temp file + fsync + rename in the same folder), creating the
 * parent folders. On failure the temp file is removed, the old `file` is untouched, and the error
 * names `file`.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const bytes = asBytes(data);
  const tmp = tempName(file);
  try {
    await Deno.mkdir(path.dirname(file), { recursive: true });
    const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      let off = 0;
      while (off < bytes.length) off += await f.write(bytes.subarray(off));
      await f.syncData();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, file);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`cannot write ${file}: ${(e as Error).message}`);
  }
}

/** {@link writeFileAtomic} for binary data (kept for the safetensors writer's readability). */
export function writeBytesAtomic(file: string, bytes: Uint8Array): Promise<void> {
  return writeFileAtomic(file, bytes);
}

/** Synchronous {@link writeFileAtomic}, for small files written from synchronous code (logs). */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  const tmp = tempName(file);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeSync(fd, asBytes(data));
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch { /* nothing to clean up */ }
    throw new Error(`cannot write ${file}: ${(e as Error).message}`);
  }
}
