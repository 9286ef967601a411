//! Renderer snapshots (insta) over fixed reports, and the exit decision.
//!
//! The fixtures are built the way the driver builds them (a timeline, then
//! `Run::classify`), so the snapshots show what users see for the measured
//! cases. `INSTA_UPDATE=always cargo test --lib report` rewrites them after
//! a deliberate change; review the diff.

use super::heartbeat::{client_rows, timings_and_warnings, HeartbeatReport};
use super::probe::{ci as probe_ci, human};
use super::*;
use crate::classify::{cadence, SetupFailure};
use crate::error::ExitStatus;
use crate::run::cadence::CadenceSeen;
use crate::run::RunOutcome;
use crate::timeline::{EventKind as K, PublishAttempt, Settled, TcpEnd, Timeline};
use crate::vocab::{
    Awaiting, CloseInfo, FailureKind, HeartbeatRequest, Mode, Negotiation, SetupError, Stage,
};

fn hb(s: u16) -> Heartbeat {
    Heartbeat::from_secs(s)
}

fn outcome(mode: Mode, t: u16, timeline: Timeline, attempts: Vec<PublishAttempt>) -> RunOutcome {
    RunOutcome {
        mode,
        server: None,
        negotiation: Some(Negotiation {
            server_heartbeat_s: Some(hb(60)),
            requested_heartbeat_s: Some(t),
            negotiated_heartbeat_s: hb(t),
            frame_max: 131_072,
            channel_max: 2047,
        }),
        idle_ms: 8000,
        idle_cut_short_at_ms: None,
        pump_every_ms: None,
        pumper: crate::vocab::Pumper::Application,
        timeline,
        attempts,
        setup_error: None,
        interrupted: false,
        queue: Some("amq.gen-fixture".into()),
        notes: vec![],
        confirms: true,
    }
}

fn connected(tl: &mut Timeline) {
    tl.push_at(
        0,
        K::TcpConnected {
            local: "127.0.0.1:40000".into(),
            peer: "127.0.0.1:5672".into(),
        },
    );
    tl.push_at(9, K::ConnectionOpen { heartbeat_s: 2 });
    tl.push_at(11, K::IdleStart { planned_ms: 8000 });
}

/// The measured starved run: T = 2 s, RST at 6.007 s, both publishes fail.
fn starved_run() -> Run {
    let mut tl = Timeline::new(false);
    connected(&mut tl);
    tl.client_writes_ms = vec![0, 11];
    tl.push_at(
        6007,
        K::PeerEnded {
            how: TcpEnd::Reset,
            tcp_state: "CLOSE".into(),
            since_last_client_byte_ms: 5996,
            since_last_server_byte_ms: 998,
        },
    );
    tl.push_at(6008, K::IdleEnd);
    tl.push_at(
        6008,
        K::PublishFailed {
            seq: 1,
            errno: Some(104),
            errno_name: "ECONNRESET".into(),
        },
    );
    tl.push_at(
        6009,
        K::PublishFailed {
            seq: 2,
            errno: Some(32),
            errno_name: "EPIPE".into(),
        },
    );
    tl.heartbeats.received = Some(5);
    let fail = |seq, at_ms, errno: i32, name: &str| PublishAttempt {
        seq,
        at_ms,
        write_error: Some((Some(errno), name.into())),
        settled: None,
    };
    let mut o = outcome(
        Mode::Starved,
        2,
        tl,
        vec![fail(1, 6008, 104, "ECONNRESET"), fail(2, 6009, 32, "EPIPE")],
    );
    o.idle_cut_short_at_ms = Some(6007);
    Run::classify(o, 5000)
}

/// A disabled run on a clean path: healthy, both publishes confirmed.
fn disabled_run() -> Run {
    let mut tl = Timeline::new(false);
    connected(&mut tl);
    tl.client_writes_ms = vec![0, 11, 8012, 8013];
    tl.push_at(8011, K::IdleEnd);
    for seq in 1..=2 {
        tl.push_at(8011 + u64::from(seq), K::PublishWritten { seq });
        tl.push_at(8014 + u64::from(seq), K::Confirmed { seq });
    }
    tl.push_at(8016, K::ClientClose { reply_code: 200 });
    tl.push_at(8017, K::CloseOk);
    tl.heartbeats.received = Some(0);
    let ok = |seq, at_ms| PublishAttempt {
        seq,
        at_ms,
        write_error: None,
        settled: Some(Settled::Ack),
    };
    Run::classify(
        outcome(Mode::Disabled, 0, tl, vec![ok(1, 8012), ok(2, 8013)]),
        5000,
    )
}

/// A run the operator closed: Connection.Close 320 during the idle.
fn forced_run() -> Run {
    let mut tl = Timeline::new(false);
    connected(&mut tl);
    tl.client_writes_ms = vec![0, 11];
    tl.push_at(
        3000,
        K::ServerClose {
            reply_code: 320,
            reply_text: "CONNECTION_FORCED - Closed via management plugin".into(),
            class_id: 0,
            method_id: 0,
        },
    );
    tl.heartbeats.received = Some(2);
    Run::classify(outcome(Mode::Disabled, 0, tl, vec![]), 5000)
}

