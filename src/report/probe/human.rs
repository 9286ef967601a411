//! Human output: per run a negotiation table, a timeline, the verdict with
//! its prediction, explanation and remedy; then a comparison table of the
//! runs and the overall result, last, where the terminal leaves the eye.

use super::{Report, Run};
use crate::classify::{EndKind, Outcome, Verdict};
use crate::error::ExitStatus;
use crate::report::style::{clean, indent, table, table_unwrapped, wrap, Style, WIDTH};
use crate::report::{ServerSummary, TlsInfo};
use crate::timeline::{EventKind, TcpEnd};
use crate::vocab::units::secs;
use crate::vocab::{Negotiation, Op, VerdictCode};

/// Whether the run never got past TLS: the certificate was then never
/// verified, whatever was asked for.
fn tls_failed(report: &Report) -> bool {
    use crate::vocab::Stage;
    report
        .setup_failure
        .as_ref()
        .is_some_and(|f| matches!(f.stage, Stage::Connect | Stage::Tls))
}

/// The `tls` lines of a probe's header: how the certificate was judged.
fn tls_lines(report: &Report, t: &TlsInfo) -> String {
    let mut out = format!(
        "tls      certificate {}{}{}\n",
        if let Some(l) = &t.accepted {
            format!(
                "NOT verified by rustls; accepted as {} clients would, for {}",
                l.accepted_as,
                clean(&t.server_name)
            )
        } else if t.verified && !tls_failed(report) {
            format!("verified for {}", clean(&t.server_name))
        } else if t.verified {
            format!(
                "NOT verified: no TLS handshake completed (it was to be checked for {})",
                clean(&t.server_name)
            )
        } else {
            "NOT verified (--insecure)".to_string()
        },
        t.cacert
            .as_deref()
            .map_or(" against the system's roots".to_string(), |c| format!(
                " against {}",
                clean(c)
            )),
        if t.client_certificate {
            "; client certificate sent"
        } else {
            ""
        }
    );
    if let Some(l) = &t.accepted {
        out.push_str(&crate::report::style::wrap(
            &l.note(),
            crate::report::style::WIDTH,
            "         ",
        ));
    }
    out
}

/// The `server` line and its capabilities.
fn server_lines(s: &ServerSummary) -> String {
    let mut out = String::new();
    let name = [s.product.as_deref(), s.version.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut line = format!(
        "server   {}",
        if name.is_empty() { "unknown" } else { &name }
    );
    if let Some(p) = &s.platform {
        line.push_str(&format!(" on {p}"));
    }
    if let Some(h) = s.proposed_heartbeat_s {
        line.push_str(&format!(" — proposes heartbeat {h}"));
    }
    if let (Some(f), Some(c)) = (s.frame_max, s.channel_max) {
        line.push_str(&format!(", frame_max {f}, channel_max {c}"));
    }
    out.push_str(&clean(&line));
    out.push('\n');
    out.push_str(&crate::report::style::wrap_with(
        &if s.capabilities.is_empty() {
            "none announced: amqpdoctor uses only what the 0-9-1 spec requires".to_string()
        } else {
            s.capabilities.join(", ")
        },
        crate::report::style::WIDTH,
        "         capabilities: ",
        "           ",
    ));
    out
}

pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} {}\n",
        style.bold(&format!("amqpdoctor {}", report.header.command)),
        clean(&report.header.target)
    ));
    if let Some(s) = &report.server {
        out.push_str(&server_lines(s));
    }
    if let Some(t) = &report.header.tls {
        out.push_str(&tls_lines(report, t));
    }
    let st = &report.settings;
    // Without a connection the settings were never resolved (auto idle
    // needs the server's proposal): don't print half of them.
    if report.setup_failure.is_none() {
        out.push_str(&format!(
            "probe    idle {}{}, heartbeat {}, {} publish(es), confirm timeout {}{}\n",
            secs(st.idle_ms),
            if st.idle_auto {
                " (auto: 3T + 2 s)"
            } else {
                ""
            },
            st.heartbeat,
            st.publishes,
            secs(st.confirm_timeout_ms),
            st.pump_every_ms
                .map(|p| format!(", starved pumped every {}", secs(p)))
                .unwrap_or_default(),
        ));
    }

    if let Some(f) = &report.setup_failure {
        out.push('\n');
        out.push_str(&style.bad(&format!(
            "could not diagnose: {} during the {}",
            f.code, f.stage
        )));
        out.push('\n');
        out.push_str(&wrap(&f.message, WIDTH, "  "));
        if let Some(run) = report.runs.first() {
            out.push_str(&wrap(&run.verdict.remedy, WIDTH, "  "));
        }
        return out;
    }

    for run in &report.runs {
        out.push('\n');
        out.push_str(&render_run(run, style));
    }
    if let Some(c) = &report.client {
        out.push('\n');
        out.push_str(&super::client::render(c, report.runs.first(), style));
    }
    if !report.runs.is_empty() {
        out.push('\n');
        out.push_str(&comparison(report, style));
        out.push('\n');
    }
    out.push_str(&conclusion(report, style));
    out
}

