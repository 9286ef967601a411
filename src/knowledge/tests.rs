//! The data files are validated here: they parse, every entry carries a
//! source, every pointer resolves, every example is recognised as itself,
//! and what users paste is recognised.

use strum::VariantArray;

use super::lookup::exact_for_tests as exact;
use super::*;
use crate::vocab::VerdictCode;

fn spec(s: &str) -> ClientSpec<'static> {
    client_spec(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

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
fn negotiate_for_libraries() {
    // (client[@version], S, requested, expected), each read in the library's
    // source at the version named in clients.toml.
    let rows: &[(&str, u16, Option<u16>, u16)] = &[
        ("pika", 60, None, 60),
        ("pika", 60, Some(0), 0),
        ("pika", 60, Some(120), 120),
        ("pika@0.13", 60, Some(120), 120),
        ("pika@0.12.0", 0, Some(30), 30),
        // 0.11.1–0.11.2: the Java rule.
        ("pika@0.11.2", 60, Some(0), 60),
        ("pika@0.11.1", 60, Some(120), 60),
        // 0.11.0: either 0 → 0, else the larger.
        ("pika@0.11.0", 60, Some(30), 60),
        ("pika@0.11.0", 0, Some(30), 0),
        ("pika@0.11", 60, Some(0), 0),
        // 0.10: client 0 → 0; server 0 → the client's; else min.
        ("pika@0.10", 60, Some(0), 0),
        ("pika@0.10", 60, None, 60),
        ("pika@0.10", 60, Some(120), 60),
        ("pika@0.10", 0, Some(30), 30),
        ("pika-select", 60, Some(0), 0),
        ("kombu", 60, None, 0),
        ("kombu", 60, Some(30), 30),
        ("kombu", 0, Some(30), 30),
        ("celery", 60, None, 60),
        ("celery", 30, None, 30),
        ("celery-publisher", 60, None, 0),
        ("php-amqplib", 60, None, 0),
        ("php-amqplib", 0, Some(60), 60),
        ("php-amqplib", 60, Some(120), 60),
        ("php-amqplib@3.4", 0, Some(60), 0),
        ("php-amqplib@3.3.0", 60, Some(0), 60),
        ("php-amqplib@3.2", 60, Some(120), 120),
        // rabbitmq-c: client 0 → 0; server 0 → client; else min (120 vs 60 → 60).
        ("rabbitmq-c", 60, Some(0), 0),
        ("rabbitmq-c", 60, None, 0),
        ("rabbitmq-c", 60, Some(120), 60),
        ("rabbitmq-c", 0, Some(30), 30),
        ("java", 60, Some(0), 60),
        ("java", 60, None, 60),
        ("java", 0, Some(60), 60),
        ("java", 30, None, 30),
        ("spring-amqp", 60, None, 60),
        ("dotnet", 60, Some(0), 60),
        ("dotnet", 0, None, 60),
        ("go-amqp091", 60, None, 10),
        ("go-amqp091", 0, None, 10),
        ("go-amqp091", 60, Some(0), 60),
        ("go-amqp091@1.9", 60, None, 10),
        ("go-streadway", 60, None, 10),
        ("node-amqplib@0.10.9", 60, None, 60),
        ("node-amqplib@0.10.9", 60, Some(0), 60),
        ("node-amqplib", 60, None, 60),
        ("node-amqplib", 60, Some(0), 0),
        ("node-amqplib", 0, Some(30), 30),
        ("bunny", 60, None, 60),
        ("bunny", 60, Some(0), 0),
        ("bunny", 0, Some(30), 30),
        ("aio-pika", 60, None, 60),
        ("aio-pika", 60, Some(120), 120),
        ("aio-pika", 60, Some(0), 0),
        ("lapin", 60, Some(0), 60),
        ("lapin", 60, None, 60),
        ("lapin", 0, Some(0), 0),
        ("lapin", 0, None, 0),
        ("lapin", 60, Some(30), 30),
        ("lapin", 60, Some(120), 60),
    ];
    for &(name, s, req, want) in rows {
        let spec = spec(name);
        assert_eq!(
            negotiate_for(spec.row(), s, req),
            want,
            "{name} ({}) S={s} requested={req:?}",
            spec.row().label
        );
    }
}

#[test]
fn why_a_request_is_not_honoured() {
    let rows: &[(&str, u16, u16, Option<&str>)] = &[
        ("lapin", 60, 0, Some("cannot disable")),
        ("java", 60, 0, Some("cannot disable")),
        ("pika", 60, 0, None),
        ("pika@0.10", 60, 120, Some("smaller")),
        ("pika@0.11.0", 60, 30, Some("larger")),
        ("php-amqplib@3.4", 0, 60, Some("turns heartbeats off")),
        ("rabbitmq-c", 60, 120, Some("smaller")),
        ("kombu", 60, 0, None),
        ("java", 60, 30, None),
    ];
    for &(name, s, req, want) in rows {
        let spec = spec(name);
        let why = why_not_honoured(&spec.lib.id, spec.row(), s, req);
        match want {
            None => assert!(why.is_none(), "{name}: {why:?}"),
            Some(w) => assert!(why.as_deref().unwrap_or("").contains(w), "{name}: {why:?}"),
        }
    }
}

#[test]
fn client_names_versions_and_aliases() {
    let mut names: Vec<String> = Vec::new();
    for c in clients() {
        names.push(c.id.clone());
        names.extend(c.aliases.iter().cloned());
        assert_eq!(c.id, c.id.to_lowercase(), "{}", c.id);
        assert!(c.aliases.iter().all(|a| *a == a.to_lowercase()), "{}", c.id);
        assert!(c.loggers.iter().all(|l| *l == l.to_lowercase()), "{}", c.id);
        for alias in &c.aliases {
            assert_eq!(
                client(alias).map(|l| l.id.as_str()),
                Some(c.id.as_str()),
                "{alias}"
            );
        }
        // Each version matches at most one row, and the labels differ.
        let mut labels: Vec<&str> = c.versions.iter().map(|v| v.label.as_str()).collect();
        labels.dedup();
        assert_eq!(labels.len(), c.versions.len(), "{}", c.id);
        for major in 0..12u64 {
            for minor in 0..20u64 {
                for patch in 0..4u64 {
                    let v = semver::Version::new(major, minor, patch);
                    let n = c.versions.iter().filter(|r| r.versions.matches(&v)).count();
                    assert!(n <= 1, "{} {v} matches {n} rows", c.id);
                }
            }
        }
    }
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "an id or alias names two libraries");
}

