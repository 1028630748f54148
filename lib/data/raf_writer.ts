/**
 * Writes datasets out in the RAF-DB basic layout (`EmoLabel/list_patition_label.txt` +
 * `Image/aligned/<stem>_aligned.jpg`), e.g. SynthFER, so the real loader is exercised end to end.
 *
 * @module
 */
import { join } from "node:path";
import { encodeJpeg } from "./codec.ts";
import { imageAt, type ImageDataset } from "./dataset.ts";
import { writeFileAtomic } from "../io/atomic_write.ts";
import { formatLabelList } from "./label_file.ts";
import { RAF_IMAGE_DIR, RAF_LABEL_FILE, rafImagePath } from "./rafdb.ts";

/** Options of {@link writeRafDbLayout}. */
export interface RafWriteOptions {
  /** JPEG quality (default 95). */
  quality?: number;
  /**
   * When the train set's labels are noisy, also write them as an EAC-layout noise file with this
   * name in `EmoLabel/` (e.g. `noise01.txt`); the label list always gets the clean labels.
   */
  noiseFileName?: string;
  /** Images encoded concurrently (default 8). */
  concurrency?: number;
}

/** RAF-style names: `train_00001.jpg` (5 digits) and `test_0001.jpg` (4 digits). */
export function rafName(split: "train" | "test", i: number): string {
  return `${split}_${String(i + 1).padStart(split === "train" ? 5 : 4, "0")}.jpg`;
}

/**
 * Writes `train` and `test` under `root` in the RAF-DB layout. Labels written 1-based; the label
 * list holds the clean labels (`cleanLabels ?? labels`).
 * @returns the label-list entries written, per split
 */
export async function writeRafDbLayout(
  root: string,
  sets: { train: ImageDataset; test: ImageDataset },
  o: RafWriteOptions = {},
): Promise<{ train: string[]; test: string[] }> {
  await Deno.mkdir(join(root, "EmoLabel"), { recursive: true });
  await Deno.mkdir(join(root, RAF_IMAGE_DIR), { recursive: true });
  const lines: { name: string; label: number }[] = [];
  const noisy: { name: string; label: number }[] = [];
  const names = { train: [] as string[], test: [] as string[] };
  for (const split of ["train", "test"] as const) {
    const ds = sets[split];
    for (let i = 0; i < ds.n; i++) {
      const name = rafName(split, i);
      names[split].push(name);
      lines.push({ name, label: (ds.cleanLabels ?? ds.labels)[i] });
      if (split === "train") noisy.push({ name, label: ds.labels[i] });
    }
    let next = 0;
    const worker = async () => {
      while (next < ds.n) {
        const i = next++;
        const jpg = await encodeJpeg(
          imageAt(ds, i),
          ds.height,
          ds.width,
          ds.channels,
          o.quality ?? 95,
        );
        await writeFileAtomic(rafImagePath(root, names[split][i]), jpg);
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 8, ds.n) }, worker));
  }
  await writeFileAtomic(join(root, RAF_LABEL_FILE), formatLabelList(lines));
  if (o.noiseFileName && sets.train.cleanLabels) {
    await writeFileAtomic(join(root, "EmoLabel", o.noiseFileName), formatLabelList(noisy));
  }
  return names;
}
