//! Markdown for docs/errors.md, docs/heartbeats.md and docs/middleboxes.md,
//! generated from the data so the documents say what `explain` says
//! (tests/docs_drift.rs).

use super::clients::{negotiate_for, ClientVersion};
use super::{
    clients, concepts, eof, errnos, log_patterns, middleboxes, replies, smallest_middlebox,
    starved_timeline, tcp_keepalive_detection_s, verdicts, About, Source, FALSE_POSITIVE_BELOW_S,
    RABBITMQ_DEFAULT_HEARTBEAT_S, RECOMMENDED_HEARTBEAT_MAX_S, RECOMMENDED_HEARTBEAT_MIN_S,
    TCP_KEEPALIVE_IDLE_S, TCP_KEEPALIVE_INTERVAL_S, TCP_KEEPALIVE_PROBES, TCP_RETRANSMIT_GIVE_UP_S,
};
use crate::vocab::proxy::OnIdle;
use crate::vocab::Heartbeat;

/// A generated part of a document, between
/// `<!-- generated:NAME:start -->` and `<!-- generated:NAME:end -->`.
#[derive(Debug, Clone)]
pub struct GeneratedSection {
    /// Path relative to the crate root.
    pub doc: &'static str,
    pub name: &'static str,
    pub content: String,
}

/// Every generated section of every document (tests/docs_drift.rs checks
/// and rewrites them).
pub fn generated_sections() -> Vec<GeneratedSection> {
    let s = |doc, name, content| GeneratedSection { doc, name, content };
    let errors = "docs/errors.md";
    let heartbeats = "docs/heartbeats.md";
    let middlebox_doc = "docs/middleboxes.md";
    vec![
        s(errors, "errno-table", errno_table()),
        s(errors, "errno-details", errno_details()),
        s(errors, "reply-table", reply_table()),
        s(errors, "reply-details", reply_details()),
        s(errors, "log-table", log_table()),
        s(errors, "verdict-table", verdict_table()),
        s(heartbeats, "concepts", concept_details()),
        s(heartbeats, "timings", timings()),
        s(heartbeats, "measured-timeline", measured_timeline()),
        s(heartbeats, "client-table", client_table()),
        s(heartbeats, "negotiation-examples", negotiation_examples()),
        s(heartbeats, "client-details", client_details()),
        s(heartbeats, "middlebox-table", middlebox_table()),
        s(
            middlebox_doc,
            "middlebox-reproduce",
            middlebox_reproduce_table(),
        ),
        s("docs/tls-testing.md", "tls-shapes", tls_shapes_table()),
    ]
}

/// Certificate shape × client family (data/knowledge/tls.toml): the
/// matrix, then every verdict with what the library does and its source.
fn tls_shapes_table() -> String {
    use super::tls::{shapes, Family};
    let mut header = vec!["shape"];
    header.extend(Family::ALL.iter().map(|f| match f {
        Family::Openssl => "OpenSSL (pika, PHP, Node, rabbitmq-c)",
        Family::Java => "Java",
        Family::Dotnet => ".NET",
        Family::Go => "Go",
        Family::Rustls => "rustls (lapin, amqpdoctor)",
    }));
    let matrix = table(
        &header,
        shapes().iter().map(|s| {
            let mut row = vec![format!("`{}`: {}", s.id, esc(&s.title))];
            row.extend(
                Family::ALL
                    .iter()
                    .map(|f| s.rule(*f).map_or("?".into(), |r| r.verdict.to_string())),
            );
            row
        }),
    );
    let details = table(
        &[
            "shape",
            "family",
            "verdict",
            "what the library does",
            "source (how known)",
        ],
        shapes().iter().flat_map(|s| {
            s.family.iter().map(move |r| {
                vec![
                    format!("`{}`", s.id),
                    r.family.to_string(),
                    r.verdict.to_string(),
                    esc(&r.why),
                    esc(&format!(
                        "{} `{}` {} ({})",
                        r.source.from, r.source.path, r.source.version, r.evidence
                    )),
                ]
            })
        }),
    );
    format!(
        "{matrix}
{details}"
    )
}

/// Text for a table cell: pipes escaped.
fn esc(text: &str) -> String {
    text.replace('|', "\\|")
}

/// A table cell of items, joined with line breaks.
fn cell(items: &[String]) -> String {
    esc(&items.join("<br>"))
}

fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for row in rows {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

fn bullets(out: &mut String, heading: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    out.push_str(&format!("**{heading}**\n\n"));
    for item in items {
        out.push_str(&format!("- {item}\n"));
    }
    out.push('\n');
}

fn sources(out: &mut String, sources: &[Source]) {
    let cites: Vec<String> = sources.iter().map(Source::cite).collect();
    out.push_str(&format!("*Sources: {}.*\n\n", cites.join("; ")));
}

fn details(out: &mut String, heading: &str, a: &About) {
    out.push_str(&format!("### {heading}\n\n{}\n\n", a.meaning));
    bullets(out, "Usual causes", &a.causes);
    bullets(out, "How to confirm with amqpdoctor", &a.confirm);
    bullets(out, "What to do", &a.remedy);
    sources(out, &a.sources);
}

fn finish(out: String) -> String {
    out.trim_end().to_string() + "\n"
}

fn errno_table() -> String {
    let e = eof();
    table(
        &["errno", "name", "strerror", "on a broker connection"],
        errnos()
            .iter()
            .map(|e| {
                vec![
                    e.errno.to_string(),
                    format!("`{}`", e.name),
                    e.text.clone(),
                    esc(&e.about.meaning),
                ]
            })
            .chain(std::iter::once(vec![
                "—".into(),
                format!("`{}`", e.name),
                e.text.clone(),
                esc(&e.about.meaning),
            ])),
    )
}

fn errno_details() -> String {
    let mut out = String::new();
    for e in errnos() {
        details(
            &mut out,
            &format!("{} ({}): {}", e.name, e.errno, e.text),
            &e.about,
        );
    }
    let e = eof();
    details(&mut out, &format!("{}: {}", e.name, e.text), &e.about);
    finish(out)
}

fn reply_table() -> String {
    table(
        &["code", "name", "class", "meaning"],
        replies().iter().map(|r| {
            vec![
                r.code.to_string(),
                format!("`{}`", r.name),
                r.class.describe().into(),
                esc(&r.about.meaning),
            ]
        }),
    )
}

fn reply_details() -> String {
    let mut out = String::new();
    for r in replies() {
        details(
            &mut out,
            &format!("{} {} ({})", r.code, r.name, r.class.describe()),
            &r.about,
        );
    }
    finish(out)
}

fn log_table() -> String {
    table(
        &[
            "the line contains",
            "printed by",
            "what it is",
            "explained by",
            "example",
            "read in",
        ],
        log_patterns().iter().map(|p| {
            let needles: Vec<String> = p.needles.iter().map(|n| format!("`{n}`")).collect();
            let target = if p.refine {
                format!("`{}` (or the errno / reply code in the line)", p.points_to)
            } else {
                format!("`{}`", p.points_to)
            };
            let printed_by = match &p.versions {
                Some(v) => format!("{} ({v})", p.printed_by),
                None => p.printed_by.clone(),
            };
            let cites: Vec<String> = p.sources.iter().map(Source::cite).collect();
            vec![
                esc(&needles.join(" + ")),
                esc(&printed_by),
                esc(&p.title),
                target,
                esc(&format!("`{}`", p.example.replace('`', "'"))),
                cell(&cites),
            ]
        }),
    )
}

fn verdict_table() -> String {
    table(
        &["verdict", "what happened", "meaning", "what to do"],
        verdicts().iter().map(|v| {
            vec![
                format!("`{}`", v.code.as_str()),
                esc(&v.title),
                esc(&v.about.meaning),
                cell(&v.about.remedy),
            ]
        }),
    )
}

fn concept_details() -> String {
    let mut out = String::new();
    for c in concepts() {
        out.push_str(&format!("### {}\n\n{}\n\n", c.title, c.meaning));
        bullets(&mut out, "How it works", &c.how_it_works);
        bullets(&mut out, "How to confirm with amqpdoctor", &c.confirm);
        bullets(&mut out, "What to do", &c.remedy);
        sources(&mut out, &c.sources);
    }
    finish(out)
}

fn starves(row: &ClientVersion) -> &'static str {
    if row.starves_when_idle {
        "**yes**"
    } else {
        "no"
    }
}

fn client_table() -> String {
    table(
        &[
            "client",
            "versions",
            "setting, default",
            "negotiation",
            "who sends heartbeats",
            "starves when idle",
        ],
        clients().iter().flat_map(|c| {
            c.versions.iter().map(move |v| {
                vec![
                    format!("`{}`", c.id),
                    esc(&v.label),
                    esc(&v.setting),
                    v.negotiation.short().into(),
                    esc(&v.dispatch),
                    starves(v).into(),
                ]
            })
        }),
    )
}

