//! The `check` report: one entry per target, built (pure) from what the run
//! layer measured, and rendered as human, JSON, JUnit XML, Markdown or the
//! Prometheus text exposition format.

use std::fmt::Write;

use serde::Serialize;

use super::junit::{self, Case, CaseResult, Suite, Suites};
use super::style::{clean, Style};
use super::{Header, ServerSummary, Tune};

mod prometheus;
use crate::classify::check::{evaluate, step_failure, CheckSeen, ExpectationReport, StepFailure};
use crate::error::ExitStatus;
use crate::run::check::CheckOutcome;
use crate::vocab::check::{CheckStep, Expectations, Millis, StepStatus};
use crate::vocab::{HeartbeatRequest, Negotiation};
pub use prometheus::render_prometheus;

/// One step, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReport {
    pub step: CheckStep,
    pub status: StepStatus,
    /// Null when the step did not run.
    pub duration_ms: Option<Millis>,
    pub failure: Option<StepFailure>,
}

/// One target's check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetReport {
    /// The URL with the password replaced by `***`.
    pub target: String,
    /// `host:port/vhost`, for tables.
    pub name: String,
    /// How TLS was set up for an `amqps://` target; null for `amqp://`.
    pub tls: Option<super::TlsInfo>,
    /// Every step passed and every expectation held.
    pub passed: bool,
    /// The first failure in one line (`publish: …`), null when passed.
    pub failure: Option<String>,
    pub peer: Option<String>,
    pub server: Option<ServerSummary>,
    pub negotiation: Option<Negotiation>,
    /// Whether the broker confirmed the publish (publisher confirms used).
    pub confirms: bool,
    pub steps: Vec<StepReport>,
    pub expectations: Vec<ExpectationReport>,
    /// publish + get, when both passed.
    pub roundtrip_ms: Option<Millis>,
    /// When this target's check began, after the check started (targets
    /// run concurrently, so these are close together).
    pub began_ms: Millis,
    pub duration_ms: Millis,
    /// The check's own exclusive, auto-delete queue (gone with the connection).
    pub queue: Option<String>,
    pub notes: Vec<String>,
}

/// What the check was asked, as resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckSettings {
    pub heartbeat: String,
    pub step_timeout_ms: u64,
    pub exchange: Option<String>,
    pub routing_key: Option<String>,
    pub expect_heartbeat: Option<String>,
    pub max_connect_ms: Option<Millis>,
    pub max_handshake_ms: Option<Millis>,
    pub max_roundtrip_ms: Option<Millis>,
    pub expect_server: Option<String>,
    /// `--expect-tls-accepted-by` (empty: not set).
    pub expect_tls_accepted_by: Vec<crate::vocab::tls::TlsFamily>,
}

/// The whole `check` report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    pub tool: &'static str,
    pub version: &'static str,
    pub command: &'static str,
    /// When the check started, ISO 8601 UTC.
    pub started_at: String,
    pub settings: CheckSettings,
    pub targets: Vec<TargetReport>,
    pub passed: usize,
    pub failed: usize,
    pub duration_ms: Millis,
    pub interrupted: bool,
    pub exit_code: ExitStatus,
}

impl StepReport {
    fn of(r: &crate::run::check::StepRecord) -> Self {
        StepReport {
            step: r.step,
            status: match (&r.error, r.took) {
                (Some(_), _) => StepStatus::Failed,
                (None, Some(_)) => StepStatus::Passed,
                (None, None) => StepStatus::Skipped,
            },
            duration_ms: r.took.map(Millis::of),
            failure: r.error.as_ref().map(|e| step_failure(r.step, e)),
        }
    }
}

