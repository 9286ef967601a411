//! Every way a broker ends or stalls a connection, caused for real and
//! named by probe and check (docs/broker-faults.md, issue 21).
//!
//! The faults are node-wide (alarms, stop_app, connection limits, the
//! `rabbit` application's consumer_timeout, max_message_size and
//! handshake_timeout), so they never touch the shared broker on
//! 127.0.0.1:5672: they run against a private RabbitMQ node that
//! `bash .ci/faults-node` starts (amqpdoctor-faults@localhost, AMQP on
//! 127.0.0.1:5673). `$AMQPDOCTOR_FAULTS_URL` and `$AMQPDOCTOR_FAULTS_NODE`
//! point them elsewhere. A missing node ends the binary with one line
//! naming that command.
//!
//! Every test is `#[ignore]`d (the README's `cargo test --locked` leaves
//! them out) and they run one at a time: `.ci/run` runs
//! `cargo test --locked --test broker_faults -- --ignored --test-threads=1`,
//! and each test also holds [`SERIAL`]. Each change goes through a
//! [`Faults`] guard that puts the node's setting back when it is dropped,
//! also when the test fails; the last test (`zz_…`, libtest runs them by
//! name) checks the node is back as it was and that the shared node was
//! never touched.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::run::json_of;

const SETUP: &str = "bash .ci/faults-node";
const DEFAULT_URL: &str = "amqp://guest:guest@127.0.0.1:5673/%2f";
const DEFAULT_NODE: &str = "amqpdoctor-faults@localhost";

/// The defaults the guard puts back (RabbitMQ 3.10.8's, as .ci/faults-node
/// resets them).
const WATERMARK: &str = "0.4";
const DISK_FREE_LIMIT: &str = "50000000";

/// The `rabbit` application settings a test may change, with their defaults.
const ENV_DEFAULTS: &[(&str, u64)] = &[
    ("consumer_timeout", 1_800_000),
    ("channel_tick_interval", 60_000),
    ("max_message_size", 134_217_728),
    ("handshake_timeout", 10_000),
];

static SERIAL: Mutex<()> = Mutex::new(());

fn url() -> String {
    std::env::var("AMQPDOCTOR_FAULTS_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_string())
}

/// The private node's management API (audit): `$AMQPDOCTOR_FAULTS_MANAGEMENT`.
fn management() -> String {
    std::env::var("AMQPDOCTOR_FAULTS_MANAGEMENT")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "http://guest:guest@127.0.0.1:15673".to_string())
}

fn node() -> String {
    std::env::var("AMQPDOCTOR_FAULTS_NODE")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_NODE.to_string())
}

/// `rabbitmqctl -q -n NODE ARGS` (bounded by `timeout 60`): stdout, or
/// what went wrong.
fn try_ctl(args: &[&str]) -> Result<String, String> {
    let node = node();
    let out = Command::new("timeout")
        .args(["60", "rabbitmqctl", "-q", "-n", &node])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run rabbitmqctl: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "`rabbitmqctl -n {node} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn ctl(args: &[&str]) -> String {
    try_ctl(args).unwrap_or_else(|e| panic!("{e}"))
}

/// The private node answers AMQP and rabbitmqctl; checked once.
fn require_node() {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let r = CHECK.get_or_init(|| {
        common::check_broker(&url())?;
        try_ctl(&["eval", "ok."]).map(|_| ())
    });
    if let Err(why) = r {
        common::fixture::missing_with(
            &format!(
                "the broker-fault tests' private RabbitMQ node {} at {} ({why})",
                node(),
                common::redact(&url())
            ),
            SETUP,
        );
    }
}

