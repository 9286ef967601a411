use super::*;
use crate::classify::logs::Tracker;
use crate::report::style::Style;
use crate::run::logs::{apply, Filter, LogsOutcome};

fn outcome(records: &[(i64, &str)]) -> LogsOutcome {
    let mut o = LogsOutcome {
        nodes: vec!["rabbit@localhost".into()],
        ..LogsOutcome::default()
    };
    let mut t = Tracker::default();
    for (at, text) in records {
        apply(
            &mut o,
            &mut t,
            &Filter::default(),
            0,
            *at,
            text,
            &mut |_, _| {},
        );
    }
    o
}

const T0: i64 = 1_764_870_000_000;

fn starving(n: i64, name: &str) -> Vec<(i64, String)> {
    let mut v = Vec::new();
    for i in 0..n {
        let pid = format!("<0.{}.0>", 700 + i);
        let port = 50_000 + i;
        let at = T0 + i * 10_000;
        v.push((
            at,
            format!("accepting AMQP connection {pid} (10.0.0.7:{port} -> 10.0.0.1:5672)"),
        ));
        v.push((at + 1, format!("connection {pid} (10.0.0.7:{port} -> 10.0.0.1:5672) has a client-provided name: {name}")));
        v.push((at + 3000, format!("closing AMQP connection {pid} (10.0.0.7:{port} -> 10.0.0.1:5672 - {name}):\nmissed heartbeats from client, timeout: 1s")));
    }
    v
}

#[test]
fn starving_peer_with_t_and_exit_1() {
    let recs = starving(3, "web-app");
    let refs: Vec<(i64, &str)> = recs.iter().map(|(a, t)| (*a, t.as_str())).collect();
    let r = LogsReport::new("x.log".into(), &outcome(&refs));
    assert_eq!(r.abnormal, 3);
    assert_eq!(r.exit_status(), ExitStatus::Fault);
    assert_eq!(r.peers[0].host, "10.0.0.7");
    assert_eq!(r.peers[0].heartbeat_s, [1]);
    assert!(
        r.patterns.iter().any(|p| p.kind == "starving_peer"),
        "{:?}",
        r.patterns
    );
    let h = human::render(&r, Style::PLAIN);
    for want in [
        "3 ended other than by a normal close",
        "broker_heartbeat_timeout",
        "10.0.0.7",
        "starving_peer",
        "next: ",
        "(T = 1 s) after 3 s",
    ] {
        assert!(h.contains(want), "{want} in\n{h}");
    }
    let md = markdown::render(&r);
    assert!(md.contains("| 3 |"), "{md}");
    let v: serde_json::Value = serde_json::from_str(&crate::report::json::render(&r)).unwrap();
    assert_eq!(v["command"], "logs");
    assert_eq!(v["deaths"][0]["cause"], "broker_heartbeat_timeout");
    assert_eq!(v["deaths"][0]["heartbeat_s"], 1);
}

#[test]
fn passwords_in_names_and_reasons_are_redacted() {
    let recs = starving(1, "amqp://svc:S3cr3tPw@broker:5672/ app");
    let refs: Vec<(i64, &str)> = recs.iter().map(|(a, t)| (*a, t.as_str())).collect();
    let r = LogsReport::new("x.log".into(), &outcome(&refs));
    for out in [
        human::render(&r, Style::PLAIN),
        markdown::render(&r),
        crate::report::json::render(&r),
    ] {
        assert!(!out.contains("S3cr3tPw"), "{out}");
    }
}

#[test]
fn only_normal_closes_is_exit_0() {
    let o = outcome(&[
        (T0, "accepting AMQP connection <0.1.0> (10.0.0.7:1 -> 10.0.0.1:5672)"),
        (T0 + 5, "closing AMQP connection <0.1.0> (10.0.0.7:1 -> 10.0.0.1:5672, vhost: '/', user: 'guest')"),
    ]);
    let r = LogsReport::new("x.log".into(), &o);
    assert_eq!(r.exit_status(), ExitStatus::Ok);
    assert!(human::render(&r, Style::PLAIN).contains("every one closed normally"));
    assert!(r.deaths.is_empty());
}
