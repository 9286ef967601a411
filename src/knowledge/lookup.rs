//! What `explain` recognises in what the user typed or pasted: a topic by
//! name or number, or a log line, read for what it contains (a known
//! pattern, an errno, a reply code, the library that printed it).

use serde::Serialize;
use strum::VariantArray;

use super::clients::{client, client_spec, ClientSpec};
use super::{
    clients, concepts, connect_rule, eof, errno_by_number, errnos, log_patterns, replies,
    reply_by_code, verdicts, Concept, ErrnoInfo, LogPattern, ReplyCode, VerdictInfo,
};
use crate::vocab::VerdictCode;

/// What `explain` recognised.
#[derive(Debug, Clone)]
pub enum Topic<'a> {
    Errno(&'a ErrnoInfo),
    Reply(&'a ReplyCode),
    Client(ClientSpec<'a>),
    Verdict(&'a VerdictInfo),
    Concept(&'a Concept),
    /// A pasted line, read for what it contains.
    Log(LogMatch<'a>),
    /// A read returned 0: see [`super::eof`].
    Eof,
}

impl Topic<'_> {
    /// The JSON `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Topic::Errno(_) => "errno",
            Topic::Reply(_) => "reply_code",
            Topic::Client(_) => "client",
            Topic::Verdict(_) => "verdict",
            Topic::Concept(_) => "concept",
            Topic::Log(_) => "log_line",
            Topic::Eof => "eof",
        }
    }

    /// The canonical name, which [`lookup`] resolves back to this topic
    /// (for a log line: the pattern id, or when no pattern matched, the
    /// name of what explains it).
    pub fn name(&self) -> String {
        match self {
            Topic::Errno(e) => e.name.clone(),
            Topic::Reply(r) => r.code.to_string(),
            Topic::Client(c) => c.name(),
            Topic::Verdict(v) => v.code.as_str().to_string(),
            Topic::Concept(c) => c.id.clone(),
            Topic::Log(m) => match (m.pattern, m.target()) {
                (Some(p), _) => p.id.clone(),
                (None, Some(t)) => t.name(),
                (None, None) => String::new(),
            },
            Topic::Eof => eof().name.clone(),
        }
    }
}

/// The library a pasted line came from, and how it was told.
#[derive(Debug, Clone, Copy)]
pub struct ClientHit<'a> {
    pub spec: ClientSpec<'a>,
    /// What in the line named it: a logger name, a namespace, or the pattern.
    pub via: &'a str,
}

/// A pasted line and what was recognised in it.
#[derive(Debug, Clone)]
pub struct LogMatch<'a> {
    /// The first matching pattern (the most specific), if any matched.
    pub pattern: Option<&'a LogPattern>,
    /// Other patterns that also matched, in table order.
    pub also: Vec<&'a LogPattern>,
    /// The heartbeat timeout T the line states (`timeout: 60s`).
    pub timeout_s: Option<u32>,
    /// An errno named in the line (by name, number or strerror text).
    pub errno: Option<&'a ErrnoInfo>,
    /// A reply code named in the line.
    pub reply: Option<&'a ReplyCode>,
    /// The client library that printed it.
    pub client: Option<ClientHit<'a>>,
    /// The line says a TCP connect failed (`dial tcp`, `connect(2)`, …:
    /// errno.toml `[connect]`).
    pub connect_context: bool,
}

impl<'a> LogMatch<'a> {
    /// The topic that explains the line: the pattern's (or, for a generic
    /// pattern, the errno or reply code the line names); with no pattern,
    /// the reply code, the errno, or the library, in that order.
    ///
    /// An errno a connect fails with, in a line that says a connect failed,
    /// is explained by the connect_failed verdict instead of its entry.
    pub fn target(&self) -> Option<Topic<'a>> {
        match self.topic() {
            Some(Topic::Errno(e)) if self.connect_context && is_connect_errno(e) => {
                super::verdict(VerdictCode::ConnectFailed)
                    .map(Topic::Verdict)
                    .or(Some(Topic::Errno(e)))
            }
            t => t,
        }
    }

    /// [`Self::target`] before the connect rule.
    fn topic(&self) -> Option<Topic<'a>> {
        let named = || {
            self.reply
                .map(Topic::Reply)
                .or_else(|| self.errno.map(Topic::Errno))
        };
        let target = match self.pattern {
            Some(p) if p.refine => named().or_else(|| exact(&p.points_to)),
            Some(p) => exact(&p.points_to),
            None => named().or_else(|| self.client.map(|c| Topic::Client(c.spec))),
        };
        target.map(errno_reading)
    }

    /// Seconds after the client's last byte within which the broker gave up,
    /// when the line states T.
    pub fn broker_window_s(&self) -> Option<(u64, u64)> {
        self.timeout_s.map(|t| (2 * u64::from(t), 3 * u64::from(t)))
    }

    /// The library to add a remedy for: the one that printed the line,
    /// unless the line is already explained by that library's entry.
    pub fn client_to_add(&self) -> Option<ClientHit<'a>> {
        let hit = self.client?;
        match self.target() {
            Some(Topic::Client(c)) if c.lib.id == hit.spec.lib.id => None,
            _ => Some(hit),
        }
    }
}

