//! `amqpdoctor probe`: run the heartbeat modes side by side, classify how
//! each connection ended, and explain it.
//!
//! Flow: a preflight wire handshake learns the server (product, Tune
//! proposal) and proves we can log in — without it there is no diagnosis
//! (exit 3). Then the modes run concurrently through the one run driver, so
//! wall time is about idle + handshake, not one idle per mode.

use std::time::Duration;

use anyhow::Context;

use crate::classify::SetupFailure;
use crate::cli::{IdleArg, ModeArg, ProbeArgs};
use crate::error::{ExitStatus, Interrupted, UsageError};
use crate::knowledge::cadence::{self, Behaviour};
use crate::knowledge::ClientSpec;
use crate::report::probe::client::ClientRun;
use crate::report::progress::Countdown;
use crate::report::{self, Header, ProbeSettings, Report, Run, ServerSummary, Tune};
use crate::run::{self, RunOutcome, RunSpec};
use crate::target::Target;
use crate::timeline::Timeline;
use crate::vocab::units::{duration_ms, secs};
use crate::vocab::{Destination, Heartbeat, HeartbeatRequest, Mode, Pumper};
use crate::wire::{self, HandshakeParams, OpenFailure};

/// Validated probe settings.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    pub target: Target,
    pub modes: Vec<Mode>,
    pub heartbeat: HeartbeatRequest,
    pub idle: IdleArg,
    pub pump_every: Option<Duration>,
    pub publishes: u32,
    pub confirm_timeout: Duration,
    pub step_timeout: Duration,
    pub destination: Destination,
    /// `--consume --hold DUR`.
    pub hold: Option<Duration>,
    pub trace: bool,
    /// `--client ID[@VERSION]` as typed, and the library row it names.
    pub client: Option<(String, ClientSpec<'static>)>,
    /// With `--client`, once the server's proposal is known: what the run
    /// sends in Tune-Ok and how often it is pumped.
    pub emulated: Option<Emulated>,
}

/// How a `--client` run behaves as its library (see [`cadence::emulate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emulated {
    pub tune_ok: HeartbeatRequest,
    pub pump_every: Option<Duration>,
    /// The library beats on its own, or the application pumps it.
    pub pumper: Pumper,
}

impl ProbeConfig {
    /// The spec of one mode's run.
    fn spec(
        &self,
        mode: Mode,
        idle: Duration,
        server_confirms: bool,
        cancel: tokio::sync::watch::Receiver<bool>,
    ) -> RunSpec {
        RunSpec {
            mode,
            target: self.target.clone(),
            heartbeat: self.tune_ok(),
            idle,
            pump_every: self
                .emulated
                .map_or(self.pump_every, |e| e.pump_every)
                .filter(|_| mode == Mode::Starved),
            pumper: self.emulated.map_or(Pumper::Application, |e| e.pumper),
            publishes: self.publishes,
            confirm_timeout: self.confirm_timeout,
            step_timeout: self.step_timeout,
            destination: self.destination.clone(),
            hold: self.hold,
            trace: self.trace,
            server_confirms,
            cancel,
        }
    }

    /// What the runs ask for in Tune-Ok: the library's value with
    /// `--client`, else `--heartbeat`.
    fn tune_ok(&self) -> HeartbeatRequest {
        self.emulated.map_or(self.heartbeat, |e| e.tune_ok)
    }

    /// With `--client`, once the server proposed `proposal`: behave as the
    /// library (one run, in the mode that does what it does) and say so.
    fn emulate(&mut self, proposal: Heartbeat) -> Option<ClientRun> {
        let (asked, spec) = self.client.as_ref()?;
        let requested = self.heartbeat.requested_s();
        let em = cadence::emulate(spec.row(), proposal.secs(), requested);
        let (mode, pump_every) = match em.behaviour {
            // --pump-every: the application calls into the library.
            Behaviour::Starves => (Mode::Starved, self.pump_every),
            Behaviour::Beats { every_ms } => (Mode::Starved, Some(Duration::from_millis(every_ms))),
            Behaviour::Off => (Mode::Disabled, None),
        };
        if self.pump_every.is_some() && em.behaviour != Behaviour::Starves {
            report::notice(&format!(
                "--pump-every ignored: {} {}",
                spec.lib.id,
                match em.behaviour {
                    Behaviour::Off => "negotiates heartbeats off here: there is nothing to pump",
                    _ => "sends its own heartbeats; the run beats at its cadence",
                }
            ));
        }
        self.modes = vec![mode];
        self.emulated = Some(Emulated {
            tune_ok: HeartbeatRequest::Seconds(em.tune_ok_s),
            pump_every,
            pumper: match em.behaviour {
                Behaviour::Beats { .. } => Pumper::Library,
                Behaviour::Starves | Behaviour::Off => Pumper::Application,
            },
        });
        let mut run = ClientRun::new(asked, spec, proposal.secs(), requested, &em, mode);
        if em.behaviour == Behaviour::Starves {
            run.application_pumps_every_ms = pump_every.map(duration_ms);
        }
        Some(run)
    }

