//! What users paste, read by `lookup`: log lines of every library and the
//! broker, what they name, odd and hostile input.

use super::*;

fn topic(q: &str) -> (String, String) {
    match lookup(q) {
        Ok(t) => (t.kind().to_string(), t.name()),
        Err(near) => ("error".into(), near.join(",")),
    }
}

fn explained_by(q: &str) -> Option<String> {
    match lookup(q).ok()? {
        Topic::Log(m) => m.target().map(|t| t.name()),
        t => Some(t.name()),
    }
}

#[test]
fn lookup_log_lines() {
    // (line, pattern id, explained by)
    let rows: &[(&str, &str, &str)] = &[
        (
            "2023-04-13 08:39:18.313651+00:00 [error] <0.919.0> missed heartbeats from client, timeout: 60s",
            "rabbitmq_missed_heartbeats",
            "broker_heartbeat_timeout",
        ),
        (
            "Missed heartbeats from client, timeout: 60s",
            "rabbitmq_missed_heartbeats",
            "broker_heartbeat_timeout",
        ),
        (
            "{heartbeat_timeout,running}",
            "rabbitmq_heartbeat_timeout_term",
            "broker_heartbeat_timeout",
        ),
        ("StreamLostError", "pika_stream_lost", "pika-blocking"),
        (
            "StreamLostError: (\"Stream connection lost: ConnectionResetError(104, 'Connection reset by peer')\",)",
            "pika_stream_lost_reset",
            "ECONNRESET",
        ),
        ("Connection reset by peer", "connection_reset", "ECONNRESET"),
        ("Broken pipe", "broken_pipe", "EPIPE"),
        ("ConnectionResetError", "python_connection_reset", "ECONNRESET"),
        (
            "Too Many Missed Heartbeats, No reply in 120 seconds",
            "pika010_too_many_missed",
            "pika-blocking@0.10",
        ),
        ("CONNECTION_FORCED - kicked", "connection_forced", "320"),
        ("Closed via management plugin", "rabbitmq_management_close", "operator_closed"),
        (
            "broker forced connection closure with reason 'shutdown'",
            "rabbitmq_shutdown",
            "broker_shutdown",
        ),
        (
            "ChannelClosedByBroker: (406, 'PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value used: 2000 ms. This timeout value can be configured, see consumers doc guide to learn more')",
            "rabbitmq_consumer_ack_timeout",
            "consumer_ack_timeout",
        ),
        (
            "Consumer amq.ctag-x on channel 1 has timed out waiting for delivery acknowledgement. Timeout used: 2000 ms.",
            "rabbitmq_consumer_ack_timeout_log",
            "consumer_ack_timeout",
        ),
        (
            "PRECONDITION_FAILED - message size 63 is larger than configured max size 10",
            "rabbitmq_message_too_large",
            "message_too_large",
        ),
        (
            "NOT_ALLOWED - connection refused for user 'guest': user connection limit (0) is reached",
            "rabbitmq_user_connection_limit",
            "connection_limit",
        ),
        (
            "ProbableAccessDeniedError: ConnectionClosedByBroker: (530) \"NOT_ALLOWED - access to vhost '/' refused for user 'guest': connection limit (0) is reached\"",
            "rabbitmq_vhost_connection_limit",
            "connection_limit",
        ),
        (
            "pika.exceptions.ConnectionBlockedTimeout: Blocked connection timeout expired.",
            "pika_blocked_connection_timeout",
            "blocked",
        ),
        ("Connection.Blocked: low on memory", "blocked_low_on_memory", "blocked"),
        ("blocked: low on disk", "blocked_low_on_disk", "blocked"),
        (
            "client unexpectedly closed TCP connection",
            "rabbitmq_client_closed_abruptly",
            "EOF",
        ),
        ("{handshake_timeout,frame_header}", "rabbitmq_handshake_timeout", "timeout"),
        ("{handshake_timeout,handshake}", "rabbitmq_handshake_timeout_header", "timeout"),
        ("{bad_header,<<\"GET / HT\">>}", "rabbitmq_bad_header", "protocol_mismatch"),
        ("{bad_version,{1,1,0,10}}", "rabbitmq_bad_version", "protocol_mismatch"),
        ("ACCESS_REFUSED - Login was refused", "login_refused", "auth_failed"),
        ("NOT_ALLOWED - vhost x not found", "vhost_not_allowed", "vhost_not_allowed"),
        ("Connection timed out", "connection_timed_out", "ETIMEDOUT"),
        ("Connection refused", "connection_refused", "connect_failed"),
        (
            "Exception (501) Reason: \"read tcp 10.1.1.1:4000->10.1.1.2:5672: i/o timeout\"",
            "go_read_timeout",
            "501",
        ),
        ("ConnectionClosed", "pika_connection_closed", "server_closed"),
        (
            "pika.exceptions.ConnectionClosed: (406, 'PRECONDITION_FAILED - unknown delivery tag 1')",
            "pika_connection_closed",
            "406",
        ),
        ("AMQPConnectionError", "pika_connection_error", "connect_failed"),
        (
            "AMQPConnectionError: [Errno 113] No route to host",
            "pika_connection_error",
            "EHOSTUNREACH",
        ),
        (
            "Error on AMQP connection <0.1201.0>: econnreset (connection reset by peer)",
            "rabbitmq_error_on_connection",
            "ECONNRESET",
        ),
        (
            "ERROR:pika.adapters.base_connection:Socket Error: 104",
            "pika_socket_error",
            "ECONNRESET",
        ),
        (
            "_AsyncBaseTransport._produce() failed, aborting connection: error=BrokenPipeError(32, 'Broken pipe')",
            "pika_transport_failed",
            "EPIPE",
        ),
    ];
    for &(line, id, target) in rows {
        match lookup(line) {
            Ok(Topic::Log(m)) => {
                assert_eq!(m.pattern.map(|p| p.id.as_str()), Some(id), "{line}");
                assert_eq!(
                    m.target().map(|t| t.name()).as_deref(),
                    Some(target),
                    "{line}"
                );
            }
            other => panic!("{line}: {:?}", other.map(|t| t.name())),
        }
    }
}

