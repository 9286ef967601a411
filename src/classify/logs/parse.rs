//! One line of a RabbitMQ log into its shape, and one record (a head line
//! and its continuations) into a typed event. Pure: no I/O.
//!
//! Line shapes, as the versions print them:
//!
//! - 3.9+ (`logger`): `2026-12-03 20:03:27.651023+00:00 [error] <0.996.0> text`;
//!   a multi-line message repeats the whole prefix on every line.
//! - 3.7–3.8 (lager): `2017-09-26 08:04:53.596 [warning] <0.2375.628> text`;
//!   the rest of a multi-line message follows on bare lines.
//! - 3.6 and earlier: a `=ERROR REPORT==== 14-May-2015::14:52:07 ===` line,
//!   then the message on bare lines up to a blank line.
//! - the JSON formatter: `{"time":"…","level":"…","msg":"…","pid":"<…>",…}`.
//!
//! Container and journal prefixes are removed first ([`unwrap_container`]):
//! `docker logs -t` (`2026-…Z `), the Kubernetes CRI files (`2026-…Z stdout F `),
//! journald's short output (`Dec 03 20:03:27 host rabbitmq-server[1234]: `),
//! docker's json-file (`{"log":"…"}`) and `journalctl -o json` (`{"MESSAGE":"…"}`).

use std::borrow::Cow;

use super::time::{month, parse_erlang, parse_iso};

/// An Erlang process id, `<0.996.0>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid(pub u32, pub u32, pub u32);

impl Pid {
    /// `<a.b.c>` at the start of `s`, and its length.
    pub fn parse(s: &str) -> Option<(Pid, usize)> {
        let rest = s.strip_prefix('<')?;
        let end = rest.find('>')?;
        let mut it = rest[..end].split('.');
        let mut n = || it.next().and_then(|x| x.parse::<u32>().ok());
        let pid = Pid(n()?, n()?, n()?);
        Some((pid, end + 2))
    }
}

impl std::fmt::Display for Pid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{}.{}.{}>", self.0, self.1, self.2)
    }
}

/// A line's severity, as printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
    Other,
}

impl Level {
    pub fn parse(s: &str) -> Level {
        match s.to_ascii_lowercase().as_str() {
            "debug" | "dbg" | "dbug" => Level::Debug,
            "info" | "inf" | "notice" => Level::Info,
            "warning" | "warn" | "wrn" => Level::Warning,
            "error" | "err" | "erro" | "critical" | "crit" | "alert" | "emergency" => Level::Error,
            _ => Level::Other,
        }
    }
}

/// The first line of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head<'a> {
    pub at_ms: i64,
    pub level: Level,
    /// The logging process (3.9+, 3.7–3.8 and JSON; none in 3.6 reports).
    pub pid: Option<Pid>,
    /// The bytes before the text: a 3.9+ continuation repeats them.
    pub prefix: &'a str,
    pub text: Cow<'a, str>,
}

/// What a line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// Starts a record.
    Head(Head<'a>),
    /// 3.6's `=LEVEL REPORT==== date ===`: starts a record whose text follows.
    Report { at_ms: i64, level: Level },
    /// Anything else: a continuation, or junk.
    Bare(&'a str),
}

/// A line with a container runtime's or journald's prefix removed.
pub fn unwrap_container(line: &str) -> Cow<'_, str> {
    let t = line.trim_end_matches(['\r', '\n']);
    if t.starts_with('{') {
        if let Some(inner) = json_wrapped(t) {
            return Cow::Owned(inner);
        }
        return Cow::Borrowed(t);
    }
    let j = strip_journal(t);
    Cow::Borrowed(if j.len() < t.len() {
        j
    } else {
        strip_docker(t)
    })
}

