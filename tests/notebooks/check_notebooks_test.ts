/**
 * tools/check_notebooks.ts (part of `deno task check`): passes on the committed notebooks, and on
 * a notebook with outputs, a lint error and a type error fails, naming each at its cell and line.
 */
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { ROOT, runCmd } from "./harness.ts";

const SCRIPT = `${ROOT}tools/check_notebooks.ts`;

function notebook(cells: Record<string, unknown>[]): string {
  return JSON.stringify({
    cells,
    metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

const code = (source: string[], extra: Record<string, unknown> = {}) => ({
  cell_type: "code",
  execution_count: null,
  metadata: {},
  outputs: [],
  source,
  ...extra,
});

Deno.test("check_notebooks: the committed notebooks are clean", async () => {
  const r = await runCmd(Deno.execPath(), ["run", "-A", SCRIPT]);
  assertEquals(r.code, 0, r.stderr + r.stdout);
  assertStringIncludes(r.stdout, "clean");
});

Deno.test("check_notebooks: outputs, lint and type errors fail at their cell and line", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "check-nb-" });
  try {
    const path = `${dir}/bad.ipynb`;
    Deno.writeTextFileSync(
      path,
      notebook([
        { cell_type: "markdown", metadata: {}, source: ["# bad"] },
        code(["const a: number = 1;\n", "console.log(a);"], {
          execution_count: 3,
          outputs: [{ output_type: "stream", name: "stdout", text: ["1\n"] }],
        }),
        code(["let unused = 2;\n", "const b: string = a;\n", "console.log(b);"]),
      ]),
    );
    const r = await runCmd(Deno.execPath(), ["run", "-A", SCRIPT, path]);
    assertEquals(r.code, 1, r.stderr + r.stdout);
    const err = r.stderr;
    assertStringIncludes(err, "bad.ipynb [cell 1]: committed with 1 output(s)");
    assertStringIncludes(err, "bad.ipynb [cell 1]: committed with execution_count 3");
    assertStringIncludes(err, "no-unused-vars");
    assertStringIncludes(err, "bad.ipynb [cell 2] 1:5", "lint finding mapped to cell 2, line 1");
    assertStringIncludes(err, "TS2322");
    assertStringIncludes(err, "bad.ipynb [cell 2] 2:7", "type error mapped to cell 2, line 2");
    const left = [...Deno.readDirSync(dir)].map((e) => e.name);
    assertEquals(left.join(","), "bad.ipynb", "the extracted module is removed");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("check_notebooks: a clean notebook outside notebooks/ passes", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "check-nb-" });
  try {
    Deno.writeTextFileSync(
      `${dir}/ok.ipynb`,
      notebook([code(["const x = [1, 2].map((v) => v * 2);\n", "x.length;"])]),
    );
    const r = await runCmd(Deno.execPath(), ["run", "-A", SCRIPT, dir]);
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assert(r.stdout.includes("1 notebook(s) clean"), r.stdout);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("check_notebooks: a badly formatted cell fails at its cell, with or without a last newline", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "check-nb-" });
  try {
    Deno.writeTextFileSync(
      `${dir}/fmt.ipynb`,
      notebook([
        { cell_type: "markdown", metadata: {}, source: ["# fine"] },
        code(["const  x =[1,2];\n", "console.log(x);"]),
        code(["console.log(1);"]),
      ]),
    );
    const r = await runCmd(Deno.execPath(), ["run", "-A", SCRIPT, dir]);
    assertEquals(r.code, 1, r.stderr + r.stdout);
    assertStringIncludes(r.stderr, "fmt.ipynb [cell 1]: not formatted");
    assert(!r.stderr.includes("[cell 0]: not formatted"), r.stderr);
    assert(!r.stderr.includes("[cell 2]: not formatted"), r.stderr);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
