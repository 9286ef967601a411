//! The `probe` report: one classified run per heartbeat mode, the report
//! around them, and its renderers (human, CI formats, the client-library
//! emulation's block).

use serde::Serialize;

use super::{Header, ServerSummary};
use crate::classify::{self, End, PublishReport, RunFacts, SetupFailure, Verdict};
use crate::error::ExitStatus;
use crate::knowledge::Broker;
use crate::run::RunOutcome;
use crate::timeline::{Event, Heartbeats};
use crate::vocab::{Heartbeat, Mode, Negotiation};

pub(crate) mod ci;
pub(crate) mod client;
pub(crate) mod human;

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
                pumper: o.pumper,
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
    pub client: Option<client::ClientRun>,
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
