# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_amqpdoctor_global_optspecs
    string join \n h/help V/version
end

function __fish_amqpdoctor_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_amqpdoctor_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_amqpdoctor_using_subcommand
    set -l cmd (__fish_amqpdoctor_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -s V -l version -d 'Print version'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -f -a "probe" -d 'Reproduce and classify connection deaths under the three heartbeat modes'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -f -a "heartbeat" -d 'Show heartbeat negotiation against this broker and what each client library would do'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -f -a "check" -d 'Smoke-check brokers for CI: every step timed, expectations, junit/markdown/prometheus'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -f -a "proxy" -d 'A TCP proxy that behaves like a middlebox: kills idle flows (reset, drop or close), swallows heartbeats, logs frames'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -f -a "idle-timeout" -d 'Find the idle timeout of the path to the broker: parallel idles, one round trip each'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -f -a "scan" -d 'Every AMQP connection of the applications on this host, read passively from the kernel'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -f -a "audit" -d 'The broker\'s view of every client connection, from the RabbitMQ management API'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -f -a "logs" -d 'Read RabbitMQ\'s logs for who died, how and why'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -f -a "tls" -d 'The TLS handshake only (no AMQP, no login): the chain as sent, what was negotiated, and which client families accept the certificate'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -f -a "serve" -d 'A Prometheus exporter: this host\'s connections (--scan), smoke checks (--check) and the broker\'s view (--audit) as metrics, until SIGTERM'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -f -a "explain" -d 'Explain an errno, an AMQP reply code, a client library, a verdict or a log line (offline)'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -f -a "man" -d 'Print the man page (roff) to stdout'
complete -c amqpdoctor -n "__fish_amqpdoctor_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l connect-timeout -d 'Timeout for the TCP connect and for each handshake step [default: the URL\'s connection_timeout=, else 5s]' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l password-file -d 'Read the password from FILE (its first line) instead of the URL, so it is not in argv where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l cacert -d 'CA certificates to trust (PEM) [default: the URL\'s cacertfile=, else the system\'s roots]' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l cert -d 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l key -d 'The client certificate\'s private key (PEM)' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l tls-server-name -d 'Verify the server\'s certificate for NAME (and send it as SNI) instead of the URL\'s host' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l tls-as -d 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l idle -d 'How long each connection stays idle before publishing ("auto": 3T + 2 s, enough for a broker heartbeat timeout)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l mode -d 'Heartbeat modes to run, comma-separated' -r -f -a "serviced\t'lapin: a real async client whose own I/O task sends heartbeats'
starved\t'Heartbeat agreed, then never serviced: no heartbeats sent, nothing read'
disabled\t'Heartbeat turned off in Tune-Ok (0)'
all\t'All three, concurrently'"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l heartbeat -l interval -d 'Heartbeat to request: whole seconds (e.g. 2s, 1m), 0 to disable, or "server" to accept the broker\'s proposal [default: the URL\'s heartbeat=, else server]' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l pump-every -d 'starved mode only: service the connection (read, answer with a heartbeat) every DUR, to show the remedy' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l client -d 'Behave as this client library would here instead of running the modes: its rule and default negotiate the heartbeat against the broker\'s proposal (--heartbeat is the application\'s setting for it), then it starves, or reads and beats at its own cadence (pika-blocking@1.3, java, celery@5.4; `amqpdoctor explain --list` names them all). With --pump-every, an application that calls into a starving library every DUR' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l publishes -d 'Messages to publish after the idle' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l confirm-timeout -d 'How long to wait for publisher confirms after publishing' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l exchange -d 'Publish to this exchange instead of the probe\'s own temporary queue (touches user data)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l routing-key -d 'Routing key to publish with, together with --exchange' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l hold -d 'With --consume: how long to hold the deliveries unacknowledged' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l format -d 'Output format. json prints exactly one JSON document on stdout' -r -f -a "human\t''
json\t''
junit\t'JUnit XML: one test case per mode'
markdown\t'A Markdown table, e.g. for a GitHub job summary'"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l color -d 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb' -r -f -a "auto\t''
always\t''
never\t''"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l insecure -d 'Do not verify the server\'s certificate (to diagnose only; every report says so)'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l consume -d 'After publishing, consume the probe\'s own messages without acknowledging them for --hold: reproduces a broker\'s consumer acknowledgement timeout'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -l trace -d 'List every frame in the timeline, heartbeats included. (lapin\'s frames in the serviced mode are not visible to amqpdoctor: its heartbeats are counted from TCP_INFO, not listed.)'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand probe" -s V -l version -d 'Print version'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -l connect-timeout -d 'Timeout for the TCP connect and for each handshake step [default: the URL\'s connection_timeout=, else 5s]' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -l password-file -d 'Read the password from FILE (its first line) instead of the URL, so it is not in argv where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -l cacert -d 'CA certificates to trust (PEM) [default: the URL\'s cacertfile=, else the system\'s roots]' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -l cert -d 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -l key -d 'The client certificate\'s private key (PEM)' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -l tls-server-name -d 'Verify the server\'s certificate for NAME (and send it as SNI) instead of the URL\'s host' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -l tls-as -d 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -l interval -l heartbeat -d 'Heartbeat to request: whole seconds (e.g. 30s), 0 to disable, or "server" to accept the broker\'s proposal [default: the URL\'s heartbeat=, else server]' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -l observe -d 'Keep the connection serviced this long and measure heartbeat cadence in both directions' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -l client -d 'Narrow the client-library table to one library, or one version of it with NAME@VERSION (pika, pika@0.13, amqplib@0.10; `amqpdoctor explain --list` names them all)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -l format -d 'Output format. json prints exactly one JSON document on stdout' -r -f -a "human\t''
json\t''"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -l color -d 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb' -r -f -a "auto\t''
always\t''
never\t''"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -l insecure -d 'Do not verify the server\'s certificate (to diagnose only; every report says so)'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -s h -l help -d 'Print help'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand heartbeat" -s V -l version -d 'Print version'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l targets-file -d 'Read more target URLs from FILE: one per line; blank lines and `#` comments are skipped' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l connect-timeout -d 'Timeout for each step (resolve, connect, each handshake step, each round trip) [default: each URL\'s connection_timeout=, else 5s]' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l password-file -d 'Read the password for every target from FILE (its first line), so it is not in argv. $AMQPDOCTOR_PASSWORD works too; this flag wins; both beat the URLs\' passwords' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l cacert -d 'CA certificates to trust (PEM) [default: the URL\'s cacertfile=, else the system\'s roots]' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l cert -d 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l key -d 'The client certificate\'s private key (PEM)' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l tls-server-name -d 'Verify the server\'s certificate for NAME (and send it as SNI) instead of the URL\'s host' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l tls-as -d 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l heartbeat -l interval -d 'Heartbeat to request: whole seconds, 0 to disable, or "server" to accept the broker\'s proposal (what --expect-heartbeat then sees) [default: each URL\'s heartbeat=, else server]' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l expect-heartbeat -d 'Fail unless the negotiated heartbeat is in RANGE: 10s..60s, 10s.. (at least), ..60s, or one value. Catches a broker or policy that disables heartbeats (0)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l max-connect -d 'Fail when the TCP connect takes longer than DUR' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l max-handshake -d 'Fail when the AMQP handshake (protocol header to Connection.Open-Ok) takes longer than DUR' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l max-roundtrip -d 'Fail when publish → confirm → get takes longer than DUR' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l expect-server -d 'Fail unless the server is this product and/or version: \'RabbitMQ >=3.12\', \'RabbitMQ\', \'>=3.12, <5\' (a semver requirement; the product is compared without case)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l expect-tls-accepted-by -d 'Fail a target whose TLS certificate a named client family would refuse (openssl, java, dotnet, go, rustls; comma-separated), though the run itself follows --tls-as' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l exchange -d 'Publish through this exchange (it must exist): the check binds its own queue to it with the routing key, so messages may also reach user queues bound with that key' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l routing-key -d 'Routing key for --exchange (default: the check\'s queue name, which no user queue is bound with)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l format -d 'Output format' -r -f -a "human\t'One table row per target, steps as columns'
json\t'One JSON document'
junit\t'JUnit XML: one test suite per target, one test case per step and expectation'
markdown\t'A Markdown table, e.g. for a GitHub job summary ($GITHUB_STEP_SUMMARY)'
prometheus\t'Prometheus text exposition format (node_exporter textfile collector, Pushgateway)'"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l junit -d 'Also write the JUnit XML report to FILE (e.g. markdown to the job summary and JUnit for the test report, from one check)' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l color -d 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb' -r -f -a "auto\t''
always\t''
never\t''"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -l insecure -d 'Do not verify the server\'s certificate (to diagnose only; every report says so)'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand check" -s V -l version -d 'Print version'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand proxy" -l listen -d 'Address to listen on' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand proxy" -l upstream -d 'The broker to forward to' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand proxy" -l idle-timeout -d 'Act on a connection after DUR without a byte in either direction (default: never)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand proxy" -l on-idle -d 'What to do to an idle connection' -r -f -a "reset\t'RST to both sides at the timeout (SO_LINGER 0), like Azure LB with "TCP reset on idle"'
forget\t'Forget the flow: nothing at the timeout; the next packet from either side is answered with RST to its sender and the other side is never told (NAT gateways, NLB, conntrack)'
drop\t'Stop forwarding, keep both sockets open: a blackhole (Azure LB, GCP NAT without reset)'
close\t'FIN to both sides, like HAProxy\'s `timeout client`'"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand proxy" -l drop-heartbeats -d 'Swallow heartbeat frames (08 00 00 00 00 00 00 CE) in this direction; forward the rest' -r -f -a "to-server\t'Client → broker: the broker sees a silent client'
to-client\t'Broker → client: the client sees a silent broker'
both\t''"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand proxy" -l connect-timeout -d 'Timeout for connecting to the upstream' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand proxy" -l log-frames -d 'Print every AMQP frame forwarded, with time, connection, direction, channel and method'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand proxy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand proxy" -s V -l version -d 'Print version'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -l connect-timeout -d 'Timeout for the TCP connect and for each handshake step [default: the URL\'s connection_timeout=, else 5s]' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -l password-file -d 'Read the password from FILE (its first line) instead of the URL, so it is not in argv where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -l cacert -d 'CA certificates to trust (PEM) [default: the URL\'s cacertfile=, else the system\'s roots]' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -l cert -d 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -l key -d 'The client certificate\'s private key (PEM)' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -l tls-server-name -d 'Verify the server\'s certificate for NAME (and send it as SNI) instead of the URL\'s host' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -l tls-as -d 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -l max -d 'The longest idle to try: the discovery takes about this long. The default covers the common cloud load balancers and NAT gateways (Azure 4 min, AWS 350 s)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -l min -d 'The shortest idle to try (default: --max / 32, at least 1 s)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -l probes -d 'How many connections, each idling for its own duration (more: a tighter bracket)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -l format -d 'Output format. json prints exactly one JSON document on stdout' -r -f -a "human\t''
json\t''"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -l color -d 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb' -r -f -a "auto\t''
always\t''
never\t''"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -l insecure -d 'Do not verify the server\'s certificate (to diagnose only; every report says so)'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -l wait-all -d 'Idle every connection to its end, even after a shorter idle already died (slower; shows whether the path is a simple idle timer)'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand idle-timeout" -s V -l version -d 'Print version'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand scan" -l port -d 'Peer ports that mark a socket as AMQP, comma-separated' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand scan" -l pid -d 'Only this process\'s sockets (any peer port)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand scan" -l watch -d 'Sample every 250 ms for DUR and classify each connection from what its bytes show' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand scan" -l max-heartbeat -d 'The largest heartbeat expected on this host: a connection silent both ways for more than half of it is taken to have heartbeats off' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand scan" -l format -d 'Output format. json prints exactly one JSON document on stdout' -r -f -a "human\t''
json\t''"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand scan" -l color -d 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb' -r -f -a "auto\t''
always\t''
never\t''"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand scan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand scan" -s V -l version -d 'Print version'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand audit" -l management -d 'The management API (http or https; user:password@ in it, else guest/guest). The password is never printed' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand audit" -l password-file -d 'Read the management password from FILE (its first line) instead of the URL' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand audit" -l timeout -d 'Timeout for each HTTP request' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand audit" -l join -d 'Match `amqpdoctor scan --format json` output (taken on the application host) by address pair, and say per connection which side stopped talking first' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand audit" -l format -d 'Output format' -r -f -a "human\t''
json\t''
junit\t'JUnit XML: one test case per connection, failed when it is flagged'
markdown\t'A Markdown table of every connection, then what is flagged and why'"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand audit" -l color -d 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb' -r -f -a "auto\t''
always\t''
never\t''"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand audit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand audit" -s V -l version -d 'Print version'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand logs" -l since -d 'Only records at or after WHEN: a time (2026-12-04 17:45, 2026-12-04T17:45:11Z) or an age (1h, 30m: that long ago)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand logs" -l until -d 'Only records at or before WHEN (a time or an age, as --since)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand logs" -l peer -d 'Only connections of this peer: a host, host:port, or a client-provided connection name' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand logs" -l format -d 'Output format. json prints one JSON document (with --follow, one JSON object per line: each death, then the summary)' -r -f -a "human\t''
json\t''
markdown\t'Markdown tables of deaths by cause and by peer, then the patterns'"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand logs" -l color -d 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb' -r -f -a "auto\t''
always\t''
never\t''"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand logs" -l follow -d 'Keep reading as the files grow (across rotation, like tail -F), from their end: one line per death as it happens; Ctrl-C prints the summary (exit 130)'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand logs" -s V -l version -d 'Print version'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand tls" -l connect-timeout -d 'Timeout for the TCP connect and for each handshake step [default: the URL\'s connection_timeout=, else 5s]' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand tls" -l password-file -d 'Read the password from FILE (its first line) instead of the URL, so it is not in argv where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand tls" -l cacert -d 'CA certificates to trust (PEM) [default: the URL\'s cacertfile=, else the system\'s roots]' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand tls" -l cert -d 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand tls" -l key -d 'The client certificate\'s private key (PEM)' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand tls" -l tls-server-name -d 'Verify the server\'s certificate for NAME (and send it as SNI) instead of the URL\'s host' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand tls" -l tls-as -d 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand tls" -l expect-accepted-by -d 'Exit 1 when a named client family refuses the certificate (openssl, java, dotnet, go, rustls; comma-separated)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand tls" -l format -r -f -a "human\t''
json\t''
markdown\t'Markdown tables: the chain, then each family\'s verdict'"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand tls" -l color -d 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb' -r -f -a "auto\t''
always\t''
never\t''"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand tls" -l insecure -d 'Do not verify the server\'s certificate (to diagnose only; every report says so)'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand tls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand tls" -s V -l version -d 'Print version'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l listen -d 'Address to serve /metrics, /healthz and / on. Loopback by default; any other address is said on stderr. Port 0 picks a free port (the address bound is said on stderr)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l port -d 'With --scan: peer ports that mark a socket as AMQP, comma-separated' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l max-heartbeat -d 'With --scan: the largest heartbeat expected on this host (a connection silent both ways for more than half of it has heartbeats off)' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l max-connection-series -d 'With --scan: per-connection series for at most N connections (starving, dead and heartbeat-less ones first); the rest are only in the aggregates, and counted' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l check -d 'Smoke-check these broker URLs (as `check` does) every --check-every' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l targets-file -d 'Read more check URLs from FILE: one per line; blank lines and `#` comments are skipped' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l check-every -d 'How often to check the --check targets' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l connect-timeout -d 'Timeout for each step of a check [default: each URL\'s connection_timeout=, else 5s]' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l heartbeat -d 'Heartbeat the checks request: whole seconds, 0, or "server" [default: each URL\'s heartbeat=, else server]' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l password-file -d 'Read the password for every check target from FILE (its first line), not argv' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l cacert -d 'CA certificates to trust (PEM) [default: the URL\'s cacertfile=, else the system\'s roots]' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l cert -d 'Client certificate chain (PEM), for mutual TLS or auth_mechanism=external' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l key -d 'The client certificate\'s private key (PEM)' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l tls-server-name -d 'Verify the server\'s certificate for NAME (and send it as SNI) instead of the URL\'s host' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l tls-as -d 'Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node, rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis goes on, with a note naming what was accepted and which families would refuse it' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l audit -d 'Read the RabbitMQ management API at URL (as `audit` does) every --audit-every: the broker\'s view of every connection, counted by client library and flag' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l audit-every -d 'How often to read the management API' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l audit-timeout -d 'Timeout for each management API request' -r
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l audit-password-file -d 'Read the management API\'s password from FILE (its first line), not argv' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l logs -d 'Follow the broker\'s log FILE (or a directory of logs), as `logs --follow` reads it, and count connection ends by cause and peer host (repeatable)' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l bearer-token-file -d 'Require `Authorization: Bearer TOKEN` on / and /metrics, TOKEN being the first line of FILE (/healthz stays open for liveness probes)' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l basic-auth-file -d 'Require HTTP basic auth on / and /metrics, with the `user:password` of FILE\'s first line (with --bearer-token-file, either is accepted; /healthz stays open)' -r -F
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l scan -d 'Collect this host\'s AMQP connections, as `scan --watch` does, continuously (a reading every 250 ms): classification, inferred heartbeat, silence each way, deaths'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -l insecure -d 'Do not verify the server\'s certificate (to diagnose only; every report says so)'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand serve" -s V -l version -d 'Print version'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand explain" -l format -d 'Output format. json prints exactly one JSON document on stdout' -r -f -a "human\t''
json\t''"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand explain" -l color -d 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb' -r -f -a "auto\t''
always\t''
never\t''"
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand explain" -l list -d 'List every topic explain knows instead, grouped: errno names, reply codes, client libraries, verdict codes, concepts, EOF and the log lines it recognises'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand explain" -s h -l help -d 'Print help'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand explain" -s V -l version -d 'Print version'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand completions" -s h -l help -d 'Print help'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand completions" -s V -l version -d 'Print version'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand man" -s h -l help -d 'Print help'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand man" -s V -l version -d 'Print version'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand help; and not __fish_seen_subcommand_from probe heartbeat check proxy idle-timeout scan audit logs tls serve explain completions man help" -f -a "probe" -d 'Reproduce and classify connection deaths under the three heartbeat modes'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand help; and not __fish_seen_subcommand_from probe heartbeat check proxy idle-timeout scan audit logs tls serve explain completions man help" -f -a "heartbeat" -d 'Show heartbeat negotiation against this broker and what each client library would do'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand help; and not __fish_seen_subcommand_from probe heartbeat check proxy idle-timeout scan audit logs tls serve explain completions man help" -f -a "check" -d 'Smoke-check brokers for CI: every step timed, expectations, junit/markdown/prometheus'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand help; and not __fish_seen_subcommand_from probe heartbeat check proxy idle-timeout scan audit logs tls serve explain completions man help" -f -a "proxy" -d 'A TCP proxy that behaves like a middlebox: kills idle flows (reset, drop or close), swallows heartbeats, logs frames'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand help; and not __fish_seen_subcommand_from probe heartbeat check proxy idle-timeout scan audit logs tls serve explain completions man help" -f -a "idle-timeout" -d 'Find the idle timeout of the path to the broker: parallel idles, one round trip each'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand help; and not __fish_seen_subcommand_from probe heartbeat check proxy idle-timeout scan audit logs tls serve explain completions man help" -f -a "scan" -d 'Every AMQP connection of the applications on this host, read passively from the kernel'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand help; and not __fish_seen_subcommand_from probe heartbeat check proxy idle-timeout scan audit logs tls serve explain completions man help" -f -a "audit" -d 'The broker\'s view of every client connection, from the RabbitMQ management API'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand help; and not __fish_seen_subcommand_from probe heartbeat check proxy idle-timeout scan audit logs tls serve explain completions man help" -f -a "logs" -d 'Read RabbitMQ\'s logs for who died, how and why'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand help; and not __fish_seen_subcommand_from probe heartbeat check proxy idle-timeout scan audit logs tls serve explain completions man help" -f -a "tls" -d 'The TLS handshake only (no AMQP, no login): the chain as sent, what was negotiated, and which client families accept the certificate'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand help; and not __fish_seen_subcommand_from probe heartbeat check proxy idle-timeout scan audit logs tls serve explain completions man help" -f -a "serve" -d 'A Prometheus exporter: this host\'s connections (--scan), smoke checks (--check) and the broker\'s view (--audit) as metrics, until SIGTERM'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand help; and not __fish_seen_subcommand_from probe heartbeat check proxy idle-timeout scan audit logs tls serve explain completions man help" -f -a "explain" -d 'Explain an errno, an AMQP reply code, a client library, a verdict or a log line (offline)'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand help; and not __fish_seen_subcommand_from probe heartbeat check proxy idle-timeout scan audit logs tls serve explain completions man help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand help; and not __fish_seen_subcommand_from probe heartbeat check proxy idle-timeout scan audit logs tls serve explain completions man help" -f -a "man" -d 'Print the man page (roff) to stdout'
complete -c amqpdoctor -n "__fish_amqpdoctor_using_subcommand help; and not __fish_seen_subcommand_from probe heartbeat check proxy idle-timeout scan audit logs tls serve explain completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
