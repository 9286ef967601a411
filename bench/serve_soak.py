#!/usr/bin/env python3
"""A soak of `amqpdoctor serve --scan` (issue 23): connections opening and
dying for a long time, and serve's RSS at the start and the end.

    python3 bench/serve_soak.py [BINARY] [MINUTES] [CONNECTIONS]

Keeps CONNECTIONS (default 500) TCP connections from this host to a
listener of its own on 127.0.0.1 (no broker: serve follows them by peer
port); every second it ends 10% of them (half with an RST, half with a
FIN) and opens as many new ones, while a scrape of /metrics comes every
second. Prints serve's RSS after the first minute, every 5 minutes, and at
the end, with the deaths counted; MINUTES defaults to 30. Figures are
printed, not asserted.
"""

import os
import random
import resource
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_scrape as b  # noqa: E402


LISTENER = """
import resource, selectors, socket
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(4096)
print(srv.getsockname()[1], flush=True)
sel = selectors.DefaultSelector()
sel.register(srv, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if key.fileobj is srv:
            c = srv.accept()[0]
            sel.register(c, selectors.EVENT_READ)
            continue
        try:
            data = key.fileobj.recv(4096)
        except OSError:
            data = b''
        if not data:
            sel.unregister(key.fileobj)
            key.fileobj.close()
"""


def listener():
    """A listener in a child process that closes its end when the client
    closes or resets (a soak opens far more connections than fds)."""
    child = subprocess.Popen([sys.executable, "-c", LISTENER], stdout=subprocess.PIPE, text=True)
    return int(child.stdout.readline()), child


def main():
    args = sys.argv[1:]
    binary = args.pop(0) if args and not args[0].isdigit() else os.path.join(b.ROOT, "target/release/amqpdoctor")
    minutes = float(args[0]) if args else 30.0
    n = int(args[1]) if len(args) > 1 else 500
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 256)), hard))
    port, server = listener()
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    proc = subprocess.Popen(
        [binary, "serve", "--scan", "--port", str(port), "--listen", "127.0.0.1:0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    addr = proc.stderr.readline().split("http://", 1)[1].split("/", 1)[0]
    # Stopped early (Ctrl-C, SIGTERM): end serve and the listener too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        soak(proc, addr, port, conns, minutes, n)
    finally:
        if proc.poll() is None:
            proc.terminate()
            print("exit", proc.wait(timeout=10), flush=True)
        for c in conns:
            c.close()
        server.kill()
        server.wait()


def soak(proc, addr, port, conns, minutes, n):
    started = time.time()
    next_report = 60
    ended = 0
    while True:
        elapsed = time.time() - started
        if elapsed >= next_report or elapsed >= minutes * 60:
            _, body = b.scrape(addr)
            deaths = sum(
                float(l.rsplit(" ", 1)[1]) for l in body.splitlines() if l.startswith("amqpdoctor_scan_deaths_total{")
            )
            print(
                f"{elapsed / 60:5.1f} min: RSS {b.status(proc.pid, 'VmRSS')} MiB (peak {b.status(proc.pid, 'VmHWM')} MiB); "
                f"{ended} connections ended so far, {deaths:.0f} deaths counted",
                flush=True,
            )
            if elapsed >= minutes * 60:
                break
            next_report = next_report + 300 if next_report > 60 else 300
        for _ in range(n // 10):
            c = conns.pop(random.randrange(len(conns)))
            if random.random() < 0.5:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            ended += 1
            conns.append(socket.create_connection(("127.0.0.1", port)))
        b.scrape(addr)
        time.sleep(1)


if __name__ == "__main__":
    main()