/// The settings shown in the negotiation example table: (server S, client C).
pub const NEGOTIATION_EXAMPLES: &[(u16, Option<u16>)] = &[
    (60, None),
    (60, Some(0)),
    (60, Some(30)),
    (60, Some(120)),
    (0, None),
    (0, Some(0)),
    (0, Some(30)),
];

fn negotiation_examples() -> String {
    let mut header = vec!["client".to_string(), "versions".to_string()];
    header.extend(NEGOTIATION_EXAMPLES.iter().map(|(s, c)| match c {
        None => format!("S={s}, default"),
        Some(c) => format!("S={s}, C={c}"),
    }));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(
        &header,
        clients().iter().flat_map(|lib| {
            lib.versions.iter().map(move |v| {
                let mut row = vec![format!("`{}`", lib.id), esc(&v.label)];
                row.extend(
                    NEGOTIATION_EXAMPLES
                        .iter()
                        .map(|(s, c)| negotiate_for(v, *s, *c).to_string()),
                );
                row
            })
        }),
    )
}

fn client_details() -> String {
    let mut out = String::new();
    for c in clients() {
        out.push_str(&format!("### `{}`: {}\n\n", c.id, c.name));
        for v in &c.versions {
            out.push_str(&format!("#### {} {}\n\n", c.name, v.label));
            out.push_str(&format!("- Setting: {}\n", v.setting));
            out.push_str(&format!("- Negotiation: {}\n", v.negotiation.describe()));
            out.push_str(&format!("- Who sends heartbeats: {}\n", v.dispatch));
            let starves = if v.starves_when_idle {
                "yes: heartbeats stop when the application stops pumping the connection"
            } else {
                "no"
            };
            out.push_str(&format!("- Starves when idle: {starves}\n\n"));
            bullets(
                &mut out,
                "What it reports when the connection dies",
                &v.symptoms,
            );
            bullets(&mut out, "What to do", &v.remedy);
            sources(&mut out, &v.sources);
        }
    }
    finish(out)
}

fn middlebox_table() -> String {
    table(
        &[
            "middlebox",
            "default idle timeout",
            "what the endpoints see",
            "source",
        ],
        middleboxes().iter().map(|m| {
            let cites: Vec<String> = m.sources.iter().map(Source::cite).collect();
            vec![
                esc(&m.name),
                esc(&m.idle_timeout),
                esc(&m.endpoints_see),
                cell(&cites),
            ]
        }),
    )
}

/// The idle timeout in docs/middleboxes.md's commands: minutes scaled down
/// to seconds, so a reproduction takes one probe run.
const REPRODUCE_IDLE_TIMEOUT: &str = "5s";

/// The `amqpdoctor proxy` command that ends an idle connection the way a
/// middlebox with this `--on-idle` mode does (listening on 127.0.0.1:5673,
/// forwarding to 127.0.0.1:5672: the proxy's defaults).
fn reproduce_command(on_idle: OnIdle) -> String {
    format!("amqpdoctor proxy --idle-timeout {REPRODUCE_IDLE_TIMEOUT} --on-idle {on_idle}")
}

fn middlebox_reproduce_table() -> String {
    table(
        &[
            "middlebox",
            "default idle timeout",
            "what the endpoints see",
            "reproduce with",
            "source",
        ],
        middleboxes().iter().map(|m| {
            let cites: Vec<String> = m.sources.iter().map(Source::cite).collect();
            let mut reproduce = vec![format!("`{}`", reproduce_command(m.on_idle))];
            reproduce.extend(m.reproduce_note.clone());
            vec![
                esc(&m.name),
                esc(&m.idle_timeout),
                esc(&m.endpoints_see),
                cell(&reproduce),
                cell(&cites),
            ]
        }),
    )
}

fn measured_timeline() -> String {
    let t = starved_timeline();
    let mut out = format!("{}\n\n", t.title);
    out.push_str(&table(
        &["t (s)", "who", "what"],
        t.rows
            .iter()
            .map(|r| vec![esc(&r.t), esc(&r.who), esc(&r.what)]),
    ));
    out.push('\n');
    sources(&mut out, &t.sources);
    finish(out)
}

