//! The check report over fixed outcomes: the judgement (pure) and every
//! format, as snapshots. `INSTA_UPDATE=always cargo test --lib report`
//! rewrites them after a deliberate change; review the diff.

use std::time::{Duration, Instant};

use super::*;
use crate::run::check::{CheckOutcome, StepRecord};
use crate::vocab::check::{HeartbeatRange, ServerExpectation, StepError};
use crate::vocab::{FailureKind, Heartbeat, SetupError, Stage};
use crate::wire::ServerInfo;

fn us(n: u64) -> Option<Duration> {
    Some(Duration::from_micros(n))
}

fn record(step: CheckStep, took: Option<Duration>, error: Option<StepError>) -> StepRecord {
    StepRecord { step, took, error }
}

fn server(product: &str) -> ServerInfo {
    ServerInfo {
        product: Some(product.into()),
        version: Some("3.10.8".into()),
        platform: Some("Erlang/OTP 25.2.3".into()),
        cluster_name: None,
        capabilities: vec![
            ("publisher_confirms".into(), true),
            ("basic.nack".into(), true),
        ],
        mechanisms: vec!["PLAIN".into()],
        locales: vec!["en_US".into()],
        protocol: "AMQP 0-9-1".into(),
    }
}

/// A passed check of the local broker, as measured here (times rounded).
fn passed(t0: Instant) -> CheckOutcome {
    use CheckStep::*;
    CheckOutcome {
        steps: vec![
            record(Dns, us(9), None),
            record(Connect, us(271), None),
            record(Handshake, us(4369), None),
            record(Channel, us(1134), None),
            record(Queue, us(2924), None),
            record(Publish, us(437), None),
            record(Get, us(311), None),
            record(Close, us(1985), None),
        ],
        handshake: Some(crate::wire::Handshake {
            server: server("RabbitMQ"),
            server_channel_max: 2047,
            server_frame_max: 131_072,
            server_heartbeat: Heartbeat::from_secs(60),
            channel_max: 2047,
            frame_max: 131_072,
            heartbeat: Heartbeat::from_secs(60),
        }),
        peer: Some("127.0.0.1:5672".parse().unwrap()),
        queue: Some("amqpdoctor.check.00000000deadbeef".into()),
        confirms: true,
        notes: vec![],
        tls_accepted: None,
        began: t0,
        total: Duration::from_micros(11_552),
        interrupted: false,
    }
}

/// A target that refused the connection.
fn refused(t0: Instant) -> CheckOutcome {
    use CheckStep::*;
    let err = StepError::Wire(SetupError {
        stage: Stage::Connect,
        kind: FailureKind::Io { errno: Some(111) },
        message: "connecting to 127.0.0.1:5999: connection refused (ECONNREFUSED) — is the \
                  broker listening there?"
            .into(),
    });
    let mut steps = vec![
        record(Dns, us(1), None),
        record(Connect, us(157), Some(err)),
    ];
    steps.extend([Handshake, Channel, Queue, Publish, Get, Close].map(|s| record(s, None, None)));
    CheckOutcome {
        steps,
        handshake: None,
        peer: None,
        queue: None,
        confirms: false,
        notes: vec![],
        tls_accepted: None,
        began: t0 + Duration::from_micros(40),
        total: Duration::from_micros(169),
        interrupted: false,
    }
}

fn expectations() -> Expectations {
    Expectations {
        heartbeat: Some(HeartbeatRange::parse("10s..60s").unwrap()),
        max_roundtrip: Some(Duration::from_millis(100)),
        server: Some(ServerExpectation::parse("RabbitMQ >=3.12").unwrap()),
        ..Expectations::default()
    }
}

fn report() -> CheckReport {
    let t0 = Instant::now();
    let exp = expectations();
    let build = |url: &str, name: &str, o| {
        TargetReport::build(
            url.into(),
            name.into(),
            t0,
            o,
            &exp,
            HeartbeatRequest::Server,
        )
    };
    let targets = vec![
        build(
            "amqp://guest:***@127.0.0.1:5672/%2f",
            "127.0.0.1:5672/%2f",
            passed(t0),
        ),
        build(
            "amqp://guest:***@127.0.0.1:5999/%2f",
            "127.0.0.1:5999/%2f",
            refused(t0),
        ),
    ];
    let settings = CheckSettings {
        heartbeat: "server".into(),
        step_timeout_ms: 5000,
        exchange: None,
        routing_key: None,
        expect_heartbeat: Some("10s..60s".into()),
        max_connect_ms: None,
        max_handshake_ms: None,
        max_roundtrip_ms: Some(Millis(100.0)),
        expect_server: Some("RabbitMQ >=3.12".into()),
        expect_tls_accepted_by: vec![],
    };
    CheckReport::new(
        "2026-11-21T09:00:00".into(),
        settings,
        targets,
        Duration::from_micros(11_600),
        false,
    )
}

