//! The `logs` report: built (pure) from what the reader found, rendered as
//! human text ([`human`]), Markdown ([`markdown`]) or JSON (docs/json.md).
//! Connection names and reasons are the broker's text of what clients sent:
//! every one goes through the redactor before it is kept.

pub mod human;
pub mod markdown;

use std::collections::BTreeMap;

use serde::Serialize;

use super::Header;
use crate::classify::logs::lifecycle::Closed;
use crate::classify::logs::summary::{PeerStats, Tally};
use crate::classify::logs::time::format_ms;
use crate::classify::logs::{patterns, Cause, Pattern};
use crate::error::ExitStatus;
use crate::run::logs::app::AppFinding;
use crate::run::logs::{FileRead, LogsOutcome};
use crate::target::redact::redact_text;

/// Rows of the per-peer and per-key tables kept in the report.
pub const MAX_ROWS: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CauseCount {
    pub cause: Cause,
    pub words: &'static str,
    pub count: u64,
}

/// One peer host's connections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeerRow {
    pub host: String,
    pub opened: u64,
    pub closed: u64,
    pub abnormal: u64,
    pub by_cause: BTreeMap<Cause, u64>,
    pub lifetime_median_s: Option<f64>,
    pub lifetime_p95_s: Option<f64>,
    /// The heartbeat timeouts (s) the broker logged for this peer's deaths.
    pub heartbeat_s: Vec<u32>,
    pub names: Vec<String>,
    pub reconnect_cycles: u64,
    pub first_death: Option<String>,
    pub last_death: Option<String>,
}

/// Deaths per connection name, user or vhost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRow {
    pub key: String,
    pub closed: u64,
    pub abnormal: u64,
}

/// One death other than a normal close.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Death {
    pub node: String,
    pub peer: String,
    pub name: Option<String>,
    pub user: Option<String>,
    pub vhost: Option<String>,
    pub opened: Option<String>,
    pub closed: String,
    pub lifetime_s: Option<f64>,
    pub cause: Cause,
    pub heartbeat_s: Option<u32>,
    pub reason: Option<String>,
}

impl Death {
    pub fn of(node: &str, c: &Closed) -> Death {
        Death {
            node: node.to_string(),
            peer: c.peer.clone(),
            name: c.name.as_deref().map(redact_text),
            user: c.user.clone(),
            vhost: c.vhost.clone(),
            opened: c.opened_ms.map(format_ms),
            closed: format_ms(c.closed_ms),
            lifetime_s: c.lifetime_ms().map(|ms| ms as f64 / 1000.0),
            cause: c.cause,
            heartbeat_s: c.heartbeat_s,
            reason: c.reason.as_deref().map(redact_text),
        }
    }
}

/// The whole `logs` report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogsReport {
    #[serde(flatten)]
    pub header: Header,
    pub files: Vec<FileRead>,
    pub nodes: Vec<String>,
    /// The first and last record read (inside --since/--until).
    pub first: Option<String>,
    pub last: Option<String>,
    pub records: u64,
    pub opened: u64,
    pub closed: u64,
    pub abnormal: u64,
    pub by_cause: Vec<CauseCount>,
    pub peers: Vec<PeerRow>,
    pub names: Vec<KeyRow>,
    pub users: Vec<KeyRow>,
    pub vhosts: Vec<KeyRow>,
    pub patterns: Vec<Pattern>,
    /// The last deaths other than normal closes (at most 1,000), oldest first.
    pub deaths: Vec<Death>,
    /// Deaths other than normal closes not in `deaths`.
    pub deaths_not_listed: u64,
    /// Connections still open at the end of the read.
    pub still_open: usize,
    /// Open connections forgotten to keep the state bounded.
    pub evicted: u64,
    /// Closes whose opening is not in what was read (a log that starts mid-life).
    pub closes_without_open: u64,
    pub interrupted: bool,
    /// Client libraries' log lines recognised, per knowledge-base pattern
    /// (lines that are no RabbitMQ record: an application's log).
    pub app_lines: Vec<AppFinding>,
    /// 0: every connection read closed normally; 1: a death other than a
    /// normal close was read; 130: interrupted.
    pub exit_code: ExitStatus,
}

