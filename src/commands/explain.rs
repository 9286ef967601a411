//! `amqpdoctor explain TOPIC…`: offline answers about an errno, an AMQP
//! reply code, a client library, a verdict code or a pasted log line;
//! `amqpdoctor explain --list`: every topic it knows.
//!
//! The words of a multi-word topic are joined with spaces, so a log line
//! works quoted or not. Recognition lives in [`crate::knowledge::lookup`],
//! rendering in [`crate::report::explain`]; this file only wires them to
//! stdout and turns an unknown topic into a usage error (exit 2).
//!
//! `explain -` reads a whole paste from standard input (at most
//! [`paste::MAX_BYTES`]; the weighing is [`crate::knowledge::paste`]) and
//! explains the line that weighs most, listing every line it used.

use std::io::{IsTerminal, Read};

use anyhow::Context;

use crate::cli::ExplainArgs;
use crate::error::{ExitStatus, UsageError};
use crate::knowledge;
use crate::knowledge::paste::{self, PasteReading};
use crate::knowledge::Topic;
use crate::report::explain::render_list_compact;
use crate::report::format::{ExplainListView, ExplainView};
use crate::report::style::Style;
use crate::vocab::format::Format;

pub fn run(args: ExplainArgs) -> anyhow::Result<ExitStatus> {
    let color = super::style_for(args.output.color).color;
    let out = if args.list {
        render_list(args.output.format, color)?
    } else if args.topic == ["-"] {
        let (input, cut) = read_stdin().context("reading the paste from standard input")?;
        render_paste(&paste::read_paste(&input, cut), args.output.format, color)?
    } else {
        render(&args.topic.join(" "), args.output.format, color)?
    };
    crate::report::emit(out).context("writing the explanation")?;
    Ok(ExitStatus::Ok)
}

/// The whole output of `explain --list`.
pub fn render_list(format: Format, color: bool) -> anyhow::Result<String> {
    let list = knowledge::topic_list();
    Ok(crate::report::format::render(
        &ExplainListView(&list),
        format,
        Style { color },
    )?)
}

/// Standard input, at most [`paste::MAX_BYTES`] of it (and whether there
/// was more). A terminal gets a one-line hint on stderr first: otherwise
/// the command would seem to hang.
fn read_stdin() -> std::io::Result<(Vec<u8>, bool)> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        crate::report::notice(
            "reading a paste from standard input: paste it, then press Ctrl-D on a line of its \
             own (or pipe a file: amqpdoctor explain - < app.log)",
        );
    }
    let limit = paste::MAX_BYTES;
    let mut buf = Vec::with_capacity(64 * 1024);
    stdin
        .lock()
        .take(u64::try_from(limit).unwrap_or(u64::MAX) + 1)
        .read_to_end(&mut buf)?;
    let cut = buf.len() > limit;
    buf.truncate(limit);
    Ok((buf, cut))
}

/// The whole output of `explain -` for what was read, or a usage error
/// when no line of it is one `explain` knows.
pub fn render_paste(reading: &PasteReading, format: Format, color: bool) -> anyhow::Result<String> {
    let Some(chosen) = reading.chosen() else {
        return Err(UsageError(format!(
            "none of the {} line(s) read from standard input is one `amqpdoctor explain` \
             recognises{}; `amqpdoctor explain --list` shows the log lines it knows",
            reading.lines,
            if reading.binary_lines > 0 {
                format!(" ({} binary line(s) skipped)", reading.binary_lines)
            } else {
                String::new()
            }
        ))
        .into());
    };
    let topic = Topic::Log(chosen.matched.clone());
    let view = ExplainView {
        query: &chosen.text,
        topic: &topic,
        paste: Some(reading),
    };
    Ok(crate::report::format::render(
        &view,
        format,
        Style { color },
    )?)
}

/// The whole output for `query`, or the usage error for an unknown topic.
pub fn render(query: &str, format: Format, color: bool) -> anyhow::Result<String> {
    // A pasted line may carry a connection URL with its password: nothing
    // below (the echo, the JSON `query`, an error) may see the secret.
    let redacted = crate::target::redact::redact_text(query);
    let query = redacted.as_str();
    let topic = knowledge::lookup(query).map_err(|near| UsageError(unknown_topic(query, &near)))?;
    let view = ExplainView {
        query,
        topic: &topic,
        paste: None,
    };
    Ok(crate::report::format::render(
        &view,
        format,
        Style { color },
    )?)
}