fn settings() -> ProbeSettings {
    ProbeSettings {
        idle_ms: 8000,
        idle_auto: true,
        heartbeat: "2s".into(),
        publishes: 2,
        confirm_timeout_ms: 5000,
        pump_every_ms: None,
        destination: "own_queue".into(),
        consume_hold_ms: None,
    }
}

fn server() -> ServerSummary {
    ServerSummary {
        product: Some("RabbitMQ".into()),
        version: Some("3.10.8".into()),
        platform: Some("Erlang/OTP 25.2.3".into()),
        cluster_name: None,
        proposed_heartbeat_s: Some(hb(60)),
        frame_max: Some(131_072),
        channel_max: Some(2047),
        capabilities: vec!["publisher_confirms".into()],
        mechanisms: vec!["PLAIN".into(), "AMQPLAIN".into()],
    }
}

fn header() -> Header {
    Header::new("probe", "amqp://guest:***@127.0.0.1:5672/%2f".into())
}

fn probe_report(runs: Vec<Run>) -> Report {
    Report::new(header(), Some(server()), settings(), runs, None)
}

fn preflight_failure() -> Report {
    let err = SetupError {
        stage: Stage::Handshake,
        kind: FailureKind::ConnectionClose(CloseInfo {
            reply_code: 403,
            reply_text: "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN"
                .into(),
            class_id: 10,
            method_id: 11,
        }),
        message: "the server closed the connection: 403 ACCESS_REFUSED - Login was refused".into(),
    };
    let failure = SetupFailure::classify(&err);
    let mut o = outcome(Mode::Starved, 2, Timeline::new(false), vec![]);
    o.negotiation = None;
    o.setup_error = Some(err);
    Report::new(
        header(),
        None,
        settings(),
        vec![Run::classify(o, 5000)],
        Some(failure),
    )
}

fn human(r: &Report) -> String {
    human::render(r, style::Style::PLAIN)
}

#[test]
fn probe_human_starved_story() {
    let r = probe_report(vec![starved_run()]);
    insta::assert_snapshot!(human(&r));
}

#[test]
fn probe_human_all_healthy_and_a_fault() {
    insta::assert_snapshot!(human(&probe_report(vec![disabled_run()])));
    insta::assert_snapshot!(human(&probe_report(vec![forced_run()])));
}

#[test]
fn probe_human_could_not_diagnose() {
    insta::assert_snapshot!(human(&preflight_failure()));
}

#[test]
fn probe_json_contract() {
    let r = probe_report(vec![starved_run(), disabled_run()]);
    insta::assert_snapshot!(json::render(&r));
    insta::assert_snapshot!(json::render(&preflight_failure()));
}

#[test]
fn colour_only_when_asked() {
    let r = probe_report(vec![starved_run()]);
    assert!(!human(&r).contains('\x1b'));
    assert!(human::render(&r, style::Style { color: true }).contains("\x1b[31m"));
}

fn heartbeat_report(
    request: HeartbeatRequest,
    only: Option<&crate::knowledge::ClientSpec<'_>>,
) -> HeartbeatReport {
    let negotiated = request.tune_ok(hb(60));
    let clients = client_rows(hb(60), request, only);
    let (timings, warnings) = timings_and_warnings(negotiated, &clients, only);
    HeartbeatReport {
        header: Header::new("heartbeat", "amqp://guest:***@127.0.0.1:5672/%2f".into()),
        server: Some(server()),
        negotiation: Some(Negotiation {
            server_heartbeat_s: Some(hb(60)),
            requested_heartbeat_s: request.requested_s(),
            negotiated_heartbeat_s: negotiated,
            frame_max: 131_072,
            channel_max: 2047,
        }),
        clients,
        timings: Some(timings),
        warnings,
        observed: None,
        setup_failure: None,
        exit_code: ExitStatus::Ok,
    }
}

#[test]
fn heartbeat_human_and_json() {
    let mut r = heartbeat_report(HeartbeatRequest::Seconds(2), None);
    r.observed = Some(CadenceSeen {
        duration_ms: 5000,
        server_to_client: cadence(&[1000, 2001, 3001, 4002], 0, 5000, 1000),
        client_to_server: cadence(&[1000, 2000, 3000, 4000, 5000], 0, 5000, 1000),
        interrupted: false,
    });
    insta::assert_snapshot!(heartbeat::render(&r, None, style::Style::PLAIN));
    insta::assert_snapshot!(json::render(&r));
}

