//! The `heartbeat` report: its types, how they are built from a handshake
//! (pure), and its human rendering.

use serde::Serialize;

use super::style::{clean, table, wrap, Style, WIDTH};
use super::{Header, ServerSummary};
use crate::classify::{Cadence, SetupFailure};
use crate::error::ExitStatus;
use crate::knowledge::{self, Broker, ClientSpec};
use crate::run::cadence::CadenceSeen;
use crate::vocab::units::secs;
use crate::vocab::{Heartbeat, HeartbeatRequest, Negotiation};

/// One client library (a range of its versions) against this server and
/// the user's setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientRow {
    pub client: String,
    pub name: String,
    /// The versions this row covers ("0.12–0.13, ≥ 1.0"): versions whose
    /// prediction is the same share a row.
    pub versions: String,
    pub negotiated_heartbeat_s: Heartbeat,
    pub dispatch: String,
    pub starves_when_idle: bool,
    /// False when the library cannot give the heartbeat the user asked for.
    pub honours_setting: bool,
    pub note: Option<String>,
}

/// Whose T the timings are: our own connection's, or what the library
/// named with `--client` would negotiate. JSON: `"amqpdoctor"` or the
/// library and its versions (`"lapin 4.x"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimingsFor {
    Amqpdoctor,
    Client(String),
}

impl std::fmt::Display for TimingsFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimingsFor::Amqpdoctor => f.write_str("amqpdoctor"),
            TimingsFor::Client(c) => f.write_str(c),
        }
    }
}

impl Serialize for TimingsFor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What the protocol timings are for a T.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timings {
    pub timings_for: TimingsFor,
    pub heartbeat_s: Heartbeat,
    /// Each peer sends a heartbeat after this long without other traffic (T/2).
    pub heartbeat_every_ms: u64,
    /// The broker drops a silent client between these two (2T, 3T).
    pub broker_gives_up_after_s: Option<(u64, u64)>,
    /// With heartbeats off, TCP keepalive's default detection time (when enabled at all).
    pub tcp_keepalive_detection_s: u32,
}

