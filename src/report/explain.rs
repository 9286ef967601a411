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

use serde::Serialize;

use super::style::{indent, table_unwrapped, wrap_with, Style};
use crate::knowledge::{
    self, About, ClientSpec, ClientVersion, Concept, EofInfo, ErrnoInfo, LogMatch, LogPattern,
    ReplyCode, Source, Topic, TopicList, VerdictInfo, RABBITMQ_DEFAULT_HEARTBEAT_S,
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

/// Exactly one JSON document (pretty, with a final newline).
pub fn render_json(query: &str, topic: &Topic<'_>) -> serde_json::Result<String> {
    let doc = Doc {
        tool: "amqpdoctor",
        version: env!("CARGO_PKG_VERSION"),
        command: "explain",
        query,
        kind: topic.kind(),
        topic: topic.name(),
        fields: fields(topic),
    };
    serde_json::to_string_pretty(&doc).map(|s| s + "\n")
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

/// `explain --list --format json`: exactly one document, the groups under
/// `list` keyed by kind.
pub fn render_list_json(list: &TopicList) -> serde_json::Result<String> {
    let doc = ListDoc {
        tool: "amqpdoctor",
        version: env!("CARGO_PKG_VERSION"),
        command: "explain",
        list,
    };
    serde_json::to_string_pretty(&doc).map(|s| s + "\n")
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
const EXAMPLE_REQUESTS: [Option<u16>; 4] = [None, Some(0), Some(30), Some(120)];

fn client(out: &mut Out, spec: &ClientSpec<'_>) {
    let s = RABBITMQ_DEFAULT_HEARTBEAT_S;
    let lib = spec.lib;
    let row = spec.row();
    out.heading(&format!("client library {}: {}", spec.name(), lib.name));
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
fn other_matches<'a>(m: &LogMatch<'a>) -> Vec<&'a LogPattern> {
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

// ---------------------------------------------------------------------------
// JSON

#[derive(Serialize)]
struct Doc<'a> {
    tool: &'static str,
    version: &'static str,
    command: &'static str,
    query: &'a str,
    kind: &'static str,
    topic: String,
    #[serde(flatten)]
    fields: Fields<'a>,
}

#[derive(Serialize)]
struct ListDoc<'a> {
    tool: &'static str,
    version: &'static str,
    command: &'static str,
    list: &'a TopicList,
}

/// The entry's own fields, flattened into the document.
#[derive(Serialize)]
#[serde(untagged)]
enum Fields<'a> {
    Errno(&'a ErrnoInfo),
    Reply(&'a ReplyCode),
    Client(ClientFields<'a>),
    Verdict(&'a VerdictInfo),
    Concept(&'a Concept),
    Eof(&'a EofInfo),
    Log(LogFields<'a>),
}

#[derive(Serialize)]
struct ClientFields<'a> {
    id: &'a str,
    name: &'a str,
    aliases: &'a [String],
    /// The label of the version row shown (the pinned one, else the newest).
    version: &'a str,
    /// Whether the user named a version (`pika@0.13`).
    pinned: bool,
    #[serde(flatten)]
    row: RowFields<'a>,
    /// Every version row, oldest first (only the pinned one when pinned).
    all_versions: Vec<RowFields<'a>>,
}

#[derive(Serialize)]
struct RowFields<'a> {
    #[serde(flatten)]
    row: &'a ClientVersion,
    negotiation_rule: &'static str,
    /// What it negotiates against RabbitMQ's default proposal.
    examples: Vec<Example>,
}

#[derive(Serialize)]
struct Example {
    server_heartbeat_s: u16,
    /// null: the library's default setting.
    requested_heartbeat_s: Option<u16>,
    negotiated_heartbeat_s: u16,
}

#[derive(Serialize)]
struct LogFields<'a> {
    /// null when no pattern matched and the line was read for what it names.
    pattern: Option<&'a str>,
    source: Option<&'a str>,
    /// The versions that print the line this way, when that matters.
    versions: Option<&'a str>,
    title: Option<&'a str>,
    meaning: Option<&'a str>,
    timeout_s: Option<u32>,
    /// [2T, 3T] in seconds, when the line states T.
    broker_gave_up_between_s: Option<[u64; 2]>,
    errno: Option<i32>,
    errno_name: Option<&'a str>,
    reply_code: Option<u16>,
    reply_name: Option<&'a str>,
    /// The library that printed the line (`id`, and what gave it away).
    client: Option<ClientHitFields<'a>>,
    also_matched: Vec<&'a str>,
    sources: &'a [Source],
    explained_by: Option<Box<Explained<'a>>>,
    /// The library's own entry, when the line is not already explained by it.
    library: Option<Box<Explained<'a>>>,
}

#[derive(Serialize)]
struct ClientHitFields<'a> {
    id: &'a str,
    via: &'a str,
}

#[derive(Serialize)]
struct Explained<'a> {
    kind: &'static str,
    topic: String,
    #[serde(flatten)]
    fields: Fields<'a>,
}

fn client_examples(row: &ClientVersion, server_s: u16) -> Vec<Example> {
    EXAMPLE_REQUESTS
        .into_iter()
        .map(|req| Example {
            server_heartbeat_s: server_s,
            requested_heartbeat_s: req,
            negotiated_heartbeat_s: knowledge::negotiate_for(row, server_s, req),
        })
        .collect()
}

fn row_fields(row: &ClientVersion) -> RowFields<'_> {
    RowFields {
        row,
        negotiation_rule: row.negotiation.describe(),
        examples: client_examples(row, RABBITMQ_DEFAULT_HEARTBEAT_S),
    }
}

fn fields<'a>(topic: &Topic<'a>) -> Fields<'a> {
    match topic {
        Topic::Errno(e) => Fields::Errno(e),
        Topic::Reply(r) => Fields::Reply(r),
        Topic::Client(c) => Fields::Client(ClientFields {
            id: &c.lib.id,
            name: &c.lib.name,
            aliases: &c.lib.aliases,
            version: &c.row().label,
            pinned: c.pinned.is_some(),
            row: row_fields(c.row()),
            all_versions: c.rows().iter().map(row_fields).collect(),
        }),
        Topic::Verdict(v) => Fields::Verdict(v),
        Topic::Concept(c) => Fields::Concept(c),
        Topic::Eof => Fields::Eof(knowledge::eof()),
        Topic::Log(m) => Fields::Log(log_fields(m)),
    }
}

