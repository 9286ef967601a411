#!/usr/bin/env python3
"""Figures for `amqpdoctor serve --scan` (issue 23): scrape latency and RSS.

    python3 bench/serve_scrape.py [BINARY] [CONNECTIONS...]

For each count N (default: 0, 1000, 10000) it opens N TCP connections from
this host to a listener of its own on 127.0.0.1 (no broker involved: scan
follows them by their peer port, given with --port), starts
`BINARY serve --scan --port PORT --listen 127.0.0.1:0`, waits for two
seconds of readings, then scrapes /metrics 50 times one after another and
prints the median and the slowest scrape, serve's RSS (VmRSS, and VmHWM,
its peak) and the number of series. Figures are printed, not asserted.
BINARY defaults to target/release/amqpdoctor.
"""

import os
import resource
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def listener():
    """A listener in a child process (its accepted ends need descriptors of
    their own); returns its port and the child."""
    code = (
        "import resource, socket, sys\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))\n"
        "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(4096)\n"
        "print(srv.getsockname()[1], flush=True)\n"
        "held = []\n"
        "while True:\n"
        "    held.append(srv.accept()[0])\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    return int(child.stdout.readline()), child


def scrape(addr):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    started = time.perf_counter()
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            break
        chunks.append(b)
    took = time.perf_counter() - started
    s.close()
    body = b"".join(chunks).split(b"\r\n\r\n", 1)[1].decode()
    return took, body


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) // 1024
    return -1


def run(binary, n):
    port, server = listener()
    clients = []
    for _ in range(n):
        clients.append(socket.create_connection(("127.0.0.1", port)))
    proc = subprocess.Popen(
        [binary, "serve", "--scan", "--port", str(port), "--listen", "127.0.0.1:0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stderr.readline()
    addr = line.split("http://", 1)[1].split("/", 1)[0]
    time.sleep(2)
    times = []
    body = ""
    for _ in range(50):
        t, body = scrape(addr)
        times.append(t)
    rss, hwm = status(proc.pid, "VmRSS"), status(proc.pid, "VmHWM")
    series = sum(1 for l in body.splitlines() if l and not l.startswith("#"))
    listed = [l for l in body.splitlines() if l.startswith("amqpdoctor_scan_connections{")]
    conns = sum(float(l.rsplit(" ", 1)[1]) for l in listed)
    sample = [l for l in body.splitlines() if l.startswith("amqpdoctor_scan_sample_duration_seconds ")]
    proc.terminate()
    code = proc.wait(timeout=10)
    for c in clients:
        c.close()
    server.kill()
    server.wait()
    print(
        f"connections {n:>6} (seen {conns:.0f}): scrape median {statistics.median(times) * 1000:.2f} ms, "
        f"slowest {max(times) * 1000:.2f} ms; RSS {rss} MiB (peak {hwm} MiB); "
        f"{series} series; {sample[0].split()[1] if sample else '?'} s per reading; exit {code}"
    )


def main():
    args = sys.argv[1:]
    binary = args.pop(0) if args and not args[0].isdigit() else os.path.join(ROOT, "target/release/amqpdoctor")
    counts = [int(a) for a in args] or [0, 1000, 10000]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, max(counts) + 256)), hard))
    for n in counts:
        run(binary, n)


if __name__ == "__main__":
    main()