impl TargetReport {
    /// Judge one target's outcome (pure).
    pub fn build(
        target: String,
        name: String,
        check_start: std::time::Instant,
        o: CheckOutcome,
        exp: &Expectations,
        request: HeartbeatRequest,
    ) -> Self {
        let steps: Vec<StepReport> = o.steps.iter().map(StepReport::of).collect();
        let took = |step| {
            o.steps
                .iter()
                .find(|r| r.step == step && r.error.is_none())
                .and_then(|r| r.took)
        };
        let roundtrip = took(CheckStep::Publish)
            .zip(took(CheckStep::Get))
            .map(|(a, b)| a + b);
        let hs = o.handshake.as_ref();
        let observed = CheckSeen {
            heartbeat: hs.map(|h| h.heartbeat),
            connect: took(CheckStep::Connect),
            handshake: took(CheckStep::Handshake),
            roundtrip,
            product: hs.and_then(|h| h.server.product.as_deref()),
            version: hs.and_then(|h| h.server.version.as_deref()),
            server_seen: hs.is_some(),
            tls: took(CheckStep::Tls).map(|_| o.tls_accepted.as_ref()),
        };
        let expectations = evaluate(exp, &observed);
        let failure = steps
            .iter()
            .find_map(|s| {
                s.failure
                    .as_ref()
                    .map(|f| format!("{}: {} ({})", s.step, f.message, f.code))
            })
            .or_else(|| {
                expectations
                    .iter()
                    .find(|e| e.status == StepStatus::Failed)
                    .map(|e| format!("{}: {}", e.name, e.message))
            });
        TargetReport {
            tls: None,
            target,
            name,
            passed: failure.is_none(),
            failure,
            peer: o.peer.map(|p| p.to_string()),
            server: hs.map(|h| {
                ServerSummary::new(
                    &h.server,
                    Some(Tune {
                        heartbeat: h.server_heartbeat,
                        frame_max: h.server_frame_max,
                        channel_max: h.server_channel_max,
                    }),
                )
            }),
            negotiation: hs.map(|h| Negotiation {
                server_heartbeat_s: Some(h.server_heartbeat),
                requested_heartbeat_s: request.requested_s(),
                negotiated_heartbeat_s: h.heartbeat,
                frame_max: h.frame_max,
                channel_max: h.channel_max,
            }),
            confirms: o.confirms,
            steps,
            expectations,
            roundtrip_ms: roundtrip.map(Millis::of),
            began_ms: Millis::of(o.began.saturating_duration_since(check_start)),
            duration_ms: Millis::of(o.total),
            queue: o.queue,
            notes: o.notes,
        }
    }
}

impl CheckReport {
    /// The report, its exit status decided from its targets: interrupted
    /// (130) beats a failure (1); all passed is 0. An unreachable target
    /// is a failure, not "could not diagnose".
    pub fn new(
        started_at: String,
        settings: CheckSettings,
        targets: Vec<TargetReport>,
        duration: std::time::Duration,
        interrupted: bool,
    ) -> Self {
        let passed = targets.iter().filter(|t| t.passed).count();
        let failed = targets.len() - passed;
        let exit_code = if interrupted {
            ExitStatus::Interrupted
        } else if failed > 0 {
            ExitStatus::Fault
        } else {
            ExitStatus::Ok
        };
        let h = Header::new("check", String::new());
        CheckReport {
            tool: h.tool,
            version: h.version,
            command: h.command,
            started_at,
            settings,
            targets,
            passed,
            failed,
            duration_ms: Millis::of(duration),
            interrupted,
            exit_code,
        }
    }
}

/// A step's cell in tables: milliseconds, the failure's short name, or a
/// dash when it did not run.
fn step_cell(s: &StepReport) -> String {
    match (&s.failure, s.duration_ms) {
        (Some(f), _) => format!("✗ {}", short_reason(f)),
        (None, Some(ms)) => ms_cell(ms),
        (None, None) => "–".into(),
    }
}

/// `ECONNREFUSED`, `403`, `timeout`: what a table cell has room for.
fn short_reason(f: &StepFailure) -> String {
    f.errno_name
        .clone()
        .or(f.reply_code.map(|c| c.to_string()))
        .unwrap_or_else(|| f.code.to_string())
}

/// Milliseconds with two to three significant figures, no unit.
fn ms_cell(ms: Millis) -> String {
    match ms.0 {
        m if m < 10.0 => format!("{m:.2}"),
        m if m < 100.0 => format!("{m:.1}"),
        m => format!("{m:.0}"),
    }
}

/// The steps every target ran or skipped, in order (the table columns).
fn columns(r: &CheckReport) -> Vec<CheckStep> {
    let mut cols: Vec<CheckStep> = r
        .targets
        .iter()
        .flat_map(|t| t.steps.iter().map(|s| s.step))
        .collect();
    cols.sort();
    cols.dedup();
    cols
}

fn server_line(t: &TargetReport) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &t.server {
        parts.push(
            clean(&crate::classify::narrate::server_label(
                s.product.as_deref(),
                s.version.as_deref(),
            ))
            .into_owned(),
        );
    }
    if let Some(n) = &t.negotiation {
        parts.push(format!(
            "heartbeat {} (proposed {})",
            n.negotiated_heartbeat_s,
            n.server_heartbeat_s
                .map_or_else(|| "?".to_string(), |h| h.to_string())
        ));
        parts.push(format!("frame_max {}", n.frame_max));
        parts.push(format!("channel_max {}", n.channel_max));
    }
    parts.join(", ")
}

