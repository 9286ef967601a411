//! `amqpdoctor scan` against real applications: pika BlockingConnections
//! that starve (publish once, then sleep), are serviced
//! (`process_data_events` every second) or have heartbeats off, and our
//! own `probe --mode starved`. The kernel's socket diagnostics are read,
//! the applications are never touched.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::pika::PikaApp;
use common::require_broker;
use common::run::json_of;
use serde_json::Value;

/// `scan ARGS --format json`: exit code and report.
fn scan(args: &[&str]) -> (i32, Value) {
    let (code, doc, _) = common::run::run_json(
        common::amqpdoctor()
            .args(["scan", "--format", "json"])
            .args(args),
    );
    (code, doc)
}

/// The record of the connection whose local port is `port`.
fn conn(doc: &Value, port: u16) -> Value {
    doc["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["local"]
                .as_str()
                .is_some_and(|l| l.ends_with(&format!(":{port}")))
        })
        .cloned()
        .unwrap_or_else(|| panic!("no connection from port {port}: {doc:#}"))
}

#[test]
fn pika_apps_are_classified_from_their_bytes() {
    let tag = std::process::id();
    let starving = PikaApp::start("starving", 2, &format!("scan-starving-{tag}"));
    let serviced = PikaApp::start("serviced", 2, &format!("scan-serviced-{tag}"));
    let off = PikaApp::start("off", 0, &format!("scan-off-{tag}"));

    // 3 s: T = 2 shows as two broker beats 1 s apart; the starving app has
    // then been silent for over T.
    let (code, doc) = scan(&["--watch", "3s", "--max-heartbeat", "4s"]);
    assert_eq!(code, 1, "a starving connection exits 1: {doc:#}");

    let s = conn(&doc, starving.local_port);
    assert_eq!(s["classification"], "starving", "{s:#}");
    assert_eq!(s["inferred_heartbeat_s"], 2, "{s:#}");
    assert_eq!(s["drop_window_s"], serde_json::json!([4, 6]), "{s:#}");
    assert_eq!(s["client_heartbeats"], 0, "{s:#}");
    assert_eq!(s["pid"], starving.pid(), "{s:#}");
    assert!(
        s["command"].as_str().unwrap().contains("pika_app.py"),
        "{s:#}"
    );
    assert!(s["last_sent_ms"].as_u64().unwrap() > 2000, "{s:#}");

    let h = conn(&doc, serviced.local_port);
    assert_eq!(h["classification"], "healthy", "{h:#}");
    assert_eq!(h["inferred_heartbeat_s"], 2, "{h:#}");
    assert!(h["client_heartbeats"].as_u64().unwrap() >= 1, "{h:#}");

    let o = conn(&doc, off.local_port);
    assert_eq!(o["classification"], "heartbeats_off", "{o:#}");
    assert!(o["inferred_heartbeat_s"].is_null(), "{o:#}");
    assert_eq!(o["broker_heartbeats"], 0, "{o:#}");

    // Keep watching: the broker drops the starving app 2T–3T after its
    // last byte, and scan sees it die inside the window it predicted.
    let (code, doc) = scan(&["--watch", "5s", "--pid", &starving.pid().to_string()]);
    assert_eq!(code, 1, "{doc:#}");
    let d = conn(&doc, starving.local_port);
    assert_eq!(d["classification"], "dead", "{d:#}");
    assert_eq!(d["died_in_window"], true, "{d:#}");
    let after = d["died_after_last_sent_ms"].as_u64().unwrap();
    assert!(
        (3400..=6600).contains(&after),
        "died {after} ms after its last byte: {d:#}"
    );
    // pika has not noticed: it still holds the socket.
    assert_eq!(d["still_held"], true, "{d:#}");
    // The serviced one is untouched by all this.
    drop(serviced);
    drop(off);
}

#[test]
fn our_own_starved_probe_is_classified_the_same_way() {
    require_broker();
    let probe = Command::new(env!("CARGO_BIN_EXE_amqpdoctor"))
        .args(["probe", &common::broker_url(), "--mode", "starved"])
        .args(["--heartbeat", "2s", "--idle", "8s", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (code, doc) = scan(&["--watch", "3s", "--pid", &probe.id().to_string()]);
    let out = probe.wait_with_output().unwrap();
    assert_eq!(code, 1, "{doc:#}");
    let conns = doc["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 1, "the probe has one connection: {doc:#}");
    let c = &conns[0];
    assert_eq!(c["classification"], "starving", "{c:#}");
    assert_eq!(c["inferred_heartbeat_s"], 2, "{c:#}");
    assert_eq!(c["drop_window_s"], serde_json::json!([4, 6]), "{c:#}");
    // And the probe agrees: the broker dropped it for missed heartbeats.
    let report: Value = json_of(&out);
    assert_eq!(
        report["runs"][0]["verdict"]["code"], "broker_heartbeat_timeout",
        "{report:#}"
    );
}

#[test]
fn nothing_matches_and_bad_flags() {
    // A port nobody uses: no connection, exit 0.
    let (code, doc) = scan(&["--port", "1"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["connections"], serde_json::json!([]));
    // --port 0 is a usage error.
    let out = common::amqpdoctor()
        .args(["scan", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_field_is_documented_and_audit_joins_the_scan() {
    let tag = std::process::id();
    let app = PikaApp::start("starving", 2, &format!("scan-join-{tag}"));
    let out = common::amqpdoctor()
        .args(["scan", "--format", "json", "--watch", "3s"])
        .args(["--pid", &app.pid().to_string()])
        .output()
        .unwrap();
    let doc: Value = json_of(&out);
    let c = conn(&doc, app.local_port);
    assert_eq!(c["classification"], "starving", "{c:#}");

    // Every field is in docs/json.md's scan section.
    common::assert_documented("## `amqpdoctor scan --format json`", &[&doc, &c]);

    // audit --join matches the broker's record of the same connection and
    // says the application went quiet first.
    let file = std::env::temp_dir().join(format!("amqpdoctor-scan-{tag}.json"));
    std::fs::write(&file, &out.stdout).unwrap();
    // The management API lists a connection once its stats are collected
    // (every 5 s): ask again until it does.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let joined = loop {
        let audit = common::amqpdoctor()
            .args(["audit", "--format", "json", "--join"])
            .arg(&file)
            .output()
            .unwrap();
        let report: Value = json_of(&audit);
        let found = report["joined"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["scan"]["local"] == c["local"])
            .cloned();
        match found {
            Some(j) => break j,
            None if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(500))
            }
            None => panic!("not joined within 15 s: {report:#}"),
        }
    };
    let _ = std::fs::remove_file(&file);
    assert_eq!(joined["quiet_first"], "application", "{joined:#}");
    assert_eq!(joined["scan"]["classification"], "starving", "{joined:#}");
    assert_eq!(joined["heartbeat_s"], 2, "{joined:#}");
}
