"""pika as an application uses it, for tests/probe_client.rs: connect
with a heartbeat, idle, then publish once, and say what happened.

    pika_idle_publish.py URL ADAPTER HEARTBEAT IDLE_SECONDS

ADAPTER:
  blocking  BlockingConnection, idling in time.sleep() without calling into
            pika: the publish-only application whose heartbeats starve
  pumped    BlockingConnection whose application calls
            process_data_events(time_limit=0.5) through the idle: pika's remedy
  select    SelectConnection: the idle is a timer on pika's own I/O loop,
            which keeps sending heartbeats meanwhile

Prints one JSON line: the heartbeat pika negotiated, and the publish's
outcome ("ok", or "failed" with the exception's class and text). The
message goes to the default exchange with a routing key no queue is bound
to: the broker drops it, nothing is left behind.
"""

import json
import sys
import time

import pika

url, adapter, heartbeat, idle = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
params = pika.URLParameters(url)
params.heartbeat = heartbeat
params.client_properties = {"connection_name": "amqpdoctor-test-pika-" + adapter}
ROUTING_KEY = "amqpdoctor.test.nowhere"
result = {}


def failed(e):
    result.update(publish="failed", error=type(e).__name__, message=str(e))


def blocking(pumped=False):
    conn = pika.BlockingConnection(params)
    ch = conn.channel()
    result["negotiated_heartbeat_s"] = conn._impl.params.heartbeat
    if pumped:
        end = time.monotonic() + idle
        while time.monotonic() < end:
            conn.process_data_events(time_limit=0.5)
    else:
        time.sleep(idle)  # the application does other work; pika is not called
    try:
        ch.basic_publish(exchange="", routing_key=ROUTING_KEY, body=b"hello")
        conn.process_data_events(time_limit=0)
        result["publish"] = "ok"
        conn.close()
    except Exception as e:  # what the application sees
        failed(e)


def select():
    def on_open(conn):
        conn.channel(on_open_callback=on_channel)

    def on_channel(ch):
        result["negotiated_heartbeat_s"] = conn.params.heartbeat
        conn.ioloop.call_later(idle, lambda: publish(ch))

    def publish(ch):
        try:
            ch.basic_publish(exchange="", routing_key=ROUTING_KEY, body=b"hello")
            result["publish"] = "ok"
        except Exception as e:
            failed(e)
        conn.close()

    def on_close(_conn, reason):
        if "publish" not in result:  # dropped before the publish
            failed(reason)
        conn.ioloop.stop()

    conn = pika.SelectConnection(
        params,
        on_open_callback=on_open,
        on_open_error_callback=lambda _c, e: (failed(e), conn.ioloop.stop()),
        on_close_callback=on_close,
    )
    conn.ioloop.start()


{"blocking": blocking, "pumped": lambda: blocking(pumped=True), "select": select}[adapter]()
print(json.dumps(result), flush=True)
