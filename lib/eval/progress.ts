/**
 * Progress reporting for training and evaluation loops: a progress bar on a terminal, an in-place
 * updating display inside Jupyter (Deno kernel), plain periodic lines otherwise (CI logs).
 *
 * Inside a notebook `Deno.stdout.write` is not captured, so the Jupyter mode uses
 * `Deno.jupyter.display(..., { display_id, update })` and `console.log` only.
 *
 * @module
 */

/** Where progress goes. `auto` picks jupyter, then terminal (stderr is a TTY), then lines. */
export type ProgressMode = "auto" | "terminal" | "jupyter" | "lines" | "silent";

/** Options of a {@link Progress} reporter. */
export interface ProgressOptions {
  /** Label shown before the bar, e.g. `"epoch 3/60"`. */
  label: string;
  /** Number of items (images) the loop will process. */
  total: number;
  /** Output mode (default `auto`). */
  mode?: ProgressMode;
  /** Minimum milliseconds between two redraws (default 250 on a terminal/notebook, 10 s lines). */
  minIntervalMs?: number;
  /** Clock in ms (for tests; default `performance.now`). */
  now?: () => number;
  /** Sink for `lines` mode (default `console.log`). */
  writeLine?: (line: string) => void;
  /** What is counted, for the rate (default "img": `35.2 img/s`; e.g. "it" for iterations). */
  unit?: string;
}

/** Numbers a progress line is made of. */
export interface ProgressState {
  /** Items done. */
  done: number;
  /** Items in total. */
  total: number;
  /** Seconds since the start. */
  elapsedS: number;
  /** Running loss (mean so far), if reported. */
  loss?: number;
  /** Extra key/value pairs to show. */
  extra?: Record<string, string | number>;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return "--:--";
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(sec).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * One progress line: `label [#####.....] 120/600 20% | 35.2 img/s | ETA 00:13 | loss 1.2345`.
 */
export function formatProgress(label: string, s: ProgressState, width = 24, unit = "img"): string {
  const frac = s.total > 0 ? Math.min(1, s.done / s.total) : 0;
  const filled = Math.round(frac * width);
  const bar = "#".repeat(filled) + ".".repeat(width - filled);
  const rate = s.elapsedS > 0 ? s.done / s.elapsedS : NaN;
  const eta = rate > 0 ? (s.total - s.done) / rate : NaN;
  const parts = [
    `${label} [${bar}] ${s.done}/${s.total} ${Math.round(frac * 100)}%`,
    `${Number.isFinite(rate) ? rate.toFixed(1) : "--"} ${unit}/s`,
    s.done >= s.total ? `${fmtTime(s.elapsedS)} total` : `ETA ${fmtTime(eta)}`,
  ];
  if (s.loss !== undefined && Number.isFinite(s.loss)) parts.push(`loss ${s.loss.toFixed(4)}`);
  for (const [k, v] of Object.entries(s.extra ?? {})) {
    parts.push(`${k} ${typeof v === "number" ? Number(v.toPrecision(5)) : v}`);
  }
  return parts.join(" | ");
}

interface JupyterApi {
  display(
    obj: unknown,
    options?: { raw?: boolean; update?: boolean; display_id?: string },
  ): Promise<void>;
}

/** The Deno kernel's `Deno.jupyter` namespace when running inside a notebook. */
export function jupyterApi(): JupyterApi | undefined {
  try {
    // Outside `deno jupyter` the getter throws.
    const j = (Deno as unknown as { jupyter?: JupyterApi }).jupyter;
    return j && typeof j.display === "function" ? j : undefined;
  } catch {
    return undefined;
  }
}

function resolveMode(mode: ProgressMode): Exclude<ProgressMode, "auto"> {
  if (mode !== "auto") return mode;
  if (jupyterApi()) return "jupyter";
  try {
    if (Deno.stderr.isTerminal()) return "terminal";
  } catch { /* no stderr */ }
  return "lines";
}

let displayCounter = 0;
const encoder = new TextEncoder();

/** A progress reporter for one pass over `total` items. */
export class Progress {
  /** Resolved output mode. */
  readonly mode: Exclude<ProgressMode, "auto">;
  private readonly start: number;
  private readonly now: () => number;
  private readonly minInterval: number;
  private readonly writeLine: (line: string) => void;
  private readonly displayId = `rul-progress-${Deno.pid}-${displayCounter++}`;
  private last = -Infinity;
  private shown = false;
  private state: ProgressState;

  /** Start reporting. */
  constructor(readonly options: ProgressOptions) {
    this.mode = resolveMode(options.mode ?? "auto");
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
    this.minInterval = options.minIntervalMs ?? (this.mode === "lines" ? 10_000 : 250);
    this.writeLine = options.writeLine ?? ((l) => console.log(l));
    this.state = { done: 0, total: options.total, elapsedS: 0 };
  }

  /** Report `done` items processed so far (redraws at most every `minIntervalMs`). */
  update(done: number, info: { loss?: number; extra?: Record<string, string | number> } = {}) {
    const t = this.now();
    this.state = { done, total: this.options.total, elapsedS: (t - this.start) / 1000, ...info };
    // The final state is drawn by finish(); drawing it here too would repeat it in `lines` mode.
    if (t - this.last >= this.minInterval && (done < this.options.total || this.mode !== "lines")) {
      this.last = t;
      this.render(false);
    }
  }

  /** Final redraw (always shown) and end of the line; returns the last state. */
  finish(info: { loss?: number; extra?: Record<string, string | number> } = {}): ProgressState {
    this.state = {
      ...this.state,
      ...info,
      elapsedS: (this.now() - this.start) / 1000,
    };
    this.render(true);
    return this.state;
  }

  /** Current text of the progress line. */
  text(): string {
    return formatProgress(this.options.label, this.state, 24, this.options.unit);
  }

  private render(final: boolean): void {
    const line = this.text();
    switch (this.mode) {
      case "silent":
        return;
      case "lines":
        this.writeLine(line);
        return;
      case "terminal": {
        const cols = (() => {
          try {
            return Deno.consoleSize().columns;
          } catch {
            return 120;
          }
        })();
        const shown = line.length >= cols ? line.slice(0, cols - 1) : line;
        Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${shown}${final ? "\n" : ""}`));
        return;
      }
      case "jupyter": {
        const j = jupyterApi();
        if (!j) return this.writeLine(line);
        const bundle = {
          "text/plain": line,
          "text/html": `<pre style="margin:0">${
            line.replace(/&/g, "&amp;").replace(/</g, "&lt;")
          }</pre>`,
        };
        j.display(bundle, { raw: true, display_id: this.displayId, update: this.shown })
          .catch(() => {});
        this.shown = true;
        return;
      }
    }
  }
}
