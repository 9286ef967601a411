//! `amqpdoctor audit` end to end: three real pika applications (starving at
//! T = 60 s, serviced at T = 2 s, heartbeats off) read back through the
//! real RabbitMQ management API, in every format and joined with a
//! hand-written scan; then wrong credentials, a closed port, bad input, and
//! hostile HTTP servers on 127.0.0.1:0 (an endless body, a gzip bomb, a
//! trickle, garbage, silence, and a fake API whose text holds terminal
//! escapes), none of which may hang it or make it panic.
//!
//! Parallel-safe: other tests use the same broker, so only connections
//! whose name carries this process's pid are looked at.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::fixture::{self, validate_junit};
use common::pika::PikaApp;
use common::{amqpdoctor, broker_host_port, require_broker};
use serde_json::Value;

fn management_port() -> u16 {
    common::management::port()
}

fn management_url() -> String {
    common::management::url()
}

fn require_management() {
    common::management::require();
}

/// `audit ARGS`: exit code, stdout, stderr.
fn audit(args: &[&str]) -> (i32, String, String) {
    let out = amqpdoctor().arg("audit").args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        stderr,
    )
}

fn audit_json(args: &[&str]) -> (i32, Value, String) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, stdout, stderr) = audit(&all);
    let doc = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("stdout is not one JSON document ({e}; exit {code})\nstdout:\n{stdout}\nstderr:\n{stderr}")
    });
    (code, doc, stderr)
}

/// Every field of an audit document is in docs/json.md's audit section.
fn documented(doc: &Value) {
    let mut objects = vec![doc, &doc["overview"]];
    for list in ["connections", "joined", "unmatched_broker"] {
        objects.extend(doc[list].as_array().into_iter().flatten());
    }
    for c in doc["connections"].as_array().into_iter().flatten() {
        objects.push(&c["silence"]);
    }
    for j in doc["joined"].as_array().into_iter().flatten() {
        objects.push(&j["scan"]);
    }
    common::assert_documented("## `amqpdoctor audit --format json`", &objects);
}

/// Our connections in an audit document, by connection name.
fn ours<'a>(doc: &'a Value, name: &str) -> Option<&'a Value> {
    doc["connections"]
        .as_array()?
        .iter()
        .find(|c| c["connection_name"] == name)
}

