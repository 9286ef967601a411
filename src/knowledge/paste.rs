//! `explain -`: a whole paste (a traceback, a log excerpt, a Java stack
//! trace with its `Caused by:` chain) read line by line, every line the
//! knowledge base recognises kept as a candidate, and one diagnosis chosen
//! by weighing them ([`Weight`]).
//!
//! Pure and bounded: the caller hands over at most [`MAX_BYTES`] (reading
//! standard input is the command's job); at most [`MAX_LINES`] lines are
//! read, each for its first [`LINE_SCAN_CHARS`] characters, and at most
//! [`MAX_CANDIDATES`] candidates are kept (the best ones), so a 10 MB paste
//! costs the same memory as a small one plus its bytes.
//!
//! The weighing, most significant first:
//! 1. the class of cause the line's explanation names ([`CauseClass`]): a
//!    misuse or a broker-side decision (pika's thread-sharing `IndexError`,
//!    a refused login) outranks a heartbeat reading, which outranks a reply
//!    code, which outranks a bare connection loss (ECONNRESET, EOF), which
//!    outranks a generic wrapper (`StreamLostError`, `ShutdownSignalException`)
//!    and a line that only names a library;
//! 2. the depth in a `Caused by:` (Java) or ` ---> ` (.NET) chain: the root
//!    outranks its wrapper;
//! 3. a matched pattern over a line read only for the errno or code it names;
//! 4. the pattern's place in data/knowledge/logs.toml (ordered from most to
//!    least specific);
//! 5. the later line (a traceback ends with the exception that was raised).

use super::lookup::ClientHit;
use super::lookup::{recognise, worth_reading};
use super::{log_patterns, LogMatch, Topic};
use crate::vocab::VerdictCode;

/// The most `explain -` reads from standard input (10 MiB).
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// The most lines read; the rest of a longer paste is not looked at.
pub const MAX_LINES: usize = 200_000;
/// How much of each line is read (chars): a megabyte-long line is cut.
pub const LINE_SCAN_CHARS: usize = 4096;
/// The most candidate lines kept (the best by [`Weight`]).
pub const MAX_CANDIDATES: usize = 64;
/// A candidate's text is kept (and echoed) at most this long (chars).
const TEXT_MAX_CHARS: usize = 200;

/// What kind of cause a recognised line's explanation names, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CauseClass {
    /// Only a library named (a logger, a package path in a stack frame).
    Library,
    /// A generic wrapper whose pattern defers to what the line names
    /// (`StreamLostError`, `ConnectionClosed`), with nothing more named.
    Wrapper,
    /// The connection was lost: an errno, EOF, a reset or close.
    Loss,
    /// An AMQP reply code the broker or library closed with.
    Reply,
    /// A heartbeat reading (the broker's or a library's heartbeat texts), or
    /// another text one library prints, explained by its entry.
    Heartbeat,
    /// A specific cause: client misuse, a refused login, a protocol or TLS
    /// mismatch, a broker-side limit or decision.
    Specific,
}

impl CauseClass {
    pub fn as_str(self) -> &'static str {
        match self {
            CauseClass::Library => "library",
            CauseClass::Wrapper => "wrapper",
            CauseClass::Loss => "connection_loss",
            CauseClass::Reply => "reply_code",
            CauseClass::Heartbeat => "heartbeat",
            CauseClass::Specific => "specific",
        }
    }

    /// Words for "why this line": "a specific cause".
    pub fn describe(self) -> &'static str {
        match self {
            CauseClass::Library => "a line that only names the library",
            CauseClass::Wrapper => "a generic wrapper exception",
            CauseClass::Loss => "a connection loss",
            CauseClass::Reply => "an AMQP reply code",
            CauseClass::Heartbeat => "a heartbeat or library-specific reading",
            CauseClass::Specific => "a specific cause",
        }
    }
}

/// The class of a verdict: which verdicts are a loss, a heartbeat reading
/// or a specific cause.
pub fn verdict_class(code: VerdictCode) -> CauseClass {
    use VerdictCode as V;
    match code {
        V::BrokerHeartbeatTimeout | V::PathIdleTimeout | V::SilentLoss => CauseClass::Heartbeat,
        V::Healthy | V::ServerClosed | V::PeerReset | V::PeerClosed | V::ConnectFailed => {
            CauseClass::Loss
        }
        V::Timeout | V::Interrupted => CauseClass::Loss,
        _ => CauseClass::Specific,
    }
}

/// The class of what a line was recognised as.
pub fn class_of(m: &LogMatch<'_>) -> CauseClass {
    let target = m.target();
    let Some(p) = m.pattern else {
        return match target {
            Some(Topic::Reply(_)) => CauseClass::Reply,
            Some(Topic::Errno(_) | Topic::Eof) => CauseClass::Loss,
            _ => CauseClass::Library,
        };
    };
    let refined = p.refine && (m.reply.is_some() || m.errno.is_some());
    if p.refine && !refined {
        return CauseClass::Wrapper;
    }
    match target {
        Some(Topic::Errno(_) | Topic::Eof) => CauseClass::Loss,
        Some(Topic::Reply(_)) => CauseClass::Reply,
        Some(Topic::Verdict(v)) => verdict_class(v.code),
        Some(Topic::Client(_)) => CauseClass::Heartbeat,
        Some(Topic::Concept(c)) if c.id == "heartbeat" => CauseClass::Heartbeat,
        Some(Topic::Concept(_)) => CauseClass::Specific,
        Some(Topic::Log(_)) | None => CauseClass::Wrapper,
    }
}

