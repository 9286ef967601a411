//! `check --format prometheus`: the text exposition format.

use std::fmt::Write;

use super::{CheckReport, StepReport, TargetReport};
use crate::vocab::check::StepStatus;

/// A Prometheus label value, escaped as the text format requires; a
/// server's control characters (ESC, BEL, CR…) shown, not passed on
/// (issue 24 item 11).
fn label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            // Shown as `\x1b` (an escaped backslash, then the code).
            c if c.is_control() => {
                let _ = write!(out, "\\\\x{:02x}", c as u32);
            }
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                let _ = write!(out, "\\\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Samples of one metric family: (labels, value).
type Samples = Vec<(String, String)>;

/// The Prometheus text exposition format (version 0.0.4): per-target up,
/// step durations and successes, negotiated values, expectations, server
/// info. For node_exporter's textfile collector or a Pushgateway.
pub fn render_prometheus(r: &CheckReport) -> String {
    let mut out = String::new();
    result_families(&mut out, r);
    negotiation_families(&mut out, r);
    family(
        &mut out,
        "expectation_success",
        "1 when the expectation held, 0 when it did not.",
        expectation_samples(r),
    );
    family(
        &mut out,
        "server_info",
        "The server's product and version (always 1).",
        server_info_samples(r),
    );
    family(
        &mut out,
        "failure_info",
        "The step that failed and its verdict code (always 1).",
        failure_samples(r),
    );
    out
}

/// One metric family, a gauge: its HELP and TYPE lines and a line per
/// sample; nothing when it has no samples.
fn family(out: &mut String, name: &str, help: &str, samples: Samples) {
    if samples.is_empty() {
        return;
    }
    let _ = writeln!(out, "# HELP amqpdoctor_check_{name} {help}");
    let _ = writeln!(out, "# TYPE amqpdoctor_check_{name} gauge");
    for (labels, value) in samples {
        let _ = writeln!(out, "amqpdoctor_check_{name}{{{labels}}} {value}");
    }
}

/// The label that names a target.
fn target_label(t: &TargetReport) -> String {
    format!("target=\"{}\"", label(&t.target))
}

/// A sample per target for which `f` has a value.
fn per_target(r: &CheckReport, f: &dyn Fn(&TargetReport) -> Option<String>) -> Samples {
    r.targets
        .iter()
        .filter_map(|t| f(t).map(|v| (target_label(t), v)))
        .collect()
}

/// A sample per step of each target for which `f` has a value.
fn per_step(r: &CheckReport, f: &dyn Fn(&StepReport) -> Option<String>) -> Samples {
    r.targets
        .iter()
        .flat_map(|t| {
            t.steps.iter().filter_map(move |s| {
                f(s).map(|v| (format!("{},step=\"{}\"", target_label(t), s.step), v))
            })
        })
        .collect()
}

/// How each check went: up, its duration, each step's duration and
/// success, and the round trip.
fn result_families(out: &mut String, r: &CheckReport) {
    family(
        out,
        "up",
        "1 when every step and expectation of the check passed, else 0.",
        per_target(r, &|t| Some(u8::from(t.passed).to_string())),
    );
    family(
        out,
        "duration_seconds",
        "Wall time of the whole check of the target.",
        per_target(r, &|t| Some(format!("{:.6}", t.duration_ms.secs()))),
    );
    family(
        out,
        "step_duration_seconds",
        "How long each step took (steps that did not run are absent).",
        per_step(r, &|s| s.duration_ms.map(|m| format!("{:.6}", m.secs()))),
    );
    family(
        out,
        "step_success",
        "1 when the step passed, 0 when it failed (steps that did not run are absent).",
        per_step(r, &|s| match s.status {
            StepStatus::Passed => Some("1".into()),
            StepStatus::Failed => Some("0".into()),
            StepStatus::Skipped => None,
        }),
    );
    family(
        out,
        "roundtrip_seconds",
        "Publish, confirm and get back one message.",
        per_target(r, &|t| t.roundtrip_ms.map(|m| format!("{:.6}", m.secs()))),
    );
}

/// What was agreed in Connection.Tune / Tune-Ok: the heartbeat (and what
/// the server proposed), frame_max and channel_max.
fn negotiation_families(out: &mut String, r: &CheckReport) {
    family(
        out,
        "negotiated_heartbeat_seconds",
        "The heartbeat agreed in Connection.Tune-Ok (0: heartbeats off).",
        per_target(r, &|t| {
            t.negotiation
                .map(|n| n.negotiated_heartbeat_s.secs().to_string())
        }),
    );
    family(
        out,
        "server_heartbeat_seconds",
        "The heartbeat the server proposed in Connection.Tune.",
        per_target(r, &|t| {
            t.negotiation
                .and_then(|n| n.server_heartbeat_s)
                .map(|h| h.secs().to_string())
        }),
    );
    family(
        out,
        "frame_max_bytes",
        "The negotiated frame_max.",
        per_target(r, &|t| t.negotiation.map(|n| n.frame_max.to_string())),
    );
    family(
        out,
        "channel_max",
        "The negotiated channel_max.",
        per_target(r, &|t| t.negotiation.map(|n| n.channel_max.to_string())),
    );
}

/// 1 or 0 per expectation that was evaluated (skipped ones are absent).
fn expectation_samples(r: &CheckReport) -> Samples {
    r.targets
        .iter()
        .flat_map(|t| {
            t.expectations.iter().filter_map(move |e| {
                let v = match e.status {
                    StepStatus::Passed => "1",
                    StepStatus::Failed => "0",
                    StepStatus::Skipped => return None,
                };
                Some((
                    format!("{},expectation=\"{}\"", target_label(t), e.name),
                    v.to_string(),
                ))
            })
        })
        .collect()
}

/// The server's product and version per target that reached one.
fn server_info_samples(r: &CheckReport) -> Samples {
    r.targets
        .iter()
        .filter_map(|t| {
            let s = t.server.as_ref()?;
            Some((
                format!(
                    "{},product=\"{}\",version=\"{}\"",
                    target_label(t),
                    label(s.product.as_deref().unwrap_or("")),
                    label(s.version.as_deref().unwrap_or(""))
                ),
                "1".to_string(),
            ))
        })
        .collect()
}

/// The failed step and its verdict code, per step that failed.
fn failure_samples(r: &CheckReport) -> Samples {
    r.targets
        .iter()
        .flat_map(|t| {
            t.steps.iter().filter_map(move |s| {
                let f = s.failure.as_ref()?;
                Some((
                    format!(
                        "{},step=\"{}\",code=\"{}\"",
                        target_label(t),
                        s.step,
                        f.code
                    ),
                    "1".to_string(),
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod label_tests {
    #[test]
    fn controls_and_quotes_are_escaped() {
        for (raw, want) in [
            ("RabbitMQ", "RabbitMQ"),
            ("a\"b", "a\\\"b"),
            ("a\\b", "a\\\\b"),
            ("x\u{1b}[31my\u{7}\r", "x\\\\x1b[31my\\\\x07\\\\x0d"),
        ] {
            assert_eq!(super::label(raw), want, "{raw:?}");
        }
    }
}
