//! `probe --client ID[@VERSION]` side by side with the real library: pika
//! 1.3.2 (the version `.ci/broker` pins) runs `tests/clients/pika_idle_publish.py`
//! against the same broker at the same time as the probe behaving as it,
//! and both must negotiate the same T and meet the same fate.
//!
//! Heartbeats are 1 s and the idle 3T + 2 s = 5 s, so each test takes
//! about five seconds; no assertion is about time.

mod common;

use std::process::Command;
use std::time::Duration;

use common::run::run_json;
use common::{amqpdoctor, assert_documented, broker_url, require_broker};
use serde_json::Value;

/// `amqpdoctor probe URL ARGS --format json`: (exit code, document, stderr).
fn probe(args: &[&str]) -> (i32, Value, String) {
    require_broker();
    run_json(
        amqpdoctor()
            .arg("probe")
            .arg(broker_url())
            .args(args)
            .args(["--format", "json"])
            .timeout(Duration::from_secs(60)),
    )
}

/// Run the real pika application (ADAPTER `blocking` or `select`) with
/// `heartbeat` and `idle_s`, and read the one JSON line it prints.
fn pika(adapter: &str, heartbeat: u16, idle_s: u64) -> Value {
    require_broker();
    let root = env!("CARGO_MANIFEST_DIR");
    let python = common::fixture::python();
    let out = Command::new(&python)
        .arg(format!("{root}/tests/clients/pika_idle_publish.py"))
        .args([
            &broker_url(),
            adapter,
            &heartbeat.to_string(),
            &idle_s.to_string(),
        ])
        .output()
        .unwrap_or_else(|e| panic!("starting {}: {e}", python.display()));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "pika_idle_publish.py {adapter} printed no JSON line ({e}; {}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The probe and the real application at once; the probe's report and
/// the application's line.
fn side_by_side(probe_args: &[&str], adapter: &str) -> ((i32, Value, String), Value) {
    let adapter = adapter.to_string();
    // 3T + 2 s at T = 1 s: the probe's --idle auto.
    let app = std::thread::spawn(move || pika(&adapter, 1, 5));
    let probed = probe(probe_args);
    let app = app.join().expect("the pika thread");
    (probed, app)
}

fn only_run(doc: &Value) -> &Value {
    let runs = doc["runs"].as_array().expect("runs is an array");
    assert_eq!(runs.len(), 1, "{doc:#}");
    &runs[0]
}

#[test]
fn pika_blocking_and_the_probe_as_it_negotiate_the_same_t_and_both_are_dropped() {
    let ((code, doc, stderr), app) = side_by_side(
        &["--client", "pika-blocking@1.3", "--heartbeat", "1s"],
        "blocking",
    );
    let run = only_run(&doc);
    let client = &doc["client"];
    // The same T: pika's own negotiation, the library row's rule, the wire.
    assert_eq!(app["negotiated_heartbeat_s"], 1, "{app}");
    assert_eq!(client["negotiated_heartbeat_s"], 1, "{client:#}");
    assert_eq!(run["negotiation"]["negotiated_heartbeat_s"], 1, "{run:#}");
    assert_eq!(client["id"], "pika-blocking");
    assert_eq!(client["version"], "≥ 1.0");
    assert_eq!(client["pinned"], true);
    assert_eq!(client["negotiation"], "client_wins");
    assert_eq!(client["requested_heartbeat_s"], 1);
    assert_eq!(client["behaviour"], "starves");
    assert_eq!(client["beats_every_ms"], Value::Null);
    assert_eq!(client["mode"], "starved");
    assert_eq!(run["mode"], "starved");
    assert_eq!(run["pump_every_ms"], Value::Null);
    assert_eq!(run["heartbeats"]["sent"], 0, "{run:#}");

    // The same fate: the broker dropped both for missed heartbeats, and
    // the publish after the idle failed on the reset.
    assert_eq!(
        run["verdict"]["code"], "broker_heartbeat_timeout",
        "{run:#}\n{stderr}"
    );
    assert_eq!(run["end"]["kind"], "reset", "{run:#}");
    assert_eq!(code, 0, "what the library's row predicts: {stderr}");
    assert_eq!(app["publish"], "failed", "{app}");
    let error = app["error"].as_str().unwrap_or_default();
    assert!(
        ["StreamLostError", "ConnectionResetError"].contains(&error),
        "{app}"
    );
    assert!(
        app["message"]
            .as_str()
            .is_some_and(|m| m.contains("ConnectionResetError")),
        "pika saw the broker's reset too: {app}"
    );
    // The symptom the report puts next to its verdict names what pika raised.
    let symptoms = client["symptoms"].as_array().expect("symptoms");
    assert!(
        symptoms
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.contains(error))),
        "no symptom names {error}: {symptoms:?}"
    );
    assert_documented("### `client`", &[client]);
}

