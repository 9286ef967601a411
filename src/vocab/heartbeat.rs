//! T, the negotiated heartbeat timeout, and the arithmetic every layer
//! needs from it: each side sends after T/2 of silence, RabbitMQ drops a
//! silent client between 2T and 3T. One place, so nobody writes `t * 500`.

use std::time::Duration;

use serde::Serialize;

/// A heartbeat timeout T in whole seconds, as AMQP's Tune carries it
/// (an unsigned 16-bit count; 0 means heartbeats are off). Serializes as the
/// bare number of seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Heartbeat(u16);

impl Heartbeat {
    pub const OFF: Heartbeat = Heartbeat(0);

    pub const fn from_secs(s: u16) -> Self {
        Heartbeat(s)
    }

    pub const fn secs(self) -> u16 {
        self.0
    }

    pub const fn is_off(self) -> bool {
        self.0 == 0
    }

    /// T in milliseconds.
    pub const fn ms(self) -> u64 {
        self.0 as u64 * 1000
    }

    /// T/2: each side sends a heartbeat after this long without other
    /// traffic (0 when off).
    pub const fn send_every_ms(self) -> u64 {
        self.0 as u64 * 500
    }

    /// 2T: the least client silence after which RabbitMQ may drop it (it
    /// samples received bytes once per T and gives up after two empty
    /// samples).
    pub const fn broker_may_drop_ms(self) -> u64 {
        2 * self.ms()
    }

    /// 3T: by then RabbitMQ has dropped a silent client.
    pub const fn broker_drops_by_ms(self) -> u64 {
        3 * self.ms()
    }

    /// The idle `--idle auto` picks: long enough for a starved client to be
    /// dropped (3T) plus 2 s of margin; 10 s when heartbeats are off.
    pub const fn auto_idle(self) -> Duration {
        if self.is_off() {
            Duration::from_secs(10)
        } else {
            Duration::from_secs(3 * self.0 as u64 + 2)
        }
    }
}

impl std::fmt::Display for Heartbeat {
    /// `60 s`, or `0 (off)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_off() {
            f.write_str("0 (off)")
        } else {
            write!(f, "{} s", self.0)
        }
    }
}

/// The heartbeat a client asks for in Tune-Ok.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeartbeatRequest {
    /// Accept whatever the server proposes in Connection.Tune.
    Server,
    /// Ask for this many seconds (0 disables heartbeats).
    Seconds(u16),
}

impl HeartbeatRequest {
    /// The number asked for; `None` means "the server's proposal".
    pub fn requested_s(self) -> Option<u16> {
        match self {
            HeartbeatRequest::Server => None,
            HeartbeatRequest::Seconds(s) => Some(s),
        }
    }

    /// The Tune-Ok value our wire client sends: the request as it is
    /// (RabbitMQ adopts the client's value), or the server's proposal.
    pub fn tune_ok(self, server: Heartbeat) -> Heartbeat {
        match self {
            HeartbeatRequest::Server => server,
            HeartbeatRequest::Seconds(s) => Heartbeat(s),
        }
    }

    /// As the user could type it back: `server`, `0s`, `2s` (the JSON
    /// report's `settings.heartbeat`).
    pub fn label(self) -> String {
        match self {
            HeartbeatRequest::Server => "server".into(),
            HeartbeatRequest::Seconds(s) => format!("{s}s"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_from_t() {
        // (T, T/2, 2T, 3T, auto idle)
        let rows = [
            (0, 0, 0, 0, 10),
            (2, 1000, 4000, 6000, 8),
            (60, 30_000, 120_000, 180_000, 182),
        ];
        for (t, half, two, three, auto) in rows {
            let h = Heartbeat::from_secs(t);
            assert_eq!(
                (
                    h.send_every_ms(),
                    h.broker_may_drop_ms(),
                    h.broker_drops_by_ms(),
                    h.auto_idle()
                ),
                (half, two, three, Duration::from_secs(auto)),
                "T = {t}"
            );
        }
        assert_eq!(Heartbeat::from_secs(60).to_string(), "60 s");
        assert_eq!(Heartbeat::OFF.to_string(), "0 (off)");
        assert_eq!(serde_json::to_value(Heartbeat::from_secs(7)).unwrap(), 7);
    }

    #[test]
    fn requests() {
        let s = Heartbeat::from_secs(60);
        assert_eq!(HeartbeatRequest::Server.tune_ok(s), s);
        assert_eq!(HeartbeatRequest::Seconds(0).tune_ok(s), Heartbeat::OFF);
        assert_eq!(HeartbeatRequest::Seconds(2).tune_ok(s).secs(), 2);
        assert_eq!(HeartbeatRequest::Server.requested_s(), None);
        assert_eq!(HeartbeatRequest::Seconds(0).label(), "0s");
        assert_eq!(HeartbeatRequest::Seconds(5).label(), "5s");
    }
}