/// Lines whose explanation is the cause they establish rather than the
/// errno or library they name: an errno only connect returns, a library
/// that sends no heartbeat of its own, a connect failure by its wording.
#[test]
fn lines_are_read_for_their_cause() {
    // (line, pattern id or "" for none, explained by)
    let rows: &[(&str, &str, &str)] = &[
        // ECONNREFUSED and EADDRNOTAVAIL come only from connect.
        ("ConnectionRefusedError: [Errno 111] Connection refused", "python_connection_refused", "connect_failed"),
        ("dial tcp 127.0.0.1:5672: connect: connection refused", "connection_refused", "connect_failed"),
        ("connectex: No connection could be made because the target machine actively refused it.", "", "connect_failed"),
        ("org.springframework.amqp.AmqpConnectException: java.net.ConnectException: Connection refused", "connection_refused", "connect_failed"),
        ("pika.exceptions.AMQPConnectionError: Connection to 10.0.0.5:5672 failed: [Errno 111] Connection refused", "pika_connection_error", "connect_failed"),
        ("OSError: [Errno 99] Cannot assign requested address", "", "connect_failed"),
        // A reset on an open connection stays a reset.
        ("ConnectionResetError: [Errno 104] Connection reset by peer", "python_connection_reset", "ECONNRESET"),
        // Bunny's connect failures, whatever failed underneath.
        ("Could not establish TCP connection to any of the configured hosts (Bunny::TCPConnectionFailedForAllHosts)", "bunny_tcp_connection_failed", "connect_failed"),
        ("Could not establish TCP connection to myserver.com:5672: Bunny::ClientTimeout", "bunny_tcp_connection_failed", "connect_failed"),
        ("Could not establish TCP connection to localhost:5672: Cannot assign requested address - connect(2) for [::1]:5672", "bunny_tcp_connection_failed", "connect_failed"),
        // lapin-async sends no heartbeats unless the application does.
        ("ERROR lapin_async::io - error reading: ConnectionReset", "lapin_async_reset", "broker_heartbeat_timeout"),
        ("lapin_async::io: error writing: Os { code: 104, kind: ConnectionReset, message: \"Connection reset by peer\" }", "lapin_async_reset", "broker_heartbeat_timeout"),
        // lapin without the -async crate: which version is unknown, so a reset is a reset.
        ("Failed to run the Lapin: Os { code: 104, kind: ConnectionReset, message: \"Connection reset by peer\" }", "connection_reset", "ECONNRESET"),
        // librabbitmq (php-amqp) sends heartbeats only inside library calls.
        ("PHP Fatal error:  Uncaught AMQPException: Library error: a socket error occurred in /app/worker.php:55", "php_amqp_socket_error", "broker_heartbeat_timeout"),
        ("Library error: a socket error occurred - Potential login failure.", "php_amqp_socket_error_at_login", "rabbitmq-c"),
        // Lines that name a cause only through who printed them.
        ("OSError: Socket closed", "pyamqp_socket_closed", "EOF"),
        ("IOError: Socket closed", "pyamqp_socket_closed_py2", "EOF"),
        ("RabbitMQ client connection closed! --> Unexpected Exception", "cap_connection_shutdown", "dotnet"),
        ("RabbitMQ client connection closed! --> CONNECTION_FORCED - Closed via management plugin", "cap_connection_shutdown", "320"),
        ("amqproxy-1  | Error writing to upstream (AMQProxy::Upstream::WriteError)", "amqproxy_upstream_write_error", "EPIPE"),
        ("proxy_1     | 00000000:amqp.srvcls[0007:0008]", "haproxy_debug_server_close", "peer_closed"),
        // Certificate verification failures that say the issuer is unknown.
        ("x509: certificate signed by unknown authority", "go_x509_unknown_authority", "tls_unknown_ca"),
        ("javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target", "java_pkix_path_building_failed", "tls_unknown_ca"),
        ("ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1076)", "openssl_unable_to_get_local_issuer", "tls_unknown_ca"),
        ("Error: unable to verify the first certificate", "openssl_unable_to_verify_first_certificate", "tls_unknown_ca"),
        ("SSL peer cert verification failed", "rabbitmq_c_peer_verify_failed", "tls_unknown_ca"),
        // Reply texts that name their cause.
        ("amqp.exceptions.PreconditionFailed: (0, 0): (406) PRECONDITION_FAILED - consumer ack timed out on channel 1", "rabbitmq_consumer_ack_timeout_3_8", "consumer_ack_timeout"),
        ("pika.exceptions.ChannelClosedByBroker: (404, \"NOT_FOUND - no exchange 'cot' in vhost '/'\")", "rabbitmq_no_exchange", "exchange_not_found"),
        ("pika.exceptions.ChannelClosedByBroker: (404, \"NOT_FOUND - no queue 'q' in vhost '/'\")", "", "404"),
        ("connection exception: CONNECTION_FORCED - Closed via management plugin", "rabbitmq_management_close", "operator_closed"),
        ("Error on AMQP connection <0.1.0> (10.0.0.1:1 -> 10.0.0.2:5672, user: 'guest', state: opening): vhost nope not found", "rabbitmq_vhost_not_found_opening", "vhost_not_allowed"),
        // Client-side checks and reads of end of file, by library.
        ("amqpstorm.exception.AMQPConnectionError: Connection dead, no heartbeat or data received in >= 20s", "amqpstorm_connection_dead", "heartbeat"),
        ("Error: Socket closed abruptly during opening handshake", "amqplib_closed_during_handshake", "EOF"),
        ("Error: Unexpected close", "amqplib_unexpected_close", "EOF"),
        ("Library error: connection closed unexpectedly", "rabbitmq_c_connection_closed_unexpectedly", "EOF"),
        ("Stream connection lost: RxEndOfFile(-1, 'End of input stream (EOF)')", "pika_rx_end_of_file", "EOF"),
        // Connect failures in a library's words.
        ("Socket error: could not connect to host.", "php_amqp_could_not_connect", "connect_failed"),
        ("stream_socket_client(): unable to connect to tcp://: (Failed to parse address \":\")", "php_stream_socket_client_failed", "connect_failed"),
        ("stream_socket_client(): unable to connect to tcp://rabbitmq:5672 (Connection refused)", "php_stream_socket_client_failed", "connect_failed"),
        ("thread 'main' panicked at 'channel2: InvalidChannelState(Error)', src/main.rs:31:58", "lapin_invalid_channel_state", "lapin"),
        ("Fatal (UNEXPECTED_MESSAGE): Unexpected handshake message: server_hello", "java_unexpected_handshake_message", "tls_failed"),
        ("opening SSL/TLS connection", "rabbitmq_c_tools_opening_tls", "rabbitmq-c"),
        ("Error Connecting to server(13): Permission denied", "php_amqplib_error_connecting", "connect_failed"),
        ("Error Connecting to server(111): Connection refused", "php_amqplib_error_connecting", "connect_failed"),
        ("#<AMQProxy::Upstream::Error:Cannot establish connection to upstream>", "amqproxy_upstream_connect_failed", "connect_failed"),
        ("RuntimeError: Connection closed", "aio_pika_connection_closed", "aio-pika"),
        // PHP's stream notice: php-amqplib, which sends heartbeats only inside its calls.
        ("PHP Notice:  fwrite(): send of 8 bytes failed with errno=104 Connection reset by peer in StreamIO.php", "php_stream_reset", "broker_heartbeat_timeout"),
    ];
    for &(line, id, target) in rows {
        let Ok(Topic::Log(m)) = lookup(line) else {
            panic!("{line}: not read as a line");
        };
        let want_id = (!id.is_empty()).then_some(id);
        assert_eq!(m.pattern.map(|p| p.id.as_str()), want_id, "{line}");
        assert_eq!(
            m.target().map(|t| t.name()).as_deref(),
            Some(target),
            "{line}"
        );
    }
    // Asked for by name, the errno is still the errno.
    assert_eq!(
        topic("ECONNREFUSED"),
        ("errno".into(), "ECONNREFUSED".into())
    );
    assert_eq!(
        topic("EADDRNOTAVAIL"),
        ("errno".into(), "EADDRNOTAVAIL".into())
    );
    assert_eq!(topic("errno 111"), ("errno".into(), "ECONNREFUSED".into()));
}

