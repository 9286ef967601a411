//! What `proxy` does to a connection: the middlebox behaviours it
//! reproduces, and the two directions of a proxied flow.

use serde::{Deserialize, Serialize};

/// What a middlebox does to a flow that stayed idle past its timeout.
/// (Deserialize: data/knowledge/middleboxes.toml names one per middlebox.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OnIdle {
    /// RST to both sides at the timeout (Azure LB with "TCP reset on idle").
    Reset,
    /// Nothing at the timeout; the next packet from either side is answered
    /// with RST to its sender, and the other side is never told (a NAT
    /// gateway, an NLB, Linux conntrack).
    Forget,
    /// Forward nothing more, keep both sockets open (a blackhole).
    Drop,
    /// FIN to both sides (HAProxy's `timeout client`).
    Close,
}

impl OnIdle {
    /// What it does, in words, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            OnIdle::Reset => "reset both sides (RST)",
            OnIdle::Forget => {
                "forget the flow: the next packet from either side gets RST, the other side is \
                 never told"
            }
            OnIdle::Drop => "drop: forward nothing more, keep both sockets open (blackhole)",
            OnIdle::Close => "close both sides (FIN)",
        }
    }
}

/// A direction through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Direction {
    /// Client → broker.
    ToServer,
    /// Broker → client.
    ToClient,
}

impl Direction {
    /// `→` or `←`, for frame logs (client on the left).
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::ToServer => "→",
            Direction::ToClient => "←",
        }
    }
}
