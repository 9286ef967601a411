//! Reports and their renderers (`Report -> String`), and the one path by
//! which any command's output reaches stdout ([`emit`]).
//!
//! [`Report`] serializes to the JSON contract in docs/json.md; `human`
//! renders the same data for a terminal. Apart from [`emit`] and
//! [`progress`] (stderr), nothing here does I/O.

pub(crate) mod audit;
pub(crate) mod check;
pub(crate) mod explain;
pub(crate) mod explain_json;
pub(crate) mod explain_paste;
pub(crate) mod format;
pub(crate) mod heartbeat;
pub(crate) mod human;
pub(crate) mod idle;
pub(crate) mod json;
pub(crate) mod junit;
pub(crate) mod logs;
pub(crate) mod probe_ci;
pub(crate) mod probe_client;
pub(crate) mod progress;
pub(crate) mod proxy;
pub(crate) mod scan;
pub(crate) mod serve;
pub(crate) mod style;
pub(crate) mod tls;

use std::io::Write;

use serde::Serialize;

use crate::classify::{self, End, PublishReport, RunFacts, SetupFailure, Verdict};
use crate::error::ExitStatus;
use crate::knowledge::Broker;
use crate::run::RunOutcome;
use crate::timeline::{Event, Heartbeats};
use crate::vocab::{Heartbeat, Mode, Negotiation};
use crate::wire::ServerInfo;

/// Write a rendered report to stdout. A closed pipe (`amqpdoctor … | head
/// -1`) ends the output quietly: the reader has what it wanted, and the
/// exit status stays the diagnosis's.
pub fn emit(bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes.as_ref()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// One line on stderr, for notices while a command runs. Never panics (an
/// `eprintln!` would, on a closed stderr).
pub fn notice(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "amqpdoctor: {line}");
}

/// The "tool, version, command, target" header every JSON report starts with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Header {
    pub tool: &'static str,
    pub version: &'static str,
    pub command: &'static str,
    /// The target URL with the password replaced by `***`.
    pub target: String,
    /// How TLS was set up for an `amqps://` target; null for `amqp://`.
    pub tls: Option<TlsInfo>,
}

/// TLS as asked for (what was negotiated is in the timeline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsInfo {
    /// The name the server's certificate was verified for (and SNI).
    pub server_name: String,
    /// False with `--insecure` / `verify=verify_none`.
    pub verified: bool,
    /// The CA file trusted; null: the system's roots.
    pub cacert: Option<String>,
    /// Whether a client certificate was offered.
    pub client_certificate: bool,
    /// The family whose rules decide a certificate rustls refuses
    /// (`--tls-as`).
    pub tls_as: crate::vocab::tls::TlsFamily,
    /// Set when rustls refused the certificate and the run went on because
    /// that family accepts it (`verified` is then false): what was
    /// accepted and which families would refuse it.
    pub accepted: Option<crate::vocab::tls::TlsLeniency>,
}

impl TlsInfo {
    pub fn of(t: &crate::target::Target) -> Option<Self> {
        t.tls().map(|s| TlsInfo {
            server_name: t.tls_server_name().to_string(),
            verified: !s.insecure,
            cacert: s.cacert.as_ref().map(|p| p.display().to_string()),
            client_certificate: s.cert.is_some(),
            tls_as: s.tls_as.unwrap_or_default(),
            accepted: None,
        })
    }

    /// Record that rustls refused the certificate and the run went on.
    pub fn accept(&mut self, l: Option<&crate::vocab::tls::TlsLeniency>) {
        if let Some(l) = l {
            self.verified = false;
            self.accepted = Some(l.clone());
        }
    }
}

impl Header {
    pub fn new(command: &'static str, target: String) -> Self {
        Header {
            tool: "amqpdoctor",
            version: env!("CARGO_PKG_VERSION"),
            command,
            target,
            tls: None,
        }
    }

    /// Record that the connection of `tl` went on although rustls refused
    /// the server's certificate (see [`TlsInfo::accept`]).
    pub fn accept_tls(&mut self, tl: &crate::timeline::Timeline) {
        if let Some(t) = self.tls.as_mut() {
            t.accept(tl.tls_accepted.as_ref());
        }
    }

