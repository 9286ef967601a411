//! Human output for `amqpdoctor heartbeat`.

use comfy_table::presets;

use super::human::table;
use super::style::{wrap, Style};
use crate::classify::{secs, Cadence};
use crate::commands::heartbeat::HeartbeatReport;
use crate::knowledge::ClientLib;

const WIDTH: usize = 100;

pub fn render(r: &HeartbeatReport, only: Option<&ClientLib>, style: Style) -> String {
    let mut out = format!("{} {}\n", style.bold("amqpdoctor heartbeat"), r.target);
    if let Some(f) = &r.setup_failure {
        out.push_str(&style.bad(&format!(
            "could not diagnose: {} during the {}\n",
            f.code, f.stage
        )));
        out.push_str(&wrap(&f.message, WIDTH, "  "));
        return out;
    }
    if let Some(s) = &r.server {
        out.push_str(&format!(
            "server   {} {}\n",
            s.product.as_deref().unwrap_or("unknown"),
            s.version.as_deref().unwrap_or("")
        ));
    }
    if let Some(n) = &r.negotiation {
        let show = |v: u16| {
            if v == 0 {
                "0 (off)".to_string()
            } else {
                format!("{v} s")
            }
        };
        out.push('\n');
        out.push_str(&table(
            &[
                "server proposed (Tune)",
                "we requested",
                "negotiated (Tune-Ok)",
                "frame_max",
                "channel_max",
            ],
            vec![vec![
                n.server_heartbeat_s.map_or("?".into(), show),
                n.requested_heartbeat_s
                    .map_or("server's value".into(), show),
                show(n.negotiated_heartbeat_s),
                n.frame_max.to_string(),
                n.channel_max.to_string(),
            ]],
            presets::UTF8_FULL_CONDENSED,
        ));
        out.push('\n');
        let t = n.negotiated_heartbeat_s;
        let mut timing = if t > 0 {
            format!(
                "With T = {t} s each side sends a heartbeat after {} without other traffic, and \
                 RabbitMQ drops a client that sent nothing between 2T = {} s and 3T = {} s after \
                 its last byte (it samples received bytes once per T and gives up after two empty \
                 samples).",
                secs(u64::from(t) * 500),
                2 * u32::from(t),
                3 * u32::from(t)
            )
        } else {
            format!(
                "Heartbeats are off: nothing but TCP keepalive would notice a dead peer, and Linux \
                 keepalive (when an application enables it at all) takes {} s — over two hours.",
                crate::knowledge::tcp_keepalive_detection_s()
            )
        };
        timing.push_str(" RabbitMQ adopts the Tune-Ok value as it is.");
        out.push_str(&wrap(&timing, WIDTH, ""));
    }
    for w in &r.warnings {
        out.push_str(&style.bad(&wrap(&format!("warning: {w}"), WIDTH, "")));
    }
    out.push('\n');
    let rows = r
        .clients
        .iter()
        .map(|c| {
            vec![
                c.client.to_string(),
                if c.negotiated_heartbeat_s == 0 {
                    "0 (off)".into()
                } else {
                    format!("{} s", c.negotiated_heartbeat_s)
                },
                c.dispatch.to_string(),
                if c.starves_when_idle {
                    style.bad("yes")
                } else {
                    "no".into()
                },
                if c.honours_setting {
                    "yes".into()
                } else {
                    style.bad("NO")
                },
            ]
        })
        .collect();
    out.push_str(
        "What each client library would negotiate against this server with your setting:\n",
    );
    out.push_str(&table(
        &[
            "client",
            "negotiates",
            "who sends its heartbeats",
            "starves when app idles",
            "honours setting",
        ],
        rows,
        presets::UTF8_FULL_CONDENSED,
    ));
    out.push('\n');
    for c in r.clients.iter().filter_map(|c| c.note.as_ref()) {
        out.push_str(&wrap(&format!("note: {c}"), WIDTH, ""));
    }
    if let Some(lib) = only {
        out.push_str(&format!("\n{} ({})\n", style.bold(lib.name), lib.setting));
        out.push_str(&wrap(&format!("remedy: {}", lib.remedy), WIDTH, "  "));
        out.push_str(&wrap(&format!("source: {}", lib.source), WIDTH, "  "));
    }
    if let Some(o) = &r.observed {
        out.push_str(&format!("\nObserved for {}:\n", secs(o.duration_ms)));
        let line = |dir: &str, c: &Cadence| {
            vec![
                dir.to_string(),
                c.count.to_string(),
                c.mean_gap_ms.map_or("-".into(), secs),
                c.max_gap_ms.map_or("-".into(), secs),
                if c.expected_gap_ms == 0 {
                    "none".into()
                } else {
                    secs(c.expected_gap_ms)
                },
                if c.late > 0 || c.missing {
                    style.bad(&format!(
                        "{} late{}",
                        c.late,
                        if c.missing { ", missing" } else { "" }
                    ))
                } else {
                    "ok".into()
                },
            ]
        };
        out.push_str(&table(
            &[
                "direction",
                "heartbeats",
                "mean gap",
                "max gap",
                "expected (T/2)",
                "verdict",
            ],
            vec![
                line("server → client", &o.server_to_client),
                line("client → server", &o.client_to_server),
            ],
            presets::UTF8_FULL_CONDENSED,
        ));
        out.push('\n');
        if o.server_to_client.expected_gap_ms == 0 {
            out.push_str(&wrap(
                &if o.server_to_client.count == 0 {
                    "Heartbeats are off and the server sent none, as agreed.".to_string()
                } else {
                    format!(
                        "Heartbeats are off but the server sent {}!",
                        o.server_to_client.count
                    )
                },
                WIDTH,
                "",
            ));
        }
    }
    out
}