fn render_run(run: &Run, style: Style) -> String {
    let mut out = String::new();
    let title = format!("── {} ", run.mode);
    out.push_str(&style.bold(&format!(
        "{title}{}",
        "─".repeat(WIDTH.saturating_sub(title.chars().count()))
    )));
    out.push('\n');
    if let Some(n) = &run.negotiation {
        out.push_str(&negotiation_table(n));
        out.push('\n');
    }
    out.push_str("  timeline (s since connect)\n");
    for e in &run.events {
        // publish_failed says the same as the write error, with its number.
        if matches!(
            &e.kind,
            EventKind::IoError {
                op: Op::Publish,
                ..
            }
        ) {
            continue;
        }
        out.push_str(&format!(
            "  {:>10}  {}\n",
            format!("{:.3}", e.at_ms as f64 / 1000.0),
            event_line(&e.kind, style)
        ));
    }
    let hb = &run.heartbeats;
    out.push_str(&format!(
        "  heartbeats  sent {}, received {}\n",
        hb.sent,
        hb.received
            .map_or("(not observable)".to_string(), |r| r.to_string())
    ));
    for note in &run.notes {
        out.push_str(&wrap(&format!("note: {note}"), WIDTH, "  "));
    }
    out.push_str(&verdict_lines(&run.verdict, style));
    out
}

/// What was negotiated: the proposal, the request, the result.
fn negotiation_table(n: &Negotiation) -> String {
    let server = n
        .server_heartbeat_s
        .map_or("(not visible to lapin)".to_string(), |s| s.to_string());
    let requested = n
        .requested_heartbeat_s
        .map_or("server's value".to_string(), |r| {
            crate::vocab::Heartbeat::from_secs(r).to_string()
        });
    let negotiated = n.negotiated_heartbeat_s.to_string();
    indent(
        &table(
            &[
                "heartbeat proposed (Tune)",
                "client requested",
                "negotiated (Tune-Ok)",
                "frame_max",
                "channel_max",
            ],
            vec![vec![
                server,
                requested,
                negotiated,
                n.frame_max.to_string(),
                n.channel_max.to_string(),
            ]],
        ),
        "  ",
    )
}

/// The verdict, the prediction, why and the remedy.
fn verdict_lines(v: &Verdict, style: Style) -> String {
    let tag = if v.code == VerdictCode::Interrupted {
        style.bad(&format!("{} (no prediction checked)", v.code))
    } else if v.expected {
        style.good(&format!("{} (as predicted)", v.code))
    } else {
        style.bad(&format!("{} (NOT as predicted)", v.code))
    };
    let mut out = format!("  verdict     {tag}\n");
    out.push_str(&wrap(&v.summary, WIDTH, "              "));
    out.push_str("  predicted\n");
    out.push_str(&wrap(&v.prediction_text, WIDTH, "              "));
    out.push_str("  why\n");
    out.push_str(&wrap(&v.explanation, WIDTH, "              "));
    out.push_str("  remedy\n");
    out.push_str(&wrap(&v.remedy, WIDTH, "              "));
    out
}

