/**
 * Command-line parsing shared by the CLIs: the flag name of every training option
 * ({@link TRAIN_FLAGS}), text → value parsing, `--flag value` / `--flag=value` / bare boolean
 * flags, errors that name the bad flag or value and list the valid ones, generated `--help` text,
 * and {@link runCommand}, the set-up every command shares (parse, `--help`, flags every CLI has,
 * backend start, a clean `error:` line).
 *
 * @module
 */
import { type BackendChoice, describeBackend, initBackend } from "../lib/backend.ts";
import type { ProgressMode } from "../lib/eval/progress.ts";
import {
  DEFAULT_TRAIN_CONFIG,
  getOption,
  optionError,
  optionName,
  type OptionRule,
  TRAIN_OPTIONS,
  validValues,
} from "../lib/train/config.ts";

/** A training option with its CLI flag. */
export interface OptionSpec extends OptionRule {
  /** CLI flag without dashes, e.g. `lr-backbone`. */
  flag: string;
}

/** Every training option ({@link TRAIN_OPTIONS}) as a CLI flag named {@link optionName}. */
export const TRAIN_FLAGS: readonly OptionSpec[] = TRAIN_OPTIONS.map((o) => ({
  ...o,
  flag: optionName(o.key),
}));

/** The default value of an option, as text (for `--help`). */
export function defaultText(spec: OptionRule): string {
  const v = getOption(DEFAULT_TRAIN_CONFIG, spec.key);
  if (v === null) return "none";
  if (Array.isArray(v)) return v.join(",");
  return String(v);
}

const DECIMAL_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A number written in decimal or scientific notation (`16`, `0.05`, `2e-4`, `.5`); anything else
 * (`0x10`, `0b1`, `Infinity`, `1_000`, empty) gives NaN, where `Number()` would accept some.
 */
export function parseDecimal(text: string): number {
  const t = text.trim();
  return DECIMAL_RE.test(t) ? Number(t) : NaN;
}

/**
 * Parse a CLI text value for `spec` (numbers in decimal or scientific notation, `true/false`,
 * `none`, comma lists) and validate it.
 * @throws Error naming the flag and listing the valid values
 */
export function parseOptionValue(spec: OptionSpec, text: string): unknown {
  let v: unknown = text;
  if (spec.type === "int" || spec.type === "number") v = parseDecimal(text);
  else if (spec.type === "bool") {
    v = text === "true" || text === "1" || text === "yes"
      ? true
      : text === "false" || text === "0" || text === "no"
      ? false
      : text;
  } else if (spec.type === "widths") v = text.split(",").map(parseDecimal);
  else if (spec.type === "path" && spec.nullable && (text === "none" || text === "")) v = null;
  const err = optionError(spec, v);
  if (err) throw new Error(`--${spec.flag} ${JSON.stringify(text)}: ${err}`);
  return v;
}

/** A CLI-only flag (not part of the training config). */
export interface CliFlag {
  /** Flag name without dashes. */
  flag: string;
  /** `bool` flags take no value; `string` flags take one. */
  type: "bool" | "string";
  /** One-line description. */
  help: string;
  /** Default shown in help. */
  defaultText?: string;
}

/** Parsed command line. */
export interface ParsedArgs {
  /** Config options given as flags, by dotted config key. */
  options: Map<string, unknown>;
  /** CLI-only flags: string value, or `true` for boolean flags. */
  flags: Map<string, string | boolean>;
  /** Positional arguments. */
  positional: string[];
}

