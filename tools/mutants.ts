/**
 * `deno task mutants`: break the code each fixed test guards, one mutation at a time, run only the
 * test file(s) the mutation names, and report whether the suite caught it (the tests failed).
 * Every mutation replaces one exact text (that must occur exactly once) in one file; the file is
 * ALWAYS restored (a `finally`, and on SIGINT/SIGTERM). The list and the failure each produced
 * are in docs/testing.md.
 *
 *     deno task mutants                 # every mutation
 *     deno task mutants 1a 4            # only the mutations whose id is 1a or starts with "4"
 *
 * @module
 */
import { type Mutation, MUTATIONS } from "./mutations.ts";

const root = new URL("..", import.meta.url).pathname;

/** The files currently mutated and their original text (for the signal handler). */
const original = new Map<string, string>();

function restoreAll(): void {
  for (const [file, text] of original) Deno.writeTextFileSync(file, text);
  original.clear();
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(sig, () => {
    restoreAll();
    console.error(`\n${sig}: restored the mutated file; stopping`);
    Deno.exit(130);
  });
}

/** The first line of a failed run that says why (the assertion or error message). */
function failureLine(out: string): string {
  // deno test prints the reasons after " ERRORS "; take the first error line there
  // deno-lint-ignore no-control-regex
  const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
  const errors = plain.indexOf(" ERRORS ");
  const tail = errors >= 0 ? plain.slice(errors) : plain;
  const line = tail.split("\n").find((l) => /^\s*error: /.test(l)) ??
    plain.split("\n").find((l) => /error: /i.test(l)) ?? "(no error line)";
  return line.trim().slice(0, 200);
}

interface Outcome {
  mutation: Mutation;
  result: "caught" | "MISSED" | "STALE";
  line: string;
  seconds: number;
}

async function runOne(m: Mutation): Promise<Outcome> {
  const file = root + m.file;
  const text = Deno.readTextFileSync(file);
  const count = text.split(m.find).length - 1;
  if (count !== 1) {
    return {
      mutation: m,
      result: "STALE",
      line: `text found ${count} times in ${m.file}`,
      seconds: 0,
    };
  }
  const t0 = performance.now();
  original.set(file, text);
  try {
    Deno.writeTextFileSync(file, text.replace(m.find, () => m.replace));
    const args = ["test", "-A", "--no-check"];
    if (m.filter) args.push("--filter", m.filter);
    args.push(...m.tests);
    const env = { ...(m.env ?? {}), NO_COLOR: "1" };
    const cmd = new Deno.Command(Deno.execPath(), {
      args,
      cwd: root,
      env,
      stdout: "piped",
      stderr: "piped",
    });
    const out = await cmd.output();
    const all = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const seconds = (performance.now() - t0) / 1000;
    return out.success
      ? { mutation: m, result: "MISSED", line: "tests passed", seconds }
      : { mutation: m, result: "caught", line: failureLine(all), seconds };
  } finally {
    Deno.writeTextFileSync(file, text);
    original.delete(file);
  }
}

if (import.meta.main) {
  const want = Deno.args;
  const list = want.length
    ? MUTATIONS.filter((m) => want.some((w) => m.id === w || m.id.startsWith(w)))
    : MUTATIONS;
  list.sort((a, b) => a.item - b.item); // issue order (stable within an item)
  const outcomes: Outcome[] = [];
  for (const m of list) {
    console.log(`[${m.id}] ${m.what} (${m.file}) → ${m.tests.join(" ")}`);
    const o = await runOne(m);
    outcomes.push(o);
    console.log(`  ${o.result} in ${o.seconds.toFixed(0)} s: ${o.line}`);
  }
  console.log("\n| id | item | mutation | result | failure |");
  console.log("|---|---|---|---|---|");
  for (const o of outcomes) {
    const esc = (s: string) => s.replaceAll("|", "\\|");
    console.log(
      `| ${o.mutation.id} | ${o.mutation.item} | ${esc(o.mutation.what)} | ${o.result} | ` +
        `${esc(o.line)} |`,
    );
  }
  const caught = outcomes.filter((o) => o.result === "caught").length;
  console.log(`\n${caught}/${outcomes.length} mutations caught`);
  if (caught !== outcomes.length) Deno.exit(1);
}
