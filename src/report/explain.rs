//! Renders what `explain` recognised: a [`Topic`] → human text or one JSON
//! document. Pure: the command prints, these functions only build strings.
//!
//! Human output is a heading naming what was recognised, then the sections
//! "What it means", "Usual causes", "How to confirm with amqpdoctor" and
//! "What to do", wrapped at 80 columns. A log line first says what was
//! recognised in it, then explains the topic it points to.
//!
//! `explain --list` renders [`TopicList`]: a heading per kind with one
//! topic a line, a JSON document, or (for the usage error on an unknown
//! topic) one compact line per kind.

use super::explain_json::client_examples;
#[cfg(test)]
pub use super::explain_json::{render_json, render_list_json};
use super::style::{indent, table_unwrapped, wrap_with, Style};
use crate::knowledge::{
    self, About, ClientSpec, Concept, EofInfo, ErrnoInfo, LogMatch, LogPattern, ReplyCode, Source,
    Topic, TopicList, VerdictInfo, RABBITMQ_DEFAULT_HEARTBEAT_S,
};
use crate::vocab::units::secs;

const WIDTH: usize = 80;
/// A pasted line is echoed back at most this long (chars).
const ECHO_MAX_CHARS: usize = 200;

/// Human text for `topic`, recognised from `query`. `color` makes headings
/// bold (ANSI); the caller decides whether the terminal wants it.
pub fn render_human(query: &str, topic: &Topic<'_>, color: bool) -> String {
    let mut out = Out {
        text: String::new(),
        style: Style { color },
    };
    match topic {
        Topic::Log(m) => log_line(&mut out, query, m),
        other => entry(&mut out, other),
    }
    out.text
}

/// Every topic `explain` knows, a heading per kind (`explain --list`).
pub fn render_list_human(list: &TopicList, color: bool) -> String {
    let mut out = Out {
        text: String::new(),
        style: Style { color },
    };
    out.heading("Topics `amqpdoctor explain` knows");
    for (kind, topics) in list.groups() {
        out.section(list_heading(kind));
        // Titles line up after the longest name of the group.
        let width = topics
            .iter()
            .map(|t| t.topic.chars().count())
            .max()
            .unwrap_or(0);
        let rest = " ".repeat(width + 4);
        for t in topics {
            let first = format!("  {:<width$}  ", t.topic);
            wrap_into(&mut out.text, &t.title, &first, &rest);
        }
    }
    out.text
}

