#!/usr/bin/env bash
# How soon `amqpdoctor audit` flags starving pika BlockingConnections at a
# given set of heartbeats (issue #20 item 5), against the local broker's
# management API. Starts N starving pika 1.3.2 apps per T (plus one
# serviced app per T as the control), runs `audit --format json` every
# STEP seconds until the longest T's drop window has passed, and prints per
# T: when each starving app was first flagged (seconds after it connected),
# whether the serviced one ever was, and the silence audit reported.
#
#   bench/audit-heartbeats.sh [T...]        default: 2 5 20 60
#   N=2 STEP=5 bench/audit-heartbeats.sh 2 5
#
# Needs `bash .ci/broker` (the broker, its management plugin, .ci/.venv).
set -euo pipefail
cd "$(dirname "$0")/.."
ts=("${@:-2 5 20 60}"); read -r -a ts <<<"${ts[*]}"
n=${N:-2}; step=${STEP:-5}
py=.ci/.venv/bin/python
[ -x "$py" ] || { echo "no .ci/.venv: run bash .ci/broker" >&2; exit 2; }
bin=target/release/amqpdoctor
[ -x "$bin" ] || cargo build --release --locked -q
url=${AMQPDOCTOR_TEST_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}
tag="bench-audit-$$"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
max=0
for t in "${ts[@]}"; do
  (( t > max )) && max=$t
  for i in $(seq 1 "$n"); do
    "$py" tests/clients/pika_app.py "$url" starving "$t" "$tag/starving/$t/$i" >/dev/null & pids+=($!)
  done
  "$py" tests/clients/pika_app.py "$url" serviced "$t" "$tag/serviced/$t/1" >/dev/null & pids+=($!)
done
start=$(date +%s)
out=$(mktemp)
end=$(( start + 3 * max + 10 ))
while (( $(date +%s) < end )); do
  sleep "$step"
  now=$(( $(date +%s) - start ))
  "$bin" audit --format json 2>/dev/null | NOW=$now TAG=$tag python3 -c '
import json, os, sys
d = json.load(sys.stdin)
for c in d.get("connections", []):
    name = c.get("connection_name") or ""
    if not name.startswith(os.environ["TAG"]):
        continue
    flags = c.get("flags", [])
    silence = c.get("silence") or {}
    print(os.environ["NOW"], name, ",".join(flags) or "-", silence.get("silent_ms", ""), sep="\t")
' >>"$out" || true
done
python3 - "$out" "$tag" <<'PY'
import sys, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
first = {}
seen = collections.defaultdict(list)
for at, name, flags, silent in rows:
    seen[name].append(int(at))
    if flags != "-" and name not in first:
        first[name] = (int(at), f"{flags}, silent {int(silent) / 1000:.0f} s" if silent else flags)
print(f"{'connection':<34} {'seen (s after start)':<22} first flagged (s after start; silence audit reported)")
for name in sorted(seen, key=lambda n: (int(n.split('/')[2]), n)):
    s = seen[name]
    f = first.get(name)
    short = name.split("/", 1)[1]
    print(f"{short:<34} {s[0]:>3}–{s[-1]:<17} {f'{f[0]} s: {f[1]}' if f else 'never'}")
PY
