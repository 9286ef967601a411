//! The logs collector's state and metrics: the broker's log followed (as
//! `logs --follow` reads it), deaths counted by cause and peer host. Hosts
//! are bounded like process names: the first [`PROCESSES_MAX`] keep their
//! name, the rest are `other`; causes are the fixed set of `logs` codes.

use std::collections::BTreeMap;

use super::exposition::Family;
use super::{OTHER, PROCESSES_MAX};
use crate::classify::logs::lifecycle::{host_of, Closed};

/// The logs collector's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogsState {
    /// The files followed, as given.
    pub files: Vec<String>,
    /// Deaths by (cause code, peer host), normal closes included.
    pub deaths: BTreeMap<(&'static str, String), u64>,
    /// When the last death other than a normal close was read (Unix s).
    pub last_abnormal_unix_s: Option<f64>,
    /// The host names labelled (at most [`PROCESSES_MAX`]).
    hosts: std::collections::BTreeSet<String>,
}

impl LogsState {
    /// The state for following `files`.
    pub fn following(files: Vec<String>) -> Self {
        LogsState {
            files,
            ..LogsState::default()
        }
    }

    /// Count one connection's end, read at `now_unix_s`.
    pub fn record(&mut self, c: &Closed, now_unix_s: f64) {
        let host = host_of(&c.peer).to_string();
        let host = if self.hosts.contains(&host) || self.hosts.len() < PROCESSES_MAX {
            self.hosts.insert(host.clone());
            host
        } else {
            OTHER.to_string()
        };
        *self.deaths.entry((c.cause.code(), host)).or_default() += 1;
        if c.cause.abnormal() {
            self.last_abnormal_unix_s = Some(now_unix_s);
        }
    }

    pub fn families(&self) -> Vec<Family> {
        let mut deaths = Family::counter(
            "amqpdoctor_log_connection_ends_total",
            "Connections the broker's log says ended, by cause (logs' codes; normal_close included) and peer host.",
        );
        for ((cause, host), n) in &self.deaths {
            deaths.push(&[("cause", cause), ("peer_host", host)], *n as f64);
        }
        let mut last = Family::gauge(
            "amqpdoctor_log_last_abnormal_end_timestamp_seconds",
            "When the last connection end other than a normal close was read from the log, seconds since the Unix epoch (0: none yet).",
        );
        last.push(&[], self.last_abnormal_unix_s.unwrap_or(0.0));
        vec![deaths, last]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::logs::parse::Pid;
    use crate::classify::logs::Cause;

    fn closed(peer: &str, cause: Cause) -> Closed {
        Closed {
            node: 0,
            pid: Pid(0, 1, 0),
            peer: peer.into(),
            name: None,
            user: None,
            vhost: None,
            opened_ms: None,
            closed_ms: 0,
            cause,
            heartbeat_s: None,
            reason: None,
        }
    }

    #[test]
    fn counted_by_cause_and_host_and_bounded() {
        let mut s = LogsState::default();
        s.record(&closed("10.0.0.7:5000", Cause::BrokerHeartbeatTimeout), 5.0);
        s.record(&closed("10.0.0.7:5001", Cause::BrokerHeartbeatTimeout), 6.0);
        s.record(&closed("10.0.0.8:5001", Cause::NormalClose), 7.0);
        assert_eq!(
            s.deaths[&("broker_heartbeat_timeout", "10.0.0.7".to_string())],
            2
        );
        assert_eq!(s.last_abnormal_unix_s, Some(6.0));
        for i in 0..(PROCESSES_MAX + 50) {
            s.record(
                &closed(
                    &format!("10.1.{}.{}:1", i / 250, i % 250),
                    Cause::NormalClose,
                ),
                8.0,
            );
        }
        let hosts: std::collections::BTreeSet<&str> =
            s.deaths.keys().map(|(_, h)| h.as_str()).collect();
        assert!(hosts.len() <= PROCESSES_MAX + 1, "{}", hosts.len());
        assert!(hosts.contains(OTHER));
    }
}
