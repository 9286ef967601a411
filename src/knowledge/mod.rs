//! What amqpdoctor knows: errno values, AMQP reply codes, client libraries
//! by version, verdict codes, log lines, concepts and middleboxes, with what
//! they mean, their usual causes, how to confirm them and what to do.
//!
//! The knowledge is data: TOML files under `data/knowledge/`, compiled into
//! the binary with `include_str!` and parsed once, on first use, with serde.
//! Rust keeps the types, the lookup ([`lookup`]), the negotiation rules
//! ([`negotiate`]) and the Markdown the docs are generated from
//! ([`generated_sections`]). The tests in this module parse every file and
//! validate it: every entry carries at least one [`Source`], every pointer
//! resolves, every example line is recognised as itself.
//!
//! This is the one source of truth behind `explain`, the probe's
//! explanations, the `heartbeat` client table and docs/errors.md and
//! docs/heartbeats.md (tests/docs_drift.rs keeps the documents in step).

mod brokers;
pub(crate) mod cadence;
mod clients;
mod lookup;
mod markdown;
pub(crate) mod paste;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_clients;
#[cfg(test)]
mod tests_lines;
pub(crate) mod tls;
pub(crate) mod tls_chain;

use std::sync::LazyLock;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::vocab::VerdictCode;

pub use brokers::{brokers, Broker, BrokerRules, CloseKind, PerT, TuneOkRule};
pub use clients::{
    client, client_by_properties, client_spec, negotiate, negotiate_for, why_not_honoured,
    ClientLib, ClientSpec, ClientVersion, NegotiationRule, Signature,
};
pub use lookup::{lookup, topic_list, topic_names, ListedTopic, LogMatch, Topic, TopicList};
pub use markdown::{generated_sections, GeneratedSection, NEGOTIATION_EXAMPLES};

/// Where a claim was read or how it was measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// A repository (`pika/pika`), a document ("AMQP 0-9-1 specification",
    /// "Linux man-pages"), or `measured`.
    pub from: String,
    /// A path in it, a page's address, or for a measurement the command run.
    pub path: String,
    /// The tag, version or date read; for a measurement, what it ran against.
    pub version: String,
}

impl Source {
    /// One line for a reader: "pika/pika 1.3.2, pika/connection.py".
    pub fn cite(&self) -> String {
        if self.from == "measured" {
            format!("measured: {} ({})", self.path, self.version)
        } else {
            format!("{} {}, {}", self.from, self.version, self.path)
        }
    }
}

/// What an entry means, its usual causes, how to confirm it with
/// amqpdoctor and what to do, with where that was read. Shared by errno
/// values, EOF, reply codes and verdicts (flattened into each: the data
/// files and the JSON keep the fields at the entry's top level).
///
/// No `deny_unknown_fields` here or on the entries that flatten it (serde
/// cannot combine the two); the tests catch unknown keys instead
/// (`no_key_in_the_data_is_ignored`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct About {
    pub meaning: String,
    pub causes: Vec<String>,
    pub confirm: Vec<String>,
    pub remedy: Vec<String>,
    pub sources: Vec<Source>,
}

/// An errno the tool can meet on a broker connection (Linux numbers).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrnoInfo {
    pub errno: i32,
    pub name: String,
    /// strerror-style text, e.g. "Connection reset by peer".
    pub text: String,
    /// Lowercase texts other platforms and runtimes print for the same
    /// condition (Windows Sockets messages, Java's and Rust's wording), so a
    /// pasted line that names none of `text`, the name or the number is
    /// still read as this errno.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_printed: Vec<String>,
    /// The verdict a pasted line naming this errno is explained by, set only
    /// for an errno that says by itself what happened: one a TCP socket gets
    /// only from connect (ECONNREFUSED is an RST answering the SYN; on an
    /// open connection the same RST is ECONNRESET), so the line means the
    /// connection was never made whatever else it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_verdict: Option<VerdictCode>,
    #[serde(flatten)]
    pub about: About,
}

/// When a line that names an errno says a TCP connect failed: the errnos a
/// connect fails with, and the phrases libraries wrap them in (`dial tcp`,
/// `connect(2)`, `ConnectException`). Such a line is explained by the
/// connect_failed verdict rather than by the errno's entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectRule {
    /// Errno names (`ECONNREFUSED`).
    pub errnos: Vec<String>,
    pub context: Vec<ConnectPhrase>,
}

