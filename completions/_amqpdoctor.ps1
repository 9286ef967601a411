
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'amqpdoctor' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'amqpdoctor'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'amqpdoctor' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Reproduce and classify connection deaths under the three heartbeat modes')
            [CompletionResult]::new('heartbeat', 'heartbeat', [CompletionResultType]::ParameterValue, 'Show heartbeat negotiation against this broker and what each client library would do')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Smoke-check brokers for CI: every step timed, expectations, junit/markdown/prometheus')
            [CompletionResult]::new('proxy', 'proxy', [CompletionResultType]::ParameterValue, 'A TCP proxy that behaves like a middlebox: kills idle flows (reset, drop or close), swallows heartbeats, logs frames')
            [CompletionResult]::new('idle-timeout', 'idle-timeout', [CompletionResultType]::ParameterValue, 'Find the idle timeout of the path to the broker: parallel idles, one round trip each')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Every AMQP connection of the applications on this host, read passively from the kernel')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'The broker''s view of every client connection, from the RabbitMQ management API')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Read RabbitMQ''s logs for who died, how and why')
            [CompletionResult]::new('tls', 'tls', [CompletionResultType]::ParameterValue, 'The TLS handshake only (no AMQP, no login): the chain as sent, what was negotiated, and which client families accept the certificate')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'A Prometheus exporter: this host''s connections (--scan), smoke checks (--check) and the broker''s view (--audit) as metrics, until SIGTERM')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Explain an errno, an AMQP reply code, a client library, a verdict or a log line (offline)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff) to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'amqpdoctor;probe' {
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Timeout for the TCP connect and for each handshake step [default: the URL''s connection_timeout=, else 5s]')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from FILE (its first line) instead of the URL, so it is not in argv where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'CA certificates to trust (PEM) [default: the URL''s cacertfile=, else the system''s roots]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (PEM)')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'Verify the server''s certificate for NAME (and send it as SNI) instead of the URL''s host')
            [CompletionResult]::new('--tls-as', '--tls-as', [CompletionResultType]::ParameterName, 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it')
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'How long each connection stays idle before publishing ("auto": 3T + 2 s, enough for a broker heartbeat timeout)')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'Heartbeat modes to run, comma-separated')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Heartbeat to request: whole seconds (e.g. 2s, 1m), 0 to disable, or "server" to accept the broker''s proposal [default: the URL''s heartbeat=, else server]')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Heartbeat to request: whole seconds (e.g. 2s, 1m), 0 to disable, or "server" to accept the broker''s proposal [default: the URL''s heartbeat=, else server]')
            [CompletionResult]::new('--pump-every', '--pump-every', [CompletionResultType]::ParameterName, 'starved mode only: service the connection (read, answer with a heartbeat) every DUR, to show the remedy')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Behave as this client library would here instead of running the modes: its rule and default negotiate the heartbeat against the broker''s proposal (--heartbeat is the application''s setting for it), then it starves, or reads and beats at its own cadence (pika-blocking@1.3, java, celery@5.4; `amqpdoctor explain --list` names them all). With --pump-every, an application that calls into a starving library every DUR')
            [CompletionResult]::new('--publishes', '--publishes', [CompletionResultType]::ParameterName, 'Messages to publish after the idle')
            [CompletionResult]::new('--confirm-timeout', '--confirm-timeout', [CompletionResultType]::ParameterName, 'How long to wait for publisher confirms after publishing')
            [CompletionResult]::new('--exchange', '--exchange', [CompletionResultType]::ParameterName, 'Publish to this exchange instead of the probe''s own temporary queue (touches user data)')
            [CompletionResult]::new('--routing-key', '--routing-key', [CompletionResultType]::ParameterName, 'Routing key to publish with, together with --exchange')
            [CompletionResult]::new('--hold', '--hold', [CompletionResultType]::ParameterName, 'With --consume: how long to hold the deliveries unacknowledged')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format. json prints exactly one JSON document on stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the server''s certificate (to diagnose only; every report says so)')
            [CompletionResult]::new('--consume', '--consume', [CompletionResultType]::ParameterName, 'After publishing, consume the probe''s own messages without acknowledging them for --hold: reproduces a broker''s consumer acknowledgement timeout')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'List every frame in the timeline, heartbeats included. (lapin''s frames in the serviced mode are not visible to amqpdoctor: its heartbeats are counted from TCP_INFO, not listed.)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'amqpdoctor;heartbeat' {
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Timeout for the TCP connect and for each handshake step [default: the URL''s connection_timeout=, else 5s]')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from FILE (its first line) instead of the URL, so it is not in argv where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'CA certificates to trust (PEM) [default: the URL''s cacertfile=, else the system''s roots]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (PEM)')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'Verify the server''s certificate for NAME (and send it as SNI) instead of the URL''s host')
            [CompletionResult]::new('--tls-as', '--tls-as', [CompletionResultType]::ParameterName, 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Heartbeat to request: whole seconds (e.g. 30s), 0 to disable, or "server" to accept the broker''s proposal [default: the URL''s heartbeat=, else server]')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Heartbeat to request: whole seconds (e.g. 30s), 0 to disable, or "server" to accept the broker''s proposal [default: the URL''s heartbeat=, else server]')
            [CompletionResult]::new('--observe', '--observe', [CompletionResultType]::ParameterName, 'Keep the connection serviced this long and measure heartbeat cadence in both directions')
            [CompletionResult]::new('--client', '--client', [CompletionResultType]::ParameterName, 'Narrow the client-library table to one library, or one version of it with NAME@VERSION (pika, pika@0.13, amqplib@0.10; `amqpdoctor explain --list` names them all)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format. json prints exactly one JSON document on stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the server''s certificate (to diagnose only; every report says so)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'amqpdoctor;check' {
            [CompletionResult]::new('--targets-file', '--targets-file', [CompletionResultType]::ParameterName, 'Read more target URLs from FILE: one per line; blank lines and `#` comments are skipped')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Timeout for each step (resolve, connect, each handshake step, each round trip) [default: each URL''s connection_timeout=, else 5s]')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password for every target from FILE (its first line), so it is not in argv. $AMQPDOCTOR_PASSWORD works too; this flag wins; both beat the URLs'' passwords')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'CA certificates to trust (PEM) [default: the URL''s cacertfile=, else the system''s roots]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (PEM)')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'Verify the server''s certificate for NAME (and send it as SNI) instead of the URL''s host')
            [CompletionResult]::new('--tls-as', '--tls-as', [CompletionResultType]::ParameterName, 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Heartbeat to request: whole seconds, 0 to disable, or "server" to accept the broker''s proposal (what --expect-heartbeat then sees) [default: each URL''s heartbeat=, else server]')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Heartbeat to request: whole seconds, 0 to disable, or "server" to accept the broker''s proposal (what --expect-heartbeat then sees) [default: each URL''s heartbeat=, else server]')
            [CompletionResult]::new('--expect-heartbeat', '--expect-heartbeat', [CompletionResultType]::ParameterName, 'Fail unless the negotiated heartbeat is in RANGE: 10s..60s, 10s.. (at least), ..60s, or one value. Catches a broker or policy that disables heartbeats (0)')
            [CompletionResult]::new('--max-connect', '--max-connect', [CompletionResultType]::ParameterName, 'Fail when the TCP connect takes longer than DUR')
            [CompletionResult]::new('--max-handshake', '--max-handshake', [CompletionResultType]::ParameterName, 'Fail when the AMQP handshake (protocol header to Connection.Open-Ok) takes longer than DUR')
            [CompletionResult]::new('--max-roundtrip', '--max-roundtrip', [CompletionResultType]::ParameterName, 'Fail when publish → confirm → get takes longer than DUR')
            [CompletionResult]::new('--expect-server', '--expect-server', [CompletionResultType]::ParameterName, 'Fail unless the server is this product and/or version: ''RabbitMQ >=3.12'', ''RabbitMQ'', ''>=3.12, <5'' (a semver requirement; the product is compared without case)')
            [CompletionResult]::new('--expect-tls-accepted-by', '--expect-tls-accepted-by', [CompletionResultType]::ParameterName, 'Fail a target whose TLS certificate a named client family would refuse (openssl, java, dotnet, go, rustls; comma-separated), though the run itself follows --tls-as')
            [CompletionResult]::new('--exchange', '--exchange', [CompletionResultType]::ParameterName, 'Publish through this exchange (it must exist): the check binds its own queue to it with the routing key, so messages may also reach user queues bound with that key')
            [CompletionResult]::new('--routing-key', '--routing-key', [CompletionResultType]::ParameterName, 'Routing key for --exchange (default: the check''s queue name, which no user queue is bound with)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'Also write the JUnit XML report to FILE (e.g. markdown to the job summary and JUnit for the test report, from one check)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the server''s certificate (to diagnose only; every report says so)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'amqpdoctor;proxy' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on')
            [CompletionResult]::new('--upstream', '--upstream', [CompletionResultType]::ParameterName, 'The broker to forward to')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Act on a connection after DUR without a byte in either direction (default: never)')
            [CompletionResult]::new('--on-idle', '--on-idle', [CompletionResultType]::ParameterName, 'What to do to an idle connection')
            [CompletionResult]::new('--drop-heartbeats', '--drop-heartbeats', [CompletionResultType]::ParameterName, 'Swallow heartbeat frames (08 00 00 00 00 00 00 CE) in this direction; forward the rest')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Timeout for connecting to the upstream')
            [CompletionResult]::new('--log-frames', '--log-frames', [CompletionResultType]::ParameterName, 'Print every AMQP frame forwarded, with time, connection, direction, channel and method')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'amqpdoctor;idle-timeout' {
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Timeout for the TCP connect and for each handshake step [default: the URL''s connection_timeout=, else 5s]')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from FILE (its first line) instead of the URL, so it is not in argv where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'CA certificates to trust (PEM) [default: the URL''s cacertfile=, else the system''s roots]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (PEM)')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'Verify the server''s certificate for NAME (and send it as SNI) instead of the URL''s host')
            [CompletionResult]::new('--tls-as', '--tls-as', [CompletionResultType]::ParameterName, 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it')
            [CompletionResult]::new('--max', '--max', [CompletionResultType]::ParameterName, 'The longest idle to try: the discovery takes about this long. The default covers the common cloud load balancers and NAT gateways (Azure 4 min, AWS 350 s)')
            [CompletionResult]::new('--min', '--min', [CompletionResultType]::ParameterName, 'The shortest idle to try (default: --max / 32, at least 1 s)')
            [CompletionResult]::new('--probes', '--probes', [CompletionResultType]::ParameterName, 'How many connections, each idling for its own duration (more: a tighter bracket)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format. json prints exactly one JSON document on stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the server''s certificate (to diagnose only; every report says so)')
            [CompletionResult]::new('--wait-all', '--wait-all', [CompletionResultType]::ParameterName, 'Idle every connection to its end, even after a shorter idle already died (slower; shows whether the path is a simple idle timer)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'amqpdoctor;scan' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Peer ports that mark a socket as AMQP, comma-separated')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'Only this process''s sockets (any peer port)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Sample every 250 ms for DUR and classify each connection from what its bytes show')
            [CompletionResult]::new('--max-heartbeat', '--max-heartbeat', [CompletionResultType]::ParameterName, 'The largest heartbeat expected on this host: a connection silent both ways for more than half of it is taken to have heartbeats off')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format. json prints exactly one JSON document on stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'amqpdoctor;audit' {
            [CompletionResult]::new('--management', '--management', [CompletionResultType]::ParameterName, 'The management API (http or https; user:password@ in it, else guest/guest). The password is never printed')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the management password from FILE (its first line) instead of the URL')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout for each HTTP request')
            [CompletionResult]::new('--join', '--join', [CompletionResultType]::ParameterName, 'Match `amqpdoctor scan --format json` output (taken on the application host) by address pair, and say per connection which side stopped talking first')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'amqpdoctor;logs' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only records at or after WHEN: a time (2026-12-04 17:45, 2026-12-04T17:45:11Z) or an age (1h, 30m: that long ago)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only records at or before WHEN (a time or an age, as --since)')
            [CompletionResult]::new('--peer', '--peer', [CompletionResultType]::ParameterName, 'Only connections of this peer: a host, host:port, or a client-provided connection name')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format. json prints one JSON document (with --follow, one JSON object per line: each death, then the summary)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep reading as the files grow (across rotation, like tail -F), from their end: one line per death as it happens; Ctrl-C prints the summary (exit 130)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'amqpdoctor;tls' {
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Timeout for the TCP connect and for each handshake step [default: the URL''s connection_timeout=, else 5s]')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from FILE (its first line) instead of the URL, so it is not in argv where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'CA certificates to trust (PEM) [default: the URL''s cacertfile=, else the system''s roots]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (PEM)')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'Verify the server''s certificate for NAME (and send it as SNI) instead of the URL''s host')
            [CompletionResult]::new('--tls-as', '--tls-as', [CompletionResultType]::ParameterName, 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it')
            [CompletionResult]::new('--expect-accepted-by', '--expect-accepted-by', [CompletionResultType]::ParameterName, 'Exit 1 when a named client family refuses the certificate (openssl, java, dotnet, go, rustls; comma-separated)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the server''s certificate (to diagnose only; every report says so)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'amqpdoctor;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to serve /metrics, /healthz and / on. Loopback by default; any other address is said on stderr. Port 0 picks a free port (the address bound is said on stderr)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'With --scan: peer ports that mark a socket as AMQP, comma-separated')
            [CompletionResult]::new('--max-heartbeat', '--max-heartbeat', [CompletionResultType]::ParameterName, 'With --scan: the largest heartbeat expected on this host (a connection silent both ways for more than half of it has heartbeats off)')
            [CompletionResult]::new('--max-connection-series', '--max-connection-series', [CompletionResultType]::ParameterName, 'With --scan: per-connection series for at most N connections (starving, dead and heartbeat-less ones first); the rest are only in the aggregates, and counted')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Smoke-check these broker URLs (as `check` does) every --check-every')
            [CompletionResult]::new('--targets-file', '--targets-file', [CompletionResultType]::ParameterName, 'Read more check URLs from FILE: one per line; blank lines and `#` comments are skipped')
            [CompletionResult]::new('--check-every', '--check-every', [CompletionResultType]::ParameterName, 'How often to check the --check targets')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Timeout for each step of a check [default: each URL''s connection_timeout=, else 5s]')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Heartbeat the checks request: whole seconds, 0, or "server" [default: each URL''s heartbeat=, else server]')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password for every check target from FILE (its first line), not argv')
            [CompletionResult]::new('--cacert', '--cacert', [CompletionResultType]::ParameterName, 'CA certificates to trust (PEM) [default: the URL''s cacertfile=, else the system''s roots]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (PEM)')
            [CompletionResult]::new('--tls-server-name', '--tls-server-name', [CompletionResultType]::ParameterName, 'Verify the server''s certificate for NAME (and send it as SNI) instead of the URL''s host')
            [CompletionResult]::new('--tls-as', '--tls-as', [CompletionResultType]::ParameterName, 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it')
            [CompletionResult]::new('--audit', '--audit', [CompletionResultType]::ParameterName, 'Read the RabbitMQ management API at URL (as `audit` does) every --audit-every: the broker''s view of every connection, counted by client library and flag')
            [CompletionResult]::new('--audit-every', '--audit-every', [CompletionResultType]::ParameterName, 'How often to read the management API')
            [CompletionResult]::new('--audit-timeout', '--audit-timeout', [CompletionResultType]::ParameterName, 'Timeout for each management API request')
            [CompletionResult]::new('--audit-password-file', '--audit-password-file', [CompletionResultType]::ParameterName, 'Read the management API''s password from FILE (its first line), not argv')
            [CompletionResult]::new('--logs', '--logs', [CompletionResultType]::ParameterName, 'Follow the broker''s log FILE (or a directory of logs), as `logs --follow` reads it, and count connection ends by cause and peer host (repeatable)')
            [CompletionResult]::new('--bearer-token-file', '--bearer-token-file', [CompletionResultType]::ParameterName, 'Require `Authorization: Bearer TOKEN` on / and /metrics, TOKEN being the first line of FILE (/healthz stays open for liveness probes)')
            [CompletionResult]::new('--basic-auth-file', '--basic-auth-file', [CompletionResultType]::ParameterName, 'Require HTTP basic auth on / and /metrics, with the `user:password` of FILE''s first line (with --bearer-token-file, either is accepted; /healthz stays open)')
            [CompletionResult]::new('--scan', '--scan', [CompletionResultType]::ParameterName, 'Collect this host''s AMQP connections, as `scan --watch` does, continuously (a reading every 250 ms): classification, inferred heartbeat, silence each way, deaths')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the server''s certificate (to diagnose only; every report says so)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'amqpdoctor;explain' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format. json prints exactly one JSON document on stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'List every topic explain knows instead, grouped: errno names, reply codes, client libraries, verdict codes, concepts, EOF and the log lines it recognises')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'amqpdoctor;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'amqpdoctor;man' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'amqpdoctor;help' {
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Reproduce and classify connection deaths under the three heartbeat modes')
            [CompletionResult]::new('heartbeat', 'heartbeat', [CompletionResultType]::ParameterValue, 'Show heartbeat negotiation against this broker and what each client library would do')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Smoke-check brokers for CI: every step timed, expectations, junit/markdown/prometheus')
            [CompletionResult]::new('proxy', 'proxy', [CompletionResultType]::ParameterValue, 'A TCP proxy that behaves like a middlebox: kills idle flows (reset, drop or close), swallows heartbeats, logs frames')
            [CompletionResult]::new('idle-timeout', 'idle-timeout', [CompletionResultType]::ParameterValue, 'Find the idle timeout of the path to the broker: parallel idles, one round trip each')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Every AMQP connection of the applications on this host, read passively from the kernel')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'The broker''s view of every client connection, from the RabbitMQ management API')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Read RabbitMQ''s logs for who died, how and why')
            [CompletionResult]::new('tls', 'tls', [CompletionResultType]::ParameterValue, 'The TLS handshake only (no AMQP, no login): the chain as sent, what was negotiated, and which client families accept the certificate')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'A Prometheus exporter: this host''s connections (--scan), smoke checks (--check) and the broker''s view (--audit) as metrics, until SIGTERM')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Explain an errno, an AMQP reply code, a client library, a verdict or a log line (offline)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script to stdout')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff) to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'amqpdoctor;help;probe' {
            break
        }
        'amqpdoctor;help;heartbeat' {
            break
        }
        'amqpdoctor;help;check' {
            break
        }
        'amqpdoctor;help;proxy' {
            break
        }
        'amqpdoctor;help;idle-timeout' {
            break
        }
        'amqpdoctor;help;scan' {
            break
        }
        'amqpdoctor;help;audit' {
            break
        }
        'amqpdoctor;help;logs' {
            break
        }
        'amqpdoctor;help;tls' {
            break
        }
        'amqpdoctor;help;serve' {
            break
        }
        'amqpdoctor;help;explain' {
            break
        }
        'amqpdoctor;help;completions' {
            break
        }
        'amqpdoctor;help;man' {
            break
        }
        'amqpdoctor;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