/// One change a test made, and how to undo it.
#[derive(Debug, Clone, Copy)]
enum Undo {
    Watermark,
    DiskLimit,
    VhostLimits,
    UserLimits,
    Env(&'static str),
    App,
}

/// Makes the node's faults and undoes them on drop, even when the test
/// fails; holds [`SERIAL`] meanwhile.
struct Faults {
    undo: Vec<Undo>,
    _serial: MutexGuard<'static, ()>,
}

impl Faults {
    fn new() -> Self {
        require_node();
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        Faults {
            undo: Vec::new(),
            _serial: serial,
        }
    }

    fn memory_alarm(&mut self) {
        self.undo.push(Undo::Watermark);
        ctl(&["set_vm_memory_high_watermark", "0.0000001"]);
        wait_for("the memory alarm", || alarms().contains("memory"));
    }

    fn disk_alarm(&mut self) {
        self.undo.push(Undo::DiskLimit);
        // 1 PB: above any free space.
        ctl(&["set_disk_free_limit", "1000000000000000"]);
        wait_for("the disk alarm", || alarms().contains("disk"));
    }

    fn vhost_connection_limit(&mut self, n: u32) {
        self.undo.push(Undo::VhostLimits);
        ctl(&[
            "set_vhost_limits",
            "-p",
            "/",
            &format!("{{\"max-connections\": {n}}}"),
        ]);
    }

    fn user_connection_limit(&mut self, n: u32) {
        self.undo.push(Undo::UserLimits);
        ctl(&[
            "set_user_limits",
            "guest",
            &format!("{{\"max-connections\": {n}}}"),
        ]);
    }

    fn set_env(&mut self, key: &'static str, value: u64) {
        assert!(ENV_DEFAULTS.iter().any(|(k, _)| *k == key), "{key}");
        self.undo.push(Undo::Env(key));
        ctl(&[
            "eval",
            &format!("ok = application:set_env(rabbit, {key}, {value})."),
        ]);
    }

    fn stop_app(&mut self) {
        self.undo.push(Undo::App);
        ctl(&["stop_app"]);
    }