/// What a pika user pastes, and every symptom string the client entries
/// list: each is recognised, explained, and where a library prints it,
/// attributed to that library.
#[test]
fn the_lines_users_paste_are_recognised() {
    // (line, explained by, library it names or None)
    let rows: &[(&str, &str, Option<&str>)] = &[
        ("Socket Error: 104", "ECONNRESET", None),
        (
            "ERROR:pika.adapters.base_connection:Socket Error: 104",
            "ECONNRESET",
            Some("pika-blocking"),
        ),
        (
            "2024-01-05 10:00:01 ERROR pika.adapters.utils.io_services_utils _AsyncBaseTransport._produce() failed",
            "pika-blocking",
            None,
        ),
        ("error 104", "ECONNRESET", None),
        ("heartbeat", "heartbeat", None),
        ("AMQPHeartbeatTimeout", "pika-blocking", None),
        (
            "pika.exceptions.AMQPHeartbeatTimeout: No activity or too many missed heartbeats in the last 60 seconds",
            "pika-blocking",
            None,
        ),
        (
            "ConnectionClosed: (320, 'No activity or too many missed meartbeats in the last 60 seconds')",
            "pika-blocking@0.12–0.13",
            None,
        ),
        ("amqp.exceptions.ConnectionForced: Too many heartbeats missed", "kombu", None),
        ("OSError: Server unexpectedly closed connection", "EOF", Some("kombu")),
        (
            "PhpAmqpLib\\Exception\\AMQPHeartbeatMissedException: Missed server heartbeat",
            "php-amqplib",
            None,
        ),
        (
            "PhpAmqpLib\\Exception\\AMQPConnectionClosedException: Broken pipe or closed connection",
            "php-amqplib",
            None,
        ),
        (
            "PhpAmqpLib\\Exception\\AMQPIOException: fwrite(): send of 8 bytes failed with errno=104 Connection reset by peer",
            "broker_heartbeat_timeout",
            Some("php-amqplib"),
        ),
        (
            "System.IO.EndOfStreamException: Heartbeat missing with heartbeat == 00:01:00 seconds",
            "dotnet",
            None,
        ),
        ("heartbeat timeout, connection closed", "rabbitmq-c", None),
        (
            "com.rabbitmq.client.MissedHeartbeatException: Detected missed server heartbeats, heartbeat interval: 60 seconds, RabbitMQ node hostname: rabbit-1",
            "java",
            None,
        ),
        ("Heartbeat missing with heartbeat = 60 seconds", "java", None),
        (
            "Exception (504) Reason: \"channel/connection is not open\"",
            "go-amqp091",
            None,
        ),
        ("Exception (501) Reason: \"EOF\"", "EOF", Some("go-amqp091")),
        ("Error: Heartbeat timeout", "node-amqplib", None),
        (
            "Server connection <Connection: \"amqp://localhost/\"> was stuck. No frames were received in 183 seconds.",
            "aio-pika",
            None,
        ),
        ("Timeout::Error: IO timeout when reading 7 bytes", "bunny", None),
        (
            "AMQ::Protocol::EmptyResponseError: Empty response received from the server.",
            "EOF",
            Some("bunny"),
        ),
        (
            "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.",
            "auth_failed",
            None,
        ),
        (
            "TLS client detected on non-TLS AMQP port. Ensure the client is connecting to the correct port.",
            "tls_to_plain_port",
            None,
        ),
        (
            "org.springframework.amqp.AmqpIOException: java.net.SocketException: Connection reset",
            "ECONNRESET",
            Some("spring-amqp"),
        ),
    ];
    for &(line, target, library) in rows {
        assert_eq!(explained_by(line).as_deref(), Some(target), "{line}");
        if let Some(lib) = library {
            let Ok(Topic::Log(m)) = lookup(line) else {
                panic!("{line}: not read as a line")
            };
            let added = m.client_to_add().map(|h| h.spec.lib.id.clone());
            assert_eq!(added.as_deref(), Some(lib), "{line}");
        }
    }
}