    pub fn from_args(a: &ProbeArgs) -> anyhow::Result<Self> {
        let target = super::target(&a.connect)?;
        let client = match &a.client {
            Some(name) => Some((name.clone(), super::client_arg(name)?)),
            None => None,
        };
        let modes: Vec<Mode> = a
            .modes()
            .into_iter()
            .filter_map(|m| match m {
                ModeArg::Serviced => Some(Mode::Serviced),
                ModeArg::Starved => Some(Mode::Starved),
                ModeArg::Disabled => Some(Mode::Disabled),
                ModeArg::All => None,
            })
            .collect();
        // With --client the mode is chosen after the preflight; until then
        // (and in a preflight failure's report) the run is a starved one.
        let modes = if client.is_some() {
            vec![Mode::Starved]
        } else {
            modes
        };
        if a.pump_every.is_some() && !modes.contains(&Mode::Starved) {
            return Err(UsageError(
                "--pump-every applies to the starved mode; add --mode starved".into(),
            )
            .into());
        }
        let destination = match (&a.exchange, &a.routing_key) {
            (Some(e), Some(k)) => Destination::Exchange {
                exchange: e.clone(),
                routing_key: k.clone(),
            },
            _ => Destination::OwnQueue,
        };
        let heartbeat = super::heartbeat_request(a.heartbeat, &target);
        let step_timeout = super::connect_timeout(a.connect.connect_timeout, &target);
        Ok(ProbeConfig {
            target,
            modes,
            heartbeat,
            idle: a.idle,
            pump_every: a.pump_every,
            publishes: a.publishes,
            confirm_timeout: a.confirm_timeout,
            step_timeout,
            destination,
            hold: a.consume.then_some(a.hold).flatten(),
            trace: a.trace,
            client,
            emulated: None,
        })
    }

    fn settings(&self, idle: Duration) -> ProbeSettings {
        ProbeSettings {
            idle_ms: duration_ms(idle),
            idle_auto: matches!(self.idle, IdleArg::Auto),
            heartbeat: self.heartbeat.label(),
            publishes: self.publishes,
            confirm_timeout_ms: duration_ms(self.confirm_timeout),
            pump_every_ms: self.pump_every.map(duration_ms),
            destination: self.destination.to_string(),
            consume_hold_ms: self.hold.map(duration_ms),
        }
    }
}

pub fn run(args: ProbeArgs) -> anyhow::Result<ExitStatus> {
    let cfg = ProbeConfig::from_args(&args)?;
    if matches!(cfg.destination, Destination::Exchange { .. }) {
        report::notice("publishing to a user exchange as asked: messages may reach user queues");
    }
    let report = super::runtime()?.block_on(probe(cfg))?;
    let out = report::format::render(&report, args.format, super::style_for(args.color))?;
    report::emit(out).context("writing the report")?;
    if let Some(f) = report
        .setup_failure
        .as_ref()
        .or_else(|| report.runs.iter().find_map(|r| r.setup_failure.as_ref()))
    {
        // The report may be JSON in a pipe: say it in one line for people
        // and CI logs too.
        report::notice(&super::could_not_diagnose(f));
    }
    Ok(report.exit_code)
}

/// What the preflight learned: who the server is, its heartbeat proposal,
/// whether it confirms publishes.
struct Preflight {
    server: ServerSummary,
    proposal: Heartbeat,
    confirms: bool,
}

