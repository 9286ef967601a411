#!/usr/bin/env bash
# Peak RSS of amqpdoctor against hostile fake peers (issue 24 items 2, 3, 5, 7).
# Usage: bash bench/hostile-memory.sh [path/to/amqpdoctor]
# Prints one line per case: the command and its peak RSS in KiB
# (/usr/bin/time -v "Maximum resident set size") and wall time. Loopback only.
# Covers item 2 (a heartbeat flood before Open-Ok), items 3 and 7 (proxy
# --log-frames relaying that flood with stdout to a FIFO nobody reads, and
# 20 clients each sending 4 MiB of a never-finished 16 MiB frame) and item 5
# (audit reading a 16 MiB management answer of `{}` elements).
# The ~215 MiB once reported for `probe --trace` by the Rust test peer was
# wait4's ru_maxrss carrying the test harness's high-water mark; polled
# VmHWM and this script both see ~20 MiB.
set -u
BIN=${1:-target/debug/amqpdoctor}
PEER=$(mktemp --suffix=.py)
trap 'rm -f "$PEER"; [ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null' EXIT
cat > "$PEER" <<'PY'
# A server that sends Connection.Start and Tune, then floods heartbeats
# and never sends Open-Ok. Prints its port, serves clients until killed.
import socket, struct, threading, sys
def frame(t, ch, payload): return struct.pack(">BHI", t, ch, len(payload)) + payload + b"\xce"
def longstr(b): return struct.pack(">I", len(b)) + b
start = frame(1, 0, struct.pack(">HHBB", 10, 10, 0, 9) + struct.pack(">I", 0) + longstr(b"PLAIN") + longstr(b"en_US"))
tune = frame(1, 0, struct.pack(">HHHIH", 10, 30, 2047, 131072, 60))
hb = frame(8, 0, b"") * 4096
def serve(c):
    try:
        c.recv(8); c.sendall(start); c.recv(4096); c.sendall(tune)
        while True: c.sendall(hb)
    except OSError: pass
    finally: c.close()
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
coproc SRVP { exec python3 "$PEER"; }
SRV=$SRVP_PID
read -r PORT <&"${SRVP[0]}"
URL="amqp://guest:guest@127.0.0.1:$PORT/"
measure() {
    local rss out
    out=$(mktemp)
    /usr/bin/time -v -o "$out" "$BIN" "$@" >/dev/null 2>&1
    rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$out")
    wall=$(awk -F'): ' '/Elapsed/ {print $2}' "$out")
    rm -f "$out"
    printf '%-40s peak RSS %8s KiB, %s wall\n' "${*/$URL/URL}" "$rss" "$wall"
}
echo "heartbeat flood before Open-Ok ($BIN):"
measure probe "$URL" --mode disabled --idle 0s --connect-timeout 5s
measure probe "$URL" --mode disabled --idle 0s --connect-timeout 5s --trace
measure check "$URL" --connect-timeout 5s
measure heartbeat "$URL" --connect-timeout 5s
measure idle-timeout "$URL" --max 3s --probes 8 --connect-timeout 2s

# Peak RSS of a background process ($1 = pid) once it has exited.
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null; }

echo "proxy --log-frames relaying the flood, stdout a FIFO never read:"
FIFO=$(mktemp -u); mkfifo "$FIFO"; exec 7<>"$FIFO"; rm -f "$FIFO"
LP=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
start=$(date +%s.%N)
"$BIN" proxy --listen "127.0.0.1:$LP" --upstream "127.0.0.1:$PORT" --log-frames >&7 2>/dev/null &
PX=$!
sleep 1
python3 - "$LP" <<'PY'
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"AMQP\x00\x00\x09\x01" + b"\x00" * 64)
got, end = 0, time.time() + 5
while time.time() < end:
    got += len(c.recv(65536))
print(f"  relayed {got >> 20} MiB in 5 s while stdout was blocked")
PY
peak=0; for _ in 1 2 3; do p=$(hwm $PX); [ "${p:-0}" -gt "$peak" ] && peak=$p; sleep 0.2; done
kill -TERM $PX; t0=$(date +%s.%N); wait $PX; rc=$?; t1=$(date +%s.%N)
printf '  peak RSS %8s KiB; exit %s %.1f s after SIGTERM\n' "$peak" "$rc" "$(echo "$t1 - $t0" | bc)"
exec 7>&-

echo "proxy, 20 clients each 4 MiB into a 16 MiB frame never finished:"
LP=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
SINK=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
python3 -c '
import socket, threading, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
def eat(c):
    while c.recv(65536): pass
while True:
    c, _ = s.accept(); threading.Thread(target=eat, args=(c,), daemon=True).start()
' "$SINK" & SK=$!
sleep 0.5
"$BIN" proxy --listen "127.0.0.1:$LP" --upstream "127.0.0.1:$SINK" --log-frames >/dev/null 2>&1 &
PX=$!
sleep 1
python3 - "$LP" <<'PY'
import socket, struct, sys
cs = []
for _ in range(20):
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    c.sendall(b"\x01\x00\x00" + struct.pack(">I", 16 * 1024 * 1024 - 9) + b"\x00" * (4 << 20))
    cs.append(c)
PY
peak=$(hwm $PX); kill -TERM $PX; wait $PX; kill $SK 2>/dev/null
printf '  peak RSS %8s KiB\n' "$peak"

echo "audit, a 16 MiB management answer of {} elements:"
API=$(mktemp --suffix=.py)
cat > "$API" <<'PY'
import http.server
body = b"[" + b",".join([b"{}"] * ((16 * 1024 * 1024 - 2) // 3)) + b"]"
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = b'{"rabbitmq_version":"3.13.0"}' if self.path.startswith("/api/overview") else body
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H); print(s.server_address[1], flush=True); s.serve_forever()
PY
coproc APIP { exec python3 "$API"; }
read -r APORT <&"${APIP[0]}"
measure audit --management "http://guest:guest@127.0.0.1:$APORT" --format json
kill "$APIP_PID"; rm -f "$API"
