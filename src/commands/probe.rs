//! `amqpdoctor probe`: run the heartbeat modes side by side, classify how
//! each connection ended, and explain it.
//!
//! Flow: a preflight wire handshake learns the server (product, Tune
//! proposal) and proves we can log in — without it there is no diagnosis
//! (exit 3). Then the modes run concurrently on one runtime, so wall time is
//! about idle + handshake, not one idle per mode.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::classify::Mode;
use crate::cli::{Format, HeartbeatRequest, IdleArg, ModeArg, ProbeArgs};
use crate::error::{ExitStatus, UsageError};
use crate::modes::{self, Destination, RunSpec};
use crate::report::{self, ProbeSettings, Report, Run, ServerSummary};
use crate::target::Target;
use crate::timeline::{duration_ms, Timeline};
use crate::wire::{self, HandshakeParams};

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
    pub trace: bool,
}

impl ProbeConfig {
    pub fn from_args(a: &ProbeArgs) -> anyhow::Result<Self> {
        let target = Target::parse(&a.connect.url)?;
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
        Ok(ProbeConfig {
            target,
            modes,
            heartbeat: a.heartbeat,
            idle: a.idle,
            pump_every: a.pump_every,
            publishes: a.publishes,
            confirm_timeout: a.confirm_timeout,
            step_timeout: a.connect.connect_timeout,
            destination,
            trace: a.trace,
        })
    }
}

/// The idle `--idle auto` picks: long enough for a starved connection at T
/// to be dropped (3T) plus 2 s of margin; 10 s when heartbeats are off.
pub fn auto_idle(t_s: u16) -> Duration {
    if t_s == 0 {
        Duration::from_secs(10)
    } else {
        Duration::from_secs(3 * u64::from(t_s) + 2)
    }
}