/// One line of the timeline, safe for a terminal (server-supplied text is
/// escaped) and coloured by its tone.
pub fn event_line(kind: &EventKind, style: Style) -> String {
    let text = clean(&event_text(kind, Style::PLAIN)).into_owned();
    match kind {
        EventKind::Note { .. } => style.dim(&text),
        EventKind::PeerEnded { .. }
        | EventKind::PublishFailed { .. }
        | EventKind::Nacked { .. }
        | EventKind::ServerClose { .. }
        | EventKind::ChannelClose { .. }
        | EventKind::Blocked { .. }
        | EventKind::Eof
        | EventKind::IoError { .. }
        | EventKind::Timeout { .. }
        | EventKind::Interrupted => style.bad(&text),
        _ => text,
    }
}

/// One line of the timeline, as plain words.
fn event_text(kind: &EventKind, style: Style) -> String {
    let errno = |errno: &Option<i32>, name: &str| match errno {
        Some(n) => format!("{name} (errno {n})"),
        None => name.to_string(),
    };
    match kind {
        EventKind::TcpConnected { local, peer } => format!("TCP connected {local} → {peer}"),
        EventKind::Sent { frame } => format!("→ {frame}"),
        EventKind::Received { frame } => format!("← {frame}"),
        EventKind::ConnectionOpen { heartbeat_s: 0 } => "connection open, heartbeat off".into(),
        EventKind::ConnectionOpen { heartbeat_s } => {
            format!("connection open, heartbeat {heartbeat_s} s")
        }
        EventKind::IdleStart { planned_ms } => {
            format!("idle begins ({} planned)", secs(*planned_ms))
        }
        EventKind::IdleEnd => "idle ends".into(),
        EventKind::PeerEnded {
            how,
            tcp_state,
            since_last_client_byte_ms,
            since_last_server_byte_ms,
        } => style.bad(&peer_ended_text(
            *how,
            tcp_state,
            *since_last_client_byte_ms,
            *since_last_server_byte_ms,
        )),
        EventKind::PublishWritten { seq } => format!("→ publish #{seq} (accepted by the kernel)"),
        EventKind::PublishFailed {
            seq,
            errno: n,
            errno_name,
        } => style.bad(&format!(
            "✗ publish #{seq} failed: {}",
            errno(n, errno_name)
        )),
        EventKind::Confirmed { seq } => format!("← Basic.Ack: publish #{seq} confirmed"),
        EventKind::Nacked { seq } => style.bad(&format!("← Basic.Nack: publish #{seq} refused")),
        EventKind::Returned {
            reply_code,
            reply_text,
        } => format!("← Basic.Return {reply_code} {reply_text}"),
        EventKind::ServerClose {
            reply_code,
            reply_text,
            class_id,
            method_id,
        } => style.bad(&server_close_text(
            *reply_code,
            reply_text,
            *class_id,
            *method_id,
        )),
        EventKind::ChannelClose {
            reply_code,
            reply_text,
        } => style.bad(&format!("← Channel.Close {reply_code} \"{reply_text}\"")),
        EventKind::ClientClose { reply_code } => format!("→ Connection.Close {reply_code}"),
        EventKind::CloseOk => "← Connection.Close-Ok".into(),
        EventKind::Blocked { reason } => style.bad(&format!("← Connection.Blocked \"{reason}\"")),
        EventKind::Unblocked => "← Connection.Unblocked".into(),
        EventKind::Eof => style.bad("✗ read returned EOF: the peer closed the connection"),
        EventKind::IoError {
            op,
            errno: n,
            errno_name,
        } => style.bad(&format!("✗ {op}: {}", errno(n, errno_name))),
        EventKind::Timeout {
            waiting_for,
            after_ms,
        } => style.bad(&format!(
            "… no answer: {waiting_for} (gave up {} after connecting)",
            secs(*after_ms)
        )),
        EventKind::Note { text } => style.dim(&format!("· {text}")),
        EventKind::Interrupted => style.bad("interrupted (Ctrl-C)"),
    }
}

