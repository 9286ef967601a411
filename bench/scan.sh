#!/usr/bin/env bash
# Cost and speed of `amqpdoctor scan`, for the figures its issue asked for:
#
#   1. wall time and peak RSS of one `scan` reading and of `scan --watch 2s`
#      with 1,000 TCP connections open on the host whose peer port is the
#      scanned one (a local Python listener on 127.0.0.1 and 1,000 clients
#      to it, all in one helper process; nothing goes to the broker);
#   2. how long `scan --watch` needs to infer T from the broker's beats, for
#      a real pika BlockingConnection at T = 2 s and, with
#      AMQPDOCTOR_BENCH_LONG=1, at T = 60 s (that one takes about 2 minutes);
#   3. the starving pika client's predicted drop window against when the
#      broker really dropped it (T = 2 s).
#
# Prints figures; asserts nothing. Needs the broker and .ci/.venv (pika),
# both set up by `bash .ci/broker`.
#
#   bash bench/scan.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --quiet
BIN=target/release/amqpdoctor
PY=.ci/.venv/bin/python
[[ -x $PY ]] || { echo "missing $PY: run bash .ci/broker" >&2; exit 1; }
URL=${AMQPDOCTOR_TEST_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}
command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null

echo "== 1. 1,000 sockets on the host"
PORT=25999
python3 - "$PORT" <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(2048)
clients, accepted = [], []
for _ in range(1000):
    c = socket.create_connection(("127.0.0.1", port)); clients.append(c)
    accepted.append(srv.accept()[0])
print("open", flush=True)
time.sleep(60)
PY
HOLDER=$!
trap 'kill $HOLDER 2>/dev/null || true' EXIT
sleep 3
for args in "" "--watch 2s"; do
	# shellcheck disable=SC2086
	/usr/bin/time -f "%e %M" -o /tmp/amqpdoctor-scan-time $BIN scan --port $PORT $args --format json >/tmp/amqpdoctor-scan.json || true
	read -r wall rss </tmp/amqpdoctor-scan-time
	n=$(python3 -c 'import json; print(len(json.load(open("/tmp/amqpdoctor-scan.json"))["connections"]))')
	echo "scan --port $PORT ${args:-(one reading)}: $n connections, wall ${wall} s, peak RSS $((rss / 1024)) MiB"
done
kill $HOLDER 2>/dev/null || true

infer() { # T seconds, watch
	local t=$1 watch=$2
	$PY tests/clients/pika_app.py "$URL" starving "$t" "bench-scan-$t" >/tmp/amqpdoctor-pika.out &
	local pid=$!
	for _ in $(seq 50); do grep -q ready /tmp/amqpdoctor-pika.out 2>/dev/null && break; sleep 0.2; done
	$BIN scan --pid "$pid" --watch "$watch" --format json >/tmp/amqpdoctor-scan.json || true
	kill $pid 2>/dev/null || true
	python3 - "$t" <<'PY'
import json, sys
d = json.load(open("/tmp/amqpdoctor-scan.json"))
for c in d["connections"]:
    known = c["heartbeat_known_at_ms"]
    print(f"T = {sys.argv[1]} s: inferred {c['inferred_heartbeat_s']} s, known after "
          f"{known} ms of watching; {c['classification']}; drop window {c['drop_window_s']}; "
          f"died {c['died_after_last_sent_ms']} ms after its last byte (in window: {c['died_in_window']})")
PY
}
echo "== 2./3. inferring T, and the starving client's drop"
infer 2 8s
if [[ ${AMQPDOCTOR_BENCH_LONG:-0} == 1 ]]; then
	infer 60 200s
fi
