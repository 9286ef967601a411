//! `amqpdoctor heartbeat`: what heartbeat this broker really gives a
//! connection, what each client library would negotiate against it, and —
//! with `--observe` — whether heartbeats really flow in both directions.
//!
//! The wire client does the handshake, so the report shows the server's
//! Tune proposal and the Tune-Ok value we sent (RabbitMQ adopts it as it
//! is). While observing, we service the connection like a well-behaved
//! client ([`crate::run::cadence`]).

use anyhow::Context;

use crate::classify::SetupFailure;
use crate::cli::HeartbeatArgs;
use crate::error::ExitStatus;
use crate::knowledge::{Broker, ClientSpec};
use crate::report::heartbeat::{
    client_rows, heartbeat_exit, timings_and_warnings, HeartbeatReport,
};
use crate::report::progress::Countdown;
use crate::report::{self, Header, ServerSummary, Tune};
use crate::run::cadence;
use crate::target::Target;
use crate::timeline::Timeline;
use crate::vocab::Negotiation;
use crate::wire::{self, HandshakeParams};

pub fn run(args: HeartbeatArgs) -> anyhow::Result<ExitStatus> {
    let target = super::target(&args.connect)?;
    let only = match &args.client {
        Some(name) => Some(super::client_arg(name)?),
        None => None,
    };
    let report = super::runtime()?.block_on(heartbeat(&target, &args, only));
    let view = report::format::HeartbeatView {
        report: &report,
        only: only.as_ref(),
    };
    let out = report::format::render(
        &view,
        args.output.format,
        super::style_for(args.output.color),
    )?;
    report::emit(out).context("writing the report")?;
    if let Some(f) = &report.setup_failure {
        report::notice(&super::could_not_diagnose(f));
    }
    Ok(report.exit_code)
}

async fn heartbeat(
    target: &Target,
    args: &HeartbeatArgs,
    only: Option<ClientSpec<'static>>,
) -> HeartbeatReport {
    let mut cancel = super::interrupt_flag();
    let mut report = HeartbeatReport {
        header: Header::for_target("heartbeat", target),
        server: None,
        negotiation: None,
        clients: Vec::new(),
        timings: None,
        warnings: Vec::new(),
        observed: None,
        setup_failure: None,
        exit_code: ExitStatus::Ok,
    };
    let interval = super::heartbeat_request(args.interval, target);
    let params = HandshakeParams::for_target(target, interval, "amqpdoctor/heartbeat");
    let step = super::connect_timeout(args.connect.connect_timeout, target);
    let opened = tokio::select! {
        o = wire::open(target, &params, step, Timeline::new(false)) => o,
        _ = crate::run::cancelled(&mut cancel) => {
            report.exit_code = ExitStatus::Interrupted;
            return report;
        }
    };
    report.header.accept_tls(wire::timeline_of(&opened));
    let (mut conn, hs) = match opened {
        Ok(v) => v,
        Err(f) => {
            report.setup_failure = Some(SetupFailure::classify(&f.error));
            report.exit_code = ExitStatus::CannotDiagnose;
            return report;
        }
    };
    let t = hs.heartbeat;
    record_handshake(&mut report, &hs, interval);
    report.clients = client_rows(hs.server_heartbeat, interval, only.as_ref());
    let (timings, warnings) = timings_and_warnings(t, &report.clients, only.as_ref());
    report.timings = Some(timings);
    report.warnings = warnings;

    let mut observe_failed = false;
    if let Some(window) = args.observe {
        let countdown = Countdown::start("observing heartbeats", window);
        // RabbitMQ beats every T/2; the 0-9-1 spec only asks for a beat
        // when nothing else was sent for T, which is what GarageMQ does:
        // hold each to what it promises (data/knowledge/brokers.toml).
        let broker =
            Broker::from_server(hs.server.product.as_deref(), hs.server.version.as_deref());
        let server_every = broker.beats_within_ms(t);
        let res = cadence::observe(
            &mut conn,
            t,
            server_every,
            window,
            &mut cancel,
            |received, sent| {
                countdown.set_detail(format!("← {received} from the server, → {sent} sent"));
            },
        )
        .await;
        countdown.finish();
        match res {
            Ok(o) => report.observed = Some(o),
            Err(e) => {
                report
                    .warnings
                    .push(format!("the connection failed while observing: {e}"));
                observe_failed = true;
            }
        }
    }
    report.exit_code = heartbeat_exit(report.observed.as_ref(), t, observe_failed);
    let _ = conn.close().await;
    report
}

/// What the handshake said: the server and the negotiation.
fn record_handshake(
    report: &mut HeartbeatReport,
    hs: &wire::Handshake,
    interval: crate::vocab::HeartbeatRequest,
) {
    let t = hs.heartbeat;
    report.server = Some(ServerSummary::new(
        &hs.server,
        Some(Tune {
            heartbeat: hs.server_heartbeat,
            frame_max: hs.server_frame_max,
            channel_max: hs.server_channel_max,
        }),
    ));
    report.negotiation = Some(Negotiation {
        server_heartbeat_s: Some(hs.server_heartbeat),
        requested_heartbeat_s: interval.requested_s(),
        negotiated_heartbeat_s: t,
        frame_max: hs.frame_max,
        channel_max: hs.channel_max,
    });
}