fn flags(c: &Value) -> Vec<&str> {
    c["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect()
}

#[test]
fn three_pika_apps_seen_from_the_broker() {
    require_broker();
    require_management();
    let started = [("starving", 60), ("serviced", 2), ("off", 0)].map(|(mode, t)| {
        std::thread::spawn(move || {
            PikaApp::start(
                mode,
                t,
                &format!("amqpdoctor-audit-{}-{mode}", std::process::id()),
            )
        })
    });
    let apps: Vec<PikaApp> = started.into_iter().map(|h| h.join().unwrap()).collect();
    let url = management_url();

    // The management plugin lists a connection once its stats arrive
    // (every 5 s): poll, bounded.
    let deadline = Instant::now() + Duration::from_secs(15);
    let (code, doc) = loop {
        let (code, doc, stderr) = audit_json(&["--management", &url]);
        let all_there = apps
            .iter()
            .all(|a| ours(&doc, &a.name).is_some_and(|c| c["client_version"].is_string()));
        if all_there {
            break (code, doc);
        }
        assert!(
            Instant::now() < deadline,
            "the management API did not list all of {:?} within 15 s:\n{doc:#}\n{stderr}",
            apps.iter().map(|a| &a.name).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    let timed = Instant::now();
    let (code2, doc2, _) = audit_json(&["--management", &url]);
    let audit_wall = timed.elapsed();
    eprintln!("audit wall time against the local broker: {audit_wall:?}");

    assert_eq!(code, 1, "heartbeat 0 is flagged: {doc:#}");
    assert_eq!((code2, doc2["exit_code"].as_u64()), (1, Some(1)));
    assert_eq!(doc["command"], "audit");
    assert_eq!(
        doc["management"],
        format!("http://guest:***@127.0.0.1:{}", management_port())
    );
    assert_eq!(doc["overview"]["product"], "RabbitMQ");
    assert!(doc.get("joined").is_none(), "joined only with --join");
    for (app, t) in apps.iter().zip([60, 2, 0]) {
        let c = ours(&doc, &app.name).unwrap();
        assert!(
            c["client_product"].as_str().unwrap().contains("Pika"),
            "{c:#}"
        );
        assert_eq!(c["client_version"], "1.3.2", "{c:#}");
        assert_eq!(c["client"], "pika 1.3.2");
        assert_eq!(c["library"], "pika-blocking");
        assert_eq!(c["heartbeat_s"], t, "{c:#}");
        assert_eq!(c["peer"], format!("127.0.0.1:{}", app.local_port));
        assert_eq!(c["broker_address"], broker_host_port());
        assert_eq!(c["state"], "running");
        assert_eq!(flags(c).contains(&"heartbeat_off"), t == 0, "{c:#}");
        assert!(!flags(c).contains(&"silent_longer_than_t"), "{c:#}");
    }
    let starving = ours(&doc, &apps[0].name).unwrap();
    let advice = starving["advice"][0].as_str().unwrap();
    assert!(
        advice.starts_with(&format!(
            "pika 1.3.2 with heartbeat 60 from 127.0.0.1:{}: a BlockingConnection in a \
             publish-only app starves",
            apps[0].local_port
        )) && advice.ends_with("see `amqpdoctor explain pika-blocking`"),
        "{advice}"
    );
    let off = ours(&doc, &apps[2].name).unwrap();
    assert!(
        off["advice"][0]
            .as_str()
            .unwrap()
            .contains("heartbeat 0 from 127.0.0.1"),
        "{off:#}"
    );

    // Human output: the password file beats the URL's (wrong) password,
    // and neither password is printed.
    let pw = std::env::temp_dir().join(format!("amqpdoctor-audit-{}.pw", std::process::id()));
    std::fs::write(&pw, "guest\n").unwrap();
    let wrong = format!("http://guest:S3cr3tPw@127.0.0.1:{}", management_port());
    let (code, human, stderr) = audit(&[
        "--management",
        &wrong,
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    std::fs::remove_file(&pw).ok();
    assert_eq!(code, 1, "{human}\n{stderr}");
    for app in &apps {
        assert!(human.contains(&app.name), "{human}");
    }
    assert!(human.contains("pika 1.3.2"), "{human}");
    assert!(human.contains("heartbeat_off"), "{human}");
    assert!(human.contains("guest:***@"), "{human}");
    assert!(!human.contains("S3cr3tPw") && !stderr.contains("S3cr3tPw"));

    // Markdown and JUnit from the same data.
    let (_, md, _) = audit(&["--management", &url, "--format", "markdown"]);
    assert!(md.starts_with("### amqpdoctor audit:"), "{md}");
    assert!(md.contains("❌ heartbeat_off"), "{md}");
    let (_, xml, _) = audit(&["--management", &url, "--format", "junit"]);
    assert!(xml.contains("<failure type=\"heartbeat_off\""), "{xml}");
    assert!(xml.contains(&apps[2].name), "{xml}");
    validate_junit(&xml);

    // --join with a scan written by hand from the ports the apps printed:
    // IPv4-mapped and `localhost` spellings must still match.
    let broker = broker_host_port();
    let broker_v6 = broker.replace("127.0.0.1:", "localhost:");
    let scan = serde_json::json!({
        "tool": "amqpdoctor",
        "command": "scan",
        "connections": [
            { "pid": 1, "command": "python", "local": format!("127.0.0.1:{}", apps[0].local_port),
              "remote": broker, "state": "ESTABLISHED", "last_sent_ms": 50_000,
              "last_received_ms": 3_000, "inferred_heartbeat_s": 60,
              "classification": "starving", "drop_window_s": [120, 180] },
            { "pid": 2, "command": "python", "local": format!("[::ffff:127.0.0.1]:{}", apps[1].local_port),
              "remote": broker_v6, "state": "ESTABLISHED", "last_sent_ms": 300,
              "last_received_ms": 500, "inferred_heartbeat_s": 2,
              "classification": "healthy", "drop_window_s": null, "extra": [1, 2] },
            { "pid": 3, "command": "python", "local": format!("127.0.0.1:{}", apps[2].local_port),
              "remote": broker, "state": "ESTABLISHED", "last_sent_ms": 2_000,
              "last_received_ms": 9_000, "inferred_heartbeat_s": null,
              "classification": "heartbeats_off", "drop_window_s": null },
            { "pid": 4, "command": "python", "local": "127.0.0.1:1", "remote": broker,
              "state": "ESTABLISHED", "last_sent_ms": 1, "last_received_ms": 1,
              "inferred_heartbeat_s": null, "classification": "unknown", "drop_window_s": null }
        ],
        "interrupted": false
    });
    let scan_path =
        std::env::temp_dir().join(format!("amqpdoctor-audit-{}.scan.json", std::process::id()));
    std::fs::write(&scan_path, scan.to_string()).unwrap();
    let (code, doc, stderr) =
        audit_json(&["--management", &url, "--join", scan_path.to_str().unwrap()]);
    let (_, human, _) = audit(&["--management", &url, "--join", scan_path.to_str().unwrap()]);
    // Sentences are wrapped: compare with single spaces.
    let human = human.split_whitespace().collect::<Vec<_>>().join(" ");
    std::fs::remove_file(&scan_path).ok();
    assert_eq!(code, 1, "{stderr}");
    let joined = doc["joined"].as_array().expect("joined with --join");
    let side = |app: &PikaApp| {
        let j = joined
            .iter()
            .find(|j| j["connection_name"] == app.name.as_str())
            .unwrap_or_else(|| panic!("{} not joined: {doc:#}", app.name));
        (
            j["quiet_first"].as_str().unwrap().to_string(),
            j["scan"]["classification"].as_str().unwrap().to_string(),
            j["summary"].as_str().unwrap().to_string(),
        )
    };
    let (q, class, summary) = side(&apps[0]);
    assert_eq!((q.as_str(), class.as_str()), ("application", "starving"));
    assert!(
        summary.starts_with("the application went quiet first"),
        "{summary}"
    );
    assert_eq!(side(&apps[1]).0, "neither");
    assert_eq!(side(&apps[2]).0, "broker");
    documented(&doc);
    let scan_only = doc["unmatched_scan"].as_array().unwrap();
    assert_eq!(scan_only.len(), 1, "{doc:#}");
    assert_eq!(scan_only[0]["local"], "127.0.0.1:1");
    assert!(doc["unmatched_broker"].is_array());
    assert!(
        human.contains("the application went quiet first"),
        "{human}"
    );
    assert!(human.contains("only in the scan: 127.0.0.1:1"), "{human}");
    assert!(audit_wall < Duration::from_secs(2), "{audit_wall:?}");
}

#[test]
fn wrong_credentials_exit_3_with_one_clear_line() {
    require_management();
    let url = format!("http://guest:Wr0ngPw123@127.0.0.1:{}", management_port());
    for format in ["human", "json", "markdown", "junit"] {
        let (code, stdout, stderr) = audit(&["--management", &url, "--format", format]);
        assert_eq!(code, 3, "{format}: {stdout}\n{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("HTTP 401"), "{stderr}");
        assert!(stderr.contains("refused user `guest`"), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "guest:***@127.0.0.1:{}/api/overview",
                management_port()
            )),
            "{stderr}"
        );
        assert!(!stderr.contains("Wr0ngPw123"), "{stderr}");
    }
}

#[test]
fn a_closed_port_exits_3_at_once_and_says_how_to_enable_the_api() {
    let port = common::run::refused_port();
    let started = Instant::now();
    let (code, stdout, stderr) = audit(&[
        "--management",
        &format!("http://mon:S3cr3tPw@127.0.0.1:{port}"),
    ]);
    let took = started.elapsed();
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(stderr.contains("ECONNREFUSED"), "{stderr}");
    assert!(
        stderr.contains("rabbitmq-plugins enable rabbitmq_management"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("mon:***@127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(!stderr.contains("S3cr3tPw"), "{stderr}");
}

#[test]
fn bad_urls_and_scan_files_are_usage_errors() {
    for url in [
        "ftp://u:S3cr3tPw@h:15672",
        "amqp://u:S3cr3tPw@h:5672/",
        "http://u:S3cr3tPw@h:notaport",
        "http://u:S3cr3tPw/x@h:15672",
        "localhost:15672",
    ] {
        let (code, stdout, stderr) = audit(&["--management", url]);
        assert_eq!(code, 2, "{url}: {stdout}{stderr}");
        assert!(stderr.contains("--management"), "{stderr}");
        assert!(!stderr.contains("S3cr3tPw"), "{stderr}");
    }
    // The scan file is read before any request: a closed port never gets
    // asked, the file is named.
    let dir = std::env::temp_dir();
    let garbage = dir.join(format!("amqpdoctor-audit-{}.garbage", std::process::id()));
    std::fs::write(&garbage, "{\"connections\": 7}").unwrap();
    let missing = dir.join("amqpdoctor-audit-no-such-file.json");
    for file in [&garbage, &missing] {
        let (code, _, stderr) = audit(&[
            "--management",
            "http://127.0.0.1:1",
            "--join",
            file.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains(&format!("--join {}", file.display())),
            "{stderr}"
        );
    }
    std::fs::remove_file(&garbage).ok();
}

// ---------------------------------------------------------------------------
// Hostile servers

/// Serve every connection with `answer` (given the request head) on
/// 127.0.0.1:0; the requests seen, and the base URL.
fn serve(answer: fn(&str, TcpStream)) -> (Arc<Mutex<Vec<String>>>, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut head = String::new();
                while reader.read_line(&mut head).is_ok_and(|n| n > 2) {}
                log.lock().unwrap().push(head.clone());
                answer(&head, conn);
            });
        }
    });
    (seen, format!("http://mon:S3cr3tPw@127.0.0.1:{port}"))
}

/// Run audit against a hostile server: it must end within `bound`, exit
/// 3, print one line and never the password.
fn survives(answer: fn(&str, TcpStream), timeout: &str, bound: Duration, says: &str) {
    let (_, url) = serve(answer);
    let started = Instant::now();
    let (code, stdout, stderr) = audit(&["--management", &url, "--timeout", timeout]);
    let took = started.elapsed();
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(took < bound, "took {took:?}: {stderr}");
    assert!(stderr.contains(says), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("S3cr3tPw"), "{stderr}");
}

#[test]
fn an_endless_body_is_cut_at_the_cap() {
    survives(
        |_, mut c| {
            let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[");
            let chunk = vec![b' '; 64 * 1024];
            while c.write_all(&chunk).is_ok() {}
        },
        "10s",
        Duration::from_secs(8),
        "larger than 16 MiB",
    );
}

/// 40 MiB of spaces, gzip-compressed to about 40 KiB by Python's gzip.
/// Made once, before the server accepts: compressing takes seconds on a
/// loaded machine, which must not count against audit's timeout.
fn gzip_bomb() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        Command::new(fixture::python())
            .args([
                "-c",
                "import gzip,sys; sys.stdout.buffer.write(gzip.compress(b' ' * (40 << 20)))",
            ])
            .output()
            .expect("python makes the gzip bomb")
            .stdout
    })
}

#[test]
fn a_gzip_bomb_is_cut_at_the_cap() {
    gzip_bomb();
    survives(
        |_, mut c| {
            let bomb = gzip_bomb();
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: \
                 gzip\r\nContent-Length: {}\r\n\r\n",
                bomb.len()
            );
            let _ = c.write_all(bomb);
        },
        "10s",
        Duration::from_secs(8),
        "larger than 16 MiB",
    );
}

