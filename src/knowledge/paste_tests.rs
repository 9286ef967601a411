use super::*;
use crate::knowledge::lookup::{recognise, worth_reading};

fn class(line: &str) -> Option<CauseClass> {
    recognise(&line.to_lowercase()).map(|m| class_of(&m))
}

fn chosen_topic(paste: &str) -> (String, usize) {
    let r = read_paste(paste.as_bytes(), false);
    let c = r
        .chosen()
        .unwrap_or_else(|| panic!("nothing chosen in {paste:?}"));
    let t = c.matched.target().map(|t| t.name()).unwrap_or_default();
    (t, c.line)
}

#[test]
fn classes_of_lines() {
    use CauseClass as C;
    let table = [
        ("IndexError: pop from an empty deque", C::Specific),
        (
            "closing AMQP connection <0.1.0> (1:2 -> 3:5672): missed heartbeats from client, timeout: 60s",
            C::Heartbeat,
        ),
        ("Caused by: java.net.SocketException: Connection reset", C::Loss),
        ("java.io.EOFException", C::Loss),
        ("com.rabbitmq.client.ShutdownSignalException: connection error", C::Library),
        ("pika.exceptions.StreamLostError: Stream connection lost", C::Wrapper),
        (
            "pika.exceptions.StreamLostError: Stream connection lost: ConnectionResetError(104, 'Connection reset by peer')",
            C::Loss,
        ),
        ("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN", C::Specific),
    ];
    for (line, want) in table {
        assert_eq!(class(line), Some(want), "{line}");
    }
}

#[test]
fn weights_order_field_by_field() {
    use CauseClass as C;
    let w = |class, depth, patterned, specificity, line| Weight {
        class,
        depth,
        patterned,
        specificity,
        line,
    };
    // (stronger, weaker)
    let table = [
        (
            w(C::Specific, 0, true, 1, 1),
            w(C::Heartbeat, 3, true, 9, 9),
        ),
        (w(C::Heartbeat, 0, true, 1, 1), w(C::Loss, 0, true, 9, 9)),
        (w(C::Loss, 0, true, 1, 1), w(C::Wrapper, 0, true, 9, 9)),
        (w(C::Wrapper, 0, true, 1, 1), w(C::Library, 0, false, 0, 9)),
        (w(C::Loss, 2, true, 1, 1), w(C::Loss, 1, true, 9, 9)),
        (w(C::Loss, 0, true, 1, 1), w(C::Loss, 0, false, 0, 9)),
        (w(C::Loss, 0, true, 9, 1), w(C::Loss, 0, true, 1, 9)),
        (w(C::Loss, 0, true, 1, 9), w(C::Loss, 0, true, 1, 1)),
    ];
    for (strong, weak) in table {
        assert!(strong > weak, "{strong:?} vs {weak:?}");
    }
}

#[test]
fn pastes_are_weighed() {
    let table: &[(&str, &str, &str, usize)] = &[
        (
            "thread sharing outranks the StreamLostError around it",
            "Traceback (most recent call last):\n  File \"x/pika/adapters/utils/io_services_utils.py\", line 822, in _produce\n    chunk = self._tx_buffers.popleft()\nIndexError: pop from an empty deque\n[ERROR] Unexpected connection close detected: StreamLostError: (\"Stream connection lost: ConnectionResetError(104, 'Connection reset by peer')\",)\n",
            "shared_connection",
            4,
        ),
        (
            "a Caused by root outranks its wrapper",
            "com.rabbitmq.client.ShutdownSignalException: connection error\n\tat com.rabbitmq.client.impl.AMQConnection.startShutdown(AMQConnection.java:861)\nCaused by: java.net.SocketException: Connection reset\n\tat java.net.SocketInputStream.read(SocketInputStream.java:209)\n",
            "ECONNRESET",
            3,
        ),
        (
            "a deeper root outranks the same class higher up",
            "java.io.IOException: Connection reset\nCaused by: java.io.EOFException\n\tat x(Y.java:1)\n",
            "EOF",
            2,
        ),
        (
            "a two-line closing record is read together",
            "2017-09-26 08:04:53.596 [warning] <0.2375.628> closing AMQP connection <0.2375.628> (127.0.0.1:54720 -> 127.0.0.1:5672):\nmissed heartbeats from client, timeout: 8s\n",
            "broker_heartbeat_timeout",
            2,
        ),
    ];
    for (why, paste, topic, line) in table {
        assert_eq!(chosen_topic(paste), (topic.to_string(), *line), "{why}");
    }
}

#[test]
fn bounded_and_binary() {
    // Repeated lines fold into one candidate.
    let one = "java.net.SocketException: Connection reset\n";
    let r = read_paste(one.repeat(10_000).as_bytes(), false);
    assert_eq!((r.lines, r.candidates.len()), (10_000, 1));
    assert_eq!(r.candidates[0].repeats, 9_999);
    // Distinct lines are capped.
    let many: String = (0..1000)
        .map(|i| format!("java.net.SocketException: Connection reset {i}\n"))
        .collect();
    let r = read_paste(many.as_bytes(), false);
    assert_eq!(r.candidates.len(), MAX_CANDIDATES);
    assert_eq!(r.dropped, 1000 - MAX_CANDIDATES);
    // Binary lines are skipped, a huge line is read for its start.
    let mut bin = vec![0u8, 1, 2, 0xff, b'\n'];
    bin.extend("x".repeat(LINE_SCAN_CHARS * 3).as_bytes());
    bin.extend(b"\nConnection reset by peer\n");
    let r = read_paste(&bin, false);
    assert_eq!((r.lines, r.binary_lines, r.long_lines), (3, 1, 1));
    assert_eq!(r.chosen().map(|c| c.line), Some(3));
    // Nothing, or nothing known.
    assert!(read_paste(b"", false).chosen().is_none());
    assert_eq!(read_paste(b"", false).lines, 0);
    assert!(read_paste(b"hello\nworld", false).chosen().is_none());
}

#[test]
fn a_password_is_not_kept() {
    let r = read_paste(
        b"pika.exceptions.AMQPConnectionError: amqp://app:hunter2@10.0.0.5:5672/ Connection reset by peer\n",
        false,
    );
    let c = r.chosen().map(|c| c.text.clone()).unwrap_or_default();
    assert!(!c.contains("hunter2") && c.contains("***"), "{c}");
}

#[test]
fn the_prefilter_never_hides_a_line() {
    let mut lines: Vec<String> = log_patterns().iter().map(|p| p.example.clone()).collect();
    lines.extend(
        [
            "errno 104",
            "[Errno 111] Connection refused",
            "os error 32",
            "reply-code=320",
            "Exception (403) Reason: x",
            "closed by server: 320",
            "INFO pika.adapters.blocking_connection: hello",
            "ConnectionResetError",
            "connection-forced",
        ]
        .map(String::from),
    );
    for line in lines {
        let lower = line.to_lowercase();
        if recognise(&lower).is_some() {
            assert!(worth_reading(&lower), "{line}");
        }
    }
    assert!(!worth_reading(
        "2019-10-11 info worker: processed message id=42 in 3 ms"
    ));
}
