
use builtin;
use str;

set edit:completion:arg-completer[amqpdoctor] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'amqpdoctor'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'amqpdoctor'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand probe 'Reproduce and classify connection deaths under the three heartbeat modes'
            cand heartbeat 'Show heartbeat negotiation against this broker and what each client library would do'
            cand check 'Smoke-check brokers for CI: every step timed, expectations, junit/markdown/prometheus'
            cand proxy 'A TCP proxy that behaves like a middlebox: kills idle flows (reset, drop or close), swallows heartbeats, logs frames'
            cand idle-timeout 'Find the idle timeout of the path to the broker: parallel idles, one round trip each'
            cand scan 'Every AMQP connection of the applications on this host, read passively from the kernel'
            cand audit 'The broker''s view of every client connection, from the RabbitMQ management API'
            cand logs 'Read RabbitMQ''s logs for who died, how and why'
            cand tls 'The TLS handshake only (no AMQP, no login): the chain as sent, what was negotiated, and which client families accept the certificate'
            cand serve 'A Prometheus exporter: this host''s connections (--scan), smoke checks (--check) and the broker''s view (--audit) as metrics, until SIGTERM'
            cand explain 'Explain an errno, an AMQP reply code, a client library, a verdict or a log line (offline)'
            cand completions 'Print a shell completion script to stdout'
            cand man 'Print the man page (roff) to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'amqpdoctor;probe'= {
            cand --connect-timeout 'Timeout for the TCP connect and for each handshake step [default: the URL''s connection_timeout=, else 5s]'
            cand --password-file 'Read the password from FILE (its first line) instead of the URL, so it is not in argv where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins'
            cand --cacert 'CA certificates to trust (PEM) [default: the URL''s cacertfile=, else the system''s roots]'
            cand --cert 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external'
            cand --key 'The client certificate''s private key (PEM)'
            cand --tls-server-name 'Verify the server''s certificate for NAME (and send it as SNI) instead of the URL''s host'
            cand --tls-as 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it'
            cand --idle 'How long each connection stays idle before publishing ("auto": 3T + 2 s, enough for a broker heartbeat timeout)'
            cand --mode 'Heartbeat modes to run, comma-separated'
            cand --heartbeat 'Heartbeat to request: whole seconds (e.g. 2s, 1m), 0 to disable, or "server" to accept the broker''s proposal [default: the URL''s heartbeat=, else server]'
            cand --interval 'Heartbeat to request: whole seconds (e.g. 2s, 1m), 0 to disable, or "server" to accept the broker''s proposal [default: the URL''s heartbeat=, else server]'
            cand --pump-every 'starved mode only: service the connection (read, answer with a heartbeat) every DUR, to show the remedy'
            cand --client 'Behave as this client library would here instead of running the modes: its rule and default negotiate the heartbeat against the broker''s proposal (--heartbeat is the application''s setting for it), then it starves, or reads and beats at its own cadence (pika-blocking@1.3, java, celery@5.4; `amqpdoctor explain --list` names them all). With --pump-every, an application that calls into a starving library every DUR'
            cand --publishes 'Messages to publish after the idle'
            cand --confirm-timeout 'How long to wait for publisher confirms after publishing'
            cand --exchange 'Publish to this exchange instead of the probe''s own temporary queue (touches user data)'
            cand --routing-key 'Routing key to publish with, together with --exchange'
            cand --hold 'With --consume: how long to hold the deliveries unacknowledged'
            cand --format 'Output format. json prints exactly one JSON document on stdout'
            cand --color 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb'
            cand --insecure 'Do not verify the server''s certificate (to diagnose only; every report says so)'
            cand --consume 'After publishing, consume the probe''s own messages without acknowledging them for --hold: reproduces a broker''s consumer acknowledgement timeout'
            cand --trace 'List every frame in the timeline, heartbeats included. (lapin''s frames in the serviced mode are not visible to amqpdoctor: its heartbeats are counted from TCP_INFO, not listed.)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'amqpdoctor;heartbeat'= {
            cand --connect-timeout 'Timeout for the TCP connect and for each handshake step [default: the URL''s connection_timeout=, else 5s]'
            cand --password-file 'Read the password from FILE (its first line) instead of the URL, so it is not in argv where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins'
            cand --cacert 'CA certificates to trust (PEM) [default: the URL''s cacertfile=, else the system''s roots]'
            cand --cert 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external'
            cand --key 'The client certificate''s private key (PEM)'
            cand --tls-server-name 'Verify the server''s certificate for NAME (and send it as SNI) instead of the URL''s host'
            cand --tls-as 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it'
            cand --interval 'Heartbeat to request: whole seconds (e.g. 30s), 0 to disable, or "server" to accept the broker''s proposal [default: the URL''s heartbeat=, else server]'
            cand --heartbeat 'Heartbeat to request: whole seconds (e.g. 30s), 0 to disable, or "server" to accept the broker''s proposal [default: the URL''s heartbeat=, else server]'
            cand --observe 'Keep the connection serviced this long and measure heartbeat cadence in both directions'
            cand --client 'Narrow the client-library table to one library, or one version of it with NAME@VERSION (pika, pika@0.13, amqplib@0.10; `amqpdoctor explain --list` names them all)'
            cand --format 'Output format. json prints exactly one JSON document on stdout'
            cand --color 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb'
            cand --insecure 'Do not verify the server''s certificate (to diagnose only; every report says so)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'amqpdoctor;check'= {
            cand --targets-file 'Read more target URLs from FILE: one per line; blank lines and `#` comments are skipped'
            cand --connect-timeout 'Timeout for each step (resolve, connect, each handshake step, each round trip) [default: each URL''s connection_timeout=, else 5s]'
            cand --password-file 'Read the password for every target from FILE (its first line), so it is not in argv. $AMQPDOCTOR_PASSWORD works too; this flag wins; both beat the URLs'' passwords'
            cand --cacert 'CA certificates to trust (PEM) [default: the URL''s cacertfile=, else the system''s roots]'
            cand --cert 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external'
            cand --key 'The client certificate''s private key (PEM)'
            cand --tls-server-name 'Verify the server''s certificate for NAME (and send it as SNI) instead of the URL''s host'
            cand --tls-as 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it'
            cand --heartbeat 'Heartbeat to request: whole seconds, 0 to disable, or "server" to accept the broker''s proposal (what --expect-heartbeat then sees) [default: each URL''s heartbeat=, else server]'
            cand --interval 'Heartbeat to request: whole seconds, 0 to disable, or "server" to accept the broker''s proposal (what --expect-heartbeat then sees) [default: each URL''s heartbeat=, else server]'
            cand --expect-heartbeat 'Fail unless the negotiated heartbeat is in RANGE: 10s..60s, 10s.. (at least), ..60s, or one value. Catches a broker or policy that disables heartbeats (0)'
            cand --max-connect 'Fail when the TCP connect takes longer than DUR'
            cand --max-handshake 'Fail when the AMQP handshake (protocol header to Connection.Open-Ok) takes longer than DUR'
            cand --max-roundtrip 'Fail when publish → confirm → get takes longer than DUR'
            cand --expect-server 'Fail unless the server is this product and/or version: ''RabbitMQ >=3.12'', ''RabbitMQ'', ''>=3.12, <5'' (a semver requirement; the product is compared without case)'
            cand --expect-tls-accepted-by 'Fail a target whose TLS certificate a named client family would refuse (openssl, java, dotnet, go, rustls; comma-separated), though the run itself follows --tls-as'
            cand --exchange 'Publish through this exchange (it must exist): the check binds its own queue to it with the routing key, so messages may also reach user queues bound with that key'
            cand --routing-key 'Routing key for --exchange (default: the check''s queue name, which no user queue is bound with)'
            cand --format 'Output format'
            cand --junit 'Also write the JUnit XML report to FILE (e.g. markdown to the job summary and JUnit for the test report, from one check)'
            cand --color 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb'
            cand --insecure 'Do not verify the server''s certificate (to diagnose only; every report says so)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'amqpdoctor;proxy'= {
            cand --listen 'Address to listen on'
            cand --upstream 'The broker to forward to'
            cand --idle-timeout 'Act on a connection after DUR without a byte in either direction (default: never)'
            cand --on-idle 'What to do to an idle connection'
            cand --drop-heartbeats 'Swallow heartbeat frames (08 00 00 00 00 00 00 CE) in this direction; forward the rest'
            cand --connect-timeout 'Timeout for connecting to the upstream'
            cand --log-frames 'Print every AMQP frame forwarded, with time, connection, direction, channel and method'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'amqpdoctor;idle-timeout'= {
            cand --connect-timeout 'Timeout for the TCP connect and for each handshake step [default: the URL''s connection_timeout=, else 5s]'
            cand --password-file 'Read the password from FILE (its first line) instead of the URL, so it is not in argv where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins'
            cand --cacert 'CA certificates to trust (PEM) [default: the URL''s cacertfile=, else the system''s roots]'
            cand --cert 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external'
            cand --key 'The client certificate''s private key (PEM)'
            cand --tls-server-name 'Verify the server''s certificate for NAME (and send it as SNI) instead of the URL''s host'
            cand --tls-as 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it'
            cand --max 'The longest idle to try: the discovery takes about this long. The default covers the common cloud load balancers and NAT gateways (Azure 4 min, AWS 350 s)'
            cand --min 'The shortest idle to try (default: --max / 32, at least 1 s)'
            cand --probes 'How many connections, each idling for its own duration (more: a tighter bracket)'
            cand --format 'Output format. json prints exactly one JSON document on stdout'
            cand --color 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb'
            cand --insecure 'Do not verify the server''s certificate (to diagnose only; every report says so)'
            cand --wait-all 'Idle every connection to its end, even after a shorter idle already died (slower; shows whether the path is a simple idle timer)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'amqpdoctor;scan'= {
            cand --port 'Peer ports that mark a socket as AMQP, comma-separated'
            cand --pid 'Only this process''s sockets (any peer port)'
            cand --watch 'Sample every 250 ms for DUR and classify each connection from what its bytes show'
            cand --max-heartbeat 'The largest heartbeat expected on this host: a connection silent both ways for more than half of it is taken to have heartbeats off'
            cand --format 'Output format. json prints exactly one JSON document on stdout'
            cand --color 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'amqpdoctor;audit'= {
            cand --management 'The management API (http or https; user:password@ in it, else guest/guest). The password is never printed'
            cand --password-file 'Read the management password from FILE (its first line) instead of the URL'
            cand --timeout 'Timeout for each HTTP request'
            cand --join 'Match `amqpdoctor scan --format json` output (taken on the application host) by address pair, and say per connection which side stopped talking first'
            cand --format 'Output format'
            cand --color 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'amqpdoctor;logs'= {
            cand --since 'Only records at or after WHEN: a time (2026-12-04 17:45, 2026-12-04T17:45:11Z) or an age (1h, 30m: that long ago)'
            cand --until 'Only records at or before WHEN (a time or an age, as --since)'
            cand --peer 'Only connections of this peer: a host, host:port, or a client-provided connection name'
            cand --format 'Output format. json prints one JSON document (with --follow, one JSON object per line: each death, then the summary)'
            cand --color 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb'
            cand --follow 'Keep reading as the files grow (across rotation, like tail -F), from their end: one line per death as it happens; Ctrl-C prints the summary (exit 130)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'amqpdoctor;tls'= {
            cand --connect-timeout 'Timeout for the TCP connect and for each handshake step [default: the URL''s connection_timeout=, else 5s]'
            cand --password-file 'Read the password from FILE (its first line) instead of the URL, so it is not in argv where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins'
            cand --cacert 'CA certificates to trust (PEM) [default: the URL''s cacertfile=, else the system''s roots]'
            cand --cert 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external'
            cand --key 'The client certificate''s private key (PEM)'
            cand --tls-server-name 'Verify the server''s certificate for NAME (and send it as SNI) instead of the URL''s host'
            cand --tls-as 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it'
            cand --expect-accepted-by 'Exit 1 when a named client family refuses the certificate (openssl, java, dotnet, go, rustls; comma-separated)'
            cand --format 'format'
            cand --color 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb'
            cand --insecure 'Do not verify the server''s certificate (to diagnose only; every report says so)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'amqpdoctor;serve'= {
            cand --listen 'Address to serve /metrics, /healthz and / on. Loopback by default; any other address is said on stderr. Port 0 picks a free port (the address bound is said on stderr)'
            cand --port 'With --scan: peer ports that mark a socket as AMQP, comma-separated'
            cand --max-heartbeat 'With --scan: the largest heartbeat expected on this host (a connection silent both ways for more than half of it has heartbeats off)'
            cand --max-connection-series 'With --scan: per-connection series for at most N connections (starving, dead and heartbeat-less ones first); the rest are only in the aggregates, and counted'
            cand --check 'Smoke-check these broker URLs (as `check` does) every --check-every'
            cand --targets-file 'Read more check URLs from FILE: one per line; blank lines and `#` comments are skipped'
            cand --check-every 'How often to check the --check targets'
            cand --connect-timeout 'Timeout for each step of a check [default: each URL''s connection_timeout=, else 5s]'
            cand --heartbeat 'Heartbeat the checks request: whole seconds, 0, or "server" [default: each URL''s heartbeat=, else server]'
            cand --password-file 'Read the password for every check target from FILE (its first line), not argv'
            cand --cacert 'CA certificates to trust (PEM) [default: the URL''s cacertfile=, else the system''s roots]'
            cand --cert 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external'
            cand --key 'The client certificate''s private key (PEM)'
            cand --tls-server-name 'Verify the server''s certificate for NAME (and send it as SNI) instead of the URL''s host'
            cand --tls-as 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it'
            cand --audit 'Read the RabbitMQ management API at URL (as `audit` does) every --audit-every: the broker''s view of every connection, counted by client library and flag'
            cand --audit-every 'How often to read the management API'
            cand --audit-timeout 'Timeout for each management API request'
            cand --audit-password-file 'Read the management API''s password from FILE (its first line), not argv'
            cand --logs 'Follow the broker''s log FILE (or a directory of logs), as `logs --follow` reads it, and count connection ends by cause and peer host (repeatable)'
            cand --bearer-token-file 'Require `Authorization: Bearer TOKEN` on / and /metrics, TOKEN being the first line of FILE (/healthz stays open for liveness probes)'
            cand --basic-auth-file 'Require HTTP basic auth on / and /metrics, with the `user:password` of FILE''s first line (with --bearer-token-file, either is accepted; /healthz stays open)'
            cand --scan 'Collect this host''s AMQP connections, as `scan --watch` does, continuously (a reading every 250 ms): classification, inferred heartbeat, silence each way, deaths'
            cand --insecure 'Do not verify the server''s certificate (to diagnose only; every report says so)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'amqpdoctor;explain'= {
            cand --format 'Output format. json prints exactly one JSON document on stdout'
            cand --color 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb'
            cand --list 'List every topic explain knows instead, grouped: errno names, reply codes, client libraries, verdict codes, concepts, EOF and the log lines it recognises'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'amqpdoctor;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'amqpdoctor;man'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'amqpdoctor;help'= {
            cand probe 'Reproduce and classify connection deaths under the three heartbeat modes'
            cand heartbeat 'Show heartbeat negotiation against this broker and what each client library would do'
            cand check 'Smoke-check brokers for CI: every step timed, expectations, junit/markdown/prometheus'
            cand proxy 'A TCP proxy that behaves like a middlebox: kills idle flows (reset, drop or close), swallows heartbeats, logs frames'
            cand idle-timeout 'Find the idle timeout of the path to the broker: parallel idles, one round trip each'
            cand scan 'Every AMQP connection of the applications on this host, read passively from the kernel'
            cand audit 'The broker''s view of every client connection, from the RabbitMQ management API'
            cand logs 'Read RabbitMQ''s logs for who died, how and why'
            cand tls 'The TLS handshake only (no AMQP, no login): the chain as sent, what was negotiated, and which client families accept the certificate'
            cand serve 'A Prometheus exporter: this host''s connections (--scan), smoke checks (--check) and the broker''s view (--audit) as metrics, until SIGTERM'
            cand explain 'Explain an errno, an AMQP reply code, a client library, a verdict or a log line (offline)'
            cand completions 'Print a shell completion script to stdout'
            cand man 'Print the man page (roff) to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'amqpdoctor;help;probe'= {
        }
        &'amqpdoctor;help;heartbeat'= {
        }
        &'amqpdoctor;help;check'= {
        }
        &'amqpdoctor;help;proxy'= {
        }
        &'amqpdoctor;help;idle-timeout'= {
        }
        &'amqpdoctor;help;scan'= {
        }
        &'amqpdoctor;help;audit'= {
        }
        &'amqpdoctor;help;logs'= {
        }
        &'amqpdoctor;help;tls'= {
        }
        &'amqpdoctor;help;serve'= {
        }
        &'amqpdoctor;help;explain'= {
        }
        &'amqpdoctor;help;completions'= {
        }
        &'amqpdoctor;help;man'= {
        }
        &'amqpdoctor;help;help'= {
        }
    ]
    $completions[$command]
}
