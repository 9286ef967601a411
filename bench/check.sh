#!/usr/bin/env bash
# Cost of `amqpdoctor check` against the local broker, next to the goals of
# the issue that asked for it:
#
#   1. process wall time (median, min, p90) of one `check --format json`
#      against two other clients doing similar work: rabbitmq-c's
#      amqp-publish (connect, publish to the default exchange, close: less
#      than check does) and a pika script (connect, confirm_delivery, declare
#      an exclusive auto-delete queue, publish with confirm, basic_get, close:
#      the same work as check).
#      Goals: check / amqp-publish ≤ 1.5, check / pika ≤ 0.2.
#   2. wall time of one check over 1, 10 and 50 targets: distinct loopback
#      addresses 127.0.0.1..127.0.0.50 when the broker accepts guest on them,
#      else 127.0.0.1 repeated (the output says which). Goal: 50 / 1 ≤ 1.5.
#   3. peak RSS (`/usr/bin/time -v`, "Maximum resident set size") of a
#      1-target and a 50-target check. Goal: ≤ 15 MiB.
#   4. check's own per-step timings (median `duration_ms` of each step in
#      `--format json`), for 1 and for 50 targets, to show where the wall
#      time goes.
#
# Each command is run as a whole process from a small Python harness
# (time.perf_counter around subprocess.run), after warm-up runs; the
# commands compared in a table are interleaved round by round so that drift
# on a shared machine hits them alike. The harness's own spawn cost is shown
# as the `/bin/true` row, amqpdoctor's start-up and exit as the `--version` row.
# The CPU column is the process's own user + system time (getrusage of the
# child), so wall minus CPU is time spent waiting, mostly on the broker.
#
# Prints figures; asserts nothing: a missed goal is printed, never an exit
# status. Exits non-zero only when a setup step fails (build, install,
# broker unreachable). Installs what is missing: amqp-tools and time with
# apt-get, pika with pip. Leaves nothing on the broker: check's and the pika
# script's queues are exclusive and auto-delete, and amqp-publish's message
# goes to the default exchange under a routing key no queue has (dropped).
#
#   bash bench/check.sh
#
# Environment: AMQPDOCTOR_BENCH_RUNS (measured runs per command, default 30),
# AMQPDOCTOR_BENCH_WARMUP (warm-up runs per command, default 2),
# AMQPDOCTOR_BENCH_STEP_RUNS (runs for the per-step breakdown, default 10),
# AMQPDOCTOR_BENCH_RSS_RUNS (runs under /usr/bin/time -v, default 3).
# The broker is amqp://guest:guest@127.0.0.1:5672/%2f.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS="${AMQPDOCTOR_BENCH_RUNS:-30}"
WARMUP="${AMQPDOCTOR_BENCH_WARMUP:-2}"
STEP_RUNS="${AMQPDOCTOR_BENCH_STEP_RUNS:-10}"
RSS_RUNS="${AMQPDOCTOR_BENCH_RSS_RUNS:-3}"

die() {
	echo "bench/check.sh: $*" >&2
	exit 1
}

for var in RUNS WARMUP STEP_RUNS RSS_RUNS; do
	[[ "${!var}" =~ ^[0-9]+$ ]] || die "AMQPDOCTOR_BENCH_$var must be a whole number, not '${!var}'"
done
((RUNS >= 1 && STEP_RUNS >= 1 && RSS_RUNS >= 1)) || die "run counts must be at least 1"

apt_install() {
	echo "installing $* (apt-get)…" >&2
	if ! DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2; then
		die "apt-get update failed"
	fi
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2; then
		die "apt-get install $* failed"
	fi
}

echo "building (release)…" >&2
cargo build --release --locked --quiet || die "cargo build --release --locked failed"
BIN="$PWD/target/release/amqpdoctor"
[[ -x "$BIN" ]] || die "no binary at $BIN"

