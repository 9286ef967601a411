//! The shared vocabulary: small typed values every layer speaks.
//!
//! This is the bottom of the layer stack (see the crate docs): it imports
//! nothing from the crate, so the network layer, the classifier, the
//! knowledge tables and the renderers can all use these types without
//! reaching sideways into each other.
//!
//! | type | what it names |
//! |---|---|
//! | [`Mode`] | a heartbeat mode (serviced, starved, disabled) |
//! | [`VerdictCode`] | a verdict (a contract: add, never rename) |
//! | [`Heartbeat`], [`HeartbeatRequest`] | T, and what a client asks for in Tune-Ok |
//! | [`Stage`], [`Op`], [`Awaiting`] | where a run was, what it was doing, what it waited for |
//! | [`CloseInfo`], [`SetupError`], [`FailureKind`] | how a connection or its setup failed, before any verdict |
//! | [`Negotiation`], [`Destination`] | what was agreed, where messages go |
//! | [`format`] | the output formats every command's `--format` chooses from |
//! | [`check`] | the steps of `check`, how one fails, and the expectations on them |
//! | [`proxy`] | what `proxy` does to an idle flow, and a flow's directions |
//! | [`idle`] | what `idle-timeout` learns from one connection |
//! | [`tls`] | TLS client families, what rustls refused, what a run accepted anyway |
//! | [`units`] | durations and errno names as people read them |

mod answer;
pub(crate) mod audit;
pub(crate) mod check;
pub mod format;
mod heartbeat;
pub(crate) mod idle;
pub(crate) mod proxy;
pub(crate) mod scan;
pub(crate) mod tls;
pub(crate) mod units;

use std::fmt;

use serde::{Serialize, Serializer};

pub use answer::PeerAnswer;
pub use heartbeat::{Heartbeat, HeartbeatRequest};

/// The three heartbeat modes (see docs/heartbeats.md).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Mode {
    Serviced,
    Starved,
    Disabled,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The name the broker shows for a connection in this mode.
    pub fn connection_name(self) -> String {
        format!("amqpdoctor/{self}")
    }
}

/// Who services a starved-mode connection while it idles (`--pump-every`,
/// or `probe --client` for a library that beats on its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pumper {
    /// The application calls into the library (pika's
    /// `process_data_events()`): the remedy for a starving app.
    #[default]
    Application,
    /// The library's own timer, thread or loop, as `--client` emulates it.
    Library,
}

/// Verdict codes. A contract: add, never rename.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    serde::Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum VerdictCode {
    Healthy,
    BrokerHeartbeatTimeout,
    ServerClosed,
    PeerReset,
    PeerClosed,
    PathIdleTimeout,
    SilentLoss,
    Blocked,
    ConnectFailed,
    AuthFailed,
    VhostNotAllowed,
    ProtocolMismatch,
    Timeout,
    /// The broker closed the channel with 404: the exchange published to
    /// does not exist.
    ExchangeNotFound,
    /// The broker nacked a publish, or returned it unroutable.
    MessageRefused,
    /// Ctrl-C ended the run before it could be diagnosed.
    Interrupted,
    /// TLS: the server's certificate chain does not lead to a trusted CA.
    TlsUnknownCa,
    /// TLS: the server's certificate is not for the name connected to.
    TlsNameMismatch,
    /// TLS: the server's certificate has expired.
    TlsCertificateExpired,
    /// TLS: the server's certificate is not valid yet (a clock, or a new cert).
    TlsCertificateNotYetValid,
    /// TLS: the server requires a client certificate and none was given.
    TlsClientCertificateRequired,
    /// TLS: the server refused the client certificate given.
    TlsClientCertificateRefused,
    /// TLS was spoken to a port that speaks plain AMQP.
    TlsToPlainPort,
    /// Plain AMQP was spoken to a port that speaks TLS.
    PlainToTlsPort,
    /// Client and server share no TLS protocol version.
    TlsVersionMismatch,
    /// Any other TLS failure (the message says which).
    TlsFailed,
    /// The broker closed the channel because a delivery stayed unacknowledged
    /// longer than its `consumer_timeout` (406 PRECONDITION_FAILED).
    ConsumerAckTimeout,
    /// An operator closed the connection (`rabbitmqctl close_connection`, the
    /// management UI): 320 CONNECTION_FORCED with the operator's text.
    OperatorClosed,
    /// The broker closed the connection because it is shutting down or
    /// restarting (320 CONNECTION_FORCED, reason 'shutdown').
    BrokerShutdown,
    /// The broker refused Connection.Open: a vhost or user connection limit
    /// (max-connections) is reached.
    ConnectionLimit,
    /// The broker closed the channel because a message was larger than its
    /// `max_message_size` (406 PRECONDITION_FAILED).
    MessageTooLarge,
}

