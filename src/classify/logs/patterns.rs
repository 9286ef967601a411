//! Patterns across connections, each with its evidence and the next
//! amqpdoctor command to run. Thresholds (docs/logs.md lists them):
//!
//! - **starving_peer**: at least [`STARVING_DEATHS`] heartbeat-timeout
//!   deaths from one peer host: that host's application does not service
//!   its connection (it stops reading and writing for 2T).
//! - **idle_timeout_on_path**: at least [`CLUSTER_MIN`] abrupt deaths of one
//!   peer host (or of all peers together) whose lifetimes fall within
//!   ±[`CLUSTER_SLACK_S`] s of one age, being at least half of its abrupt
//!   deaths: something on the path kills connections idle that long.
//! - **burst**: [`BURST_DEATHS`] or more deaths from [`BURST_PEERS`]+ peer
//!   hosts within [`BURST_WINDOW_MS`] ms: a broker restart (named when the
//!   log has one nearby), a network event or an operator.
//! - **reconnect_storm**: at least [`STORM_CYCLES`] cycles from one host of a
//!   death younger than a minute followed by a new connection within 10 s.

use std::collections::BTreeMap;

use serde::Serialize;

use super::cause::Cause;
use super::lifecycle::NodeEvent;
use super::summary::{PeerStats, Summary, BURST_DEATHS, BURST_PEERS, BURST_WINDOW_MS};
use super::time::format_ms;

pub const STARVING_DEATHS: u64 = 2;
pub const CLUSTER_MIN: u32 = 3;
pub const CLUSTER_SLACK_S: u64 = 2;
pub const STORM_CYCLES: u64 = 5;
/// A node start or stop this close to a burst is named as its cause.
const NEAR_MS: i64 = 120_000;

/// A pattern found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pattern {
    /// `starving_peer`, `idle_timeout_on_path`, `burst`, `reconnect_storm`.
    pub kind: &'static str,
    /// The peer host it concerns, when one.
    pub peer: Option<String>,
    pub summary: String,
    pub evidence: Vec<String>,
    /// The amqpdoctor command to run next.
    pub next: String,
}

/// Every pattern in `s`, in a fixed order (kind, then peer).
pub fn patterns(s: &Summary) -> Vec<Pattern> {
    let mut hosts: Vec<(&String, &PeerStats)> = s.peers.iter().collect();
    hosts.sort_by(|a, b| a.0.cmp(b.0));
    let mut out: Vec<Pattern> = hosts.iter().filter_map(|(h, p)| starving(h, p)).collect();
    let mut all: BTreeMap<u64, u32> = BTreeMap::new();
    for (h, p) in &hosts {
        for (s, n) in &p.abrupt_s {
            *all.entry(*s).or_default() += n;
        }
        out.extend(cluster(&p.abrupt_s).map(|c| idle_pattern(Some(h), c)));
    }
    if !out.iter().any(|p| p.kind == "idle_timeout_on_path") {
        out.extend(cluster(&all).map(|c| idle_pattern(None, c)));
    }
    out.extend(s.bursts.iter().take(20).map(|b| burst(s, b)));
    out.extend(hosts.iter().filter_map(|(h, p)| storm(h, p)));
    out
}

fn starving(host: &str, p: &PeerStats) -> Option<Pattern> {
    let n = *p.by_cause.get(&Cause::BrokerHeartbeatTimeout)?;
    if n < STARVING_DEATHS {
        return None;
    }
    let ts: Vec<String> = p.heartbeat_s.iter().map(|t| format!("{t} s")).collect();
    let mut evidence = vec![format!(
        "{n} of {} connections from {host} ended with `missed heartbeats from client`",
        p.closed
    )];
    if !ts.is_empty() {
        evidence.push(format!("negotiated heartbeat T = {}", ts.join(", ")));
    }
    if !p.names.is_empty() {
        let names: Vec<&str> = p.names.iter().map(String::as_str).collect();
        evidence.push(format!("connection names: {}", names.join(", ")));
    }
    Some(Pattern {
        kind: "starving_peer",
        peer: Some(host.to_string()),
        summary: format!(
            "the application on {host} starves its connections: it went silent for 2T and the broker dropped it, {n} times"
        ),
        evidence,
        next: "amqpdoctor scan --watch 5m   (on that host: which process starves which socket)".into(),
    })
}

/// The most populated ±slack window of `ages`: (centre s, in it, of all).
pub fn cluster(ages: &BTreeMap<u64, u32>) -> Option<(u64, u32, u32)> {
    let total: u32 = ages.values().sum();
    let best = ages
        .keys()
        .map(|&c| {
            let lo = c.saturating_sub(CLUSTER_SLACK_S);
            let n: u32 = ages.range(lo..=c + CLUSTER_SLACK_S).map(|(_, n)| n).sum();
            (n, std::cmp::Reverse(c))
        })
        .max()?;
    let (n, std::cmp::Reverse(centre)) = best;
    (n >= CLUSTER_MIN && n * 2 >= total && centre >= 1).then_some((centre, n, total))
}