fn ms_s(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

fn peer_row(host: &str, p: &PeerStats) -> PeerRow {
    PeerRow {
        host: host.to_string(),
        opened: p.opened,
        closed: p.closed,
        abnormal: p
            .by_cause
            .iter()
            .filter(|(c, _)| c.abnormal())
            .map(|(_, n)| n)
            .sum(),
        by_cause: p.by_cause.clone(),
        lifetime_median_s: p.lifetimes.quantile(0.5).map(ms_s),
        lifetime_p95_s: p.lifetimes.quantile(0.95).map(ms_s),
        heartbeat_s: p.heartbeat_s.iter().copied().collect(),
        names: p.names.iter().map(|n| redact_text(n)).collect(),
        reconnect_cycles: p.quick_reopens,
        first_death: p.first_death_ms.map(format_ms),
        last_death: p.last_death_ms.map(format_ms),
    }
}

fn key_rows<'a>(map: impl Iterator<Item = (&'a String, &'a Tally)>) -> Vec<KeyRow> {
    let mut rows: Vec<KeyRow> = map
        .map(|(k, t)| KeyRow {
            key: redact_text(k),
            closed: t.closed,
            abnormal: t.abnormal,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.abnormal
            .cmp(&a.abnormal)
            .then(b.closed.cmp(&a.closed))
            .then(a.key.cmp(&b.key))
    });
    rows.truncate(MAX_ROWS);
    rows
}

impl LogsReport {
    pub fn new(target: String, o: &LogsOutcome) -> LogsReport {
        let s = &o.summary;
        let mut peers: Vec<PeerRow> = s.peers.iter().map(|(h, p)| peer_row(h, p)).collect();
        peers.sort_by(|a, b| {
            b.abnormal
                .cmp(&a.abnormal)
                .then(b.opened.cmp(&a.opened))
                .then(a.host.cmp(&b.host))
        });
        peers.truncate(MAX_ROWS);
        let mut by_cause: Vec<CauseCount> = s
            .by_cause
            .iter()
            .map(|(c, n)| CauseCount {
                cause: *c,
                words: c.words(),
                count: *n,
            })
            .collect();
        by_cause.sort_by(|a, b| b.count.cmp(&a.count).then(a.cause.cmp(&b.cause)));
        let abnormal = by_cause
            .iter()
            .filter(|c| c.cause.abnormal())
            .map(|c| c.count)
            .sum();
        let node_of = |n: u16| o.nodes.get(usize::from(n)).cloned().unwrap_or_default();
        let mut r = LogsReport {
            header: Header::new("logs", target),
            files: o.files.clone(),
            nodes: o.nodes.clone(),
            first: s.first_ms.map(format_ms),
            last: s.last_ms.map(format_ms),
            records: o.records,
            opened: s.opened,
            closed: s.closed,
            abnormal,
            by_cause,
            peers,
            names: key_rows(s.names.iter()),
            users: key_rows(s.users.iter()),
            vhosts: key_rows(s.vhosts.iter()),
            patterns: patterns(s),
            deaths: s
                .kept
                .iter()
                .map(|c| Death::of(&node_of(c.node), c))
                .collect(),
            deaths_not_listed: s.dropped_from_kept,
            still_open: o.still_open,
            evicted: o.evicted,
            closes_without_open: o.closes_without_open,
            interrupted: o.interrupted,
            app_lines: o.app_lines.clone(),
            exit_code: ExitStatus::Ok,
        };
        r.exit_code = r.exit_status();
        r
    }

    /// 130 when interrupted, 1 when a death other than a normal close was
    /// read or a client library's error line recognised, else 0.
    pub fn exit_status(&self) -> ExitStatus {
        if self.interrupted {
            ExitStatus::Interrupted
        } else if self.abnormal > 0 || !self.app_lines.is_empty() {
            ExitStatus::Fault
        } else {
            ExitStatus::Ok
        }
    }
}

#[cfg(test)]
mod tests;