impl Timings {
    pub fn new(timings_for: TimingsFor, t: Heartbeat) -> Self {
        Timings {
            timings_for,
            heartbeat_s: t,
            heartbeat_every_ms: t.send_every_ms(),
            broker_gives_up_after_s: (!t.is_off())
                .then(|| (t.broker_may_drop_ms() / 1000, t.broker_drops_by_ms() / 1000)),
            tcp_keepalive_detection_s: knowledge::tcp_keepalive_detection_s(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeartbeatReport {
    #[serde(flatten)]
    pub header: Header,
    pub server: Option<ServerSummary>,
    pub negotiation: Option<Negotiation>,
    pub clients: Vec<ClientRow>,
    pub timings: Option<Timings>,
    pub warnings: Vec<String>,
    pub observed: Option<CadenceSeen>,
    pub setup_failure: Option<SetupFailure>,
    pub exit_code: ExitStatus,
}

/// The client table for a server proposal and the user's setting (pure):
/// per library, one row per distinct prediction, newest versions first.
pub fn client_rows(
    server: Heartbeat,
    request: HeartbeatRequest,
    only: Option<&ClientSpec<'_>>,
) -> Vec<ClientRow> {
    let requested = request.requested_s();
    let server_s = server.secs();
    let specs: Vec<ClientSpec<'_>> = match only {
        Some(spec) => vec![*spec],
        None => knowledge::clients()
            .iter()
            .map(ClientSpec::unpinned)
            .collect(),
    };
    let mut out: Vec<ClientRow> = Vec::new();
    for spec in specs {
        let first = out.len();
        for v in spec.rows().iter().rev() {
            let negotiated = knowledge::negotiate_for(v, server_s, requested);
            let note =
                requested.and_then(|r| knowledge::why_not_honoured(&spec.lib.id, v, server_s, r));
            let same = out[first..].iter_mut().find(|row| {
                row.negotiated_heartbeat_s.secs() == negotiated
                    && row.starves_when_idle == v.starves_when_idle
                    && row.note == note
            });
            match same {
                Some(row) => {
                    row.versions.push_str(", ");
                    row.versions.push_str(&v.label);
                }
                None => out.push(ClientRow {
                    client: spec.lib.id.clone(),
                    name: spec.lib.name.clone(),
                    versions: v.label.clone(),
                    negotiated_heartbeat_s: Heartbeat::from_secs(negotiated),
                    dispatch: v.dispatch.clone(),
                    starves_when_idle: v.starves_when_idle,
                    honours_setting: note.is_none(),
                    note,
                }),
            }
        }
    }
    out
}

/// The timings and warnings to show: for the one library the user named,
/// what its newest (or named) version would negotiate; otherwise our own
/// connection's T.
pub fn timings_and_warnings(
    negotiated: Heartbeat,
    clients: &[ClientRow],
    only: Option<&ClientSpec<'_>>,
) -> (Timings, Vec<String>) {
    let (whose, t) = match (only, clients.first()) {
        (Some(spec), Some(row)) => (
            TimingsFor::Client(format!("{} {}", spec.lib.id, row.versions)),
            row.negotiated_heartbeat_s,
        ),
        _ => (TimingsFor::Amqpdoctor, negotiated),
    };
    let mut warnings = knowledge::heartbeat_warnings(t.secs());
    warnings.extend(only.and_then(ClientSpec::newer_note));
    (Timings::new(whose, t), warnings)
}

/// The exit status of `heartbeat`: a fault when observed heartbeats were
/// late or missing, or came while they were off.
pub fn heartbeat_exit(
    observed: Option<&CadenceSeen>,
    t: Heartbeat,
    observe_failed: bool,
) -> ExitStatus {
    match observed {
        Some(o) if o.interrupted => ExitStatus::Interrupted,
        Some(o) if o.server_to_client.faulty() || (t.is_off() && o.server_to_client.count > 0) => {
            ExitStatus::Fault
        }
        _ if observe_failed => ExitStatus::Fault,
        _ => ExitStatus::Ok,
    }
}

pub fn render(r: &HeartbeatReport, only: Option<&ClientSpec<'_>>, style: Style) -> String {
    let (mut out, failed) = super::title(&r.header, r.setup_failure.as_ref(), style);
    if failed {
        return out;
    }
    if let Some(s) = &r.server {
        out.push_str(&format!(
            "server   {} {}\n",
            clean(s.product.as_deref().unwrap_or("unknown")),
            clean(s.version.as_deref().unwrap_or(""))
        ));
    }
    if let Some(n) = &r.negotiation {
        negotiation_section(&mut out, n, r.server.as_ref());
    }
    if let Some(t) = &r.timings {
        timings_section(&mut out, t);
    }
    for w in &r.warnings {
        out.push_str(&style.bad(&wrap(&format!("warning: {w}"), WIDTH, "")));
    }
    out.push('\n');
    clients_section(&mut out, &r.clients, style);
    if let Some(spec) = only {
        chosen_client_section(&mut out, spec, style);
    }
    if let Some(o) = &r.observed {
        observed_section(&mut out, o, style);
    }
    out
}

/// The negotiation with the server: what it proposed in Tune, what we
/// requested and what Tune-Ok settled, then how the broker takes Tune-Ok.
fn negotiation_section(out: &mut String, n: &Negotiation, server: Option<&ServerSummary>) {
    out.push('\n');
    out.push_str(&table(
        &[
            "server proposed (Tune)",
            "we requested",
            "negotiated (Tune-Ok)",
            "frame_max",
            "channel_max",
        ],
        vec![vec![
            n.server_heartbeat_s.map_or("?".into(), |s| s.to_string()),
            n.requested_heartbeat_s
                .map_or("server's value".into(), |s| {
                    Heartbeat::from_secs(s).to_string()
                }),
            n.negotiated_heartbeat_s.to_string(),
            n.frame_max.to_string(),
            n.channel_max.to_string(),
        ]],
    ));
    out.push('\n');
    let broker = server.map_or_else(
        || Broker::from_server(None, None),
        |s| Broker::from_server(s.product.as_deref(), s.version.as_deref()),
    );
    out.push_str(&wrap(
        &if broker.is_rabbitmq() {
            broker.tune_ok_sentence()
        } else {
            format!(
                "{} RabbitMQ adopts the Tune-Ok value as it is.",
                broker.tune_ok_sentence()
            )
        },
        WIDTH,
        "",
    ));
}

/// When the broker sends heartbeats and when it gives up on a silent
/// client, for amqpdoctor's own heartbeat or a client library's.
fn timings_section(out: &mut String, t: &Timings) {
    let whose = match &t.timings_for {
        TimingsFor::Amqpdoctor => String::new(),
        TimingsFor::Client(c) => format!("For {c} (it negotiates {}): ", t.heartbeat_s),
    };
    // With heartbeats off the warning below says it all.
    if let Some((lo, hi)) = t.broker_gives_up_after_s {
        out.push_str(&wrap(
            &format!(
                "{whose}with T = {} RabbitMQ sends a heartbeat after {} without other \
                 traffic, and drops a client that sent nothing between 2T = {lo} s and \
                 3T = {hi} s after its last byte (it samples received bytes once per T and \
                 gives up after two empty samples).",
                t.heartbeat_s,
                secs(t.heartbeat_every_ms),
            ),
            WIDTH,
            "",
        ));
    } else if !whose.is_empty() {
        out.push_str(&wrap(&format!("{whose}heartbeats are off."), WIDTH, ""));
    }
}

/// What each client library would negotiate against this server: a table,
/// then the libraries' notes.
fn clients_section(out: &mut String, clients: &[ClientRow], style: Style) {
    let rows = clients
        .iter()
        .map(|c| {
            vec![
                c.client.clone(),
                c.versions.clone(),
                c.negotiated_heartbeat_s.to_string(),
                c.dispatch.to_string(),
                if c.starves_when_idle {
                    style.bad("yes")
                } else {
                    "no".into()
                },
                if c.honours_setting {
                    "yes".into()
                } else {
                    style.bad("NO")
                },
            ]
        })
        .collect();
    out.push_str(
        "What each client library would negotiate against this server with your setting:\n",
    );
    out.push_str(&table(
        &[
            "client",
            "versions",
            "negotiates",
            "who sends its heartbeats",
            "starves when app idles",
            "honours setting",
        ],
        rows,
    ));
    out.push('\n');
    for c in clients.iter().filter_map(|c| c.note.as_ref()) {
        out.push_str(&wrap(&format!("note: {c}"), WIDTH, ""));
    }
}

/// The one client library asked about: its setting, the remedy and the
/// sources.
fn chosen_client_section(out: &mut String, spec: &ClientSpec<'_>, style: Style) {
    let row = spec.row();
    out.push('\n');
    out.push_str(&style.bold(&format!("{} {}", spec.lib.name, row.label)));
    out.push('\n');
    out.push_str(&wrap(&format!("setting: {}", row.setting), WIDTH, "  "));
    out.push_str(&wrap(
        &format!("remedy: {}", row.remedy.join(" ")),
        WIDTH,
        "  ",
    ));
    for s in &row.sources {
        out.push_str(&wrap(&format!("source: {}", s.cite()), WIDTH, "  "));
    }
}

/// The heartbeats seen during the watch, each direction against the
/// expected gap, and a word when heartbeats are off.
fn observed_section(out: &mut String, o: &CadenceSeen, style: Style) {
    out.push_str(&format!(
        "\nObserved for {}{}:\n",
        secs(o.duration_ms),
        if o.interrupted { " (interrupted)" } else { "" }
    ));
    let line = |dir: &str, c: &Cadence| {
        vec![
            dir.to_string(),
            c.count.to_string(),
            c.mean_gap_ms.map_or("-".into(), secs),
            c.max_gap_ms.map_or("-".into(), secs),
            if c.expected_gap_ms == 0 {
                "none".into()
            } else {
                secs(c.expected_gap_ms)
            },
            if c.faulty() {
                style.bad(&format!(
                    "{} late{}",
                    c.late,
                    if c.missing { ", missing" } else { "" }
                ))
            } else {
                "ok".into()
            },
        ]
    };
    out.push_str(&table(
        &[
            "direction",
            "heartbeats",
            "mean gap",
            "max gap",
            "expected gap",
            "verdict",
        ],
        vec![
            line("server → client", &o.server_to_client),
            line("client → server", &o.client_to_server),
        ],
    ));
    out.push('\n');
    if o.server_to_client.expected_gap_ms == 0 {
        out.push_str(&wrap(
            &if o.server_to_client.count == 0 {
                "Heartbeats are off and the server sent none, as agreed.".to_string()
            } else {
                format!(
                    "Heartbeats are off but the server sent {}!",
                    o.server_to_client.count
                )
            },
            WIDTH,
            "",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(rows: &'a [ClientRow], id: &str) -> &'a ClientRow {
        rows.iter().find(|r| r.client == id).expect(id)
    }

    #[test]
    fn client_table_hand_computed() {
        // (server S, setting, client, negotiated, honours)
        let cases: &[(u16, HeartbeatRequest, &str, u16, bool)] = &[
            (60, HeartbeatRequest::Server, "pika-blocking", 60, true),
            (60, HeartbeatRequest::Seconds(0), "pika@0.10", 0, true),
            (60, HeartbeatRequest::Seconds(0), "pika@0.11.2", 60, false),
            (60, HeartbeatRequest::Seconds(0), "lapin", 60, false),
            (60, HeartbeatRequest::Seconds(0), "java", 60, false),
            (60, HeartbeatRequest::Seconds(30), "go-amqp091", 30, true),
            (60, HeartbeatRequest::Server, "go-amqp091", 10, true),
            (60, HeartbeatRequest::Seconds(120), "rabbitmq-c", 60, false),
            (60, HeartbeatRequest::Seconds(120), "kombu", 60, false),
            (0, HeartbeatRequest::Seconds(0), "lapin", 0, true),
        ];
        for &(s, setting, id, want, honours) in cases {
            let spec = knowledge::client_spec(id).expect(id);
            let rows = client_rows(Heartbeat::from_secs(s), setting, Some(&spec));
            let r = row(&rows, &spec.lib.id);
            assert_eq!(
                (r.negotiated_heartbeat_s.secs(), r.honours_setting),
                (want, honours),
                "{id} S={s} {setting:?}"
            );
        }
    }

    #[test]
    fn versions_that_predict_alike_share_a_row() {
        let pika = knowledge::client_spec("pika").expect("pika");
        let rows = client_rows(
            Heartbeat::from_secs(60),
            HeartbeatRequest::Seconds(0),
            Some(&pika),
        );
        // 0 → 0 in 0.10, 0.11.0, 0.12–0.13 and ≥ 1.0; 0 → 60 in 0.11.1–0.11.2.
        let got: Vec<(&str, u16)> = rows
            .iter()
            .map(|r| (r.versions.as_str(), r.negotiated_heartbeat_s.secs()))
            .collect();
        assert_eq!(
            got,
            [("≥ 1.0, 0.12–0.13, 0.11.0, 0.10", 0), ("0.11.1–0.11.2", 60)]
        );
        let all = client_rows(Heartbeat::from_secs(60), HeartbeatRequest::Server, None);
        assert!(all.iter().filter(|r| r.client == "pika-blocking").count() >= 1);
        assert!(all.len() >= knowledge::clients().len());
    }

    #[test]
    fn client_filter_narrows_to_one_and_its_timings_are_its_own() {
        let lapin = knowledge::client_spec("lapin").ok();
        let s = Heartbeat::from_secs(60);
        let rows = client_rows(s, HeartbeatRequest::Seconds(0), lapin.as_ref());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].client, "lapin");
        // We negotiated 0, but lapin would get 60: the timings are lapin's.
        let (t, warnings) = timings_and_warnings(Heartbeat::OFF, &rows, lapin.as_ref());
        assert_eq!(
            (t.timings_for.clone(), t.heartbeat_s),
            (TimingsFor::Client("lapin 4.x".into()), s)
        );
        assert!(
            warnings.iter().all(|w| !w.contains("heartbeats are off")),
            "{warnings:?}"
        );
        // Without a filter they are ours.
        let all = client_rows(s, HeartbeatRequest::Seconds(0), None);
        let (t, warnings) = timings_and_warnings(Heartbeat::OFF, &all, None);
        assert_eq!(t.timings_for, TimingsFor::Amqpdoctor);
        assert_eq!(
            serde_json::to_value(&t).unwrap()["timings_for"],
            "amqpdoctor"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn exit_decision() {
        use crate::classify::cadence;
        let ok = cadence(&[1000, 2000, 3000], 0, 3500, 1000);
        let late = cadence(&[1000, 4000], 0, 4500, 1000);
        let obs = |c: &Cadence, interrupted| CadenceSeen {
            duration_ms: 3500,
            server_to_client: c.clone(),
            client_to_server: ok.clone(),
            interrupted,
        };
        let two = Heartbeat::from_secs(2);
        // (observed, T, observe failed, exit)
        let rows = [
            (None, two, false, ExitStatus::Ok),
            (None, two, true, ExitStatus::Fault),
            (Some(obs(&ok, false)), two, false, ExitStatus::Ok),
            (Some(obs(&late, false)), two, false, ExitStatus::Fault),
            (
                Some(obs(&ok, false)),
                Heartbeat::OFF,
                false,
                ExitStatus::Fault,
            ),
            (Some(obs(&ok, true)), two, false, ExitStatus::Interrupted),
        ];
        for (i, (o, t, failed, want)) in rows.into_iter().enumerate() {
            assert_eq!(heartbeat_exit(o.as_ref(), t, failed), want, "row {i}");
        }
    }
}
