//! Lines into records. A record is what the broker logged at once: its
//! first line and the lines that continue it, joined by `\n`:
//!
//! - 3.9+ writes every line of a multi-line message with the same prefix
//!   (stamp, level, pid): a head whose prefix equals the record's continues it;
//! - 3.7–3.8 write the reason on bare lines after the head;
//! - 3.6 writes `=LEVEL REPORT==== date ===`, the text, then a blank line.
//!
//! The reader feeds only the lines its prefilter wants, and the lines after
//! a wanted one while a record is open ([`Assembler::open`]); a line that
//! starts a record nobody wanted closes the current one and starts nothing.
//! A record's text is capped at [`MAX_TEXT`] bytes.

use super::parse::{classify_line, Line};

/// The longest record text kept; the rest of a longer record is dropped.
pub const MAX_TEXT: usize = 16 * 1024;

/// One record: when it was logged and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub at_ms: i64,
    pub text: String,
}

#[derive(Debug)]
struct Open {
    at_ms: i64,
    /// The 3.9+ prefix a continuation repeats (empty: none).
    prefix: String,
    text: String,
    /// A 3.6 report: ends at a blank line.
    report: bool,
}

/// Joins lines into records.
#[derive(Debug, Default)]
pub struct Assembler {
    cur: Option<Open>,
    /// Lines that neither start nor continue a record.
    pub stray: u64,
}

impl Assembler {
    /// Whether a record is being read: the next line may continue it.
    pub fn open(&self) -> bool {
        self.cur.is_some()
    }

    /// Feeds one line (a container prefix already removed). `wanted`: the
    /// prefilter matched it, so a record it starts is kept. Returns the
    /// record this line completes, if any.
    pub fn push(&mut self, line: &str, wanted: bool) -> Option<Record> {
        match classify_line(line) {
            Line::Head(h) => {
                if let Some(c) = self.cur.as_mut() {
                    if !c.report && !h.prefix.is_empty() && h.prefix == c.prefix {
                        append(&mut c.text, &h.text);
                        return None;
                    }
                }
                let done = self.finish();
                if wanted {
                    self.cur = Some(Open {
                        at_ms: h.at_ms,
                        prefix: h.prefix.to_string(),
                        text: cap(&h.text).to_string(),
                        report: false,
                    });
                }
                done
            }
            Line::Report { at_ms, .. } => {
                let done = self.finish();
                self.cur = Some(Open {
                    at_ms,
                    prefix: String::new(),
                    text: String::new(),
                    report: true,
                });
                done
            }
            Line::Bare(t) => match self.cur.as_mut() {
                Some(c) if c.report && t.trim().is_empty() => self.finish(),
                Some(c) => {
                    if !(c.report && c.text.is_empty() && t.trim().is_empty()) {
                        append(&mut c.text, t);
                    }
                    None
                }
                None => {
                    self.stray += 1;
                    None
                }
            },
        }
    }

    /// The record being read, ended (at the end of the input, or when the
    /// reader skipped lines since).
    pub fn finish(&mut self) -> Option<Record> {
        self.cur.take().map(|c| Record {
            at_ms: c.at_ms,
            text: c.text,
        })
    }
}

fn append(text: &mut String, line: &str) {
    if text.len() >= MAX_TEXT {
        return;
    }
    if !text.is_empty() {
        text.push('\n');
    }
    let room = MAX_TEXT.saturating_sub(text.len());
    text.push_str(cap_to(line, room));
}

/// `s` cut to at most [`MAX_TEXT`] bytes, on a character boundary.
fn cap(s: &str) -> &str {
    cap_to(s, MAX_TEXT)
}

fn cap_to(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(lines: &[(&str, bool)]) -> Vec<Record> {
        let mut a = Assembler::default();
        let mut out: Vec<Record> = lines.iter().filter_map(|(l, w)| a.push(l, *w)).collect();
        out.extend(a.finish());
        out
    }

    #[test]
    fn the_three_layouts() {
        // RabbitMQ 3.10.8, this project's broker (/var/log/rabbitmq).
        let v39 = [
            ("2026-12-04 17:45:11.539715+00:00 [warning] <0.788.0> closing AMQP connection <0.788.0> (127.0.0.1:52780 -> 127.0.0.1:5672):", true),
            ("2026-12-04 17:45:11.539715+00:00 [warning] <0.788.0> client unexpectedly closed TCP connection", false),
            ("2026-12-04 17:45:18.248298+00:00 [info] <0.793.0> accepting AMQP connection <0.793.0> (127.0.0.1:49126 -> 127.0.0.1:5672)", true),
        ];
        let r = records(&v39);
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0].text,
            "closing AMQP connection <0.788.0> (127.0.0.1:52780 -> 127.0.0.1:5672):\nclient unexpectedly closed TCP connection"
        );
        // https://github.com/amqp-node/amqplib/issues/151 (3.7 lager form).
        let v37 = [
            ("2017-09-26 08:04:53.596 [warning] <0.2375.628> closing AMQP connection <0.2375.628> (127.0.0.1:54720 -> 127.0.0.1:5672):", true),
            ("missed heartbeats from client, timeout: 60s", false),
            ("2017-09-26 08:04:54.000 [info] <0.1.0> unrelated", false),
            ("stray continuation of an unwanted record", false),
        ];
        let r = records(&v37);
        assert_eq!(r.len(), 1);
        assert!(r[0]
            .text
            .ends_with("\nmissed heartbeats from client, timeout: 60s"));
        // 3.6 report blocks.
        let v36 = [
            ("=WARNING REPORT==== 14-May-2015::14:52:07 ===", true),
            (
                "closing AMQP connection <0.4356.0> (10.0.0.5:41234 -> 10.0.0.1:5672):",
                false,
            ),
            ("connection_closed_abruptly", false),
            ("", false),
            ("=INFO REPORT==== 14-May-2015::14:52:08 ===", true),
        ];
        let r = records(&v36);
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0].text,
            "closing AMQP connection <0.4356.0> (10.0.0.5:41234 -> 10.0.0.1:5672):\nconnection_closed_abruptly"
        );
    }

    #[test]
    fn bounded_and_stray() {
        let mut a = Assembler::default();
        assert_eq!(a.push("junk", false), None);
        assert_eq!(a.stray, 1);
        a.push("2026-12-04 17:45:11.539715+00:00 [info] <0.1.0> x", true);
        let long = "é".repeat(MAX_TEXT);
        for _ in 0..4 {
            a.push(&long, false);
        }
        let r = a.finish().expect("a record");
        assert!(r.text.len() <= MAX_TEXT + 1, "{}", r.text.len());
        assert!(!a.open());
    }
}
