//! The three heartbeat modes, one file each, and what a run produces.
//!
//! | mode | client | Tune-Ok heartbeat | who sends heartbeats | reads while idle |
//! |---|---|---|---|---|
//! | serviced | lapin | lapin's rule | lapin's I/O task, every T/2 | yes |
//! | starved | wire | as requested (default: the server's) | nobody | no (unless `--pump-every`) |
//! | disabled | wire | 0 | nobody, by agreement | no |
//!
//! starved and disabled share the wire experiment in [`experiment`]; they
//! differ only in the Tune-Ok value and the pump.

pub mod disabled;
pub mod experiment;
pub mod serviced;
pub mod starved;

use std::time::Duration;

use serde::Serialize;

use crate::classify::{Mode, PublishAttempt, VerdictCode};
use crate::cli::HeartbeatRequest;
use crate::target::Target;
use crate::timeline::Timeline;
use crate::wire::{CloseInfo, ConnectError, ServerInfo, WireError};

/// Where probe messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A server-named, exclusive, auto-delete queue of the probe's own,
    /// through the default exchange: touches no user data, leaves nothing.
    OwnQueue,
    /// The user named these explicitly.
    Exchange {
        exchange: String,
        routing_key: String,
    },
}

/// What one run is asked to do.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub mode: Mode,
    pub target: Target,
    pub heartbeat: HeartbeatRequest,
    pub idle: Duration,
    pub pump_every: Option<Duration>,
    pub publishes: u32,
    pub confirm_timeout: Duration,
    pub step_timeout: Duration,
    pub destination: Destination,
    pub trace: bool,
    /// Flips to true on Ctrl-C.
    pub cancel: tokio::sync::watch::Receiver<bool>,
}

impl RunSpec {
    /// The name the broker shows for this connection.
    pub fn connection_name(&self) -> String {
        format!("amqpdoctor/{}", mode_name(self.mode))
    }
}

pub fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Serviced => "serviced",
        Mode::Starved => "starved",
        Mode::Disabled => "disabled",
    }
}

/// The heartbeat negotiation of one connection (JSON contract names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Negotiation {
    /// What the server proposed in Connection.Tune (null when the mode cannot see it).
    pub server_heartbeat_s: Option<u16>,
    /// What the client asked for; null means "accept the server's proposal".
    pub requested_heartbeat_s: Option<u16>,
    pub negotiated_heartbeat_s: u16,
    pub frame_max: u32,
    pub channel_max: u16,
}

/// A run that could not get as far as the experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetupFailure {
    pub code: VerdictCode,
    /// connect, handshake, channel
    pub stage: &'static str,
    pub message: String,
    pub errno: Option<i32>,
    pub close: Option<CloseInfo>,
}

impl SetupFailure {
    pub fn connect(err: &ConnectError) -> Self {
        SetupFailure {
            code: VerdictCode::ConnectFailed,
            stage: "connect",
            message: err.to_string(),
            errno: err.raw_os_error(),
            close: None,
        }
    }

    /// Classify a failure during the handshake or channel setup.
    pub fn wire(stage: &'static str, err: &WireError) -> Self {
        let close = match err {
            WireError::ServerClose(c) | WireError::ChannelClose(c) => Some(c.clone()),
            _ => None,
        };
        SetupFailure {
            code: crate::classify::setup_failure_code(stage, err),
            stage,
            message: err.to_string(),
            errno: err.raw_os_error(),
            close,
        }
    }
}

/// Everything one run produced, before classification.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub mode: Mode,
    pub server: Option<ServerInfo>,
    pub negotiation: Option<Negotiation>,
    /// The idle asked for.
    pub idle_ms: u64,
    /// When the idle was cut short because the connection had already died.
    pub idle_cut_short_at_ms: Option<u64>,
    pub pump_every_ms: Option<u64>,
    pub timeline: Timeline,
    pub attempts: Vec<PublishAttempt>,
    pub setup_failure: Option<SetupFailure>,
    pub interrupted: bool,
    pub queue: Option<String>,
    pub notes: Vec<String>,
}

impl RunOutcome {
    pub fn new(spec: &RunSpec, timeline: Timeline) -> Self {
        RunOutcome {
            mode: spec.mode,
            server: None,
            negotiation: None,
            idle_ms: crate::timeline::duration_ms(spec.idle),
            idle_cut_short_at_ms: None,
            pump_every_ms: spec.pump_every.map(crate::timeline::duration_ms),
            timeline,
            attempts: Vec::new(),
            setup_failure: None,
            interrupted: false,
            queue: None,
            notes: Vec::new(),
        }
    }
}

/// Run one mode.
pub async fn run(spec: RunSpec) -> RunOutcome {
    match spec.mode {
        Mode::Serviced => serviced::run(spec).await,
        Mode::Starved => starved::run(spec).await,
        Mode::Disabled => disabled::run(spec).await,
    }
}

/// Resolves once the cancel flag is true (Ctrl-C); pending forever if it
/// never will be, even when the sender is gone.
pub async fn cancelled(rx: &mut tokio::sync::watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The message body: says what it is, for anyone who finds one.
pub fn probe_body(mode: Mode, seq: u32) -> Vec<u8> {
    format!(
        "amqpdoctor probe message {seq} ({} mode); safe to discard",
        mode_name(mode)
    )
    .into_bytes()
}