/// The preflight handshake: the server, or the report that says why
/// there is no diagnosis.
async fn preflight(
    cfg: &ProbeConfig,
    header: &mut Header,
    cancel: &mut tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Result<Preflight, Report>> {
    let params = HandshakeParams::for_target(
        &cfg.target,
        HeartbeatRequest::Server,
        "amqpdoctor/preflight",
    );
    let preflight = wire::open(
        &cfg.target,
        &params,
        cfg.step_timeout,
        Timeline::new(cfg.trace),
    );
    let opened = tokio::select! {
        o = preflight => o,
        _ = run::cancelled(cancel) => {
            return Err(Interrupted("before the preflight handshake finished").into());
        }
    };
    header.accept_tls(wire::timeline_of(&opened));
    match opened {
        Ok((mut conn, hs)) => {
            let _ = conn.close().await;
            let tune = Tune {
                heartbeat: hs.server_heartbeat,
                frame_max: hs.server_frame_max,
                channel_max: hs.server_channel_max,
            };
            Ok(Ok(Preflight {
                server: ServerSummary::new(&hs.server, Some(tune)),
                proposal: hs.server_heartbeat,
                confirms: hs.server.has_capability("publisher_confirms"),
            }))
        }
        Err(f) => {
            let OpenFailure { timeline, error } = *f;
            let failure = SetupFailure::classify(&error);
            let run = preflight_run(cfg, timeline, failure.clone());
            Ok(Err(Report::new(
                header.clone(),
                None,
                cfg.settings(Duration::ZERO),
                vec![run],
                Some(failure),
            )))
        }
    }
}

/// Run the whole probe and build its report.
pub async fn probe(mut cfg: ProbeConfig) -> anyhow::Result<Report> {
    let mut cancel = super::interrupt_flag();
    let mut header = Header::for_target("probe", &cfg.target);

    // Preflight: who is the server, what does it propose, can we log in?
    let Preflight {
        server,
        proposal,
        confirms,
    } = match preflight(&cfg, &mut header, &mut cancel).await? {
        Ok(p) => p,
        Err(report) => return Ok(report),
    };
    let client = cfg.emulate(proposal);

    let starved_t = cfg.tune_ok().tune_ok(proposal);
    let idle = match cfg.idle {
        IdleArg::Fixed(d) => d,
        IdleArg::Auto => starved_t.auto_idle(),
    };
    let names: Vec<String> = match &client {
        Some(c) => vec![c.plan_name()],
        None => cfg.modes.iter().map(|m| m.as_str().to_string()).collect(),
    };
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    report::notice(&plan_line(&cfg, &names, idle, starved_t));
    let countdown = Countdown::start(&format!("idling {}", names.join(", ")), idle);
    let handles: Vec<_> = cfg
        .modes
        .iter()
        .map(|&mode| tokio::spawn(run::run(cfg.spec(mode, idle, confirms, cancel.clone()))))
        .collect();
    let mut runs = Vec::new();
    for h in handles {
        let mut outcome: RunOutcome = h.await.context("a probe task failed")?;
        // lapin cannot see the Tune proposal; the preflight did.
        if let Some(n) = &mut outcome.negotiation {
            n.server_heartbeat_s.get_or_insert(proposal);
        }
        runs.push(Run::classify(outcome, duration_ms(cfg.confirm_timeout)));
    }
    countdown.finish();
    let mut report = Report::new(header, Some(server), cfg.settings(idle), runs, None);
    report.client = client;
    Ok(report)
}

/// The run that stands for a preflight that failed or was interrupted.
fn preflight_run(cfg: &ProbeConfig, timeline: Timeline, failure: SetupFailure) -> Run {
    let verdict = crate::classify::setup_verdict(&failure);
    Run {
        mode: cfg.modes.first().copied().unwrap_or(Mode::Starved),
        negotiation: None,
        idle_ms: 0,
        idle_reached_ms: None,
        idle_cut_short_at_ms: None,
        pump_every_ms: None,
        heartbeats: timeline.heartbeats.clone(),
        end: crate::classify::end_of(&timeline),
        events: timeline.events,
        publishes: Vec::new(),
        blocked: None,
        consumer_timeout_ms: None,
        verdict,
        setup_failure: Some(failure),
        queue: None,
        notes: vec!["preflight connection (before any mode ran)".into()],
    }
}

/// One line on stderr before the idle: what will happen and when it ends,
/// for terminals and CI logs alike.
pub fn plan_line(cfg: &ProbeConfig, modes: &[&str], idle: Duration, t: Heartbeat) -> String {
    let how = match cfg.idle {
        IdleArg::Auto if t.is_off() => " (auto: heartbeats off)".to_string(),
        IdleArg::Auto => format!(" (auto: 3T + 2 s, T = {t})"),
        IdleArg::Fixed(_) => String::new(),
    };
    // Handshakes, publishes and confirms add a little to the idle; the
    // confirm timeout bounds the worst case. --consume holds after that.
    let hold = cfg.hold.unwrap_or_default();
    let worst = idle + hold + cfg.confirm_timeout + cfg.step_timeout;
    let then_hold = cfg.hold.map_or_else(String::new, |h| {
        format!(", then consume them unacked for {}", secs(duration_ms(h)))
    });
    format!(
        "probing {} with {}: idle {}{how}, then {} publish(es){then_hold}; done in about {} (at \
         most {})",
        cfg.target,
        modes.join(", "),
        secs(duration_ms(idle)),
        cfg.publishes,
        humantime::format_duration(Duration::from_secs((idle + hold).as_secs() + 1)),
        humantime::format_duration(Duration::from_secs(worst.as_secs())),
    )
}