#[test]
fn a_trickle_is_cut_by_the_timeout() {
    survives(
        |_, mut c| {
            let _ = c.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \
                  99999999\r\n\r\n[",
            );
            for _ in 0..200 {
                std::thread::sleep(Duration::from_millis(50));
                if c.write_all(b" ").is_err() {
                    return;
                }
            }
        },
        "1s",
        Duration::from_secs(4),
        "within 1 s (--timeout)",
    );
}

#[test]
fn silence_is_cut_by_the_timeout() {
    survives(
        |_, c| {
            std::thread::sleep(Duration::from_secs(5));
            drop(c);
        },
        "500ms",
        Duration::from_secs(3),
        "(--timeout)",
    );
}

#[test]
fn garbage_is_not_http() {
    survives(
        |_, mut c| {
            let _ = c.write_all(b"\x01\x00\x00\x00\x00\x01\x2aAMQP garbage\x1b[2J\r\n\r\n");
        },
        "2s",
        Duration::from_secs(4),
        "not an HTTP answer",
    );
}

#[test]
fn html_instead_of_json_is_named() {
    survives(
        |_, mut c| {
            let body = "<html>\x1b]0;pwned\x07 login</html>";
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        },
        "2s",
        Duration::from_secs(4),
        "not the management API's JSON",
    );
}

