/**
 * Atomic file writes (temp file in the same folder, fsync, rename).
 *
 * @module
 */
import * as path from "node:path";

/**
 * Write `bytes` to `file` atomically: a reader sees either the old file or the complete new one,
 * never a partial write (temp file + fsync + rename in the same directory).
 */
export async function writeBytesAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(
    dir,
    `.${path.basename(file)}.tmp-${Deno.pid}-${Math.random().toString(36).slice(2)}`,
  );
  try {
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