/// An errno that says by itself what happened on a pasted line (its
/// `line_verdict`: ECONNREFUSED → connect_failed) is explained by that
/// verdict; the line's own fields still name the errno.
fn errno_reading(t: Topic<'_>) -> Topic<'_> {
    match t {
        Topic::Errno(e) => e
            .line_verdict
            .and_then(super::verdict)
            .map_or(Topic::Errno(e), Topic::Verdict),
        other => other,
    }
}

/// How much of the query the "did you mean" search looks at: edit distance
/// on a pasted 10 kB line would be slow and meaningless.
const SUGGEST_MAX_CHARS: usize = 40;

/// Recognises a topic: an errno (104, ECONNRESET, errno 104), a reply code
/// (320, CONNECTION_FORCED, connection-forced), a client id or alias (with
/// an optional `@version`), a verdict code, a concept (heartbeat), EOF, or a
/// pasted log line. On failure, returns up to five nearest known topic
/// names.
pub fn lookup(query: &str) -> Result<Topic<'static>, Vec<String>> {
    let q = query.trim();
    if q.is_empty() {
        return Err([
            "ECONNRESET",
            "320",
            "pika-blocking",
            "broker_heartbeat_timeout",
            "heartbeat",
        ]
        .map(String::from)
        .to_vec());
    }
    if let Some(t) = exact(q) {
        return Ok(t);
    }
    let lower = q.to_lowercase();
    if let Some(m) = recognise(&lower) {
        return Ok(Topic::Log(m));
    }
    Err(suggest(&lower))
}

/// Every string one of which a line must contain for [`recognise`] to
/// find anything in it: a needle of each pattern, each errno's name, text,
/// other spellings and exception class, the words that introduce an errno
/// or reply number, each reply name (both spellings), each logger name.
fn triggers() -> Vec<String> {
    let mut t: Vec<String> = Vec::new();
    t.extend(
        log_patterns()
            .iter()
            .filter_map(|p| p.needles.first().cloned()),
    );
    for e in errnos() {
        t.push(e.name.to_lowercase());
        t.push(e.text.to_lowercase());
        t.extend(e.also_printed.iter().cloned());
    }
    t.extend(ERRNO_EXCEPTIONS.iter().map(|(exc, _)| exc.to_string()));
    t.extend(ERRNO_KEYS.iter().map(|k| k.to_string()));
    t.extend(REPLY_KEYS.iter().map(|k| k.to_string()));
    for r in replies() {
        let name = r.name.to_lowercase();
        t.push(name.replace('_', "-"));
        t.push(name);
    }
    for lib in clients() {
        t.extend(lib.loggers.iter().cloned());
    }
    t.retain(|s| !s.is_empty());
    t
}

/// Whether a lowercased line may name anything: one pass over the line
/// (Aho–Corasick), so that a long paste of unrelated lines is cheap. Never
/// false for a line [`recognise`] would read (tested).
pub(super) fn worth_reading(lower: &str) -> bool {
    static ANY: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::new(triggers()).expect("the triggers are plain strings")
    });
    ANY.is_match(lower)
}

