//! Frames as data: encoding, decoding and naming, on byte buffers only.
//!
//! All AMQP encoding goes through amq-protocol's `gen_frame`/`parse_frame`
//! (the codec lapin itself uses); this file adds the guards a diagnostic
//! tool needs in front of a parser that may be fed anything (an HTTP server,
//! a TLS listener, a truncated stream), and human names for frames.

use amq_protocol::auth::{Credentials, SASLMechanism};
use amq_protocol::frame::{gen_frame, parse_frame, AMQPFrame, WriteContext};
use amq_protocol::protocol::AMQPClass;
use amq_protocol::types::{AMQPValue, FieldTable, LongString, ShortString};

/// Largest frame we accept before Tune told us the real limit. RabbitMQ's
/// Connection.Start is well under 4 KiB.
pub const PRE_TUNE_FRAME_MAX: u32 = 128 * 1024;

/// The largest frame we offer in Tune-Ok, and so the most the reader will
/// ever buffer for one frame: a probe's frames are small, and a hostile
/// server must not choose how much memory we allocate (its Tune may say
/// 4 GiB).
pub const CLIENT_FRAME_MAX: u32 = 128 * 1024;

/// The frame_max we answer in Tune-Ok: the server's limit when it is
/// smaller than ours (0 means "no limit"), else ours. AMQP 0-9-1 requires
/// at least 4096 (frame-min-size); a smaller proposal is taken as it is and
/// the broker's problem.
pub fn negotiate_frame_max(server: u32) -> u32 {
    match server {
        0 => CLIENT_FRAME_MAX,
        s => s.min(CLIENT_FRAME_MAX),
    }
}

/// The result of trying to cut one frame off the front of a buffer.
#[derive(Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // short-lived, never stored in bulk
pub enum Decoded {
    Frame(AMQPFrame, usize),
    NeedMore,
    /// The bytes are not an AMQP 0-9-1 frame. Carries a short description.
    Invalid(String),
}

/// Serialize one frame.
pub fn encode(frame: &AMQPFrame) -> Result<Vec<u8>, String> {
    gen_frame(frame)(WriteContext::from(Vec::new()))
        .map(|ctx| ctx.write)
        .map_err(|e| format!("cannot encode {}: {e:?}", describe(frame)))
}

/// Serialize several frames into one buffer (one write on the socket).
pub fn encode_all(frames: &[AMQPFrame]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for f in frames {
        out.extend(encode(f)?);
    }
    Ok(out)
}

/// Cut one frame off the front of `buf`, refusing frames larger than
/// `frame_max` (so garbage announcing a 4 GiB frame cannot make us wait
/// forever for its end).
pub fn decode(buf: &[u8], frame_max: u32) -> Decoded {
    let Some(&first) = buf.first() else {
        return Decoded::NeedMore;
    };
    match first {
        b'A' => {
            // Only a protocol header starts with 'A': the server refused our
            // protocol version and told us the one it speaks.
            if buf.len() < 8 {
                return if b"AMQP".starts_with(&buf[..buf.len().min(4)]) {
                    Decoded::NeedMore
                } else {
                    Decoded::Invalid(format!("unexpected bytes {}", printable(buf)))
                };
            }
        }
        1..=3 | 8 => {
            if buf.len() >= 7 {
                let size = u32::from_be_bytes([buf[3], buf[4], buf[5], buf[6]]);
                if frame_max > 0 && size.saturating_add(8) > frame_max {
                    return Decoded::Invalid(format!(
                        "frame of {size} bytes exceeds frame_max {frame_max}"
                    ));
                }
            }
        }
        _ => {
            return Decoded::Invalid(format!(
                "not an AMQP frame: {}",
                printable(&buf[..buf.len().min(16)])
            ))
        }
    }
    match parse_frame(buf) {
        Ok((rest, frame)) => Decoded::Frame(frame, buf.len() - rest.len()),
        Err(e) if e.is_incomplete() => Decoded::NeedMore,
        // The parser's error is a Debug print; the bytes say more.
        Err(_) if first == b'A' => Decoded::Invalid(printable(&buf[..8])),
        Err(_) => Decoded::Invalid(format!(
            "unparsable frame: {}",
            printable(&buf[..buf.len().min(16)])
        )),
    }
}

/// Bytes as text for an error message: printable ASCII as is, the rest as
/// `\xNN`.
pub fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(32)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                (b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}

/// `Connection.Start`, `Basic.Ack`, `heartbeat`, … for the timeline.
pub fn describe(frame: &AMQPFrame) -> String {
    match frame {
        AMQPFrame::ProtocolHeader(v) => {
            format!(
                "protocol header AMQP {}-{}-{}",
                v.major, v.minor, v.revision
            )
        }
        AMQPFrame::Heartbeat => "heartbeat".into(),
        AMQPFrame::InvalidHeartbeat(ch) => format!("heartbeat on channel {ch} (invalid)"),
        AMQPFrame::Method(_, class) => method_name(class),
        AMQPFrame::Header(_, h) => format!("content header ({} byte body)", h.body_size),
        AMQPFrame::Body(_, b) => format!("content body ({} bytes)", b.len()),
    }
}

