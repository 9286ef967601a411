#!/usr/bin/env bash
# Peak RSS of amqpdoctor against hostile fake peers (issue 24 item 2 so far).
# Usage: bash bench/hostile-memory.sh [path/to/amqpdoctor]
# Prints one line per case: the command and its peak RSS in KiB
# (/usr/bin/time -v "Maximum resident set size") and wall time. Loopback only.
# Covers item 2 (a heartbeat flood before Open-Ok) so far; items 3, 5, 7
# (proxy --log-frames, audit body, proxy partial frames) are still to add.
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
