#!/usr/bin/env bash
# test.sh — the README's second command: install what is missing, build, run the full
# test suite (make test), then the same tests under ASan+UBSan (make asan).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
make -j"$(nproc)"
make -j"$(nproc)" test
if [ "${MUON_SKIP_ASAN:-0}" != 1 ]; then
  ASAN_OPTIONS=detect_leaks=1 make -j"$(nproc)" asan
fi
