/**
 * Every figure that README.md or docs/*.md quote from a measurement matches its file.
 *
 * Convention (docs/measurements/README.md): a line holding only
 * `<!-- measurement: docs/measurements/x.json -->` (several files: comma-separated) marks the
 * block that follows it: a fenced code block, a table (consecutive lines starting with `|`) or a
 * paragraph (consecutive non-blank lines). Every number written in that block must be one of the
 * numbers of the file(s)' `figures` or `machine`, as written or rounded to the decimals the block
 * shows: `1.1` matches 1.11 or 1.14, `14.70` matches 14.7, `12,271` matches 12271, `1 min 43 s`
 * needs 1 and 43 (a string "1 min 43 s" in the file holds both). Not counted: a table's header row, inline code,
 * link targets, and a number glued to a word (`ResNet-18`, `x86-64`, `H200`, `fp32`). The file
 * must be JSON with `command`, `date`, `machine` and `figures`. A marked table whose file holds
 * rows (`figures.rows`) must also have one table row per file row.
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { assert, assertEquals } from "./_assert.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const MARKER = /^<!--\s*measurement:\s*(.+?)\s*-->$/;

/** A marked block of a Markdown file. */
export interface MarkedBlock {
  /** Measurement files named by the marker (repository paths). */
  files: string[];
  /** 1-based line of the marker. */
  line: number;
  /** The block's lines (the first one right after the marker). */
  lines: string[];
  /** 1-based line of the block's first line. */
  firstLine: number;
}

/** The marked blocks of a Markdown text. */
export function markedBlocks(text: string): MarkedBlock[] {
  const lines = text.split("\n");
  const out: MarkedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = MARKER.exec(lines[i].trim());
    if (!m) continue;
    const files = m[1].split(",").map((f) => f.trim()).filter(Boolean);
    let j = i + 1;
    while (j < lines.length && lines[j].trim() === "") j++;
    const block: string[] = [];
    if (j < lines.length && lines[j].trimStart().startsWith("```")) {
      block.push(lines[j]);
      for (j++; j < lines.length && !lines[j].trimStart().startsWith("```"); j++) {
        block.push(lines[j]);
      }
    } else if (j < lines.length && lines[j].trimStart().startsWith("|")) {
      for (; j < lines.length && lines[j].trimStart().startsWith("|"); j++) block.push(lines[j]);
    } else {
      for (; j < lines.length && lines[j].trim() !== "" && !MARKER.test(lines[j].trim()); j++) {
        block.push(lines[j]);
      }
    }
    out.push({ files, line: i + 1, lines: block, firstLine: j - block.length + 1 });
  }
  return out;
}

/** A number as written: its value and the decimals shown. */
export interface Quoted {
  text: string;
  value: number;
  decimals: number;
}

const NUM =
  /(?<![\p{L}\d_.,])(?<![\p{L}]-)[+\-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\p{L}\d])|(?<![\p{L}\d_.,])(?<![\p{L}]-)[+\-−]?\d+(?:\.\d+)?(?![\p{L}\d])/gu;

