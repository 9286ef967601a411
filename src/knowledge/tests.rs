//! The data files are validated here: they parse, every entry carries a
//! source, every pointer resolves, every example is recognised as itself,
//! and what users paste is recognised.

use strum::VariantArray;

use super::lookup::exact_for_tests as exact;
use super::*;
use crate::vocab::VerdictCode;

fn topic(q: &str) -> (String, String) {
    match lookup(q) {
        Ok(t) => (t.kind().to_string(), t.name()),
        Err(near) => ("error".into(), near.join(",")),
    }
}

/// The topic that explains `q` in the end: the topic itself, or for a
/// pasted line, what it points to.
#[test]
fn every_data_file_parses() {
    for (name, text) in DATA_FILES {
        let parsed: Result<toml::Table, _> = toml::from_str(text);
        assert!(parsed.is_ok(), "{name}: {parsed:?}");
    }
    // Touch every table: a file that parses as TOML but not as our types
    // panics here, naming the file.
    assert!(!errnos().is_empty());
    assert!(!eof().about.meaning.is_empty());
    assert!(!replies().is_empty());
    assert!(!clients().is_empty());
    assert!(!verdicts().is_empty());
    assert!(!log_patterns().is_empty());
    assert!(!concepts().is_empty());
    assert!(!middleboxes().is_empty());
    assert!(!starved_timeline().rows.is_empty());
}

fn check_sources(what: &str, sources: &[Source]) {
    assert!(!sources.is_empty(), "{what} has no source");
    for s in sources {
        for (field, value) in [
            ("from", &s.from),
            ("path", &s.path),
            ("version", &s.version),
        ] {
            assert!(
                !value.trim().is_empty(),
                "{what}: a source without `{field}`"
            );
        }
        assert!(!s.cite().contains("FACTS"), "{what} cites FACTS.md");
    }
}

#[test]
fn every_entry_carries_its_source() {
    for e in errnos() {
        check_sources(&e.name, &e.about.sources);
    }
    check_sources("EOF", &eof().about.sources);
    for r in replies() {
        check_sources(&r.code.to_string(), &r.about.sources);
    }
    // The raw file, not clients(), which drops a library without rows.
    let raw: ClientFile = load("clients.toml");
    assert_eq!(raw.client.len(), clients().len());
    for c in &raw.client {
        assert!(!c.versions.is_empty(), "{} has no versions", c.id);
        for v in &c.versions {
            check_sources(&format!("{} {}", c.id, v.label), &v.sources);
        }
    }
    for v in verdicts() {
        check_sources(v.code.as_str(), &v.about.sources);
    }
    for p in log_patterns() {
        check_sources(&p.id, &p.sources);
    }
    for c in concepts() {
        check_sources(&c.id, &c.sources);
    }
    for m in middleboxes() {
        check_sources(&m.name, &m.sources);
    }
    check_sources("starved timeline", &starved_timeline().sources);
}

#[test]
fn user_facing_text_never_cites_the_internal_notebook() {
    for (name, text) in DATA_FILES {
        assert!(!text.contains("FACTS"), "{name} mentions FACTS.md");
    }
    for s in generated_sections() {
        assert!(!s.content.contains("FACTS"), "{} mentions FACTS.md", s.name);
    }
}

#[test]
fn citations_read_naturally() {
    let s = Source {
        from: "pika/pika".into(),
        path: "pika/connection.py".into(),
        version: "1.3.2".into(),
    };
    assert_eq!(s.cite(), "pika/pika 1.3.2, pika/connection.py");
    let m = Source {
        from: "measured".into(),
        path: "amqpdoctor probe --mode starved".into(),
        version: "RabbitMQ 3.10.8".into(),
    };
    assert_eq!(
        m.cite(),
        "measured: amqpdoctor probe --mode starved (RabbitMQ 3.10.8)"
    );
}

#[test]
fn tables_are_complete_and_unique() {
    for &code in VerdictCode::VARIANTS {
        assert!(verdict(code).is_some(), "no verdict entry for {code}");
    }
    assert_eq!(verdicts().len(), VerdictCode::VARIANTS.len());
    for n in [104, 32, 110, 111, 113, 101, 103, 112, 107, 99] {
        assert!(errno_by_number(n).is_some(), "errno {n}");
    }
    let codes = [
        200, 311, 312, 313, 320, 402, 403, 404, 405, 406, 501, 502, 503, 504, 505, 506, 530, 540,
        541,
    ];
    for c in codes {
        assert!(reply_by_code(c).is_some(), "reply {c}");
    }
    let mut names = topic_names();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "duplicate topic names");
    let mut ids: Vec<&str> = log_patterns().iter().map(|p| p.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), log_patterns().len(), "duplicate log pattern ids");
}

