/**
 * Writes a small RAF-DB-layout folder generated from SynthFER, for the notebook test.
 *
 * @module
 */
import { synthFerSplits, writeRafDbLayout } from "../../lib/data/mod.ts";

/** Image counts of the generated folder. */
export interface RafDbFixtureCounts {
  /** Training images. */
  train: number;
  /** Test images. */
  test: number;
}

/** Writes the folder at `root` (100 px JPEGs, like RAF-DB's aligned images); returns counts. */
export async function writeRafDbFixture(root: string): Promise<RafDbFixtureCounts> {
  const sets = synthFerSplits({ train: 140, test: 70, size: 100, seed: 7 });
  const names = await writeRafDbLayout(root, sets);
  return { train: names.train.length, test: names.test.length };
}