/** The numbers written in one line of text (see the module doc for what is not counted). */
export function numbersIn(line: string): Quoted[] {
  const clean = line
    .replace(/<!--.*?-->/g, " ")
    .replace(/`[^`]*`/g, " ")
    .replace(/\p{L}[\p{L}\d_]*(?:-[\p{L}\d_]+)+/gu, " ")
    .replace(/\]\([^)]*\)/g, "] ");
  const out: Quoted[] = [];
  for (const m of clean.matchAll(NUM)) {
    let t = m[0];
    // a range "1.1-1.3": the second number's "-" is the range's dash, not a sign
    const before = clean[m.index! - 1];
    if ((t[0] === "-" || t[0] === "−") && before !== undefined && /\d/.test(before)) {
      t = t.slice(1);
    }
    const plain = t.replace(/,/g, "").replace("−", "-").replace(/^\+/, "");
    const dot = plain.indexOf(".");
    out.push({ text: t, value: Number(plain), decimals: dot < 0 ? 0 : plain.length - dot - 1 });
  }
  return out;
}

/** The numbers a measurement file holds: numeric leaves and the numbers inside string leaves. */
export function fileNumbers(value: unknown, into: number[] = []): number[] {
  if (typeof value === "number") into.push(value);
  else if (typeof value === "string") {
    for (const q of numbersIn(value)) into.push(q.value);
  } else if (Array.isArray(value)) { for (const v of value) fileNumbers(v, into); }
  else if (value && typeof value === "object") {
    for (const v of Object.values(value)) fileNumbers(v, into);
  }
  return into;
}

/** Whether quoted number `q` is one of `values` as written or rounded to its decimals. */
export function matches(q: Quoted, values: number[]): boolean {
  const f = 10 ** q.decimals;
  // rounded half away from zero, as printf and toFixed do for the figures we print
  const round = (v: number) => Math.sign(v) * Math.round(Math.abs(v) * f) / f;
  return values.some((v) => Math.abs(round(v) - q.value) < 1e-9);
}

/** Lines of a block whose numbers are checked (a table's header row and rule are not). */
function checkedLines(b: MarkedBlock): { line: string; at: number }[] {
  const rows = b.lines.map((line, k) => ({ line, at: b.firstLine + k }));
  const rule = (s: string) => /^\s*\|[\s:|-]+\|\s*$/.test(s);
  const isTable = (s: string) => s.trimStart().startsWith("|");
  return rows.filter((r, k) =>
    !rule(r.line) && !(isTable(r.line) && k + 1 < rows.length && rule(rows[k + 1].line)) &&
    !r.line.trimStart().startsWith("```")
  );
}

/** The mismatches of one Markdown file against its measurement files, as `file:line` messages. */
export function claimErrors(mdPath: string, text: string, root = ROOT): string[] {
  const errors: string[] = [];
  for (const b of markedBlocks(text)) {
    const where = `${mdPath}:${b.line}`;
    if (b.lines.length === 0) {
      errors.push(`${where}: the marker is followed by no block`);
      continue;
    }
    const values: number[] = [];
    let rowCount = 0;
    let hasRows = false;
    for (const f of b.files) {
      const p = path.join(root, f);
      if (!fs.existsSync(p)) {
        errors.push(`${where}: measurement file ${f} does not exist`);
        continue;
      }
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(fs.readFileSync(p, "utf8"));
      } catch (e) {
        errors.push(`${where}: ${f} is not JSON: ${(e as Error).message}`);
        continue;
      }
      for (const k of ["command", "date", "machine", "figures"]) {
        if (!(k in json)) errors.push(`${where}: ${f} has no "${k}"`);
      }
      fileNumbers(json.figures, values);
      fileNumbers(json.machine, values);
      const rows = (json.figures as { rows?: unknown[] } | undefined)?.rows;
      if (Array.isArray(rows)) {
        hasRows = true;
        rowCount += rows.length;
      }
    }
    for (const { line, at } of checkedLines(b)) {
      for (const q of numbersIn(line)) {
        if (!matches(q, values)) {
          errors.push(
            `${mdPath}:${at}: ${q.text} is not in ${b.files.join(", ")} ` +
              `(marker at line ${b.line}): ${line.trim()}`,
          );
        }
      }
    }
    const table = b.lines.filter((l) => l.trimStart().startsWith("|"));
    if (hasRows && table.length > 0 && b.files.length === 1) {
      const body = table.length - 2; // header and rule
      if (body !== rowCount) {
        errors.push(`${where}: the table has ${body} rows, ${b.files[0]} has ${rowCount}`);
      }
    }
  }
  return errors;
}

/** README.md and docs/*.md. */
function documents(): string[] {
  const docs = fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort();
  return ["README.md", ...docs.map((f) => `docs/${f}`)];
}