#[test]
fn a_pasted_line_names_the_library_and_its_remedy() {
    let Ok(Topic::Log(m)) = lookup("ERROR:pika.adapters.base_connection:Socket Error: 104") else {
        panic!("not read as a line")
    };
    assert_eq!(m.errno.map(|e| e.name.as_str()), Some("ECONNRESET"));
    let hit = m.client_to_add().unwrap_or_else(|| panic!("no library"));
    assert_eq!(hit.spec.lib.id, "pika-blocking");
    // The line's wording says 0.10–0.13; the remedy is for that row.
    assert_eq!(hit.spec.row().label, "0.12–0.13");
    // A logger name alone also names the library (the newest version).
    let Ok(Topic::Log(m)) = lookup("WARNING:pika.connection:something odd [Errno 32]") else {
        panic!("not read as a line")
    };
    let hit = m.client.unwrap_or_else(|| panic!("no library"));
    assert_eq!(
        (hit.spec.lib.id.as_str(), hit.via),
        ("pika-blocking", "pika.")
    );
    // The longest logger name wins.
    let Ok(Topic::Log(m)) = lookup("pika.adapters.asyncio_connection: Connection reset by peer")
    else {
        panic!("not read as a line")
    };
    assert_eq!(
        m.client.map(|h| h.spec.lib.id.as_str()),
        Some("pika-select")
    );
}

