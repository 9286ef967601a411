//! The run driver: one connect → setup → idle → publish → confirm → close
//! loop, for every heartbeat mode and every kind of client.
//!
//! ```text
//!   RunSpec ──► Policy::for_mode ──► open (wire client | lapin)
//!                                        │  Opened<C: Connection>
//!                                        ▼
//!                              driver::drive ── observer (poll + TCP_INFO)
//!                                │ prepare → idle (pump?) → publish → settle → close
//!                                ▼
//!                           RunOutcome (timeline, publishes, setup error)
//! ```
//!
//! A mode is not a lifecycle of its own but a [`Policy`] given to the
//! driver: which client opens the connection, what heartbeat it puts in
//! Tune-Ok, and whether the idle is pumped. The clients implement the small
//! [`driver::Connection`] trait; the next kinds (TLS, through a proxy, a
//! named library's emulation) plug in the same way.
//!
//! Every wait in the driver also waits for Ctrl-C (see [`cancelled`]).

pub mod cadence;
pub mod check;
mod driver;
pub mod idle;
mod lapin_client;
pub mod logs;
pub mod management;
pub mod proxy;
pub mod scan;
pub mod serve;
mod wire_client;

use std::time::Duration;

use crate::target::Target;
use crate::timeline::{PublishAttempt, Timeline};
use crate::vocab::units::duration_ms;
use crate::vocab::{Destination, HeartbeatRequest, Mode, Negotiation, SetupError};
use crate::wire::ServerInfo;

/// What one run is asked to do.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub mode: Mode,
    pub target: Target,
    pub heartbeat: HeartbeatRequest,
    pub idle: Duration,
    pub pump_every: Option<Duration>,
    /// Who `pump_every` stands for.
    pub pumper: crate::vocab::Pumper,
    pub publishes: u32,
    pub confirm_timeout: Duration,
    pub step_timeout: Duration,
    pub destination: Destination,
    /// `--consume --hold`: after publishing, consume the probe's own queue
    /// without acking for this long (a consumer acknowledgement timeout).
    pub hold: Option<Duration>,
    pub trace: bool,
    /// The preflight saw the server announce `publisher_confirms` (lapin
    /// cannot tell us; the wire client reads it again itself).
    pub server_confirms: bool,
    /// Flips to true on Ctrl-C.
    pub cancel: tokio::sync::watch::Receiver<bool>,
}

/// Which client library opens the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// Our own frame-level client: does exactly what the policy says.
    Wire,
    /// lapin: a real async client whose I/O task services heartbeats.
    Lapin,
}

/// What distinguishes the modes, given to the one driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub client: Client,
    /// What the client asks for in Tune-Ok.
    pub tune_ok: HeartbeatRequest,
    /// Read and answer with a heartbeat every so often while idle (the
    /// remedy for a starved application).
    pub pump_every: Option<Duration>,
}

impl Policy {
    /// | mode | client | Tune-Ok | pumped |
    /// |---|---|---|---|
    /// | serviced | lapin | the user's request (lapin's rule applies) | by lapin |
    /// | starved | wire | the user's request (default: the server's) | only with `--pump-every` |
    /// | disabled | wire | 0 | no |
    pub fn for_mode(mode: Mode, request: HeartbeatRequest, pump_every: Option<Duration>) -> Self {
        match mode {
            Mode::Serviced => Policy {
                client: Client::Lapin,
                tune_ok: request,
                pump_every: None,
            },
            Mode::Starved => Policy {
                client: Client::Wire,
                tune_ok: request,
                pump_every,
            },
            Mode::Disabled => Policy {
                client: Client::Wire,
                tune_ok: HeartbeatRequest::Seconds(0),
                pump_every: None,
            },
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
    pub pumper: crate::vocab::Pumper,
    pub timeline: Timeline,
    pub attempts: Vec<PublishAttempt>,
    pub setup_error: Option<SetupError>,
    pub interrupted: bool,
    pub queue: Option<String>,
    pub notes: Vec<String>,
    /// Publishes could be confirmed (the server announced publisher_confirms).
    pub confirms: bool,
}

impl RunOutcome {
    fn new(spec: &RunSpec, policy: &Policy, timeline: Timeline) -> Self {
        RunOutcome {
            mode: spec.mode,
            server: None,
            negotiation: None,
            idle_ms: duration_ms(spec.idle),
            idle_cut_short_at_ms: None,
            pump_every_ms: policy.pump_every.map(duration_ms),
            pumper: spec.pumper,
            timeline,
            attempts: Vec::new(),
            setup_error: None,
            interrupted: false,
            queue: None,
            notes: Vec::new(),
            confirms: true,
        }
    }
}

/// Run one mode.
pub async fn run(spec: RunSpec) -> RunOutcome {
    let policy = Policy::for_mode(spec.mode, spec.heartbeat, spec.pump_every);
    match policy.client {
        Client::Wire => driver::drive(&spec, &policy, wire_client::open(&spec, &policy)).await,
        Client::Lapin => driver::drive(&spec, &policy, lapin_client::open(&spec, &policy)).await,
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

/// The note a run carries when the server lacks publisher confirms.
pub const NO_CONFIRMS_NOTE: &str =
    "the server does not announce publisher_confirms: publishes are \
     only written, and whether they arrived is unknown (no confirm can come)";

/// The probe's own queue: `amqpdoctor.probe.<16 hex digits>`, exclusive
/// and auto-delete. Named by us, not the server: not every 0-9-1 broker
/// names queues.
pub fn probe_queue_name() -> String {
    format!("amqpdoctor.probe.{}", check::random_token())
}

/// The message body: says what it is, for anyone who finds one.
pub fn probe_body(mode: Mode, seq: u32) -> Vec<u8> {
    format!("amqpdoctor probe message {seq} ({mode} mode); safe to discard").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_policies() {
        let two = HeartbeatRequest::Seconds(2);
        let pump = Some(Duration::from_secs(1));
        // (mode, client, tune-ok, pumped)
        let rows = [
            (Mode::Serviced, Client::Lapin, two, None),
            (Mode::Starved, Client::Wire, two, pump),
            (
                Mode::Disabled,
                Client::Wire,
                HeartbeatRequest::Seconds(0),
                None,
            ),
        ];
        for (mode, client, tune_ok, pump_every) in rows {
            assert_eq!(
                Policy::for_mode(mode, two, pump),
                Policy {
                    client,
                    tune_ok,
                    pump_every
                },
                "{mode}"
            );
        }
    }
}
