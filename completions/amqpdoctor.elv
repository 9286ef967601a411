
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
            cand explain 'Explain an errno, an AMQP reply code, a client library, a verdict or a log line (offline)'
            cand completions 'Print a shell completion script to stdout'
            cand man 'Print the man page (roff) to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'amqpdoctor;probe'= {
            cand --connect-timeout 'Timeout for the TCP connect and for each handshake step'
            cand --password-file 'Read the password from FILE (its first line) instead of the URL, so it is not in argv where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins'
            cand --idle 'How long each connection stays idle before publishing ("auto": 3T + 2 s, enough for a broker heartbeat timeout)'
            cand --mode 'Heartbeat modes to run, comma-separated'
            cand --heartbeat 'Heartbeat to request: whole seconds (e.g. 2s, 1m), 0 to disable, or "server" to accept the broker''s proposal'
            cand --interval 'Heartbeat to request: whole seconds (e.g. 2s, 1m), 0 to disable, or "server" to accept the broker''s proposal'
            cand --pump-every 'starved mode only: service the connection (read, answer with a heartbeat) every DUR, to show the remedy'
            cand --publishes 'Messages to publish after the idle'
            cand --confirm-timeout 'How long to wait for publisher confirms after publishing'
            cand --exchange 'Publish to this exchange instead of the probe''s own temporary queue (touches user data)'
            cand --routing-key 'Routing key to publish with, together with --exchange'
            cand --format 'Output format. json prints exactly one JSON document on stdout'
            cand --color 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb'
            cand --trace 'List every frame in the timeline, heartbeats included. (lapin''s frames in the serviced mode are not visible to amqpdoctor: its heartbeats are counted from TCP_INFO, not listed.)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'amqpdoctor;heartbeat'= {
            cand --connect-timeout 'Timeout for the TCP connect and for each handshake step'
            cand --password-file 'Read the password from FILE (its first line) instead of the URL, so it is not in argv where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins'
            cand --interval 'Heartbeat to request: whole seconds (e.g. 30s), 0 to disable, or "server" to accept the broker''s proposal'
            cand --heartbeat 'Heartbeat to request: whole seconds (e.g. 30s), 0 to disable, or "server" to accept the broker''s proposal'
            cand --observe 'Keep the connection serviced this long and measure heartbeat cadence in both directions'
            cand --client 'Narrow the client-library table to one library, or one version of it with NAME@VERSION (pika, pika@0.13, amqplib@0.10; `amqpdoctor explain --list` names them all)'
            cand --format 'Output format. json prints exactly one JSON document on stdout'
            cand --color 'Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb'
            cand -h 'Print help'
            cand --help 'Print help'
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
            cand explain 'Explain an errno, an AMQP reply code, a client library, a verdict or a log line (offline)'
            cand completions 'Print a shell completion script to stdout'
            cand man 'Print the man page (roff) to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'amqpdoctor;help;probe'= {
        }
        &'amqpdoctor;help;heartbeat'= {
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