#[test]
fn client_specs_as_users_write_them() {
    let rows: &[(&str, Option<(&str, &str)>)] = &[
        ("pika", Some(("pika-blocking", "≥ 1.0"))),
        ("pika@1.3.2", Some(("pika-blocking", "≥ 1.0"))),
        ("PIKA@0.10", Some(("pika-blocking", "0.10"))),
        ("pika@0.11.1", Some(("pika-blocking", "0.11.1–0.11.2"))),
        ("pika@v0.13.1", Some(("pika-blocking", "0.12–0.13"))),
        ("amqplib@0.10", Some(("node-amqplib", "≤ 1.x"))),
        ("php-amqplib@3.5.3", Some(("php-amqplib", "≥ 3.5.3"))),
        ("go@1.9.0", Some(("go-amqp091", "< 1.10"))),
        ("pika@0.9", None),
        ("pika@x", None),
        ("nosuchlib", None),
        ("nosuchlib@1", None),
    ];
    for &(input, want) in rows {
        let got = client_spec(input)
            .ok()
            .map(|s| (s.lib.id.clone(), s.row().label.clone()));
        let want = want.map(|(id, label)| (id.to_string(), label.to_string()));
        assert_eq!(got, want, "{input}");
    }
    let err = client_spec("pika@0.9").err().unwrap_or_default();
    assert!(err.contains("0.10") && err.contains("≥ 1.0"), "{err}");
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
    ids.sort();
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

#[test]
fn versions_past_what_was_read_are_said_to_be() {
    for (spec, newer) in [
        ("kombu@5.4.2", true),
        ("kombu@5.3.7", false),
        ("celery@5.7.0", true),
        ("celery@5.6", false),
        ("pika@1.3.2", false),
    ] {
        let s = client_spec(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(s.newer_note().is_some(), newer, "{spec}");
    }
}

#[test]
fn every_client_can_be_recognised_by_its_properties() {
    for c in clients() {
        match (&c.looks_like, c.signatures.is_empty()) {
            (None, false) => {}
            (Some(other), true) => {
                let other = client(other).unwrap_or_else(|| panic!("{}: {other}?", c.id));
                assert!(
                    !other.signatures.is_empty() && other.looks_like.is_none(),
                    "{}: looks like {}, which has no signature of its own",
                    c.id,
                    other.id
                );
            }
            (None, true) => panic!("{}: no [[client.signature]] and no looks_like", c.id),
            (Some(_), false) => panic!("{}: a signature and looks_like both", c.id),
        }
        for s in &c.signatures {
            assert!(
                s.product.is_some() != s.product_contains.is_some(),
                "{}: a signature tests the product once",
                c.id
            );
            assert!(!s.called.is_empty(), "{}", c.id);
        }
    }
}

#[test]
fn signatures_compare_trimmed_and_ignoring_case() {
    use super::clients::Signature;
    let s = |product: Option<&str>, contains: Option<&str>, platform: Option<&str>| Signature {
        product: product.map(str::to_owned),
        product_contains: contains.map(str::to_owned),
        platform: platform.map(str::to_owned),
        called: "x".into(),
        ..Signature::default()
    };
    let rows = [
        (s(Some("RabbitMQ"), None, None), " rabbitmq ", "", true),
        (
            s(Some("RabbitMQ"), None, Some("java")),
            "RabbitMQ",
            "Java",
            true,
        ),
        (
            s(Some("RabbitMQ"), None, Some("java")),
            "RabbitMQ",
            ".NET",
            false,
        ),
        (
            s(None, Some("pika"), None),
            "Pika Python Client Library",
            "",
            true,
        ),
        (s(None, Some("pika"), None), "aiormq", "", false),
        (s(None, None, Some("php")), "anything", "PHP", false),
    ];
    for (sig, product, platform, want) in rows {
        assert_eq!(
            sig.matches(product, platform),
            want,
            "{product} / {platform}"
        );
    }
}
