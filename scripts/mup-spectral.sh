#!/usr/bin/env bash
# mup-spectral.sh — Muon++'s spectral condition over a whole run (docs/results/mup-transfer.md,
# spec §4): the transfer protocol's model (configs/mup-transfer.conf) trained 2000 steps at
# the base width's optimal matrix LR 2^-5, λ = 0.1 with --wd-mode decoupled (W ← (1 − η_t λ)W),
# spectral diagnostics every 10 steps (r_W, r_ΔW per hidden matrix in metrics.jsonl), for
#   muonpp        Muon++ (σ_max-normalised update × s, weight decay 0.1)
#   muon-nowd     plain Muon with the same spectral scale s and no weight decay
#   scripts/mup-spectral.sh [OUT_DIR]     (resumable; WIDTHS, JOBS as in mup-transfer.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/mup-spectral}
WIDTHS=${WIDTHS:-64/2,128/4,256/8,512/16}
JOBS=${JOBS:-2}
MUON=${MUON:-bin/muon}
[ -x "$MUON" ] || make -s
common=(--config configs/mup-transfer.conf --jobs "$JOBS" --threads "$JOBS" --ckpt last
        --grid "d-model/n-head=$WIDTHS" --set seed=1 --set param=mup --set steps=2000
        --set lr=0.03125 --set aux-lr=0.0009765625 --set diag-every=10
        --set eval-every=250 --set log-every=10)
echo "== muonpp"
"$MUON" sweep --out "$OUT/muonpp" "${common[@]}" --set optim=muonpp --set weight-decay=0.1
echo "== muon-nowd"
"$MUON" sweep --out "$OUT/muon-nowd" "${common[@]}" --set optim=muon --set scale=spectral --set weight-decay=0
