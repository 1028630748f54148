import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFileAtomic, writeFileAtomicSync } from "../../lib/io/atomic_write.ts";

Deno.test("atomic writes create folders, leave no temp file, keep the old file on failure", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-atomic-"));
  try {
    await writeFileAtomic(path.join(dir, "a", "b.txt"), "hi");
    writeFileAtomicSync(path.join(dir, "a", "c.bin"), new Uint8Array([1, 2, 3]));
    assert.deepEqual(fs.readdirSync(path.join(dir, "a")).sort(), ["b.txt", "c.bin"]);
    assert.equal(fs.readFileSync(path.join(dir, "a", "b.txt"), "utf8"), "hi");
    assert.deepEqual([...fs.readFileSync(path.join(dir, "a", "c.bin"))], [1, 2, 3]);

    // Overwrite replaces the whole content.
    await writeFileAtomic(path.join(dir, "a", "b.txt"), "second");
    assert.equal(fs.readFileSync(path.join(dir, "a", "b.txt"), "utf8"), "second");

    // A target that cannot be replaced (a non-empty folder): the error names it, nothing is left.
    fs.mkdirSync(path.join(dir, "d.txt", "x"), { recursive: true });
    await assert.rejects(writeFileAtomic(path.join(dir, "d.txt"), "x"), /cannot write .*d\.txt/);
    assert.throws(() => writeFileAtomicSync(path.join(dir, "d.txt"), "x"), /cannot write .*d\.txt/);
    assert.deepEqual(fs.readdirSync(dir).sort(), ["a", "d.txt"]);
    assert.deepEqual(fs.readdirSync(path.join(dir, "d.txt")), ["x"]);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});
