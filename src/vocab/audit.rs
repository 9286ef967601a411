//! `audit`'s vocabulary: a client connection as the broker's management
//! API reports it, the flags `audit` raises on it, the silence read off its
//! samples, and the records of `scan` it is joined with. Judged in
//! `classify::audit`, rendered in `report::audit`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

use crate::vocab::scan::Classification;
use crate::vocab::Heartbeat;

/// One reading of a counter: its value at `at_ms` (ms since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSample {
    pub at_ms: u64,
    pub value: u64,
}

/// What a client said about itself in Connection.Start-Ok's client
/// properties (as the management API shows them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientProperties {
    pub product: Option<String>,
    /// `version`, or py-amqp's `product_version`.
    pub version: Option<String>,
    pub platform: Option<String>,
    /// The application's own name for the connection.
    pub connection_name: Option<String>,
    /// The AMQP version its protocol header asked for, as the broker names
    /// it (the API's `protocol`, `AMQP 0-8`): it tells apart generations of
    /// a library that send the same properties (Mono's RabbitMQ.Client
    /// speaks 0-8 and names itself as the .NET client does).
    pub protocol: Option<String>,
}

/// A connection's state as the management API names it (RabbitMQ's
/// rabbit_reader: `running`, `blocking`, `blocked`, `flow`, `closing`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    Running,
    /// An alarm is on and the connection has published since: the broker
    /// will stop reading it at its next publish.
    Blocking,
    /// An alarm is on: the broker no longer reads from it.
    Blocked,
    /// Credit flow: the broker throttles its publishes.
    Flow,
    /// Any other state, as the API wrote it.
    Other(String),
}

impl ConnState {
    pub fn parse(s: &str) -> ConnState {
        match s {
            "running" => ConnState::Running,
            "blocking" => ConnState::Blocking,
            "blocked" => ConnState::Blocked,
            "flow" => ConnState::Flow,
            other => ConnState::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ConnState::Running => "running",
            ConnState::Blocking => "blocking",
            ConnState::Blocked => "blocked",
            ConnState::Flow => "flow",
            ConnState::Other(s) => s,
        }
    }

    /// Whether the broker holds its publishes back: an alarm, or flow control.
    pub fn held_back(&self) -> bool {
        matches!(
            self,
            ConnState::Blocking | ConnState::Blocked | ConnState::Flow
        )
    }
}

/// One client connection as the broker reports it. Every field the API
/// may leave out (direct Erlang connections have no peer, other protocols
/// no heartbeat) is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrokerConnection {
    /// The broker's name for it: `127.0.0.1:54994 -> 127.0.0.1:5672`.
    pub name: String,
    pub node: Option<String>,
    /// `network` or `direct`.
    pub kind: Option<String>,
    pub peer_host: Option<String>,
    pub peer_port: Option<u16>,
    /// The broker's side of the socket.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub vhost: Option<String>,
    pub protocol: Option<String>,
    pub tls: bool,
    pub tls_protocol: Option<String>,
    pub state: Option<ConnState>,
    pub channels: Option<u64>,
    pub connected_at_ms: Option<u64>,
    /// The negotiated heartbeat (the API's `timeout`).
    pub heartbeat: Option<Heartbeat>,
    pub client: ClientProperties,
    pub recv_oct: Option<u64>,
    pub send_oct: Option<u64>,
    /// Bytes per second, as the API computed them.
    pub recv_rate: Option<f64>,
    pub send_rate: Option<f64>,
    /// `recv_oct` over the sampled window, in any order.
    pub recv_samples: Vec<RateSample>,
}

impl BrokerConnection {
    /// The client's address, `host:port` (IPv6 bracketed).
    pub fn peer(&self) -> Option<String> {
        Some(authority(self.peer_host.as_deref()?, self.peer_port?))
    }

    /// The broker's address on this connection, `host:port`.
    pub fn broker_address(&self) -> Option<String> {
        Some(authority(self.host.as_deref()?, self.port?))
    }

    /// How to name it in a sentence: the peer, else the broker's name.
    pub fn label(&self) -> String {
        self.peer().unwrap_or_else(|| self.name.clone())
    }

    /// A direct (Erlang) connection: no socket, no heartbeat.
    pub fn is_direct(&self) -> bool {
        self.kind.as_deref() == Some("direct")
    }
}

fn authority(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Why a connection is flagged (the JSON's `flags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Heartbeat 0: nothing notices a dead peer or a forgotten path.
    HeartbeatOff,
    /// The broker received nothing for longer than T.
    SilentLongerThanT,
    /// The broker is blocking or throttling its publishes.
    Blocked,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::HeartbeatOff => "heartbeat_off",
            Flag::SilentLongerThanT => "silent_longer_than_t",
            Flag::Blocked => "blocked",
        }
    }
}