pub fn run(args: ProbeArgs) -> anyhow::Result<ExitStatus> {
    let cfg = ProbeConfig::from_args(&args)?;
    if matches!(cfg.destination, Destination::Exchange { .. }) {
        eprintln!(
            "amqpdoctor: publishing to a user exchange as asked: messages may reach user queues"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(probe(cfg))?;
    let out = match args.output.format {
        Format::Json => report::json::render(&report),
        Format::Human => report::human::render(
            &report,
            report::style::Style {
                color: report::style::use_color(args.output.color),
            },
        ),
    };
    print!("{out}");
    Ok(ExitStatus::from_code(report.exit_code))
}

/// Run the whole probe and build its report.
pub async fn probe(cfg: ProbeConfig) -> anyhow::Result<Report> {
    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "\namqpdoctor: interrupted — closing connections and reporting what was seen"
            );
            let _ = cancel_tx.send(true);
        }
    });

    // Preflight: who is the server, what does it propose, can we log in?
    let params = HandshakeParams {
        user: cfg.target.user().to_string(),
        password: cfg.target.password().to_string(),
        vhost: cfg.target.vhost().to_string(),
        heartbeat: HeartbeatRequest::Server,
        connection_name: "amqpdoctor/preflight".into(),
    };
    let mut settings = ProbeSettings {
        idle_ms: 0,
        idle_auto: matches!(cfg.idle, IdleArg::Auto),
        heartbeat: match cfg.heartbeat {
            HeartbeatRequest::Server => "server".into(),
            HeartbeatRequest::Seconds(s) => format!("{s}s"),
        },
        publishes: cfg.publishes,
        confirm_timeout_ms: duration_ms(cfg.confirm_timeout),
        pump_every_ms: cfg.pump_every.map(duration_ms),
        destination: match &cfg.destination {
            Destination::OwnQueue => "own_queue".into(),
            Destination::Exchange {
                exchange,
                routing_key,
            } => {
                format!("exchange:{exchange}/{routing_key}")
            }
        },
    };
    let (server, proposal) = match wire::open(
        &cfg.target,
        &params,
        cfg.step_timeout,
        Timeline::new(cfg.trace),
    )
    .await
    {
        Ok((mut conn, hs)) => {
            let _ = conn.close().await;
            (
                ServerSummary::new(
                    &hs.server,
                    Some((
                        hs.server_heartbeat_s,
                        hs.server_frame_max,
                        hs.server_channel_max,
                    )),
                ),
                hs.server_heartbeat_s,
            )
        }
        Err(f) => {
            let verdict = crate::classify::setup_verdict(
                f.failure.code,
                f.failure.stage,
                &f.failure.message,
                f.failure.close.as_ref(),
            );
            let end = crate::classify::end_of(&f.timeline);
            let run = Run {
                mode: cfg.modes.first().copied().unwrap_or(Mode::Starved),
                negotiation: None,
                idle_ms: 0,
                idle_cut_short_at_ms: None,
                pump_every_ms: None,
                heartbeats: f.timeline.heartbeats.clone(),
                events: f.timeline.events.clone(),
                publishes: Vec::new(),
                end,
                verdict,
                setup_failure: Some(f.failure.clone()),
                queue: None,
                notes: vec!["preflight connection (before any mode ran)".into()],
            };
            return Ok(Report {
                tool: "amqpdoctor",
                version: env!("CARGO_PKG_VERSION"),
                command: "probe",
                target: cfg.target.to_string(),
                server: None,
                settings,
                runs: vec![run],
                setup_failure: Some(f.failure),
                interrupted: false,
                exit_code: ExitStatus::CannotDiagnose as u8,
            });
        }
    };

    let starved_t = wire::conn::tune_ok_heartbeat(cfg.heartbeat, proposal);
    let idle = match cfg.idle {
        IdleArg::Fixed(d) => d,
        IdleArg::Auto => auto_idle(starved_t),
    };
    settings.idle_ms = duration_ms(idle);

    let countdown = Countdown::start(idle, &cfg.modes);
    let handles: Vec<_> = cfg
        .modes
        .iter()
        .map(|&mode| {
            let spec = RunSpec {
                mode,
                target: cfg.target.clone(),
                heartbeat: cfg.heartbeat,
                idle,
                pump_every: if mode == Mode::Starved {
                    cfg.pump_every
                } else {
                    None
                },
                publishes: cfg.publishes,
                confirm_timeout: cfg.confirm_timeout,
                step_timeout: cfg.step_timeout,
                destination: cfg.destination.clone(),
                trace: cfg.trace,
                cancel: cancel_rx.clone(),
            };
            tokio::spawn(modes::run(spec))
        })
        .collect();
    let mut runs = Vec::new();
    for h in handles {
        let mut outcome = h.await.context("a probe task failed")?;
        // lapin cannot see the Tune proposal; the preflight did.
        if let Some(n) = &mut outcome.negotiation {
            n.server_heartbeat_s.get_or_insert(proposal);
        }
        runs.push(Run::classify(outcome, duration_ms(cfg.confirm_timeout)));
    }
    countdown.finish();

    let interrupted = runs.iter().any(|r| {
        r.events
            .iter()
            .any(|e| matches!(e.kind, crate::timeline::EventKind::Interrupted))
    });
    let exit = if interrupted {
        ExitStatus::Interrupted
    } else if runs.iter().any(|r| r.setup_failure.is_some()) {
        ExitStatus::CannotDiagnose
    } else if runs.iter().all(|r| r.verdict.expected) {
        ExitStatus::Ok
    } else {
        ExitStatus::Fault
    };
    Ok(Report {
        tool: "amqpdoctor",
        version: env!("CARGO_PKG_VERSION"),
        command: "probe",
        target: cfg.target.to_string(),
        server: Some(server),
        settings,
        runs,
        setup_failure: None,
        interrupted,
        exit_code: exit as u8,
    })
}

/// A countdown on stderr while the runs idle; only on a terminal.
struct Countdown {
    bar: Option<indicatif::ProgressBar>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Countdown {
    fn start(idle: Duration, modes: &[Mode]) -> Self {
        if !std::io::stderr().is_terminal() || idle.is_zero() {
            return Countdown {
                bar: None,
                ticker: None,
            };
        }
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(duration_ms(idle)),
            indicatif::ProgressDrawTarget::stderr(),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} idling {msg} [{bar:30}] {elapsed} / {len_s}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let names: Vec<&str> = modes.iter().map(|&m| modes::mode_name(m)).collect();
        bar.set_message(names.join(", "));
        let b = bar.clone();
        let started = Instant::now();
        let ticker = tokio::spawn(async move {
            let mut i = tokio::time::interval(Duration::from_millis(250));
            loop {
                i.tick().await;
                b.set_position(duration_ms(started.elapsed()));
            }
        });
        Countdown {
            bar: Some(bar),
            ticker: Some(ticker),
        }
    }

    fn finish(self) {
        if let Some(t) = self.ticker {
            t.abort();
        }
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_idle_covers_three_t() {
        assert_eq!(auto_idle(0), Duration::from_secs(10));
        assert_eq!(auto_idle(2), Duration::from_secs(8));
        assert_eq!(auto_idle(60), Duration::from_secs(182));
    }
}
