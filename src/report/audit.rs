//! The `audit` report: the broker's view of every client connection (from
//! the management API), judged by `classify::audit`, optionally joined with
//! `scan`'s records from the application's host; built (pure) and rendered
//! as human text, JSON, Markdown or JUnit XML.
//!
//! Everything the server sent (names, products, versions, states) is text
//! from outside: shown through [`clean`](super::style::clean) in human and Markdown output and
//! through the JUnit writer's escaping; JSON escapes it itself.

mod cells;
mod human;
mod markdown;
mod notes;
mod outcomes;

use serde::Serialize;

use super::Header;
use crate::classify::audit::{
    join, joined_summary, judge, quiet_first, BrokerConnection, Flag, Host, Library, QuietFirst,
    ScanRecord, Silence,
};
use crate::error::ExitStatus;
#[cfg(test)]
use crate::report::style::Style;
use crate::run::management::{Fetched, Overview};
use crate::vocab::units::duration_ms;
use crate::vocab::Heartbeat;
#[cfg(test)]
use cells::cut;
use cells::{facts_line, flags_cell};
pub use human::render_human;
pub use markdown::render_markdown;
pub use outcomes::outcomes;
#[cfg(test)]
pub use outcomes::render_junit;

/// One client connection, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditConnection {
    /// The broker's name for it: `127.0.0.1:54994 -> 127.0.0.1:5672`.
    pub name: String,
    /// The application's own name for it (client property `connection_name`).
    pub connection_name: Option<String>,
    pub node: Option<String>,
    /// The client's address.
    pub peer: Option<String>,
    /// The broker's address on this connection.
    pub broker_address: Option<String>,
    pub user: Option<String>,
    pub vhost: Option<String>,
    pub protocol: Option<String>,
    pub tls: bool,
    pub tls_protocol: Option<String>,
    pub state: Option<String>,
    pub channels: Option<u64>,
    /// ms since the Unix epoch.
    pub connected_at_ms: Option<u64>,
    /// The negotiated heartbeat T.
    pub heartbeat_s: Option<Heartbeat>,
    /// The client in a few words: `pika 1.3.2`, else its product and
    /// version as sent (cut short), else `–`.
    pub client: String,
    pub client_product: Option<String>,
    pub client_version: Option<String>,
    pub client_platform: Option<String>,
    /// The knowledge base's id for the library (`explain` topic).
    pub library: Option<String>,
    /// The knowledge base's row for its version (`≥ 1.0`).
    pub library_versions: Option<String>,
    pub recv_oct: Option<u64>,
    pub send_oct: Option<u64>,
    /// Bytes per second, as the API computed them.
    pub recv_rate: Option<f64>,
    pub send_rate: Option<f64>,
    pub silence: Option<Silence>,
    pub flags: Vec<Flag>,
    pub advice: Vec<String>,
    pub notes: Vec<String>,
}

impl AuditConnection {
    fn build(c: &BrokerConnection) -> Self {
        let j = judge(c);
        AuditConnection {
            name: c.name.clone(),
            connection_name: c.client.connection_name.clone(),
            node: c.node.clone(),
            peer: c.peer(),
            broker_address: c.broker_address(),
            user: c.user.clone(),
            vhost: c.vhost.clone(),
            protocol: c.protocol.clone(),
            tls: c.tls,
            tls_protocol: c.tls_protocol.clone(),
            state: c.state.as_ref().map(|s| s.as_str().to_owned()),
            channels: c.channels,
            connected_at_ms: c.connected_at_ms,
            heartbeat_s: c.heartbeat,
            client: client_label(c, j.library),
            client_product: c.client.product.clone(),
            client_version: c.client.version.clone(),
            client_platform: c.client.platform.clone(),
            library: j.library.map(|l| l.lib.id.clone()),
            library_versions: j.library.map(|l| l.row.label.clone()),
            recv_oct: c.recv_oct,
            send_oct: c.send_oct,
            recv_rate: c.recv_rate,
            send_rate: c.send_rate,
            silence: j.silence,
            flags: j.flags,
            advice: j.advice,
            notes: j.notes,
        }
    }

    fn client_label(&self) -> String {
        self.client.clone()
    }

    /// Peer, else the broker's name.
    fn label(&self) -> &str {
        self.peer.as_deref().unwrap_or(&self.name)
    }
}