    /// The header for a command against `t` (its TLS settings included).
    pub fn for_target(command: &'static str, t: &crate::target::Target) -> Self {
        Header {
            tls: TlsInfo::of(t),
            ..Header::new(command, t.to_string())
        }
    }
}

/// The first line of a human report (`amqpdoctor <command> <target>`),
/// and, when the run could not get going, the failure under it: the
/// report ends there (the second value is true).
pub fn title(
    header: &Header,
    setup_failure: Option<&crate::classify::SetupFailure>,
    style: style::Style,
) -> (String, bool) {
    let mut out = format!(
        "{} {}\n",
        style.bold(&format!("amqpdoctor {}", header.command)),
        style::clean(&header.target)
    );
    if let Some(f) = setup_failure {
        out.push_str(&style.bad(&format!(
            "could not diagnose: {} during the {}\n",
            f.code, f.stage
        )));
        out.push_str(&style::wrap(&f.message, style::WIDTH, "  "));
        return (out, true);
    }
    (out, false)
}

/// What the server said about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerSummary {
    pub product: Option<String>,
    pub version: Option<String>,
    pub platform: Option<String>,
    pub cluster_name: Option<String>,
    /// Connection.Tune's heartbeat: what the server proposes to every client.
    pub proposed_heartbeat_s: Option<Heartbeat>,
    pub frame_max: Option<u32>,
    pub channel_max: Option<u16>,
    pub capabilities: Vec<String>,
    pub mechanisms: Vec<String>,
}

/// Connection.Tune as the server proposed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tune {
    pub heartbeat: Heartbeat,
    pub frame_max: u32,
    pub channel_max: u16,
}

impl ServerSummary {
    pub fn new(info: &ServerInfo, tune: Option<Tune>) -> Self {
        ServerSummary {
            product: info.product.clone(),
            version: info.version.clone(),
            platform: info.platform.clone(),
            cluster_name: info.cluster_name.clone(),
            proposed_heartbeat_s: tune.map(|t| t.heartbeat),
            frame_max: tune.map(|t| t.frame_max),
            channel_max: tune.map(|t| t.channel_max),
            capabilities: info
                .capabilities
                .iter()
                .filter(|(_, on)| *on)
                .map(|(k, _)| k.clone())
                .collect(),
            mechanisms: info.mechanisms.clone(),
        }
    }
}

/// One mode's run, classified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub mode: Mode,
    pub negotiation: Option<Negotiation>,
    pub idle_ms: u64,
    /// How much of the idle passed (less than `idle_ms` when it was cut
    /// short or interrupted); null when no idle began.
    pub idle_reached_ms: Option<u64>,
    /// Set when the idle ended early because the connection had already died.
    pub idle_cut_short_at_ms: Option<u64>,
    pub pump_every_ms: Option<u64>,
    pub heartbeats: Heartbeats,
    pub events: Vec<Event>,
    pub publishes: Vec<PublishReport>,
    /// Set when the broker sent Connection.Blocked (a resource alarm): its
    /// reason and how long the connection stayed blocked.
    pub blocked: Option<classify::fault::BlockedSpan>,
    /// The broker's consumer_timeout, read from its Channel.Close text
    /// when it closed the channel over an unacknowledged delivery
    /// (`--consume`).
    pub consumer_timeout_ms: Option<u64>,
    pub end: End,
    pub verdict: Verdict,
    /// Set when the run failed before its experiment (connect, handshake).
    pub setup_failure: Option<SetupFailure>,
    /// The probe's own queue, `amqpdoctor.probe.<random>` (exclusive, auto-delete: the broker deletes it with the connection).
    pub queue: Option<String>,
    pub notes: Vec<String>,
}

