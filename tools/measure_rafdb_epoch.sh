#!/usr/bin/env bash
# One training epoch at RAF-DB size on this machine's CPU (issue 25): 12,271 SynthFER training
# images (rendered at 100 px, RAF-DB's aligned size, resized to 224 px by the batch pipeline, as
# RAF-DB's are), 3,068 test images (evaluated after the epoch, as in every run), RUL, batch 64,
# no environment variable (the trainer picks the native engine's cpu store by itself). Writes the
# raw outputs to $1 (default /tmp/rul-rafdb-epoch): loadavg before/after, the train log, GNU
# time's report (peak RSS), the run folder; tools/measurement_write.ts turns them into
# docs/measurements/rafdb_epoch_cpu.json.
set -u
OUT=${1:-/tmp/rul-rafdb-epoch}
rm -rf "$OUT" && mkdir -p "$OUT"
cd "$(dirname "$0")/.."
date -u +%Y-%m-%dT%H:%M:%SZ > "$OUT/start"
cat /proc/loadavg > "$OUT/loadavg_before"
CMD="deno run -A cli/train.ts --variant rul --train-size 12271 --test-size 3068 --epochs 1 --no-audit --progress lines --out $OUT/run"
echo "$CMD" > "$OUT/command"
env -u RUL_ONEDNN_STORE -u RUL_BACKEND /usr/bin/time -v -o "$OUT/time" $CMD > "$OUT/log" 2>&1
echo $? > "$OUT/rc"
cat /proc/loadavg > "$OUT/loadavg_after"
date -u +%Y-%m-%dT%H:%M:%SZ > "$OUT/end"