Deno.test("claims: the number parser reads figures as a reader does (hand-written cases)", () => {
  const t = (s: string) => numbersIn(s).map((q) => q.text);
  assertEquals(t("at 1.1-1.3× PyTorch and 2.8-3.2× wasm"), ["1.1", "1.3", "2.8", "3.2"]);
  assertEquals(t("| 224 | 64 | onednn-cpu | 14.70 | – |"), ["224", "64", "14.70"]);
  assertEquals(t("12,271 images, +6.00 [−1.08, +3.88]"), ["12,271", "+6.00", "−1.08", "+3.88"]);
  assertEquals(t("ResNet-18 on x86-64, an H200, `--batch 64`, [x](docs/a1.md)"), []);
  assertEquals(t("1 min 43 s"), ["1", "43"]);
  assertEquals(numbersIn("−1.08")[0].value, -1.08);
  assertEquals(numbersIn("2.50")[0].decimals, 2);
  assert(matches({ text: "1.1", value: 1.1, decimals: 1 }, [1.11]));
  assert(matches({ text: "14.70", value: 14.7, decimals: 2 }, [14.7]));
  assert(!matches({ text: "1.3", value: 1.3, decimals: 1 }, [1.36]));
  assert(!matches({ text: "−1.08", value: -1.08, decimals: 2 }, [1.08]));
  assert(matches({ text: "12,271", value: 12271, decimals: 0 }, fileNumbers({ n: "12271 img" })));
});

Deno.test("claims: a marked block is checked number by number (a changed figure is caught)", () => {
  const dir = Deno.makeTempDirSync({ prefix: "claims-" });
  fs.mkdirSync(path.join(dir, "m"));
  fs.writeFileSync(
    path.join(dir, "m/x.json"),
    JSON.stringify({
      command: "c",
      date: "d",
      machine: {},
      figures: { rows: [{ size: 64, ips: 169.01 }, { size: 224, ips: 14.7 }], ratio: 1.21 },
    }),
  );
  const good = "text\n<!-- measurement: m/x.json -->\n| size | img/s |\n| --- | --- |\n" +
    "| 64 | 169.01 |\n| 224 | 14.70 |\n\n<!-- measurement: m/x.json -->\nat 1.2× PyTorch\n";
  assertEquals(claimErrors("t.md", good, dir), []);
  const bad = good.replace("169.01", "196.01");
  const errs = claimErrors("t.md", bad, dir);
  assertEquals(errs.length, 1, errs.join("\n"));
  assert(errs[0].startsWith("t.md:5: 196.01 is not in m/x.json"), errs[0]);
  assertEquals(claimErrors("t.md", good.replace("| 224 | 14.70 |\n", ""), dir), [
    "t.md:2: the table has 1 rows, m/x.json has 2",
  ]);
  assertEquals(claimErrors("t.md", good.replace("1.2×", "1.3×"), dir).length, 1);
  assertEquals(
    claimErrors("t.md", good.replace("m/x.json -->\nat", "m/y.json -->\nat"), dir)[0],
    "t.md:8: measurement file m/y.json does not exist",
  );
  fs.rmSync(dir, { recursive: true });
});

Deno.test("claims: README.md and docs/*.md match the measurement files they name", () => {
  const errors: string[] = [];
  for (const md of documents()) {
    errors.push(...claimErrors(md, fs.readFileSync(path.join(ROOT, md), "utf8")));
  }
  if (errors.length) {
    throw new Error(`figures that do not match their files:\n${errors.join("\n")}`);
  }
  // the README's quoted figures and docs/engine.md's bench table carry markers
  for (const md of ["README.md", "docs/engine.md"]) {
    const text = fs.readFileSync(path.join(ROOT, md), "utf8");
    assert(markedBlocks(text).length > 0, `${md} has no measurement marker`);
  }
});

Deno.test("claims: every measurement file is complete (command, date, machine, figures)", () => {
  const dir = path.join(ROOT, "docs/measurements");
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    const j = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    for (const k of ["command", "date", "machine", "figures"]) {
      assert(k in j, `docs/measurements/${f} has no "${k}"`);
    }
    const m = j.machine as Record<string, unknown>;
    assert(typeof m.cores === "number", `docs/measurements/${f}: machine.cores missing`);
  }
});
