//! What a mode predicts for an idle and T (numbers only; the words are in
//! [`super::narrate`]).

use serde::Serialize;

use crate::vocab::{Heartbeat, Mode, VerdictCode};

/// What a mode predicts for an idle and T.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Prediction {
    Healthy,
    BrokerHeartbeatTimeout,
    /// The idle ends between 2T and 3T: either outcome is possible.
    Either,
}

/// Margin added to 3T before we predict a reset for certain: RabbitMQ's
/// timer and our clock are not perfectly aligned.
pub const PREDICTION_MARGIN_MS: u64 = 500;

/// The longest stretch the client stays silent: the idle, or the pump
/// period when the connection is pumped.
pub fn longest_client_silence_ms(idle_ms: u64, pump_every_ms: Option<u64>) -> u64 {
    pump_every_ms.map_or(idle_ms, |p| p.min(idle_ms))
}

pub fn predict(mode: Mode, t: Heartbeat, idle_ms: u64, pump_every_ms: Option<u64>) -> Prediction {
    if mode != Mode::Starved || t.is_off() {
        return Prediction::Healthy;
    }
    let silence = longest_client_silence_ms(idle_ms, pump_every_ms);
    if silence < t.broker_may_drop_ms() {
        Prediction::Healthy
    } else if silence >= t.broker_drops_by_ms() + PREDICTION_MARGIN_MS {
        Prediction::BrokerHeartbeatTimeout
    } else {
        Prediction::Either
    }
}

impl Prediction {
    pub fn admits(self, code: VerdictCode) -> bool {
        match self {
            Prediction::Healthy => code == VerdictCode::Healthy,
            Prediction::BrokerHeartbeatTimeout => code == VerdictCode::BrokerHeartbeatTimeout,
            Prediction::Either => {
                matches!(
                    code,
                    VerdictCode::Healthy | VerdictCode::BrokerHeartbeatTimeout
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predictions() {
        let hb = Heartbeat::from_secs;
        let rows = [
            (
                Mode::Starved,
                2,
                8000,
                None,
                Prediction::BrokerHeartbeatTimeout,
            ),
            (Mode::Starved, 2, 3000, None, Prediction::Healthy),
            (Mode::Starved, 2, 5000, None, Prediction::Either),
            (Mode::Starved, 60, 90_000, None, Prediction::Healthy),
            (
                Mode::Starved,
                60,
                182_000,
                None,
                Prediction::BrokerHeartbeatTimeout,
            ),
            (Mode::Starved, 2, 8000, Some(1000), Prediction::Healthy),
            (
                Mode::Starved,
                2,
                60_000,
                Some(10_000),
                Prediction::BrokerHeartbeatTimeout,
            ),
            (Mode::Starved, 0, 60_000, None, Prediction::Healthy),
            (Mode::Serviced, 2, 60_000, None, Prediction::Healthy),
            (Mode::Disabled, 0, 60_000, None, Prediction::Healthy),
        ];
        for (mode, t, idle, pump, want) in rows {
            assert_eq!(
                predict(mode, hb(t), idle, pump),
                want,
                "{mode:?} T={t} idle={idle} pump={pump:?}"
            );
        }
        assert!(Prediction::Either.admits(VerdictCode::Healthy));
        assert!(Prediction::Either.admits(VerdictCode::BrokerHeartbeatTimeout));
        assert!(!Prediction::Healthy.admits(VerdictCode::PeerReset));
    }
}