impl Run {
    /// Classify a run's outcome (pure).
    pub fn classify(o: RunOutcome, confirm_timeout_ms: u64) -> Run {
        let end = classify::end_of(&o.timeline);
        // Without publisher confirms an unsettled publish is unknown, not
        // lost: nothing could have confirmed it.
        let mut publishes = classify::publish_reports(&o.attempts, o.interrupted || !o.confirms);
        classify::fault::mark_blocked(&mut publishes, &o.timeline);
        let blocked = classify::fault::blocked_span(&o.timeline);
        let consumer_timeout_ms = classify::fault::run_consumer_timeout_ms(&o.timeline);
        let setup_failure = o.setup_error.as_ref().map(SetupFailure::classify);
        let broker = o.server.as_ref().map_or_else(
            || Broker::from_server(None, None),
            |s| Broker::from_server(s.product.as_deref(), s.version.as_deref()),
        );
        let verdict = match &setup_failure {
            Some(f) => classify::setup_verdict(f),
            None => classify::verdict(&RunFacts {
                mode: o.mode,
                server_heartbeat: o.negotiation.and_then(|n| n.server_heartbeat_s),
                requested_heartbeat_s: o.negotiation.and_then(|n| n.requested_heartbeat_s),
                heartbeat: o
                    .negotiation
                    .map_or(Heartbeat::OFF, |n| n.negotiated_heartbeat_s),
                idle_ms: o.idle_ms,
                pump_every_ms: o.pump_every_ms,
                confirm_timeout_ms,
                timeline: &o.timeline,
                end: &end,
                publishes: &publishes,
                interrupted: o.interrupted,
                broker: &broker,
            }),
        };
        Run {
            mode: o.mode,
            negotiation: o.negotiation,
            idle_ms: o.idle_ms,
            idle_reached_ms: classify::narrate::idle_reached_ms(&o.timeline),
            idle_cut_short_at_ms: o.idle_cut_short_at_ms,
            pump_every_ms: o.pump_every_ms,
            heartbeats: o.timeline.heartbeats.clone(),
            events: o.timeline.events,
            publishes,
            blocked,
            consumer_timeout_ms,
            end,
            verdict,
            setup_failure,
            queue: o.queue,
            notes: o.notes,
        }
    }

    pub fn interrupted(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e.kind, crate::timeline::EventKind::Interrupted))
    }
}

/// The probe's exit status, from its runs (the contract in the README):
/// interrupted beats everything, then "could not diagnose", then a fault.
pub fn probe_exit(runs: &[Run]) -> ExitStatus {
    if runs.iter().any(Run::interrupted) {
        ExitStatus::Interrupted
    } else if runs.iter().any(|r| r.setup_failure.is_some()) {
        ExitStatus::CannotDiagnose
    } else if runs.iter().all(|r| r.verdict.expected) {
        ExitStatus::Ok
    } else {
        ExitStatus::Fault
    }
}

/// The whole report of one probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub header: Header,
    pub server: Option<ServerSummary>,
    pub settings: ProbeSettings,
    /// `--client ID[@VERSION]`: the library the run behaved as; null
    /// without `--client` (or when the preflight failed).
    pub client: Option<probe_client::ClientRun>,
    pub runs: Vec<Run>,
    /// Set when the preflight connection failed and no run could start.
    pub setup_failure: Option<SetupFailure>,
    pub interrupted: bool,
    pub exit_code: ExitStatus,
}

impl Report {
    /// A report whose exit status is decided from its runs, never given.
    pub fn new(
        header: Header,
        server: Option<ServerSummary>,
        settings: ProbeSettings,
        runs: Vec<Run>,
        setup_failure: Option<SetupFailure>,
    ) -> Self {
        let exit_code = if setup_failure.is_some() {
            ExitStatus::CannotDiagnose
        } else {
            probe_exit(&runs)
        };
        Report {
            header,
            server,
            settings,
            client: None,
            interrupted: runs.iter().any(Run::interrupted),
            runs,
            setup_failure,
            exit_code,
        }
    }
}

/// The probe's settings as resolved (auto idle computed, defaults filled).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeSettings {
    pub idle_ms: u64,
    pub idle_auto: bool,
    pub heartbeat: String,
    pub publishes: u32,
    pub confirm_timeout_ms: u64,
    pub pump_every_ms: Option<u64>,
    /// Where the probe published: "own_queue" or "exchange:<name>/<key>".
    pub destination: String,
    /// `--consume --hold`: how long the deliveries were held unacknowledged.
    pub consume_hold_ms: Option<u64>,
}

#[cfg(test)]
mod tests;
