//! The report every command renders, and its renderers (`Report -> String`).
//!
//! [`Report`] serializes to the JSON contract in docs/json.md; `human`
//! renders the same data for a terminal. Nothing here touches a socket.

pub mod explain;
pub mod heartbeat;
pub mod human;
pub mod json;
pub mod style;

use serde::Serialize;

use crate::classify::{self, End, Mode, PublishReport, RunFacts, Verdict};
use crate::modes::{Negotiation, RunOutcome, SetupFailure};
use crate::timeline::{Event, Heartbeats};
use crate::wire::ServerInfo;

/// What the server said about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerSummary {
    pub product: Option<String>,
    pub version: Option<String>,
    pub platform: Option<String>,
    pub cluster_name: Option<String>,
    /// Connection.Tune's heartbeat: what the server proposes to every client.
    pub proposed_heartbeat_s: Option<u16>,
    pub frame_max: Option<u32>,
    pub channel_max: Option<u16>,
    pub capabilities: Vec<String>,
    pub mechanisms: Vec<String>,
}

impl ServerSummary {
    pub fn new(info: &ServerInfo, tune: Option<(u16, u32, u16)>) -> Self {
        ServerSummary {
            product: info.product.clone(),
            version: info.version.clone(),
            platform: info.platform.clone(),
            cluster_name: info.cluster_name.clone(),
            proposed_heartbeat_s: tune.map(|t| t.0),
            frame_max: tune.map(|t| t.1),
            channel_max: tune.map(|t| t.2),
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
    /// Set when the idle ended early because the connection had already died.
    pub idle_cut_short_at_ms: Option<u64>,
    pub pump_every_ms: Option<u64>,
    pub heartbeats: Heartbeats,
    pub events: Vec<Event>,
    pub publishes: Vec<PublishReport>,
    pub end: End,
    pub verdict: Verdict,
    /// Set when the run failed before its experiment (connect, handshake).
    pub setup_failure: Option<SetupFailure>,
    /// The probe's own server-named queue (the broker deletes it with the connection).
    pub queue: Option<String>,
    pub notes: Vec<String>,
}

impl Run {
    /// Classify a run's outcome (pure).
    pub fn classify(o: RunOutcome, confirm_timeout_ms: u64) -> Run {
        let end = classify::end_of(&o.timeline);
        let publishes = classify::publish_reports(&o.attempts, o.interrupted);
        let heartbeat_s = o.negotiation.map_or(0, |n| n.negotiated_heartbeat_s);
        let verdict = match &o.setup_failure {
            Some(f) => classify::setup_verdict(f.code, f.stage, &f.message, f.close.as_ref()),
            None => classify::verdict(&RunFacts {
                mode: o.mode,
                server_heartbeat_s: o.negotiation.and_then(|n| n.server_heartbeat_s),
                requested_heartbeat_s: o.negotiation.and_then(|n| n.requested_heartbeat_s),
                heartbeat_s,
                idle_ms: o.idle_ms,
                pump_every_ms: o.pump_every_ms,
                confirm_timeout_ms,
                timeline: &o.timeline,
                end: &end,
                publishes: &publishes,
                interrupted: o.interrupted,
            }),
        };
        Run {
            mode: o.mode,
            negotiation: o.negotiation,
            idle_ms: o.idle_ms,
            idle_cut_short_at_ms: o.idle_cut_short_at_ms,
            pump_every_ms: o.pump_every_ms,
            heartbeats: o.timeline.heartbeats.clone(),
            events: o.timeline.events.clone(),
            publishes,
            end,
            verdict,
            setup_failure: o.setup_failure,
            queue: o.queue,
            notes: o.notes,
        }
    }
}

/// The whole report of one command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub version: &'static str,
    pub command: &'static str,
    /// The target URL with the password replaced by `***`.
    pub target: String,
    pub server: Option<ServerSummary>,
    pub settings: ProbeSettings,
    pub runs: Vec<Run>,
    /// Set when the preflight connection failed and no run could start.
    pub setup_failure: Option<SetupFailure>,
    pub interrupted: bool,
    pub exit_code: u8,
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
}
