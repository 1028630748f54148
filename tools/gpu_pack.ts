/**
 * `deno task gpu:check [--local]`: prepares the GPU check's bundle in `.gpu_check/` (ignored by
 * git; at most 64 MiB, what the device `run` tool carries), then with `--local` runs it here
 * through tools/gpu_check.sh exactly as the GPU machine will (the bundle's own Deno, its own
 * node_modules, no network), on the software adapter with reduced sizes, writing
 * `runs/gpu_check_local/gpu_check.json`.
 *
 * The bundle:
 *   .gpu_check/deno.xz        this Deno binary, xz-compressed (~30 MB of ~95 MB)
 *   .gpu_check/app.tar.xz     deno.json, package.json, lib/, bench/, the check's tools, the
 *                             npm packages the check loads (pruned to the files Deno reads:
 *                             the `.node.js` bundles and `.wasm` binaries of TF.js), and
 *                             vulkan/libvulkan.so.1 (the Vulkan loader, from libvulkan1)
 *   .gpu_check/manifest.json  sizes, the Deno version, the git commit, when it was made
 *
 * Usage: deno run -A tools/gpu_pack.ts [--local] [--out DIR] [--budget SECONDS]
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    local: { type: "boolean", default: false },
    out: { type: "string" },
    budget: { type: "string" },
  },
});

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const BUNDLE = path.join(ROOT, ".gpu_check");
/** What the device `run` tool carries at most (all carried paths together). */
const LIMIT = 64 * 2 ** 20;
/** npm packages the check's scripts load, with their dependencies added below. */
const ROOT_PACKAGES = [
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-core",
  "@tensorflow/tfjs-backend-cpu",
  "@tensorflow/tfjs-backend-wasm",
  "@tensorflow/tfjs-backend-webgpu",
  "wabt",
  "csv-stringify",
  "fflate",
];
/** Where Debian's libvulkan1 puts the loader. */
const VULKAN_LOADER = [
  "/usr/lib/x86_64-linux-gnu/libvulkan.so.1",
  "/usr/lib64/libvulkan.so.1",
  "/usr/lib/libvulkan.so.1",
];
/** Source folders and files of the repository that go into the bundle. */
const SOURCES = [
  "deno.json",
  "package.json",
  "lib",
  "bench",
  "tools/gpu_check.sh",
  "tools/torch_rul_step.py",
  "tools/make_fixtures.py",
];

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const out = new Deno.Command(cmd, { args, cwd: opts.cwd, stdout: "piped", stderr: "piped" })
    .outputSync();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** The packages of `roots` and, recursively, their dependencies (types-only packages left out). */
function packageClosure(nm: string, roots: string[]): string[] {
  const seen = new Set<string>();
  const todo = [...roots];
  while (todo.length) {
    const p = todo.pop()!;
    if (seen.has(p) || p.startsWith("@types/")) continue;
    const pj = path.join(nm, p, "package.json");
    if (!fs.existsSync(pj)) continue; // optional and absent (e.g. node-fetch's peers)
    seen.add(p);
    const j = JSON.parse(fs.readFileSync(pj, "utf8"));
    todo.push(...Object.keys(j.dependencies ?? {}));
  }
  return [...seen].sort();
}

/**
 * Whether a file of package `pkg` goes into the bundle. TF.js packages ship a dozen flavours of
 * the same bundle; Deno reads only `dist/*.node.js` (their `main`), the wasm binaries and (the
 * engine's thread shim) the wasm backend's `wasm-out/*.js` (Emscripten glue and workers).
 * Other packages are small: everything but maps, type declarations and docs.
 */
