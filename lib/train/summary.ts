/**
 * The run folder's `summary.json`: written once a run has finished (after its last epoch, and
 * after the training-set audit when the CLI does one), so its presence marks a finished run. The
 * CLI (`deno task train`), the notebooks' in-process grid runs and lib/grid all read and write it
 * through this module.
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomicSync } from "../io/atomic_write.ts";

/** File name of the summary inside a run folder. */
export const SUMMARY_FILE = "summary.json";

/** What `summary.json` holds (snake_case keys, as written since the first CLI). */
export interface RunSummary {
  /** Variant trained. */
  variant: string;
  /** Epochs trained in total. */
  epochs: number;
  /** Highest test accuracy over the epochs. */
  best_epoch_test_acc: number;
  /** Epoch (1-based) of the highest test accuracy. */
  best_epoch: number;
  /** Test accuracy after the last epoch. */
  last_epoch_test_acc: number;
  /** AUROC of the model's score (RUL u, SCN α, EAC flip consistency) for flipped vs clean
   * training labels (CLI audit), when computed. */
  train_noisy_label_auroc?: number | null;
  /** Mean u of flipped and clean training samples (CLI audit), when computed. */
  train_mean_u?: { flipped: number; clean: number };
}

/** Write `<runDir>/summary.json` atomically (after everything else of the run is written). */
export function writeRunSummary(runDir: string, summary: RunSummary): void {
  writeFileAtomicSync(path.join(runDir, SUMMARY_FILE), JSON.stringify(summary, null, 2) + "\n");
}

/**
 * Read `<runDir>/summary.json`; null when the file does not exist (the run has not finished).
 *
 * @throws Error naming the file when it is not JSON or lacks a finite accuracy or epoch count.
 */
export function readRunSummary(runDir: string): RunSummary | null {
  const file = path.join(runDir, SUMMARY_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  let s: RunSummary;
  try {
    s = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  for (const k of ["epochs", "best_epoch_test_acc", "last_epoch_test_acc"] as const) {
    if (typeof s?.[k] !== "number" || !Number.isFinite(s[k])) {
      throw new Error(`${file}: "${k}" is ${JSON.stringify(s?.[k])}, expected a finite number`);
    }
  }
  return s;
}