#[test]
fn heartbeat_human_off_for_us_but_not_for_lapin() {
    let lapin = crate::knowledge::client_spec("lapin").ok();
    let r = heartbeat_report(HeartbeatRequest::Seconds(0), lapin.as_ref());
    let out = heartbeat::render(&r, lapin.as_ref(), style::Style::PLAIN);
    // The one row says lapin negotiates 60 s; nothing may claim otherwise.
    assert!(!out.to_lowercase().contains("heartbeats are off"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn exit_decision_table() {
    let interrupted = {
        let mut tl = Timeline::new(false);
        connected(&mut tl);
        tl.push_at(500, K::Interrupted);
        let mut o = outcome(Mode::Starved, 2, tl, vec![]);
        o.interrupted = true;
        Run::classify(o, 5000)
    };
    let silent = {
        let mut tl = Timeline::new(false);
        connected(&mut tl);
        tl.push_at(
            9000,
            K::Timeout {
                waiting_for: Awaiting::Confirms,
                after_ms: 9000,
            },
        );
        let lost = PublishAttempt {
            seq: 1,
            at_ms: 4000,
            write_error: None,
            settled: None,
        };
        Run::classify(outcome(Mode::Disabled, 0, tl, vec![lost]), 5000)
    };
    let failed = preflight_failure().runs.remove(0);
    // (runs, exit)
    let rows: Vec<(Vec<Run>, ExitStatus)> = vec![
        (vec![disabled_run()], ExitStatus::Ok),
        // starved at T = 2 with an 8 s idle: the reset is the prediction
        (vec![starved_run(), disabled_run()], ExitStatus::Ok),
        (vec![disabled_run(), forced_run()], ExitStatus::Fault),
        (vec![silent], ExitStatus::Fault),
        (
            vec![disabled_run(), failed.clone()],
            ExitStatus::CannotDiagnose,
        ),
        (vec![failed, interrupted.clone()], ExitStatus::Interrupted),
        (vec![forced_run(), interrupted], ExitStatus::Interrupted),
    ];
    for (i, (runs, want)) in rows.iter().enumerate() {
        let codes: Vec<_> = runs.iter().map(|r| r.verdict.code).collect();
        assert_eq!(probe_exit(runs), *want, "row {i}: {codes:?}");
    }
}

#[test]
fn explain_human_and_json() {
    for query in [
        "ECONNRESET",
        "320",
        "pika-blocking",
        "broker_heartbeat_timeout",
        "missed heartbeats from client, timeout: 60s",
    ] {
        let topic = crate::knowledge::lookup(query).unwrap_or_else(|_| panic!("{query}"));
        insta::assert_snapshot!(
            format!(
                "explain_human_{}",
                query.replace(|c: char| !c.is_alphanumeric(), "_")
            ),
            explain::render_human(query, &topic, false)
        );
    }
    let topic = crate::knowledge::lookup("104").unwrap();
    insta::assert_snapshot!(explain::render_json("104", &topic).unwrap());
}

#[test]
fn explain_list() {
    let list = crate::knowledge::topic_list();
    insta::assert_snapshot!(explain::render_list_human(&list, false));
}

#[test]
fn probe_for_ci_systems() {
    let r = probe_report(vec![starved_run(), disabled_run(), forced_run()]);
    insta::assert_snapshot!(probe_ci::render_junit(&r));
    insta::assert_snapshot!(probe_ci::render_markdown(&r));
}

/// "verified" only after a verified handshake: the header line of a run
/// whose TLS handshake failed says the certificate was not verified.
#[test]
fn tls_verified_only_after_a_handshake() {
    let tls = super::TlsInfo {
        server_name: "localhost".into(),
        verified: true,
        cacert: Some("cert.pem".into()),
        client_certificate: false,
        tls_as: crate::vocab::tls::TlsFamily::Openssl,
        accepted: None,
    };
    let mut ok = probe_report(vec![disabled_run()]);
    ok.header.tls = Some(tls.clone());
    assert!(human(&ok).contains("tls      certificate verified for localhost against cert.pem"));
    let err = SetupError {
        stage: Stage::Tls,
        kind: FailureKind::Tls(crate::vocab::TlsFailure::Other),
        message: "TLS handshake with localhost: the server's certificate is a CA certificate"
            .into(),
    };
    let mut failed = preflight_failure();
    failed.setup_failure = Some(SetupFailure::classify(&err));
    failed.header.tls = Some(tls.clone());
    let out = human(&failed);
    assert!(!out.contains("verified for"), "{out}");
    assert!(
        out.contains("certificate NOT verified: no TLS handshake completed"),
        "{out}"
    );
    // Refused by rustls, accepted as OpenSSL would: never "verified".
    let mut lenient = probe_report(vec![disabled_run()]);
    let mut t = tls;
    t.accept(Some(&crate::vocab::tls::TlsLeniency {
        accepted_as: crate::vocab::tls::TlsFamily::Openssl,
        rustls_refused: "the server's certificate is a CA certificate".into(),
        shapes: vec!["self_signed_ca_leaf".into()],
        why: vec!["self-signed certificate marked CA:TRUE".into()],
        refused_by: vec![crate::vocab::tls::TlsFamily::Rustls],
        unknown_for: vec![],
    }));
    assert!(!t.verified);
    lenient.header.tls = Some(t);
    let out = human(&lenient);
    assert!(!out.contains("verified for"), "{out}");
    assert!(
        out.contains("NOT verified by rustls; accepted as openssl clients would"),
        "{out}"
    );
    assert!(out.contains("Would refuse it: rustls."), "{out}");
}
