//! `amqpdoctor probe` against the real broker: the three modes, the
//! classification of server-sent closes, the JSON contract, password
//! redaction, and that a probe leaves nothing behind.
//!
//! Heartbeats are 2 s and idles a few seconds so the whole file runs in
//! about ten seconds with the tests in parallel. Timing bounds checked here
//! are the broker's protocol window (2T–3T), not our speed.

mod common;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{amqpdoctor, broker_url, list_queues, rabbitmqctl, require_broker};
use serde_json::Value;

/// Run a probe with `--format json` and return (exit code, document, stderr).
fn probe_json(args: &[&str]) -> (i32, Value, String) {
    require_broker();
    let out = amqpdoctor()
        .arg("probe")
        .arg(broker_url())
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("running amqpdoctor");
    parse(out)
}

fn parse(out: Output) -> (i32, Value, String) {
    let doc = common::run::json_of(&out);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.code().unwrap_or(-1), doc, stderr)
}

fn only_run(doc: &Value) -> &Value {
    let runs = doc["runs"].as_array().expect("runs is an array");
    assert_eq!(runs.len(), 1, "{doc:#}");
    &runs[0]
}

fn outcomes(run: &Value) -> Vec<String> {
    run["publishes"]
        .as_array()
        .expect("publishes")
        .iter()
        .map(|p| p["outcome"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[test]
fn starved_connection_is_reset_by_the_broker_between_2t_and_3t() {
    let (code, doc, stderr) =
        probe_json(&["--mode", "starved", "--heartbeat", "2s", "--idle", "8s"]);
    let run = only_run(&doc);
    assert_eq!(
        run["verdict"]["code"], "broker_heartbeat_timeout",
        "{run:#}\n{stderr}"
    );
    assert_eq!(run["verdict"]["expected"], true);
    assert_eq!(code, 0, "a starved reset is what the mode predicts");
    assert_eq!(run["negotiation"]["negotiated_heartbeat_s"], 2);
    assert_eq!(run["end"]["kind"], "reset");
    let silence = run["end"]["since_last_client_byte_ms"]
        .as_u64()
        .expect("silence measured");
    assert!(
        (4000..=6500).contains(&silence),
        "RabbitMQ resets a silent client between 2T and 3T; saw {silence} ms"
    );
    assert_eq!(
        run["heartbeats"]["sent"], 0,
        "a starved client sends no heartbeats"
    );
    let first = &run["publishes"][0];
    let errno_name = first["errno_name"].as_str().unwrap_or("");
    assert!(
        first["outcome"] == "lost"
            || (first["outcome"] == "failed" && ["ECONNRESET", "EPIPE"].contains(&errno_name)),
        "first publish after the reset: {first:#}"
    );
    assert!(!outcomes(run).contains(&"confirmed".to_string()), "{run:#}");
}

#[test]
fn disabled_heartbeats_stay_healthy_with_no_heartbeats_either_way() {
    let (code, doc, _) = probe_json(&["--mode", "disabled", "--idle", "3s", "--publishes", "3"]);
    let run = only_run(&doc);
    assert_eq!(code, 0);
    assert_eq!(run["verdict"]["code"], "healthy", "{run:#}");
    assert_eq!(run["negotiation"]["negotiated_heartbeat_s"], 0);
    assert_eq!(run["negotiation"]["requested_heartbeat_s"], 0);
    assert!(
        run["negotiation"]["server_heartbeat_s"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "RabbitMQ proposes a heartbeat"
    );
    assert_eq!(run["heartbeats"]["sent"], 0);
    assert_eq!(run["heartbeats"]["received"], 0);
    assert_eq!(outcomes(run), vec!["confirmed"; 3]);
}

#[test]
fn serviced_lapin_sends_heartbeats_and_stays_healthy() {
    let (code, doc, _) = probe_json(&["--mode", "serviced", "--heartbeat", "2s", "--idle", "4s"]);
    let run = only_run(&doc);
    assert_eq!(code, 0);
    assert_eq!(run["verdict"]["code"], "healthy", "{run:#}");
    assert_eq!(run["negotiation"]["negotiated_heartbeat_s"], 2);
    let sent = run["heartbeats"]["sent"].as_u64().unwrap_or(0);
    assert!(
        sent >= 3,
        "lapin sends every T/2 = 1 s; saw {sent} in a 4 s idle"
    );
    assert_eq!(outcomes(run), vec!["confirmed"; 2]);
}

#[test]
fn serviced_reports_that_lapin_cannot_disable_heartbeats() {
    let (_, doc, _) = probe_json(&[
        "--mode",
        "serviced",
        "--heartbeat",
        "0",
        "--idle",
        "0",
        "--publishes",
        "0",
    ]);
    let run = only_run(&doc);
    let negotiated = run["negotiation"]["negotiated_heartbeat_s"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        negotiated > 0,
        "lapin takes the server's value for 0: {run:#}"
    );
    let notes = run["notes"].to_string();
    assert!(notes.contains("cannot disable heartbeats"), "{notes}");
}

#[test]
fn starved_pumped_at_half_t_survives() {
    let (code, doc, _) = probe_json(&[
        "--mode",
        "starved",
        "--heartbeat",
        "2s",
        "--idle",
        "7s",
        "--pump-every",
        "1s",
    ]);
    let run = only_run(&doc);
    assert_eq!(run["verdict"]["code"], "healthy", "{run:#}");
    assert_eq!(code, 0);
    assert!(run["heartbeats"]["sent"].as_u64().unwrap_or(0) >= 5);
}

/// Connection names on the broker right now, via client_properties.
fn connection_names() -> Vec<String> {
    common::list_connections()
        .into_iter()
        .map(|(_, n)| n)
        .collect()
}

#[test]
fn mode_all_runs_the_three_modes_at_the_same_time() {
    require_broker();
    let mut child = spawn_probe(&["--mode", "all", "--heartbeat", "2s", "--idle", "5s"]);
    // Structural, not timed: all three connections must be open on the
    // broker at the same moment.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen_together = false;
    while Instant::now() < deadline && child.try_wait().ok().flatten().is_none() {
        let names = connection_names();
        if ["serviced", "starved", "disabled"]
            .iter()
            .all(|m| names.iter().any(|n| n == &format!("amqpdoctor/{m}")))
        {
            seen_together = true;
            break;
        }
    }
    let out = child.wait_with_output().expect("probe finished");
    let (_, doc, _) = parse(out);
    assert!(
        seen_together,
        "never saw the three modes' connections open together"
    );
    let modes: Vec<&str> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, vec!["serviced", "starved", "disabled"]);
}

fn spawn_probe(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_amqpdoctor"))
        .arg("probe")
        .arg(broker_url())
        .args(args)
        .args(["--format", "json"])
        .env_remove("AMQP_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning amqpdoctor")
}

/// The URL of the test broker with another vhost or password.
fn url_with(user_pass: Option<&str>, vhost: Option<&str>) -> String {
    let url = broker_url();
    let (scheme_auth, path) = match url[7..].find('/') {
        Some(i) => (url[..7 + i].to_string(), url[7 + i..].to_string()),
        None => (url.clone(), "/".to_string()),
    };
    let host = scheme_auth[7..]
        .rsplit_once('@')
        .map_or(&scheme_auth[7..], |(_, h)| h)
        .to_string();
    let auth = match user_pass {
        Some(up) => format!("{up}@"),
        None => scheme_auth[7..]
            .rsplit_once('@')
            .map_or(String::new(), |(a, _)| format!("{a}@")),
    };
    let path = vhost.map_or(path, |v| format!("/{v}"));
    format!("amqp://{auth}{host}{path}")
}

#[test]
fn wrong_vhost_is_530_and_exit_3() {
    require_broker();
    let out = amqpdoctor()
        .args([
            "probe",
            &url_with(None, Some("amqpdoctor-no-such-vhost")),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let (code, doc, _) = parse(out);
    assert_eq!(code, 3, "{doc:#}");
    assert_eq!(doc["setup_failure"]["code"], "vhost_not_allowed");
    assert_eq!(doc["setup_failure"]["close"]["reply_code"], 530);
    assert_eq!(doc["runs"][0]["end"]["reply_code"], 530);
}

/// Run the probe in both formats and return (format, exit code, stdout,
/// stdout + stderr) for each, asserting the secret appears in neither.
fn both_formats_without(
    secret: &str,
    args: &[&str],
) -> Vec<(&'static str, Option<i32>, Vec<u8>, String)> {
    ["json", "human"]
        .into_iter()
        .map(|format| {
            let out = amqpdoctor()
                .arg("probe")
                .args(args)
                .args(["--trace", "--format", format])
                .output()
                .unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                !all.contains(secret),
                "password leaked in {format} output:\n{all}"
            );
            (format, out.status.code(), out.stdout, all)
        })
        .collect()
}

#[test]
fn wrong_password_is_403_exit_3_and_never_printed() {
    require_broker();
    let secret = "Zq9-wrong-secret-pw";
    let url = url_with(Some(&format!("guest:{secret}")), None);
    for (format, code, stdout, all) in both_formats_without(secret, &[&url]) {
        assert_eq!(code, Some(3), "{all}");
        if format == "json" {
            let doc: Value = serde_json::from_slice(&stdout).unwrap();
            assert_eq!(doc["setup_failure"]["code"], "auth_failed");
            assert_eq!(doc["setup_failure"]["close"]["reply_code"], 403);
            assert!(doc["target"].as_str().unwrap().contains(":***@"));
        } else {
            assert!(all.contains("auth_failed"), "{all}");
        }
    }
}

/// A throwaway broker user, deleted when dropped.
struct TempUser {
    name: String,
}

impl TempUser {
    fn new(password: &str) -> Self {
        Self::named("pw", password)
    }

    /// `tag` keeps users of tests running in parallel apart.
    fn named(tag: &str, password: &str) -> Self {
        let name = format!("amqpdoctor-test-{tag}-{}", std::process::id());
        rabbitmqctl(&["add_user", &name, password]);
        let user = TempUser { name };
        rabbitmqctl(&["set_permissions", "-p", "/", &user.name, ".*", ".*", ".*"]);
        user
    }
}

impl Drop for TempUser {
    fn drop(&mut self) {
        let _ = Command::new("rabbitmqctl")
            .args(["delete_user", &self.name])
            .output();
    }
}

#[test]
fn a_working_password_never_appears_in_any_output() {
    require_broker();
    let secret = "Pw-7f3c-never-print-me";
    let user = TempUser::new(secret);
    let url = url_with(Some(&format!("{}:{secret}", user.name)), Some("%2f"));
    let args = [
        url.as_str(),
        "--mode",
        "all",
        "--idle",
        "1s",
        "--heartbeat",
        "2s",
    ];
    for (_, code, _, all) in both_formats_without(secret, &args) {
        assert_eq!(code, Some(0), "{all}");
    }
}

/// `(pid, connection_name)` of every connection, for close_connection.
///
/// The JSON formatter prints pids as `#PID<…>`, which close_connection does
/// not accept; the plain table prints `<rabbit@host.….0>`, which it does. So
/// join the plain `name pid` rows with the JSON client properties by name.
fn connection_pids() -> Vec<(String, String)> {
    let names = common::list_connections();
    let plain = rabbitmqctl(&["list_connections", "-q", "name", "pid"]);
    plain
        .lines()
        .filter_map(|line| line.rsplit_once('\t'))
        .filter(|(name, _)| *name != "name")
        .map(|(name, pid)| {
            let provided = names
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, p)| p.clone())
                .unwrap_or_default();
            (pid.trim().to_string(), provided)
        })
        .collect()
}

#[test]
fn operator_close_is_320_with_its_text() {
    require_broker();
    // A unique connection name is not settable from the CLI, so find ours by
    // elimination: a disabled-mode connection that appeared after we started.
    let before: Vec<String> = connection_pids().into_iter().map(|(p, _)| p).collect();
    let mut child = spawn_probe(&["--mode", "disabled", "--idle", "8s"]);
    let deadline = Instant::now() + Duration::from_secs(7);
    let mut closed = false;
    while Instant::now() < deadline && !closed {
        for (pid, name) in connection_pids() {
            if name == "amqpdoctor/disabled" && !before.contains(&pid) {
                rabbitmqctl(&["close_connection", &pid, "amqpdoctor test: operator close"]);
                closed = true;
                break;
            }
        }
    }
    if !closed {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    assert!(closed, "never found the probe's connection on the broker");
    let (code, doc, _) = parse(out);
    let run = only_run(&doc);
    // A 320 with an operator's text (issue 21; before it: server_closed).
    assert_eq!(run["verdict"]["code"], "operator_closed", "{run:#}");
    assert_eq!(run["end"]["kind"], "server_close");
    assert_eq!(run["end"]["reply_code"], 320);
    let text = run["end"]["reply_text"].as_str().unwrap_or("");
    assert!(text.contains("amqpdoctor test: operator close"), "{text}");
    assert_eq!(
        code, 1,
        "an operator close is a fault the disabled mode did not predict"
    );
}

#[test]
fn json_report_holds_the_contract_fields() {
    let (_, doc, _) = probe_json(&["--mode", "disabled", "--idle", "0", "--publishes", "1"]);
    for key in [
        "tool",
        "version",
        "command",
        "target",
        "server",
        "runs",
        "exit_code",
    ] {
        assert!(doc.get(key).is_some(), "missing top-level {key}");
    }
    assert_eq!(doc["tool"], "amqpdoctor");
    assert_eq!(doc["command"], "probe");
    assert_eq!(doc["server"]["product"], "RabbitMQ");
    let run = only_run(&doc);
    for key in [
        "mode",
        "negotiation",
        "idle_ms",
        "heartbeats",
        "events",
        "publishes",
        "end",
        "verdict",
    ] {
        assert!(run.get(key).is_some(), "missing run.{key}");
    }
    for key in [
        "server_heartbeat_s",
        "requested_heartbeat_s",
        "negotiated_heartbeat_s",
        "frame_max",
        "channel_max",
    ] {
        assert!(
            run["negotiation"].get(key).is_some(),
            "missing negotiation.{key}"
        );
    }
    for key in [
        "kind",
        "at_ms",
        "since_last_client_byte_ms",
        "reply_code",
        "reply_text",
        "class_id",
        "method_id",
    ] {
        assert!(run["end"].get(key).is_some(), "missing end.{key}");
    }
    for key in ["code", "expected", "summary", "explanation", "remedy"] {
        assert!(run["verdict"].get(key).is_some(), "missing verdict.{key}");
    }
    for key in ["seq", "at_ms", "write", "errno", "errno_name", "outcome"] {
        assert!(
            run["publishes"][0].get(key).is_some(),
            "missing publishes[0].{key}"
        );
    }
    assert_eq!(run["events"][0]["event"], "tcp_connected");
    assert!(run["events"][0]["at_ms"].is_u64());
}

#[test]
fn a_probe_leaves_no_queue_behind() {
    let (_, doc, _) = probe_json(&[
        "--mode",
        "starved,disabled",
        "--heartbeat",
        "2s",
        "--idle",
        "1s",
    ]);
    let ours: Vec<String> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["queue"].as_str().map(str::to_string))
        .collect();
    assert_eq!(ours.len(), 2, "each run declares its own queue: {doc:#}");
    // The broker deletes an exclusive queue as it tears the connection down;
    // give it a moment rather than race it.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let queues = list_queues();
        let left: Vec<&String> = ours.iter().filter(|q| queues.contains(q)).collect();
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "queues left behind: {left:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The reproduction: `probe … --trace | head -1`. The reader closes
/// the pipe after one line; the tool must end quietly (no panic, nothing on
/// stderr but its notices) with the diagnosis's status.
#[test]
fn a_closed_stdout_ends_the_output_quietly() {
    require_broker();
    let bin = assert_cmd::cargo::cargo_bin("amqpdoctor");
    let mut child = Command::new(bin)
        .args(["probe", &broker_url(), "--mode", "disabled", "--idle", "1s"])
        .args(["--publishes", "300", "--trace", "--color", "never"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning amqpdoctor");
    // Read one byte, then close our end: every later write gets EPIPE.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 1];
    std::io::Read::read_exact(&mut stdout, &mut first).expect("one byte of output");
    drop(stdout);
    let out = child.wait_with_output().expect("waiting");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}

/// A probe says on stderr, before it idles, what it will do and when it
/// will be done (also when stderr is not a terminal, as in CI logs).
#[test]
fn the_plan_is_announced_before_the_idle() {
    let (code, doc, stderr) = probe_json(&["--mode", "disabled", "--idle", "1s"]);
    assert_eq!(code, 0, "{doc}");
    let plan = stderr
        .lines()
        .find(|l| l.starts_with("amqpdoctor: probing "))
        .unwrap_or_else(|| panic!("no plan line in stderr:\n{stderr}"));
    assert!(plan.contains("with disabled: idle 1 s"), "{plan}");
    assert!(plan.contains("done in about 2s"), "{plan}");
    assert!(!plan.contains("guest:guest"), "{plan}");
}

/// The reproduction: publishing to an exchange that does not exist
/// loses every message; that is a fault (exit 1) in every mode alike, never
/// `healthy`.
#[test]
fn a_missing_exchange_is_a_fault_in_every_mode() {
    let (code, doc, stderr) = probe_json(&[
        "--mode",
        "all",
        "--idle",
        "0s",
        "--publishes",
        "1",
        "--exchange",
        "amqpdoctor.test.nosuchexchange",
        "--routing-key",
        "k",
    ]);
    assert_eq!(code, 1, "{doc}\n{stderr}");
    for run in doc["runs"].as_array().unwrap() {
        assert_eq!(run["verdict"]["code"], "exchange_not_found", "{run}");
        assert_eq!(run["verdict"]["expected"], false);
        assert_ne!(run["publishes"][0]["outcome"], "confirmed", "{run}");
    }
}

/// `--password-file` and `$AMQPDOCTOR_PASSWORD` log in without the secret
/// in argv or the URL, and it appears in no output, in either format.
#[test]
fn password_from_a_file_or_the_environment_logs_in_and_is_never_printed() {
    require_broker();
    let secret = "Pw-file-env-9d1e-never-print";
    let user = TempUser::named("pwfile", secret);
    let dir = std::env::temp_dir().join(format!("amqpdoctor-pw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("password");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    // The URL names the user only; a wrong password in it must lose.
    let url = url_with(Some(&format!("{}:wrong-in-url", user.name)), Some("%2f"));
    let base = ["probe", url.as_str(), "--mode", "disabled", "--idle", "0s"];
    let build = |how: &str| {
        let mut c = amqpdoctor();
        c.args(base);
        match how {
            "--password-file" => c.arg("--password-file").arg(&file),
            "$AMQPDOCTOR_PASSWORD_FILE" => c.env("AMQPDOCTOR_PASSWORD_FILE", &file),
            _ => c.env("AMQPDOCTOR_PASSWORD", secret),
        };
        c
    };
    for how in [
        "--password-file",
        "$AMQPDOCTOR_PASSWORD_FILE",
        "$AMQPDOCTOR_PASSWORD",
    ] {
        for format in ["human", "json"] {
            let out = build(how).args(["--format", format]).output().unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.status.code(), Some(0), "{how} {format}: {all}");
            assert!(
                !all.contains(secret),
                "{how} {format} printed the secret: {all}"
            );
            assert!(!all.contains("wrong-in-url"), "{how} {format}: {all}");
        }
    }
    // A missing file is a usage error naming the file, not a connection.
    let out = amqpdoctor()
        .args(base)
        .arg("--password-file")
        .arg(dir.join("missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password-file"));
    let _ = std::fs::remove_dir_all(&dir);
}