/// `pika 1.3.2`; for a library amqpdoctor does not know, the product and
/// version as sent, cut short.
fn client_label(c: &BrokerConnection, library: Option<Library>) -> String {
    let version = c.client.version.as_deref();
    if let Some(l) = library {
        return l.label(version);
    }
    let product: String = c
        .client
        .product
        .as_deref()
        .unwrap_or("–")
        .chars()
        .take(32)
        .collect();
    match version {
        Some(v) => format!("{product} {}", v.chars().take(16).collect::<String>()),
        None => product,
    }
}

/// A broker connection matched with a scan record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JoinedReport {
    pub name: String,
    pub connection_name: Option<String>,
    pub peer: Option<String>,
    pub broker_address: Option<String>,
    pub heartbeat_s: Option<Heartbeat>,
    pub flags: Vec<Flag>,
    /// The scan's record as read (`classification`, `last_sent_ms`, …).
    pub scan: ScanRecord,
    pub quiet_first: QuietFirst,
    pub summary: String,
}

/// A broker connection no scan record matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrokerOnly {
    pub name: String,
    pub connection_name: Option<String>,
    pub peer: Option<String>,
    /// Its peer host is a host the scan looked at: the application's side
    /// may be gone (a half-open connection).
    pub from_scanned_host: bool,
}

/// The whole `audit` report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    pub tool: &'static str,
    pub version: &'static str,
    pub command: &'static str,
    /// The management API's URL, the password as `***`.
    pub management: String,
    pub overview: Overview,
    /// How far back the samples reach (`data_rates_age`), seconds.
    pub sample_window_s: u64,
    /// The samples' spacing, seconds.
    pub sample_every_s: u64,
    pub connections: Vec<AuditConnection>,
    /// How many connections have a flag.
    pub flagged: usize,
    /// The scan file given to `--join` (only with it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join_file: Option<String>,
    /// Matched pairs (only with `--join`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joined: Option<Vec<JoinedReport>>,
    /// Scan records the broker does not list (only with `--join`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmatched_scan: Option<Vec<ScanRecord>>,
    /// Broker connections the scan did not see (only with `--join`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmatched_broker: Option<Vec<BrokerOnly>>,
    pub notes: Vec<String>,
    /// The API requests, end to end.
    pub duration_ms: u64,
    pub exit_code: ExitStatus,
}

impl AuditReport {
    /// Judge every connection and join the scan (pure). The exit status
    /// is decided here: 1 when any connection is flagged, else 0.
    pub fn build(management: String, f: Fetched, scan: Option<(String, Vec<ScanRecord>)>) -> Self {
        let connections: Vec<AuditConnection> =
            f.connections.iter().map(AuditConnection::build).collect();
        let flagged = connections.iter().filter(|c| !c.flags.is_empty()).count();
        let mut notes: Vec<String> = stats_note(&f.overview, &connections).into_iter().collect();
        let (mut join_file, mut joined, mut unmatched_scan, mut unmatched_broker) =
            (None, None, None, None);
        if let Some((file, records)) = scan {
            let j = JoinParts::build(&f.connections, &connections, &records);
            joined = Some(j.joined);
            unmatched_scan = Some(j.scan_only);
            unmatched_broker = Some(j.broker_only);
            notes.extend(j.note);
            join_file = Some(file);
        }
        let h = Header::new("audit", String::new());
        AuditReport {
            tool: h.tool,
            version: h.version,
            command: h.command,
            management,
            overview: f.overview,
            sample_window_s: f.window_s,
            sample_every_s: crate::classify::audit::STATS_INTERVAL_MS / 1000,
            flagged,
            exit_code: if flagged > 0 {
                ExitStatus::Fault
            } else {
                ExitStatus::Ok
            },
            connections,
            join_file,
            joined,
            unmatched_scan,
            unmatched_broker,
            notes,
            duration_ms: duration_ms(f.took),
        }
    }
}

/// Why silence cannot be read, or why some connections show none yet.
fn stats_note(o: &Overview, connections: &[AuditConnection]) -> Option<String> {
    if o.stats_disabled || o.rates_mode.as_deref() == Some("none") {
        Some(
            "the broker collects no statistics (rates_mode none or stats disabled): silence \
             cannot be read, only heartbeats and states are judged"
                .to_string(),
        )
    } else if connections
        .iter()
        .any(|c| c.silence.is_none() && c.heartbeat_s.is_some())
    {
        Some(format!(
            "silence is read from the management plugin's samples (every {} s by default): a \
             connection younger than two samples shows none yet",
            crate::classify::audit::STATS_INTERVAL_MS / 1000
        ))
    } else {
        None
    }
}

