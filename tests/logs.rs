//! `amqpdoctor logs` on the local broker's own log: the tests cause deaths
//! for real (a starving pika app, a probe through `proxy --on-idle reset`,
//! a refused login, `rabbitmqctl close_connection`), then read the log the
//! broker wrote (`/var/log/rabbitmq`, or `$AMQPDOCTOR_TEST_BROKER_LOG`) and
//! find each death with its cause and peer. Each test looks only at its own
//! connections (by name, port or user), so they run in parallel with
//! anything else on the broker.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::pika::PikaApp;
use common::run::json_of;
use serde_json::Value;

fn log_dir() -> String {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let dir =
        std::env::var("AMQPDOCTOR_TEST_BROKER_LOG").unwrap_or_else(|_| "/var/log/rabbitmq".into());
    common::fixture::require(&CHECK, "the broker's log", || {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{dir}: {e}"))?;
        let logs = entries
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".log"));
        logs.then_some(()).ok_or(format!("no *.log in {dir}"))
    });
    dir
}

/// Now minus a second, as `--since` takes it (UTC), so a test reads only
/// what the broker logged since it began.
fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 1;
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `logs --since SINCE --format json DIR ARGS`, parsed.
fn logs(since: &str, args: &[&str]) -> (i32, Value) {
    let out = common::amqpdoctor()
        .args(["logs", "--since", since, "--format", "json", &log_dir()])
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let v: Value = json_of(&out);
    (out.status.code().unwrap_or(-1), v)
}

