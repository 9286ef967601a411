//! `amqpdoctor check` end to end: against the real broker (pass, and fail
//! by expectation), a target that refuses, a silent target, a wrong
//! password, ten targets at once, a targets file, and the CI formats read
//! by real consumers: the JUnit XML validated against Jenkins' junit-10.xsd
//! and the Prometheus text parsed by the official Python client's parser.
//!
//! The schema is `tests/data/junit-10.xsd`, copied unchanged from
//! jenkinsci/xunit-plugin,
//! src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd
//! at commit 8c515de (after xunit-3.1.6; MIT licence in its header).

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::fixture::{run_python, validate_junit};
use common::run::{json_of, refused_url, run_json};
use common::{amqpdoctor, broker_url, redact, require_broker};
use serde_json::Value;

/// Run `check ARGS --format json`; the exit code and the document.
fn check_json(args: &[&str]) -> (i32, Value, String) {
    run_json(
        amqpdoctor()
            .arg("check")
            .args(args)
            .args(["--format", "json"]),
    )
}

fn steps(target: &Value) -> Vec<(String, String)> {
    target["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A URL on 127.0.0.1 where nothing listens (bound, then released).
fn refusing_url() -> String {
    refused_url("S3cr3tPw")
}

#[test]
fn passes_every_step_and_every_expectation() {
    require_broker();
    let url = broker_url();
    let (code, doc, stderr) = check_json(&[
        &url,
        "--expect-heartbeat",
        "1s..",
        "--max-connect",
        "5s",
        "--max-handshake",
        "5s",
        "--max-roundtrip",
        "5s",
        "--expect-server",
        "RabbitMQ >=3",
    ]);
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(doc["command"], "check");
    assert_eq!(doc["exit_code"], 0);
    assert_eq!(
        (doc["passed"].as_u64(), doc["failed"].as_u64()),
        (Some(1), Some(0))
    );
    let t = &doc["targets"][0];
    assert_eq!(t["passed"], true, "{t:#}");
    assert_eq!(t["target"], redact(&url));
    let names: Vec<String> = steps(t).into_iter().map(|(s, _)| s).collect();
    assert_eq!(
        names,
        [
            "dns",
            "connect",
            "handshake",
            "channel",
            "queue",
            "publish",
            "get",
            "close"
        ]
    );
    for s in t["steps"].as_array().unwrap() {
        assert_eq!(s["status"], "passed", "{s:#}");
        assert!(s["duration_ms"].as_f64().unwrap() >= 0.0);
        assert!(s["failure"].is_null());
    }
    let expectations: Vec<(&str, &str)> = t["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        expectations,
        [
            ("expect_heartbeat", "passed"),
            ("max_connect", "passed"),
            ("max_handshake", "passed"),
            ("max_roundtrip", "passed"),
            ("expect_server", "passed"),
        ]
    );
    assert_eq!(t["server"]["product"], "RabbitMQ");
    assert!(t["negotiation"]["negotiated_heartbeat_s"].as_u64().unwrap() > 0);
    assert!(t["negotiation"]["frame_max"].as_u64().unwrap() >= 4096);
    assert!(t["server"]["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "publisher_confirms"));
    assert_eq!(t["confirms"], true);
    assert!(t["queue"]
        .as_str()
        .unwrap()
        .starts_with("amqpdoctor.check."));
    assert!(t["roundtrip_ms"].as_f64().is_some());
}

#[test]
fn fails_by_expectation_with_every_step_passed() {
    require_broker();
    let (code, doc, stderr) = check_json(&[
        &broker_url(),
        "--heartbeat",
        "0",
        "--expect-heartbeat",
        "10s..60s",
        "--expect-server",
        "NoSuchBroker",
    ]);
    assert_eq!(code, 1, "{doc:#}");
    let t = &doc["targets"][0];
    assert!(
        steps(t).iter().all(|(_, status)| status == "passed"),
        "{t:#}"
    );
    assert_eq!(t["passed"], false);
    let e = &t["expectations"];
    assert_eq!(e[0]["name"], "expect_heartbeat");
    assert_eq!(e[0]["status"], "failed");
    assert_eq!(e[0]["observed"], "0 (off)");
    assert_eq!(e[1]["status"], "failed");
    assert!(
        e[1]["message"]
            .as_str()
            .unwrap()
            .contains("not NoSuchBroker"),
        "{e:#}"
    );
    assert!(t["failure"]
        .as_str()
        .unwrap()
        .starts_with("expect_heartbeat"));
    // The CI log gets one line per failed target.
    assert!(stderr.contains("check failed:"), "{stderr}");
}

#[test]
fn a_refusing_target_fails_at_connect_and_skips_the_rest() {
    let url = refusing_url();
    let (code, doc, stderr) = check_json(&[&url, "--expect-heartbeat", "1s.."]);
    assert_eq!(code, 1, "{doc:#}");
    let t = &doc["targets"][0];
    let got = steps(t);
    assert_eq!(got[0], ("dns".into(), "passed".into()));
    assert_eq!(got[1], ("connect".into(), "failed".into()));
    assert!(got[2..].iter().all(|(_, s)| s == "skipped"), "{got:?}");
    let f = &t["steps"][1]["failure"];
    assert_eq!(f["code"], "connect_failed");
    assert_eq!(f["errno_name"], "ECONNREFUSED");
    assert_eq!(f["explain"], "ECONNREFUSED");
    assert!(f["hint"].as_str().unwrap().contains("5672"), "{f:#}");
    assert_eq!(t["expectations"][0]["status"], "skipped");
    for text in [doc.to_string(), stderr] {
        assert!(!text.contains("S3cr3tPw"), "password printed: {text}");
    }
}

#[test]
fn a_silent_target_times_out_in_the_handshake() {
    // Accepts, reads, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut c, _)) = listener.accept() {
            let mut buf = [0u8; 64];
            let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
            while matches!(c.read(&mut buf), Ok(n) if n > 0) {}
        }
    });
    let url = format!("amqp://guest:S3cr3tPw@127.0.0.1:{port}/%2f");
    let started = Instant::now();
    let (code, doc, _) = check_json(&[&url, "--connect-timeout", "500ms"]);
    assert_eq!(code, 1);
    let t = &doc["targets"][0];
    assert_eq!(t["steps"][2]["step"], "handshake");
    assert_eq!(t["steps"][2]["status"], "failed");
    assert_eq!(t["steps"][2]["failure"]["code"], "timeout");
    assert!(t["steps"][2]["failure"]["message"]
        .as_str()
        .unwrap()
        .contains("Connection.Start"));
    // Bounded by the step timeout, not hung (a loose bound: a hang is minutes).
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_wrong_password_fails_the_handshake_without_printing_it() {
    require_broker();
    let url = broker_url();
    let (scheme_user, rest) = url.split_once('@').unwrap();
    let user = scheme_user.rsplit_once(':').map_or(scheme_user, |(u, _)| u);
    let wrong = format!("{user}:Wr0ngPassw0rd@{rest}");
    for format in ["human", "json", "junit", "markdown", "prometheus"] {
        let out = amqpdoctor()
            .args(["check", &wrong, "--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("Wr0ngPassw0rd"), "{format}: {all}");
        assert!(
            all.contains("auth_failed") || all.contains("403"),
            "{format}: {all}"
        );
    }
    let (_, doc, _) = check_json(&[&wrong]);
    let f = &doc["targets"][0]["steps"][2]["failure"];
    assert_eq!(f["code"], "auth_failed", "{f:#}");
    assert_eq!(f["reply_code"], 403);
}

#[test]
fn repeated_targets_are_checked_once_and_distinct_ones_at_once() {
    require_broker();
    let url = broker_url();
    // The same broker by two names: two targets, each listed five times.
    let other = url.replace("127.0.0.1", "localhost");
    let distinct = if other == url { 1 } else { 2 };
    let urls: Vec<&str> = [url.as_str(), other.as_str()]
        .iter()
        .copied()
        .cycle()
        .take(10)
        .collect();
    let (code, doc, _) = check_json(&urls);
    assert_eq!(code, 0, "{doc:#}");
    let targets = doc["targets"].as_array().unwrap();
    assert_eq!(targets.len(), distinct, "{doc:#}");
    assert!(targets.iter().all(|t| t["passed"] == true));
    // Concurrent: every target began before the first one finished.
    let ms = |t: &Value, k: &str| t[k].as_f64().unwrap();
    let last_start = targets
        .iter()
        .map(|t| ms(t, "began_ms"))
        .fold(0.0, f64::max);
    let first_end = targets
        .iter()
        .map(|t| ms(t, "began_ms") + ms(t, "duration_ms"))
        .fold(f64::MAX, f64::min);
    assert!(
        last_start < first_end,
        "ran one after another: {targets:#?}"
    );
    // Each used its own queue.
    let mut queues: Vec<&str> = targets
        .iter()
        .map(|t| t["queue"].as_str().unwrap())
        .collect();
    queues.sort_unstable();
    queues.dedup();
    assert_eq!(queues.len(), distinct);
}

#[test]
fn targets_come_from_a_file_and_from_amqp_url() {
    require_broker();
    let dir = std::env::temp_dir().join(format!("amqpdoctor-targets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("targets");
    let refused = refusing_url();
    std::fs::write(
        &file,
        format!(
            "# staging brokers\n{}\n\n{refused}   # down on purpose\n",
            broker_url()
        ),
    )
    .unwrap();
    let (code, doc, _) = check_json(&["--targets-file", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    let passed: Vec<bool> = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(passed, [true, false]);

    let out = amqpdoctor()
        .args(["check", "--format", "json"])
        .env("AMQP_URL", broker_url())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc = json_of(&out);
    assert_eq!(doc["targets"][0]["target"], redact(&broker_url()));

    // A bad URL in the file is a usage error before anything connects.
    std::fs::write(&file, "amqp://user:S3cr3tPw@host:notaport/\n").unwrap();
    let out = amqpdoctor()
        .args(["check", "--targets-file", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("S3cr3tPw") && stderr.contains("invalid URL"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `check` of the broker and a refusing target in `format`, both with
/// `extra` flags; the refusing URL and stdout (the exit must be 1).
fn broker_and_refused(format: &str, extra: &[&str]) -> (String, String) {
    require_broker();
    let refused = refusing_url();
    let out = amqpdoctor()
        .args(["check", &broker_url(), &refused, "--format", format])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    (refused, String::from_utf8(out.stdout).unwrap())
}

#[test]
fn junit_is_valid_against_the_jenkins_schema() {
    let (refused, xml) = broker_and_refused(
        "junit",
        &[
            "--expect-heartbeat",
            "1s..",
            "--expect-server",
            "NoSuchBroker",
        ],
    );
    let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/junit-10.xsd");
    // Validate, then count what a CI server would show.
    let script = format!(
        r#"
import sys, xmlschema
schema = xmlschema.XMLSchema({xsd:?})
doc = sys.stdin.read()
schema.validate(doc)
import xml.etree.ElementTree as ET
root = ET.fromstring(doc)
for suite in root.iter("testsuite"):
    cases = suite.findall("testcase")
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
    assert int(suite.get("tests")) == len(cases)
    assert int(suite.get("failures")) == len(failed)
    assert int(suite.get("skipped")) == len(skipped)
    print(suite.get("name"), len(cases), ",".join(n.split(":")[0] for n in failed), len(skipped))
"#
    );
    let summary = run_python(&script, &xml);
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines.len(), 2, "{summary}");
    // The broker: 8 steps + 2 expectations, the server expectation failed.
    assert_eq!(
        lines[0],
        format!("{} 10 expect_server 0", redact(&broker_url()))
    );
    // The refused target: connect failed, 6 steps and 2 expectations skipped.
    assert_eq!(lines[1], format!("{} 10 connect 8", redact(&refused)));
}

#[test]
fn prometheus_text_is_read_by_the_official_parser() {
    let (refused, text) = broker_and_refused("prometheus", &["--expect-heartbeat", "1s.."]);
    let script = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()) if k != "target")
        print(s.name, s.labels.get("target", ""), labels, s.value, sep="|")
"#;
    let parsed = run_python(script, &text);
    let rows: Vec<Vec<&str>> = parsed.lines().map(|l| l.split('|').collect()).collect();
    let value = |name: &str, target: &str, labels: &str| -> Option<f64> {
        rows.iter()
            .find(|r| r[0] == name && r[1] == target && r[2] == labels)
            .map(|r| r[3].parse().unwrap())
    };
    let ok = redact(&broker_url());
    let bad = redact(&refused);
    assert_eq!(value("amqpdoctor_check_up", &ok, ""), Some(1.0), "{parsed}");
    assert_eq!(
        value("amqpdoctor_check_up", &bad, ""),
        Some(0.0),
        "{parsed}"
    );
    assert!(value("amqpdoctor_check_negotiated_heartbeat_seconds", &ok, "").unwrap() > 0.0);
    for step in ["dns", "connect", "handshake", "publish", "get", "close"] {
        let d = value(
            "amqpdoctor_check_step_duration_seconds",
            &ok,
            &format!("step={step}"),
        );
        assert!(d.is_some_and(|d| d >= 0.0), "{step}: {parsed}");
    }
    assert_eq!(
        value("amqpdoctor_check_step_success", &bad, "step=connect"),
        Some(0.0)
    );
    assert_eq!(
        value("amqpdoctor_check_step_duration_seconds", &bad, "step=get"),
        None,
        "a step that did not run has no sample"
    );
    assert_eq!(
        value(
            "amqpdoctor_check_failure_info",
            &bad,
            "code=connect_failed,step=connect"
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            "amqpdoctor_check_expectation_success",
            &ok,
            "expectation=expect_heartbeat"
        ),
        Some(1.0)
    );
}

#[test]
fn a_missing_exchange_fails_the_queue_step_with_404() {
    require_broker();
    let (code, doc, stderr) = check_json(&[
        &broker_url(),
        "--exchange",
        "amqpdoctor.test.no-such-exchange",
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("user exchange"), "{stderr}");
    let t = &doc["targets"][0];
    assert_eq!(t["steps"][4]["step"], "queue");
    let f = &t["steps"][4]["failure"];
    assert_eq!(f["code"], "exchange_not_found", "{t:#}");
    assert_eq!(f["reply_code"], 404);
    assert_eq!(t["steps"][5]["status"], "skipped");
}

#[test]
fn an_existing_exchange_routes_to_the_checks_own_queue() {
    require_broker();
    // amq.direct exists on every RabbitMQ vhost; the check binds its own
    // queue with its own queue name as the key, so nothing else receives it.
    let (code, doc, _) = check_json(&[&broker_url(), "--exchange", "amq.direct"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["settings"]["exchange"], "amq.direct");
}

#[test]
fn probe_junit_is_valid_too_and_markdown_is_a_table() {
    require_broker();
    // A disabled probe that publishes at once: exit 0, in `format`.
    let probe = |format: &str| {
        let out = amqpdoctor()
            .args(["probe", &broker_url(), "--mode", "disabled", "--idle", "0"])
            .args(["--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}");
        String::from_utf8(out.stdout).unwrap()
    };
    let xml = probe("junit");
    validate_junit(&xml);
    assert!(xml.contains("disabled mode: healthy"), "{xml}");
    let md = probe("markdown");
    assert!(md.contains("| disabled | `healthy` | ✅ yes |"), "{md}");
}

#[test]
fn junit_can_go_to_a_file_beside_another_format() {
    require_broker();
    let path = std::env::temp_dir().join(format!("amqpdoctor-check-{}.xml", std::process::id()));
    let out = amqpdoctor()
        .args(["check", &broker_url(), "--format", "markdown", "--junit"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.starts_with("### amqpdoctor check: 1 of 1 target(s) passed"),
        "{md}"
    );
    let xml = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(xml.contains(r#"tests="8" failures="0""#), "{xml}");
}