/// A management API that answers with data meant to trip a reader: escape
/// sequences in every string, wrong types, a blocked connection and one
/// silent for 70 s at T = 10 s.
fn fake_api(head: &str, mut c: TcpStream) {
    let path = head.split_whitespace().nth(1).unwrap_or("");
    let body = if path == "/api/overview" {
        serde_json::json!({
            "product_name": "RabbitMQ\u{1b}[2J", "product_version": "3.13.0",
            "management_version": 313, "cluster_name": "evil\u{1b}]0;pwned\u{7}",
            "rates_mode": "basic", "disable_stats": "no"
        })
    } else if path.contains("columns=timeout") {
        serde_json::json!([{ "timeout": 10 }, { "timeout": "sixty" }, {}])
    } else {
        let quiet: Vec<Value> = (0..15)
            .map(|i| serde_json::json!({ "sample": 466, "timestamp": 1_000_100_000u64 - i * 5000 }))
            .collect();
        serde_json::json!([
            {
                "name": "10.0.0.9:41000 -> 10.0.0.1:5672", "type": "network",
                "peer_host": "10.0.0.9", "peer_port": 41000, "host": "10.0.0.1", "port": 5672,
                "user": "app", "vhost": "prod", "protocol": "AMQP 0-9-1", "ssl": false,
                "state": "blocked", "channels": 3, "connected_at": 1_000_000_000u64,
                "timeout": 10,
                "client_properties": { "product": "Pika Python Client Library",
                    "version": "1.3.2", "platform": "Python 3.12",
                    "connection_name": "billing\u{1b}[31m\u{202e}" },
                "recv_oct": 466, "send_oct": 9000,
                "recv_oct_details": { "rate": 0.0, "samples": quiet },
                "send_oct_details": { "rate": "fast" }
            },
            { "name": ["not", "a", "string"], "peer_port": -4, "timeout": 1e9,
              "client_properties": "none", "recv_oct_details": { "samples": [{ "sample": "x" }] } },
            "not an object"
        ])
    };
    let body = body.to_string();
    let _ = write!(
        c,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
}

#[test]
fn a_fake_api_with_hostile_text_is_judged_and_escaped() {
    let (seen, url) = serve(fake_api);
    let pw = std::env::temp_dir().join(format!("amqpdoctor-audit-{}.fake.pw", std::process::id()));
    std::fs::write(&pw, "FilePw\n").unwrap();
    let (code, human, stderr) = audit(&[
        "--management",
        &url,
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{human}\n{stderr}");
    for bad in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(
            !human.contains(bad),
            "{bad:?} reached the terminal:\n{human}"
        );
    }
    assert!(human.contains("billing\\x1b[31m"), "{human}");
    assert!(human.contains("silent_longer_than_t"), "{human}");
    assert!(human.contains("blocked"), "{human}");
    assert!(
        !human.contains("S3cr3tPw") && !human.contains("FilePw"),
        "{human}"
    );
    // The file's password, not the URL's, went out (Basic mon:FilePw); the
    // samples were asked for over T + two samples.
    let requests = seen.lock().unwrap().clone();
    assert!(
        requests.iter().all(|r| r
            .to_lowercase()
            .contains("authorization: basic bw9uokzpbgvqdw==")),
        "{requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.contains("data_rates_age=30&data_rates_incr=5")),
        "{requests:?}"
    );

    let (code, doc, _) = audit_json(&[
        "--management",
        &url,
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    std::fs::remove_file(&pw).ok();
    assert_eq!(code, 1);
    let conns = doc["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 2, "{doc:#}");
    let c = conns
        .iter()
        .find(|c| c["peer"] == "10.0.0.9:41000")
        .unwrap();
    assert_eq!(flags(c), ["silent_longer_than_t", "blocked"], "{c:#}");
    assert_eq!(c["silence"]["silent_ms"], 70_000);
    assert_eq!(c["silence"]["whole_window"], true);
    assert_eq!(doc["overview"]["management_version"], Value::Null);
    for format in ["markdown", "junit"] {
        let (code, out, _) = audit(&["--management", &url, "--format", format]);
        assert_eq!(code, 1, "{out}");
        assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out}");
        assert!(out.contains("silent_longer_than_t"), "{out}");
    }
}