/// How strongly a line speaks for the diagnosis; compared field by field,
/// greater wins (see the module's list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Weight {
    pub class: CauseClass,
    /// How deep in a `Caused by:` / ` ---> ` chain (0 outside one).
    pub depth: u16,
    pub patterned: bool,
    /// `u16::MAX` minus the pattern's index in logs.toml (0 without one).
    pub specificity: u16,
    /// The (first) line number.
    pub line: usize,
}

/// The weight of a match found at `line`, `depth` deep in a chain. Pure.
pub fn weigh(m: &LogMatch<'_>, line: usize, depth: u16) -> Weight {
    let specificity = m.pattern.map_or(0, |p| {
        let index = log_patterns()
            .iter()
            .position(|q| std::ptr::eq(q, p))
            .unwrap_or(usize::from(u16::MAX));
        u16::MAX.saturating_sub(u16::try_from(index).unwrap_or(u16::MAX))
    });
    Weight {
        class: class_of(m),
        depth,
        patterned: m.pattern.is_some(),
        specificity,
        line,
    }
}

/// One recognised line (or two joined: a server record whose reason
/// follows on the next line).
#[derive(Debug, Clone)]
pub struct Candidate {
    /// 1-based line number of its first line.
    pub line: usize,
    /// The last line, when two were read together.
    pub last_line: Option<usize>,
    /// The text as pasted (redacted, control characters made spaces,
    /// shortened to 200 chars).
    pub text: String,
    pub matched: LogMatch<'static>,
    pub weight: Weight,
    /// How many more times the same text occurred later.
    pub repeats: usize,
}

/// What was read of a paste and what was recognised in it.
#[derive(Debug, Clone, Default)]
pub struct PasteReading {
    pub bytes: usize,
    /// The input was longer than [`MAX_BYTES`] (set by the reader).
    pub bytes_cut: bool,
    pub lines: usize,
    /// More than [`MAX_LINES`] lines: the rest was not read.
    pub lines_cut: bool,
    /// Lines with NUL bytes (binary), skipped.
    pub binary_lines: usize,
    /// Lines longer than [`LINE_SCAN_CHARS`], read for their start only.
    pub long_lines: usize,
    /// The kept candidates, best first.
    pub candidates: Vec<Candidate>,
    /// Recognised lines beyond [`MAX_CANDIDATES`], not kept.
    pub dropped: usize,
}

impl PasteReading {
    /// The line the diagnosis is read from.
    pub fn chosen(&self) -> Option<&Candidate> {
        self.candidates.first()
    }

    /// Why the chosen line won over the runner-up, in words.
    pub fn why(&self) -> Option<String> {
        let best = self.chosen()?;
        let Some(next) = self.candidates.get(1) else {
            return Some("the only line recognised".into());
        };
        let (a, b) = (best.weight, next.weight);
        Some(if a.class != b.class {
            format!("{} outranks {}", a.class.describe(), b.class.describe())
        } else if a.depth != b.depth {
            "the root of a `Caused by:` chain outranks its wrapper".into()
        } else if a.patterned != b.patterned {
            "a known line outranks one read only for what it names".into()
        } else if a.specificity != b.specificity {
            "a more specific pattern outranks a more generic one".into()
        } else {
            "the same reading; the later line is the one raised".into()
        })
    }
}

/// Whether a (lowercased, trimmed) line continues a stack trace without
/// starting a new exception: a frame, an elision, a Python `File` line.
fn is_frame(t: &str) -> bool {
    t.starts_with("at ")
        || t.starts_with("... ")
        || t.starts_with("file \"")
        || t.starts_with("--- end of")
        || t.is_empty()
}

/// Whether a lowercased line goes one step down a cause chain.
fn is_cause_step(lower: &str) -> bool {
    lower.contains("caused by: ") || lower.trim_start().starts_with("---> ")
}

