/**
 * A private single-node Slurm for the tests: munged, slurmctld and slurmd started as root on this
 * machine from a configuration written into a fresh temporary folder (its own munge key and
 * socket, free TCP ports, state, spool, pid and log files), so it never meets a system Slurm or a
 * daemon left over from an earlier run. Debian's `slurm-wlm` and `munge` (installed by .ci/setup).
 * No accounting daemon: status comes from squeue (MinJobAge keeps finished tasks an hour) and the
 * run folders; `jobcomp/filetxt` logs every finished job to `<dir>/log/jobcomp.txt` for debugging.
 *
 * @module
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** A running test cluster. */
export interface SlurmCluster {
  /** The temporary folder (configuration, state, logs). */
  dir: string;
  /** Path of slurm.conf (set as `SLURM_CONF` for the client commands). */
  conf: string;
  /** Node name (`hostname -s`). */
  node: string;
  /** Cancel every job, stop the daemons, remove the folder (kept when `keep`). */
  stop(keep?: boolean): Promise<void>;
  /** The daemons' log files, for a failure message. */
  logs(): string;
}

const BINARIES = [
  "munged",
  "slurmctld",
  "slurmd",
  "sbatch",
  "squeue",
  "sinfo",
  "scontrol",
  "scancel",
];

function which(bin: string): string | null {
  for (const d of (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/sbin"])) {
    const p = path.join(d, bin);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** Why the cluster cannot start here (not root, a binary missing), or null when it can. */
export function slurmUnavailable(): string | null {
  if (Deno.uid() !== 0) return "the test Slurm needs root (munged/slurmd run as root)";
  const missing = BINARIES.filter((b) => !which(b));
  return missing.length
    ? `missing ${missing.join(", ")} (apt-get install slurm-wlm munge; .ci/setup does)`
    : null;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function sh(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command(which(cmd) ?? cmd, {
    args,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

function readPid(file: string): number | null {
  try {
    const n = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Whether `pid` runs (a zombie, which a container's init may never reap, counts as ended). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitFor(what: string, ms: number, ok: () => Promise<boolean> | boolean) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`test Slurm: timed out waiting for ${what}`);
}

/**
 * Start munged, slurmctld and slurmd and wait until the node is idle.
 *
 * @throws Error with the daemons' logs when they do not come up (the daemons started are stopped).
 */
export async function startSlurm(): Promise<SlurmCluster> {
  const why = slurmUnavailable();
  if (why) throw new Error(why);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-slurm-"));
  fs.chmodSync(dir, 0o755);
  for (const d of ["munge", "state", "spool", "log"]) fs.mkdirSync(path.join(dir, d));
  fs.chmodSync(path.join(dir, "munge"), 0o755);
  const node = (await sh("hostname", ["-s"])).out.trim() || os.hostname().split(".")[0];
  const key = path.join(dir, "munge", "munge.key");
  const sock = path.join(dir, "munge", "munge.sock");
  const mk = await sh("mungekey", ["--create", `--keyfile=${key}`]);
  if (mk.code !== 0) {
    // Older munge has no mungekey: a random key, owner-read only, as munged requires.
    fs.writeFileSync(key, crypto.getRandomValues(new Uint8Array(1024)), { mode: 0o400 });
  }
  fs.chmodSync(key, 0o400);
  const conf = path.join(dir, "slurm.conf");
  const pids = {
    munged: path.join(dir, "munge", "munged.pid"),
    slurmctld: path.join(dir, "slurmctld.pid"),
    slurmd: path.join(dir, "slurmd.pid"),
  };
  const ctldPort = freePort();
  let dPort = freePort();
  while (dPort === ctldPort) dPort = freePort();
  const cpus = navigator.hardwareConcurrency;
  // 90 % of the machine's memory (slurmd drains a node that has less than configured).
  const memMb = Math.floor(os.totalmem() / 2 ** 20 * 0.9);
  fs.writeFileSync(
    conf,
    [
      `ClusterName=rultest${ctldPort}`,
      `SlurmctldHost=${node}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      "AuthType=auth/munge",
      "CredType=cred/munge",
      `AuthInfo=socket=${sock}`,
      "SlurmUser=root",
      "SlurmdUser=root",
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${pids.slurmctld}`,
      `SlurmdPidFile=${pids.slurmd}`,
      `SlurmctldLogFile=${dir}/log/slurmctld.log`,
      `SlurmdLogFile=${dir}/log/slurmd.log`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "SchedulerType=sched/builtin",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_Core",
      "ReturnToService=2",
      "MpiDefault=none",
      "AccountingStorageType=accounting_storage/none",
      "JobCompType=jobcomp/filetxt",
      `JobCompLoc=${dir}/log/jobcomp.txt`,
      "MinJobAge=3600",
      "KillWait=10",
      "SlurmctldTimeout=30",
      "SlurmdTimeout=30",
      "InactiveLimit=0",
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${memMb} State=UNKNOWN`,
      `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      "",
    ].join("\n"),
  );
  const env = { SLURM_CONF: conf };
  const logs = () =>
    ["munge/munged.log", "log/slurmctld.log", "log/slurmd.log"].map((f) => {
      const p = path.join(dir, f);
      const text = fs.existsSync(p) ? fs.readFileSync(p, "utf8").split("\n").slice(-25) : [];
      return `--- ${p}\n${text.join("\n")}`;
    }).join("\n");
  const stop = async (keep = false) => {
    const q = await sh("squeue", ["-h", "-o", "%A"], env);
    const ids = q.out.split("\n").map((s) => s.trim()).filter((s) => s);
    if (q.code === 0 && ids.length) {
      await sh("scancel", ids, env);
      await waitFor(
        "the jobs to end",
        30_000,
        async () =>
          (await sh("squeue", ["-h", "-t", "PD,R,CG", "-o", "%A"], env)).out.trim() === "",
      ).catch(
        () => {},
      );
    }
    await sh("scontrol", ["shutdown"], env);
    for (const name of ["slurmd", "slurmctld", "munged"] as const) {
      const pid = readPid(pids[name]);
      if (!pid) continue;
      await waitFor(`${name} to exit`, name === "munged" ? 0 : 10_000, () => !alive(pid)).catch(
        () => {},
      );
      for (const sig of ["SIGTERM", "SIGKILL"] as const) {
        if (!alive(pid)) break;
        try {
          Deno.kill(pid, sig);
        } catch { /* gone */ }
        await waitFor(`${name} to exit after ${sig}`, 5_000, () => !alive(pid)).catch(() => {});
      }
    }
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const m = await sh("munged", [
      "--force",
      `--key-file=${key}`,
      `--socket=${sock}`,
      `--pid-file=${pids.munged}`,
      `--log-file=${path.join(dir, "munge", "munged.log")}`,
      `--seed-file=${path.join(dir, "munge", "munged.seed")}`,
    ]);
    if (m.code !== 0) throw new Error(`munged failed: ${m.err}`);
    for (
      const [bin, args] of [["slurmctld", ["-i", "-f", conf]], ["slurmd", ["-f", conf, "-N", node]]]
    ) {
      const r = await sh(bin as string, args as string[], env);
      if (r.code !== 0) throw new Error(`${bin} failed (exit ${r.code}): ${r.err}`);
    }
    await waitFor("the node to become idle", 60_000, async () => {
      const r = await sh("sinfo", ["-h", "-N", "-o", "%T"], env);
      return r.code === 0 && r.out.trim().startsWith("idle");
    });
  } catch (e) {
    const text = logs();
    await stop(false);
    throw new Error(`${(e as Error).message}\n${text}`);
  }
  return { dir, conf, node, stop, logs };
}