/// The message for an unknown topic: the nearest known names and what
/// kinds of topic exist. With no near name to offer, the whole list (one
/// line per kind) follows, so the user is never left without a next step.
pub fn unknown_topic(query: &str, near: &[String]) -> String {
    const SHOWN: usize = 60;
    let mut shown: String = query.trim().chars().take(SHOWN).collect();
    if query.trim().chars().nth(SHOWN).is_some() {
        shown.push('…');
    }
    let nearest = if near.is_empty() {
        String::new()
    } else {
        format!(
            "; nearest known topics: {} (`amqpdoctor explain --list` shows them all)",
            near.join(", ")
        )
    };
    let msg = format!(
        "unknown topic {shown:?}{nearest}; try an errno (104, ECONNRESET), a reply code (320), \
         a client (pika-blocking), a verdict (broker_heartbeat_timeout) or paste a log line in \
         quotes"
    );
    if near.is_empty() {
        let list = render_list_compact(&knowledge::topic_list());
        format!("{msg}. Known topics:\n{list}")
    } else {
        msg
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::error::exit_status_for;
    use clap::Parser;

    fn args(argv: &[&str]) -> ExplainArgs {
        let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}"));
        match cli.command {
            Command::Explain(a) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_topic_is_a_usage_error() {
        let err = render("foo", Format::Human, false)
            .err()
            .unwrap_or_else(|| anyhow::anyhow!("ok"));
        assert_eq!(exit_status_for(&err), ExitStatus::Usage);
        let msg = format!("{err:#}");
        assert!(
            msg.starts_with("unknown topic \"foo\"; nearest known topics: "),
            "{msg}"
        );
        assert!(msg.contains("try an errno (104, ECONNRESET)"), "{msg}");
    }

    #[test]
    fn unknown_topic_points_at_the_list() {
        let msg = unknown_topic("ECONRESET", &["ECONNRESET".into()]);
        assert!(
            msg.starts_with(
                "unknown topic \"ECONRESET\"; nearest known topics: ECONNRESET \
                 (`amqpdoctor explain --list` shows them all); try"
            ),
            "{msg}"
        );
        assert!(!msg.contains('\n'), "{msg}");
    }

    #[test]
    fn unknown_topic_without_suggestions_lists_every_kind() {
        let msg = unknown_topic("nothing near", &[]);
        let list = render_list_compact(&knowledge::topic_list());
        assert!(
            msg.ends_with(&format!(" quotes. Known topics:\n{list}")),
            "{msg}"
        );
        for line in [
            "\n  errno: ECONNRESET, ",
            "\n  reply codes: 200, ",
            "\n  clients: pika-blocking, ",
            "\n  verdicts: healthy, broker_heartbeat_timeout, ",
            "\n  other: EOF\n",
            "\n  log lines (paste one): rabbitmq_missed_heartbeats, ",
        ] {
            assert!(msg.contains(line), "missing {line:?}: {msg}");
        }
    }

    #[test]
    fn list_needs_no_topic() {
        let a = args(&["amqpdoctor", "explain", "--list", "--format", "json"]);
        assert!(a.list && a.topic.is_empty());
        let out = render_list(a.output.format, true).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(v["list"]["client"][0]["topic"], "pika-blocking");
        assert!(!out.contains('\x1b'));
        let human = render_list(Format::Human, false).unwrap_or_default();
        assert!(human.contains("\n  lapin "), "{human}");
        // A topic and --list together, or neither, is a usage error.
        for argv in [
            &["amqpdoctor", "explain", "--list", "104"][..],
            &["amqpdoctor", "explain"][..],
        ] {
            let err = Cli::try_parse_from(argv).err().map(|e| e.exit_code());
            assert_eq!(err, Some(2), "{argv:?}");
        }
    }

    #[test]
    fn unknown_topic_message_is_bounded() {
        let msg = unknown_topic(&"z".repeat(10_000), &["EOF".into()]);
        assert!(msg.len() < 400, "{msg}");
        assert!(msg.contains('…'));
        let msg = unknown_topic("\"quoted\"\n", &[]);
        assert!(
            msg.starts_with("unknown topic \"\\\"quoted\\\"\"; try"),
            "{msg}"
        );
    }

    #[test]
    fn words_are_joined() {
        let a = args(&[
            "amqpdoctor",
            "explain",
            "missed",
            "heartbeats",
            "from",
            "client,",
            "timeout:",
            "60s",
        ]);
        let out = render(&a.topic.join(" "), a.output.format, false).unwrap_or_default();
        assert!(out.contains("between 120 s and 180 s"), "{out}");
    }

    #[test]
    fn json_is_one_document() {
        let a = args(&["amqpdoctor", "explain", "--format", "json", "ECONNRESET"]);
        let out = render(&a.topic.join(" "), a.output.format, true).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(v["kind"], "errno");
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn never_panics() {
        let inputs = [
            String::new(),
            " ".into(),
            "🦀🦀🦀".into(),
            "\u{0}".into(),
            "ß".repeat(50_000),
            "timeout: 99999999999999999999s missed heartbeats from client".into(),
            "errno -".into(),
            "-".into(),
            "reply code".into(),
            "Exception (".into(),
            "x".repeat(1 << 20),
        ];
        for q in inputs {
            for format in [Format::Human, Format::Json] {
                let _ = render(&q, format, true);
            }
        }
    }
}
