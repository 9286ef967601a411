//! Pure tables: errno values, AMQP reply codes, client libraries, verdict
//! codes and log lines, with what they mean, their usual causes in the field,
//! how to confirm them with amqpdoctor and what to do.
//!
//! This is the one source of truth behind `explain`, the probe's
//! explanations, the `heartbeat` client table and docs/errors.md and
//! docs/heartbeats.md (a test fails when the docs miss an entry).

use serde::Serialize;

/// An errno the tool can meet on a broker connection.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ErrnoInfo {
    pub errno: i32,
    pub name: &'static str,
    /// strerror-style text, e.g. "Connection reset by peer".
    pub text: &'static str,
    pub meaning: &'static str,
    pub causes: &'static str,
    pub confirm: &'static str,
    pub remedy: &'static str,
}

/// An AMQP 0-9-1 reply code (amqp0-9-1.xml).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ReplyCode {
    pub code: u16,
    /// As brokers print it: CONNECTION_FORCED.
    pub name: &'static str,
    /// true: closes the connection; false: closes only the channel.
    pub hard: bool,
    pub meaning: &'static str,
    pub causes: &'static str,
    pub confirm: &'static str,
    pub remedy: &'static str,
}

/// How a client library turns the server's proposal S and its own setting C
/// into the heartbeat it sends in Tune-Ok.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Negotiation {
    /// C = 0 → 0; else min(C, S) (S = 0 → C).
    ZeroDisablesElseMin,
    /// The client's value is sent as it is.
    ClientWins,
    /// Either side 0 → the other's value; else min(C, S).
    ZeroMeansOtherElseMin,
    /// lapin: C = 0 → S; else min(C, S) when S > 0 (cannot disable when S > 0).
    ZeroAcceptsServerElseMin,
}

/// A client library and how it negotiates and dispatches heartbeats.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ClientLib {
    /// The topic name for `explain` and `--client`: pika-blocking, lapin, …
    pub id: &'static str,
    pub name: &'static str,
    /// The setting and its default, e.g. "heartbeat (default: server's value)".
    pub setting: &'static str,
    /// The client's heartbeat setting when the user leaves it alone;
    /// None = accept the server's proposal.
    pub default_heartbeat_s: Option<u16>,
    pub negotiation: Negotiation,
    /// Who sends its heartbeats, in plain words.
    pub dispatch: &'static str,
    /// true when heartbeats stop as soon as the application stops pumping I/O.
    pub starves_when_idle: bool,
    pub remedy: &'static str,
    /// Where this was read (library source or docs).
    pub source: &'static str,
}

/// Placeholder table until the full knowledge base lands (merged from the
/// knowledge branch).
pub static REPLY_CODES: &[ReplyCode] = &[];

/// The entry for a reply code.
pub fn reply_code(code: u16) -> Option<&'static ReplyCode> {
    REPLY_CODES.iter().find(|r| r.code == code)
}