command -v amqp-publish >/dev/null || apt_install amqp-tools
[[ -x /usr/bin/time ]] || apt_install time
command -v python3 >/dev/null || die "python3 is needed"
# The real interpreter, not a wrapper such as a pyenv shim, whose own
# start-up would be counted against pika.
PY="$(python3 -c 'import sys; print(sys.executable)')"
if ! "$PY" -c 'import pika' 2>/dev/null; then
	echo "installing pika (pip)…" >&2
	"$PY" -m pip install --quiet pika >&2 || die "pip install pika failed"
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cat >"$TMP/pika_check.py" <<'EOF'
# What `amqpdoctor check` does, with pika: connect, confirms, exclusive
# auto-delete queue, publish with confirm, get it back, close.
import os
import sys

import pika

conn = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))
ch = conn.channel()
ch.confirm_delivery()
queue = f"amqpdoctor.bench.pika.{os.getpid()}"
ch.queue_declare(queue=queue, exclusive=True, auto_delete=True)
body = b"amqpdoctor bench"
ch.basic_publish(exchange="", routing_key=queue, body=body, mandatory=True)
_method, _props, got = ch.basic_get(queue=queue, auto_ack=True)
if got != body:
    sys.exit(f"pika: got {got!r} back, expected {body!r}")
conn.close()
EOF

cat >"$TMP/harness.py" <<'EOF'
import json
import math
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time

BIN = os.environ["BENCH_BIN"]
PY = os.environ["BENCH_PY"]
PIKA = os.environ["BENCH_PIKA"]
TMP = os.environ["BENCH_TMP"]
RUNS = int(os.environ["BENCH_RUNS"])
WARMUP = int(os.environ["BENCH_WARMUP"])
STEP_RUNS = int(os.environ["BENCH_STEP_RUNS"])
RSS_RUNS = int(os.environ["BENCH_RSS_RUNS"])

PORT = 5672
URL = f"amqp://guest:guest@127.0.0.1:{PORT}/%2f"
MIB = 1024 * 1024


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def fail(msg):
    print(f"bench/check.sh: {msg}", file=sys.stderr)
    sys.exit(1)


def url_for(n):
    return f"amqp://guest:guest@127.0.0.{n}:{PORT}/%2f"


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd):
    """Run cmd once; return (wall s, CPU s (user + system), exit status, stderr)."""
    c0 = children_cpu()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    t1 = time.perf_counter()
    cpu = children_cpu() - c0
    return t1 - t0, cpu, p.returncode, p.stderr.decode(errors="replace").strip()


def output(cmd):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr.strip()


def p90(xs):
    s = sorted(xs)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


def measure(commands):
    """commands: list of (label, argv). Warm-up, then RUNS interleaved rounds.
    Returns {label: {"times": [...], "failed": n, "last_err": str}}."""
    for label, cmd in commands:
        for _ in range(WARMUP):
            _, _, rc, err = run(cmd)
            if rc != 0:
                fail(f"warm-up of {label} failed (exit {rc}): {err[-500:]}")
    res = {label: {"times": [], "cpu": [], "failed": 0, "last_err": ""}
           for label, _ in commands}
    for _ in range(RUNS):
        for label, cmd in commands:
            t, cpu, rc, err = run(cmd)
            r = res[label]
            r["times"].append(t * 1000)
            r["cpu"].append(cpu * 1000)
            if rc != 0:
                r["failed"] += 1
                r["last_err"] = err
    return res


def table(res):
    print(f"  {'':46} {'median':>8} {'min':>8} {'p90':>8} {'CPU med':>8}  non-zero exits")
    for label, r in res.items():
        ts = r["times"]
        print(f"  {label:46} {statistics.median(ts):8.1f} {min(ts):8.1f} {p90(ts):8.1f}"
              f" {statistics.median(r['cpu']):8.1f}  {r['failed']} of {len(ts)}")
        if r["failed"]:
            print(f"    last error: {r['last_err'][-300:]}")


def goal(label, value, limit, unit=""):
    met = "yes" if value <= limit else "NO"
    print(f"  {label:46} {value:8.2f}{unit}  goal ≤ {limit}{unit}  met: {met}")


def check_json(urls):
    rc, out, err = output([BIN, "check", *urls, "--format", "json"])
    try:
        return rc, json.loads(out)
    except json.JSONDecodeError:
        fail(f"amqpdoctor check printed no JSON (exit {rc}): {err[-500:]}")


