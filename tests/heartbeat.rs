//! `amqpdoctor heartbeat` against the real broker, and `explain` end to end.

mod common;

use common::run::json_of;
use common::{amqpdoctor, broker_url, require_broker};
use serde_json::Value;

fn heartbeat_json(args: &[&str]) -> (i32, Value) {
    require_broker();
    let (code, doc, _) = common::run::run_json(
        amqpdoctor()
            .arg("heartbeat")
            .arg(broker_url())
            .args(args)
            .args(["--format", "json"]),
    );
    (code, doc)
}

#[test]
fn interval_0_negotiates_0_while_the_server_proposes_60() {
    let (code, doc) = heartbeat_json(&["--interval", "0"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["negotiation"]["server_heartbeat_s"], 60);
    assert_eq!(doc["negotiation"]["requested_heartbeat_s"], 0);
    assert_eq!(doc["negotiation"]["negotiated_heartbeat_s"], 0);
    let lapin = doc["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client"] == "lapin")
        .unwrap();
    assert_eq!(
        lapin["negotiated_heartbeat_s"], 60,
        "lapin cannot disable: {lapin:#}"
    );
    assert_eq!(lapin["honours_setting"], false);
    for key in [
        "client",
        "negotiated_heartbeat_s",
        "dispatch",
        "starves_when_idle",
    ] {
        assert!(lapin.get(key).is_some(), "clients[].{key}");
    }
}

#[test]
fn observe_measures_server_heartbeats_every_half_t() {
    let (code, doc) = heartbeat_json(&["--interval", "2s", "--observe", "7s"]);
    assert_eq!(code, 0, "{doc:#}");
    let s2c = &doc["observed"]["server_to_client"];
    let count = s2c["count"].as_u64().unwrap();
    assert!((5..=8).contains(&count), "T/2 = 1 s over 7 s: {s2c:#}");
    let mean = s2c["mean_gap_ms"].as_u64().unwrap();
    assert!(
        (800..=1300).contains(&mean),
        "RabbitMQ beats every T/2: {s2c:#}"
    );
    assert_eq!(s2c["late"], 0);
    assert!(
        doc["observed"]["client_to_server"]["count"]
            .as_u64()
            .unwrap()
            >= 5
    );
}

#[test]
fn observe_with_heartbeats_off_sees_none() {
    let (code, doc) = heartbeat_json(&["--interval", "0", "--observe", "3s"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["observed"]["server_to_client"]["count"], 0);
    assert_eq!(doc["observed"]["client_to_server"]["count"], 0);
}

#[test]
fn explain_answers_each_kind_of_topic() {
    for topic in [
        "104",
        "ECONNRESET",
        "32",
        "EPIPE",
        "110",
        "ETIMEDOUT",
        "111",
        "ECONNREFUSED",
        "320",
        "403",
        "530",
        "541",
        "pika-blocking",
        "kombu",
        "lapin",
        "go-amqp091",
        "broker_heartbeat_timeout",
        "peer_reset",
        "missed heartbeats from client, timeout: 60s",
        "StreamLostError",
        "Connection reset by peer",
    ] {
        let out = amqpdoctor().args(["explain", topic]).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "explain {topic}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "explain {topic} printed nothing");
    }
}

#[test]
fn explain_rejects_nonsense_with_exit_2_and_suggestions() {
    let out = amqpdoctor()
        .args(["explain", "ECONRESET"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ECONNRESET"),
        "suggests the nearest topic: {err}"
    );
}

#[test]
fn heartbeat_unknown_client_is_a_usage_error() {
    let out = amqpdoctor()
        .args(["heartbeat", "--client", "cobol-mq"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Ctrl-C during `--observe` ends the observation at once, closes the
/// connection and still prints the report of what was observed (exit 130).
#[test]
fn ctrl_c_during_observe_prints_what_was_observed() {
    require_broker();
    let started = std::time::Instant::now();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_amqpdoctor"))
        .args(["heartbeat", &broker_url(), "--interval", "2s"])
        .args(["--observe", "30s", "--format", "json"])
        .env_remove("AMQP_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    let doc: Value = json_of(&out);
    assert_eq!(out.status.code(), Some(130), "{doc}");
    assert_eq!(doc["exit_code"], 130);
    assert_eq!(doc["observed"]["interrupted"], true, "{doc}");
    // It saw the broker's beats (every T/2 = 1 s) until the interrupt.
    assert!(
        doc["observed"]["server_to_client"]["count"].as_u64() >= Some(1),
        "{doc}"
    );
    assert!(
        elapsed < std::time::Duration::from_secs(10),
        "took {elapsed:?}"
    );
}