#[test]
fn log_line_details() {
    let Ok(Topic::Log(m)) = lookup("missed heartbeats from client, timeout: 60s") else {
        panic!("not recognised")
    };
    assert_eq!(m.timeout_s, Some(60));
    assert_eq!(m.broker_window_s(), Some((120, 180)));
    // The old term's second element is the connection state, not T.
    let Ok(Topic::Log(m)) = lookup("{heartbeat_timeout,running}") else {
        panic!("not recognised")
    };
    assert_eq!(m.timeout_s, None);
    let Ok(Topic::Log(m)) = lookup(
        "StreamLostError: (\"Stream connection lost: ConnectionResetError(104, 'Connection reset by peer')\",)",
    ) else {
        panic!("not recognised")
    };
    assert_eq!(m.errno.map(|e| e.name.as_str()), Some("ECONNRESET"));
    assert!(m.also.iter().any(|p| p.id == "connection_reset"));
    assert_eq!(m.timeout_s, None);
}

#[test]
fn lookup_extracts_from_unknown_lines() {
    let rows: &[(&str, &str)] = &[
        ("Error: read ECONNRESET", "ECONNRESET"),
        ("socket error: errno=110 while writing", "ETIMEDOUT"),
        ("io error: Transport endpoint is not connected", "ENOTCONN"),
        (
            "channel closed: NOT_FOUND - no queue 'q' in vhost '/'",
            "404",
        ),
        ("got reply-code=541 from peer", "541"),
    ];
    for &(q, target) in rows {
        assert_eq!(topic(q).0, "log_line", "{q}");
        assert_eq!(explained_by(q).as_deref(), Some(target), "{q}");
    }
}