/// The first death matching `pred`, asking the log again until it is
/// there (the broker writes it when it acts: at most `within`).
fn death(since: &str, within: Duration, pred: impl Fn(&Value) -> bool) -> (i32, Value) {
    let start = Instant::now();
    loop {
        let (code, v) = logs(since, &[]);
        if let Some(d) = v["deaths"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| pred(d))
        {
            return (code, d.clone());
        }
        assert!(
            start.elapsed() < within,
            "no such death in the log after {within:?}; deaths read: {}",
            serde_json::to_string_pretty(&v["deaths"]).unwrap()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn unique(what: &str) -> String {
    format!("amqpdoctor-logs-{what}-{}", std::process::id())
}

#[test]
fn a_starving_pika_app_dies_of_missed_heartbeats_with_its_t() {
    let since = now();
    let name = unique("starving");
    let app = PikaApp::start("starving", 1, &name);
    let port = format!(":{}", app.local_port);
    let (code, d) = death(&since, Duration::from_secs(20), |d| {
        d["name"] == name.as_str()
    });
    assert_eq!(d["cause"], "broker_heartbeat_timeout", "{d}");
    assert_eq!(d["heartbeat_s"], 1, "{d}");
    assert!(d["peer"].as_str().unwrap().ends_with(&port), "{d}");
    assert!(d["lifetime_s"].as_f64().unwrap() >= 1.0, "{d}");
    assert_eq!(code, 1, "a death other than a normal close is exit 1");
    let (_, v) = logs(&since, &[]);
    common::assert_documented(
        "## `amqpdoctor logs --format json`",
        &[
            &v,
            &v["deaths"][0],
            &v["peers"][0],
            &v["files"][0],
            &v["by_cause"][0],
            &v["names"][0],
        ],
    );
    // The peer's row and its pattern once the same peer starves twice are
    // the patterns' table tests; here: the per-peer filter finds it.
    let (_, v) = logs(&since, &["--peer", &name]);
    assert!(
        v["deaths"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["name"] == name.as_str()),
        "{v}"
    );
}

#[test]
fn an_operator_close_is_forced_with_its_text() {
    let since = now();
    let name = unique("operator");
    let _app = PikaApp::start("serviced", 10, &name);
    // close_connection takes the connection's Erlang pid as the plain
    // formatter prints it (`<rabbit@host.N.M.0>`; JSON's `#PID<…>` is refused).
    let rows = common::rabbitmqctl(&["list_connections", "-q", "pid", "client_properties"]);
    let pid = rows
        .lines()
        .find(|l| l.contains(&name))
        .and_then(|l| l.split('\t').next())
        .expect("the pika app's connection on the broker")
        .to_string();
    common::rabbitmqctl(&["close_connection", &pid, "amqpdoctor logs test: go away"]);
    let (_, d) = death(&since, Duration::from_secs(20), |d| {
        d["name"] == name.as_str()
    });
    assert_eq!(d["cause"], "forced_by_operator", "{d}");
    assert!(
        d["reason"].as_str().unwrap_or("").contains("go away"),
        "{d}"
    );
}

#[test]
fn a_refused_login_is_auth_failed_and_no_password_is_printed() {
    let since = now();
    let user = unique("nobody");
    let url = format!(
        "amqp://{user}:Pw-n0t-this-one@{}",
        common::broker_host_port()
    );
    let out = common::amqpdoctor()
        .args(["probe", &url, "--mode", "disabled", "--idle", "0s"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let (_, d) = death(&since, Duration::from_secs(20), |d| {
        d["reason"].as_str().unwrap_or("").contains(&user)
    });
    assert_eq!(d["cause"], "auth_failed", "{d}");
    let (_, v) = logs(&since, &[]);
    assert!(!v.to_string().contains("Pw-n0t-this-one"));
}

#[test]
fn an_amqp_0_10_client_is_refused_as_a_protocol_error() {
    use std::io::{Read, Write};
    common::require_broker();
    let since = now();
    let addr = common::broker_host_port();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = format!(":{}", s.local_addr().unwrap().port());
    s.write_all(b"AMQP\x01\x01\x00\x0a").unwrap();
    let mut answer = [0u8; 8];
    s.read_exact(&mut answer).unwrap();
    assert_eq!(
        &answer, b"AMQP\x00\x00\x09\x01",
        "the broker answers with 0-9-1's header"
    );
    drop(s);
    let (code, d) = death(&since, Duration::from_secs(20), |d| {
        d["peer"].as_str().is_some_and(|p| p.ends_with(&port))
    });
    assert_eq!(d["cause"], "protocol_error", "{d}");
    assert!(
        d["reason"]
            .as_str()
            .unwrap_or("")
            .contains("{bad_version,{1,1,0,10}}"),
        "{d}"
    );
    assert_eq!(code, 1, "{d}");
}

#[test]
fn a_resetting_middlebox_is_an_abrupt_close_with_its_lifetime() {
    let since = now();
    common::require_broker();
    let mut proxy = Command::new(env!("CARGO_BIN_EXE_amqpdoctor"))
        .args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &common::broker_host_port(),
        ])
        .args(["--idle-timeout", "2s", "--on-idle", "reset"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut head = String::new();
    BufReader::new(proxy.stdout.take().unwrap())
        .read_line(&mut head)
        .unwrap();
    let addr = head
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let url = format!("amqp://guest:guest@{addr}");
    let started = Instant::now();
    let out = common::amqpdoctor()
        .args([
            "probe", &url, "--mode", "disabled", "--idle", "4s", "--format", "json",
        ])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let _ = proxy.kill();
    let _ = proxy.wait();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let (_, d) = death(&since, Duration::from_secs(20), |d| {
        d["name"] == "amqpdoctor/disabled"
            && d["cause"] == "client_closed_abruptly"
            && d["lifetime_s"]
                .as_f64()
                .is_some_and(|l| (1.5..=started.elapsed().as_secs_f64() + 1.0).contains(&l))
    });
    assert!(d["peer"].as_str().unwrap().starts_with("127.0.0.1:"), "{d}");
}

#[test]
fn human_and_markdown_say_the_same() {
    let dir = log_dir();
    for format in ["human", "markdown"] {
        let out = common::amqpdoctor()
            .args(["logs", &dir, "--format", format])
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{text}");
        assert!(text.contains("amqpdoctor logs"), "{text}");
    }
}

#[test]
fn bad_paths_and_times_are_usage_errors() {
    for (args, want) in [
        (vec!["/nonexistent/rabbit.log"], "no such file"),
        (vec!["--since", "yesterday-ish", "/dev/null"], "not a time"),
        (
            vec!["--since", "1h", "--until", "2h", "/dev/null"],
            "after --until",
        ),
        (vec!["--follow", "-"], "stdin"),
    ] {
        let out = common::amqpdoctor()
            .arg("logs")
            .args(&args)
            .timeout(Duration::from_secs(10))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line: {err}");
    }
}

fn temp_dir(what: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("{}-{}", unique(what), std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Lines as RabbitMQ 3.10.8 writes them (copied from the local broker's log).
fn local_death(pid: u32, port: u16, at: &str) -> String {
    format!(
        "2026-12-04 {at}.100000+00:00 [info] <0.{pid}.0> accepting AMQP connection <0.{pid}.0> (127.0.0.1:{port} -> 127.0.0.1:5672)\n\
         2026-12-04 {at}.200000+00:00 [info] <0.{pid}.0> connection <0.{pid}.0> (127.0.0.1:{port} -> 127.0.0.1:5672): user 'guest' authenticated and granted access to vhost '/'\n\
         2026-12-04 {at}.900000+00:00 [error] <0.{pid}.0> closing AMQP connection <0.{pid}.0> (127.0.0.1:{port} -> 127.0.0.1:5672):\n\
         2026-12-04 {at}.900000+00:00 [error] <0.{pid}.0> missed heartbeats from client, timeout: 60s\n"
    )
}

#[test]
fn follow_prints_each_death_across_rotation_and_the_summary_on_sigint() {
    use std::io::Write;
    let d = temp_dir("follow");
    let live = d.join("rabbit@f.log");
    std::fs::write(&live, local_death(1, 1001, "10:00:00")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_amqpdoctor"))
        .args(["logs", "--follow", "--format", "json"])
        .arg(&live)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    std::thread::sleep(Duration::from_millis(500));
    let append = |text: String| {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&live)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    };
    append(local_death(2, 1002, "10:00:05"));
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let first: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        first["peer"], "127.0.0.1:1002",
        "the file's old content is not re-read: {line}"
    );
    assert_eq!(first["cause"], "broker_heartbeat_timeout");
    // logrotate without copytruncate: rename, then a new file at the path.
    std::fs::rename(&live, d.join("rabbit@f.log.1")).unwrap();
    std::fs::write(&live, local_death(3, 1003, "10:00:09")).unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    let second: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(second["peer"], "127.0.0.1:1003", "{line}");
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    line.clear();
    out.read_line(&mut line).unwrap();
    let summary: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(summary["command"], "logs");
    assert_eq!(summary["abnormal"], 2, "{line}");
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn hostile_files_are_read_in_bounded_memory_without_a_panic() {
    use std::io::Write;
    let d = temp_dir("hostile");
    // A 100 MB line, binary junk, then a real death.
    let path = d.join("rabbit@h.log");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..100 {
        f.write_all(&chunk).unwrap();
    }
    f.write_all(b"\n").unwrap();
    f.write_all(&(0..=255u8).cycle().take(1 << 20).collect::<Vec<u8>>())
        .unwrap();
    f.write_all(b"\n").unwrap();
    f.write_all(local_death(7, 1007, "11:00:00").as_bytes())
        .unwrap();
    drop(f);
    // A gzip cut in half.
    let gz = d.join("rabbit@h.log.1.gz");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf '%s' \"$(seq 1 20000)\" | gzip -c | head -c 20000 > {}",
            gz.display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
    let out = common::amqpdoctor()
        .args(["logs", "--format", "json"])
        .arg(&d)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let v: Value = json_of(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        v["deaths"][0]["peer"], "127.0.0.1:1007",
        "the death after the junk is found"
    );
    let files = v["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f["long_lines"] == 1), "{v}");
    assert!(
        files
            .iter()
            .any(|f| f["error"].as_str().is_some_and(|e| e.contains("truncated"))),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// An application's log: the lines users pasted from pika, kombu/Celery and
/// the Java client (tests/data/pasted/, each row with its thread), one per
/// line as a log holds them. `logs` recognises them through the knowledge
/// base's log patterns and names the explain topic.
#[test]
fn client_library_lines_are_recognised_through_the_knowledge_base() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut lines = Vec::new();
    for lib in ["pika", "kombu-celery", "java"] {
        let text = std::fs::read_to_string(format!("{root}/tests/data/pasted/{lib}.toml")).unwrap();
        let doc: toml::Value = toml::from_str(&text).unwrap();
        for row in doc["row"].as_array().unwrap() {
            let t = row["text"].as_str().unwrap();
            if !t.contains('\n') {
                lines.push(t.to_string());
            }
        }
    }
    let d = temp_dir("app");
    let app = d.join("app.log");
    std::fs::write(&app, lines.join("\n") + "\napp user amqp://svc:S3cr3tPw@mq:5672/ lost: IndexError('pop from an empty deque')\n").unwrap();
    let out = common::amqpdoctor()
        .args(["logs", "--format", "json"])
        .arg(&app)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let v: Value = json_of(&out);
    let found = v["app_lines"].as_array().unwrap();
    let total: u64 = found.iter().map(|f| f["count"].as_u64().unwrap()).sum();
    assert!(
        total * 2 >= lines.len() as u64,
        "{total} of {} lines recognised: {v}",
        lines.len()
    );
    let race = found
        .iter()
        .find(|f| f["pattern"] == "pika_tx_buffers_race")
        .expect("the thread-sharing race");
    assert_eq!(race["explain"], "shared_connection");
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("S3cr3tPw"));
    common::assert_documented("## `amqpdoctor logs --format json`", &[&found[0]]);
    let _ = std::fs::remove_dir_all(&d);
}
