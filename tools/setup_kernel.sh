#!/usr/bin/env bash
# Registers the Deno Jupyter kernel ("deno") for the current user, using the pinned Deno that
# `npm ci` installs in tools/deno (paths are relative to this repository, wherever it lives).
# Safe to run again (--force overwrites the previous kernelspec).
#   bash tools/setup_kernel.sh            # then: jupyter notebook notebooks/
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deno="$root/tools/deno/node_modules/.bin/deno"
if [ ! -x "$deno" ]; then
  echo "setup_kernel: no Deno at $deno; run 'npm ci' in $root first" >&2
  exit 1
fi
"$deno" jupyter --install --force
# plotly.js beside the notebooks, where their figures load it from (the kernel also writes it on
# the first figure; see lib/plots/jupyter.ts): figures of saved notebooks draw before any kernel runs.
(cd "$root" && "$deno" eval "import { ensureNotebookPlotly } from '$root/lib/plots/jupyter.ts'; console.log('setup_kernel: plotly.js at ' + ensureNotebookPlotly('$root/notebooks'));")
# JupyterLab 4 / Notebook 7: their debugger's notebook handler asks the kernel for its debug modules
# after every executed cell, even a kernel without a debugger (the Deno kernel's kernel_info says
# "debugger": false), and each time the page logs "Error: No active debugger session" (JupyterLab
# 4.6: Debugger.Handler's executionDone -> DebuggerService.displayModules). The Deno kernel cannot be
# debugged, so turn the debugger extension off in the repository's Jupyter environment
# (.venv-jupyter, made by .ci/setup; its page_config.json). Other installs: docs/notebooks.md.
if [ -x "$root/.venv-jupyter/bin/jupyter-labextension" ]; then
  "$root/.venv-jupyter/bin/jupyter-labextension" disable --level=sys_prefix \
    "@jupyterlab/debugger-extension" >/dev/null 2>&1 &&
    echo "setup_kernel: JupyterLab's debugger extension disabled in .venv-jupyter (the Deno kernel has no debugger)"
fi
# Show where the kernelspec landed and which executable it starts (with the Python that has
# jupyter_client, see tools/jupyter_python.sh; the kernel itself does not need Python).
bash "$root/tools/jupyter_python.sh" - <<'PY' || echo "setup_kernel: (could not list kernelspecs: jupyter_client missing?)"
import json
from jupyter_client.kernelspec import KernelSpecManager
spec = KernelSpecManager().get_kernel_spec("deno")
print(f"setup_kernel: kernel 'deno' at {spec.resource_dir}: {json.dumps(spec.argv)}")
PY
