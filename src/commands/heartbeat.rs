//! `amqpdoctor heartbeat`: what heartbeat this broker really gives a
//! connection, what each client library would negotiate against it, and —
//! with `--observe` — whether heartbeats really flow in both directions.
//!
//! The wire client does the handshake, so the report shows the server's
//! Tune proposal and the Tune-Ok value we sent (RabbitMQ adopts it as it
//! is). While observing, we service the connection like a well-behaved
//! client: read continuously, send a heartbeat every T/2.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use crate::classify::{self, Cadence};
use crate::cli::{Format, HeartbeatArgs, HeartbeatRequest};
use crate::error::{ExitStatus, UsageError};
use crate::knowledge::{self, ClientLib};
use crate::modes::{Negotiation, SetupFailure};
use crate::report::{self, ServerSummary};
use crate::target::Target;
use crate::timeline::{duration_ms, Timeline};
use crate::wire::{self, HandshakeParams, WireConn, WireError};

/// One client library against this server and the user's setting.
#[derive(Debug, Clone, Serialize)]
pub struct ClientRow {
    pub client: &'static str,
    pub name: &'static str,
    pub negotiated_heartbeat_s: u16,
    pub dispatch: &'static str,
    pub starves_when_idle: bool,
    /// False when the library cannot give the heartbeat the user asked for.
    pub honours_setting: bool,
    pub note: Option<String>,
}

/// What the protocol timings are for the negotiated T.
#[derive(Debug, Clone, Serialize)]
pub struct Timings {
    /// Each peer sends a heartbeat after this long without other traffic (T/2).
    pub heartbeat_every_ms: u64,
    /// The broker drops a silent client between these two (2T, 3T).
    pub broker_gives_up_after_s: Option<(u32, u32)>,
    /// With heartbeats off, TCP keepalive's default detection time (when enabled at all).
    pub tcp_keepalive_detection_s: u32,
}

/// Measured heartbeat cadence in each direction.
#[derive(Debug, Clone, Serialize)]
pub struct Observed {
    pub duration_ms: u64,
    pub server_to_client: Cadence,
    pub client_to_server: Cadence,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeartbeatReport {
    pub tool: &'static str,
    pub version: &'static str,
    pub command: &'static str,
    pub target: String,
    pub server: Option<ServerSummary>,
    pub negotiation: Option<Negotiation>,
    pub clients: Vec<ClientRow>,
    pub timings: Option<Timings>,
    pub warnings: Vec<String>,
    pub observed: Option<Observed>,
    pub setup_failure: Option<SetupFailure>,
    pub exit_code: u8,
}

/// The client table for a server proposal and the user's setting (pure).
pub fn client_rows(
    server_s: u16,
    request: HeartbeatRequest,
    only: Option<&ClientLib>,
) -> Vec<ClientRow> {
    let requested = match request {
        HeartbeatRequest::Server => None,
        HeartbeatRequest::Seconds(s) => Some(s),
    };
    knowledge::CLIENTS
        .iter()
        .filter(|c| only.is_none_or(|o| o.id == c.id))
        .map(|c| {
            let negotiated = knowledge::negotiate_for(c, server_s, requested);
            let note = requested.and_then(|r| knowledge::why_not_honoured(c, server_s, r));
            ClientRow {
                client: c.id,
                name: c.name,
                negotiated_heartbeat_s: negotiated,
                dispatch: c.dispatch,
                starves_when_idle: c.starves_when_idle,
                honours_setting: note.is_none(),
                note,
            }
        })
        .collect()
}

pub fn run(args: HeartbeatArgs) -> anyhow::Result<ExitStatus> {
    let target = Target::parse(&args.connect.url)?;
    let only = match &args.client {
        Some(name) => Some(knowledge::client(name).ok_or_else(|| {
            let ids: Vec<&str> = knowledge::CLIENTS.iter().map(|c| c.id).collect();
            UsageError(format!(
                "unknown client library `{name}`; known: {}",
                ids.join(", ")
            ))
        })?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(heartbeat(&target, &args, only));
    let out = match args.output.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&report).context("serializing the report")?;
            s.push('\n');
            s
        }
        Format::Human => report::heartbeat::render(
            &report,
            only,
            report::style::Style {
                color: report::style::use_color(args.output.color),
            },
        ),
    };
    print!("{out}");
    Ok(ExitStatus::from_code(report.exit_code))
}