/// One line per kind, names comma-separated, each line indented: short
/// enough to follow an error message, complete enough to pick from.
pub fn render_list_compact(list: &TopicList) -> String {
    list.groups()
        .iter()
        .map(|(kind, topics)| {
            let names: Vec<&str> = topics.iter().map(|t| t.topic.as_str()).collect();
            format!("  {}: {}", list_label(kind), names.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The heading of a kind in the human list; says what else `explain`
/// accepts for it, since the list shows canonical names only.
fn list_heading(kind: &str) -> &'static str {
    match kind {
        "errno" => "Errno names (the number works too: 104, errno 104, [Errno 104])",
        "reply_code" => "AMQP reply codes (the name works too: CONNECTION_FORCED)",
        "client" => "Client libraries (aliases work too: pika, go; NAME@VERSION for one version)",
        "verdict" => "Verdict codes",
        "concept" => "Concepts",
        "eof" => "EOF and other",
        "log_line" => "Log lines (paste a whole line in quotes; the id is its JSON topic)",
        _ => "Other",
    }
}

/// The label of a kind in the compact list.
fn list_label(kind: &str) -> &'static str {
    match kind {
        "errno" => "errno",
        "reply_code" => "reply codes",
        "client" => "clients",
        "verdict" => "verdicts",
        "concept" => "concepts",
        "eof" => "other",
        "log_line" => "log lines (paste one)",
        _ => "other",
    }
}

// ---------------------------------------------------------------------------
// Human

struct Out {
    text: String,
    style: Style,
}

impl Out {
    fn heading(&mut self, s: &str) {
        let mut plain = String::new();
        wrap_into(&mut plain, s, "", "  ");
        for line in plain.lines() {
            self.text.push_str(&self.style.bold(line));
            self.text.push('\n');
        }
    }

    fn section(&mut self, title: &str) {
        self.text.push('\n');
        self.text.push_str(&self.style.heading(title));
        self.text.push('\n');
    }

    fn para(&mut self, s: &str) {
        wrap_into(&mut self.text, s, "  ", "  ");
    }

    fn list<S: AsRef<str>>(&mut self, items: &[S]) {
        for item in items {
            wrap_into(&mut self.text, item.as_ref(), "  - ", "    ");
        }
    }

    /// A section with a paragraph, skipped when empty.
    fn para_section(&mut self, title: &str, s: &str) {
        if !s.trim().is_empty() {
            self.section(title);
            self.para(s);
        }
    }

    /// A section with a bullet list, skipped when empty.
    fn list_section<S: AsRef<str>>(&mut self, title: &str, items: &[S]) {
        if !items.is_empty() {
            self.section(title);
            self.list(items);
        }
    }

    /// What it means, usual causes, how to confirm, what to do, sources.
    fn about(&mut self, a: &About) {
        self.para_section("What it means", &a.meaning);
        self.list_section("Usual causes", &a.causes);
        self.list_section("How to confirm with amqpdoctor", &a.confirm);
        self.list_section("What to do", &a.remedy);
        self.sources(&a.sources);
    }

    /// Where the entry's claims were read.
    fn sources(&mut self, sources: &[Source]) {
        let cites: Vec<String> = sources.iter().map(Source::cite).collect();
        self.list_section("Sources", &cites);
    }
}

/// Word-wraps `s` at [`WIDTH`] columns into `out` (the house wrapper).
fn wrap_into(out: &mut String, s: &str, first: &str, rest: &str) {
    out.push_str(&wrap_with(s, WIDTH, first, rest));
}

fn entry(out: &mut Out, topic: &Topic<'_>) {
    match topic {
        Topic::Errno(e) => errno(out, e),
        Topic::Reply(r) => reply(out, r),
        Topic::Client(c) => client(out, c),
        Topic::Verdict(v) => verdict(out, v),
        Topic::Concept(c) => concept(out, c),
        Topic::Eof => eof(out, knowledge::eof()),
        // A log pattern never points to another log pattern (tested in
        // knowledge), so there is nothing deeper to render.
        Topic::Log(m) => {
            if let Some(p) = m.pattern {
                out.para(&p.meaning);
            }
        }
    }
}

fn errno(out: &mut Out, e: &ErrnoInfo) {
    out.heading(&format!("{} (errno {}): {}", e.name, e.errno, e.text));
    out.about(&e.about);
}

fn eof(out: &mut Out, e: &EofInfo) {
    out.heading(&format!("{} ({}), not an errno", e.name, e.text));
    out.about(&e.about);
}

fn reply(out: &mut Out, r: &ReplyCode) {
    out.heading(&format!(
        "AMQP reply code {} {} ({})",
        r.code,
        r.name,
        r.class.describe()
    ));
    out.about(&r.about);
}

fn verdict(out: &mut Out, v: &VerdictInfo) {
    out.heading(&format!("verdict {}: {}", v.code.as_str(), v.title));
    out.about(&v.about);
}

fn concept(out: &mut Out, c: &Concept) {
    out.heading(&c.title);
    out.para_section("What it is", &c.meaning);
    out.list_section("How it works", &c.how_it_works);
    out.list_section("How to confirm with amqpdoctor", &c.confirm);
    out.list_section("What to do", &c.remedy);
    out.sources(&c.sources);
}

/// The example settings shown for a client: left alone, 0, 30 and 120 s.
pub(super) const EXAMPLE_REQUESTS: [Option<u16>; 4] = [None, Some(0), Some(30), Some(120)];

fn client(out: &mut Out, spec: &ClientSpec<'_>) {
    let s = RABBITMQ_DEFAULT_HEARTBEAT_S;
    let lib = spec.lib;
    let row = spec.row();
    out.heading(&format!("client library {}: {}", spec.name(), lib.name));
    if let Some(note) = spec.newer_note() {
        out.para(&format!("Note: {note}."));
    }
    versions_table(out, spec);
    out.para_section("Heartbeat setting", &row.setting);
    out.section("Negotiation");
    out.para(&format!("{}.", capitalise(row.negotiation.describe())));
    let examples: Vec<String> = client_examples(row, s)
        .iter()
        .map(|e| match e.requested_heartbeat_s {
            None => format!("left alone → {} s", e.negotiated_heartbeat_s),
            Some(r) => format!("{r} → {} s", e.negotiated_heartbeat_s),
        })
        .collect();
    out.para(&format!(
        "Against RabbitMQ's default proposal of {s} s: {}.",
        examples.join("; ")
    ));
    if let Some(why) = knowledge::why_not_honoured(&lib.id, row, s, 0) {
        out.para(&format!("{}.", capitalise(&why)));
    }
    out.para_section("Who sends heartbeats", &row.dispatch);
    out.section("Starves when idle");
    if row.starves_when_idle {
        let t = crate::vocab::Heartbeat::from_secs(s);
        out.para(&format!(
            "Yes: while the application does not pump the connection, no heartbeats go out, \
             and the broker drops it between 2T and 3T after its last byte ({}–{} at \
             T = {s} s). The next publish then fails with ECONNRESET.",
            secs(t.broker_may_drop_ms()),
            secs(t.broker_drops_by_ms())
        ));
    } else {
        out.para("No: heartbeats go out while the application is idle.");
    }
    out.list_section("What it reports when the connection dies", &row.symptoms);
    out.section("How to confirm with amqpdoctor");
    let mut confirm = vec![format!(
        "`amqpdoctor heartbeat --client {}` shows what it negotiates against your broker.",
        spec.name()
    )];
    confirm.push(if row.starves_when_idle {
        "`amqpdoctor probe --mode starved --heartbeat 2s` reproduces an unpumped connection \
         (dropped by the broker within 6 s); add `--pump-every 1s` to see the remedy work."
            .to_string()
    } else {
        "`amqpdoctor probe --mode serviced` behaves like it: a connection that still dies \
         there points at the path, not the library."
            .to_string()
    });
    out.list(&confirm);
    out.list_section("What to do", &row.remedy);
    out.sources(&row.sources);
}

/// A client's versions side by side (only when no version was pinned and
/// there is more than one).
fn versions_table(out: &mut Out, spec: &ClientSpec<'_>) {
    let s = RABBITMQ_DEFAULT_HEARTBEAT_S;
    let (lib, row) = (spec.lib, spec.row());
    if spec.pinned.is_none() && lib.versions.len() > 1 {
        out.section(&format!(
            "Across versions, against RabbitMQ's default proposal of {s} s"
        ));
        let mut rows = Vec::new();
        for v in &lib.versions {
            let mut cells = vec![
                v.label.clone(),
                v.default_heartbeat_s
                    .map_or("server's".to_string(), |d| format!("{d} s")),
            ];
            cells.extend(
                EXAMPLE_REQUESTS
                    .iter()
                    .map(|r| format!("{} s", knowledge::negotiate_for(v, s, *r))),
            );
            cells.push(if v.starves_when_idle { "yes" } else { "no" }.into());
            rows.push(cells);
        }
        let header = [
            "versions", "default", "unset", "asks 0", "asks 30", "asks 120", "starves",
        ];
        out.text
            .push_str(&indent(&table_unwrapped(&header, rows), "  "));
        out.text.push('\n');
        out.para(&format!(
            "One version: `amqpdoctor explain {}@VERSION`. Below: {} {}.",
            lib.id, lib.name, row.label
        ));
    }
}

fn log_line(out: &mut Out, query: &str, m: &LogMatch<'_>) {
    let named = named_in(m);
    match m.pattern {
        Some(p) => {
            let by = match &p.versions {
                Some(v) => format!("{}, {v}", p.printed_by),
                None => p.printed_by.clone(),
            };
            out.heading(&format!("log line: {} ({by})", p.title));
        }
        None => {
            let mut what = named.clone();
            if let Some(hit) = m.client.filter(|_| what.is_empty()) {
                what.push(hit.spec.lib.name.clone());
            }
            out.heading(&format!("pasted line naming {}", what.join(" and ")));
        }
    }
    out.para(&format!("“{}”", echo(query)));
    out.section("What was recognised");
    if let Some(p) = m.pattern {
        out.para(&p.meaning);
    }
    if let (Some(t), Some((lo, hi))) = (m.timeout_s, m.broker_window_s()) {
        out.para(&format!(
            "timeout: {t}s → T = {t} s: the broker gave up between {lo} s and {hi} s after the \
             client's last byte (2T–3T)."
        ));
    }
    if m.pattern.is_some() && !named.is_empty() {
        out.para(&format!("The line also names {}.", named.join(" and ")));
    }
    if let Some(hit) = m.client {
        out.para(&format!(
            "Printed by {} (recognised from {}).",
            hit.spec.lib.name,
            if hit.via.contains(' ') {
                hit.via.to_string()
            } else {
                format!("`{}`", hit.via)
            }
        ));
    }
    let also = other_matches(m);
    if !also.is_empty() {
        let titles: Vec<&str> = also.iter().map(|p| p.title.as_str()).collect();
        out.para(&format!("Also matches: {}.", titles.join("; ")));
    }
    if let Some(target) = m.target() {
        out.text.push('\n');
        out.para(&format!(
            "Explained by `amqpdoctor explain {}`:",
            target.name()
        ));
        out.text.push('\n');
        entry(out, &target);
    }
    if let Some(hit) = m.client_to_add() {
        let row = hit.spec.row();
        out.section(&format!(
            "Your library: {} {}",
            hit.spec.lib.name, row.label
        ));
        out.para(&format!(
            "Negotiation: {}. Who sends heartbeats: {}.",
            row.negotiation.describe(),
            row.dispatch
        ));
        out.list(&row.remedy);
        out.para(&format!(
            "More, and other versions: `amqpdoctor explain {}`.",
            hit.spec.lib.id
        ));
    }
    if let Some(p) = m.pattern {
        let cites: Vec<String> = p.sources.iter().map(Source::cite).collect();
        out.list_section("Where this line comes from", &cites);
    }
}

/// What a line names besides its pattern: "ECONNRESET (errno 104)",
/// "reply code 320 CONNECTION_FORCED".
fn named_in(m: &LogMatch<'_>) -> Vec<String> {
    let mut named = Vec::new();
    if let Some(e) = m.errno {
        named.push(format!("{} (errno {})", e.name, e.errno));
    }
    if let Some(r) = m.reply {
        named.push(format!("reply code {} {}", r.code, r.name));
    }
    named
}

/// The other matches worth naming, in table order: the first pattern of
/// each title, and none titled like the primary match. Several patterns
/// share a title because they recognise one event in different wordings
/// (Python's ConnectionResetError and the kernel's "connection reset by
/// peer" often sit in the same line), and naming it twice tells nothing new.
pub(super) fn other_matches<'a>(m: &LogMatch<'a>) -> Vec<&'a LogPattern> {
    let primary = m.pattern.map(|p| p.title.as_str());
    let mut out: Vec<&'a LogPattern> = Vec::new();
    for p in &m.also {
        if Some(p.title.as_str()) != primary && !out.iter().any(|o| o.title == p.title) {
            out.push(p);
        }
    }
    out
}

/// The pasted text, shortened and with control characters (a stray ANSI
/// escape in a copied log line) made harmless.
fn echo(query: &str) -> String {
    let mut s: String = query
        .trim()
        .chars()
        .take(ECHO_MAX_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if query.trim().chars().nth(ECHO_MAX_CHARS).is_some() {
        s.push('…');
    }
    s
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
#[path = "explain_tests.rs"]
mod tests;
