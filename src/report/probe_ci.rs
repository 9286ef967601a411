//! The probe report for CI systems: JUnit XML (one test case per mode; a
//! run that did not end as predicted is a failure) and Markdown (a table for
//! a GitHub job summary).

use std::fmt::Write;

use super::check::md_cell;
use super::junit::{Case, CaseResult, Suite, Suites};
use super::{Report, Run};

/// How long a run took: its last event, in seconds.
fn run_secs(run: &Run) -> f64 {
    run.events.last().map_or(0.0, |e| e.at_ms as f64 / 1000.0)
}

pub fn outcomes(r: &Report) -> Suites {
    let classname = "amqpdoctor.probe".to_string();
    let cases = r
        .runs
        .iter()
        .map(|run| {
            let v = &run.verdict;
            let result = if run.interrupted() {
                CaseResult::Skipped {
                    message: "interrupted before the run finished".into(),
                }
            } else if v.expected {
                CaseResult::Passed
            } else {
                CaseResult::Failed {
                    kind: v.code.to_string(),
                    message: v.summary.clone(),
                    detail: format!(
                        "{}\n\nprediction: {}\n\nremedy: {}",
                        v.explanation, v.prediction_text, v.remedy
                    ),
                }
            };
            Case {
                name: format!("{} mode: {}", run.mode, v.code),
                classname: classname.clone(),
                time_s: run_secs(run),
                result,
            }
        })
        .collect();
    let mut properties = vec![("target".to_string(), r.header.target.clone())];
    if let Some(s) = &r.server {
        if let Some(p) = &s.product {
            properties.push(("server.product".into(), p.clone()));
        }
        if let Some(v) = &s.version {
            properties.push(("server.version".into(), v.clone()));
        }
        if let Some(h) = s.proposed_heartbeat_s {
            properties.push(("server.proposed_heartbeat_s".into(), h.secs().to_string()));
        }
    }
    properties.push(("idle_ms".into(), r.settings.idle_ms.to_string()));
    let time_s = r.runs.iter().map(run_secs).fold(0.0, f64::max);
    Suites {
        name: "amqpdoctor probe".into(),
        suites: vec![Suite {
            name: r.header.target.clone(),
            time_s,
            timestamp: None,
            properties,
            cases,
        }],
    }
}

/// The outcomes as JUnit XML.
#[cfg(test)]
pub fn render_junit(r: &Report) -> String {
    super::junit::render(&outcomes(r))
}

pub fn render_markdown(r: &Report) -> String {
    let mut out = format!(
        "### amqpdoctor probe `{}`\n\n",
        md_cell(&r.header.target).replace('`', "'")
    );
    if let Some(s) = &r.server {
        let _ = writeln!(
            out,
            "Server: {} {}, proposes heartbeat {}. Idle {} ms.\n",
            md_cell(s.product.as_deref().unwrap_or("unknown")),
            md_cell(s.version.as_deref().unwrap_or("")),
            s.proposed_heartbeat_s
                .map_or_else(|| "?".to_string(), |h| h.to_string()),
            r.settings.idle_ms
        );
    }
    if let Some(c) = &r.client {
        let _ = writeln!(
            out,
            "As {} {} (`--client {}`): T = {} by its rule, {}.\n",
            md_cell(&c.id),
            md_cell(&c.version),
            md_cell(&c.asked).replace('`', "'"),
            c.negotiated_heartbeat_s,
            c.how()
        );
    }
    out.push_str(
        "| mode | verdict | as predicted | heartbeat | summary |\n|---|---|---|---|---|\n",
    );
    for run in &r.runs {
        let v = &run.verdict;
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} |",
            run.mode,
            v.code,
            if run.interrupted() {
                "–"
            } else if v.expected {
                "✅ yes"
            } else {
                "❌ **no**"
            },
            run.negotiation
                .map_or_else(|| "–".to_string(), |n| n.negotiated_heartbeat_s.to_string()),
            md_cell(&v.summary)
        );
    }
    for run in r.runs.iter().filter(|r| !r.verdict.expected) {
        let _ = writeln!(
            out,
            "\n**{}**: {}\n\nRemedy: {}",
            run.mode,
            md_cell(&run.verdict.explanation),
            md_cell(&run.verdict.remedy)
        );
    }
    out
}