#[test]
fn nonsense_is_rejected_with_suggestions() {
    for q in [
        "",
        "   ",
        "foo",
        "ECONNRESETT",
        "pikka",
        "999",
        "3200",
        "🦀",
        "é",
        "errno 320",
    ] {
        let Err(near) = lookup(q) else {
            panic!("{q:?} was recognised")
        };
        assert!(!near.is_empty() && near.len() <= 5, "{q:?}: {near:?}");
    }
    let near = |q| lookup(q).err().unwrap_or_default();
    assert_eq!(
        near("ECONNRESETT").first().map(String::as_str),
        Some("ECONNRESET")
    );
    assert_eq!(
        near("pikka").first().map(String::as_str),
        Some("pika-blocking")
    );
    assert!(near("pika-blockin").contains(&"pika-blocking".to_string()));
    assert!(near("heartbeet").contains(&"heartbeat".to_string()));
    assert!(near("105").contains(&"104".to_string()));
    assert!(near("105").iter().all(|n| n.parse::<u32>().is_ok()));
}

#[test]
fn transposed_digits_suggest_the_intended_code_first() {
    for (typo, want) in [("140", "104"), ("430", "403"), ("23", "32")] {
        let near = lookup(typo).err().unwrap_or_default();
        assert_eq!(
            near.first().map(String::as_str),
            Some(want),
            "{typo}: {near:?}"
        );
    }
}

#[test]
fn lookup_survives_odd_input() {
    let huge = "x".repeat(1 << 20) + " missed heartbeats from client, timeout: 99999999999s";
    assert!(matches!(lookup(&huge), Ok(Topic::Log(_))));
    let _ = lookup(&"é".repeat(100_000));
    let _ = lookup("timeout: ");
    let _ = lookup("errno ");
    let _ = lookup("pika@");
    let _ = lookup("@");
    let _ = lookup(&format!("pika@{}", "9".repeat(10_000)));
    let _ = lookup("missed heartbeats from client, timeout: 18446744073709551617s");
    let _ = lookup("\u{0}\u{feff}ECONNRESET");
    assert_eq!(topic(" \t ECONNRESET \n").1, "ECONNRESET");
}