function keep(pkg: string, rel: string): boolean {
  if (rel === "package.json") return true;
  if (/(^|\/)node_modules\//.test(rel)) return false;
  if (pkg.startsWith("@tensorflow/")) {
    return /^dist\/[^/]+\.node\.js$/.test(rel) || /^dist\/[^/]+\.wasm$/.test(rel) ||
      rel === "dist/package.json" || /^wasm-out\/[^/]+\.js$/.test(rel);
  }
  return !/\.(map|d\.ts|d\.mts|d\.cts|md|markdown|ts)$/i.test(rel) && !/^(test|docs?)\//.test(rel);
}

function copyTree(src: string, dst: string, filter: (rel: string) => boolean, rel = ""): number {
  let bytes = 0;
  for (const e of fs.readdirSync(path.join(src, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) bytes += copyTree(src, dst, filter, r);
    else if (e.isFile() && filter(r)) {
      fs.mkdirSync(path.dirname(path.join(dst, r)), { recursive: true });
      fs.copyFileSync(path.join(src, r), path.join(dst, r));
      bytes += fs.statSync(path.join(src, r)).size;
    }
  }
  return bytes;
}

/** Build (or reuse) `.gpu_check/`; returns the manifest. */
export function pack(): Record<string, unknown> {
  fs.mkdirSync(BUNDLE, { recursive: true });
  // 1. Deno, compressed (reused while the binary is unchanged: xz of 95 MB takes a minute).
  const deno = Deno.execPath();
  const st = fs.statSync(deno);
  const stamp = `${deno} ${st.size} ${st.mtimeMs}`;
  const denoXz = path.join(BUNDLE, "deno.xz");
  const stampFile = path.join(BUNDLE, "deno.xz.stamp");
  if (
    !fs.existsSync(denoXz) || !fs.existsSync(stampFile) ||
    fs.readFileSync(stampFile, "utf8") !== stamp
  ) {
    console.log(`gpu:check: compressing ${deno} (${(st.size / 2 ** 20).toFixed(0)} MiB) ...`);
    const xz = new Deno.Command("xz", {
      args: ["-6", "-T2", "-c", deno],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    if (!xz.success) throw new Error(`xz failed: ${new TextDecoder().decode(xz.stderr)}`);
    fs.writeFileSync(denoXz + ".tmp", xz.stdout);
    fs.renameSync(denoXz + ".tmp", denoXz);
    fs.writeFileSync(stampFile, stamp);
  }
  // 2. The app: sources, pruned node_modules, the Vulkan loader.
  const stage = fs.mkdtempSync(path.join(BUNDLE, "stage-"));
  try {
    const app = path.join(stage, "app");
    let srcBytes = 0;
    for (const s of SOURCES) {
      const from = path.join(ROOT, s);
      if (fs.statSync(from).isDirectory()) {
        srcBytes += copyTree(from, path.join(app, s), () => true);
      } else {
        fs.mkdirSync(path.dirname(path.join(app, s)), { recursive: true });
        fs.copyFileSync(from, path.join(app, s));
        srcBytes += fs.statSync(from).size;
      }
    }
    const nm = fs.realpathSync(path.join(ROOT, "node_modules"));
    const pkgs = packageClosure(nm, ROOT_PACKAGES);
    let nmBytes = 0;
    for (const p of pkgs) {
      nmBytes += copyTree(path.join(nm, p), path.join(app, "node_modules", p), (r) => keep(p, r));
    }
    const loader = VULKAN_LOADER.find((f) => fs.existsSync(f));
    if (!loader) {
      throw new Error(
        `no Vulkan loader found (${VULKAN_LOADER.join(", ")}): apt-get install libvulkan1`,
      );
    }
    fs.mkdirSync(path.join(app, "vulkan"), { recursive: true });
    fs.copyFileSync(fs.realpathSync(loader), path.join(app, "vulkan", "libvulkan.so.1"));
    const appXz = path.join(BUNDLE, "app.tar.xz");
    run("tar", ["-cJf", appXz + ".tmp", "-C", stage, "app"]);
    fs.renameSync(appXz + ".tmp", appXz);
    let commit = "";
    try {
      commit = run("git", ["rev-parse", "HEAD"], { cwd: ROOT }).trim();
      if (run("git", ["status", "--porcelain"], { cwd: ROOT }).trim()) commit += " (modified)";
    } catch {
      commit = "unknown";
    }
    const sizes = {
      denoXz: fs.statSync(denoXz).size,
      appTarXz: fs.statSync(appXz).size,
    };
    const total = sizes.denoXz + sizes.appTarXz;
    const manifest = {
      made: new Date().toISOString(),
      commit,
      deno: Deno.version.deno,
      packages: pkgs,
      uncompressed: { sources: srcBytes, nodeModules: nmBytes },
      sizes,
      totalBytes: total,
    };
    fs.writeFileSync(path.join(BUNDLE, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    if (total > LIMIT) {
      throw new Error(
        `the bundle is ${(total / 2 ** 20).toFixed(1)} MiB, over the 64 MiB the device carries`,
      );
    }
    console.log(
      `gpu:check: bundle .gpu_check/ ready: ${(total / 2 ** 20).toFixed(1)} MiB (deno ${
        (sizes.denoXz / 2 ** 20).toFixed(1)
      } MiB, app ${(sizes.appTarXz / 2 ** 20).toFixed(1)} MiB; ${pkgs.length} npm packages)`,
    );
    return manifest;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  pack();
  if (values.local) {
    const out = path.resolve(values.out ?? path.join(ROOT, "runs", "gpu_check_local"));
    const args = [path.join(ROOT, "tools", "gpu_check.sh"), "--local", "--bundle", BUNDLE];
    args.push("--out", out);
    if (values.budget) args.push("--budget", values.budget);
    console.log(`gpu:check: running the bundle here (software adapter): bash ${args.join(" ")}`);
    const st = await new Deno.Command("bash", { args, stdout: "inherit", stderr: "inherit" })
      .output();
    Deno.exit(st.code);
  } else {
    console.log(
      "gpu:check: run it on the GPU machine as docs/gpu.md says (run tool, carry .gpu_check), " +
        "or here with --local.",
    );
  }
}