#[test]
fn hard_and_soft_as_the_codegen_file_classes_them() {
    let soft = [403, 404, 405, 406];
    let not_errors = [200, 311, 312, 313];
    for r in replies() {
        let want_hard = !soft.contains(&r.code) && !not_errors.contains(&r.code);
        assert_eq!(r.hard, want_hard, "{}", r.code);
        assert_eq!(r.hard, r.class == ReplyClass::HardError, "{}", r.code);
        assert!(
            r.name.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
            "{}",
            r.name
        );
    }
}

#[test]
fn every_text_field_is_filled() {
    let filled = |what: &str, fields: &[&str]| {
        for f in fields {
            assert!(!f.trim().is_empty(), "{what}");
        }
    };
    let lists = |what: &str, lists: &[&[String]]| {
        for l in lists {
            assert!(!l.is_empty(), "{what}");
            for item in *l {
                assert!(!item.trim().is_empty(), "{what}");
            }
        }
    };
    for e in errnos() {
        filled(&e.name, &[&e.text, &e.about.meaning]);
        lists(
            &e.name,
            &[&e.about.causes, &e.about.confirm, &e.about.remedy],
        );
    }
    for r in replies() {
        filled(&r.name, &[&r.about.meaning]);
        lists(
            &r.name,
            &[&r.about.causes, &r.about.confirm, &r.about.remedy],
        );
    }
    for v in verdicts() {
        filled(v.code.as_str(), &[&v.title, &v.about.meaning]);
        lists(
            v.code.as_str(),
            &[&v.about.causes, &v.about.confirm, &v.about.remedy],
        );
    }
    for c in clients() {
        filled(&c.id, &[&c.name]);
        for v in &c.versions {
            filled(&c.id, &[&v.label, &v.setting, &v.dispatch]);
            lists(&c.id, &[&v.remedy]);
        }
    }
    for c in concepts() {
        filled(&c.id, &[&c.title, &c.meaning]);
        lists(&c.id, &[&c.how_it_works, &c.confirm, &c.remedy]);
    }
}

#[test]
fn lookup_exact_topics() {
    let rows: &[(&str, &str, &str)] = &[
        ("104", "errno", "ECONNRESET"),
        ("-104", "errno", "ECONNRESET"),
        ("ECONNRESET", "errno", "ECONNRESET"),
        ("econnreset", "errno", "ECONNRESET"),
        ("connreset", "errno", "ECONNRESET"),
        ("errno 104", "errno", "ECONNRESET"),
        ("errno=104", "errno", "ECONNRESET"),
        ("[Errno 104]", "errno", "ECONNRESET"),
        ("os error 104", "errno", "ECONNRESET"),
        ("error 104", "errno", "ECONNRESET"),
        ("Socket Error: 104", "errno", "ECONNRESET"),
        ("32", "errno", "EPIPE"),
        ("EPIPE", "errno", "EPIPE"),
        ("110", "errno", "ETIMEDOUT"),
        ("111", "errno", "ECONNREFUSED"),
        ("113", "errno", "EHOSTUNREACH"),
        ("101", "errno", "ENETUNREACH"),
        ("103", "errno", "ECONNABORTED"),
        ("112", "errno", "EHOSTDOWN"),
        ("107", "errno", "ENOTCONN"),
        ("99", "errno", "EADDRNOTAVAIL"),
        ("EOF", "eof", "EOF"),
        ("end of file", "eof", "EOF"),
        ("UnexpectedEof", "eof", "EOF"),
        ("200", "reply_code", "200"),
        ("320", "reply_code", "320"),
        ("reply code 320", "reply_code", "320"),
        ("CONNECTION_FORCED", "reply_code", "320"),
        ("connection-forced", "reply_code", "320"),
        ("connection forced", "reply_code", "320"),
        ("access_refused", "reply_code", "403"),
        ("not-allowed", "reply_code", "530"),
        ("541", "reply_code", "541"),
        ("pika-blocking", "client", "pika-blocking"),
        ("pika", "client", "pika-blocking"),
        ("Pika Blocking", "client", "pika-blocking"),
        ("pika@0.10", "client", "pika-blocking@0.10"),
        ("pika@1.3.2", "client", "pika-blocking@≥ 1.0"),
        ("pika-0.10", "client", "pika-blocking"),
        ("pika-select", "client", "pika-select"),
        ("kombu", "client", "kombu"),
        ("py-amqp", "client", "kombu"),
        ("celery", "client", "celery"),
        ("celery-publisher", "client", "celery-publisher"),
        ("php-amqplib", "client", "php-amqplib"),
        ("amqplib", "client", "node-amqplib"),
        ("rabbitmq-c", "client", "rabbitmq-c"),
        ("java", "client", "java"),
        ("spring", "client", "spring-amqp"),
        ("dotnet", "client", "dotnet"),
        (".NET", "client", "dotnet"),
        ("C#", "client", "dotnet"),
        ("go", "client", "go-amqp091"),
        ("streadway", "client", "go-streadway"),
        ("bunny", "client", "bunny"),
        ("aio-pika", "client", "aio-pika"),
        ("aiormq", "client", "aio-pika"),
        ("lapin", "client", "lapin"),
        ("heartbeat", "concept", "heartbeat"),
        ("heartbeats", "concept", "heartbeat"),
        ("Heartbeat timeout", "concept", "heartbeat"),
        ("healthy", "verdict", "healthy"),
        (
            "broker-heartbeat-timeout",
            "verdict",
            "broker_heartbeat_timeout",
        ),
        ("timeout", "verdict", "timeout"),
    ];
    for &(q, kind, name) in rows {
        assert_eq!(
            topic(q),
            (kind.to_string(), name.to_string()),
            "query {q:?}"
        );
    }
    for name in topic_names() {
        let (kind, canonical) = topic(&name);
        assert_ne!(kind, "error", "{name}");
        // Numbers and names of the same entry resolve to the same canonical name.
        assert_eq!(topic(&canonical).1, canonical, "{name}");
    }
}