/// `2026-…Z ` (docker -t) and `2026-…Z stdout F ` (CRI), unless the line is
/// RabbitMQ's own rfc3339_T format (a level follows the stamp).
fn strip_docker(t: &str) -> &str {
    let Some((_, used)) = parse_iso(t) else {
        return t;
    };
    if t.as_bytes().get(10) != Some(&b'T') {
        return t;
    }
    let rest = t[used..].trim_start_matches(' ');
    if rest.starts_with('[') || used == t.len() {
        return t;
    }
    for s in ["stdout F ", "stderr F ", "stdout P ", "stderr P "] {
        if let Some(r) = rest.strip_prefix(s) {
            return r;
        }
    }
    rest
}

/// journald's short forms: `Dec 03 20:03:27 host unit[pid]: ` and
/// `2026-12-03T20:03:27+0000 host unit[pid]: `.
fn strip_journal(t: &str) -> &str {
    let month_first =
        t.len() > 16 && month(&t[..3.min(t.len())]).is_some() && t.is_char_boundary(3);
    let iso_first = !month_first && parse_iso(t).is_some();
    if !month_first && !iso_first {
        return t;
    }
    let window = &t[..t.len().min(160)];
    match window.find("]: ") {
        Some(i) if !window[..i].contains(" [") => &t[i + 3..],
        _ => t,
    }
}

#[derive(serde::Deserialize)]
struct Wrapped {
    log: Option<String>,
    #[serde(rename = "MESSAGE")]
    message: Option<serde_json::Value>,
}

/// The line inside docker's json-file or journalctl's JSON.
fn json_wrapped(t: &str) -> Option<String> {
    let w: Wrapped = serde_json::from_str(t).ok()?;
    let inner = match (w.log, w.message) {
        (Some(l), _) => l,
        (None, Some(serde_json::Value::String(m))) => m,
        _ => return None,
    };
    let inner = inner.trim_end_matches(['\r', '\n']).to_string();
    Some(match unwrap_container(&inner) {
        Cow::Borrowed(b) if b.len() == inner.len() => inner,
        other => other.into_owned(),
    })
}

#[derive(serde::Deserialize)]
struct JsonRecord {
    time: Option<serde_json::Value>,
    level: Option<String>,
    msg: Option<String>,
    pid: Option<String>,
}

/// What kind of line `t` (already unwrapped) is.
pub fn classify_line(t: &str) -> Line<'_> {
    if let Some(rest) = t.strip_prefix('=') {
        if let Some(r) = report_header(rest) {
            return r;
        }
    }
    if t.starts_with('{') {
        return json_head(t).map_or(Line::Bare(t), Line::Head);
    }
    text_head(t).map_or(Line::Bare(t), Line::Head)
}

fn report_header(rest: &str) -> Option<Line<'_>> {
    let (level, after) = rest.split_once(" REPORT==== ")?;
    let date = after.strip_suffix(" ===").unwrap_or(after).trim();
    Some(Line::Report {
        at_ms: parse_erlang(date)?,
        level: Level::parse(level),
    })
}

/// `STAMP [level] <pid> text` (3.7+).
fn text_head(t: &str) -> Option<Head<'_>> {
    let (at_ms, used) = parse_iso(t)?;
    let rest = t[used..].strip_prefix(' ')?;
    let rest = rest.strip_prefix('[')?;
    let close = rest.find(']')?;
    let level = Level::parse(&rest[..close]);
    let mut after = rest[close + 1..].trim_start_matches(' ');
    let mut pid = None;
    if let Some((p, n)) = Pid::parse(after) {
        pid = Some(p);
        after = &after[n..];
    }
    let text = after.strip_prefix(' ').unwrap_or(after);
    let prefix = &t[..t.len() - text.len()];
    Some(Head {
        at_ms,
        level,
        pid,
        prefix,
        text: Cow::Borrowed(text),
    })
}