/// The join with the scan, as reported.
struct JoinParts {
    joined: Vec<JoinedReport>,
    scan_only: Vec<ScanRecord>,
    broker_only: Vec<BrokerOnly>,
    /// Why nothing matched, when nothing did.
    note: Option<String>,
}

impl JoinParts {
    fn build(
        broker: &[BrokerConnection],
        connections: &[AuditConnection],
        records: &[ScanRecord],
    ) -> Self {
        let j = join(broker, records);
        let scanned_hosts: Vec<Host> = records
            .iter()
            .filter_map(|r| crate::classify::audit::endpoint(r.local.as_deref()?))
            .map(|(h, _)| h)
            .collect();
        let joined = j
            .matched
            .iter()
            .map(|&(b, s)| {
                let (c, r) = (&broker[b], &records[s]);
                let t = c
                    .heartbeat
                    .or(r.inferred_heartbeat_s.map(Heartbeat::from_secs));
                let q = quiet_first(r.last_sent_ms, r.last_received_ms, t);
                JoinedReport {
                    name: c.name.clone(),
                    connection_name: c.client.connection_name.clone(),
                    peer: c.peer(),
                    broker_address: c.broker_address(),
                    heartbeat_s: c.heartbeat,
                    flags: connections[b].flags.clone(),
                    scan: r.clone(),
                    quiet_first: q,
                    summary: joined_summary(c, r, q),
                }
            })
            .collect();
        let scan_only = j.scan_only.iter().map(|&i| records[i].clone()).collect();
        let broker_only = j
            .broker_only
            .iter()
            .map(|&b| {
                let c = &broker[b];
                BrokerOnly {
                    name: c.name.clone(),
                    connection_name: c.client.connection_name.clone(),
                    peer: c.peer(),
                    from_scanned_host: c
                        .peer_host
                        .as_deref()
                        .is_some_and(|h| scanned_hosts.contains(&Host::parse(h))),
                }
            })
            .collect();
        let note = (j.matched.is_empty() && !records.is_empty() && !broker.is_empty()).then(|| {
            "no scan record matched a broker connection: through NAT, a proxy or a load \
             balancer the broker sees another address pair than the application (or the \
             scan was taken on another host or long ago)"
                .to_string()
        });
        JoinParts {
            joined,
            scan_only,
            broker_only,
            note,
        }
    }
}