/// `Class.Method` for a method frame.
pub fn method_name(class: &AMQPClass) -> String {
    method_name_by_id(class.get_amqp_class_id(), class.get_amqp_method_id())
}

/// One class of AMQP 0-9-1: its id, its name and its methods as (method
/// id, method name), as the 0-9-1 specification numbers them.
type ClassNames = (u16, &'static str, &'static [(u16, &'static str)]);

/// The classes of AMQP 0-9-1 and their methods, by id.
const METHOD_NAMES: &[ClassNames] = &[
    (
        10,
        "Connection",
        &[
            (10, "Start"),
            (11, "StartOk"),
            (20, "Secure"),
            (21, "SecureOk"),
            (30, "Tune"),
            (31, "TuneOk"),
            (40, "Open"),
            (41, "OpenOk"),
            (50, "Close"),
            (51, "CloseOk"),
            (60, "Blocked"),
            (61, "Unblocked"),
            (70, "UpdateSecret"),
            (71, "UpdateSecretOk"),
        ],
    ),
    (
        20,
        "Channel",
        &[
            (10, "Open"),
            (11, "OpenOk"),
            (20, "Flow"),
            (21, "FlowOk"),
            (40, "Close"),
            (41, "CloseOk"),
        ],
    ),
    (
        40,
        "Exchange",
        &[
            (10, "Declare"),
            (11, "DeclareOk"),
            (20, "Delete"),
            (21, "DeleteOk"),
            (30, "Bind"),
            (31, "BindOk"),
            (40, "Unbind"),
            (51, "UnbindOk"),
        ],
    ),
    (
        50,
        "Queue",
        &[
            (10, "Declare"),
            (11, "DeclareOk"),
            (20, "Bind"),
            (21, "BindOk"),
            (30, "Purge"),
            (31, "PurgeOk"),
            (40, "Delete"),
            (41, "DeleteOk"),
            (50, "Unbind"),
            (51, "UnbindOk"),
        ],
    ),
    (
        60,
        "Basic",
        &[
            (10, "Qos"),
            (11, "QosOk"),
            (20, "Consume"),
            (21, "ConsumeOk"),
            (30, "Cancel"),
            (31, "CancelOk"),
            (40, "Publish"),
            (50, "Return"),
            (60, "Deliver"),
            (70, "Get"),
            (71, "GetOk"),
            (72, "GetEmpty"),
            (80, "Ack"),
            (90, "Reject"),
            (100, "RecoverAsync"),
            (110, "Recover"),
            (111, "RecoverOk"),
            (120, "Nack"),
        ],
    ),
    (85, "Confirm", &[(10, "Select"), (11, "SelectOk")]),
    (
        90,
        "Tx",
        &[
            (10, "Select"),
            (11, "SelectOk"),
            (20, "Commit"),
            (21, "CommitOk"),
            (30, "Rollback"),
            (31, "RollbackOk"),
        ],
    ),
];

/// `Class.Method` from numeric ids, as Connection.Close's class_id/method_id
/// name the method that caused an error.
pub fn method_name_by_id(class_id: u16, method_id: u16) -> String {
    if class_id == 0 {
        return "none".into();
    }
    let Some((_, class, methods)) = METHOD_NAMES.iter().find(|(id, _, _)| *id == class_id) else {
        return format!("class {class_id} method {method_id}");
    };
    match methods.iter().find(|(id, _)| *id == method_id) {
        Some((_, m)) => format!("{class}.{m}"),
        None => format!("{class}.method {method_id}"),
    }
}

/// What the server said about itself in Connection.Start.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ServerInfo {
    pub product: Option<String>,
    pub version: Option<String>,
    pub platform: Option<String>,
    pub cluster_name: Option<String>,
    /// Capabilities the server announced, with their values.
    pub capabilities: Vec<(String, bool)>,
    pub mechanisms: Vec<String>,
    pub locales: Vec<String>,
    pub protocol: String,
}

impl ServerInfo {
    pub fn from_start(start: &amq_protocol::protocol::connection::Start) -> Self {
        let props = start.server_properties.inner();
        let text = |k: &str| props.get(k).and_then(value_text);
        let capabilities = match props.get("capabilities") {
            Some(AMQPValue::FieldTable(t)) => t
                .inner()
                .iter()
                .filter_map(|(k, v)| match v {
                    AMQPValue::Boolean(b) => Some((k.to_string(), *b)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let words = |s: &LongString| {
            String::from_utf8_lossy(s.as_bytes())
                .split_whitespace()
                .map(str::to_string)
                .collect()
        };
        ServerInfo {
            product: text("product"),
            version: text("version"),
            platform: text("platform"),
            cluster_name: text("cluster_name"),
            capabilities,
            mechanisms: words(&start.mechanisms),
            locales: words(&start.locales),
            protocol: format!("AMQP 0-{}-{}", start.version_major, start.version_minor),
        }
    }

    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities.iter().any(|(k, v)| k == name && *v)
    }
}

fn value_text(v: &AMQPValue) -> Option<String> {
    match v {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.to_string()),
        _ => None,
    }
}

/// Client properties for Start-Ok: who we are (brokers show the connection
/// name in their UI and `rabbitmqctl list_connections`), and the capabilities
/// that make the broker tell us more (Blocked, Nack, auth failure Close).
pub fn client_properties(connection_name: &str) -> FieldTable {
    let mut caps = FieldTable::default();
    for cap in [
        "connection.blocked",
        "publisher_confirms",
        "consumer_cancel_notify",
        "authentication_failure_close",
        "basic.nack",
        "exchange_exchange_bindings",
    ] {
        caps.insert(ShortString::from(cap), AMQPValue::Boolean(true));
    }
    let mut t = FieldTable::default();
    let mut text = |k: &str, v: &str| {
        t.insert(ShortString::from(k), AMQPValue::LongString(v.into()));
    };
    text("product", "amqpdoctor");
    text("version", env!("CARGO_PKG_VERSION"));
    text("platform", "Rust");
    text(
        "information",
        "AMQP connection liveness diagnostics; this connection is a probe",
    );
    text("connection_name", connection_name);
    t.insert(
        ShortString::from("capabilities"),
        AMQPValue::FieldTable(caps),
    );
    t
}

/// SASL PLAIN response: `\0user\0password`, built by amq-protocol (the
/// code lapin uses), not by hand.
pub fn plain_response(user: &str, password: &str) -> LongString {
    Credentials::new(user.into(), password.into()).sasl_auth_string(SASLMechanism::Plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use amq_protocol::frame::ProtocolVersion;
    use amq_protocol::protocol::connection;

    #[test]
    fn heartbeat_frame_is_the_eight_bytes_rabbitmq_sends() {
        assert_eq!(
            encode(&AMQPFrame::Heartbeat).unwrap(),
            vec![8, 0, 0, 0, 0, 0, 0, 0xCE]
        );
    }

    #[test]
    fn round_trips_a_method_frame_and_reports_its_length() {
        let close = AMQPFrame::Method(
            0,
            AMQPClass::Connection(connection::AMQPMethod::Close(connection::Close {
                reply_code: 320,
                reply_text: "CONNECTION_FORCED - bye".into(),
                class_id: 0,
                method_id: 0,
            })),
        );
        let mut bytes = encode(&close).unwrap();
        let n = bytes.len();
        bytes.extend_from_slice(&[8, 0]); // start of a next frame
        assert_eq!(decode(&bytes, 0), Decoded::Frame(close.clone(), n));
        assert_eq!(decode(&bytes[..n - 1], 0), Decoded::NeedMore);
        assert_eq!(describe(&close), "Connection.Close");
    }

    #[test]
    fn rejects_what_is_not_amqp() {
        let rows: &[(&[u8], bool)] = &[
            (b"HTTP/1.1 400 Bad Request\r\n", true),
            (b"\x16\x03\x01\x00", true), // a TLS record
            (b"AMQP\x00\x00\x09\x01", false),
            (b"AM", false),
            (b"AX", true),
            (b"", false),
        ];
        for (bytes, invalid) in rows {
            let d = decode(bytes, PRE_TUNE_FRAME_MAX);
            assert_eq!(
                matches!(d, Decoded::Invalid(_)),
                *invalid,
                "{bytes:?}: {d:?}"
            );
        }
        assert_eq!(
            decode(b"AMQP\x00\x00\x09\x01", 0),
            Decoded::Frame(AMQPFrame::ProtocolHeader(ProtocolVersion::amqp_0_9_1()), 8)
        );
    }

    #[test]
    fn frame_max_is_never_the_servers_to_choose_alone() {
        // (server's Tune frame_max, our Tune-Ok)
        for (server, ours) in [
            (0, CLIENT_FRAME_MAX),
            (u32::MAX, CLIENT_FRAME_MAX),
            (131_072, 131_072),
            (8192, 8192),
        ] {
            assert_eq!(negotiate_frame_max(server), ours, "{server}");
        }
    }

    #[test]
    fn refuses_frames_larger_than_frame_max() {
        let huge = [1u8, 0, 0, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(decode(&huge, 131072), Decoded::Invalid(_)));
    }

    #[test]
    fn names_methods_by_id() {
        let rows = [
            (10, 50, "Connection.Close"),
            (60, 80, "Basic.Ack"),
            (50, 10, "Queue.Declare"),
            (85, 11, "Confirm.SelectOk"),
            (60, 999, "Basic.method 999"),
            (77, 1, "class 77 method 1"),
            (0, 0, "none"),
        ];
        for (c, m, want) in rows {
            assert_eq!(method_name_by_id(c, m), want);
        }
    }

    #[test]
    fn plain_response_layout() {
        assert_eq!(plain_response("u", "p").as_bytes(), b"\0u\0p");
    }

    #[test]
    fn printable_escapes_binary() {
        assert_eq!(printable(b"AB\x00\xff"), "AB\\x00\\xff");
    }
}
