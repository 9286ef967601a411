//! How a connection ended, from the reason text the broker logged. The
//! recognition is the knowledge base's (data/knowledge/logs.toml, the
//! patterns `explain` uses): the first pattern that matches names the
//! cause; the few reason shapes the base has no row for are read here.

use serde::Serialize;

use crate::knowledge::log_patterns;

/// A connection's ending, as a code (JSON `cause`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// `closing AMQP connection` with no reason: the client sent Connection.Close.
    NormalClose,
    /// `missed heartbeats from client, timeout: Ns`.
    BrokerHeartbeatTimeout,
    /// `client unexpectedly closed TCP connection` after the connection was
    /// open: FIN or RST without Connection.Close.
    ClientClosedAbruptly,
    /// The same before the handshake completed (`connection_closed_abruptly`).
    ClosedDuringHandshake,
    /// 320 CONNECTION_FORCED by an operator (close_connection, management UI).
    ForcedByOperator,
    /// 320 CONNECTION_FORCED because the broker shut down.
    BrokerShutdown,
    AuthFailed,
    VhostNotAllowed,
    /// Refused at Connection.Open: a vhost's or user's max-connections.
    ConnectionLimit,
    HandshakeTimeout,
    TlsError,
    /// A frame or protocol error (bad header, unexpected frame, …).
    ProtocolError,
    /// A socket error on the broker's side (econnreset, etimedout, …).
    NetworkError,
    /// Closed while a resource alarm blocked publishers.
    Blocked,
    /// A reason not recognised (kept in `reason`).
    OtherError,
}

impl Cause {
    pub fn code(self) -> &'static str {
        match self {
            Cause::NormalClose => "normal_close",
            Cause::BrokerHeartbeatTimeout => "broker_heartbeat_timeout",
            Cause::ClientClosedAbruptly => "client_closed_abruptly",
            Cause::ClosedDuringHandshake => "closed_during_handshake",
            Cause::ForcedByOperator => "forced_by_operator",
            Cause::BrokerShutdown => "broker_shutdown",
            Cause::AuthFailed => "auth_failed",
            Cause::VhostNotAllowed => "vhost_not_allowed",
            Cause::ConnectionLimit => "connection_limit",
            Cause::HandshakeTimeout => "handshake_timeout",
            Cause::TlsError => "tls_error",
            Cause::ProtocolError => "protocol_error",
            Cause::NetworkError => "network_error",
            Cause::Blocked => "blocked",
            Cause::OtherError => "other_error",
        }
    }

    /// Whether this ending is a fault (exit 1): all but a normal close.
    pub fn abnormal(self) -> bool {
        self != Cause::NormalClose
    }

    /// Ended without Connection.Close from either side (the path or the
    /// client's process vanished).
    pub fn abrupt(self) -> bool {
        matches!(self, Cause::ClientClosedAbruptly | Cause::NetworkError)
    }

    /// In words, for the human report.
    pub fn words(self) -> &'static str {
        match self {
            Cause::NormalClose => "closed normally (Connection.Close)",
            Cause::BrokerHeartbeatTimeout => {
                "missed heartbeats: the broker dropped a silent client"
            }
            Cause::ClientClosedAbruptly => "closed abruptly (TCP closed without Connection.Close)",
            Cause::ClosedDuringHandshake => "closed during the handshake",
            Cause::ForcedByOperator => "forced closed by an operator (320)",
            Cause::BrokerShutdown => "forced closed by the broker shutting down (320)",
            Cause::AuthFailed => "login refused",
            Cause::VhostNotAllowed => "virtual host refused",
            Cause::ConnectionLimit => "refused: a vhost's or user's connection limit is reached",
            Cause::HandshakeTimeout => "handshake timed out",
            Cause::TlsError => "TLS error",
            Cause::ProtocolError => "frame or protocol error",
            Cause::NetworkError => "socket error on the broker's side",
            Cause::Blocked => "closed under a resource alarm",
            Cause::OtherError => "other error",
        }
    }
}

