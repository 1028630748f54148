#!/bin/sh
# The memorisation-regime runs of docs/results.md (issue 23), one side per process, 1 thread, in
# the protocol's order (40 % seeds 0-2, then 0 % and 20 % seeds 0-2, then 40 % seeds 3-4).
# Resumable: finished runs are skipped. Usage: tools/bench_noisy_memo.sh ours|torch [OUT [INIT]]
# With INIT (a backbone from `deno task pretrain:fashion`): the pretrained regime, same order.
set -e
SIDE=$1
OUT=${2:-runs/bench-noisy-memo}
SET="--train-size 5000 --test-size 2000 --size 32 --widths 32,64,128,256 --epochs 30"
[ -n "$3" ] && SET="$SET --init $3"
[ -f "$OUT/labels.json" ] ||
  deno run -A bench/noisy.ts $SET --noises 0,0.2,0.4 --seeds 0,1,2,3,4 --labels-only --out "$OUT"
for step in "0.4 0" "0.4 1" "0.4 2" "0 0,1,2" "0.2 0,1,2" "0.4 3,4"; do
  set -- $step
  case $SIDE in
  ours) RUL_THREADS=1 deno run -A bench/noisy.ts $SET --noises "$1" --seeds "$2" --out "$OUT" ;;
  torch) /usr/bin/python3 tools/bench_noisy_torch.py --labels "$OUT/labels.json" \
    --out "$OUT/torch" --threads 1 --noises "$1" --seeds "$2" ;;
  *) echo "usage: $0 ours|torch [OUT [INIT]]" >&2; exit 2 ;;
  esac
done