/// A phrase (lowercase) that says a connect failed, and where it is printed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectPhrase {
    pub says: String,
    pub source: Source,
}

/// "End of file": not an errno, but the commonest way a dead connection
/// shows itself to a reader, so `explain` treats it as a topic of its own.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EofInfo {
    pub name: String,
    pub text: String,
    #[serde(flatten)]
    pub about: About,
}

/// What a reply code does to the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyClass {
    /// 200: a normal close.
    Success,
    /// 311, 312, 313 as RabbitMQ uses them: reported with a returned
    /// message (or never sent); nothing is closed.
    NotAnError,
    /// Closes the channel (AMQP "soft-error").
    SoftError,
    /// Closes the connection (AMQP "hard-error").
    HardError,
}

impl ReplyClass {
    pub fn describe(self) -> &'static str {
        match self {
            ReplyClass::Success => "not an error: a normal close",
            ReplyClass::NotAnError => "not an error: nothing is closed",
            ReplyClass::SoftError => "soft error: closes the channel",
            ReplyClass::HardError => "hard error: closes the connection",
        }
    }
}

/// An AMQP 0-9-1 reply code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplyCode {
    pub code: u16,
    /// As brokers print it: CONNECTION_FORCED.
    pub name: String,
    /// true: closes the connection; false: closes only the channel (or,
    /// for 200/311/312/313, nothing: see `class`).
    pub hard: bool,
    pub class: ReplyClass,
    #[serde(flatten)]
    pub about: About,
}

/// What a verdict code means and what to do about it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerdictInfo {
    pub code: VerdictCode,
    /// One line, e.g. "the broker dropped a silent client".
    pub title: String,
    #[serde(flatten)]
    pub about: About,
}

/// An idea users ask about by name ("heartbeat"), explained in plain words.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Concept {
    pub id: String,
    /// Other names that find it ("heartbeats", "heartbeat timeout").
    #[serde(default)]
    pub aliases: Vec<String>,
    pub title: String,
    pub meaning: String,
    /// How it works, one point an item.
    pub how_it_works: Vec<String>,
    pub confirm: Vec<String>,
    pub remedy: Vec<String>,
    pub sources: Vec<Source>,
}

/// A line a broker, a client library or the kernel prints when a connection
/// dies, and the topic that explains it.
///
/// Matching: the line is lowercased, and a pattern matches when the line
/// contains **all** of its `needles`. The patterns are ordered from most to
/// least specific; the first match wins and the others are reported as
/// "also matched".
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogPattern {
    /// Stable id, used as the JSON `topic` for a log line.
    pub id: String,
    /// Lowercase substrings that must all occur in the line.
    pub needles: Vec<String>,
    /// Who prints it: "RabbitMQ log", "pika", "kernel (strerror)", …
    pub printed_by: String,
    /// The client library (an id) that prints it, when one does: its
    /// remedy is added to the explanation.
    #[serde(default)]
    pub client: Option<String>,
    /// The versions that print it this way, when that matters
    /// ("RabbitMQ 3.6 and later").
    #[serde(default)]
    pub versions: Option<String>,
    /// A real line of this kind (also a test case: it must match this pattern first).
    pub example: String,
    pub title: String,
    pub meaning: String,
    /// The topic that explains it: an errno name, a reply code, a client id,
    /// a verdict code or a concept (anything [`lookup`] resolves exactly),
    /// or "EOF".
    pub points_to: String,
    /// Generic wrappers (AMQPConnectionError, ConnectionClosed): when the
    /// line also names an errno or a reply code, explain that instead of
    /// `points_to`.
    #[serde(default)]
    pub refine: bool,
    pub sources: Vec<Source>,
}

/// A middlebox that ends idle TCP connections.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Middlebox {
    pub name: String,
    /// As the vendor states it, e.g. "4 min (4–100)".
    pub idle_timeout: String,
    /// The default in seconds; None when it is whatever the configuration says.
    #[serde(default)]
    pub idle_timeout_s: Option<u32>,
    /// What the two endpoints see when it forgets the flow.
    pub endpoints_see: String,
    /// The `amqpdoctor proxy --on-idle` mode closest to what the endpoints
    /// see (docs/middleboxes.md turns it into a command).
    pub on_idle: crate::vocab::proxy::OnIdle,
    /// What the proxy's mode does differently, or the mode for another
    /// configuration of the box (e.g. Azure's "TCP reset on idle").
    #[serde(default)]
    pub reproduce_note: Option<String>,
    pub sources: Vec<Source>,
}