/// The human report: one table row per target, steps as columns (ms), then
/// each target's server and, for failures, the reason and what to do.
pub fn render_human(r: &CheckReport, style: Style) -> String {
    let mut out = format!(
        "{} {} of {} target(s) passed in {}  (step times in ms)\n",
        style.bold("amqpdoctor check:"),
        r.passed,
        r.targets.len(),
        r.duration_ms
    );
    out.push_str(&step_table(r, style));
    out.push('\n');
    for t in &r.targets {
        target_details(&mut out, t, style);
    }
    out
}

/// The table of targets by steps: one row per target, a cell per step with
/// its time or why it failed, and the target's result.
fn step_table(r: &CheckReport, style: Style) -> String {
    let cols = columns(r);
    let mut header: Vec<String> = vec!["target".into()];
    header.extend(cols.iter().map(|c| c.to_string()));
    header.push("result".into());
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        // Never wrap: a cell such as "✗ ECONNREFUSED" is what users grep for.
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(header);
    if style.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    for t in &r.targets {
        let mut row = vec![comfy_table::Cell::new(clean(&t.name))];
        for c in &cols {
            let cell = t.steps.iter().find(|s| s.step == *c);
            let text = cell.map_or_else(|| "".into(), step_cell);
            let mut cell_out = comfy_table::Cell::new(text);
            match cell.map(|s| s.status) {
                Some(StepStatus::Failed) => cell_out = cell_out.fg(comfy_table::Color::Red),
                Some(StepStatus::Skipped) => {
                    cell_out = cell_out.add_attribute(comfy_table::Attribute::Dim)
                }
                _ => {}
            }
            row.push(cell_out);
        }
        row.push(if t.passed {
            comfy_table::Cell::new("pass").fg(comfy_table::Color::Green)
        } else {
            comfy_table::Cell::new("FAIL").fg(comfy_table::Color::Red)
        });
        table.add_row(row);
    }
    table.to_string()
}

/// What the table has no room for, for one target: its server, the round
/// trip, each failed step with its hint, each expectation and the notes.
fn target_details(out: &mut String, t: &TargetReport, style: Style) {
    let mark = if t.passed {
        style.good("✓")
    } else {
        style.bad("✗")
    };
    let _ = writeln!(out, "\n{mark} {}", clean(&t.target));
    let line = server_line(t);
    if !line.is_empty() {
        let _ = writeln!(out, "  {line}");
    }
    if let Some(rt) = t.roundtrip_ms {
        let _ = writeln!(
            out,
            "  round trip (publish → confirm → get) {rt}, whole check {}",
            t.duration_ms
        );
    }
    for s in &t.steps {
        if let Some(f) = &s.failure {
            failed_step(out, s, f, style);
        }
    }
    for e in &t.expectations {
        expectation_line(out, e, style);
    }
    for n in &t.notes {
        let _ = writeln!(out, "  note: {}", clean(n));
    }
}

/// A failed step: what failed after how long, the hint, and the topic that
/// explains it.
fn failed_step(out: &mut String, s: &StepReport, f: &StepFailure, style: Style) {
    let _ = writeln!(
        out,
        "  {} {} failed after {}: {}",
        style.bad("step"),
        s.step,
        s.duration_ms.map_or_else(|| "?".into(), |m| m.to_string()),
        clean(&f.message)
    );
    let _ = write!(
        out,
        "{}",
        super::style::wrap_with(
            &format!("hint: {}", f.hint),
            super::style::WIDTH,
            "  ",
            "        "
        )
    );
    let _ = writeln!(out, "  more: amqpdoctor explain {}", f.explain);
}

/// One expectation: passed, failed or skipped, what was expected, and what
/// was got or why not.
fn expectation_line(out: &mut String, e: &ExpectationReport, style: Style) {
    let (mark, detail) = match e.status {
        StepStatus::Passed => (
            style.good("✓"),
            format!("got {}", e.observed.as_deref().unwrap_or("?")),
        ),
        StepStatus::Failed => (style.bad("✗"), e.message.clone()),
        StepStatus::Skipped => (style.dim("–"), e.message.clone()),
    };
    let _ = writeln!(
        out,
        "  {mark} {} ({}): {}",
        e.name,
        clean(&e.expected),
        clean(&detail)
    );
}

/// One document: the report as JSON.
pub fn render_json(r: &CheckReport) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_else(|e| {
        format!("{{\"tool\":\"amqpdoctor\",\"error\":\"serializing the report: {e}\"}}")
    });
    s.push('\n');
    s
}