    fn restore(u: Undo) -> Result<String, String> {
        match u {
            Undo::Watermark => try_ctl(&["set_vm_memory_high_watermark", WATERMARK]),
            Undo::DiskLimit => try_ctl(&["set_disk_free_limit", DISK_FREE_LIMIT]),
            Undo::VhostLimits => try_ctl(&["set_vhost_limits", "-p", "/", "{}"]),
            Undo::UserLimits => try_ctl(&["clear_user_limits", "guest", "all"]),
            Undo::Env(key) => {
                let (_, v) = ENV_DEFAULTS.iter().find(|(k, _)| *k == key).unwrap();
                try_ctl(&[
                    "eval",
                    &format!("ok = application:set_env(rabbit, {key}, {v})."),
                ])
            }
            Undo::App => {
                try_ctl(&["start_app"]).and_then(|_| try_ctl(&["await_startup", "--timeout", "60"]))
            }
        }
    }
}

impl Drop for Faults {
    fn drop(&mut self) {
        let mut errors = Vec::new();
        while let Some(u) = self.undo.pop() {
            if let Err(e) = Faults::restore(u) {
                errors.push(e);
            }
        }
        // The alarms clear once their limits are back.
        let deadline = Instant::now() + Duration::from_secs(30);
        while try_ctl(&["eval", "rabbit_alarm:get_alarms()."]).as_deref() != Ok("[]") {
            if Instant::now() > deadline {
                errors.push("an alarm is still on 30 s after the restore".into());
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        if errors.is_empty() {
            return;
        }
        let msg = format!(
            "restoring {} failed: {}; run `{SETUP} reset`",
            node(),
            errors.join("; ")
        );
        if std::thread::panicking() {
            eprintln!("{msg}");
        } else {
            panic!("{msg}");
        }
    }
}

fn alarms() -> String {
    ctl(&["eval", "rabbit_alarm:get_alarms()."])
}

/// Poll `done` every 200 ms for at most 30 s.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn amqpdoctor(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_amqpdoctor"));
    cmd.env("NO_COLOR", "1")
        .env_remove("AMQP_URL")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Run amqpdoctor to the end: exit code and its JSON document.
fn run(args: &[&str]) -> (i32, Value) {
    let out = amqpdoctor(args).output().expect("running amqpdoctor");
    (out.status.code().unwrap_or(-1), json_of(&out))
}

/// `probe URL --mode MODE --heartbeat 2s --format json EXTRA…`.
fn probe_args(mode: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "probe",
        &url(),
        "--mode",
        mode,
        "--heartbeat",
        "2s",
        "--format",
        "json",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

fn probe(mode: &str, extra: &[&str]) -> (i32, Value) {
    let args = probe_args(mode, extra);
    run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn check(extra: &[&str]) -> (i32, Value) {
    let u = url();
    let mut args = vec![
        "check",
        u.as_str(),
        "--connect-timeout",
        "2s",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// The failed step of a check report: (step, failure).
fn failed_step(doc: &Value) -> (String, Value) {
    let steps = doc["targets"][0]["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no steps in {doc:#}"));
    let s = steps
        .iter()
        .find(|s| s["status"] == "failed")
        .unwrap_or_else(|| panic!("no failed step in {doc:#}"));
    (
        s["step"].as_str().unwrap().to_string(),
        s["failure"].clone(),
    )
}

/// Run amqpdoctor in the background while `during` acts on the node, once
/// the broker lists the connection named `connection_name`; then wait for it.
fn probe_while(mode: &str, extra: &[&str], during: impl FnOnce(&str)) -> (i32, Value) {
    let args = probe_args(mode, extra);
    let child = amqpdoctor(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .spawn()
        .expect("starting amqpdoctor");
    let name = format!("amqpdoctor/{mode}");
    let mut pid = None;
    wait_for(&format!("the broker listing {name}"), || {
        pid = try_ctl(&[
            "list_connections",
            "--no-table-headers",
            "pid",
            "client_properties",
        ])
        .unwrap_or_default()
        .lines()
        .find(|l| l.contains(&format!("\"{name}\"")))
        .and_then(|l| l.split('\t').next())
        .map(str::to_string);
        pid.is_some()
    });
    during(pid.as_deref().unwrap());
    let out: Output = child.wait_with_output().expect("waiting for amqpdoctor");
    (out.status.code().unwrap_or(-1), json_of(&out))
}

fn verdict(doc: &Value, i: usize) -> (&str, &str) {
    let v = &doc["runs"][i]["verdict"];
    (
        v["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no verdict in {doc:#}")),
        v["summary"].as_str().unwrap_or(""),
    )
}

#[test]
#[ignore = "needs the private node of `bash .ci/faults-node`; .ci/run runs it"]
fn blocked_by_the_memory_alarm() {
    let mut f = Faults::new();
    f.memory_alarm();
    // Both clients: our frame-level one, and lapin (whose I/O task sees
    // Connection.Blocked itself).
    let (code, doc) = probe(
        "starved,serviced",
        &["--idle", "1s", "--confirm-timeout", "2s"],
    );
    assert_eq!(code, 1, "{doc:#}");
    for i in 0..2 {
        let run = &doc["runs"][i];
        let (v, summary) = verdict(&doc, i);
        assert_eq!(v, "blocked", "{} {doc:#}", run["mode"]);
        assert!(summary.contains("\"low on memory\""), "{summary}");
        assert_eq!(run["blocked"]["reason"], "low on memory", "{run:#}");
        assert!(
            run["blocked"]["blocked_ms"].as_u64().unwrap() > 0,
            "{run:#}"
        );
        assert!(run["blocked"]["unblocked_at_ms"].is_null(), "{run:#}");
        let outcomes: Vec<&str> = run["publishes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes, ["blocked", "blocked"], "{run:#}");
    }

    let (code, doc) = check(&[]);
    assert_eq!(code, 1, "{doc:#}");
    let (step, failure) = failed_step(&doc);
    assert_eq!(step, "publish", "{doc:#}");
    assert_eq!(failure["code"], "blocked", "{failure:#}");
    let msg = failure["message"].as_str().unwrap();
    assert!(
        msg.contains("Connection.Blocked \"low on memory\""),
        "{msg}"
    );

    // A real pika BlockingConnection beside them, with the remedy for a
    // publish that would hang: blocked_connection_timeout.
    let script = r#"
import sys, pika
url = sys.stdin.read().strip()
p = pika.URLParameters(url + "?heartbeat=5&blocked_connection_timeout=2")
c = pika.BlockingConnection(p)
ch = c.channel()
ch.confirm_delivery()
q = ch.queue_declare("", exclusive=True).method.queue
try:
    ch.basic_publish("", q, b"x")
    print("published")
except pika.exceptions.ConnectionBlockedTimeout as e:
    print("pika.exceptions.ConnectionBlockedTimeout: %s" % e)
"#;
    let said = common::fixture::run_python(script, &url());
    let said = said.trim();
    assert!(
        said.starts_with("pika.exceptions.ConnectionBlockedTimeout"),
        "{said}"
    );
    let (code, doc) = run(&["explain", said, "--format", "json"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["explained_by"]["code"], "blocked", "{doc:#}");

    // audit names the alarm itself, from /api/nodes.
    let (_, doc) = run(&["audit", "--management", &management(), "--format", "json"]);
    let alarms = doc["overview"]["alarms"].as_array().unwrap();
    assert!(
        alarms
            .iter()
            .any(|a| a.as_str().unwrap().starts_with("memory alarm on ")),
        "{doc:#}"
    );
    let notes = doc["notes"].to_string();
    assert!(notes.contains("explain blocked"), "{notes}");
}

#[test]
#[ignore = "needs the private node of `bash .ci/faults-node`; .ci/run runs it"]
fn blocked_by_the_disk_alarm() {
    let mut f = Faults::new();
    f.disk_alarm();
    let (code, doc) = probe("starved", &["--idle", "1s", "--confirm-timeout", "2s"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(verdict(&doc, 0).0, "blocked", "{doc:#}");
    assert_eq!(
        doc["runs"][0]["blocked"]["reason"], "low on disk",
        "{doc:#}"
    );
    let (code, doc) = check(&[]);
    assert_eq!(code, 1, "{doc:#}");
    let (step, failure) = failed_step(&doc);
    assert_eq!(
        (step.as_str(), &failure["code"]),
        ("publish", &Value::from("blocked"))
    );
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("\"low on disk\""),
        "{failure:#}"
    );
}

#[test]
#[ignore = "needs the private node of `bash .ci/faults-node`; .ci/run runs it"]
fn closed_by_an_operator() {
    let _f = Faults::new();
    const WHY: &str = "maintenance by amqpdoctor tests";
    // Disabled (heartbeat 0): the broker waits for Close-Ok instead of
    // dropping the unread connection by heartbeat; the client reads the
    // Close when it next publishes. Serviced: lapin reads it at once.
    for mode in ["disabled", "serviced"] {
        let (code, doc) = probe_while(mode, &["--idle", "10s"], |pid| {
            ctl(&["close_connection", pid, WHY]);
        });
        assert_eq!(code, 1, "{doc:#}");
        let (v, summary) = verdict(&doc, 0);
        assert_eq!(v, "operator_closed", "{mode}: {doc:#}");
        assert!(summary.contains(WHY), "{summary}");
        let end = &doc["runs"][0]["end"];
        assert_eq!(end["reply_code"], 320, "{end:#}");
        assert_eq!(
            end["reply_text"],
            format!("CONNECTION_FORCED - {WHY}"),
            "{end:#}"
        );
    }
}

#[test]
#[ignore = "needs the private node of `bash .ci/faults-node`; .ci/run runs it"]
fn the_node_shuts_down_then_refuses() {
    let mut f = Faults::new();
    let mut stopped = false;
    // The broker sends Connection.Close and resets at once (linger 0); the
    // wire client reads the Close the kernel still holds after its write
    // fails. (lapin, in the serviced mode, reports only the reset.)
    let (code, doc) = probe_while("disabled", &["--idle", "20s"], |_| {
        f.stop_app();
        stopped = true;
    });
    assert!(stopped);
    assert_eq!(code, 1, "{doc:#}");
    let (v, summary) = verdict(&doc, 0);
    assert_eq!(v, "broker_shutdown", "{doc:#}");
    assert!(summary.contains("reason 'shutdown'"), "{summary}");
    // The reset ended it; the Close read after it says why.
    let run = &doc["runs"][0];
    assert_eq!(run["end"]["kind"], "reset", "{run:#}");
    let close = run["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "server_close")
        .unwrap_or_else(|| panic!("no server_close in {run:#}"));
    assert_eq!(close["reply_code"], 320, "{close:#}");

    // While it is down: refused.
    let (code, doc) = probe("starved", &["--idle", "0s"]);
    assert_eq!(code, 3, "{doc:#}");
    let failure = &doc["setup_failure"];
    assert_eq!(failure["code"], "connect_failed", "{doc:#}");
    assert_eq!(failure["errno"], 111, "{doc:#}");
    let (code, doc) = check(&[]);
    assert_eq!(code, 1, "{doc:#}");
    let (step, failure) = failed_step(&doc);
    assert_eq!(step, "connect", "{doc:#}");
    assert_eq!(failure["errno_name"], "ECONNREFUSED", "{failure:#}");
}

#[test]
#[ignore = "needs the private node of `bash .ci/faults-node`; .ci/run runs it"]
fn refused_by_a_vhost_connection_limit() {
    let mut f = Faults::new();
    f.vhost_connection_limit(0);
    assert_limit_refusal("connection limit (0) is reached");
}

#[test]
#[ignore = "needs the private node of `bash .ci/faults-node`; .ci/run runs it"]
fn refused_by_a_user_connection_limit() {
    let mut f = Faults::new();
    f.user_connection_limit(0);
    assert_limit_refusal("user connection limit (0) is reached");
}

fn assert_limit_refusal(text: &str) {
    let (code, doc) = probe("starved", &["--idle", "0s"]);
    assert_eq!(code, 3, "{doc:#}");
    let failure = &doc["setup_failure"];
    assert_eq!(failure["code"], "connection_limit", "{doc:#}");
    assert_eq!(failure["close"]["reply_code"], 530, "{doc:#}");
    assert!(
        failure["message"].as_str().unwrap().contains(text),
        "{doc:#}"
    );
    let (code, doc) = check(&[]);
    assert_eq!(code, 1, "{doc:#}");
    let (step, failure) = failed_step(&doc);
    assert_eq!(step, "handshake", "{doc:#}");
    assert_eq!(failure["code"], "connection_limit", "{failure:#}");
    assert!(
        failure["reply_text"].as_str().unwrap().contains(text),
        "{failure:#}"
    );
}

#[test]
#[ignore = "needs the private node of `bash .ci/faults-node`; .ci/run runs it"]
fn a_consumer_that_never_acks_times_out() {
    let mut f = Faults::new();
    // Read by each channel when it opens: set before the probe connects.
    // The tick is how often a channel checks (60 s by default).
    f.set_env("consumer_timeout", 2000);
    f.set_env("channel_tick_interval", 200);
    // Every mode: the wire client's consumer, and lapin's.
    let (code, doc) = probe("all", &["--idle", "0s", "--consume", "--hold", "8s"]);
    assert_eq!(code, 1, "{doc:#}");
    for i in 0..3 {
        let (v, summary) = verdict(&doc, i);
        assert_eq!(v, "consumer_ack_timeout", "{doc:#}");
        assert!(summary.contains("within 2 s"), "{summary}");
        let run = &doc["runs"][i];
        assert_eq!(run["consumer_timeout_ms"], 2000, "{run:#}");
        let closed = run["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event"] == "channel_close")
            .unwrap_or_else(|| panic!("no channel_close in {run:#}"));
        assert_eq!(closed["reply_code"], 406);
        assert!(closed["reply_text"]
            .as_str()
            .unwrap()
            .starts_with("PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out"));
    }
    // Held for less than the timeout: the same consumer is healthy.
    drop(f);
    let (code, doc) = probe("starved", &["--idle", "0s", "--consume", "--hold", "1s"]);
    assert_eq!((code, verdict(&doc, 0).0), (0, "healthy"), "{doc:#}");
}

#[test]
#[ignore = "needs the private node of `bash .ci/faults-node`; .ci/run runs it"]
fn a_message_over_max_message_size() {
    let mut f = Faults::new();
    // The probe's and the check's bodies are about 60 bytes.
    f.set_env("max_message_size", 16);
    let (code, doc) = probe("starved", &["--idle", "0s", "--publishes", "1"]);
    assert_eq!(code, 1, "{doc:#}");
    let (v, summary) = verdict(&doc, 0);
    assert_eq!(v, "message_too_large", "{doc:#}");
    assert!(
        summary.contains("is larger than configured max size 16"),
        "{summary}"
    );
    let (code, doc) = check(&[]);
    assert_eq!(code, 1, "{doc:#}");
    let (step, failure) = failed_step(&doc);
    assert_eq!(step, "publish", "{doc:#}");
    assert_eq!(failure["code"], "message_too_large", "{failure:#}");
    assert_eq!(failure["reply_code"], 406, "{failure:#}");
}

#[test]
#[ignore = "needs the private node of `bash .ci/faults-node`; .ci/run runs it"]
fn a_client_silent_in_the_handshake_is_dropped() {
    let mut f = Faults::new();
    f.set_env("handshake_timeout", 1000);
    let addr = url()
        .rsplit_once('@')
        .and_then(|(_, hp)| hp.split('/').next())
        .map(str::to_string)
        .unwrap();
    // (what the client sends, then nothing)
    for sent in [&b""[..], b"AMQP\x00\x00\x09\x01"] {
        let mut s = TcpStream::connect(&addr).expect("connecting");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(sent).unwrap();
        let mut got = Vec::new();
        // The broker drops the socket after handshake_timeout, with linger
        // 0 (measured: RST, so ECONNRESET; an EOF would do too). A read
        // timeout here (WouldBlock) means it never did.
        let r = s.read_to_end(&mut got);
        assert!(
            r.is_ok()
                || r.as_ref()
                    .is_err_and(|e| e.kind() == ErrorKind::ConnectionReset),
            "{r:?} after {} bytes",
            got.len()
        );
        if sent.is_empty() {
            assert!(got.is_empty(), "{got:?}");
        } else {
            // Connection.Start came, then the close.
            assert_eq!(&got[..1], [1], "{got:?}");
        }
    }
    for line in [
        "{handshake_timeout,handshake}",
        "{handshake_timeout,frame_header}",
    ] {
        let (code, doc) = run(&["explain", line, "--format", "json"]);
        assert_eq!(code, 0, "{doc:#}");
        assert_eq!(doc["kind"], "log_line", "{doc:#}");
    }
}

#[test]
#[ignore = "needs the private node of `bash .ci/faults-node`; .ci/run runs it"]
fn zz_the_nodes_are_back_as_they_were() {
    let _f = Faults::new();
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/faults-node"))
        .arg("status")
        .output()
        .expect("running .ci/faults-node status");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The shared broker never saw any of it.
    let shared = common::rabbitmqctl(&[
        "eval",
        "{vm_memory_monitor:get_vm_memory_high_watermark(), rabbit_alarm:get_alarms()}.",
    ]);
    assert_eq!(shared.trim(), "{0.4,[]}", "the shared node");
}
