#!/usr/bin/env bash
# Wall time of `probe --mode all` against the local broker, to check that the
# three modes run concurrently (wall ≈ idle + handshake, not 3 × idle), and
# of a starved run whose idle is cut short by the broker's reset.
# Prints figures; asserts nothing (the machine is shared and noisy).
#
#   bash bench/probe-wall.sh [URL] [RUNS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
URL="${1:-amqp://guest:guest@127.0.0.1:5672/%2f}"
RUNS="${2:-5}"
cargo build --release --quiet
BIN=./target/release/amqpdoctor

measure() {
	local label="$1" idle_s="$2"
	shift 2
	local total=0 min="" max=""
	for _ in $(seq "$RUNS"); do
		local t0 t1 ms
		t0=$(date +%s%N)
		"$BIN" probe "$URL" "$@" --format json >/dev/null || true
		t1=$(date +%s%N)
		ms=$(((t1 - t0) / 1000000))
		total=$((total + ms))
		[[ -z "$min" || $ms -lt $min ]] && min=$ms
		[[ -z "$max" || $ms -gt $max ]] && max=$ms
	done
	printf '%-44s idle %5d ms  wall mean %5d ms  min %5d  max %5d  (overhead mean %d ms, %d runs)\n' \
		"$label" "$((idle_s * 1000))" "$((total / RUNS))" "$min" "$max" "$((total / RUNS - idle_s * 1000))" "$RUNS"
}

measure "all three modes, T=2s, idle 3s" 3 --mode all --heartbeat 2s --idle 3s
measure "serviced only, T=2s, idle 3s" 3 --mode serviced --heartbeat 2s --idle 3s
measure "starved, T=2s, idle 8s (cut at the reset)" 8 --mode starved --heartbeat 2s --idle 8s