/// The pass/fail outcomes for the CI formats: one suite per target, one case per step and
/// per expectation.
pub fn outcomes(r: &CheckReport) -> Suites {
    let suites = r
        .targets
        .iter()
        .map(|t| {
            // Jenkins reads the last dot as package.class: keep the host's dots out.
            let classname = format!("amqpdoctor.check.{}", t.name.replace('.', "_"));
            let mut cases: Vec<Case> = t
                .steps
                .iter()
                .map(|s| Case {
                    name: format!("{}: {}", s.step, s.step.describe()),
                    classname: classname.clone(),
                    time_s: s.duration_ms.map_or(0.0, Millis::secs),
                    result: match (&s.failure, s.status) {
                        (Some(f), _) => CaseResult::Failed {
                            kind: f.code.to_string(),
                            message: f.message.clone(),
                            detail: format!(
                                "{}\nhint: {}\nmore: amqpdoctor explain {}",
                                f.message, f.hint, f.explain
                            ),
                        },
                        (None, StepStatus::Skipped) => CaseResult::Skipped {
                            message: "not run: an earlier step failed".into(),
                        },
                        _ => CaseResult::Passed,
                    },
                })
                .collect();
            cases.extend(t.expectations.iter().map(|e| Case {
                name: format!("{}: {}", e.name, e.expected),
                classname: classname.clone(),
                time_s: 0.0,
                result: match e.status {
                    StepStatus::Passed => CaseResult::Passed,
                    StepStatus::Failed => CaseResult::Failed {
                        kind: "expectation".into(),
                        message: e.message.clone(),
                        detail: e.message.clone(),
                    },
                    StepStatus::Skipped => CaseResult::Skipped {
                        message: e.message.clone(),
                    },
                },
            }));
            let mut properties = vec![("target".to_string(), t.target.clone())];
            if let Some(s) = &t.server {
                properties.extend(
                    [
                        ("server.product", s.product.clone()),
                        ("server.version", s.version.clone()),
                        ("server.capabilities", Some(s.capabilities.join(","))),
                    ]
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k.to_string(), v))),
                );
            }
            if let Some(n) = &t.negotiation {
                properties.push((
                    "heartbeat_s".into(),
                    n.negotiated_heartbeat_s.secs().to_string(),
                ));
                properties.push(("frame_max".into(), n.frame_max.to_string()));
                properties.push(("channel_max".into(), n.channel_max.to_string()));
            }
            Suite {
                name: t.target.clone(),
                time_s: t.duration_ms.secs(),
                timestamp: Some(r.started_at.clone()),
                properties,
                cases,
            }
        })
        .collect();
    Suites {
        name: "amqpdoctor check".into(),
        suites,
    }
}

/// The outcomes as JUnit XML.
pub fn render_junit(r: &CheckReport) -> String {
    junit::render(&outcomes(r))
}

/// Text for a Markdown table cell: no pipes or line breaks, no controls,
/// no HTML (a server's `<script>` is shown as text; issue 24 item 11).
pub fn md_cell(text: &str) -> String {
    clean(&text.replace(['\n', '\r'], " "))
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}

/// Markdown for a GitHub job summary: a table, then failures with hints.
pub fn render_markdown(r: &CheckReport) -> String {
    let cols = columns(r);
    let mut out = format!(
        "### amqpdoctor check: {} of {} target(s) passed\n\n",
        r.passed,
        r.targets.len()
    );
    let mut head = vec!["target".to_string(), "result".to_string()];
    head.extend(cols.iter().map(|c| format!("{c} (ms)")));
    head.push("server".into());
    head.push("heartbeat".into());
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
    for t in &r.targets {
        let mut row = vec![
            format!("`{}`", md_cell(&t.name).replace('`', "'")),
            if t.passed { "✅ pass" } else { "❌ **fail**" }.to_string(),
        ];
        for c in &cols {
            row.push(
                t.steps
                    .iter()
                    .find(|s| s.step == *c)
                    .map_or_else(String::new, |s| md_cell(&step_cell(s))),
            );
        }
        row.push(t.server.as_ref().map_or_else(String::new, |s| {
            md_cell(&crate::classify::narrate::server_label(
                s.product.as_deref(),
                s.version.as_deref(),
            ))
        }));
        row.push(
            t.negotiation
                .map_or_else(String::new, |n| n.negotiated_heartbeat_s.to_string()),
        );
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    let failed: Vec<&TargetReport> = r.targets.iter().filter(|t| !t.passed).collect();
    if !failed.is_empty() {
        out.push_str("\n#### Failures\n\n");
        for t in failed {
            let _ = writeln!(
                out,
                "- **{}**: {}",
                md_cell(&t.name),
                md_cell(t.failure.as_deref().unwrap_or(""))
            );
            for s in &t.steps {
                if let Some(f) = &s.failure {
                    let _ = writeln!(
                        out,
                        "  - hint: {} (`amqpdoctor explain {}`)",
                        md_cell(&f.hint),
                        md_cell(&f.explain)
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