fn explained<'a>(t: Topic<'a>) -> Box<Explained<'a>> {
    Box::new(Explained {
        kind: t.kind(),
        topic: t.name(),
        fields: fields(&t),
    })
}

fn log_fields<'a>(m: &LogMatch<'a>) -> LogFields<'a> {
    let p = m.pattern;
    LogFields {
        pattern: p.map(|p| p.id.as_str()),
        source: p.map(|p| p.printed_by.as_str()),
        versions: p.and_then(|p| p.versions.as_deref()),
        title: p.map(|p| p.title.as_str()),
        meaning: p.map(|p| p.meaning.as_str()),
        timeout_s: m.timeout_s,
        broker_gave_up_between_s: m.broker_window_s().map(|(lo, hi)| [lo, hi]),
        errno: m.errno.map(|e| e.errno),
        errno_name: m.errno.map(|e| e.name.as_str()),
        reply_code: m.reply.map(|r| r.code),
        reply_name: m.reply.map(|r| r.name.as_str()),
        client: m.client.map(|c| ClientHitFields {
            id: &c.spec.lib.id,
            via: c.via,
        }),
        // The same patterns the human text names, so both outputs agree.
        also_matched: other_matches(m).iter().map(|p| p.id.as_str()).collect(),
        sources: p.map_or(&[], |p| p.sources.as_slice()),
        explained_by: m.target().map(explained),
        library: m
            .client_to_add()
            .map(|hit| explained(Topic::Client(hit.spec))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::{log_patterns, lookup, topic_names};

    fn human(q: &str) -> String {
        match lookup(q) {
            Ok(t) => render_human(q, &t, false),
            Err(_) => panic!("{q} not recognised"),
        }
    }

    fn json(q: &str) -> serde_json::Value {
        let t = lookup(q).unwrap_or_else(|_| panic!("{q} not recognised"));
        let s = render_json(q, &t).unwrap_or_default();
        serde_json::from_str(&s).unwrap_or_else(|e| panic!("{q}: {e}: {s}"))
    }

    #[test]
    fn errno_sections() {
        let out = human("104");
        assert!(
            out.starts_with("ECONNRESET (errno 104): Connection reset by peer\n"),
            "{out}"
        );
        for s in [
            "What it means",
            "Usual causes",
            "How to confirm with amqpdoctor",
            "What to do",
        ] {
            assert!(out.contains(&format!("\n{s}\n")), "missing {s}:\n{out}");
        }
        assert!(out.contains("amqpdoctor probe --mode starved"), "{out}");
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn lines_fit_in_80_columns() {
        for name in topic_names() {
            for line in human(&name).lines() {
                // Only a single word too long for any line may overflow.
                let body = line.trim_start().trim_start_matches("- ");
                assert!(
                    line.chars().count() <= WIDTH || !body.contains(' '),
                    "{name}: {line}"
                );
            }
        }
    }

    #[test]
    fn client_page() {
        let out = human("pika-blocking");
        for s in [
            "client library pika-blocking",
            "Heartbeat setting",
            "Negotiation",
            "Who sends heartbeats",
            "Starves when idle",
            "  Yes:",
            "What to do",
            "process_data_events(time_limit=0)",
            "Source",
            "left alone → 60 s",
            "120 → 120 s",
        ] {
            assert!(out.contains(s), "missing {s:?}:\n{out}");
        }
        let lapin = human("lapin");
        assert!(lapin.contains("0 → 60 s"), "{lapin}");
        assert!(lapin.contains("cannot disable heartbeats"), "{lapin}");
        assert!(lapin.contains("  No:"), "{lapin}");
    }

    #[test]
    fn log_line_page() {
        let q = "2023-04-13 08:39:18 [error] <0.919.0> missed heartbeats from client, timeout: 60s";
        let out = human(q);
        assert!(
            out.starts_with("log line: the broker dropped a client that went silent"),
            "{out}"
        );
        assert!(out.contains("between 120 s and 180 s"), "{out}");
        assert!(
            out.contains("Explained by `amqpdoctor explain broker_heartbeat_timeout`"),
            "{out}"
        );
        assert!(out.contains("verdict broker_heartbeat_timeout"), "{out}");
        let out = human("StreamLostError: ConnectionResetError(104, 'Connection reset by peer')");
        assert!(out.contains("ECONNRESET (errno 104)"), "{out}");
    }

    #[test]
    fn other_matches_are_named_once() {
        // pika_stream_lost_reset first; pika_stream_lost, python_connection_reset
        // and connection_reset also match, the last two titled alike.
        let q = "StreamLostError: (\"Stream connection lost: ConnectionResetError(104, \
                 'Connection reset by peer')\",)";
        let out = human(q);
        assert!(
            out.contains("Also matches: pika lost the TCP connection; the connection was reset.\n"),
            "{out}"
        );
        let v = json(q);
        assert_eq!(
            v["also_matched"],
            serde_json::json!(["pika_stream_lost", "python_connection_reset"])
        );
        // The primary's own title is not repeated as another match.
        let q = "ConnectionResetError: [Errno 104] Connection reset by peer";
        let out = human(q);
        assert!(
            out.starts_with("log line: the connection was reset"),
            "{out}"
        );
        assert!(!out.contains("Also matches"), "{out}");
        assert_eq!(json(q)["also_matched"], serde_json::json!([]));
    }

    #[test]
    fn list_has_a_heading_per_kind_and_every_topic() {
        let list = knowledge::topic_list();
        let out = render_list_human(&list, false);
        assert!(
            out.starts_with("Topics `amqpdoctor explain` knows\n"),
            "{out}"
        );
        for (kind, topics) in list.groups() {
            assert!(
                out.contains(&format!("\n\n{}\n", list_heading(kind))),
                "{kind}"
            );
            for t in topics {
                let starts = format!("\n  {} ", t.topic);
                assert!(out.contains(&starts), "{kind} {}:\n{out}", t.topic);
            }
        }
        assert!(out.contains("\n  ECONNRESET     errno 104: Connection reset by peer\n"));
        for line in out.lines() {
            assert!(line.chars().count() <= WIDTH, "{line}");
        }
        assert!(!out.contains('\x1b'));
        assert!(render_list_human(&list, true).contains("\x1b[1m"));
    }

    #[test]
    fn list_json_is_one_document() {
        let list = knowledge::topic_list();
        let s = render_list_json(&list).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap_or_default();
        assert_eq!(v["tool"], "amqpdoctor");
        assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["command"], "explain");
        for (kind, topics) in list.groups() {
            assert_eq!(
                v["list"][kind].as_array().map(Vec::len),
                Some(topics.len()),
                "{kind}"
            );
        }
        assert_eq!(v["list"]["errno"][0]["topic"], "ECONNRESET");
        assert_eq!(v["list"]["eof"][0]["topic"], "EOF");
        assert!(v["list"]["log_line"][0]["example"].is_string());
    }

    #[test]
    fn compact_list_is_a_line_per_kind() {
        let list = knowledge::topic_list();
        let out = render_list_compact(&list);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), list.groups().len(), "{out}");
        assert!(
            lines[0].starts_with("  errno: ECONNRESET, EPIPE, "),
            "{out}"
        );
        assert!(out.contains("\n  reply codes: 200, 311, "), "{out}");
        assert!(out.contains("pika-blocking, "), "{out}");
        assert!(out.contains("broker_heartbeat_timeout"), "{out}");
        assert!(out.contains("\n  other: EOF\n"), "{out}");
        assert!(out.contains("rabbitmq_missed_heartbeats"), "{out}");
        assert!(!out.ends_with('\n'));
    }

    #[test]
    fn colour_only_when_asked() {
        let t = lookup("320").unwrap_or(Topic::Eof);
        assert!(render_human("320", &t, true).contains("\x1b[1m"));
        assert!(!render_human("320", &t, false).contains('\x1b'));
    }

    #[test]
    fn echo_is_short_and_harmless() {
        let line = format!("\x1b[31mStreamLostError{}", "x".repeat(1000));
        let out = human(&line);
        assert!(!out.contains('\x1b'));
        assert!(out.contains('…'));
    }

    #[test]
    fn json_documents() {
        let v = json("ECONNRESET");
        assert_eq!(v["tool"], "amqpdoctor");
        assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["command"], "explain");
        assert_eq!(v["query"], "ECONNRESET");
        assert_eq!(v["kind"], "errno");
        assert_eq!(v["topic"], "ECONNRESET");
        assert_eq!(v["errno"], 104);
        assert!(v["causes"].is_array());

        let v = json("320");
        assert_eq!(
            (v["kind"].as_str(), v["topic"].as_str()),
            (Some("reply_code"), Some("320"))
        );
        assert_eq!(v["name"], "CONNECTION_FORCED");
        assert_eq!(v["hard"], true);
        assert_eq!(v["class"], "hard_error");

        let v = json("java");
        assert_eq!(v["kind"], "client");
        assert_eq!(v["negotiation"], "zero_means_other_else_min");
        assert_eq!(v["starves_when_idle"], false);
        assert_eq!(v["examples"][1]["requested_heartbeat_s"], 0);
        assert_eq!(v["examples"][1]["negotiated_heartbeat_s"], 60);

        let v = json("peer_reset");
        assert_eq!(
            (v["kind"].as_str(), v["code"].as_str()),
            (Some("verdict"), Some("peer_reset"))
        );

        let v = json("EOF");
        assert_eq!(v["kind"], "eof");

        let v = json("missed heartbeats from client, timeout: 60s");
        assert_eq!(v["kind"], "log_line");
        assert_eq!(v["topic"], "rabbitmq_missed_heartbeats");
        assert_eq!(v["timeout_s"], 60);
        assert_eq!(v["broker_gave_up_between_s"], serde_json::json!([120, 180]));
        assert_eq!(v["explained_by"]["kind"], "verdict");
        assert_eq!(v["explained_by"]["topic"], "broker_heartbeat_timeout");
        assert!(v["explained_by"]["remedy"].is_array());
    }

    #[test]
    fn every_topic_renders_both_ways() {
        let mut queries = topic_names();
        queries.extend(log_patterns().iter().map(|p| p.example.clone()));
        for q in queries {
            let out = human(&q);
            assert!(
                out.contains("\nWhat to do\n") || out.contains("\nWhat it means\n"),
                "{q}:\n{out}"
            );
            let v = json(&q);
            assert!(v["kind"].is_string() && v["topic"].is_string(), "{q}");
        }
    }
}
