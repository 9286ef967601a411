#!/usr/bin/env bash
# Fuzz the frame reader and the URL parser for a while: runs the property
# tests in tests/fuzz.rs again and again with fresh random seeds, and prints
# how many cases ran and how many runs failed. Prints figures, asserts
# nothing (a failing case is shown by proptest, minimised, and counted).
#
#   bash bench/fuzz.sh [DURATION_SECONDS] [CASES_PER_PROPERTY_PER_RUN]
#
# Defaults: 600 s, 2000 cases. Needs no broker.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION="${1:-600}"
CASES="${2:-2000}"
PROPERTIES=4

echo "building (release)…" >&2
cargo test --release --locked --test fuzz --no-run >/dev/null 2>&1 ||
	{ echo "build failed" >&2; exit 1; }

start=$SECONDS
runs=0
failed=0
log=$(mktemp)
while ((SECONDS - start < DURATION)); do
	if PROPTEST_CASES="$CASES" cargo test --release --locked --test fuzz -q >"$log" 2>&1; then
		:
	else
		failed=$((failed + 1))
		echo "--- failing run $((runs + 1)):" >&2
		grep -E "minimal failing input|panicked|Test failed" "$log" >&2
	fi
	runs=$((runs + 1))
done
elapsed=$((SECONDS - start))
cases=$((runs * CASES * PROPERTIES))
echo "fuzz: ${elapsed} s, ${runs} runs, ${cases} cases (${PROPERTIES} properties × ${CASES} × ${runs}), failed runs: ${failed}"
rm -f "$log"
[[ $failed -eq 0 ]]
