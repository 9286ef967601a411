#!/usr/bin/env bash
# Speed and memory of `amqpdoctor logs`, for the figures its issue asked
# for: on a generated RabbitMQ 3.9+-format log of 1 GB (AMQPDOCTOR_BENCH_GB
# to change it) with the local 3.10.8 broker's line shapes (accepting,
# authenticated, client-provided name, closing with the reason on the next
# line with the same prefix; heartbeat timeouts, abrupt closes, normal
# closes; unrelated lines in between), it prints:
#
#   1. MB/s of `grep -c 'missed heartbeats'` and of `amqpdoctor logs
#      --format json` on the same file in the same run (each the best of 3,
#      the file in the page cache), and their ratio;
#   2. peak RSS of `logs` on that file, and on 5 times its size streamed
#      through stdin (no 5 GB file written; the generator closes every
#      connection at the end, so the copies follow one another as one log).
#
# Prints figures; asserts nothing. Needs no broker.
#
#   bash bench/logs.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --quiet
BIN=$PWD/target/release/amqpdoctor
GB=${AMQPDOCTOR_BENCH_GB:-1}
command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
LOG=$DIR/rabbit@bench.log

python3 - "$LOG" "$GB" <<'PY'
# Time-ordered, as a broker writes it: each connection's opening lines at
# its start, its closing lines when it dies (1 to 400 s later), lines of
# other processes in between; 300 peer hosts.
import heapq, random, sys, time
path, gb = sys.argv[1], float(sys.argv[2])
target = int(gb * 1e9)
rnd = random.Random(7)
hosts = [f"10.{i // 250}.{i % 250}.{rnd.randint(1, 250)}" for i in range(300)]
def stamp(s):
    whole = int(s)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole)) + f".{int((s - whole) * 1e6):06d}+00:00"
t, pid, written, pending = 1764870000.0, 1000, 0, []
with open(path, "w", buffering=1 << 22) as f:
    while written < target:
        out = []
        for _ in range(2000):
            t += 0.01
            while pending and pending[0][0] <= t:
                out.append(heapq.heappop(pending)[1])
            pid += 1
            h = hosts[rnd.randrange(len(hosts))]
            p, a = f"<0.{pid}.0>", f"({h}:{1024 + pid % 60000} -> 10.0.0.1:5672"
            s0 = stamp(t)
            out.append(f"{s0} [info] {p} accepting AMQP connection {p} {a})\n")
            out.append(f"{s0} [info] {p} connection {p} {a}) has a client-provided name: app-{h}\n")
            out.append(f"{s0} [info] {p} connection {p} {a} - app-{h}): user 'guest' authenticated and granted access to vhost '/'\n")
            out.append(f"{s0} [info] <0.{pid + 7}.0> Feature flags: an unrelated line between connection lines\n")
            end = t + rnd.uniform(1, 400)
            s3, r = stamp(end), rnd.random()
            if r < 0.3:
                line = f"{s3} [error] {p} closing AMQP connection {p} {a} - app-{h}):\n{s3} [error] {p} missed heartbeats from client, timeout: 60s\n"
            elif r < 0.5:
                line = f"{s3} [warning] {p} closing AMQP connection {p} {a} - app-{h}):\n{s3} [warning] {p} client unexpectedly closed TCP connection\n"
            else:
                line = f"{s3} [info] {p} closing AMQP connection {p} {a} - app-{h}, vhost: '/', user: 'guest')\n"
            heapq.heappush(pending, (end, line))
        chunk = "".join(out)
        f.write(chunk)
        written += len(chunk)
    # Every connection closed by the end, as at a node's stop: the file can
    # be read five times in a row as one longer log (part 2).
    f.write("".join(line for _, line in sorted(pending)))
PY
SIZE=$(stat -c %s "$LOG")
MB=$(python3 -c "print(round($SIZE/1e6))")
echo "file: $LOG, $MB MB, $(wc -l < "$LOG") lines"

best() { # best wall seconds of 3 runs of "$@"
	local b=999999 s e
	for _ in 1 2 3; do
		s=$(date +%s.%N)
		"$@" >"$DIR/out" || true # not /dev/null: GNU grep stops at the first match when it writes there
		e=$(date +%s.%N)
		b=$(python3 -c "print(min($b, $e - $s))")
	done
	echo "$b"
}
cat "$LOG" >/dev/null # into the page cache
G=$(best grep -c 'missed heartbeats' "$LOG")
L=$(best "$BIN" logs --format json "$LOG")
python3 - "$SIZE" "$G" "$L" <<'PY'
import sys
size, g, l = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"grep -c 'missed heartbeats': {g:.2f} s, {size / g / 1e6:.0f} MB/s")
print(f"amqpdoctor logs --format json: {l:.2f} s, {size / l / 1e6:.0f} MB/s")
print(f"logs / grep throughput: {g / l:.2f} (target: at least 0.33)")
PY
"$BIN" logs "$LOG" | sed -n "1,4p" || true

# logs exits 1 on this file (it finds deaths): not a failure of the bench.
RSS1=$( (/usr/bin/time -f %M "$BIN" logs --format json "$LOG" 2>&1 >/dev/null || true) | tail -1)
echo "peak RSS on $MB MB: $((RSS1 / 1024)) MiB"
RSS5=$( (for _ in 1 2 3 4 5; do cat "$LOG"; done | /usr/bin/time -f %M "$BIN" logs --format json - 2>&1 >/dev/null || true) | tail -1)
echo "peak RSS on $((MB * 5)) MB through stdin: $((RSS5 / 1024)) MiB"
