//! Human output: per run a negotiation table, a timeline, the verdict with
//! its prediction, explanation and remedy; then a comparison table of the
//! runs and the overall result, last, where the terminal leaves the eye.

use comfy_table::{presets, ContentArrangement, Table};

use super::style::{wrap, Style};
use super::{Report, Run};
use crate::classify::{secs, EndKind, Outcome};
use crate::modes::mode_name;
use crate::timeline::{EventKind, TcpEnd};

const WIDTH: usize = 100;

/// A table in our house style; `preset` is a comfy-table preset string.
pub fn table(header: &[&str], rows: Vec<Vec<String>>, preset: &str) -> String {
    let mut t = Table::new();
    t.load_preset(preset)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH as u16)
        .set_header(header.to_vec());
    for r in rows {
        t.add_row(r);
    }
    t.to_string()
}

pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} {}\n",
        style.bold(&format!("amqpdoctor {}", report.command)),
        report.target
    ));
    if let Some(s) = &report.server {
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
            line.push_str(&format!(" — proposes heartbeat {h} s"));
        }
        if let (Some(f), Some(c)) = (s.frame_max, s.channel_max) {
            line.push_str(&format!(", frame_max {f}, channel_max {c}"));
        }
        out.push_str(&line);
        out.push('\n');
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
    let title = format!("── {} ", mode_name(run.mode));
    out.push_str(&style.bold(&format!(
        "{title}{}",
        "─".repeat(WIDTH.saturating_sub(title.chars().count()))
    )));
    out.push('\n');
    if let Some(n) = &run.negotiation {
        let server = n
            .server_heartbeat_s
            .map_or("(not visible to lapin)".to_string(), |s| format!("{s} s"));
        let requested = n
            .requested_heartbeat_s
            .map_or("server's value".to_string(), |r| {
                if r == 0 {
                    "0 (off)".into()
                } else {
                    format!("{r} s")
                }
            });
        let negotiated = if n.negotiated_heartbeat_s == 0 {
            "0 (off)".to_string()
        } else {
            format!("{} s", n.negotiated_heartbeat_s)
        };
        out.push_str(&indent(
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
                presets::UTF8_FULL_CONDENSED,
            ),
            "  ",
        ));
        out.push('\n');
    }
    out.push_str("  timeline (s since connect)\n");
    for e in &run.events {
        // publish_failed says the same as the write error, with its number.
        if matches!(&e.kind, EventKind::IoError { op, .. } if op == "writing Basic.Publish") {
            continue;
        }
        out.push_str(&format!(
            "  {:>10}  {}\n",
            format!("{:.3}", e.at_ms as f64 / 1000.0),
            event_text(&e.kind, style)
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
    let v = &run.verdict;
    let tag = if v.expected {
        style.good(&format!("{} (as predicted)", v.code))
    } else {
        style.bad(&format!("{} (NOT as predicted)", v.code))
    };
    out.push_str(&format!("  verdict     {tag}\n"));
    out.push_str(&wrap(&v.summary, WIDTH, "              "));
    out.push_str("  predicted\n");
    out.push_str(&wrap(&v.prediction_text, WIDTH, "              "));
    out.push_str("  why\n");
    out.push_str(&wrap(&v.explanation, WIDTH, "              "));
    out.push_str("  remedy\n");
    out.push_str(&wrap(&v.remedy, WIDTH, "              "));
    out
}

fn indent(s: &str, by: &str) -> String {
    s.lines().map(|l| format!("{by}{l}\n")).collect()
}

/// One line of the timeline.
pub fn event_text(kind: &EventKind, style: Style) -> String {
    let errno = |errno: &Option<i32>, name: &str| match errno {
        Some(n) => format!("{name} (errno {n})"),
        None => name.to_string(),
    };
    match kind {
        EventKind::TcpConnected { local, peer } => format!("TCP connected {local} → {peer}"),
        EventKind::Sent { frame } => format!("→ {frame}"),
        EventKind::Received { frame } => format!("← {frame}"),
        EventKind::ConnectionOpen { heartbeat_s } => {
            format!(
                "connection open, heartbeat {}",
                if *heartbeat_s == 0 {
                    "off".to_string()
                } else {
                    format!("{heartbeat_s} s")
                }
            )
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
        } => style.bad(&format!(
            "✗ peer {} — TCP state {tcp_state}; client silent {}, server silent {}",
            match how {
                TcpEnd::Reset => "reset the connection (RST)",
                TcpEnd::Fin => "closed the connection (FIN)",
            },
            secs(*since_last_client_byte_ms),
            secs(*since_last_server_byte_ms)
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
        } => style.bad(&format!(
            "← Connection.Close {reply_code} \"{reply_text}\"{}",
            if *class_id != 0 {
                format!(
                    " (on {})",
                    crate::wire::codec::method_name_by_id(*class_id, *method_id)
                )
            } else {
                String::new()
            }
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
            "… no answer: {waiting_for} (gave up at {})",
            secs(*after_ms)
        )),
        EventKind::Note { text } => style.dim(&format!("· {text}")),
        EventKind::Interrupted => style.bad("interrupted (Ctrl-C)"),
    }
}

fn end_text(run: &Run) -> String {
    let e = &run.end;
    let at = secs(e.at_ms);
    match e.kind {
        EndKind::Alive => "alive".into(),
        EndKind::ClientClose => "interrupted".into(),
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
        .map(|(o, n)| {
            let name = serde_json::to_value(o)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            format!("{n} {name}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn comparison(report: &Report, style: Style) -> String {
    let rows: Vec<Vec<String>> = report
        .runs
        .iter()
        .map(|r| {
            vec![
                mode_name(r.mode).to_string(),
                r.negotiation.map_or("-".into(), |n| {
                    if n.negotiated_heartbeat_s == 0 {
                        "off".into()
                    } else {
                        format!("{} s", n.negotiated_heartbeat_s)
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
                if r.verdict.expected {
                    style.good("yes")
                } else {
                    style.bad("NO")
                },
            ]
        })
        .collect();
    let mut t = Table::new();
    // Never wrap verdict codes: they are what users grep for.
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec![
            "mode",
            "heartbeat",
            "beats out / in",
            "ended",
            "publishes",
            "verdict",
            "as predicted",
        ]);
    for r in rows {
        t.add_row(r);
    }
    t.to_string()
}

fn conclusion(report: &Report, style: Style) -> String {
    let line = match report.exit_code {
        0 => style.good("result: every run ended as its mode predicts (exit 0)"),
        1 => style.bad("result: a liveness fault was found — see the runs marked NO (exit 1)"),
        3 => style.bad("result: could not diagnose (exit 3)"),
        130 => style.bad("result: interrupted; partial report (exit 130)"),
        n => format!("result: exit {n}"),
    };
    format!("{line}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{Mode, PublishAttempt};
    use crate::modes::{Negotiation, RunOutcome};
    use crate::report::{ProbeSettings, Report, Run};
    use crate::timeline::{EventKind as K, TcpEnd, Timeline};

    /// The measured starved run: T = 2 s, RST at 6.007 s, publishes fail.
    fn starved_report() -> Report {
        let mut tl = Timeline::new(false);
        tl.push_at(
            0,
            K::TcpConnected {
                local: "127.0.0.1:5000".into(),
                peer: "127.0.0.1:5672".into(),
            },
        );
        tl.push_at(11, K::IdleStart { planned_ms: 8000 });
        tl.client_writes_ms = vec![0, 11];
        tl.push_at(
            6007,
            K::PeerEnded {
                how: TcpEnd::Reset,
                tcp_state: "CLOSE".into(),
                since_last_client_byte_ms: 5996,
                since_last_server_byte_ms: 998,
            },
        );
        tl.push_at(
            6008,
            K::PublishFailed {
                seq: 1,
                errno: Some(104),
                errno_name: "ECONNRESET".into(),
            },
        );
        tl.heartbeats.received = Some(5);
        let outcome = RunOutcome {
            mode: Mode::Starved,
            server: None,
            negotiation: Some(Negotiation {
                server_heartbeat_s: Some(60),
                requested_heartbeat_s: Some(2),
                negotiated_heartbeat_s: 2,
                frame_max: 131072,
                channel_max: 2047,
            }),
            idle_ms: 8000,
            idle_cut_short_at_ms: Some(6007),
            pump_every_ms: None,
            timeline: tl,
            attempts: vec![PublishAttempt {
                seq: 1,
                at_ms: 6008,
                write_error: Some((Some(104), "ECONNRESET".into())),
                acked: None,
                returned: false,
            }],
            setup_failure: None,
            interrupted: false,
            queue: Some("amq.gen-x".into()),
            notes: vec![],
        };
        Report {
            tool: "amqpdoctor",
            version: "0.1.0",
            command: "probe",
            target: "amqp://guest:***@127.0.0.1:5672/%2f".into(),
            server: None,
            settings: ProbeSettings {
                idle_ms: 8000,
                idle_auto: false,
                heartbeat: "2s".into(),
                publishes: 1,
                confirm_timeout_ms: 5000,
                pump_every_ms: None,
                destination: "own_queue".into(),
            },
            runs: vec![Run::classify(outcome, 5000)],
            setup_failure: None,
            interrupted: false,
            exit_code: 0,
        }
    }

    #[test]
    fn renders_the_starved_story() {
        let out = render(&starved_report(), Style { color: false });
        for needle in [
            "amqpdoctor probe amqp://guest:***@127.0.0.1:5672/%2f",
            "── starved",
            "6.007  ✗ peer reset the connection (RST) — TCP state CLOSE; client silent 5.996 s",
            "6.008  ✗ publish #1 failed: ECONNRESET (errno 104)",
            "heartbeats  sent 0, received 5",
            "verdict     broker_heartbeat_timeout (as predicted)",
            "2T = 4 s",
            "missed heartbeats from client, timeout: 2s",
            "--pump-every 1s",
            "│ starved ┆ 2 s       ┆ 0 / 5          ┆ RST at 6.007 s ┆ 1 failed  ┆ broker_heartbeat_timeout ┆ yes          │",
            "result: every run ended as its mode predicts (exit 0)",
        ] {
            assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
        }
        assert!(!out.contains('\x1b'), "no escape codes without colour");
    }

    #[test]
    fn json_renders_the_contract_shape() {
        let v: serde_json::Value =
            serde_json::from_str(&crate::report::json::render(&starved_report())).unwrap();
        assert_eq!(v["runs"][0]["verdict"]["code"], "broker_heartbeat_timeout");
        assert_eq!(v["runs"][0]["end"]["kind"], "reset");
        assert_eq!(v["runs"][0]["end"]["since_last_client_byte_ms"], 5996);
        assert_eq!(v["runs"][0]["publishes"][0]["outcome"], "failed");
        assert_eq!(v["runs"][0]["heartbeats"]["received"], 5);
    }
}