/// A knowledge-base log pattern id and the cause it means.
const BY_PATTERN: &[(&str, Cause)] = &[
    ("rabbitmq_missed_heartbeats", Cause::BrokerHeartbeatTimeout),
    (
        "rabbitmq_heartbeat_timeout_term",
        Cause::BrokerHeartbeatTimeout,
    ),
    (
        "rabbitmq_client_closed_abruptly",
        Cause::ClientClosedAbruptly,
    ),
    ("rabbitmq_handshake_timeout", Cause::HandshakeTimeout),
    ("rabbitmq_handshake_timeout_header", Cause::HandshakeTimeout),
    ("rabbitmq_bad_header", Cause::ProtocolError),
    ("rabbitmq_bad_version", Cause::ProtocolError),
    ("rabbitmq_tls_on_plain_port", Cause::TlsError),
    // Before the refusals: a limit's text also says "refused for user".
    ("rabbitmq_user_connection_limit", Cause::ConnectionLimit),
    ("rabbitmq_vhost_connection_limit", Cause::ConnectionLimit),
    ("login_refused", Cause::AuthFailed),
    ("rabbitmq_login_refused_user", Cause::AuthFailed),
    ("access_refused", Cause::AuthFailed),
    ("vhost_not_allowed", Cause::VhostNotAllowed),
    ("rabbitmq_vhost_not_found", Cause::VhostNotAllowed),
    ("resource_alarm", Cause::Blocked),
    ("rabbitmq_management_close", Cause::ForcedByOperator),
    ("rabbitmq_close_connection_cli", Cause::ForcedByOperator),
    ("rabbitmq_shutdown", Cause::BrokerShutdown),
    ("rabbitmq_maintenance_mode", Cause::BrokerShutdown),
    ("connection_forced", Cause::ForcedByOperator),
    ("connection_reset", Cause::NetworkError),
    ("connection_timed_out", Cause::NetworkError),
    ("broken_pipe", Cause::NetworkError),
];

/// Reason shapes the knowledge base has no row for (lowercase needles).
const OWN: &[(&str, Cause)] = &[
    ("connection_closed_abruptly", Cause::ClosedDuringHandshake),
    ("econnreset", Cause::NetworkError),
    ("etimedout", Cause::NetworkError),
    ("inet_error", Cause::NetworkError),
    ("frame_error", Cause::ProtocolError),
    ("unexpected_frame", Cause::ProtocolError),
    ("command_invalid", Cause::ProtocolError),
    ("syntax_error", Cause::ProtocolError),
    ("frame_too_large", Cause::ProtocolError),
    ("tls", Cause::TlsError),
    ("ssl", Cause::TlsError),
    ("handshake_timeout", Cause::HandshakeTimeout),
];

/// `["3 broker_heartbeat_timeout", …]`: the deaths other than normal closes
/// in a per-cause count, for prose and tables.
pub fn abnormal_counts(by_cause: &std::collections::BTreeMap<Cause, u64>) -> Vec<String> {
    by_cause
        .iter()
        .filter(|(c, _)| c.abnormal())
        .map(|(c, n)| format!("{n} {}", c.code()))
        .collect()
}

/// The cause a reason text names, and T when it states one.
pub fn cause_of(reason: &str) -> (Cause, Option<u32>) {
    let lower = reason.to_lowercase();
    let t = heartbeat_t(&lower);
    let kb = log_patterns()
        .iter()
        .filter(|p| p.needles.iter().all(|n| lower.contains(n.as_str())))
        .find_map(|p| BY_PATTERN.iter().find(|(id, _)| *id == p.id).map(|r| r.1));
    let own = || OWN.iter().find(|(n, _)| lower.contains(n)).map(|r| r.1);
    (kb.or_else(own).unwrap_or(Cause::OtherError), t)
}

/// `timeout: 60s` → 60.
fn heartbeat_t(lower: &str) -> Option<u32> {
    let i = lower.find("timeout: ")?;
    let digits: String = lower[i + 9..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons() {
        let table: &[(&str, Cause, Option<u32>)] = &[
            // The local RabbitMQ 3.10.8.
            ("missed heartbeats from client, timeout: 1s", Cause::BrokerHeartbeatTimeout, Some(1)),
            ("client unexpectedly closed TCP connection", Cause::ClientClosedAbruptly, None),
            ("PLAIN login refused: user 'guest' - invalid credentials", Cause::AuthFailed, None),
            ("vhost novhost not found", Cause::VhostNotAllowed, None),
            ("operation none caused a connection exception connection_forced: \"bye from test\"", Cause::ForcedByOperator, None),
            // https://github.com/rabbitmq/rabbitmq-server/issues/159
            ("{heartbeat_timeout,running}", Cause::BrokerHeartbeatTimeout, None),
            ("{handshake_timeout,frame_header}", Cause::HandshakeTimeout, None),
            ("{bad_header,<<22,3,1,2,0,1,0,1>>}", Cause::ProtocolError, None),
            // an AMQP 0-10 header, measured on 3.10.8
            ("{bad_version,{1,1,0,10}}", Cause::ProtocolError, None),
            ("operation none caused a connection exception connection_forced: \"broker forced connection closure with reason 'shutdown'\"", Cause::BrokerShutdown, None),
            ("{inet_error,etimedout}", Cause::NetworkError, None),
            ("something new", Cause::OtherError, None),
        ];
        for (reason, cause, t) in table {
            assert_eq!(cause_of(reason), (*cause, *t), "{reason}");
        }
    }
}
