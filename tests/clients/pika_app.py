"""A real client application for scan's and audit's tests: pika's
BlockingConnection, as a web app uses it.

    pika_app.py URL MODE HEARTBEAT NAME

MODE:
  starving  publish once, then sleep: the classic publish-only web app that
            never pumps the connection, so pika sends no heartbeats
  serviced  publish once, then call process_data_events every second, which
            sends pika's heartbeats
  off       heartbeat 0 (pass HEARTBEAT 0), publish once, then sleep

Prints "ready LOCAL_PORT" once it has published, then runs until killed
(a serviced app that the broker drops prints "dropped: ..." and exits 0;
a starving or heartbeat-0 app never looks, like the web app it imitates). The message goes to
the default exchange with a routing key no queue is bound to: it is
dropped by the broker, nothing is left behind.
"""

import sys
import time

import pika

url, mode, heartbeat, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
params = pika.URLParameters(url)
params.heartbeat = heartbeat
params.client_properties = {"connection_name": name}
conn = pika.BlockingConnection(params)
ch = conn.channel()
ch.basic_publish(exchange="", routing_key="amqpdoctor.test.nowhere", body=b"hello")
sock = conn._impl._transport._sock
print("ready", sock.getsockname()[1], flush=True)
try:
    while True:
        if mode == "serviced":
            conn.process_data_events(time_limit=1)
        else:
            time.sleep(1)
except Exception as e:  # the broker dropped us
    print("dropped:", type(e).__name__, e, flush=True)
