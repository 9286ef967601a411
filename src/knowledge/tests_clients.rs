//! The client-library table: negotiation rules, names and versions as
//! users write them, rows past what was read, and the signatures `audit`
//! recognises a connection by.

use super::*;

fn spec(s: &str) -> ClientSpec<'static> {
    client_spec(s).unwrap_or_else(|e| panic!("{s}: {e}"))
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
        ("py-amqplib", 60, None, 0),
        ("py-amqplib", 60, Some(30), 0),
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
        ("py-amqplib", 60, 10, Some("no heartbeat setting")),
        ("py-amqplib", 60, 0, None),
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
            sig.matches(product, platform, ""),
            want,
            "{product} / {platform}"
        );
    }
    // A protocol test: Mono's 0-8 RabbitMQ.Client against the .NET client.
    let mono = Signature {
        protocol: Some("AMQP 0-8".into()),
        ..s(Some("RabbitMQ"), None, Some(".NET"))
    };
    assert!(mono.matches("RabbitMQ", ".NET", "amqp 0-8"));
    assert!(!mono.matches("RabbitMQ", ".NET", "AMQP 0-9-1"));
    assert!(!mono.matches("RabbitMQ", ".NET", ""));
}