function closest(name: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

/**
 * Parse `argv` against config option specs and CLI-only flags.
 * @throws Error naming an unknown flag (with a suggestion and the list of valid flags), a missing
 * value, or an invalid value (with the valid values)
 */
export function parseArgs(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  cliFlags: readonly CliFlag[],
): ParsedArgs {
  const bySpec = new Map(specs.map((s) => [s.flag, s]));
  const byCli = new Map(cliFlags.map((f) => [f.flag, f]));
  const all = [...bySpec.keys(), ...byCli.keys()];
  const out: ParsedArgs = { options: new Map(), flags: new Map(), positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      if (arg === "-h") {
        out.flags.set("help", true);
        continue;
      }
      out.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let inline: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (
      name.startsWith("no-") &&
      (bySpec.get(name.slice(3))?.type === "bool" || byCli.get(name.slice(3))?.type === "bool")
    ) {
      name = name.slice(3);
      inline = "false";
    }
    const spec = bySpec.get(name);
    const cli = byCli.get(name);
    if (!spec && !cli) {
      const hint = closest(name, all);
      throw new Error(
        `unknown flag --${name}${hint ? ` (did you mean --${hint}?)` : ""}; valid flags: ` +
          all.map((f) => `--${f}`).join(", "),
      );
    }
    const isBool = spec ? spec.type === "bool" : cli!.type === "bool";
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (
        isBool && (next === undefined || !["true", "false", "1", "0", "yes", "no"].includes(next))
      ) {
        value = "true";
      } else {
        if (next === undefined || next.startsWith("--")) {
          const what = spec ? validValues(spec) : "a value";
          throw new Error(`--${name} needs a value (${what})`);
        }
        value = next;
        i++;
      }
    }
    if (spec) out.options.set(spec.key, parseOptionValue(spec, value));
    else if (cli!.type === "bool") {
      if (!["true", "false", "1", "0", "yes", "no"].includes(value)) {
        throw new Error(`--${name} ${JSON.stringify(value)}: expected true | false`);
      }
      out.flags.set(name, ["true", "1", "yes"].includes(value));
    } else out.flags.set(name, value);
  }
  return out;
}

/** Help text: usage line, description, CLI flags, then every config option with its default. */
export function helpText(
  usage: string,
  description: string,
  specs: readonly OptionSpec[],
  cliFlags: readonly CliFlag[],
  optionsHeading = "training configuration (flags override --config file values):",
): string {
  const rows: [string, string][] = [];
  for (const f of cliFlags) {
    const arg = f.type === "bool" ? "" : " VALUE";
    rows.push([`--${f.flag}${arg}`, f.help + (f.defaultText ? ` (default ${f.defaultText})` : "")]);
  }
  const optRows: [string, string][] = specs.map((s) => [
    `--${s.flag} ${s.type === "bool" ? "[true|false]" : "VALUE"}`,
    `${s.help}; ${validValues(s)} (default ${defaultText(s)}; config key ${s.key})`,
  ]);
  const width = Math.max(...[...rows, ...optRows].map((r) => r[0].length)) + 2;
  const fmt = (r: [string, string]) => `  ${r[0].padEnd(width)}${r[1]}`;
  return [
    `usage: ${usage}`,
    "",
    description,
    "",
    "options:",
    ...rows.map(fmt),
    "",
    ...(optRows.length ? [optionsHeading, ...optRows.map(fmt)] : []),
  ].join("\n");
}

/** Flags every CLI shares: backend selection and output. */
export const COMMON_FLAGS: readonly CliFlag[] = [
  { flag: "help", type: "bool", help: "show this help and exit" },
  {
    flag: "backend",
    type: "string",
    help: "TF.js backend: auto | tfjs-node-gpu | tfjs-node | webgpu | wasm | cpu",
    defaultText: "RUL_BACKEND or auto",
  },
  {
    flag: "threads",
    type: "string",
    help: "wasm worker threads",
    defaultText: "RUL_THREADS or CPU count",
  },
  {
    flag: "progress",
    type: "string",
    help: "progress output: auto | terminal | lines | silent",
    defaultText: "auto",
  },
  {
    flag: "workers",
    type: "string",
    help: "batch-preparation worker threads (0 = on the main thread)",
    defaultText: "1",
  },
];

