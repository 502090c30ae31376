#!/usr/bin/env bash
# Runs each cmocka test binary given, shows its output, and closes with one summary
# line over all test cases: "tests: N passed, N failed, N skipped".
# VALGRIND="valgrind -q ..." runs each binary under it (make valgrind).
set -u
pass=0; fail=0; skip=0; bad=()
for t in "$@"; do
  echo "== $t"
  out=$(${VALGRIND:-} "$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  s=$(printf '%s\n' "$out" | grep -c '^\[  SKIPPED \]')
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + s))
  if [ "$rc" -ne 0 ]; then bad+=("$t"); [ -z "$f" ] && fail=$((fail + 1)); fi
done
echo
[ ${#bad[@]} -eq 0 ] || echo "failing binaries: ${bad[*]}"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ ${#bad[@]} -eq 0 ]
