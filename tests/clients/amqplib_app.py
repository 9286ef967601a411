"""A py-amqplib (amqplib 1.0.2, AMQP 0-8) application for audit's tests.

Usage: amqplib_app.py HOST:PORT NAME

Connects as guest/guest with the connection name NAME, prints
`ready LOCAL_PORT`, and holds the connection until stdin closes (the
test's end) or 60 s pass, whichever comes first.
"""

import select
import sys

import amqplib.client_0_8 as amqp


def main():
    host, name = sys.argv[1], sys.argv[2]
    conn = amqp.Connection(
        host=host,
        userid="guest",
        password="guest",
        virtual_host="/",
        client_properties={"connection_name": name},
        connect_timeout=10,
    )
    port = conn.transport.sock.getsockname()[1]
    print("ready", port, flush=True)
    select.select([sys.stdin], [], [], 60)
    conn.close()


if __name__ == "__main__":
    main()