def peak_rss_kib(cmd):
    """Maximum resident set size (KiB) of cmd under GNU time, over RSS_RUNS runs."""
    out = os.path.join(TMP, "time.out")
    peak = 0
    for _ in range(RSS_RUNS):
        p = subprocess.run(["/usr/bin/time", "-v", "-o", out, *cmd],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        with open(out) as f:
            report = f.read()
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
        if not m:
            fail(f"no 'Maximum resident set size' from /usr/bin/time -v for {cmd[0]}")
        if p.returncode != 0:
            progress(f"note: {cmd[0]} exited {p.returncode} under /usr/bin/time")
        peak = max(peak, int(m.group(1)))
    return peak


def broker_queues():
    """Queue names on vhost / (rabbitmqctl), or None when it cannot tell."""
    if not shutil.which("rabbitmqctl"):
        return None
    try:
        p = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name"],
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if p.returncode != 0:
        return None
    return sorted(line.strip() for line in p.stdout.splitlines()
                  if line.strip() and line.strip() != "name")


# --- set-up: is the broker there, what is it ---------------------------------
progress("checking the broker…")
rc, doc = check_json([URL])
if rc != 0:
    fail(f"amqpdoctor check {URL} failed: {doc['targets'][0].get('failure')}")
server = doc["targets"][0]["server"] or {}
queues_before = broker_queues()

progress("trying 127.0.0.2..127.0.0.50…")
rc, doc = check_json([url_for(n) for n in range(2, 51)])
bad = [t for t in doc["targets"] if not t["passed"]]
if not bad:
    multi = [url_for(n) for n in range(1, 51)]
    targets_note = "127.0.0.1 .. 127.0.0.50, distinct loopback addresses (guest accepted on all)"
else:
    multi = [URL] * 50
    targets_note = (f"127.0.0.1 repeated 50 times, because {len(bad)} of the 49 addresses "
                    f"127.0.0.2..127.0.0.50 failed, e.g. {bad[0]['failure']}")

# --- environment ---------------------------------------------------------------
rc, ver, _ = output([BIN, "--version"])
_, pika_ver, _ = output([PY, "-c", "import pika; print(pika.__version__)"])
_, tools_ver, _ = output(["dpkg-query", "-W", "-f=${Version}", "amqp-tools"])
_, nproc, _ = output(["nproc"])

print(f"amqpdoctor check benchmark: {RUNS} measured runs per command after {WARMUP} warm-up, "
      "interleaved; times in ms; CPU = the process's user + system time")
print()
print("environment")
print(f"  nproc                {nproc.strip()} ({platform.machine()}, Linux {platform.release()})")
print(f"  broker               {server.get('product')} {server.get('version')} "
      f"({server.get('platform')}) at 127.0.0.1:{PORT}")
print(f"  amqpdoctor           {ver.strip()} ({BIN})")
print(f"  amqp-publish         {shutil.which('amqp-publish')}, Debian amqp-tools "
      f"{tools_ver.strip() or '?'} (rabbitmq-c; the tool has no --version)")
print(f"  pika                 {pika_ver.strip()} on Python {platform.python_version()} ({PY})")
print()

# --- 1. one target, three clients --------------------------------------------
progress("1. one target: check, amqp-publish, pika…")
clients = [
    ("spawn floor: /bin/true", ["/bin/true"]),
    ("amqpdoctor --version (start and exit only)", [BIN, "--version"]),
    ("amqpdoctor check --format json", [BIN, "check", URL, "--format", "json"]),
    ("amqp-publish (connect, publish, close)",
     ["amqp-publish", f"--url={URL}", "-r", "amqpdoctor.bench.nowhere", "-b", "hello"]),
    ("pika (same steps as check)", [PY, PIKA, URL]),
]
res = measure(clients)
print("1. one target, process wall time (ms)")
table(res)
med = {label: statistics.median(r["times"]) for label, r in res.items()}
check_ms = med["amqpdoctor check --format json"]
goal("ratio check / amqp-publish", check_ms / med["amqp-publish (connect, publish, close)"], 1.5)
goal("ratio check / pika", check_ms / med["pika (same steps as check)"], 0.2)
print()

# --- 2. 1, 10, 50 targets -----------------------------------------------------
progress("2. check over 1, 10, 50 targets…")
fan = [(f"check, {n} target{'s' if n > 1 else ''}",
        [BIN, "check", *multi[:n], "--format", "json"]) for n in (1, 10, 50)]
res = measure(fan)
print("2. one check over several targets, process wall time (ms)")
print(f"  targets: {targets_note}")
table(res)
med = {label: statistics.median(r["times"]) for label, r in res.items()}
goal("ratio 50 targets / 1 target", med["check, 50 targets"] / med["check, 1 target"], 1.5)
print()

# --- 3. peak RSS -------------------------------------------------------------
progress("3. peak RSS…")
print(f"3. peak RSS (/usr/bin/time -v, Maximum resident set size, max of {RSS_RUNS} runs)")
rss1 = peak_rss_kib([BIN, "check", URL, "--format", "json"])
rss50 = peak_rss_kib([BIN, "check", *multi, "--format", "json"])
goal("check, 1 target (MiB)", rss1 / 1024, 15)
goal("check, 50 targets (MiB)", rss50 / 1024, 15)
for label, cmd in clients[3:]:
    print(f"  {label.split(' (')[0] + ' (MiB, for reference)':46} {peak_rss_kib(cmd) / 1024:8.2f}")
print()

# --- 4. check's own step timings -----------------------------------------------
# The same breakdown for one target and for the 50-target check (medians over
# every target of every run): when all 50 begin within a few ms and every
# step grows, the time goes to the broker, not to the tool.
progress("4. per-step breakdown…")
columns = []
for label, urls in (("1 target", [URL]), ("50 targets", multi)):
    steps, target_ms, total_ms, walls, began = {}, [], [], [], []
    for _ in range(STEP_RUNS):
        t0 = time.perf_counter()
        rc, doc = check_json(urls)
        walls.append((time.perf_counter() - t0) * 1000)
        if rc != 0:
            fail(f"check failed during the step breakdown: {doc['targets'][0].get('failure')}")
        for t in doc["targets"]:
            for s in t["steps"]:
                if s.get("duration_ms") is not None:
                    steps.setdefault(s["step"], []).append(s["duration_ms"])
            target_ms.append(t["duration_ms"])
        began.append(max(t["began_ms"] for t in doc["targets"]))
        total_ms.append(doc["duration_ms"])
    rows = {name: statistics.median(ds) for name, ds in steps.items()}
    rows["sum of the step medians"] = sum(rows.values())
    rows["target duration_ms"] = statistics.median(target_ms)
    rows["last target began at (began_ms)"] = statistics.median(began)
    rows["whole run duration_ms"] = statistics.median(total_ms)
    rows["process wall (with JSON capture)"] = statistics.median(walls)
    rows["  of which outside the run (start, exit)"] = (
        statistics.median(walls) - statistics.median(total_ms))
    columns.append((label, rows))
print(f"4. check's own step timings (median of {STEP_RUNS} runs of --format json, "
      "over every target, ms)")
print(f"  {'':46} {columns[0][0]:>10} {columns[1][0]:>12}")
for name in columns[0][1]:
    print(f"  {name:46} {columns[0][1][name]:10.3f} {columns[1][1].get(name, float('nan')):12.3f}")
print()

# --- left behind -------------------------------------------------------------
queues_after = broker_queues()
if queues_before is None or queues_after is None:
    print("broker queues on vhost /: rabbitmqctl not usable, not compared")
else:
    new = sorted(set(queues_after) - set(queues_before))
    ours = [q for q in new if q.startswith("amqpdoctor.")]
    print(f"broker queues on vhost /: {len(queues_before)} before, {len(queues_after)} after; "
          f"left by this benchmark: {', '.join(ours) if ours else 'none'}")
EOF

BENCH_BIN="$BIN" BENCH_PY="$PY" BENCH_PIKA="$TMP/pika_check.py" BENCH_TMP="$TMP" \
	BENCH_RUNS="$RUNS" BENCH_WARMUP="$WARMUP" BENCH_STEP_RUNS="$STEP_RUNS" \
	BENCH_RSS_RUNS="$RSS_RUNS" \
	"$PY" "$TMP/harness.py"
