// The layering of lib/ (docs/architecture.md), checked by walking every import of every file:
// the seeded generators (lib/random.ts), engine, rul and io at the bottom (io reads formats and knows nothing of the model), the model
// on engine + rul, training (and the model-aware weights loader) above the model, notebooks,
// grids and the CLIs on top. An import against the arrows fails with the file and the import.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(new URL("../", import.meta.url).pathname);

/** What each part of lib/ may import from lib/ (besides itself and npm/node packages). */
const ALLOWED: Record<string, readonly string[]> = {
  "random.ts": [],
  "engine": [],
  "rul": ["random.ts"],
  // the methods RUL is compared with: steps beside RUL's, on its cross-entropy and the engine
  "scn": ["rul", "engine"],
  "eac": ["rul", "engine"],
  "io": [],
  "tsne": ["random.ts"],
  "data": ["io", "random.ts"],
  "eval": ["io"],
  "plots": ["data", "io", "eval"],
  "backend.ts": ["engine"],
  "model": ["engine", "rul", "scn", "eac", "random.ts", "backend.ts"],
  "train": [
    "model",
    "rul",
    "scn",
    "eac",
    "engine",
    "io",
    "data",
    "eval",
    "random.ts",
    "backend.ts",
  ],
  "notebook": [
    "grid",
    "train",
    "model",
    "rul",
    "scn",
    "eac",
    "io",
    "data",
    "eval",
    "plots",
    "tsne",
    "random.ts",
    "backend.ts",
  ],
  "grid": [
    "notebook",
    "train",
    "model",
    "rul",
    "scn",
    "eac",
    "io",
    "data",
    "eval",
    "random.ts",
    "backend.ts",
  ],
};

/** lib/ part of a path: its first folder below lib/, or the file's name for files in lib/. */
function partOf(file: string): string | null {
  const rel = path.relative(path.join(ROOT, "lib"), file);
  if (rel.startsWith("..")) return null;
  return rel.split(path.sep)[0];
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|js)$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Relative specifiers of the static and dynamic imports and re-exports of a source file. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "") // doc comments hold example imports
    .replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  const re = /\b(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;
  const url = /new URL\(\s*["'](\.{1,2}\/[^"']+)["']\s*,\s*import\.meta\.url/g; // workers, data
  for (const m of text.matchAll(re)) out.push(m[1]);
  for (const m of text.matchAll(url)) out.push(m[1]);
  return out;
}

function edges(dir: string): { from: string; to: string; spec: string }[] {
  const out = [];
  for (const f of sourceFiles(path.join(ROOT, dir))) {
    for (const spec of importsOf(f)) {
      out.push({ from: f, to: path.resolve(path.dirname(f), spec), spec });
    }
  }
  return out;
}

Deno.test("lib/ imports follow the layers (engine, rul, io ← model ← train ← notebook)", () => {
  const bad: string[] = [];
  let checked = 0;
  for (const e of edges("lib")) {
    const from = partOf(e.from);
    const to = partOf(e.to);
    if (from === null) continue;
    if (to === null) {
      if (e.to.startsWith(ROOT + path.sep) && !e.to.includes(`${path.sep}data${path.sep}`)) {
        bad.push(`${path.relative(ROOT, e.from)} imports ${e.spec} (outside lib/)`);
      }
      continue;
    }
    checked++;
    if (from === to || from === "mod.ts") continue;
    if (!(ALLOWED[from] ?? []).includes(to)) {
      bad.push(`${path.relative(ROOT, e.from)} (${from}) imports ${e.spec} (${to})`);
    }
  }
  assert.ok(checked > 200, `only ${checked} imports found: is the walk broken?`);
  assert.deepEqual(bad, []);
});

Deno.test("the named arrows of the issue: nothing imports back into lib/rul's callers", () => {
  const all = edges("lib");
  const into = (from: string, to: string) =>
    all.filter((e) => partOf(e.from) === from && partOf(e.to) === to)
      .map((e) => path.relative(ROOT, e.from));
  for (const up of ["model", "train", "io", "notebook", "data"]) {
    assert.deepEqual(into("rul", up), [], `lib/rul imports lib/${up}`);
  }
  assert.deepEqual(into("io", "model"), [], "lib/io imports lib/model");
  assert.deepEqual(into("model", "train"), [], "lib/model imports lib/train");
  // CLIs and tools sit on top: nothing in lib/ imports them.
  const up = all.filter((e) => /[/\\](cli|tools|tests|bench)[/\\]/.test(path.relative(ROOT, e.to)));
  assert.deepEqual(up.map((e) => `${path.relative(ROOT, e.from)} → ${e.spec}`), []);
});

Deno.test("the import walk sees a known arrow and a known back-arrow", () => {
  const probe = (text: string) => {
    const dir = Deno.makeTempDirSync();
    const f = path.join(dir, "x.ts");
    fs.writeFileSync(f, text);
    try {
      return importsOf(f);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  };
  assert.deepEqual(
    probe(
      'import { a } from "../model/config.ts";\nexport * from "./b.ts";\n' +
        'const m = await import("../train/mod.ts");\n/** import { z } from "../zz.ts"; */\n',
    ),
    ["../model/config.ts", "./b.ts", "../train/mod.ts"],
  );
});