#[test]
fn pika_select_and_the_probe_as_it_beat_through_the_idle() {
    let ((code, doc, stderr), app) = side_by_side(
        &["--client", "pika-select@1.3", "--heartbeat", "1s"],
        "select",
    );
    let run = only_run(&doc);
    let client = &doc["client"];
    assert_eq!(app["negotiated_heartbeat_s"], 1, "{app}");
    assert_eq!(client["negotiated_heartbeat_s"], 1, "{client:#}");
    assert_eq!(run["negotiation"]["negotiated_heartbeat_s"], 1, "{run:#}");
    assert_eq!(client["behaviour"], "beats");
    assert_eq!(client["beats_every"], "half");
    assert_eq!(client["beats_every_ms"], 500);
    assert_eq!(run["pump_every_ms"], 500);

    assert_eq!(app["publish"], "ok", "{app}");
    assert_eq!(run["verdict"]["code"], "healthy", "{run:#}\n{stderr}");
    assert_eq!(run["end"]["kind"], "alive", "{run:#}");
    assert!(
        run["heartbeats"]["sent"].as_u64().is_some_and(|n| n > 0),
        "{run:#}"
    );
    assert!(
        run["publishes"]
            .as_array()
            .is_some_and(|p| p.iter().all(|p| p["outcome"] == "confirmed")),
        "{run:#}"
    );
    // Its heartbeats are the library's own, not an application's pumping.
    let words = format!(
        "{} {}",
        run["verdict"]["explanation"], run["verdict"]["remedy"]
    );
    assert!(words.contains("from a timer of its own"), "{words}");
    assert!(!words.contains("process_data_events"), "{words}");
    assert_eq!(code, 0, "{stderr}");
    assert_documented("### `client`", &[client]);
}

#[test]
fn pika_blocking_pumped_by_its_application_and_the_probe_pumped_alike_both_survive() {
    let ((code, doc, stderr), app) = side_by_side(
        &[
            "--client",
            "pika-blocking@1.3",
            "--heartbeat",
            "1s",
            "--pump-every",
            "500ms",
        ],
        "pumped",
    );
    let run = only_run(&doc);
    let client = &doc["client"];
    assert_eq!(app["negotiated_heartbeat_s"], 1, "{app}");
    assert_eq!(client["negotiated_heartbeat_s"], 1, "{client:#}");
    assert_eq!(client["behaviour"], "starves");
    assert_eq!(client["application_pumps_every_ms"], 500);
    assert_eq!(run["pump_every_ms"], 500);
    assert_eq!(app["publish"], "ok", "{app}");
    assert_eq!(run["verdict"]["code"], "healthy", "{run:#}\n{stderr}");
    let remedy = run["verdict"]["remedy"].as_str().unwrap_or_default();
    assert!(remedy.contains("This is the remedy"), "{remedy}");
    assert_eq!(run["end"]["kind"], "alive", "{run:#}");
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_library_that_turns_heartbeats_off_runs_as_the_disabled_mode() {
    // kombu's default heartbeat is 0 and its rule lets 0 win.
    let (code, doc, stderr) = probe(&["--client", "kombu", "--idle", "1s"]);
    let run = only_run(&doc);
    assert_eq!(doc["client"]["negotiated_heartbeat_s"], 0, "{doc:#}");
    assert_eq!(doc["client"]["requested_heartbeat_s"], Value::Null);
    assert_eq!(doc["client"]["default_heartbeat_s"], 0);
    assert_eq!(doc["client"]["pinned"], false);
    assert_eq!(doc["client"]["behaviour"], "off");
    assert_eq!(run["mode"], "disabled");
    assert_eq!(run["negotiation"]["negotiated_heartbeat_s"], 0);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn without_client_the_report_says_null() {
    let (_, doc, stderr) = probe(&["--mode", "disabled", "--idle", "1s"]);
    assert_eq!(doc["client"], Value::Null, "{stderr}");
}

/// Bad `--client` input: one line on stderr, exit 2, nothing on stdout,
/// no Debug print, and no connection attempted.
#[test]
fn bad_client_input_is_one_line_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--client", "nosuchlib"],
            "unknown client library `nosuchlib`; known libraries: pika-blocking",
        ),
        (
            &["--client", "pika@0.9"],
            "knows nothing about pika-blocking 0.9.0",
        ),
        (&["--client", "pika@x.y"], "`x.y` is not a version"),
        (
            &["--client", "pika", "--mode", "starved"],
            "cannot be used with",
        ),
    ];
    for (args, want) in cases {
        let out = amqpdoctor()
            .arg("probe")
            // Nothing listens there: a connection attempt would fail with exit 3.
            .arg(common::run::refused_url("secret"))
            .args(*args)
            .timeout(Duration::from_secs(30))
            .output()
            .expect("running amqpdoctor");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("UsageError") && !stderr.contains("Some(") && !stderr.contains("{ "),
            "{args:?}: a Debug print: {stderr}"
        );
        assert!(!stderr.contains("secret"), "{args:?}: {stderr}");
        let lines = stderr.lines().filter(|l| !l.trim().is_empty()).count();
        // clap's conflicts add a usage line and a --help hint.
        let most = if want.contains("cannot be used") {
            4
        } else {
            1
        };
        assert!(lines <= most, "{args:?}: {lines} lines: {stderr}");
    }
}