/// Reads a lowercased line for everything it names; None when it names
/// nothing amqpdoctor knows.
pub(super) fn recognise(lower: &str) -> Option<LogMatch<'static>> {
    let matches: Vec<&'static LogPattern> = log_patterns()
        .iter()
        .filter(|p| p.needles.iter().all(|n| lower.contains(n.as_str())))
        .collect();
    let (pattern, also) = match matches.split_first() {
        Some((first, rest)) => (Some(*first), rest.to_vec()),
        None => (None, Vec::new()),
    };
    let errno = extract_errno(lower);
    let reply = extract_reply(lower);
    let client = pattern
        .and_then(|p| p.client.as_deref())
        .and_then(|spec| client_spec(spec).ok())
        .map(|spec| ClientHit {
            spec,
            via: "the line's wording",
        })
        .or_else(|| logger_client(lower));
    if pattern.is_none() && errno.is_none() && reply.is_none() && client.is_none() {
        return None;
    }
    let timeout_s = if pattern.is_some_and(|p| p.points_to == "broker_heartbeat_timeout") {
        number_after(lower, "timeout:")
    } else {
        None
    };
    Some(LogMatch {
        pattern,
        also,
        timeout_s,
        errno,
        reply,
        client,
        connect_context: says_connect(lower),
    })
}

/// Whether a lowercased line says a TCP connect failed.
fn says_connect(lower: &str) -> bool {
    connect_rule()
        .context
        .iter()
        .any(|p| lower.contains(p.says.as_str()))
}

/// Whether a connect can fail with this errno (errno.toml `[connect]`).
fn is_connect_errno(e: &ErrnoInfo) -> bool {
    connect_rule().errnos.contains(&e.name)
}

/// The library whose logger name, namespace or package path occurs in the
/// line; the longest such name wins (`pika.adapters.blocking_connection`
/// over `pika.`).
fn logger_client(lower: &str) -> Option<ClientHit<'static>> {
    clients()
        .iter()
        .flat_map(|lib| lib.loggers.iter().map(move |l| (lib, l)))
        .filter(|(_, l)| lower.contains(l.as_str()))
        .max_by_key(|(_, l)| l.len())
        .map(|(lib, l)| ClientHit {
            spec: ClientSpec::unpinned(lib),
            via: l.as_str(),
        })
}

/// Every canonical topic name `explain` knows (log patterns aside).
pub fn topic_names() -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    names.extend(errnos().iter().map(|e| e.name.clone()));
    names.extend(errnos().iter().map(|e| e.errno.to_string()));
    names.push(eof().name.clone());
    names.extend(replies().iter().map(|r| r.code.to_string()));
    names.extend(replies().iter().map(|r| r.name.clone()));
    names.extend(clients().iter().map(|c| c.id.clone()));
    names.extend(VerdictCode::VARIANTS.iter().map(|v| v.as_str().to_string()));
    names.extend(concepts().iter().map(|c| c.id.clone()));
    names
}