/// The JSON formatter's record (`time` as RFC 3339 or epoch microseconds).
fn json_head(t: &str) -> Option<Head<'_>> {
    let r: JsonRecord = serde_json::from_str(t).ok()?;
    let at_ms = match r.time? {
        serde_json::Value::String(s) => parse_iso(&s)?.0,
        serde_json::Value::Number(n) => {
            let v = n.as_i64()?;
            // epoch_usecs or epoch_secs
            if v > 100_000_000_000 {
                v / 1000
            } else {
                v * 1000
            }
        }
        _ => return None,
    };
    Some(Head {
        at_ms,
        level: Level::parse(r.level.as_deref().unwrap_or("")),
        pid: r.pid.as_deref().and_then(Pid::parse).map(|p| p.0),
        prefix: "",
        text: Cow::Owned(r.msg?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(t: &str) -> Head<'_> {
        match classify_line(t) {
            Line::Head(h) => h,
            other => panic!("{t}: {other:?}"),
        }
    }

    #[test]
    fn line_shapes() {
        // Local broker, RabbitMQ 3.10.8 (this project's .ci/broker).
        let h = head("2026-12-03 20:03:27.651023+00:00 [error] <0.996.0> missed heartbeats from client, timeout: 1s");
        assert_eq!(h.level, Level::Error);
        assert_eq!(h.pid, Some(Pid(0, 996, 0)));
        assert_eq!(h.text, "missed heartbeats from client, timeout: 1s");
        assert_eq!(
            h.prefix,
            "2026-12-03 20:03:27.651023+00:00 [error] <0.996.0> "
        );
        // https://github.com/amqp-node/amqplib/issues/151 (3.6/3.7 lager form)
        let h = head("2017-09-26 08:04:53.596 [warning] <0.2375.628> closing AMQP connection <0.2375.628> (127.0.0.1:54720 -> 127.0.0.1:5672):");
        assert_eq!(h.pid, Some(Pid(0, 2375, 628)));
        assert!(matches!(
            classify_line("=ERROR REPORT==== 14-May-2015::14:52:07 ==="),
            Line::Report {
                level: Level::Error,
                ..
            }
        ));
        assert_eq!(
            classify_line("missed heartbeats from client, timeout: 8s"),
            Line::Bare("missed heartbeats from client, timeout: 8s")
        );
        // Field layout of https://github.com/rabbitmq/rabbitmq-server/issues/13143
        let h = head(
            r#"{"time":"2024-10-04 03:38:29.709578-04:00","level":"info","msg":"Time to start RabbitMQ: 2294 ms","line":427,"pid":"<0.9.0>","file":"rabbit.erl","mfa":["rabbit","start_it",1]}"#,
        );
        assert_eq!(h.pid, Some(Pid(0, 9, 0)));
        assert_eq!(h.text, "Time to start RabbitMQ: 2294 ms");
    }

    #[test]
    fn container_prefixes() {
        let inner = "2026-12-03 20:03:27.651023+00:00 [error] <0.996.0> x";
        let table = [
            format!("2026-12-03T20:03:27.651100000Z {inner}"),
            format!("2026-12-03T20:03:27.651100000Z stdout F {inner}"),
            format!("Dec 03 20:03:27 host rabbitmq-server[1234]: {inner}"),
            format!("2026-12-03T20:03:27+0000 host rabbitmq-server[1234]: {inner}"),
            format!(r#"{{"log":"{inner}\n","stream":"stdout","time":"2026-12-03T20:03:27.65Z"}}"#),
            format!(r#"{{"MESSAGE":"{inner}","_PID":"1"}}"#),
            inner.to_string(),
        ];
        for line in &table {
            assert_eq!(unwrap_container(line), inner, "{line}");
        }
        // RabbitMQ's own rfc3339_T stamp is not a docker prefix.
        let t = "2026-12-03T20:03:27.651+00:00 [info] <0.1.0> x";
        assert_eq!(unwrap_container(t), t);
    }

    #[test]
    fn junk_is_bare() {
        for junk in [
            "",
            "\u{fffd}\u{fffd}",
            "2026-12-03 20:03:27 no level",
            "{not json",
            "=X",
        ] {
            assert!(matches!(classify_line(junk), Line::Bare(_)), "{junk}");
        }
    }
}
