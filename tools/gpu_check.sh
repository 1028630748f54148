#!/usr/bin/env bash
# The GPU check's runner (docs/gpu.md). Unpacks the bundle that `deno task gpu:check` prepared
# (.gpu_check/: deno.xz, app.tar.xz) into a temporary folder, makes Vulkan usable (the bundled
# loader; NVIDIA's ICD json found, or written when the driver has none), then runs
# bench/gpu/check.ts with the bundle's own Deno, no network: adapter report, WebGPU-vs-wasm
# correctness, train-step img/s beside PyTorch, peak GPU memory, a RAF-DB-sized epoch, per-kernel
# profile; ONE JSON, $OUT/gpu_check.json (+ gpu_check.log).
#
# On the GPU machine (no Deno there; PyTorch with CUDA and the NVIDIA driver are):
#   bash tools/gpu_check.sh --bundle .gpu_check --out "$OUT"
# Here (software adapter, reduced sizes, PyTorch on the CPU): deno task gpu:check --local
#
# Options: --local, --bundle DIR (default .gpu_check), --out DIR (default $OUT, else
# runs/gpu_check), --budget SECONDS (time for all phases; default 500 on a GPU, 900 --local).
set -uo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bundle="$here/.gpu_check"
out="${OUT:-$here/runs/gpu_check}"
local_run=0
budget=""
while [ $# -gt 0 ]; do
  case "$1" in
    --local) local_run=1 ;;
    --bundle) bundle="$2"; shift ;;
    --out) out="$2"; shift ;;
    --budget) budget="$2"; shift ;;
    *) echo "gpu_check.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
bundle="$(cd "$bundle" && pwd)" || { echo "gpu_check.sh: no bundle folder" >&2; exit 2; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
log="$out/gpu_check.log"
: >"$log"
say() { echo "gpu_check: $*" | tee -a "$log"; }

for f in deno.xz app.tar.xz; do
  [ -f "$bundle/$f" ] || { say "missing $bundle/$f: run deno task gpu:check first"; exit 2; }
done
py="$(command -v python3 || true)"
[ -x /usr/bin/python3 ] && [ "$local_run" = 1 ] && py=/usr/bin/python3
[ -n "$py" ] || { say "python3 not found (needed to unpack and for PyTorch)"; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)
# Unpack with Python's lzma/tarfile: the machine may lack the xz tool.
"$py" - "$bundle" "$work" <<'EOF' || { say "unpacking failed"; exit 2; }
import lzma, shutil, sys, tarfile, os
bundle, work = sys.argv[1], sys.argv[2]
with lzma.open(os.path.join(bundle, "deno.xz")) as src, open(os.path.join(work, "deno"), "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
os.chmod(os.path.join(work, "deno"), 0o755)
with tarfile.open(os.path.join(bundle, "app.tar.xz"), "r:xz") as t:
    t.extractall(work)
EOF
say "unpacked in $(( $(date +%s) - t0 )) s into $work"
app="$work/app"

# --- Vulkan: the bundled loader, and an ICD for the NVIDIA driver if the machine has one.
export LD_LIBRARY_PATH="$app/vulkan${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
vk_note="system Vulkan ICDs"
if command -v nvidia-smi >/dev/null 2>&1 && [ "$local_run" = 0 ]; then
  icd=""
  for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
    for f in "$d"/nvidia_icd*.json; do [ -f "$f" ] && icd="$f" && break 2; done
  done
  if [ -n "$icd" ]; then
    vk_note="driver's ICD $icd"
  else
    # No ICD json (containers often mount the driver's libraries but not its json): write one
    # pointing at the driver's Vulkan entry library.
    lib=""
    for name in libGLX_nvidia.so.0 libEGL_nvidia.so.0; do
      lib="$(ldconfig -p 2>/dev/null | awk -v n="$name" '$1 == n { print $NF; exit }')"
      [ -z "$lib" ] && for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/nvidia/lib64 \
        /usr/local/nvidia/lib /usr/lib/nvidia; do
        [ -e "$d/$name" ] && lib="$d/$name" && break
      done
      [ -n "$lib" ] && break
    done
    if [ -n "$lib" ]; then
      icd="$work/nvidia_icd.json"
      printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' \
        "$lib" >"$icd"
      vk_note="written ICD $icd -> $lib"
    else
      vk_note="no NVIDIA Vulkan library (libGLX_nvidia.so.0 / libEGL_nvidia.so.0) found: the \
container may lack the driver's graphics capability (NVIDIA_DRIVER_CAPABILITIES=${NVIDIA_DRIVER_CAPABILITIES:-unset})"
    fi
  fi
  if [ -n "$icd" ]; then
    export VK_ICD_FILENAMES="$icd" VK_DRIVER_FILES="$icd"
  fi
fi
say "vulkan: $vk_note"
export GPU_CHECK_VULKAN="$vk_note"
# What the dynamic linker knows of the NVIDIA graphics/Vulkan libraries (for the report).
GPU_CHECK_VKLIBS="$(ldconfig -p 2>/dev/null | grep -oE '(libGLX_nvidia|libEGL_nvidia|libnvidia-glvkspirv|libnvidia-gpucomp|libvulkan)[^ ]*' | sort -u | tr '\n' ' ')"
export GPU_CHECK_VKLIBS

export DENO_DIR="$work/deno_dir" DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
export GPU_CHECK_PYTHON="$py"
args=(run --cached-only -A bench/gpu/check.ts --out "$out")
[ "$local_run" = 1 ] && args+=(--local)
[ -n "$budget" ] && args+=(--budget "$budget")
say "running: deno ${args[*]}"
cd "$app" && "$work/deno" "${args[@]}" 2>&1 | tee -a "$log"
rc=${PIPESTATUS[0]}
say "done in $(( $(date +%s) - t0 )) s (exit $rc); JSON: $out/gpu_check.json"
exit "$rc"