/// One row of a measured wire timeline.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineRow {
    pub t: String,
    pub who: String,
    pub what: String,
}

/// A measured wire timeline and how it was measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasuredTimeline {
    pub title: String,
    pub rows: Vec<TimelineRow>,
    pub sources: Vec<Source>,
}

// ---------------------------------------------------------------------------
// The data files

/// The data files, by name, as compiled in (tests read them all).
pub const DATA_FILES: &[(&str, &str)] = &[
    (
        "errno.toml",
        include_str!("../../data/knowledge/errno.toml"),
    ),
    (
        "replies.toml",
        include_str!("../../data/knowledge/replies.toml"),
    ),
    (
        "brokers.toml",
        include_str!("../../data/knowledge/brokers.toml"),
    ),
    (
        "clients.toml",
        include_str!("../../data/knowledge/clients.toml"),
    ),
    (
        "verdicts.toml",
        include_str!("../../data/knowledge/verdicts.toml"),
    ),
    ("logs.toml", include_str!("../../data/knowledge/logs.toml")),
    (
        "concepts.toml",
        include_str!("../../data/knowledge/concepts.toml"),
    ),
    (
        "middleboxes.toml",
        include_str!("../../data/knowledge/middleboxes.toml"),
    ),
];

/// Parses a compiled-in data file. The files are part of the source tree
/// and the tests parse each one, so a failure here is a build that skipped
/// its tests; the message names the file and the line.
fn load<T: DeserializeOwned>(name: &str) -> T {
    let text = DATA_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, text)| text);
    toml::from_str(text).unwrap_or_else(|e| panic!("data/knowledge/{name}: {e}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrnoFile {
    errno: Vec<ErrnoInfo>,
    eof: EofInfo,
    connect: ConnectRule,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyFile {
    reply: Vec<ReplyCode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFile {
    client: Vec<ClientLib>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerdictFile {
    verdict: Vec<VerdictInfo>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogFile {
    log: Vec<LogPattern>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConceptFile {
    concept: Vec<Concept>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MiddleboxFile {
    middlebox: Vec<Middlebox>,
    starved_timeline: MeasuredTimeline,
}

static ERRNO: LazyLock<ErrnoFile> = LazyLock::new(|| load("errno.toml"));
static REPLIES: LazyLock<ReplyFile> = LazyLock::new(|| load("replies.toml"));
static CLIENTS: LazyLock<ClientFile> = LazyLock::new(|| {
    let mut file: ClientFile = load("clients.toml");
    // A library without a version row would have nothing to say; the tests
    // reject one, and dropping it here keeps `ClientLib::latest` total.
    file.client.retain(|c| !c.versions.is_empty());
    file
});
static BROKERS: LazyLock<brokers::BrokerFile> = LazyLock::new(|| load("brokers.toml"));
static VERDICTS: LazyLock<VerdictFile> = LazyLock::new(|| load("verdicts.toml"));
static LOGS: LazyLock<LogFile> = LazyLock::new(|| load("logs.toml"));
static CONCEPTS: LazyLock<ConceptFile> = LazyLock::new(|| load("concepts.toml"));
static MIDDLEBOXES: LazyLock<MiddleboxFile> = LazyLock::new(|| load("middleboxes.toml"));

pub fn errnos() -> &'static [ErrnoInfo] {
    &ERRNO.errno
}

pub fn eof() -> &'static EofInfo {
    &ERRNO.eof
}

/// The errnos and phrases of a failed connect (errno.toml `[connect]`).
pub fn connect_rule() -> &'static ConnectRule {
    &ERRNO.connect
}

pub fn replies() -> &'static [ReplyCode] {
    &REPLIES.reply
}

pub fn clients() -> &'static [ClientLib] {
    &CLIENTS.client
}

pub fn verdicts() -> &'static [VerdictInfo] {
    &VERDICTS.verdict
}

/// Ordered: most specific first (see [`LogPattern`]).
pub fn log_patterns() -> &'static [LogPattern] {
    &LOGS.log
}

pub fn concepts() -> &'static [Concept] {
    &CONCEPTS.concept
}

pub fn middleboxes() -> &'static [Middlebox] {
    &MIDDLEBOXES.middlebox
}

/// RabbitMQ 3.10.8, loopback: a starved client that negotiated T = 2 s.
pub fn starved_timeline() -> &'static MeasuredTimeline {
    &MIDDLEBOXES.starved_timeline
}

