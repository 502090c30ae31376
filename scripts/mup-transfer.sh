#!/usr/bin/env bash
# mup-transfer.sh — the μTransfer studies of docs/results/mup-transfer.md (spec §6).
#   scripts/mup-transfer.sh [OUT_DIR] [STUDY...]     (resumable: finished runs are skipped)
# Studies: mup-muonpp, sp-adamw, mup-adamw, mup-muon. WIDTHS, SEEDS override the axes
# (defaults: the protocol's 64..512 and seeds 1,2,3), JOBS runs at a time (1 thread each).
# Ends with `muon report transfer` over the studies in OUT_DIR (OUT_DIR/mup-transfer-optima.svg).
# Base-width optima from a one-seed pilot at width 128 (docs/results/mup-transfer.md):
# μP+AdamW 2^-10, SP+AdamW 2^-8, μP+Muon++ matrix LR 2^-5; the Muon-type presets' AdamW
# groups are held at μP+AdamW's base optimum 2^-10 (declared as aux-lr in every run).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/mup-transfer}; shift || true
STUDIES=${*:-mup-muonpp sp-adamw mup-adamw mup-muon}
WIDTHS=${WIDTHS:-64/2,128/4,256/8,512/16}
SEEDS=${SEEDS:-1,2,3}
JOBS=${JOBS:-2}
MUON=${MUON:-bin/muon}
[ -x "$MUON" ] || make -s
sweep() { # study, grid flags...
  local study=$1; shift
  echo "== $study"
  "$MUON" sweep --out "$OUT/$study" --config configs/mup-transfer.conf --jobs "$JOBS" --threads "$JOBS" \
    --grid "d-model/n-head=$WIDTHS" --grid "seed=$SEEDS" "$@"
}
for s in $STUDIES; do
  case $s in
    mup-muonpp) sweep "$s" --set param=mup --set optim=muonpp --set aux-lr=0.0009765625 --grid lr=geom:2^-5:7 ;;
    mup-muon)   sweep "$s" --set param=mup --set optim=muon --set aux-lr=0.0009765625 --grid lr=geom:2^-5:7 ;;
    mup-adamw)  sweep "$s" --set param=mup --set optim=adamw --grid lr=geom:2^-10:7 ;;
    sp-adamw)   sweep "$s" --set param=sp --set optim=adamw --grid lr=geom:2^-8:9 ;;
    *) echo "mup-transfer: unknown study $s" >&2; exit 2 ;;
  esac
done
# the comparison of every study present in OUT: one table and mup-transfer-optima.svg
dirs=()
for s in mup-muonpp mup-muon mup-adamw sp-adamw; do [ -d "$OUT/$s/runs" ] && dirs+=("$OUT/$s"); done
if [ ${#dirs[@]} -gt 0 ]; then "$MUON" report transfer "${dirs[@]}" --out "$OUT/mup-transfer-optima.svg"; fi