impl VerdictCode {
    /// A TLS failure (the handshake, or TLS and plain AMQP meeting).
    pub fn is_tls(self) -> bool {
        matches!(
            self,
            VerdictCode::TlsUnknownCa
                | VerdictCode::TlsNameMismatch
                | VerdictCode::TlsCertificateExpired
                | VerdictCode::TlsCertificateNotYetValid
                | VerdictCode::TlsClientCertificateRequired
                | VerdictCode::TlsClientCertificateRefused
                | VerdictCode::TlsToPlainPort
                | VerdictCode::PlainToTlsPort
                | VerdictCode::TlsVersionMismatch
                | VerdictCode::TlsFailed
        )
    }

    /// The snake_case name used in JSON and by `explain`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How far a run got before it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Stage {
    /// Resolving the host and opening the TCP connection.
    Connect,
    /// The TLS handshake (amqps:// only).
    Tls,
    /// Protocol header to Connection.Open-Ok.
    Handshake,
    /// Channel.Open, Confirm.Select, the private queue.
    Channel,
}

/// What a connection was waiting for when a read ended, timed out or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Awaiting {
    ConnectionStart,
    ConnectionTune,
    ConnectionOpenOk,
    ChannelOpenOk,
    ConfirmSelectOk,
    QueueDeclareOk,
    QueueBindOk,
    /// Basic.Get-Ok or Basic.Get-Empty.
    GetOk,
    /// The content header and body frames of a message.
    Content,
    ConnectionCloseOk,
    /// Deliveries to a consumer that holds them (`probe --consume`).
    Deliveries,
    Confirms,
    PendingFrames,
    Heartbeats,
    /// A write the kernel would not take (send buffer full).
    WriteAccepted(String),
    /// The TCP connect to this address.
    TcpConnect(String),
    /// The TLS handshake of an amqps:// connection.
    TlsHandshake,
    /// A client library's whole handshake.
    Handshake,
    /// A client library's channel, confirm and queue setup.
    ChannelSetup,
}

impl fmt::Display for Awaiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Awaiting::ConnectionStart => "Connection.Start",
            Awaiting::ConnectionTune => "Connection.Tune",
            Awaiting::ConnectionOpenOk => "Connection.Open-Ok",
            Awaiting::ChannelOpenOk => "Channel.Open-Ok",
            Awaiting::ConfirmSelectOk => "Confirm.Select-Ok",
            Awaiting::QueueDeclareOk => "Queue.Declare-Ok",
            Awaiting::QueueBindOk => "Queue.Bind-Ok",
            Awaiting::GetOk => "Basic.Get-Ok or Basic.Get-Empty",
            Awaiting::Content => "the message's content frames",
            Awaiting::ConnectionCloseOk => "Connection.Close-Ok",
            Awaiting::Deliveries => "Basic.Deliver",
            Awaiting::Confirms => "publisher confirms",
            Awaiting::PendingFrames => "pending frames",
            Awaiting::Heartbeats => "heartbeats",
            Awaiting::WriteAccepted(what) => return write!(f, "the kernel to accept {what}"),
            Awaiting::TcpConnect(addr) => return write!(f, "TCP connect to {addr}"),
            Awaiting::TlsHandshake => "the TLS handshake",
            Awaiting::Handshake => "the handshake",
            Awaiting::ChannelSetup => "channel setup",
        };
        f.write_str(s)
    }
}

impl Serialize for Awaiting {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a connection was doing when an I/O call failed. Serialized as the
/// phrase the timeline shows ("writing Basic.Publish").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Connect(String),
    /// Writing frames; names the first.
    Write(String),
    /// Writing a Basic.Publish (method, header and body frames).
    Publish,
    Read(Awaiting),
    /// A client library's own operation, named in its words.
    Library(&'static str),
}

impl Op {
    /// Whether the failure showed on a write (EPIPE and ECONNRESET on a
    /// write mean the application found out only by sending).
    pub fn is_write(&self) -> bool {
        matches!(self, Op::Write(_) | Op::Publish)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Connect(addr) => write!(f, "connecting to {addr}"),
            Op::Write(what) => write!(f, "writing {what}"),
            Op::Publish => f.write_str("writing Basic.Publish"),
            Op::Read(what) => write!(f, "reading ({what})"),
            Op::Library(what) => f.write_str(what),
        }
    }
}

impl Serialize for Op {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How a Connection.Close or Channel.Close described an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CloseInfo {
    pub reply_code: u16,
    pub reply_text: String,
    pub class_id: u16,
    pub method_id: u16,
}

/// What went wrong while opening a connection or its channel, as the
/// network layer saw it: typed facts, no verdict (the classifier maps them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// An I/O error with its errno (ECONNREFUSED, ECONNRESET, …).
    Io { errno: Option<i32> },
    /// The peer closed the TCP connection (EOF) while we waited.
    Eof { awaiting: Awaiting },
    /// No answer within the step timeout.
    Timeout,
    /// The peer does not speak AMQP 0-9-1; what it answered instead.
    ProtocolMismatch(PeerAnswer),
    /// It spoke AMQP but broke the protocol.
    Invalid,
    /// It offered no SASL mechanism we can use (we log in with PLAIN).
    NoMechanism { offered: Vec<String> },
    /// Connection.Close from the server.
    ConnectionClose(CloseInfo),
    /// Channel.Close from the server.
    ChannelClose(CloseInfo),
    /// The TLS handshake failed, or TLS and plain AMQP met.
    Tls(TlsFailure),
}

