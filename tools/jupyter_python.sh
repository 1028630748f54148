#!/usr/bin/env bash
# Runs the Python that has Jupyter (nbformat, jupyter_client, JupyterLab / Notebook 7) with the
# given arguments. The first that exists: $RUL_JUPYTER_PYTHON; the repository's pip virtual
# environment .venv-jupyter (made by .ci/setup: pip install jupyterlab notebook); Debian's
# /usr/bin/python3 (apt jupyter-notebook python3-nbclient); python3 on PATH.
#   bash tools/jupyter_python.sh tools/run_notebooks.py notebooks/02_train_rul.ipynb
#   bash tools/jupyter_python.sh --which        # prints the Python it would run
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -n "${RUL_JUPYTER_PYTHON:-}" ]; then
  py="$RUL_JUPYTER_PYTHON"
elif [ -x "$root/.venv-jupyter/bin/python" ]; then
  py="$root/.venv-jupyter/bin/python"
elif [ -x /usr/bin/python3 ]; then
  py=/usr/bin/python3
else
  py=python3
fi
if [ "${1:-}" = "--which" ]; then
  echo "$py"
  exit 0
fi
exec "$py" "$@"
