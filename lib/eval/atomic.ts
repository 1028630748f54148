/**
 * Atomic file writes: write to a temporary file in the same folder, then rename over the target,
 * so readers never see a half-written file.
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";

let counter = 0;

/** Write `data` to `file` atomically (creating parent folders). */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${Deno.pid}-${counter++}`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch { /* nothing to clean up */ }
    throw new Error(`cannot write ${file}: ${(e as Error).message}`);
  }
}