/// How a TLS connection failed, as far as the client can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum TlsFailure {
    UnknownCa,
    NameMismatch,
    Expired,
    NotYetValid,
    ClientCertificateRequired,
    ClientCertificateRefused,
    /// TLS spoken to a plain port: the answer was not TLS.
    ToPlainPort,
    /// Plain AMQP spoken to a TLS port: the answer was a TLS alert.
    PlainToTlsPort,
    VersionMismatch,
    Other,
}

impl TlsFailure {
    /// The verdict for this failure.
    pub fn verdict(self) -> VerdictCode {
        match self {
            TlsFailure::UnknownCa => VerdictCode::TlsUnknownCa,
            TlsFailure::NameMismatch => VerdictCode::TlsNameMismatch,
            TlsFailure::Expired => VerdictCode::TlsCertificateExpired,
            TlsFailure::NotYetValid => VerdictCode::TlsCertificateNotYetValid,
            TlsFailure::ClientCertificateRequired => VerdictCode::TlsClientCertificateRequired,
            TlsFailure::ClientCertificateRefused => VerdictCode::TlsClientCertificateRefused,
            TlsFailure::ToPlainPort => VerdictCode::TlsToPlainPort,
            TlsFailure::PlainToTlsPort => VerdictCode::PlainToTlsPort,
            TlsFailure::VersionMismatch => VerdictCode::TlsVersionMismatch,
            TlsFailure::Other => VerdictCode::TlsFailed,
        }
    }
}

/// A run that could not get as far as its experiment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError {
    pub stage: Stage,
    pub kind: FailureKind,
    /// One line for people, naming the operation and the peer (redacted).
    pub message: String,
}

impl SetupError {
    pub fn errno(&self) -> Option<i32> {
        match self.kind {
            FailureKind::Io { errno } => errno,
            _ => None,
        }
    }

    pub fn close(&self) -> Option<&CloseInfo> {
        match &self.kind {
            FailureKind::ConnectionClose(c) | FailureKind::ChannelClose(c) => Some(c),
            _ => None,
        }
    }
}

/// The heartbeat negotiation of one connection (JSON contract names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Negotiation {
    /// What the server proposed in Connection.Tune (null when the client cannot see it).
    pub server_heartbeat_s: Option<Heartbeat>,
    /// What the client asked for; null means "accept the server's proposal".
    pub requested_heartbeat_s: Option<u16>,
    pub negotiated_heartbeat_s: Heartbeat,
    pub frame_max: u32,
    pub channel_max: u16,
}

/// Where probe messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// An exclusive, auto-delete queue of the probe's own (named by it),
    /// through the default exchange: touches no user data, leaves nothing.
    OwnQueue,
    /// The user named these explicitly.
    Exchange {
        exchange: String,
        routing_key: String,
    },
}

impl fmt::Display for Destination {
    /// `own_queue` or `exchange:<name>/<key>` (the report's settings field).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::OwnQueue => f.write_str("own_queue"),
            Destination::Exchange {
                exchange,
                routing_key,
            } => write!(f, "exchange:{exchange}/{routing_key}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    #[test]
    fn names_match_serde() {
        for code in VerdictCode::VARIANTS {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::Value::String(code.as_str().into()));
            assert_eq!(code.as_str().parse::<VerdictCode>(), Ok(*code));
        }
        for mode in Mode::VARIANTS {
            let json = serde_json::to_value(mode).unwrap();
            assert_eq!(json, serde_json::Value::String(mode.to_string()));
        }
        assert_eq!(Mode::Starved.connection_name(), "amqpdoctor/starved");
    }

    #[test]
    fn ops_and_waits_read_as_phrases() {
        let rows = [
            (Op::Publish, "writing Basic.Publish", true),
            (
                Op::Write("Connection.Close".into()),
                "writing Connection.Close",
                true,
            ),
            (
                Op::Read(Awaiting::ConnectionTune),
                "reading (Connection.Tune)",
                false,
            ),
            (
                Op::Connect("127.0.0.1:1".into()),
                "connecting to 127.0.0.1:1",
                false,
            ),
            (Op::Library("closing"), "closing", false),
        ];
        for (op, text, write) in rows {
            assert_eq!(op.to_string(), text);
            assert_eq!(op.is_write(), write, "{text}");
            assert_eq!(serde_json::to_value(&op).unwrap(), text);
        }
        assert_eq!(
            Awaiting::WriteAccepted("Basic.Publish".into()).to_string(),
            "the kernel to accept Basic.Publish"
        );
    }
}
