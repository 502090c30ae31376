#!/usr/bin/env bash
# muon-vs-adamw.sh — the first science result (issue 7): tune LR for adamw, muon and muonpp
# on tinyshakespeare (byte-level) at a fixed token budget, confirm the best points with 3
# seeds, and measure steps/wall time to reach AdamW's best final val loss.
#   scripts/muon-vs-adamw.sh [OUT_DIR]      (resumable: finished runs are skipped)
# Protocol (docs/results/muon-vs-adamw.md): d=128, L=4, H=4, T=64, B=16, 800 steps (0.82M
# tokens), cosine to 0.1x after 50 warmup steps, wd 0.1 (AdamW) / preset WD, clip 1.0,
# 1 thread per run, two runs at a time. LR grids are factor-2. Muon-type presets sweep the
# matrix LR; their AdamW groups use AdamW's best LR (declared in every run's config).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/muon-vs-adamw}
DATA=${DATA:-../shared/data/tinyshakespeare.txt}
[ -f "$DATA" ] || { echo "muon-vs-adamw: $DATA not found (set DATA=)" >&2; exit 1; }
mkdir -p "$OUT"
COMMON="--data $DATA --n-layer 4 --n-head 4 --d-model 128 --seq-len 64 --batch 16 --steps 800
        --schedule cosine --warmup 50 --grad-clip 1.0 --threads 1 --gemm openblas
        --eval-every 25 --eval-windows 200 --ckpt none --log-every 25 --bias false"

run() { # name, extra flags...
  local name=$1; shift
  [ -f "$OUT/$name/done" ] && return 0
  rm -rf "$OUT/$name"
  bin/muon train $COMMON --out "$OUT/$name" "$@" > "$OUT/$name.log" 2>&1 && touch "$OUT/$name/done"
  echo "  $name: $(grep -o 'val loss [0-9.]*' "$OUT/$name.log" | tail -1)"
}
export -f run; export OUT COMMON
grid() { # optimizer, min-lr factor applied by schedule; prints one job per line
  local opt=$1 aux=$2; shift 2
  for lr in "$@"; do
    local minlr; minlr=$(awk "BEGIN{print $lr/10}")
    echo "run $opt-lr$lr-s0 --optim $opt --lr $lr --min-lr $minlr --seed 0 $aux"
  done
}
best() { # optimizer prefix -> best LR by final val loss (seed 0)
  /usr/bin/env python3 scripts/muon-vs-adamw-report.py "$OUT" --best "$1"
}
par() { xargs -P 2 -I{} bash -c '{}'; }
extend() { # optimizer, aux flags, lowest and highest grid LR: while the best is on an edge, add the next point
  local opt=$1 aux=$2 lo=$3 hi=$4 b
  for _ in 1 2 3; do
    b=$(best "$opt")
    if [ "$b" = "$hi" ]; then hi=$(awk "BEGIN{print $hi*2}"); grid "$opt" "$aux" "$hi" | par
    elif [ "$b" = "$lo" ]; then lo=$(awk "BEGIN{print $lo/2}"); grid "$opt" "$aux" "$lo" | par
    else return 0; fi
  done
}

echo "stage 1: adamw grid"
grid adamw "--weight-decay 0.1" 5e-4 1e-3 2e-3 4e-3 8e-3 | par
extend adamw "--weight-decay 0.1" 5e-4 8e-3
A=$(best adamw); echo "adamw best lr: $A"
echo "stage 2: muon and muonpp grids (aux-lr = $A)"
{ grid muon "--aux-lr $A" 0.005 0.01 0.02 0.04 0.08; grid muonpp "--aux-lr $A" 0.005 0.01 0.02 0.04 0.08; } | par
extend muon "--aux-lr $A" 0.005 0.08
extend muonpp "--aux-lr $A" 0.005 0.08
M=$(best muon); P=$(best muonpp); echo "muon best lr: $M, muonpp best lr: $P"
echo "stage 3: seeds 1 and 2 at the best points"
for s in 1 2; do
  echo "run adamw-lr$A-s$s --optim adamw --lr $A --min-lr $(awk "BEGIN{print $A/10}") --seed $s --weight-decay 0.1"
  echo "run muon-lr$M-s$s --optim muon --lr $M --min-lr $(awk "BEGIN{print $M/10}") --seed $s --aux-lr $A"
  echo "run muonpp-lr$P-s$s --optim muonpp --lr $P --min-lr $(awk "BEGIN{print $P/10}") --seed $s --aux-lr $A"
done | par
/usr/bin/env python3 scripts/muon-vs-adamw-report.py "$OUT"
