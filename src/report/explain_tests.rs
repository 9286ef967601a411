//! Tests of the explain renderers (human, JSON, list).

use super::*;
use crate::knowledge::{log_patterns, lookup, topic_names};
use crate::report::explain_json::render_json;

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

#[test]
fn every_topic_has_one_of_each_key_at_the_top() {
    // A flattened field named like an envelope field (`version`) printed
    // the key twice; a JSON reader then kept the second and lost ours.
    for q in [
        "pika@1.3",
        "pika",
        "104",
        "320",
        "broker_heartbeat_timeout",
        "heartbeat",
    ] {
        let t = lookup(q).unwrap_or_else(|_| panic!("{q}"));
        let s = render_json(q, &t).unwrap_or_default();
        let top: Vec<&str> = s
            .lines()
            .filter(|l| l.starts_with("  \"") && !l.starts_with("   "))
            .filter_map(|l| l.trim_start().split('"').nth(1))
            .collect();
        let mut unique = top.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            top.len(),
            "{q}: a key printed twice in {top:?}"
        );
        assert_eq!(json(q)["version"], env!("CARGO_PKG_VERSION"), "{q}");
    }
}