#[test]
fn judgement() {
    let r = report();
    assert_eq!((r.passed, r.failed, r.exit_code), (0, 2, ExitStatus::Fault));
    let ok = &r.targets[0];
    // Every step passed; the server version fails its expectation.
    assert!(ok.steps.iter().all(|s| s.status == StepStatus::Passed));
    assert_eq!(
        ok.failure.as_deref(),
        Some("expect_server: version 3.10.8 does not satisfy >=3.12")
    );
    assert_eq!(ok.roundtrip_ms, Some(Millis(0.748)));
    let bad = &r.targets[1];
    assert_eq!(bad.steps[1].status, StepStatus::Failed);
    assert!(bad.steps[2..]
        .iter()
        .all(|s| s.status == StepStatus::Skipped));
    assert!(bad
        .expectations
        .iter()
        .all(|e| e.status == StepStatus::Skipped));

    // Interrupted beats failed; all passed is 0.
    let mut all_ok = report();
    all_ok.targets.truncate(1);
    let t0 = Instant::now();
    let good = TargetReport::build(
        "u".into(),
        "n".into(),
        t0,
        passed(t0),
        &Expectations::default(),
        HeartbeatRequest::Server,
    );
    let r = CheckReport::new(
        String::new(),
        all_ok.settings.clone(),
        vec![good.clone()],
        Duration::ZERO,
        false,
    );
    assert_eq!(r.exit_code, ExitStatus::Ok);
    let r = CheckReport::new(
        String::new(),
        all_ok.settings,
        vec![good],
        Duration::ZERO,
        true,
    );
    assert_eq!(r.exit_code, ExitStatus::Interrupted);
}

#[test]
fn formats() {
    let r = report();
    insta::assert_snapshot!("human", render_human(&r, Style::PLAIN));
    insta::assert_snapshot!("json", render_json(&r));
    insta::assert_snapshot!("junit", render_junit(&r));
    insta::assert_snapshot!("markdown", render_markdown(&r));
    insta::assert_snapshot!("prometheus", render_prometheus(&r));
}

#[test]
fn hostile_server_text_stays_inert_in_every_format() {
    let t0 = Instant::now();
    let mut o = passed(t0);
    let evil = "Rabbit\u{1b}[2J\"</failure>|`x`\n} 1\u{202e}";
    if let Some(h) = o.handshake.as_mut() {
        h.server = server(evil);
    }
    let exp = Expectations {
        server: Some(ServerExpectation::parse("RabbitMQ").unwrap()),
        ..Expectations::default()
    };
    let t = TargetReport::build(
        "amqp://u:***@h:5672/%2f".into(),
        "h:5672/%2f".into(),
        t0,
        o,
        &exp,
        HeartbeatRequest::Server,
    );
    let r = CheckReport::new(
        String::new(),
        report().settings,
        vec![t],
        Duration::ZERO,
        false,
    );
    for (name, out) in [
        ("human", render_human(&r, Style::PLAIN)),
        ("junit", render_junit(&r)),
        ("markdown", render_markdown(&r)),
    ] {
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{202e}'),
            "{name}: {out}"
        );
    }
    let xml = render_junit(&r);
    assert!(!xml.contains("\"</failure>"), "{xml}");
    let md = render_markdown(&r);
    assert!(
        md.lines()
            .filter(|l| l.starts_with("| "))
            .all(|l| l.matches(" | ").count() == 11),
        "{md}"
    );
    // Prometheus: the label value is escaped, so every sample stays on one line.
    let prom = render_prometheus(&r);
    let info = prom
        .lines()
        .find(|l| l.starts_with("amqpdoctor_check_server_info{"))
        .unwrap();
    assert!(
        info.ends_with("} 1") && info.contains("\\n") && info.contains("\\\""),
        "{info}"
    );
    assert!(!prom.lines().any(|l| l.starts_with("} 1")), "{prom}");
}

#[test]
fn markdown_cells_carry_no_html() {
    for (raw, want) in [
        (
            "<script>alert(1)</script>",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
        ),
        ("a | b", "a \\| b"),
        ("R&D\nnext", "R&amp;D next"),
    ] {
        assert_eq!(super::md_cell(raw), want, "{raw:?}");
    }
}