#[test]
fn topic_list_names_every_topic_under_its_kind() {
    let list = topic_list();
    let mut listed = Vec::new();
    for (kind, topics) in list.groups() {
        assert!(!topics.is_empty(), "{kind}");
        for t in topics {
            assert!(!t.title.trim().is_empty(), "{kind} {}", t.topic);
            // Each entry resolves to itself under its group's kind; a log
            // line through its example.
            let query = t.example.as_deref().unwrap_or(&t.topic);
            let found = lookup(query).map(|f| (f.kind(), f.name()));
            assert_eq!(found, Ok((kind, t.topic.clone())), "{query}");
            let log = kind == "log_line";
            assert_eq!(
                (t.example.is_some(), t.source.is_some()),
                (log, log),
                "{}",
                t.topic
            );
            listed.push((kind, t.topic.clone()));
        }
    }
    for name in topic_names() {
        let (kind, canonical) = topic(&name);
        assert!(
            listed.iter().any(|(k, t)| *k == kind && *t == canonical),
            "{name} ({kind} {canonical}) not listed"
        );
    }
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), listed.len(), "listed twice: {listed:?}");
    let v = serde_json::to_value(&list).unwrap_or_default();
    assert!(v["errno"][0].get("example").is_none(), "{v}");
    assert!(v["log_line"][0]["example"].is_string(), "{v}");
    assert_eq!(v["log_line"][0]["source"], "RabbitMQ log", "{v}");
}

#[test]
fn every_log_example_matches_its_own_pattern_first() {
    for p in log_patterns() {
        assert!(p.needles.iter().all(|n| *n == n.to_lowercase()), "{}", p.id);
        match lookup(&p.example) {
            Ok(Topic::Log(m)) => assert_eq!(
                m.pattern.map(|m| m.id.as_str()),
                Some(p.id.as_str()),
                "the example of {}",
                p.id
            ),
            other => panic!("example of {} gave {:?}", p.id, other.map(|t| t.name())),
        }
    }
}

#[test]
fn every_pointer_resolves() {
    for p in log_patterns() {
        let t = exact(&p.points_to).unwrap_or_else(|| panic!("{} → {}", p.id, p.points_to));
        assert!(!matches!(t, Topic::Log(_)), "{}", p.id);
        if let Some(c) = &p.client {
            assert!(client_spec(c).is_ok(), "{}: client {c}", p.id);
        }
    }
}

#[test]
fn heartbeat_timings_and_warnings() {
    assert_eq!(tcp_keepalive_detection_s(), 7875);
    assert_eq!(smallest_middlebox_idle_s(), 240);
    assert!(heartbeat_warnings(10).is_empty());
    assert!(heartbeat_warnings(60).is_empty());
    assert_eq!(heartbeat_warnings(2).len(), 1);
    let w = heartbeat_warnings(300);
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("Azure"), "{w:?}");
    assert!(heartbeat_warnings(0)[0].contains("keepalive"));
}