#[test]
fn a_failed_connect_is_connect_failed_and_a_bare_errno_its_entry() {
    // (line, explained by): errno.toml `[connect]` and `line_verdict`.
    let rows: &[(&str, &str)] = &[
        ("dial tcp 127.0.0.1:5672: connect: connection refused", "connect_failed"),
        (
            "Dial: dial tcp [::1]:5672: connectex: No connection could be made because the target machine actively refused it.",
            "connect_failed",
        ),
        (
            "org.springframework.amqp.AmqpConnectException: java.net.ConnectException: Connection refused (Connection refused)",
            "connect_failed",
        ),
        (
            "Errno::ECONNREFUSED: Connection refused - connect(2) for 127.0.0.1:5672",
            "connect_failed",
        ),
        ("Error: connect ECONNREFUSED 127.0.0.1:5672", "connect_failed"),
        ("dial tcp 10.0.0.5:5672: connect: connection timed out", "connect_failed"),
        (
            "AMQPConnectorSocketConnectError: ConnectionRefusedError(111, 'Connection refused')",
            "connect_failed",
        ),
        // ECONNREFUSED comes only from a connect (its line_verdict).
        ("socket.error: [Errno 61] ECONNREFUSED", "connect_failed"),
        // No connect phrase, an errno an open connection can get: its entry.
        ("[Errno 110] Connection timed out", "ETIMEDOUT"),
        ("[Errno 113] No route to host", "EHOSTUNREACH"),
        ("dial tcp 10.0.0.5:5672: connect: no route to host", "connect_failed"),
        // A connect phrase with an errno a connect does not fail with.
        ("failed to connect: connection reset by peer", "ECONNRESET"),
        // The library's own connect-failure texts.
        (
            "Could not establish TCP connection to any of the configured hosts (Bunny::TCPConnectionFailedForAllHosts)",
            "connect_failed",
        ),
        ("Error Connecting to server(13): Permission denied", "connect_failed"),
        ("Socket error: could not connect to host.", "connect_failed"),
        (
            "stream_socket_client(): unable to connect to tcp://: (Failed to parse address \":\")",
            "connect_failed",
        ),
        ("Error: Socket closed abruptly during opening handshake", "EOF"),
        ("dial tcp: lookup rabbitmq on 127.0.0.11:53: no such host", "connect_failed"),
        ("dial tcp 10.0.0.5:5672: i/o timeout", "connect_failed"),
        ("Error: getaddrinfo ENOTFOUND rabbitmq", "connect_failed"),
        (
            "socket.gaierror: [Errno -3] Temporary failure in name resolution",
            "connect_failed",
        ),
        (
            "Library error: connection closed unexpectedly - Potential login failure.",
            "EOF",
        ),
    ];
    for &(line, target) in rows {
        assert_eq!(explained_by(line).as_deref(), Some(target), "{line}");
    }
    let Ok(Topic::Log(m)) = lookup("dial tcp 127.0.0.1:5672: connect: connection refused") else {
        panic!("not read as a line")
    };
    assert_eq!(m.errno.map(|e| e.name.as_str()), Some("ECONNREFUSED"));
}

#[test]
fn tls_verification_and_reply_texts_name_their_verdict() {
    let rows: &[(&str, &str)] = &[
        ("x509: certificate signed by unknown authority", "tls_unknown_ca"),
        (
            "TLS connection failed: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
            "tls_unknown_ca",
        ),
        ("Error: unable to verify the first certificate", "tls_unknown_ca"),
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1076)",
            "tls_unknown_ca",
        ),
        ("Error: self signed certificate in certificate chain", "tls_unknown_ca"),
        ("SSL peer cert verification failed", "tls_unknown_ca"),
        ("SSL hostname verification failed", "tls_name_mismatch"),
        ("x509: certificate is valid for rabbit.internal, not localhost", "tls_name_mismatch"),
        (
            "x509: certificate has expired or is not yet valid: current time 2024-03-01T10:00:00Z is after 2024-02-29T23:59:59Z",
            "tls_certificate_expired",
        ),
        (
            "Fatal (UNEXPECTED_MESSAGE): Unexpected handshake message: server_hello",
            "tls_failed",
        ),
        ("opening SSL/TLS connection", "rabbitmq-c"),
        ("invalid peer certificate: UnknownIssuer", "tls_unknown_ca"),
        (
            "The remote certificate is invalid according to the validation procedure: RemoteCertificateNameMismatch",
            "tls_name_mismatch",
        ),
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for 'localhost'.",
            "tls_name_mismatch",
        ),
        (
            "ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1129)",
            "tls_to_plain_port",
        ),
        (
            "pika.exceptions.ChannelClosedByBroker: (404, \"NOT_FOUND - no exchange 'cot' in vhost '/'\")",
            "exchange_not_found",
        ),
        (
            "pika.exceptions.ChannelClosedByBroker: (404, \"NOT_FOUND - no queue 'q' in vhost '/'\")",
            "404",
        ),
        (
            "(406) PRECONDITION_FAILED - consumer ack timed out on channel 1",
            "consumer_ack_timeout",
        ),
        (
            "Server connection error: 320, message: CONNECTION_FORCED - Node was put into maintenance mode",
            "broker_shutdown",
        ),
        (
            "connection exception: CONNECTION_FORCED - Closed via management plugin",
            "operator_closed",
        ),
        // A record's reason outranks its header.
        (
            "Error on AMQP connection <0.20027.0> (172.28.0.1:47888 -> 172.28.0.2:5671, user: 'guest', state: opening):\nvhost does-not-exist not found",
            "vhost_not_allowed",
        ),
    ];
    for &(line, target) in rows {
        assert_eq!(explained_by(line).as_deref(), Some(target), "{line}");
    }
}