/// The verdict entry for a code.
pub fn verdict(code: VerdictCode) -> Option<&'static VerdictInfo> {
    verdicts().iter().find(|v| v.code == code)
}

pub fn errno_by_number(n: i32) -> Option<&'static ErrnoInfo> {
    errnos().iter().find(|e| e.errno == n)
}

pub fn reply_by_code(code: u16) -> Option<&'static ReplyCode> {
    replies().iter().find(|r| r.code == code)
}

// ---------------------------------------------------------------------------
// Timing constants the explanations rest on, with where they were read.

/// RabbitMQ's default heartbeat proposal in Connection.Tune
/// (rabbitmq-server, deps/rabbit/Makefile `{heartbeat, 60}`; measured here
/// against 3.10.8).
pub const RABBITMQ_DEFAULT_HEARTBEAT_S: u16 = 60;
/// RabbitMQ's heartbeats guide: "values within the 5 to 20 seconds range
/// are optimal for most environments" (rabbitmq-website, docs/heartbeats.md)…
pub const RECOMMENDED_HEARTBEAT_MIN_S: u16 = 5;
pub const RECOMMENDED_HEARTBEAT_MAX_S: u16 = 20;
/// …and values below 5 s "are fairly likely to cause false positives".
pub const FALSE_POSITIVE_BELOW_S: u16 = 5;
/// Linux TCP keepalive defaults (Documentation/networking/ip-sysctl.rst):
/// tcp_keepalive_time, idle time before the first probe…
pub const TCP_KEEPALIVE_IDLE_S: u32 = 7200;
/// …tcp_keepalive_intvl, between probes…
pub const TCP_KEEPALIVE_INTERVAL_S: u32 = 75;
/// …and tcp_keepalive_probes, unanswered before the connection is dead.
pub const TCP_KEEPALIVE_PROBES: u32 = 9;
/// About how long Linux retransmits unacknowledged data before ETIMEDOUT
/// (tcp_retries2 = 15: about 924.6 s, "between 13 and 30 minutes" for the
/// kernel documentation depending on the RTO).
pub const TCP_RETRANSMIT_GIVE_UP_S: u32 = 15 * 60;

/// Seconds until TCP keepalive with Linux defaults declares a silent peer dead.
pub const fn tcp_keepalive_detection_s() -> u32 {
    TCP_KEEPALIVE_IDLE_S + TCP_KEEPALIVE_PROBES * TCP_KEEPALIVE_INTERVAL_S
}

/// The shortest default idle timeout among the middleboxes.
pub fn smallest_middlebox() -> Option<&'static Middlebox> {
    middleboxes()
        .iter()
        .filter(|m| m.idle_timeout_s.is_some())
        .min_by_key(|m| m.idle_timeout_s)
}

/// The shortest default idle timeout among the middleboxes, in seconds.
pub fn smallest_middlebox_idle_s() -> u32 {
    smallest_middlebox()
        .and_then(|m| m.idle_timeout_s)
        .unwrap_or(240)
}

/// Warnings about a negotiated heartbeat T, in plain words; empty when T is
/// within RabbitMQ's advice and below every common middlebox idle timeout.
pub fn heartbeat_warnings(t_s: u16) -> Vec<String> {
    let mut out = Vec::new();
    if t_s == 0 {
        out.push(format!(
            "heartbeats are off: a dead peer or a middlebox that forgot the connection is only \
             noticed by TCP keepalive, after {TCP_KEEPALIVE_IDLE_S} s idle + {TCP_KEEPALIVE_PROBES} × {TCP_KEEPALIVE_INTERVAL_S} s probes (over 2 h) with Linux \
             defaults, and a publish into a silently dropped connection is lost"
        ));
        return out;
    }
    if t_s < FALSE_POSITIVE_BELOW_S {
        out.push(format!(
            "T = {t_s} s is below {FALSE_POSITIVE_BELOW_S} s: a busy host or a GC pause can \
             miss heartbeats and close healthy connections (false positives)"
        ));
    }
    let smallest = smallest_middlebox_idle_s();
    if u32::from(t_s) > smallest {
        let names: Vec<&str> = middleboxes()
            .iter()
            .filter(|m| m.idle_timeout_s == Some(smallest))
            .map(|m| m.name.as_str())
            .collect();
        out.push(format!(
            "T = {t_s} s is above the smallest common middlebox idle timeout ({smallest} s: {}): \
             behind one, the path can forget the connection between heartbeats",
            names.join(", ")
        ));
    }
    out
}
