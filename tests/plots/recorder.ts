/**
 * A display target that records what a notebook cell would emit, and turns the records into
 * nbformat-4 outputs the way a Jupyter frontend saves them (an update replaces the output that
 * carries the same display id).
 *
 * @module
 */
import type { DisplayTarget, MimeBundle } from "../../lib/plots/mod.ts";

/** One recorded `Deno.jupyter.display` call. */
export interface DisplayCall {
  /** The mime bundle. */
  bundle: MimeBundle;
  /** Its options. */
  options: { raw?: boolean; update?: boolean; display_id?: string };
}

/** Records display calls. */
export class Recorder implements DisplayTarget {
  /** Calls in order. */
  calls: DisplayCall[] = [];

  /** Records one call. */
  display(obj: unknown, options: DisplayCall["options"] = {}): Promise<void> {
    this.calls.push({ bundle: obj as MimeBundle, options });
    return Promise.resolve();
  }

  /** nbformat outputs of the recorded calls. */
  outputs(): Record<string, unknown>[] {
    const outs: Record<string, unknown>[] = [];
    const byId = new Map<string, Record<string, unknown>[]>();
    for (const c of this.calls) {
      const id = c.options.display_id;
      if (c.options.update) {
        for (const o of byId.get(id!) ?? []) o.data = c.bundle;
        continue;
      }
      const out = { output_type: "display_data", data: c.bundle, metadata: {} };
      outs.push(out);
      if (id) byId.set(id, [...(byId.get(id) ?? []), out]);
    }
    return outs;
  }
}

/** A minimal nbformat-4 notebook (Deno kernel metadata) with code cells and their outputs. */
export function notebook(cells: { source: string; outputs: Record<string, unknown>[] }[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "deno", display_name: "Deno", language: "typescript" },
      language_info: { name: "typescript", file_extension: ".ts" },
    },
    cells: cells.map((c, i) => ({
      id: `cell-${i}`,
      cell_type: "code",
      execution_count: i + 1,
      metadata: {},
      source: c.source,
      outputs: c.outputs,
    })),
  });
}
