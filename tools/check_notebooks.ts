/**
 * Static checks of the committed notebooks (part of `deno task check`): `deno fmt` formats `.ipynb`
 * files itself (code and markdown cells), but `deno lint` and `deno check` do not read them
 * (deno 2.9.6: "No target files found" / a JSON syntax error). This script
 *
 * 1. fails when a notebook carries outputs or execution counts (strip them with
 *    `deno task notebooks:clear`), or does not use the Deno kernel;
 * 2. checks the formatting of every cell (code as TypeScript, markdown as Markdown) by writing
 *    each into a fresh temporary folder and running `deno fmt --check` there; `--fix` formats them
 *    in place (`deno task notebooks:fmt`). Why not `deno fmt` on the `.ipynb` (notebooks/ is
 *    excluded in deno.json): deno 2.9.6's `--check` reports every cell whose last line lacks a
 *    newline (Jupyter's convention) as unformatted, even when `deno fmt` leaves the file
 *    byte-identical, so it fails on any fresh clone (a passing run only reflects its cache);
 * 3. writes the code cells of each notebook, in order, into one TypeScript module beside it (the
 *    Deno kernel runs cells in one shared scope, with top-level `await`, so this module is what the
 *    kernel sees), runs `deno lint` and `deno check` on those modules, and reports every
 *    diagnostic at its notebook, cell and line (`notebooks/02_train_rul.ipynb [cell 4] 3:7`).
 *
 * Usage: `deno run -A tools/check_notebooks.ts [--fix] [NOTEBOOK_OR_DIR ...]` (default
 * `notebooks/`).
 * Exit status 1 on any finding, 2 on bad usage.
 *
 * @module
 */
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(new URL(import.meta.url))), "..");

/** A notebook cell as far as this check reads it (nbformat 4). */
interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}

/** Where a line of an extracted module comes from. */
interface Origin {
  cell: number;
  line: number;
}

/** One notebook turned into a module: its path, the module's path and the line map. */
interface Extracted {
  notebook: string;
  module: string;
  origins: Origin[];
}

const text = (s: string | string[]) => (Array.isArray(s) ? s.join("") : s);

/** Problems of a notebook's JSON (outputs, counts, kernel); empty when clean. */
export function jsonProblems(path: string, nb: { cells: Cell[]; metadata?: unknown }): string[] {
  const out: string[] = [];
  const spec = (nb.metadata as { kernelspec?: { name?: string } } | undefined)?.kernelspec;
  if (spec?.name !== "deno") out.push(`${path}: kernelspec is "${spec?.name}", not "deno"`);
  nb.cells.forEach((c, i) => {
    if (c.cell_type !== "code") return;
    if ((c.outputs?.length ?? 0) > 0) {
      out.push(`${path} [cell ${i}]: committed with ${c.outputs!.length} output(s)`);
    }
    if (c.execution_count !== null && c.execution_count !== undefined) {
      out.push(`${path} [cell ${i}]: committed with execution_count ${c.execution_count}`);
    }
  });
  return out;
}

/** The code cells of a notebook as one module, with the origin of each of its lines. */
export function extractCode(cells: Cell[]): { code: string; origins: Origin[] } {
  const lines: string[] = [];
  const origins: Origin[] = [];
  cells.forEach((c, i) => {
    if (c.cell_type !== "code") return;
    text(c.source).split("\n").forEach((l, j) => {
      lines.push(l);
      origins.push({ cell: i, line: j + 1 });
    });
  });
  return { code: lines.join("\n") + "\n", origins };
}

function collect(args: string[]): string[] {
  const found: string[] = [];
  for (const a of args.length ? args : [join(ROOT, "notebooks")]) {
    const p = resolve(a);
    if (!existsSync(p)) throw new Error(`check_notebooks: no such file or folder: ${a}`);
    if (statSync(p).isDirectory()) {
      found.push(
        ...readdirSync(p).filter((n) => n.endsWith(".ipynb") && !n.startsWith(".")).sort()
          .map((n) => join(p, n)),
      );
    } else found.push(p);
  }
  return found;
}

/** Replaces `<module>:LINE:COL` in tool output by the notebook, cell and line it came from. */
function mapBack(out: string, extracted: Extracted[]): string {
  let res = out; // NO_COLOR is set for the tools: no escape codes to strip
  for (const e of extracted) {
    const esc = e.module.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const re = new RegExp(`(?:file://)?${esc}(?::(\\d+)(?::(\\d+))?)?`, "g");
    res = res.replace(re, (_m, l?: string, c?: string) => {
      const nb = relative(ROOT, e.notebook);
      if (!l) return nb;
      const o = e.origins[Number(l) - 1];
      return o ? `${nb} [cell ${o.cell}] ${o.line}${c ? `:${c}` : ""}` : `${nb} (line ${l}?)`;
    });
  }
  return res;
}