/// Control characters shown as spaces, shortened: the text as echoed.
fn shown(text: &str) -> String {
    // Redacted before it is cut: a cut could split a secret from the `@`
    // or the key that marks it.
    let text = crate::target::redact::redact_text(text);
    let mut s: String = text
        .trim()
        .chars()
        .take(TEXT_MAX_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.trim().chars().nth(TEXT_MAX_CHARS).is_some() {
        s.push('…');
    }
    s
}

/// Reads `input` (at most [`MAX_BYTES`] of it; `bytes_cut` says whether the
/// caller cut it) and keeps the recognised lines, best first.
pub fn read_paste(input: &[u8], bytes_cut: bool) -> PasteReading {
    let input = &input[..input.len().min(MAX_BYTES)];
    let mut r = PasteReading {
        bytes: input.len(),
        bytes_cut,
        ..PasteReading::default()
    };
    let mut depth: u16 = 0;
    // The first library any line names (a frame's package path counts).
    let mut library: Option<ClientHit<'static>> = None;
    // The previous line when it ends with ':' (its reason may follow), with
    // the weight it had alone.
    let mut open: Option<(usize, String, Option<Weight>)> = None;
    let body = input.strip_suffix(b"\n").unwrap_or(input);
    let lines = body.split(|&b| b == b'\n').filter(|_| !body.is_empty());
    for (i, raw) in lines.enumerate() {
        if i == MAX_LINES {
            r.lines_cut = true;
            break;
        }
        r.lines += 1;
        if raw.contains(&0) {
            r.binary_lines += 1;
            open = None;
            continue;
        }
        let text = String::from_utf8_lossy(raw);
        if text.chars().nth(LINE_SCAN_CHARS).is_some() {
            r.long_lines += 1;
        }
        let text: String = text.chars().take(LINE_SCAN_CHARS).collect();
        let lower = text.to_lowercase();
        let t = lower.trim_start_matches(['>', ' ', '\t']);
        if is_cause_step(&lower) {
            depth = depth.saturating_add(1);
        } else if !is_frame(t) {
            depth = 0;
        }
        let line = i + 1;
        let alone = worth_reading(&lower)
            .then(|| recognise(&lower))
            .flatten()
            .map(|m| {
                let w = weigh(&m, line, depth);
                (m, w)
            });
        if let Some((first, prev, prev_w)) = open.take() {
            join_lines(
                &mut r,
                (first, &prev, prev_w),
                (line, &text),
                alone.as_ref().map(|a| a.1),
            );
        }
        let own = alone.as_ref().map(|a| a.1);
        if let Some((m, w)) = alone {
            library = library.or(m.client);
            // A stack frame that only names the library says which library,
            // nothing about the cause: it is not a line used.
            if !(w.class == CauseClass::Library && is_frame(t)) {
                keep(&mut r, line, None, &text, m, w);
            }
        }
        if text.trim_end().ends_with(':') {
            open = Some((line, text.trim().to_string(), own));
        }
    }
    finish(&mut r, library);
    r
}

/// Best first, at most [`MAX_CANDIDATES`]; the chosen line gets the
/// paste's library when it names none.
fn finish(r: &mut PasteReading, library: Option<ClientHit<'static>>) {
    r.candidates.sort_by_key(|c| std::cmp::Reverse(c.weight));
    if r.candidates.len() > MAX_CANDIDATES {
        r.dropped += r.candidates.len() - MAX_CANDIDATES;
        r.candidates.truncate(MAX_CANDIDATES);
    }
    // The chosen line may not say which library printed it when another
    // line of the same paste does (a Caused by: root under the client's
    // frames): the diagnosis adds that library's remedy.
    if let Some(first) = r.candidates.first_mut() {
        if first.matched.client.is_none() {
            first.matched.client = library;
        }
    }
}

/// A server record split over two lines (`closing AMQP connection … :`
/// then the reason): the two read together are kept when that reading
/// outranks each line alone (the line number aside).
fn join_lines(
    r: &mut PasteReading,
    (first, prev, prev_w): (usize, &str, Option<Weight>),
    (line, text): (usize, &str),
    own: Option<Weight>,
) {
    let joined = format!("{prev} {}", text.trim());
    let lower = joined.to_lowercase();
    let Some(m) = worth_reading(&lower).then(|| recognise(&lower)).flatten() else {
        return;
    };
    let w = weigh(&m, first, prev_w.map_or(0, |p| p.depth));
    let rank = |w: Weight| (w.class, w.patterned, w.specificity);
    let beaten = |o: Option<Weight>| o.is_some_and(|o| rank(o) >= rank(w));
    if !beaten(prev_w) && !beaten(own) {
        keep(r, first, Some(line), &joined, m, w);
    }
}

/// Adds a candidate, folding a repeated text into the first occurrence
/// and, when the list grows past twice the cap, keeping the best.
fn keep(
    r: &mut PasteReading,
    line: usize,
    last_line: Option<usize>,
    text: &str,
    matched: LogMatch<'static>,
    weight: Weight,
) {
    let text = shown(text);
    if let Some(c) = r.candidates.iter_mut().find(|c| c.text == text) {
        c.repeats += 1;
        return;
    }
    r.candidates.push(Candidate {
        line,
        last_line,
        text,
        matched,
        weight,
        repeats: 0,
    });
    if r.candidates.len() >= 2 * MAX_CANDIDATES {
        r.candidates.sort_by_key(|c| std::cmp::Reverse(c.weight));
        r.dropped += r.candidates.len() - MAX_CANDIDATES;
        r.candidates.truncate(MAX_CANDIDATES);
    }
}

#[cfg(test)]
#[path = "paste_tests.rs"]
mod tests;