/// One topic in `explain --list`.
#[derive(Debug, Clone, Serialize)]
pub struct ListedTopic {
    /// What `explain` takes: the canonical name. For a log line, the pattern
    /// id (its JSON `topic`); `explain` wants the line itself, see `example`.
    pub topic: String,
    /// One line saying what it is.
    pub title: String,
    /// Log lines only: who prints such a line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Log lines only: a real line of this kind, to paste.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// Every topic `explain` knows, by kind. The field names are the JSON
/// `kind` values of their topics, so a script can go from the list to an
/// `explain --format json` document and back.
#[derive(Debug, Clone, Serialize)]
pub struct TopicList {
    pub errno: Vec<ListedTopic>,
    pub reply_code: Vec<ListedTopic>,
    pub client: Vec<ListedTopic>,
    pub verdict: Vec<ListedTopic>,
    pub concept: Vec<ListedTopic>,
    pub eof: Vec<ListedTopic>,
    pub log_line: Vec<ListedTopic>,
}

impl TopicList {
    /// The groups in display order, each with its kind.
    pub fn groups(&self) -> [(&'static str, &[ListedTopic]); 7] {
        [
            ("errno", &self.errno),
            ("reply_code", &self.reply_code),
            ("client", &self.client),
            ("verdict", &self.verdict),
            ("concept", &self.concept),
            ("eof", &self.eof),
            ("log_line", &self.log_line),
        ]
    }
}

/// The topics behind `explain --list`, in table order. Unlike
/// [`topic_names`] it names each entry once (ECONNRESET, not also 104) and
/// includes the log patterns.
pub fn topic_list() -> TopicList {
    let listed = |topic: String, title: String| ListedTopic {
        topic,
        title,
        source: None,
        example: None,
    };
    TopicList {
        errno: errnos()
            .iter()
            .map(|e| listed(e.name.clone(), format!("errno {}: {}", e.errno, e.text)))
            .collect(),
        reply_code: replies()
            .iter()
            .map(|r| {
                let title = format!("{}, {}", r.name, r.class.describe());
                listed(r.code.to_string(), title)
            })
            .collect(),
        client: clients()
            .iter()
            .map(|c| {
                let versions: Vec<&str> = c.versions.iter().map(|v| v.label.as_str()).collect();
                let title = format!("{} (versions: {})", c.name, versions.join(", "));
                listed(c.id.clone(), title)
            })
            .collect(),
        // Every VerdictCode rather than the data: a code without an entry
        // is still a topic (lookup would suggest it), so it must be listed.
        verdict: VerdictCode::VARIANTS
            .iter()
            .map(|&code| {
                let title = super::verdict(code).map_or("", |v| v.title.as_str());
                listed(code.as_str().into(), title.into())
            })
            .collect(),
        concept: concepts()
            .iter()
            .map(|c| listed(c.id.clone(), c.title.clone()))
            .collect(),
        eof: vec![listed(eof().name.clone(), eof().text.clone())],
        log_line: log_patterns()
            .iter()
            .map(|p| ListedTopic {
                topic: p.id.clone(),
                title: p.title.clone(),
                source: Some(p.printed_by.clone()),
                example: Some(p.example.clone()),
            })
            .collect(),
    }
}

/// Whole-query matches: names and numbers, no substring search.
fn exact(q: &str) -> Option<Topic<'static>> {
    let lower = q.trim().to_lowercase();
    if lower.is_empty() {
        return None;
    }
    if let Some(e) = errno_number(&lower).and_then(errno_by_number) {
        return Some(Topic::Errno(e));
    }
    if let Some(r) = reply_number(&lower).and_then(reply_by_code) {
        return Some(Topic::Reply(r));
    }
    let alpha = lower.chars().all(|c| c.is_ascii_alphabetic());
    if let Some(e) = errnos().iter().find(|e| {
        let name = e.name.to_ascii_lowercase();
        name == lower || (alpha && lower.len() >= 4 && name.strip_prefix('e') == Some(&lower))
    }) {
        return Some(Topic::Errno(e));
    }
    if EOF_NAMES.contains(&lower.as_str()) {
        return Some(Topic::Eof);
    }
    let snake = lower.replace(['-', ' '], "_");
    if let Some(r) = replies()
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(&snake))
    {
        return Some(Topic::Reply(r));
    }
    if let Some(c) = concepts().iter().find(|c| {
        c.id == lower || c.id == snake || c.aliases.iter().any(|a| *a == lower || *a == snake)
    }) {
        return Some(Topic::Concept(c));
    }
    if lower.contains('@') {
        if let Ok(spec) = client_spec(&lower) {
            return Some(Topic::Client(spec));
        }
    } else if let Some(lib) = client(&lower) {
        return Some(Topic::Client(ClientSpec::unpinned(lib)));
    }
    verdicts()
        .iter()
        .find(|v| v.code.as_str() == snake)
        .map(Topic::Verdict)
}

const EOF_NAMES: &[&str] = &[
    "eof",
    "end of file",
    "end-of-file",
    "unexpected eof",
    "unexpectedeof",
    "unexpected end of file",
    "read returned 0",
];

/// Words that introduce an errno number: `errno 104`, `[Errno 104]`,
/// `os error 104` (Rust), `Socket Error: 104` (pika 0.x), `error 104`.
const ERRNO_KEYS: &[&str] = &["errno", "os error", "socket error", "error"];

/// "104", "-104" (a negated errno, as syscalls return it), "errno 104",
/// "errno=104", "[errno 104]", "os error 104", "socket error: 104".
fn errno_number(lower: &str) -> Option<i32> {
    let s = lower.trim_matches(|c: char| "[]() ".contains(c));
    let s = ERRNO_KEYS
        .iter()
        .find_map(|p| s.strip_prefix(p))
        .unwrap_or(s);
    let s = s.trim_start_matches([' ', '=', ':', '#']);
    let s = s.strip_prefix('-').unwrap_or(s);
    small_number(s).and_then(|n| i32::try_from(n).ok())
}