async function deno(args: string[]): Promise<{ ok: boolean; out: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { ok: r.success, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

/** Where a cell's text was written for formatting. */
interface CellFile {
  file: string;
  notebook: number;
  cell: number;
  /** Whether the cell's text ended with a newline (Jupyter leaves it off the last line). */
  newline: boolean;
}

/**
 * Cells whose text `deno fmt` would change, as `notebook [cell i]` lines; with `fix`, the notebooks
 * are rewritten with their cells formatted instead. Each cell goes to its own file in a new
 * temporary folder (so no formatting cache applies) and is formatted with the project's settings.
 */
async function formatCells(
  notebooks: { path: string; nb: { cells: Cell[] } }[],
  fix: boolean,
): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "rul-nbfmt-"));
  const files: CellFile[] = [];
  try {
    notebooks.forEach(({ nb }, k) => {
      nb.cells.forEach((c, i) => {
        if (c.cell_type !== "code" && c.cell_type !== "markdown") return;
        const src = text(c.source);
        if (!src.trim()) return;
        const file = join(dir, `nb${k}_cell${i}.${c.cell_type === "code" ? "ts" : "md"}`);
        const newline = src.endsWith("\n");
        writeFileSync(file, newline ? src : src + "\n");
        files.push({ file, notebook: k, cell: i, newline });
      });
    });
    if (!files.length) return [];
    const config = join(ROOT, "deno.json");
    const r = await deno(["fmt", ...(fix ? [] : ["--check"]), "--config", config, dir]);
    if (!fix) {
      if (r.ok) return [];
      const bad = files.filter((f) => r.out.includes(f.file));
      if (!bad.length) return [`deno fmt --check of the notebook cells failed:\n${r.out.trim()}`];
      return bad.map((f) =>
        `${relative(ROOT, notebooks[f.notebook].path)} [cell ${f.cell}]: not formatted ` +
        "(run `deno task notebooks:fmt`)"
      );
    }
    if (!r.ok) return [`deno fmt of the notebook cells failed:\n${r.out.trim()}`];
    for (const f of files) {
      let src = readFileSync(f.file, "utf8");
      if (!f.newline) src = src.replace(/\n$/, "");
      const lines = src.split(/(?<=\n)/);
      notebooks[f.notebook].nb.cells[f.cell].source = lines;
    }
    for (const { path, nb } of notebooks) writeFileSync(path, JSON.stringify(nb, null, 1) + "\n");
    return [];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const fix = Deno.args.includes("--fix");
  let paths: string[];
  try {
    paths = collect(Deno.args.filter((a) => a !== "--fix"));
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const problems: string[] = [];
  const extracted: Extracted[] = [];
  const parsed: { path: string; nb: { cells: Cell[] } }[] = [];
  try {
    for (const path of paths) {
      const rel = relative(ROOT, path);
      let nb: { cells: Cell[]; metadata?: unknown };
      try {
        nb = JSON.parse(readFileSync(path, "utf8"));
      } catch (e) {
        problems.push(`${rel}: not a notebook (JSON): ${(e as Error).message}`);
        continue;
      }
      problems.push(...jsonProblems(rel, nb));
      parsed.push({ path, nb });
      const { code, origins } = extractCode(nb.cells);
      const module = join(dirname(path), `.${basename(path, ".ipynb")}.check.ts`);
      writeFileSync(module, code);
      extracted.push({ notebook: path, module, origins });
    }
    problems.push(...await formatCells(parsed, fix));
    if (fix) {
      console.log(`check_notebooks: formatted the cells of ${parsed.length} notebook(s)`);
    }
    if (extracted.length) {
      const modules = extracted.map((e) => e.module);
      const lint = await deno(["lint", ...modules]);
      if (!lint.ok) problems.push(`deno lint:\n${mapBack(lint.out, extracted).trim()}`);
      const check = await deno(["check", ...modules]);
      if (!check.ok) problems.push(`deno check:\n${mapBack(check.out, extracted).trim()}`);
    }
  } finally {
    for (const e of extracted) rmSync(e.module, { force: true });
  }
  if (problems.length) {
    console.error(problems.join("\n"));
    console.error(
      `check_notebooks: ${problems.length} problem(s) in ${paths.length} notebook(s). ` +
        "Strip outputs with `deno task notebooks:clear`; format with `deno task notebooks:fmt`.",
    );
    return 1;
  }
  console.log(
    `check_notebooks: ${paths.length} notebook(s) clean (no outputs, format, lint, type check)`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