impl std::fmt::Display for Flag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long the broker had received nothing, read off the samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Silence {
    /// At least this long without a byte from the client, at the newest
    /// sample (0 when bytes came since the one before).
    pub silent_ms: u64,
    /// How much time the usable samples span (those since the connection
    /// opened).
    pub observed_ms: u64,
    /// Silent over everything observed: the silence may be longer.
    pub whole_window: bool,
    /// How many samples were usable.
    pub samples: usize,
    /// The newest sample's time, ms since the Unix epoch.
    pub newest_at_ms: u64,
}

// ---------------------------------------------------------------------------
// The join with `scan`

/// `amqpdoctor scan --format json`, as far as `audit` reads it. Unknown
/// fields are ignored; a missing one is null.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ScanFile {
    #[serde(default)]
    pub connections: Vec<ScanRecord>,
}

/// One connection as `scan` saw it on the application's host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScanRecord {
    pub pid: Option<u32>,
    pub command: Option<String>,
    /// The application's address, `ip:port`.
    pub local: Option<String>,
    /// The broker's address as the application reached it.
    pub remote: Option<String>,
    pub state: Option<String>,
    /// Milliseconds since the application last sent a byte.
    pub last_sent_ms: Option<u64>,
    /// Milliseconds since the application last received a byte.
    pub last_received_ms: Option<u64>,
    pub inferred_heartbeat_s: Option<u16>,
    /// `healthy`, `starving`, `heartbeats_off`, `dead`, `unknown`: the
    /// type scan writes, read back (a value this version does not know
    /// reads as absent).
    #[serde(deserialize_with = "known_classification")]
    pub classification: Option<Classification>,
    pub drop_window_s: Option<[u64; 2]>,
}

/// A scan record's `classification`, leniently: unknown or mistyped → None.
fn known_classification<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Classification>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.as_ref()
        .and_then(serde_json::Value::as_str)
        .and_then(|s| s.parse().ok()))
}

/// An address reduced to what identifies it: IPv4-mapped IPv6 as IPv4,
/// `localhost` as 127.0.0.1, other names lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl Host {
    pub fn parse(host: &str) -> Host {
        let h = host.trim().trim_start_matches('[').trim_end_matches(']');
        if h.eq_ignore_ascii_case("localhost") {
            return Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        match h.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip.to_canonical()),
            Err(_) => Host::Name(h.to_lowercase()),
        }
    }
}

/// `ip:port`, `[v6]:port` or `name:port`, normalised for matching.
pub fn endpoint(text: &str) -> Option<(Host, u16)> {
    let text = text.trim();
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Some((Host::Ip(sa.ip().to_canonical()), sa.port()));
    }
    let (host, port) = text.rsplit_once(':')?;
    Some((Host::parse(host), port.parse().ok()?))
}

/// Which side of a connection stopped talking first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuietFirst {
    /// The application's silence is the longer one, beyond a heartbeat interval.
    Application,
    /// The broker's is.
    Broker,
    /// Neither side is quiet for longer than the other (both talk, or
    /// both went quiet together).
    Neither,
    /// The scan has no times for it.
    Unknown,
}

#[cfg(test)]
mod classification_tests {
    use super::*;

    #[test]
    fn connection_states_round_trip() {
        use ConnState::*;
        for (text, state, held_back) in [
            ("running", Running, false),
            ("blocking", Blocking, true),
            ("blocked", Blocked, true),
            ("flow", Flow, true),
            ("closing", Other("closing".into()), false),
            ("", Other(String::new()), false),
        ] {
            let got = ConnState::parse(text);
            assert_eq!(got, state, "{text}");
            assert_eq!(got.as_str(), text);
            assert_eq!(got.held_back(), held_back, "{text}");
        }
    }

    #[test]
    fn scan_records_read_back_typed_and_leniently() {
        for (json, want) in [
            (r#"{"classification":"dead"}"#, Some(Classification::Dead)),
            (
                r#"{"classification":"heartbeats_off"}"#,
                Some(Classification::HeartbeatsOff),
            ),
            (r#"{"classification":"zombie"}"#, None),
            (r#"{"classification":5}"#, None),
            (r"{}", None),
        ] {
            let r: ScanRecord = serde_json::from_str(json).unwrap();
            assert_eq!(r.classification, want, "{json}");
        }
        let back = serde_json::to_string(&ScanRecord {
            classification: Some(Classification::Starving),
            ..ScanRecord::default()
        })
        .unwrap();
        assert!(back.contains(r#""classification":"starving""#), "{back}");
    }
}
