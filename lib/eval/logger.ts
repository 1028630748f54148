/**
 * Metrics log of a run: one record per epoch appended to `metrics.jsonl` and `metrics.csv` in the
 * run folder (both rewritten atomically; the CSV header grows when new keys appear).
 *
 * @module
 */
import { stringify } from "csv-stringify/sync";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomicSync as writeFileAtomic } from "../io/atomic_write.ts";

/** One metrics record: flat key → number/string/boolean (null for "not available"). */
export type MetricsRecord = Record<string, number | string | boolean | null>;

/** Appends metrics records to `metrics.jsonl` and `metrics.csv` in a run folder. */
export class MetricsLogger {
  /** Path of `metrics.jsonl`. */
  readonly jsonlPath: string;
  /** Path of `metrics.csv`. */
  readonly csvPath: string;
  /** Records logged so far (including those read back from an existing log). */
  readonly records: MetricsRecord[] = [];

  /**
   * Open the log in `runDir`. With `keep: "existing"` an existing `metrics.jsonl` is read back
   * (for resuming); with `keep: "none"` (default) the log starts empty.
   */
  constructor(readonly runDir: string, options: { keep?: "existing" | "none" } = {}) {
    this.jsonlPath = path.join(runDir, "metrics.jsonl");
    this.csvPath = path.join(runDir, "metrics.csv");
    if (options.keep === "existing" && fs.existsSync(this.jsonlPath)) {
      const lines = fs.readFileSync(this.jsonlPath, "utf8").split("\n");
      lines.forEach((line, i) => {
        if (line.trim() === "") return;
        try {
          this.records.push(JSON.parse(line));
        } catch (e) {
          throw new Error(`${this.jsonlPath}:${i + 1}: not JSON (${(e as Error).message})`);
        }
      });
    }
  }

  /** Drop records whose `key` is greater than `value` (e.g. epochs after a resumed checkpoint). */
  truncateAfter(key: string, value: number): void {
    const keep = this.records.filter((r) => typeof r[key] !== "number" || r[key] <= value);
    this.records.splice(0, this.records.length, ...keep);
    this.flush();
  }

  /** Append one record and rewrite both files. */
  log(record: MetricsRecord): void {
    this.records.push({ ...record });
    this.flush();
  }

  /** Column order of the CSV: keys in order of first appearance. */
  columns(): string[] {
    const cols: string[] = [];
    const seen = new Set<string>();
    for (const r of this.records) {
      for (const k of Object.keys(r)) if (!seen.has(k)) (seen.add(k), cols.push(k));
    }
    return cols;
  }

  private flush(): void {
    const jsonl = this.records.map((r) => JSON.stringify(r)).join("\n");
    writeFileAtomic(this.jsonlPath, this.records.length ? jsonl + "\n" : "");
    const cols = this.columns();
    const rows = this.records.map((r) => cols.map((c) => r[c] ?? ""));
    writeFileAtomic(
      this.csvPath,
      cols.length ? stringify(rows, { header: true, columns: cols }) : "",
    );
  }
}