async fn heartbeat(
    target: &Target,
    args: &HeartbeatArgs,
    only: Option<&ClientLib>,
) -> HeartbeatReport {
    let mut report = HeartbeatReport {
        tool: "amqpdoctor",
        version: env!("CARGO_PKG_VERSION"),
        command: "heartbeat",
        target: target.to_string(),
        server: None,
        negotiation: None,
        clients: Vec::new(),
        timings: None,
        warnings: Vec::new(),
        observed: None,
        setup_failure: None,
        exit_code: 0,
    };
    let params = HandshakeParams {
        user: target.user().to_string(),
        password: target.password().to_string(),
        vhost: target.vhost().to_string(),
        heartbeat: args.interval,
        connection_name: "amqpdoctor/heartbeat".into(),
    };
    let step = args.connect.connect_timeout;
    let (mut conn, hs) = match wire::open(target, &params, step, Timeline::new(false)).await {
        Ok(v) => v,
        Err(f) => {
            report.setup_failure = Some(f.failure);
            report.exit_code = ExitStatus::CannotDiagnose as u8;
            return report;
        }
    };
    let t = hs.heartbeat_s;
    report.server = Some(ServerSummary::new(
        &hs.server,
        Some((
            hs.server_heartbeat_s,
            hs.server_frame_max,
            hs.server_channel_max,
        )),
    ));
    report.negotiation = Some(Negotiation {
        server_heartbeat_s: Some(hs.server_heartbeat_s),
        requested_heartbeat_s: match args.interval {
            HeartbeatRequest::Server => None,
            HeartbeatRequest::Seconds(s) => Some(s),
        },
        negotiated_heartbeat_s: t,
        frame_max: hs.frame_max,
        channel_max: hs.channel_max,
    });
    report.clients = client_rows(hs.server_heartbeat_s, args.interval, only);
    report.timings = Some(Timings {
        heartbeat_every_ms: knowledge::heartbeat_every_ms(t),
        broker_gives_up_after_s: (t > 0).then(|| knowledge::broker_gives_up_s(t)),
        tcp_keepalive_detection_s: knowledge::tcp_keepalive_detection_s(),
    });
    report.warnings = knowledge::heartbeat_warnings(t);

    if let Some(window) = args.observe {
        match observe(&mut conn, t, window).await {
            Ok(o) => {
                if o.server_to_client.late > 0
                    || o.server_to_client.missing
                    || (t == 0 && o.server_to_client.count > 0)
                {
                    report.exit_code = ExitStatus::Fault as u8;
                }
                report.observed = Some(o);
            }
            Err(e) => {
                report
                    .warnings
                    .push(format!("the connection failed while observing: {e}"));
                report.exit_code = ExitStatus::Fault as u8;
            }
        }
    }
    let _ = conn.close().await;
    report
}

/// Service the connection for `window`: read continuously, send a heartbeat
/// every T/2, and time the heartbeats in both directions.
async fn observe(
    conn: &mut WireConn<tokio::net::TcpStream>,
    t_s: u16,
    window: Duration,
) -> Result<Observed, WireError> {
    let start_ms = conn.tl.now_ms();
    let started = Instant::now();
    let end = started + window;
    let half = Duration::from_millis(knowledge::heartbeat_every_ms(t_s));
    let mut next_beat = (t_s > 0).then(|| started + half);
    let live = std::io::stderr().is_terminal();
    let mut last_live = Instant::now();
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        let wake = next_beat.map_or(end, |b| b.min(end));
        match conn.read_frame("heartbeats", wake).await {
            Ok(_) => {}
            Err(WireError::Timeout { .. }) => {
                // Our own deadline, not the server's silence.
                conn.tl.events.pop();
            }
            Err(e) => return Err(e),
        }
        if let Some(b) = next_beat {
            if Instant::now() >= b {
                conn.send_heartbeat().await?;
                next_beat = Some(b + half);
            }
        }
        if live && last_live.elapsed() >= Duration::from_millis(250) {
            last_live = Instant::now();
            let hb = &conn.tl.heartbeats;
            eprint!(
                "\r\x1b[2Kobserving {:.1}/{:.0} s: ← {} from the server, → {} sent",
                started.elapsed().as_secs_f64(),
                window.as_secs_f64(),
                hb.received.unwrap_or(0),
                hb.sent
            );
            let _ = std::io::stderr().flush();
        }
    }
    if live {
        eprint!("\r\x1b[2K");
    }
    let end_ms = conn.tl.now_ms();
    let expected = knowledge::heartbeat_every_ms(t_s);
    let hb = &conn.tl.heartbeats;
    Ok(Observed {
        duration_ms: duration_ms(window),
        server_to_client: classify::cadence(&hb.received_at_ms, start_ms, end_ms, expected),
        client_to_server: classify::cadence(&hb.sent_at_ms, start_ms, end_ms, expected),
    })
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
            (60, HeartbeatRequest::Seconds(0), "pika-0.10", 0, true),
            (60, HeartbeatRequest::Seconds(0), "lapin", 60, false),
            (60, HeartbeatRequest::Seconds(0), "java", 60, false),
            (60, HeartbeatRequest::Seconds(30), "go-amqp091", 30, true),
            (60, HeartbeatRequest::Server, "go-amqp091", 10, true),
            (60, HeartbeatRequest::Seconds(120), "rabbitmq-c", 120, true),
            (60, HeartbeatRequest::Seconds(120), "kombu", 60, false),
            (0, HeartbeatRequest::Seconds(0), "lapin", 0, true),
        ];
        for &(s, setting, id, want, honours) in cases {
            let rows = client_rows(s, setting, None);
            let r = row(&rows, id);
            assert_eq!(
                (r.negotiated_heartbeat_s, r.honours_setting),
                (want, honours),
                "{id} S={s} {setting:?}"
            );
        }
    }

    #[test]
    fn client_filter_narrows_to_one() {
        let lapin = knowledge::client("lapin");
        let rows = client_rows(60, HeartbeatRequest::Server, lapin);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].client, "lapin");
    }
}