fn timings() -> String {
    let t = RABBITMQ_DEFAULT_HEARTBEAT_S;
    let hb = Heartbeat::from_secs(t);
    let (lo, hi) = (
        hb.broker_may_drop_ms() / 1000,
        hb.broker_drops_by_ms() / 1000,
    );
    let keepalive = tcp_keepalive_detection_s();
    let smallest = smallest_middlebox().map_or(String::new(), |m| {
        format!(
            "- Smallest common middlebox idle timeout: {} s ({}); keep T/2 well below it.",
            m.idle_timeout_s.unwrap_or_default(),
            m.name
        )
    });
    [
        format!(
            "- Heartbeat frames: RabbitMQ sends one after T/2 without other outgoing \
             traffic (at its default T = {t} s: every {} s); when a client sends its own \
             depends on the library (see the table below).",
            hb.send_every_ms() / 1000
        ),
        format!(
            "- RabbitMQ declares a silent client dead between 2T and 3T after its last byte \
             (T = {t} s: {lo}–{hi} s), and closes with linger 0: the client sees RST, not FIN."
        ),
        format!(
            "- Recommended: {RECOMMENDED_HEARTBEAT_MIN_S}–{RECOMMENDED_HEARTBEAT_MAX_S} s; \
             below {FALSE_POSITIVE_BELOW_S} s, false positives."
        ),
        format!(
            "- Heartbeats off: only TCP keepalive is left, after {TCP_KEEPALIVE_IDLE_S} s idle \
             + {TCP_KEEPALIVE_PROBES} × {TCP_KEEPALIVE_INTERVAL_S} s probes = {keepalive} s \
             (about {} h {} min) with Linux defaults, and only if the application enabled \
             SO_KEEPALIVE.",
            keepalive / 3600,
            keepalive % 3600 / 60
        ),
        format!(
            "- A peer that vanished without RST: writes succeed locally until retransmissions \
             give up, {} minutes or more later with Linux defaults (ETIMEDOUT).",
            TCP_RETRANSMIT_GIVE_UP_S / 60
        ),
        smallest,
    ]
    .join("\n")
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_a_row_per_entry() {
        let rows = |s: &str| s.lines().filter(|l| l.starts_with("| ")).count() - 1;
        let client_rows: usize = clients().iter().map(|c| c.versions.len()).sum();
        assert_eq!(rows(&errno_table()), errnos().len() + 1);
        assert_eq!(rows(&reply_table()), replies().len());
        assert_eq!(rows(&client_table()), client_rows);
        assert_eq!(rows(&log_table()), log_patterns().len());
        assert_eq!(rows(&verdict_table()), verdicts().len());
        assert_eq!(rows(&middlebox_table()), middleboxes().len());
        assert_eq!(rows(&middlebox_reproduce_table()), middleboxes().len());
        assert_eq!(rows(&negotiation_examples()), client_rows);
        for s in generated_sections() {
            assert!(
                s.content.ends_with('\n') && !s.content.ends_with("\n\n"),
                "{}",
                s.name
            );
        }
    }

    /// The `--on-idle` values a text names, each parsed as the proxy's
    /// `OnIdle` (the same names the CLI accepts).
    fn on_idle_modes(text: &str) -> Vec<Result<OnIdle, String>> {
        text.split("--on-idle ")
            .skip(1)
            .map(|rest| {
                let word: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                serde_json::from_value::<OnIdle>(serde_json::Value::String(word.clone()))
                    .map_err(|e| format!("`--on-idle {word}`: {e}"))
            })
            .collect()
    }

    #[test]
    fn every_middlebox_row_names_a_proxy_mode_that_parses() {
        let table = middlebox_reproduce_table();
        let rows: Vec<&str> = table.lines().skip(2).collect();
        assert_eq!(rows.len(), middleboxes().len());
        for (m, row) in middleboxes().iter().zip(rows) {
            assert!(row.starts_with(&format!("| {} |", esc(&m.name))), "{row}");
            let modes = on_idle_modes(row);
            assert!(!modes.is_empty(), "{}: no `--on-idle` in {row}", m.name);
            for mode in &modes {
                assert!(mode.is_ok(), "{}: {mode:?}", m.name);
            }
            // The command comes first and names the entry's own mode.
            assert_eq!(modes[0], Ok(m.on_idle), "{}", m.name);
            assert!(
                row.contains(&format!("`{}`", reproduce_command(m.on_idle))),
                "{row}"
            );
        }
        // The check itself: a misspelt mode does not parse.
        assert!(on_idle_modes("--on-idle rst")[0].is_err());
        assert_eq!(on_idle_modes("`--on-idle drop`"), vec![Ok(OnIdle::Drop)]);
    }
}
