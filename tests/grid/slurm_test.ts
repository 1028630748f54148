// A tiny ablation grid on a real single-node Slurm (munged + slurmctld + slurmd started by the
// test as root, see slurm_cluster.ts), driven through the CLI (`deno task grid ...`): every run's
// metrics and the collected table are checked against the run folders, one array task is
// cancelled mid-run and must be reported as cancelled (and as missing by collect), and a second
// submit sends exactly that run again. Nothing is mocked. Skipped (with a message) when not root
// or Slurm is not installed, unless RUL_REQUIRE_SLURM=1 (set by .ci/run), where it fails instead.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runScript } from "../cli/_run.ts";
import { type SlurmCluster, slurmUnavailable, startSlurm } from "./slurm_cluster.ts";
import {
  gridStatus,
  loadGrid,
  readJournal,
  type RunStatus,
  type SubmitEvent,
} from "../../lib/grid/mod.ts";

const unavailable = slurmUnavailable();
const required = Deno.env.get("RUL_REQUIRE_SLURM") === "1";
if (unavailable && !required) console.warn(`slurm_test skipped: ${unavailable}`);

/**
 * The tiny grid: baseline and RUL at 30 % noise, seeds 0 and 1, about ten seconds per run: 1,536
 * images make an epoch last over a second, so the test, polling for the last run's first epoch on a
 * loaded machine, still cancels it mid-run (with 384 images, 0.4 s an epoch, a CI run once found
 * the run finished before the cancel reached it).
 */
const PLAN = {
  variants: ["baseline", "rul"],
  noises: [0.3],
  seeds: [0, 1],
  config: {
    epochs: 6,
    batchSize: 32,
    evalBatchSize: 64,
    init: null,
    model: { inputSize: 32, widths: [4, 8, 8, 8] },
    data: { source: "synthfer", trainSize: 1536, testSize: 64 },
  },
};

/** `deno run -A cli/grid.ts ...args` (SLURM_CONF comes from this process's environment). */
async function grid(args: string[]): Promise<string> {
  const out = await runScript("cli/grid.ts", args);
  assert.equal(out.code, 0, `grid ${args.join(" ")} failed:\n${out.stdout}\n${out.stderr}`);
  return out.stdout;
}

