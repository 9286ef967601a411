//! `amqpdoctor proxy` in front of the real broker, with `probe` through
//! it: each `--on-idle` behaviour gets the verdict a middlebox would cause,
//! at the idle it was set to; a serviced connection survives because its
//! heartbeats keep the path busy; swallowing the client's heartbeats makes
//! the broker drop a well-behaved client; `idle-timeout` brackets the
//! proxy's idle timeout in every mode.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::run::{json_of, refused_port};
use common::{broker_url, require_broker};
use serde_json::Value;

/// A running proxy (killed by SIGINT when dropped) and its address.
struct Proxy {
    child: Option<Child>,
    url: String,
    head: String,
}

impl Proxy {
    /// A proxy to the test broker.
    fn start(args: &[&str]) -> Proxy {
        require_broker();
        Proxy::to(&common::broker_host_port(), args)
    }

    /// A proxy to `upstream`.
    fn to(upstream: &str, args: &[&str]) -> Proxy {
        let upstream = upstream.to_string();
        let mut child = Command::new(env!("CARGO_BIN_EXE_amqpdoctor"))
            .args(["proxy", "--listen", "127.0.0.1:0", "--upstream", &upstream])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut head = String::new();
        out.read_line(&mut head).unwrap();
        let addr = head
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {head:?}"))
            .to_string();
        child.stdout = Some(out.into_inner());
        // The broker URL's credentials and vhost, pointed at the proxy.
        let url = broker_url();
        let (front, rest) = url.split_once('@').unwrap();
        let vhost = rest.split_once('/').map_or("", |(_, v)| v);
        Proxy {
            child: Some(child),
            url: format!("{front}@{addr}/{vhost}"),
            head,
        }
    }

