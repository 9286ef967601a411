//! The join with `scan`: broker connections and the application host's
//! records matched by address pair, and which side went quiet first.

use crate::vocab::scan::Classification;
use std::collections::HashMap;

use super::QUIET_SLACK_MS;
use crate::vocab::audit::{endpoint, BrokerConnection, Host, QuietFirst, ScanRecord};
use crate::vocab::units::secs;
use crate::vocab::Heartbeat;

/// Compare how long each side has been quiet, as the application's kernel
/// saw it: the side whose silence is longer by more than [`QUIET_SLACK_MS`]
/// and longer than a heartbeat interval (T/2) went quiet first.
pub fn quiet_first(
    last_sent_ms: Option<u64>,
    last_received_ms: Option<u64>,
    t: Option<Heartbeat>,
) -> QuietFirst {
    let (Some(sent), Some(received)) = (last_sent_ms, last_received_ms) else {
        return QuietFirst::Unknown;
    };
    let normal = t.map_or(0, Heartbeat::send_every_ms) + QUIET_SLACK_MS;
    if sent > received + QUIET_SLACK_MS && sent > normal {
        QuietFirst::Application
    } else if received > sent + QUIET_SLACK_MS && received > normal {
        QuietFirst::Broker
    } else {
        QuietFirst::Neither
    }
}

/// The join's verdict on one matched connection, in a sentence.
pub fn joined_summary(c: &BrokerConnection, r: &ScanRecord, q: QuietFirst) -> String {
    let times = |a: Option<u64>| a.map_or_else(|| "?".to_string(), secs);
    let (sent, received) = (times(r.last_sent_ms), times(r.last_received_ms));
    let mut out = match q {
        QuietFirst::Application => format!(
            "the application went quiet first: it last sent {sent} ago and last received \
             {received} ago"
        ),
        QuietFirst::Broker => format!(
            "the broker went quiet first: the application last received {received} ago and last \
             sent {sent} ago"
        ),
        QuietFirst::Neither => format!(
            "neither side went quiet first: the application last sent {sent} ago and last \
             received {received} ago"
        ),
        QuietFirst::Unknown => {
            "the scan record has no last_sent_ms/last_received_ms: which side went quiet first \
             is unknown"
                .to_string()
        }
    };
    if q == QuietFirst::Application && c.heartbeat.is_some_and(|t| !t.is_off()) {
        out.push_str(", so its heartbeats stopped too: it is not pumping the connection");
    }
    if let Some(class) = r.classification {
        out.push_str(&format!("; scan says {class}"));
        if class == Classification::Dead {
            out.push_str(
                " while the broker still lists it: a half-open connection the broker drops only \
                 after 2T–3T of silence (never with heartbeat 0)",
            );
        }
    }
    out
}

/// Broker connections and scan records matched by address pair: the
/// scan's `local` is the broker's peer and its `remote` the broker's side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Join {
    /// (broker index, scan index), in broker order.
    pub matched: Vec<(usize, usize)>,
    pub scan_only: Vec<usize>,
    pub broker_only: Vec<usize>,
}

pub fn join(broker: &[BrokerConnection], scan: &[ScanRecord]) -> Join {
    type Key = ((Host, u16), (Host, u16));
    let mut by_pair: HashMap<Key, usize> = HashMap::new();
    for (i, r) in scan.iter().enumerate() {
        let pair = r
            .local
            .as_deref()
            .and_then(endpoint)
            .zip(r.remote.as_deref().and_then(endpoint));
        if let Some(pair) = pair {
            by_pair.entry(pair).or_insert(i);
        }
    }
    let mut out = Join::default();
    let mut used = vec![false; scan.len()];
    for (b, c) in broker.iter().enumerate() {
        let key = match (&c.peer_host, c.peer_port, &c.host, c.port) {
            (Some(ph), Some(pp), Some(h), Some(p)) => {
                Some(((Host::parse(ph), pp), (Host::parse(h), p)))
            }
            _ => None,
        };
        match key.and_then(|k| by_pair.get(&k).copied()) {
            Some(s) if !used[s] => {
                used[s] = true;
                out.matched.push((b, s));
            }
            _ => out.broker_only.push(b),
        }
    }
    out.scan_only = (0..scan.len()).filter(|&i| !used[i]).collect();
    out
}