fn idle_pattern(host: Option<&str>, (centre, n, total): (u64, u32, u32)) -> Pattern {
    let who = host.map_or("all peers".to_string(), |h| h.to_string());
    Pattern {
        kind: "idle_timeout_on_path",
        peer: host.map(str::to_string),
        summary: format!(
            "{n} abrupt closes from {who} came at the same age, {centre} s ± {CLUSTER_SLACK_S} s: an idle timeout on the path (a NAT, load balancer or firewall) near {centre} s"
        ),
        evidence: vec![format!(
            "{n} of {total} abrupt closes (no Connection.Close) after a lifetime of {}–{} s",
            centre.saturating_sub(CLUSTER_SLACK_S),
            centre + CLUSTER_SLACK_S
        )],
        next: format!(
            "amqpdoctor idle-timeout amqp://BROKER --max {}s   (from {who}: brackets the path's idle timeout)",
            (centre * 2).max(10)
        ),
    }
}

fn burst(s: &Summary, b: &super::summary::Burst) -> Pattern {
    let near = s.node_events.iter().find(|(_, t, e)| {
        matches!(e, NodeEvent::Started | NodeEvent::Stopping)
            && *t >= b.start_ms - NEAR_MS
            && *t <= b.end_ms + NEAR_MS
    });
    let causes: Vec<String> = b
        .by_cause
        .iter()
        .map(|(c, n)| format!("{n} {}", c.code()))
        .collect();
    let why = match near {
        Some((_, t, NodeEvent::Stopping)) => {
            format!("the broker was stopping at {}", format_ms(*t))
        }
        Some((_, t, _)) => format!("the broker (re)started at {}", format_ms(*t)),
        None => "no broker restart in the log: a network event or an operator".to_string(),
    };
    Pattern {
        kind: "burst",
        peer: None,
        summary: format!(
            "{} connections from {} peer hosts died within {} s: {why}",
            b.deaths,
            b.peers.len(),
            (b.end_ms - b.start_ms) / 1000 + 1
        ),
        evidence: vec![
            format!("from {} to {}", format_ms(b.start_ms), format_ms(b.end_ms)),
            format!("causes: {}", causes.join(", ")),
            format!(
                "threshold: {BURST_DEATHS} deaths from {BURST_PEERS} hosts within {} s",
                BURST_WINDOW_MS / 1000
            ),
        ],
        next: format!(
            "amqpdoctor logs --since '{}' --until '{}'   (every record of those seconds)",
            format_ms(b.start_ms - 60_000).trim_end_matches('Z'),
            format_ms(b.end_ms + 60_000).trim_end_matches('Z')
        ),
    }
}

fn storm(host: &str, p: &PeerStats) -> Option<Pattern> {
    if p.quick_reopens < STORM_CYCLES {
        return None;
    }
    let causes = super::cause::abnormal_counts(&p.by_cause);
    Some(Pattern {
        kind: "reconnect_storm",
        peer: Some(host.to_string()),
        summary: format!(
            "{host} reconnected {} times within 10 s of a connection dying young: a reconnect loop",
            p.quick_reopens
        ),
        evidence: vec![
            format!("{} connections opened, {} closed", p.opened, p.closed),
            format!("deaths: {}", causes.join(", ")),
        ],
        next: format!("amqpdoctor logs --peer {host}   (each death's cause, then fix the first)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters() {
        type Row<'a> = (&'a [(u64, u32)], Option<(u64, u32, u32)>);
        let table: &[Row] = &[
            (&[(350, 3), (351, 4), (352, 1), (10, 1)], Some((350, 8, 9))),
            (&[(350, 2)], None),
            (&[(10, 2), (100, 2), (1000, 2)], None),
            (&[(0, 9)], None),
            (&[(2, 5), (3, 1)], Some((2, 6, 6))),
        ];
        for (ages, want) in table {
            let m: BTreeMap<u64, u32> = ages.iter().copied().collect();
            assert_eq!(cluster(&m), *want, "{ages:?}");
        }
    }

    #[test]
    fn starving_needs_two() {
        let mut p = PeerStats::default();
        p.by_cause.insert(Cause::BrokerHeartbeatTimeout, 1);
        assert!(starving("h", &p).is_none());
        p.by_cause.insert(Cause::BrokerHeartbeatTimeout, 2);
        p.closed = 2;
        p.heartbeat_s.insert(60);
        let pat = starving("h", &p).unwrap();
        assert!(pat.evidence[1].contains("60 s"), "{:?}", pat.evidence);
        assert!(pat.next.starts_with("amqpdoctor scan"));
    }
}
