#!/usr/bin/python3
"""Execute Jupyter notebooks headlessly against the Deno kernel, keeping every output.

Usage (a Python with nbformat/jupyter_client: `deno task notebooks` runs this with the one
tools/jupyter_python.sh picks, the repository's .venv-jupyter first, else Debian's /usr/bin/python3):

    bash tools/jupyter_python.sh tools/run_notebooks.py [NOTEBOOK_OR_DIR ...] [--out DIR]
        [--set NAME=VALUE ...] [--kernel deno] [--cell-timeout S] [--quiet S]
    bash tools/jupyter_python.sh tools/run_notebooks.py --clear notebooks/   # strip outputs

With no notebook arguments it runs every `*.ipynb` in `notebooks/` (sorted by name) and writes
the executed copies to `runs/notebooks/` (git-ignored). `--set NAME=VALUE` adds an environment
variable for the kernel, e.g. `--set RUL_SCALE=quick --set RUL_DATA=/path/to/RAF-DB`; the
notebooks' config cells read these. Variables already in the environment are passed too.

Why not `jupyter nbconvert --execute` / nbclient: the Deno kernel often publishes
`status: idle` *before* a cell's outputs, and nbclient stops listening at idle, so outputs are
silently dropped (measured: 181 of 200 log lines lost, plots lost). This runner waits for both
the execute_reply and idle, then keeps reading iopub messages until none has arrived for a
quiet period (`--quiet`, default 1.5 s), within a per-cell timeout. Late messages are attached
to the cell that produced them (by parent message id), `update_display_data` updates the
displayed output in place, `clear_output` is honoured.

Any cell error fails the run: the message names the notebook, the cell index (0-based, counting
all cells) and the error text. Time limits follow the work, not a fixed guess per cell: a running
cell fails when it sends no output at all for `--idle-timeout` seconds (default 600: long cells
print progress, so a busy machine makes them slower but not silent); `--cell-timeout` adds an
overall cap (default none). On a limit the runner kills the kernel and fails. The executed notebook, including the
failing cell's error output, is written atomically (temp file + rename) in every case.

Exit status: 0 when every notebook ran cleanly, 1 on a cell error or timeout, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import sys
import time
from pathlib import Path

try:
    import nbformat
    from jupyter_client.manager import KernelManager
except ImportError as exc:  # pragma: no cover - depends on the machine
    sys.stderr.write(
        f"run_notebooks: {exc}. Run this script with a Python that has Jupyter: "
        "bash tools/jupyter_python.sh tools/run_notebooks.py (after bash .ci/setup, which makes "
        ".venv-jupyter; or apt-get install python3-nbclient jupyter-nbconvert).\n"
    )
    sys.exit(2)

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
ROOT = Path(__file__).resolve().parent.parent


class CellError(Exception):
    """A cell raised an error, timed out, or the kernel died."""


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Collector:
    """Routes iopub messages to the outputs of the cell that produced them."""

    def __init__(self, nb) -> None:
        self.nb = nb
        self.cell_of_msg: dict[str, int] = {}
        # display_id -> list of (cell index, output object) to update in place
        self.displays: dict[str, list] = {}
        self.clear_pending: dict[int, bool] = {}
        self.errors: dict[int, str] = {}
        self.idle: set[str] = set()
        self.counts = {"stream": 0, "display": 0, "update": 0}

    def handle(self, msg) -> None:
        parent = msg.get("parent_header", {}).get("msg_id")
        mtype = msg["header"]["msg_type"]
        content = msg["content"]
        if mtype == "status":
            if content.get("execution_state") == "idle" and parent:
                self.idle.add(parent)
            return
        if mtype == "update_display_data":
            self._update_display(content)
            return
        idx = self.cell_of_msg.get(parent)
        if idx is None:
            return  # e.g. kernel_info or comm traffic not tied to a cell
        cell = self.nb.cells[idx]
        if mtype == "clear_output":
            if content.get("wait"):
                self.clear_pending[idx] = True
            else:
                cell.outputs = []
            return
        if mtype not in ("stream", "display_data", "execute_result", "error"):
            return
        if self.clear_pending.pop(idx, False):
            cell.outputs = []
        if mtype == "stream":
            self.counts["stream"] += content.get("text", "").count("\n")
            last = cell.outputs[-1] if cell.outputs else None
            if last is not None and last.get("output_type") == "stream" and \
                    last.get("name") == content.get("name"):
                last["text"] += content.get("text", "")
                return
        out = nbformat.v4.output_from_msg(msg)
        if mtype in ("display_data", "execute_result"):
            self.counts["display"] += 1
            display_id = content.get("transient", {}).get("display_id")
            if display_id:
                self.displays.setdefault(display_id, []).append(out)
        if mtype == "error":
            tb = "\n".join(content.get("traceback") or [])
            text = f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"
            self.errors[idx] = strip_ansi(tb) if tb.strip() else text
        cell.outputs.append(out)

    def _update_display(self, content) -> None:
        display_id = content.get("transient", {}).get("display_id")
        self.counts["update"] += 1
        for out in self.displays.get(display_id, []):
            out["data"] = content.get("data", {})
            out["metadata"] = content.get("metadata", {})


def parse_sets(items: list[str]) -> dict[str, str]:
    env = {}
    for item in items:
        if "=" not in item or not item.split("=", 1)[0]:
            raise SystemExit(f"run_notebooks: --set expects NAME=VALUE, got {item!r}")
        name, value = item.split("=", 1)
        env[name] = value
    return env


def atomic_write(nb, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        nbformat.write(nb, fh)
    os.replace(tmp, path)


def run_cell(kc, km, col: Collector, idx: int, source: str, args) -> int | None:
    """Executes one cell; returns its execution count. Raises CellError on failure."""
    msg_id = kc.execute(source, store_history=True, allow_stdin=False, stop_on_error=True)
    col.cell_of_msg[msg_id] = idx
    start = time.monotonic()
    last_msg = start
    reply = None
    while True:
        now = time.monotonic()
        if reply is not None and msg_id in col.idle and now - last_msg >= args.quiet:
            break
        if args.cell_timeout and now - start > args.cell_timeout:
            raise CellError(f"timed out after {args.cell_timeout:.0f} s (kernel killed)")
        if args.idle_timeout and reply is None and now - last_msg > args.idle_timeout:
            raise CellError(f"no output for {args.idle_timeout:.0f} s while running (the cell "
                            f"looks stuck; kernel killed after {now - start:.0f} s)")
        try:
            msg = kc.get_iopub_msg(timeout=0.05)
            col.handle(msg)
            last_msg = time.monotonic()
        except queue.Empty:
            if not km.is_alive():
                raise CellError("the kernel died")
        if reply is None:
            try:
                shell = kc.get_shell_msg(timeout=0)
            except queue.Empty:
                shell = None
            if shell is not None and shell.get("parent_header", {}).get("msg_id") == msg_id:
                reply = shell["content"]
                last_msg = time.monotonic()
    if reply.get("status") == "error" or idx in col.errors:
        text = col.errors.get(idx) or strip_ansi(
            f"{reply.get('ename', 'Error')}: {reply.get('evalue', '')}\n"
            + "\n".join(reply.get("traceback") or [])
        )
        raise CellError(text.strip())
    return reply.get("execution_count")


def run_notebook(src: Path, dst: Path, env: dict[str, str], args) -> bool:
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata["kernelspec"] = {"name": args.kernel, "display_name": "Deno",
                                 "language": "typescript"}
    km = KernelManager(kernel_name=args.kernel)
    t0 = time.monotonic()
    ok = True
    kernel_env = {**os.environ, **env}
    km.start_kernel(cwd=str(src.parent.resolve()), env=kernel_env)
    kc = km.client()
    kc.start_channels()
    col = Collector(nb)
    try:
        kc.wait_for_ready(timeout=args.startup_timeout)
        for idx, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            c0 = time.monotonic()
            try:
                cell.execution_count = run_cell(kc, km, col, idx, cell.source, args)
            except CellError as exc:
                ok = False
                first = cell.source.strip().splitlines()[0][:80]
                log(f"run_notebooks: {src}: cell {idx} failed ({first!r}):\n{exc}")
                break
            if args.verbose:
                log(f"  cell {idx}: {time.monotonic() - c0:.1f} s")
    except RuntimeError as exc:  # wait_for_ready timeout or kernel died at start
        ok = False
        log(f"run_notebooks: {src}: kernel '{args.kernel}' did not start: {exc}")
    finally:
        kc.stop_channels()
        # Shut down (killing if needed): an interrupt would only stop a trainer at its next step.
        try:
            km.shutdown_kernel(now=not ok, restart=False)
        except Exception:  # noqa: BLE001 - best effort on the way out
            if km.has_kernel:
                km.kill_kernel()
    nb.metadata.setdefault("rul", {})
    nb.metadata["rul"] = {"executed_with": env, "seconds": round(time.monotonic() - t0, 1),
                          "ok": ok}
    atomic_write(nb, dst)
    c = col.counts
    log(f"run_notebooks: {src.name}: {'ok' if ok else 'FAILED'} in {time.monotonic() - t0:.1f} s"
        f" ({c['stream']} log lines, {c['display']} displays, {c['update']} updates) -> {dst}")
    return ok


def clear_outputs(paths: list[Path]) -> None:
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
            cell.metadata.pop("execution", None)
        nb.metadata.pop("rul", None)
        nb.metadata.pop("widgets", None)
        atomic_write(nb, path)
        log(f"run_notebooks: cleared outputs of {path}")


def collect(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for p in paths or [str(ROOT / "notebooks")]:
        path = Path(p)
        if path.is_dir():
            found.extend(sorted(q for q in path.glob("*.ipynb") if not q.name.startswith(".")))
        elif path.suffix == ".ipynb" and path.is_file():
            found.append(path)
        else:
            raise SystemExit(f"run_notebooks: no notebook at {p}")
    if not found:
        raise SystemExit(f"run_notebooks: no .ipynb files in {', '.join(paths) or 'notebooks/'}")
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="notebook files or folders (default notebooks/)")
    ap.add_argument("--out", default=str(ROOT / "runs" / "notebooks"),
                    help="folder for the executed copies (default runs/notebooks)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="environment variable for the kernel (repeatable)")
    ap.add_argument("--kernel", default="deno", help="kernelspec name (default deno)")
    ap.add_argument("--cell-timeout", type=float, default=0.0,
                    help="seconds one cell may run in total before the kernel is killed "
                         "(default 0: no limit; the idle timeout catches stuck cells)")
    ap.add_argument("--idle-timeout", type=float, default=600.0,
                    help="seconds a running cell may go without any output (log line, progress "
                         "update, display) before it counts as stuck and the kernel is killed "
                         "(default 600; 0: none). Long cells show progress, so the limit follows "
                         "the work: a slow machine makes a cell slower, not silent")
    ap.add_argument("--startup-timeout", type=float, default=120.0)
    ap.add_argument("--quiet", type=float, default=1.5,
                    help="seconds without a message after idle before a cell counts as done")
    ap.add_argument("--clear", action="store_true",
                    help="strip outputs from the given notebooks in place and exit")
    ap.add_argument("--keep-going", action="store_true",
                    help="run the remaining notebooks after one fails")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each cell's time")
    args = ap.parse_args()
    paths = collect(args.notebooks)
    if args.clear:
        clear_outputs(paths)
        return 0
    env = parse_sets(args.set)
    out = Path(args.out)
    failed = []
    for path in paths:
        if not run_notebook(path, out / path.name, env, args):
            failed.append(path.name)
            if not args.keep_going:
                break
    summary = {"ok": not failed, "failed": failed, "out": str(out),
               "notebooks": [p.name for p in paths]}
    print(json.dumps(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