/** Parse a non-negative integer CLI flag value (or return `fallback` when absent). */
export function intFlag(
  flags: Map<string, string | boolean>,
  name: string,
  fallback: number | undefined,
): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return fallback;
  const n = typeof v === "string" ? parseDecimal(v) : NaN;
  if (typeof v !== "string" || !Number.isInteger(n) || n < 0) {
    throw new Error(`--${name} ${JSON.stringify(v)}: expected a non-negative integer`);
  }
  return n;
}

/** Parse an enum CLI flag value. */
export function enumFlag<T extends string>(
  flags: Map<string, string | boolean>,
  name: string,
  choices: readonly T[],
): T | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !choices.includes(v as T)) {
    throw new Error(`--${name} ${JSON.stringify(v)}: expected one of: ${choices.join(" | ")}`);
  }
  return v as T;
}

/** What a command declares for {@link runCommand}. */
export interface CommandSpec {
  /** Usage line for `--help`, e.g. `deno task train [options]`. */
  usage: string;
  /** Description for `--help`. */
  description: string;
  /** The command's own flags ({@link COMMON_FLAGS} are added in front). */
  flags: readonly CliFlag[];
  /** Which of {@link COMMON_FLAGS} the command takes (default all). */
  common?: readonly string[];
  /** Training options accepted as flags (default none). */
  options?: readonly OptionSpec[];
  /** Heading of the options in `--help`. */
  optionsHeading?: string;
}

/** A parsed command line with the flags every command shares already read. */
export interface Command extends ParsedArgs {
  /** `--progress`. */
  progress: Exclude<ProgressMode, "jupyter"> | undefined;
  /** `--workers` (default 1). */
  workers: number;
  /** A string flag's value, or undefined. */
  text(name: string): string | undefined;
  /** Start the backend from `--backend` / `--threads` and print `backend: …`. */
  startBackend(): Promise<void>;
}

/**
 * Run a command: parse `Deno.args` against its flags and options, print `--help`, reject
 * positional arguments, read the shared flags, then call `main`; any error is printed as one
 * `error: …` line and the process exits with status 2.
 */
export async function runCommand(
  spec: CommandSpec,
  main: (cmd: Command) => Promise<void>,
): Promise<void> {
  const common = spec.common;
  const flags = [...COMMON_FLAGS.filter((f) => !common || common.includes(f.flag)), ...spec.flags];
  const options = spec.options ?? [];
  await runCli(async () => {
    const args = parseArgs(Deno.args, options, flags);
    if (args.flags.get("help")) {
      console.log(helpText(spec.usage, spec.description, options, flags, spec.optionsHeading));
      return;
    }
    if (args.positional.length) {
      throw new Error(`unexpected argument ${args.positional[0]} (options start with --)`);
    }
    await main({
      ...args,
      progress: progressFlag(args.flags),
      workers: intFlag(args.flags, "workers", 1)!,
      text: (name) => args.flags.get(name) as string | undefined,
      startBackend: async () => console.log(`backend: ${await initBackendFromFlags(args.flags)}`),
    });
  });
}

/** Run a CLI main function: print a clean `error: ...` line and exit 2 on failure. */
export async function runCli(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(2);
  }
}

/** Start the TF.js backend from the shared `--backend` / `--threads` flags; returns its summary. */
export async function initBackendFromFlags(flags: Map<string, string | boolean>): Promise<string> {
  await initBackend({
    backend: enumFlag(flags, "backend", [
      "auto",
      "tfjs-node-gpu",
      "tfjs-node",
      "webgpu",
      "wasm",
      "cpu",
    ] as BackendChoice[]),
    threads: intFlag(flags, "threads", undefined),
  });
  return describeBackend();
}

/** The shared `--progress` flag. */
export function progressFlag(
  flags: Map<string, string | boolean>,
): Exclude<ProgressMode, "jupyter"> | undefined {
  return enumFlag(flags, "progress", ["auto", "terminal", "lines", "silent"] as const);
}
