#!/usr/bin/env bash
# first-look.sh — a smoke comparison of every optimizer preset (issue 9): tinyshakespeare,
# byte-level, d=128, L=4, H=4, T=64, B=16, 300 steps (0.31M tokens), cosine to 0.1x after 30
# warmup steps, clip 1.0, seed 0, 1 thread per run, two runs at a time; LR = the preset's
# default x {1/2, 1, 2} (the matrix LR for presets with two LRs; the AdamW groups keep their
# default). NOT a fair benchmark: defaults come from papers at other scales.
#   scripts/first-look.sh [OUT_DIR]      (resumable: finished runs are skipped)
#   FACTORS="1" scripts/first-look.sh    (only the default LR of each preset)
#   MUON=path/to/muon                    (the binary; default bin/muon)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/first-look}
DATA=${DATA:-../shared/data/tinyshakespeare.txt}
MUON=${MUON:-bin/muon}
mkdir -p "$OUT"
COMMON="--data $DATA --n-layer 4 --n-head 4 --d-model 128 --seq-len 64 --batch 16 --steps 300
        --schedule cosine --warmup 30 --grad-clip 1.0 --threads 1 --gemm openblas --seed 0
        --eval-every 25 --eval-windows 100 --ckpt none --log-every 25 --bias false"
export OUT COMMON MUON
"$MUON" optim list 2>/dev/null | awk '/^[a-z]/ {print $1, $3}' | while read -r name lr; do
  for f in ${FACTORS:-0.5 1 2}; do
    l=$(awk "BEGIN{printf \"%g\", $lr*$f}")
    echo "$name $l x$f"
  done
done | xargs -P 2 -L 1 bash -c '
  name=$0 lr=$1 tag=$2; d="$OUT/$name-$tag"
  [ -f "$d/done" ] && exit 0
  rm -rf "$d"
  if "$MUON" train $COMMON --optim "$name" --lr "$lr" --min-lr "$(awk "BEGIN{print $lr/10}")" --out "$d" \
       > "$d.log" 2>&1 || [ $? -eq 3 ]; then touch "$d/done"; fi
  echo "  $name $tag (lr $lr): $(grep -o "val loss [0-9.na]*" "$d.log" | tail -1)"'
/usr/bin/env python3 scripts/first-look-report.py "$OUT"
