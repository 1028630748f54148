/**
 * Parser of the RAF-DB label-list format (`train_00001.jpg 5`), shared by the official list and
 * the EAC-layout noisy label files (`noise01.txt` ...).
 *
 * @module
 */
import { DataError } from "./errors.ts";

/** One parsed line. */
export interface LabelEntry {
  /** Image name as written (`train_00001.jpg`). */
  name: string;
  /** Label converted to 0-based. */
  label: number;
  /** 1-based line number in the file. */
  line: number;
}

/**
 * Parses label-list text. Blank lines are skipped; every other line must be `<name> <int>`.
 * @param text file contents
 * @param file file name used in errors
 * @param numClasses labels must lie in 1..numClasses (stored 0-based)
 * @throws DataError naming file and line for a malformed line, a label out of range or a
 *   duplicated name
 */
export function parseLabelList(text: string, file: string, numClasses = 7): LabelEntry[] {
  const out: LabelEntry[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "") continue;
    const line = i + 1;
    const parts = raw.split(/\s+/);
    if (parts.length !== 2 || !/^[+-]?\d+$/.test(parts[1])) {
      throw new DataError(
        file,
        `malformed line ${JSON.stringify(raw)}: expected "<image name> <label 1-${numClasses}>"`,
        line,
      );
    }
    const v = Number(parts[1]);
    if (v < 1 || v > numClasses) {
      throw new DataError(file, `label ${v} of ${parts[0]} out of range 1-${numClasses}`, line);
    }
    const prev = seen.get(parts[0]);
    if (prev !== undefined) {
      throw new DataError(file, `${parts[0]} listed twice (first at line ${prev})`, line);
    }
    seen.set(parts[0], line);
    out.push({ name: parts[0], label: v - 1, line });
  }
  return out;
}

/**
 * Reads and parses a label-list file.
 * @throws DataError naming the file when it is missing, or file+line for bad content
 */
export async function readLabelList(path: string, numClasses = 7): Promise<LabelEntry[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "label file not found" : (e as Error).message;
    throw new DataError(path, why);
  }
  return parseLabelList(text, path, numClasses);
}

/** Formats entries back to the label-list format (labels written 1-based). */
export function formatLabelList(entries: { name: string; label: number }[]): string {
  return entries.map((e) => `${e.name} ${e.label + 1}\n`).join("");
}
