//! The `scan` report: one record per connection (who owns it, both
//! addresses, what the kernel says, what its bytes showed), built (pure)
//! from what the run layer read, rendered as human text or JSON.

use serde::Serialize;

use super::style::{table_unwrapped, wrap_with, Style, WIDTH};
use crate::classify::narrate;
use crate::classify::scan::{infer, Inference};
use crate::error::ExitStatus;
use crate::observe::tcp_state_name;
use crate::run::scan::ScanOutcome;
use crate::vocab::scan::Classification;
use crate::vocab::units::{duration_ms, secs};

/// One connection, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanConnection {
    pub pid: Option<u32>,
    /// The owner's command line, passwords replaced by `***`.
    pub command: Option<String>,
    pub local: String,
    pub remote: String,
    /// The TCP state at the last reading (the last before it left the table).
    pub state: &'static str,
    /// How long since the application last sent / received data, at the
    /// last reading.
    pub last_sent_ms: u64,
    pub last_received_ms: u64,
    pub inferred_heartbeat_s: Option<u16>,
    pub classification: Classification,
    /// [2T, 3T] seconds after the last sent byte, when starving (or dead
    /// after starving).
    pub drop_window_s: Option<[u64; 2]>,
    /// The drop window counted from the end of the scan, in ms.
    pub drop_in_ms: Option<[u64; 2]>,
    /// When T became known, ms after the scan began.
    pub heartbeat_known_at_ms: Option<u64>,
    pub broker_heartbeats: u32,
    pub client_heartbeats: u32,
    /// Bytes each way over the connection's life (tcp_info).
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub died_at_ms: Option<u64>,
    pub died_after_last_sent_ms: Option<u64>,
    pub died_in_window: Option<bool>,
    /// Dead: whether the process still held the socket afterwards.
    pub still_held: Option<bool>,
    pub inode: u32,
    /// What the bytes showed, in words.
    pub note: String,
}

/// The whole `scan` report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanReport {
    pub tool: &'static str,
    pub version: &'static str,
    pub command: &'static str,
    pub ports: Vec<u16>,
    pub pid: Option<u32>,
    /// How long it watched (0: one reading).
    pub watch_ms: u64,
    pub samples: u32,
    pub duration_ms: u64,
    pub connections: Vec<ScanConnection>,
    /// Sockets seen but not followed (more than the tool follows).
    pub untracked: usize,
    pub interrupted: bool,
    pub exit_code: ExitStatus,
}

impl ScanReport {
    pub fn new(
        ports: Vec<u16>,
        pid: Option<u32>,
        watch_ms: u64,
        max_heartbeat_ms: u64,
        o: &ScanOutcome,
    ) -> Self {
        let connections: Vec<ScanConnection> = o
            .tracks
            .iter()
            .map(|t| {
                let inf: Inference = infer(t, max_heartbeat_ms);
                let owner = o.owners.get(&t.inode);
                ScanConnection {
                    pid: owner.map(|o| o.pid),
                    command: owner.map(|o| o.command.clone()),
                    local: t.local.to_string(),
                    remote: t.remote.to_string(),
                    state: tcp_state_name(t.last.state),
                    last_sent_ms: u64::from(t.last.last_data_sent_ms),
                    last_received_ms: u64::from(t.last.last_data_recv_ms),
                    inferred_heartbeat_s: inf.heartbeat_s,
                    classification: inf.classification,
                    drop_window_s: inf.drop_window_s,
                    drop_in_ms: inf.drop_in_ms,
                    heartbeat_known_at_ms: inf.heartbeat_known_at_ms,
                    broker_heartbeats: inf.broker_heartbeats,
                    client_heartbeats: inf.client_heartbeats,
                    bytes_sent: t.last.bytes_acked,
                    bytes_received: t.last.bytes_received,
                    died_at_ms: inf.died_at_ms,
                    died_after_last_sent_ms: inf.died_after_last_sent_ms,
                    died_in_window: inf.died_in_window,
                    still_held: t.still_held,
                    inode: t.inode,
                    note: narrate::scan_note(&inf, t, t.watched_ms()),
                }
            })
            .collect();
        let exit_code = if o.interrupted {
            ExitStatus::Interrupted
        } else if connections.iter().any(|c| {
            matches!(
                c.classification,
                Classification::Starving | Classification::Dead
            )
        }) {
            ExitStatus::Fault
        } else {
            ExitStatus::Ok
        };
        ScanReport {
            tool: "amqpdoctor",
            version: env!("CARGO_PKG_VERSION"),
            command: "scan",
            ports,
            pid,
            watch_ms,
            samples: o.samples,
            duration_ms: duration_ms(o.duration),
            connections,
            untracked: o.untracked,
            interrupted: o.interrupted,
            exit_code,
        }
    }
}