#[test]
fn items_serialize_as_arrays_with_sources() {
    let v = serde_json::to_value(&errnos()[0]).unwrap_or_default();
    assert!(v["causes"].as_array().is_some_and(|a| a.len() > 1), "{v}");
    assert_eq!(v["errno"], 104);
    assert!(v["sources"][0]["from"].is_string(), "{v}");
}

/// Every key in `raw` (the data file as TOML) also comes out of the typed
/// value: a misspelt key (`remedies`, `sorces`) in an entry that flattens
/// [`About`], where serde cannot deny unknown fields, fails here instead of
/// vanishing.
fn keys_kept(path: &str, raw: &serde_json::Value, typed: &serde_json::Value) {
    use serde_json::Value;
    match (raw, typed) {
        (Value::Object(r), Value::Object(t)) => {
            for (k, v) in r {
                let Some(tv) = t.get(k) else {
                    panic!("{path}.{k}: a key the types do not know")
                };
                keys_kept(&format!("{path}.{k}"), v, tv);
            }
        }
        (Value::Array(r), Value::Array(t)) => {
            assert_eq!(r.len(), t.len(), "{path}");
            for (i, (rv, tv)) in r.iter().zip(t).enumerate() {
                keys_kept(&format!("{path}[{i}]"), rv, tv);
            }
        }
        _ => {}
    }
}

#[test]
fn no_key_in_the_data_is_ignored() {
    let raw = |file: &str| -> serde_json::Value {
        let text = DATA_FILES
            .iter()
            .find(|(n, _)| *n == file)
            .map_or("", |(_, t)| t);
        let table: toml::Table = toml::from_str(text).unwrap_or_default();
        serde_json::to_value(table).unwrap_or_default()
    };
    let typed = |v: serde_json::Result<serde_json::Value>| v.unwrap_or_default();
    let tables: [(&str, &str, serde_json::Value); 9] = [
        ("errno.toml", "errno", typed(serde_json::to_value(errnos()))),
        ("errno.toml", "eof", typed(serde_json::to_value(eof()))),
        (
            "replies.toml",
            "reply",
            typed(serde_json::to_value(replies())),
        ),
        (
            "clients.toml",
            "client",
            typed(serde_json::to_value(clients())),
        ),
        (
            "verdicts.toml",
            "verdict",
            typed(serde_json::to_value(verdicts())),
        ),
        (
            "logs.toml",
            "log",
            typed(serde_json::to_value(log_patterns())),
        ),
        (
            "concepts.toml",
            "concept",
            typed(serde_json::to_value(concepts())),
        ),
        (
            "middleboxes.toml",
            "middlebox",
            typed(serde_json::to_value(middleboxes())),
        ),
        (
            "middleboxes.toml",
            "starved_timeline",
            typed(serde_json::to_value(starved_timeline())),
        ),
    ];
    for (file, key, typed) in tables {
        let raw = raw(file);
        assert!(!raw[key].is_null(), "{file}: no `{key}`");
        keys_kept(&format!("{file}:{key}"), &raw[key], &typed);
    }
    // The check itself: a misspelt key is caught.
    let bad = serde_json::json!({"meaning": "m", "remedies": []});
    let good = serde_json::json!({"meaning": "m", "remedy": []});
    let caught = std::panic::catch_unwind(|| keys_kept("x", &bad, &good));
    assert!(caught.is_err());
}

#[test]
fn a_middlebox_names_a_proxy_mode_and_a_typo_fails_parsing() {
    use crate::vocab::proxy::OnIdle;
    for m in middleboxes() {
        if let Some(note) = &m.reproduce_note {
            assert!(!note.trim().is_empty(), "{}: empty reproduce_note", m.name);
        }
    }
    // The boxes documented to answer with RST, and the configurable ones,
    // map as docs/middleboxes.md explains.
    let mode = |name: &str| {
        middleboxes()
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.on_idle)
    };
    assert_eq!(mode("AWS NAT gateway"), Some(OnIdle::Forget));
    assert_eq!(mode("Azure Load Balancer"), Some(OnIdle::Drop));
    assert_eq!(mode("HAProxy"), Some(OnIdle::Close));
    let entry = |on_idle: &str| {
        toml::from_str::<Middlebox>(&format!(
            "name = \"x\"\nidle_timeout = \"1 s\"\nendpoints_see = \"y\"\n\
             on_idle = \"{on_idle}\"\nsources = []\n"
        ))
    };
    for ok in ["reset", "forget", "drop", "close"] {
        assert!(entry(ok).is_ok(), "{ok}: {:?}", entry(ok).err());
    }
    for bad in ["rst", "Reset", "fin", ""] {
        assert!(entry(bad).is_err(), "{bad:?} parsed");
    }
}
