//! The output-format seam: what each command's report renders, in one place.
//!
//! A report implements [`Render`]: `human` and `json` always, the others
//! when the command offers them (`cli::format` lists the offers;
//! `tests/formats.rs` runs every command in every format it offers and
//! fails when a report answers "not rendered" for one of them).
//!
//! The CI formats come from one pass/fail model, [`Suites`]: a report that
//! gives its [`Render::outcomes`] gets JUnit (and any later CI format, such
//! as TAP, written from the same model) without a line of its own.
//!
//! Adding a format to every command: a variant of `vocab::format::Format`,
//! a method here (a default), its writer (for example `report/tap.rs`
//! beside `report/junit.rs`), and the offers in `cli/format.rs`.

use std::fmt;

use super::audit::{self, AuditReport};
use super::check::{self, CheckReport};
use super::explain::{render_human as explain_human, render_list_human};
use super::explain_json::{render_json_paste as explain_json_paste, render_list_json};
use super::explain_paste::{human_header, human_lines};
use super::heartbeat::{self, HeartbeatReport};
use super::idle::{self, IdleReport};
use super::junit::{self, Suites};
use super::logs::LogsReport;
use super::scan::{self, ScanReport};
use super::style::Style;
use super::{human, json, probe_ci, Report};
use crate::knowledge::paste::PasteReading;
use crate::knowledge::{ClientSpec, Topic, TopicList};
use crate::vocab::format::Format;

/// A report, as every format it can be written in.
pub trait Render {
    /// The command that made it, for the message when a format is missing.
    fn command(&self) -> &'static str;

    /// Words and tables for a terminal.
    fn human(&self, style: Style) -> String;

    /// Exactly one JSON document with a final newline (docs/json.md).
    fn json(&self) -> String;

    /// The pass/fail outcomes, for the CI formats.
    fn outcomes(&self) -> Option<Suites> {
        None
    }

    fn junit(&self) -> Option<String> {
        self.outcomes().map(|s| junit::render(&s))
    }

    fn markdown(&self) -> Option<String> {
        None
    }

    fn prometheus(&self) -> Option<String> {
        None
    }
}

/// A format asked of a report that does not render it: a bug (the command
/// line offered a format the report lacks), said in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRendered {
    pub command: &'static str,
    pub format: Format,
}

impl fmt::Display for NotRendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "amqpdoctor {} cannot write --format {} (a bug in amqpdoctor: please report it)",
            self.command, self.format
        )
    }
}

impl std::error::Error for NotRendered {}

/// `report` in `format`.
pub fn render(report: &dyn Render, format: Format, style: Style) -> Result<String, NotRendered> {
    let out = match format {
        Format::Human => Some(report.human(style)),
        Format::Json => Some(report.json()),
        Format::Junit => report.junit(),
        Format::Markdown => report.markdown(),
        Format::Prometheus => report.prometheus(),
    };
    out.ok_or(NotRendered {
        command: report.command(),
        format,
    })
}

impl Render for Report {
    fn command(&self) -> &'static str {
        "probe"
    }
    fn human(&self, style: Style) -> String {
        human::render(self, style)
    }
    fn json(&self) -> String {
        json::render(self)
    }
    fn outcomes(&self) -> Option<Suites> {
        Some(probe_ci::outcomes(self))
    }
    fn markdown(&self) -> Option<String> {
        Some(probe_ci::render_markdown(self))
    }
}

impl Render for CheckReport {
    fn command(&self) -> &'static str {
        "check"
    }
    fn human(&self, style: Style) -> String {
        check::render_human(self, style)
    }
    fn json(&self) -> String {
        check::render_json(self)
    }
    fn outcomes(&self) -> Option<Suites> {
        Some(check::outcomes(self))
    }
    fn markdown(&self) -> Option<String> {
        Some(check::render_markdown(self))
    }
    fn prometheus(&self) -> Option<String> {
        Some(check::render_prometheus(self))
    }
}

impl Render for AuditReport {
    fn command(&self) -> &'static str {
        "audit"
    }
    fn human(&self, style: Style) -> String {
        audit::render_human(self, style)
    }
    fn json(&self) -> String {
        audit::render_json(self)
    }
    fn outcomes(&self) -> Option<Suites> {
        Some(audit::outcomes(self))
    }
    fn markdown(&self) -> Option<String> {
        Some(audit::render_markdown(self))
    }
}

impl Render for IdleReport {
    fn command(&self) -> &'static str {
        "idle-timeout"
    }
    fn human(&self, style: Style) -> String {
        idle::render(self, style)
    }
    fn json(&self) -> String {
        json::render(self)
    }
}

impl Render for super::tls::TlsReport {
    fn command(&self) -> &'static str {
        "tls"
    }
    fn human(&self, style: Style) -> String {
        super::tls::render(self, style)
    }
    fn json(&self) -> String {
        json::render(self)
    }
    fn markdown(&self) -> Option<String> {
        Some(super::tls::render_markdown(self))
    }
}

impl Render for ScanReport {
    fn command(&self) -> &'static str {
        "scan"
    }
    fn human(&self, style: Style) -> String {
        scan::render(self, style)
    }
    fn json(&self) -> String {
        json::render(self)
    }
}

impl Render for LogsReport {
    fn command(&self) -> &'static str {
        "logs"
    }
    fn human(&self, style: Style) -> String {
        super::logs::human::render(self, style)
    }
    fn json(&self) -> String {
        json::render(self)
    }
    fn markdown(&self) -> Option<String> {
        Some(super::logs::markdown::render(self))
    }
}

/// `heartbeat`'s report as asked: all libraries, or only `--client`'s.
pub struct HeartbeatView<'a> {
    pub report: &'a HeartbeatReport,
    pub only: Option<&'a ClientSpec<'a>>,
}

impl Render for HeartbeatView<'_> {
    fn command(&self) -> &'static str {
        "heartbeat"
    }
    fn human(&self, style: Style) -> String {
        heartbeat::render(self.report, self.only, style)
    }
    fn json(&self) -> String {
        json::render(self.report)
    }
}

/// `explain TOPIC`: the (redacted) query and what it was recognised as.
pub struct ExplainView<'a> {
    pub query: &'a str,
    pub topic: &'a Topic<'a>,
    /// `explain -`: the paste the query was chosen from.
    pub paste: Option<&'a PasteReading>,
}

/// The JSON of a document that could not be serialized: still one document.
fn unserializable(e: &serde_json::Error) -> String {
    format!("{{\"tool\":\"amqpdoctor\",\"error\":\"cannot serialize report: {e}\"}}\n")
}

impl Render for ExplainView<'_> {
    fn command(&self) -> &'static str {
        "explain"
    }
    fn human(&self, style: Style) -> String {
        let text = explain_human(self.query, self.topic, style.color);
        match self.paste {
            Some(p) => human_header(p, style) + &text + &human_lines(p, style),
            None => text,
        }
    }
    fn json(&self) -> String {
        explain_json_paste(self.query, self.topic, self.paste)
            .unwrap_or_else(|e| unserializable(&e))
    }
}

/// `explain --list`.
pub struct ExplainListView<'a>(pub &'a TopicList);

impl Render for ExplainListView<'_> {
    fn command(&self) -> &'static str {
        "explain"
    }
    fn human(&self, style: Style) -> String {
        render_list_human(self.0, style.color)
    }
    fn json(&self) -> String {
        render_list_json(self.0).unwrap_or_else(|e| unserializable(&e))
    }
}