/// The human report.
pub fn render(r: &ScanReport, style: Style) -> String {
    let mut out = headline(r, style);
    if r.connections.is_empty() {
        out.push_str("no TCP connection matched (is the application running on this host?)\n");
        return out;
    }
    out.push('\n');
    out.push_str(&connection_table(r, style));
    out.push_str("\n\n");
    out.push_str(&connection_notes(r));
    if r.untracked > 0 {
        out.push_str(&format!(
            "\n{} more socket(s) matched but were not followed (too many)\n",
            r.untracked
        ));
    }
    if r.interrupted {
        out.push_str(&style.bad("\ninterrupted: what was seen so far\n"));
    }
    out
}

/// The first line: how many connections were found with what (the process
/// or the peer ports), and how they were read (one reading or a watch).
fn headline(r: &ScanReport, style: Style) -> String {
    let what = match r.pid {
        Some(pid) => format!("process {pid}"),
        None => format!(
            "peer port {}",
            r.ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let how = if r.watch_ms == 0 {
        "one reading".to_string()
    } else {
        format!("watched {} ({} readings)", secs(r.duration_ms), r.samples)
    };
    format!(
        "{} {} connection(s) with {what}; {how}\n",
        style.bold("amqpdoctor scan:"),
        r.connections.len()
    )
}

/// One row per connection: its number, pid, addresses, TCP state, how long
/// each side has been silent, the inferred heartbeat and the result.
fn connection_table(r: &ScanReport, style: Style) -> String {
    let rows = r
        .connections
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let class = c.classification.to_string();
            vec![
                format!("#{}", i + 1),
                c.pid.map_or("?".into(), |p| p.to_string()),
                format!("{} → {}", c.local, c.remote),
                c.state.to_string(),
                format!("{} / {}", secs(c.last_sent_ms), secs(c.last_received_ms)),
                c.inferred_heartbeat_s
                    .map_or("?".into(), |t| format!("{t} s")),
                match c.classification {
                    Classification::Healthy => style.good(&class),
                    Classification::Starving | Classification::Dead => style.bad(&class),
                    _ => class,
                },
            ]
        })
        .collect();
    table_unwrapped(
        &[
            "",
            "pid",
            "local → broker",
            "state",
            "silent: sent / received",
            "T",
            "result",
        ],
        rows,
    )
}

/// The note on each connection, numbered as in the table, with the command
/// of its process when known.
fn connection_notes(r: &ScanReport) -> String {
    let mut out = String::new();
    for (i, c) in r.connections.iter().enumerate() {
        let who = c
            .command
            .as_deref()
            .map_or(String::new(), |cmd| format!("`{}`: ", shorten(cmd, 160)));
        out.push_str(&wrap_with(
            &format!("{who}{}", c.note),
            WIDTH,
            &format!("#{:<3}", i + 1),
            "    ",
        ));
    }
    out
}

/// At most `n` characters, with `…` when cut.
fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::style::Style;
    use crate::vocab::scan::{Owner, SocketSample, Track};

    /// A connection from local port `port`, read every 250 ms for `ms`:
    /// the broker sends every `broker_every` ms, the client every
    /// `client_every` ms (0: never).
    fn watched(port: u16, ms: u64, broker_every: u64, client_every: u64) -> Track {
        let sample = |at_ms: u64| {
            let since = |every: u64| {
                if every == 0 {
                    at_ms + 500
                } else {
                    at_ms % every
                }
            };
            let count = |every: u64| at_ms.checked_div(every).unwrap_or(0);
            SocketSample {
                at_ms,
                state: 1,
                bytes_acked: 1000 + 8 * count(client_every),
                bytes_received: 2000 + 8 * count(broker_every),
                last_data_sent_ms: since(client_every) as u32,
                last_data_recv_ms: since(broker_every) as u32,
            }
        };
        let local = format!("127.0.0.1:{port}").parse().unwrap();
        let broker = "127.0.0.1:5672".parse().unwrap();
        let mut t = Track::new(local, broker, u32::from(port), sample(0));
        for at in (250..=ms).step_by(250) {
            t.push(sample(at));
        }
        t
    }

    #[test]
    fn human_snapshot() {
        let tracks = vec![
            watched(40001, 8000, 1000, 0),
            watched(40002, 8000, 1000, 1000),
        ];
        let owners = tracks
            .iter()
            .map(|t| {
                let owner = Owner {
                    pid: 4242,
                    command: "python3 app.py --url amqp://app:***@127.0.0.1/%2f".into(),
                };
                (t.inode, owner)
            })
            .collect();
        let outcome = ScanOutcome {
            tracks,
            owners,
            duration: std::time::Duration::from_secs(8),
            samples: 33,
            untracked: 0,
            interrupted: false,
        };
        let r = ScanReport::new(vec![5672], None, 8000, 60_000, &outcome);
        insta::assert_snapshot!("scan_human", render(&r, Style { color: false }));
    }

    #[test]
    fn shorten_counts_characters() {
        assert_eq!(shorten("python3 app.py", 40), "python3 app.py");
        assert_eq!(shorten("ééééé", 3), "éé…");
    }
}
