//! `explain --format json`: the document for a [`Topic`] (its entry's own
//! fields flattened in, a log line with what explains it nested) and for
//! `explain --list`. Pure, like the human renderer in [`super::explain`].

use serde::Serialize;

use super::explain::{other_matches, EXAMPLE_REQUESTS};
use super::explain_paste::{json_fields, PasteFields};
use crate::knowledge::paste::PasteReading;
use crate::knowledge::{
    self, ClientVersion, Concept, EofInfo, ErrnoInfo, LogMatch, ReplyCode, Source, Topic,
    TopicList, VerdictInfo, RABBITMQ_DEFAULT_HEARTBEAT_S,
};

/// Exactly one JSON document (pretty, with a final newline).
#[cfg(test)]
pub fn render_json(query: &str, topic: &Topic<'_>) -> serde_json::Result<String> {
    render_json_paste(query, topic, None)
}

/// The same document for `explain -`: `query` is the chosen line, and a
/// `paste` object adds what was read and every line used.
pub fn render_json_paste(
    query: &str,
    topic: &Topic<'_>,
    paste: Option<&PasteReading>,
) -> serde_json::Result<String> {
    let doc = Doc {
        tool: "amqpdoctor",
        version: env!("CARGO_PKG_VERSION"),
        command: "explain",
        query,
        kind: topic.kind(),
        topic: topic.name(),
        fields: fields(topic),
        paste: paste.map(json_fields),
    };
    serde_json::to_string_pretty(&doc).map(|s| s + "\n")
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
    /// `explain -` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    paste: Option<PasteFields<'a>>,
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
pub(super) struct Example {
    server_heartbeat_s: u16,
    /// null: the library's default setting.
    pub(super) requested_heartbeat_s: Option<u16>,
    pub(super) negotiated_heartbeat_s: u16,
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

pub(super) fn client_examples(row: &ClientVersion, server_s: u16) -> Vec<Example> {
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

fn explained(t: Topic<'_>) -> Box<Explained<'_>> {
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
