import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  formatProgress,
  MetricsLogger,
  Progress,
  sampleTableCsv,
  writeSampleTable,
} from "../../lib/eval/mod.ts";
import type { SampleTable } from "../../lib/eval/mod.ts";

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "rul-eval-"));
}

const table: SampleTable = {
  classNames: ["A", "B"],
  files: ["x,1.jpg", "y.jpg"],
  labels: [0, 1],
  cleanLabels: [0, 0],
  predictions: [0, 0],
  softmax: [0.75, 0.25, 0.5, 0.5],
  u: [0.125, 2],
  features: [1, 2, 3, 4, 5, 6],
  featureDim: 3,
};

Deno.test("per-sample table: CSV columns/values and JSON rows", () => {
  const csv = sampleTableCsv(table).trim().split("\n");
  assert.equal(
    csv[0],
    "index,file,label,label_name,clean_label,flipped,prediction,prediction_name,correct," +
      "p_A,p_B,u,f0,f1,f2",
  );
  assert.equal(csv[1], '0,"x,1.jpg",0,A,0,0,0,A,1,0.75,0.25,0.125,1,2,3');
  assert.equal(csv[2], "1,y.jpg,1,B,0,1,0,A,0,0.5,0.5,2,4,5,6");
  const dir = tmpDir();
  const out = writeSampleTable(dir, table);
  const json = JSON.parse(fs.readFileSync(out.json, "utf8"));
  assert.deepEqual(json.classNames, ["A", "B"]);
  assert.deepEqual(json.rows[1].feature, [4, 5, 6]);
  assert.equal(json.rows[1].flipped, true);
  assert.deepEqual(fs.readdirSync(dir).sort(), ["samples.csv", "samples.json"]);
  assert.throws(() => sampleTableCsv({ ...table, u: [1] }), /u has 1 values, expected 2/);
  fs.rmSync(dir, { recursive: true });
});

Deno.test("MetricsLogger appends, grows the header, reloads and truncates", () => {
  const dir = tmpDir();
  const log = new MetricsLogger(dir);
  log.log({ epoch: 1, loss: 1.5 });
  log.log({ epoch: 2, loss: 1.25, test_acc: 0.5 });
  assert.equal(
    fs.readFileSync(path.join(dir, "metrics.csv"), "utf8"),
    "epoch,loss,test_acc\n1,1.5,\n2,1.25,0.5\n",
  );
  const again = new MetricsLogger(dir, { keep: "existing" });
  assert.equal(again.records.length, 2);
  again.truncateAfter("epoch", 1);
  again.log({ epoch: 2, loss: 1 });
  assert.equal(
    fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8"),
    '{"epoch":1,"loss":1.5}\n{"epoch":2,"loss":1}\n',
  );
  fs.writeFileSync(path.join(dir, "metrics.jsonl"), '{"epoch":1}\nnot json\n');
  assert.throws(() => new MetricsLogger(dir, { keep: "existing" }), /metrics.jsonl:2: not JSON/);
  fs.rmSync(dir, { recursive: true });
});

Deno.test("progress line: rate, ETA, loss; lines mode rate-limits", () => {
  assert.equal(
    formatProgress("ep 1", { done: 50, total: 200, elapsedS: 5, loss: 1.23456 }, 8),
    "ep 1 [##......] 50/200 25% | 10.0 img/s | ETA 00:15 | loss 1.2346",
  );
  assert.equal(
    formatProgress("ep 1", { done: 200, total: 200, elapsedS: 3725 }, 4),
    "ep 1 [####] 200/200 100% | 0.1 img/s | 1:02:05 total",
  );
  let t = 0;
  const lines: string[] = [];
  const p = new Progress({
    label: "x",
    total: 10,
    mode: "lines",
    minIntervalMs: 1000,
    now: () => t,
    writeLine: (l) => lines.push(l),
  });
  for (let i = 1; i <= 10; i++) {
    t += 300;
    p.update(i);
  }
  p.finish({ loss: 0.5 });
  // Updates at t = 300 and 1500, 2700 (>= 1000 ms apart) plus the final line.
  assert.equal(lines.length, 4);
  assert.match(lines[3], /10\/10 100% .* loss 0\.5000/);
});