async function settle(dir: string, minutes: number): Promise<RunStatus[]> {
  const end = Date.now() + minutes * 60_000;
  for (;;) {
    const st = await gridStatus(loadGrid(dir));
    if (st.every((s) => s.state !== "queued" && s.state !== "running")) return st;
    if (Date.now() > end) {
      throw new Error(`grid not settled: ${JSON.stringify(st.map((s) => [s.run.name, s.state]))}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function readJsonl(file: string): Record<string, number>[] {
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) =>
    JSON.parse(l)
  );
}

Deno.test({
  name: "Slurm grid: submit an array, check every run, cancel one mid-run, resubmit only it",
  ignore: unavailable !== null && !required,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    let cluster: SlurmCluster | null = null;
    const oldConf = Deno.env.get("SLURM_CONF");
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "rul-grid-test-"));
    let ok = false;
    try {
      cluster = await startSlurm();
      Deno.env.set("SLURM_CONF", cluster.conf);
      const dir = path.join(work, "grid");
      fs.writeFileSync(path.join(work, "plan.json"), JSON.stringify(PLAN));
      // The prologue is where a cluster loads modules; here it pins one wasm thread per run.
      fs.writeFileSync(path.join(work, "prologue.sh"), "export RUL_THREADS=1\n");
      const sub = await grid([
        "submit",
        "--grid",
        dir,
        "--plan",
        path.join(work, "plan.json"),
        "--cpus",
        "1",
        "--mem",
        "400M",
        "--time",
        "00:10:00",
        "--prologue",
        path.join(work, "prologue.sh"),
        "--max-parallel",
        "2",
        "--json",
      ]);
      assert.match(sub, /submitted 4 run\(s\) .* as Slurm job \d+ \(array 0,1,2,3/);
      const g = loadGrid(dir);
      assert.deepEqual(g.runs.map((r) => r.name), [
        "baseline-noise30-seed0",
        "baseline-noise30-seed1",
        "rul-noise30-seed0",
        "rul-noise30-seed1",
      ]);
      const script = fs.readFileSync((readJournal(g)[0] as SubmitEvent).script!, "utf8");
      for (const line of ["--cpus-per-task=1", "--mem=400M", "--time=00:10:00", "--no-requeue"]) {
        assert.ok(script.includes(`#SBATCH ${line}`), `${line} in the job script`);
      }

      // Cancel the last run once it has logged its first epoch (of 6; no summary yet): with
      // --max-parallel 2 it starts after one of the first two.
      const target = g.runs[3];
      const started = Date.now();
      while (!fs.existsSync(path.join(target.dir, "metrics.jsonl"))) {
        assert.ok(Date.now() - started < 8 * 60_000, "the last array task never trained");
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(!fs.existsSync(path.join(target.dir, "summary.json")), "cancel came too late");
      const cancel = await grid(["cancel", "--grid", dir, "--only", target.name]);
      assert.match(cancel, new RegExp(`cancelled ${target.name} \\(\\d+_3\\)`));

      let st = await settle(dir, 8);
      const byName = new Map(st.map((s) => [s.run.name, s]));
      assert.equal(byName.get(target.name)!.state, "cancelled", byName.get(target.name)!.detail);
      assert.match(byName.get(target.name)!.detail, /CANCELLED/);
      for (const r of g.runs.slice(0, 3)) assert.equal(byName.get(r.name)!.state, "done", r.name);
      const exit = JSON.parse(fs.readFileSync(path.join(target.dir, "grid-exit.json"), "utf8"));
      assert.equal(exit.signal, "TERM", "the task script saw scancel's SIGTERM");
      // The CLI reports the same, and collect lists the cancelled run as missing.
      const cliStatus = JSON.parse(await grid(["status", "--grid", dir, "--json"]));
      assert.deepEqual(cliStatus.map((s: { state: string }) => s.state), [
        "done",
        "done",
        "done",
        "cancelled",
      ]);
      const partial = await grid(["collect", "--grid", dir]);
      assert.ok(partial.includes("| 30 % | rul | 1 of 2 (missing seed 1) |"), partial);
      assert.ok(partial.includes(`Missing runs (1 of 4): ${target.name}`), partial);

      // Submitting again sends only the missing run, with the first submission's resources.
      const again = await grid(["submit", "--grid", dir]);
      assert.match(again, /submitted 1 run\(s\) .* \(array 3;/);
      const subs = readJournal(g).filter((e): e is SubmitEvent => e.kind === "submit");
      assert.equal(subs.length, 2);
      assert.deepEqual(subs[1].indexes, [3]);
      assert.equal(subs[1].slurm?.cpus, 1);
      st = await settle(dir, 8);
      assert.deepEqual(
        st.map((s) => s.state),
        ["done", "done", "done", "done"],
        JSON.stringify(st),
      );

      // Every run: its config is the spec, its metrics cover every epoch, and its summary's
      // best-epoch / last-epoch accuracies are the max / last test accuracy of the metrics.
      for (const r of g.runs) {
        const cfg = JSON.parse(fs.readFileSync(path.join(r.dir, "config.json"), "utf8"));
        assert.equal(cfg.variant, r.variant);
        assert.equal(cfg.seed, r.seed);
        assert.equal(cfg.data.noise, 0.3);
        assert.equal(cfg.epochs, 6);
        const m = readJsonl(path.join(r.dir, "metrics.jsonl"));
        assert.deepEqual(m.map((x) => x.epoch), [1, 2, 3, 4, 5, 6], `${r.name} epochs`);
        for (const x of m) {
          assert.ok(x.test_acc >= 0 && x.test_acc <= 1 && Number.isFinite(x.train_loss));
        }
        const s = JSON.parse(fs.readFileSync(path.join(r.dir, "summary.json"), "utf8"));
        assert.equal(s.best_epoch_test_acc, Math.max(...m.map((x) => x.test_acc)), r.name);
        assert.equal(s.last_epoch_test_acc, m[5].test_acc, r.name);
        assert.equal(m[s.best_epoch - 1].test_acc, s.best_epoch_test_acc);
      }
      const logs = fs.readdirSync(path.join(dir, "jobs")).filter((f) => f.endsWith("_3.out"));
      assert.equal(logs.length, 2, "two attempts of run 3 logged");
      const second = fs.readFileSync(path.join(dir, "jobs", `slurm-${subs[1].job}_3.out`), "utf8");
      assert.match(second, /--resume/, "the second attempt resumed the cancelled run's folder");

      // The collected table is the mean ± sample s.d. of the summaries, computed here by hand.
      const c = JSON.parse(await grid(["collect", "--grid", dir, "--json"]));
      assert.equal(c.missing.length, 0);
      for (const v of ["baseline", "rul"]) {
        const acc = [0, 1].map((seed) =>
          JSON.parse(
            fs.readFileSync(
              path.join(dir, "runs", `${v}-noise30-seed${seed}`, "summary.json"),
              "utf8",
            ),
          )
        );
        const row = c.rows.find((x: { variant: string }) => x.variant === v);
        for (const [k, key] of [["best", "best_epoch_test_acc"], ["last", "last_epoch_test_acc"]]) {
          const [a, b] = acc.map((s) => s[key] as number);
          assert.ok(Math.abs(row[k].mean - (a + b) / 2) < 1e-12, `${v} ${k} mean`);
          assert.ok(Math.abs(row[k].std - Math.abs(a - b) / Math.SQRT2) < 1e-12, `${v} ${k} s.d.`);
        }
        assert.equal(row.seeds, 2);
      }
      const table = await grid(["collect", "--grid", dir]);
      assert.ok(/\| 30 % \| baseline \| 2 \| \d+\.\d\d ± \d+\.\d\d \|/.test(table), table);
      ok = true;
    } catch (e) {
      if (cluster) console.error(cluster.logs());
      throw e;
    } finally {
      if (oldConf === undefined) Deno.env.delete("SLURM_CONF");
      else Deno.env.set("SLURM_CONF", oldConf);
      await cluster?.stop(!ok);
      if (ok) fs.rmSync(work, { recursive: true, force: true });
      else console.error(`kept ${work} and ${cluster?.dir} for inspection`);
    }
  },
});
