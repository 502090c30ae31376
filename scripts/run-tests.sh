#!/usr/bin/env bash
# Runs each test binary given, prints its output, and a closing summary line.
set -u
pass=0; fail=0; failed=()
for t in "$@"; do
  echo "== $t"
  if "$t"; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("$t"); fi
done
echo
[ "$fail" -eq 0 ] || echo "failed binaries: ${failed[*]}"
echo "test binaries: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