/// "320", "reply code 320", "reply_code=320".
fn reply_number(lower: &str) -> Option<u16> {
    let s = ["reply code", "reply-code", "reply_code", "code"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .unwrap_or(lower);
    let s = s.trim_start_matches([' ', '=', ':', '#']);
    small_number(s).and_then(|n| u16::try_from(n).ok())
}

/// A string of 1–6 ASCII digits and nothing else.
fn small_number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The number right after `key` (skipping a few separators), at its first
/// occurrence that has one. `key` is ASCII, so slicing after it stays on a
/// char boundary.
fn number_after(lower: &str, key: &str) -> Option<u32> {
    lower.match_indices(key).find_map(|(i, _)| {
        let rest = lower[i + key.len()..].trim_start_matches([' ', '=', ':', '#', '(', '[']);
        let digits: String = rest
            .chars()
            .take_while(char::is_ascii_digit)
            .take(7)
            .collect();
        small_number(&digits)
    })
}

/// Exception classes named after an errno (Python's).
const ERRNO_EXCEPTIONS: &[(&str, &str)] = &[
    ("connectionreseterror", "ECONNRESET"),
    ("brokenpipeerror", "EPIPE"),
    ("connectionrefusederror", "ECONNREFUSED"),
    ("connectionabortederror", "ECONNABORTED"),
];

fn words(lower: &str) -> impl Iterator<Item = &str> {
    lower
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

fn extract_errno(lower: &str) -> Option<&'static ErrnoInfo> {
    let by_name =
        || words(lower).find_map(|w| errnos().iter().find(|e| e.name.eq_ignore_ascii_case(w)));
    let by_number = || {
        ERRNO_KEYS
            .iter()
            .filter_map(|k| number_after(lower, k))
            .find_map(|n| i32::try_from(n).ok().and_then(errno_by_number))
    };
    let by_text = || {
        errnos().iter().find(|e| {
            lower.contains(&e.text.to_lowercase())
                || e.also_printed.iter().any(|t| lower.contains(t.as_str()))
        })
    };
    let by_exception = || {
        ERRNO_EXCEPTIONS
            .iter()
            .find(|(exc, _)| lower.contains(exc))
            .and_then(|(_, name)| errnos().iter().find(|e| e.name == *name))
    };
    by_name()
        .or_else(by_number)
        .or_else(by_text)
        .or_else(by_exception)
}

/// Words a reply code number follows.
const REPLY_KEYS: &[&str] = &[
    "reply-code",
    "reply_code",
    "reply code",
    "exception (",
    "by server:",
    "connection closed:",
];

fn extract_reply(lower: &str) -> Option<&'static ReplyCode> {
    // amqplib spells the names with hyphens: `403 (ACCESS-REFUSED)`.
    let snake = lower.replace('-', "_");
    let by_name =
        || words(&snake).find_map(|w| replies().iter().find(|r| r.name.eq_ignore_ascii_case(w)));
    let by_number = || {
        REPLY_KEYS
            .iter()
            .filter_map(|k| number_after(lower, k))
            .find_map(|n| u16::try_from(n).ok().and_then(reply_by_code))
    };
    by_name().or_else(by_number)
}

/// Up to five known names nearest to `lower` (edit distance, prefixes
/// first); numbers are compared with numbers and names with names. The
/// distance is Damerau–Levenshtein over chars: swapping two neighbours
/// ("140" for 104) is the commonest typo and counts as one edit.
fn suggest(lower: &str) -> Vec<String> {
    let q: String = lower.trim().chars().take(SUGGEST_MAX_CHARS).collect();
    let numeric = !q.is_empty() && q.chars().all(|c| c.is_ascii_digit());
    // Aliases count as spellings of their entry, so "pikka" finds pika-blocking.
    let aliases = clients()
        .iter()
        .flat_map(|c| c.aliases.iter().map(move |a| (a.clone(), c.id.clone())))
        .chain(
            concepts()
                .iter()
                .flat_map(|c| c.aliases.iter().map(move |a| (a.clone(), c.id.clone()))),
        );
    let spellings = topic_names()
        .into_iter()
        .map(|n| (n.to_lowercase(), n))
        .chain(aliases);
    let mut scored: Vec<(usize, String)> = spellings
        .filter(|(_, n)| n.chars().all(|c| c.is_ascii_digit()) == numeric)
        .map(|(spelling, n)| {
            let d = if !q.is_empty() && (spelling.starts_with(&q) || q.starts_with(&spelling)) {
                0
            } else {
                strsim::damerau_levenshtein(&q, &spelling)
            };
            (d, n)
        })
        .collect();
    scored.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, n) in scored {
        if !out.contains(&n) {
            out.push(n);
        }
        if out.len() == 5 {
            break;
        }
    }
    out
}

#[cfg(test)]
pub(super) fn exact_for_tests(q: &str) -> Option<Topic<'static>> {
    exact(q)
}
