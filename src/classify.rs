//! Pure classification: errno classes, end kinds, predictions and verdicts.
//!
//! Input is a [`Timeline`](crate::timeline::Timeline) plus the negotiated
//! values; output is a [`Verdict`]. No sockets here.

use serde::Serialize;

/// The three heartbeat modes (see DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Serviced,
    Starved,
    Disabled,
}

/// Verdict codes. A contract: add, never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
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
}

impl VerdictCode {
    pub const ALL: [VerdictCode; 13] = [
        VerdictCode::Healthy,
        VerdictCode::BrokerHeartbeatTimeout,
        VerdictCode::ServerClosed,
        VerdictCode::PeerReset,
        VerdictCode::PeerClosed,
        VerdictCode::PathIdleTimeout,
        VerdictCode::SilentLoss,
        VerdictCode::Blocked,
        VerdictCode::ConnectFailed,
        VerdictCode::AuthFailed,
        VerdictCode::VhostNotAllowed,
        VerdictCode::ProtocolMismatch,
        VerdictCode::Timeout,
    ];

    /// The snake_case name used in JSON and by `explain`.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictCode::Healthy => "healthy",
            VerdictCode::BrokerHeartbeatTimeout => "broker_heartbeat_timeout",
            VerdictCode::ServerClosed => "server_closed",
            VerdictCode::PeerReset => "peer_reset",
            VerdictCode::PeerClosed => "peer_closed",
            VerdictCode::PathIdleTimeout => "path_idle_timeout",
            VerdictCode::SilentLoss => "silent_loss",
            VerdictCode::Blocked => "blocked",
            VerdictCode::ConnectFailed => "connect_failed",
            VerdictCode::AuthFailed => "auth_failed",
            VerdictCode::VhostNotAllowed => "vhost_not_allowed",
            VerdictCode::ProtocolMismatch => "protocol_mismatch",
            VerdictCode::Timeout => "timeout",
        }
    }
}

impl std::fmt::Display for VerdictCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_code_names_match_serde() {
        for code in VerdictCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::Value::String(code.as_str().into()));
        }
    }
}