/// One document: the report as JSON.
pub fn render_json(r: &AuditReport) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_else(|e| {
        format!("{{\"tool\":\"amqpdoctor\",\"error\":\"serializing the report: {e}\"}}")
    });
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::audit::{ClientProperties, RateSample};

    fn pika(port: u16, name: &str, t: u16, recv: &[(u64, u64)]) -> BrokerConnection {
        BrokerConnection {
            name: format!("127.0.0.1:{port} -> 127.0.0.1:5672"),
            node: Some("rabbit@localhost".into()),
            kind: Some("network".into()),
            peer_host: Some("127.0.0.1".into()),
            peer_port: Some(port),
            host: Some("127.0.0.1".into()),
            port: Some(5672),
            user: Some("guest".into()),
            vhost: Some("/".into()),
            protocol: Some("AMQP 0-9-1".into()),
            state: Some(crate::vocab::audit::ConnState::Running),
            channels: Some(1),
            connected_at_ms: Some(1_000),
            heartbeat: Some(Heartbeat::from_secs(t)),
            client: ClientProperties {
                product: Some("Pika Python Client Library".into()),
                version: Some("1.3.2".into()),
                platform: Some("Python 3.11.7".into()),
                connection_name: Some(name.into()),
                protocol: Some("AMQP 0-9-1".into()),
            },
            recv_oct: recv.first().map(|s| s.1),
            send_oct: Some(537),
            recv_rate: Some(0.0),
            send_rate: Some(0.0),
            recv_samples: recv
                .iter()
                .map(|&(at_ms, value)| RateSample { at_ms, value })
                .collect(),
            ..Default::default()
        }
    }

    /// Three pika clients as the tests run them, one silent past T, and
    /// one client with a hostile product string, blocked.
    fn fetched() -> Fetched {
        let quiet: Vec<(u64, u64)> = (0..15).map(|i| (100_000 - i * 5000, 466)).collect();
        let busy: Vec<(u64, u64)> = (0..15).map(|i| (100_000 - i * 5000, 900 - 8 * i)).collect();
        let mut evil = pika(40_000, "evil\u{1b}[2J", 60, &busy);
        evil.client.product = Some("Evil\u{1b}]0;pwned\u{7} | lib".into());
        evil.state = Some(crate::vocab::audit::ConnState::Blocked);
        Fetched {
            overview: Overview {
                product: Some("RabbitMQ".into()),
                version: Some("3.10.8".into()),
                management_version: Some("3.10.8".into()),
                cluster_name: Some("rabbit@vm".into()),
                node: Some("rabbit@localhost".into()),
                erlang_version: Some("25.2.3".into()),
                rates_mode: Some("basic".into()),
                ..Default::default()
            },
            connections: vec![
                pika(54_994, "app-starving", 60, &quiet[..10]),
                pika(54_995, "app-serviced", 2, &busy),
                pika(54_996, "app-off", 0, &quiet[..3]),
                pika(54_997, "app-silent", 10, &quiet),
                evil,
            ],
            window_s: 70,
            took: std::time::Duration::from_millis(12),
            skipped: 0,
        }
    }

    fn scan() -> Vec<ScanRecord> {
        let rec = |local: &str, sent, received, class: &str| ScanRecord {
            pid: Some(4242),
            command: Some("python3".into()),
            local: Some(local.into()),
            remote: Some("127.0.0.1:5672".into()),
            state: Some("ESTABLISHED".into()),
            last_sent_ms: Some(sent),
            last_received_ms: Some(received),
            inferred_heartbeat_s: None,
            classification: class.parse().ok(),
            drop_window_s: None,
        };
        vec![
            rec("127.0.0.1:54994", 50_000, 5_000, "starving"),
            rec("[::ffff:127.0.0.1]:54995", 400, 600, "healthy"),
            rec("127.0.0.1:54996", 3_000, 9_000, "heartbeats_off"),
            rec("127.0.0.1:1", 1, 1, "unknown"),
        ]
    }

    fn report(with_scan: bool) -> AuditReport {
        AuditReport::build(
            "http://guest:***@localhost:15672".into(),
            fetched(),
            with_scan.then(|| ("scan.json".to_string(), scan())),
        )
    }

    #[test]
    fn flags_decide_the_exit_code() {
        let r = report(false);
        assert_eq!(r.flagged, 3);
        assert_eq!(r.exit_code, ExitStatus::Fault);
        let flags: Vec<Vec<Flag>> = r.connections.iter().map(|c| c.flags.clone()).collect();
        assert_eq!(
            flags,
            vec![
                vec![],
                vec![],
                vec![Flag::HeartbeatOff],
                vec![Flag::SilentLongerThanT],
                vec![Flag::Blocked]
            ]
        );
        let mut calm = fetched();
        calm.connections.truncate(2);
        let r = AuditReport::build("x".into(), calm, None);
        assert_eq!((r.flagged, r.exit_code), (0, ExitStatus::Ok));
    }

    #[test]
    fn the_join_says_who_went_quiet() {
        let r = report(true);
        let joined = r.joined.as_ref().unwrap();
        let sides: Vec<(&str, QuietFirst)> = joined
            .iter()
            .map(|j| (j.connection_name.as_deref().unwrap(), j.quiet_first))
            .collect();
        assert_eq!(
            sides,
            vec![
                ("app-starving", QuietFirst::Application),
                ("app-serviced", QuietFirst::Neither),
                ("app-off", QuietFirst::Broker),
            ]
        );
        assert_eq!(r.unmatched_scan.as_ref().unwrap().len(), 1);
        let broker_only = r.unmatched_broker.as_ref().unwrap();
        assert_eq!(broker_only.len(), 2);
        assert!(broker_only.iter().all(|b| b.from_scanned_host));
        let json = render_json(&report(false));
        assert!(!json.contains("\"joined\""), "joined only with --join");
    }

    #[test]
    fn server_text_is_escaped() {
        let r = report(true);
        for out in [
            render_human(&r, Style::PLAIN),
            render_markdown(&r),
            render_junit(&r),
        ] {
            assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out}");
            assert!(out.contains("\\x1b"), "{out}");
        }
    }

    #[test]
    fn long_cells_lose_their_middle() {
        assert_eq!(cut("short", 8), "short");
        assert_eq!(
            cut("amqpdoctor-audit-21514-starving", 16),
            "amqpdoct…tarving"
        );
        assert_eq!(cut("abcdefghij", 5).chars().count(), 5);
    }

    #[test]
    fn every_format() {
        let r = report(true);
        insta::assert_snapshot!("human", render_human(&r, Style::PLAIN));
        insta::assert_snapshot!("json", render_json(&r));
        insta::assert_snapshot!("markdown", render_markdown(&r));
        insta::assert_snapshot!("junit", render_junit(&r));
    }
}