/// The peer ended the TCP connection: how, and how long each side had been
/// silent.
fn peer_ended_text(how: TcpEnd, tcp_state: &str, client_ms: u64, server_ms: u64) -> String {
    let how = match how {
        TcpEnd::Reset => "reset the connection (RST)",
        TcpEnd::Fin => "closed the connection (FIN)",
    };
    format!(
        "✗ peer {how} — TCP state {tcp_state}; client silent {}, server silent {}",
        secs(client_ms),
        secs(server_ms)
    )
}

/// The broker's Connection.Close, with the method it refused when it says.
fn server_close_text(reply_code: u16, reply_text: &str, class_id: u16, method_id: u16) -> String {
    let on = if class_id == 0 {
        String::new()
    } else {
        format!(
            " (on {})",
            crate::wire::codec::method_name_by_id(class_id, method_id)
        )
    };
    format!("← Connection.Close {reply_code} \"{reply_text}\"{on}")
}

fn end_text(run: &Run) -> String {
    let e = &run.end;
    let at = secs(e.at_ms);
    match e.kind {
        EndKind::Alive => "alive".into(),
        EndKind::ClientClose => format!("interrupted at {at}"),
        EndKind::ServerClose => format!("Close {} at {at}", e.reply_code.unwrap_or(0)),
        EndKind::Reset => format!("RST at {at}"),
        EndKind::Fin => format!("FIN at {at}"),
        EndKind::Silence => format!("silence at {at}"),
    }
}

fn publishes_text(run: &Run) -> String {
    if run.publishes.is_empty() {
        return "none".into();
    }
    let mut counts: Vec<(Outcome, usize)> = Vec::new();
    for p in &run.publishes {
        match counts.iter_mut().find(|(o, _)| *o == p.outcome) {
            Some((_, n)) => *n += 1,
            None => counts.push((p.outcome, 1)),
        }
    }
    counts
        .iter()
        .map(|(o, n)| format!("{n} {o}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn comparison(report: &Report, style: Style) -> String {
    let rows: Vec<Vec<String>> = report
        .runs
        .iter()
        .map(|r| {
            vec![
                r.mode.to_string(),
                r.negotiation.map_or("-".into(), |n| {
                    let t = n.negotiated_heartbeat_s;
                    if t.is_off() {
                        "off".into()
                    } else {
                        t.to_string()
                    }
                }),
                format!(
                    "{} / {}",
                    r.heartbeats.sent,
                    r.heartbeats.received.map_or("?".into(), |n| n.to_string())
                ),
                end_text(r),
                publishes_text(r),
                r.verdict.code.to_string(),
                if r.verdict.code == VerdictCode::Interrupted {
                    "-".into()
                } else if r.verdict.expected {
                    style.good("yes")
                } else {
                    style.bad("NO")
                },
            ]
        })
        .collect();
    // Never wrap verdict codes: they are what users grep for.
    table_unwrapped(
        &[
            "mode",
            "heartbeat",
            "beats out / in",
            "ended",
            "publishes",
            "verdict",
            "as predicted",
        ],
        rows,
    )
}

fn conclusion(report: &Report, style: Style) -> String {
    let line = match report.exit_code {
        ExitStatus::Ok => style.good("result: every run ended as its mode predicts (exit 0)"),
        ExitStatus::Fault => {
            style.bad("result: a liveness fault was found — see the runs marked NO (exit 1)")
        }
        ExitStatus::CannotDiagnose => style.bad("result: could not diagnose (exit 3)"),
        ExitStatus::Interrupted => style.bad("result: interrupted; partial report (exit 130)"),
        ExitStatus::Usage => style.bad("result: bad input (exit 2)"),
    };
    format!("{line}\n")
}