    /// Stop with SIGINT; the exit code and everything printed.
    fn stop(mut self) -> (Option<i32>, String) {
        let mut child = self.child.take().unwrap();
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let mut out = self.head.clone();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let status = child.wait().unwrap();
        (status.code(), out)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `probe URL ARGS --format json`: exit code and the first run.
fn probe(url: &str, args: &[&str]) -> (i32, Value) {
    let out = common::amqpdoctor()
        .args(["probe", url, "--format", "json", "--confirm-timeout", "2s"])
        .args(args)
        .output()
        .unwrap();
    (out.status.code().unwrap(), json_of(&out)["runs"][0].clone())
}

/// Each --on-idle behaviour, 2 s idle timeout, a disabled probe idling 4 s.
fn on_idle(mode: &str) -> (i32, Value, String) {
    let proxy = Proxy::start(&["--idle-timeout", "2s", "--on-idle", mode]);
    let (code, run) = probe(&proxy.url, &["--mode", "disabled", "--idle", "4s"]);
    let (exit, out) = proxy.stop();
    assert_eq!(exit, Some(0), "proxy exit: {out}");
    (code, run, out)
}

/// The ending came about 2 s (the proxy's idle timeout) into the idle.
fn killed_at_the_idle_timeout(run: &Value) {
    let at = run["end"]["at_ms"].as_u64().unwrap();
    let silent = run["end"]["since_last_client_byte_ms"].as_u64().unwrap();
    assert!((1900..4000).contains(&at), "ended at {at} ms: {run:#}");
    assert!((1900..4000).contains(&silent), "client silent {silent} ms");
}

#[test]
fn reset_is_a_path_idle_timeout_seen_as_rst() {
    let (code, run, out) = on_idle("reset");
    assert_eq!(code, 1, "{run:#}");
    assert_eq!(run["verdict"]["code"], "path_idle_timeout", "{run:#}");
    assert_eq!(run["end"]["kind"], "reset");
    killed_at_the_idle_timeout(&run);
    assert_eq!(run["publishes"][0]["errno_name"], "ECONNRESET", "{run:#}");
    assert!(out.contains("idle: reset both sides (RST)"), "{out}");
}

#[test]
fn close_is_a_path_idle_timeout_seen_as_fin() {
    let (code, run, out) = on_idle("close");
    assert_eq!(code, 1);
    assert_eq!(run["verdict"]["code"], "path_idle_timeout", "{run:#}");
    assert_eq!(run["end"]["kind"], "fin");
    killed_at_the_idle_timeout(&run);
    assert!(out.contains("close both sides (FIN)"), "{out}");
}

#[test]
fn forget_is_a_path_idle_timeout_seen_when_the_client_speaks() {
    let (code, run, out) = on_idle("forget");
    assert_eq!(code, 1, "{run:#}");
    assert_eq!(run["verdict"]["code"], "path_idle_timeout", "{run:#}");
    assert_eq!(run["end"]["kind"], "reset");
    // Nothing happened at the proxy's 2 s: the RST answered the first
    // publish, at the end of the 4 s idle, and the broker had been silent.
    let at = run["end"]["at_ms"].as_u64().unwrap();
    assert!((3900..6000).contains(&at), "ended at {at} ms: {run:#}");
    assert!(run["end"]["since_last_client_byte_ms"].as_u64().unwrap() < 500);
    assert!(run["end"]["since_last_server_byte_ms"].as_u64().unwrap() >= 3500);
    let explanation = run["verdict"]["explanation"].as_str().unwrap();
    assert!(
        explanation.contains("the RST answered that write"),
        "{explanation}"
    );
    assert!(out.contains("the server side was never told"), "{out}");
}

#[test]
fn drop_is_silent_loss() {
    let (code, run, out) = on_idle("drop");
    assert_eq!(code, 1);
    assert_eq!(run["verdict"]["code"], "silent_loss", "{run:#}");
    // The writes were accepted; nothing came back.
    for p in run["publishes"].as_array().unwrap() {
        assert_eq!(p["write"], "ok", "{p:#}");
        assert_eq!(p["outcome"], "lost", "{p:#}");
    }
    assert!(out.contains("blackhole"), "{out}");
}

#[test]
fn serviced_heartbeats_keep_the_path_busy() {
    let proxy = Proxy::start(&["--idle-timeout", "2s", "--on-idle", "reset"]);
    let (code, run) = probe(
        &proxy.url,
        &["--mode", "serviced", "--heartbeat", "1s", "--idle", "4s"],
    );
    let (_, out) = proxy.stop();
    assert_eq!(code, 0, "{run:#}\n{out}");
    assert_eq!(run["verdict"]["code"], "healthy");
    assert!(!out.contains("reset both sides"), "{out}");
}

#[test]
fn swallowed_heartbeats_make_the_broker_drop_a_serviced_client() {
    let proxy = Proxy::start(&["--drop-heartbeats", "to-server"]);
    let (code, run) = probe(
        &proxy.url,
        &["--mode", "serviced", "--heartbeat", "1s", "--idle", "5s"],
    );
    let (_, out) = proxy.stop();
    assert_eq!(code, 1, "{run:#}");
    assert_eq!(
        run["verdict"]["code"], "broker_heartbeat_timeout",
        "{run:#}"
    );
    assert!(run["heartbeats"]["sent"].as_u64().unwrap() > 0);
    assert!(
        run["verdict"]["summary"]
            .as_str()
            .unwrap()
            .contains("lost on the way"),
        "{run:#}"
    );
    // The broker's RST reached the client as an RST, not a FIN.
    assert_eq!(run["end"]["kind"], "reset", "{run:#}");
    // The summary counts what it swallowed.
    let row = out
        .lines()
        .find(|l| l.contains("#2") && l.contains("RST"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(!row.contains("┆ 0 / 0"), "no heartbeat dropped: {row}");
}

#[test]
fn frames_are_logged_with_direction_and_method() {
    let proxy = Proxy::start(&["--log-frames", "--drop-heartbeats", "to-client"]);
    let out = common::amqpdoctor()
        .args([
            "heartbeat",
            &proxy.url,
            "--interval",
            "1s",
            "--observe",
            "2s",
            "--format",
            "json",
        ])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let (exit, log) = proxy.stop();
    assert_eq!(exit, Some(0));
    for want in [
        "→ protocol header AMQP 0-9-1",
        "← ch0 Connection.Start",
        "→ ch0 Connection.TuneOk",
        "→ heartbeat",
        "← heartbeat  [dropped]",
        "→ ch0 Connection.Close",
    ] {
        assert!(log.contains(want), "no {want:?} in:\n{log}");
    }
    // The client saw no server heartbeats: they were swallowed.
    let doc: Value = json_of(&out);
    assert_eq!(doc["observed"]["server_to_client"]["count"], 0, "{doc:#}");
}

#[test]
fn an_unreachable_upstream_resets_the_client() {
    let port = refused_port();
    let proxy = Proxy::to(&format!("127.0.0.1:{port}"), &[]);
    let addr = proxy
        .url
        .split_once('@')
        .unwrap()
        .1
        .split_once('/')
        .unwrap()
        .0
        .to_string();
    let run = common::amqpdoctor()
        .args([
            "probe",
            &format!("amqp://guest:S3cr3tPw@{addr}/%2f"),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(3));
    let (exit, out) = proxy.stop();
    assert_eq!(exit, Some(0));
    assert!(out.contains("upstream connect failed"), "{out}");
}

/// `idle-timeout URL --max 8s ARGS --format json`: exit code and report.
fn idle_timeout(url: &str, args: &[&str]) -> (i32, Value) {
    let out = common::amqpdoctor()
        .args(["idle-timeout", url, "--format", "json", "--max", "8s"])
        .args(args)
        .output()
        .unwrap();
    (out.status.code().unwrap(), json_of(&out))
}

/// `idle-timeout --max 8s` through a proxy with a 2 s idle timeout: the
/// bracket holds 2 s, and the casualties died the proxy's way.
fn brackets_the_proxy(mode: &str, died_by: &str, seen_while_idle: bool) -> Value {
    let proxy = Proxy::start(&["--idle-timeout", "2s", "--on-idle", mode]);
    let (code, doc) = idle_timeout(&proxy.url, &["--connect-timeout", "1s"]);
    let (exit, out) = proxy.stop();
    assert_eq!(exit, Some(0), "proxy exit: {out}");
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["finding"], "bracketed", "{doc:#}");
    let b = &doc["bracket"];
    let survivor = b["longest_survivor_ms"].as_u64().unwrap();
    let casualty = b["shortest_casualty_ms"].as_u64().unwrap();
    assert!(survivor < 2000 && casualty >= 1990, "{b:#}");
    assert!(casualty < 4000, "a loose bracket: {b:#}");
    assert_eq!(b["died_by"], serde_json::json!([died_by]), "{doc:#}");
    assert_eq!(b["seen_dying_while_idle"], seen_while_idle, "{doc:#}");
    // One connection per probe, each idle distinct, geometric 1 s … 8 s.
    let probes = doc["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 8);
    assert_eq!(probes[0]["idle_ms"], 1000);
    assert_eq!(probes[7]["idle_ms"], 8000);
    assert!(probes.iter().any(|p| p["fate"] == died_by), "{doc:#}");
    assert!(
        doc["advice"]["heartbeat_s"].as_u64().unwrap() <= 1,
        "{doc:#}"
    );
    // The proxy saw as many connections as there were probes.
    assert!(out.contains("#8"), "{out}");
    doc
}

#[test]
fn idle_timeout_brackets_a_resetting_path() {
    let doc = brackets_the_proxy("reset", "reset", true);
    // Every field of the document is in docs/json.md's idle-timeout section.
    common::assert_documented(
        "## `amqpdoctor idle-timeout --format json`",
        &[
            &doc,
            &doc["probes"][0],
            &doc["bracket"],
            &doc["advice"],
            &doc["settings"],
        ],
    );
}

#[test]
fn idle_timeout_brackets_a_forgetting_path() {
    // Seen only once each connection spoke: the casualty is its whole idle.
    let _ = brackets_the_proxy("forget", "reset", false);
}

#[test]
fn idle_timeout_brackets_a_closing_path() {
    let _ = brackets_the_proxy("close", "fin", true);
}

#[test]
fn idle_timeout_brackets_a_blackhole() {
    let _ = brackets_the_proxy("drop", "silence", false);
}

#[test]
fn idle_timeout_without_a_middlebox_finds_none() {
    require_broker();
    let out = common::amqpdoctor()
        .args([
            "idle-timeout",
            &broker_url(),
            "--max",
            "2s",
            "--probes",
            "3",
        ])
        .args(["--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("No idle timeout up to 2 s"), "{text}");
    assert!(text.contains("survived"), "{text}");
    // The target is shown, its password never.
    let url = broker_url();
    let redacted = common::redact(&url);
    assert!(text.contains(redacted.trim_end_matches('/')), "{text}");
    if redacted != url {
        assert!(!text.contains(url.trim_end_matches('/')), "{text}");
    }
}
