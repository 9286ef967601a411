//! Nothing a user types or a server sends can hurt: one table of bad input
//! (URL shapes, durations, flags, hostile servers, signals, a closed
//! stdout). Every row asserts the exit code, one clear line on stderr, no
//! panic, no password anywhere, and a bounded wall time.
//!
//! Hostile servers are scripted peers on 127.0.0.1:0 (tests/common/fake.rs).
//! Only the signal rows that need a real connection use the test broker.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::fake::{self, send, serve, serve_many, skip};

/// Every hostile URL carries this password; no output may contain it.
const SECRET: &str = "S3cr3tPw";

#[derive(Clone)]
struct Row {
    name: String,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    exit: i32,
    /// Must appear in stderr (case-insensitive).
    stderr: &'static str,
    max: Duration,
    /// Send this signal (`INT`, `TERM`) after this long.
    signal: Option<(&'static str, Duration)>,
    /// Close our end of stdout before the tool writes.
    closed_stdout: bool,
}

fn row(name: &str, args: &[&str], exit: i32, stderr: &'static str) -> Row {
    Row {
        name: name.to_string(),
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        exit,
        stderr,
        max: Duration::from_secs(5),
        signal: None,
        closed_stdout: false,
    }
}

fn probe(name: &str, url: &str, extra: &[&str], exit: i32, stderr: &'static str) -> Row {
    let mut args = vec!["probe", url, "--connect-timeout", "1s", "--color", "never"];
    args.extend_from_slice(extra);
    row(name, &args, exit, stderr)
}

fn heartbeat(name: &str, url: &str, exit: i32, stderr: &'static str) -> Row {
    row(
        name,
        &[
            "heartbeat",
            url,
            "--connect-timeout",
            "1s",
            "--color",
            "never",
        ],
        exit,
        stderr,
    )
}

fn url_rows() -> Vec<Row> {
    let long_vhost = format!("amqp://u:{SECRET}@127.0.0.1/{}", "v".repeat(300));
    [
        (
            "slash in password",
            "amqp://user:S3cr3tPw/x@127.0.0.1:5672/%2f",
        ),
        (
            "hash in password",
            "amqp://user:S3cr3tPw#x@127.0.0.1:5672/%2f",
        ),
        (
            "question mark in password",
            "amqp://user:S3cr3tPw?x@127.0.0.1:5672/%2f",
        ),
        ("one slash", "amqp:/user:S3cr3tPw!@127.0.0.1:5672"),
        ("no slash", "amqp:user:S3cr3tPw!@127.0.0.1:5672"),
        ("bad port", "amqp://user:S3cr3tPw@127.0.0.1:notaport/"),
        ("port 0", "amqp://user:S3cr3tPw@127.0.0.1:0/"),
        ("port too big", "amqp://user:S3cr3tPw@127.0.0.1:99999/"),
        ("http scheme", "http://user:S3cr3tPw@127.0.0.1/"),
        ("two path segments", "amqp://user:S3cr3tPw@127.0.0.1/a/b"),
        ("broken IPv6", "amqp://user:S3cr3tPw@[::1/"),
        ("empty URL", ""),
        ("not a URL", "user:S3cr3tPw@127.0.0.1"),
        ("vhost over 255 bytes", long_vhost.as_str()),
    ]
    .into_iter()
    .flat_map(|(name, url)| {
        [
            row(
                &format!("probe: {name}"),
                &["probe", url],
                2,
                "amqpdoctor: error",
            ),
            row(
                &format!("heartbeat: {name}"),
                &["heartbeat", url],
                2,
                "amqpdoctor: error",
            ),
            row(
                &format!("check: {name}"),
                &["check", url],
                2,
                "amqpdoctor: error",
            ),
        ]
    })
    .collect()
}

fn flag_rows() -> Vec<Row> {
    let long = "x".repeat(300);
    let p = |name: &str, args: &[&str]| {
        let mut all = vec!["probe"];
        all.extend_from_slice(args);
        row(name, &all, 2, "error")
    };
    vec![
        p("idle not a duration", &["--idle", "soon"]),
        p("idle negative", &["--idle", "-1s"]),
        p("heartbeat in ms", &["--heartbeat", "1500ms"]),
        p("heartbeat over 65535 s", &["--heartbeat", "65536s"]),
        p("connect timeout zero", &["--connect-timeout", "0s"]),
        p("confirm timeout over 7 days", &["--confirm-timeout", "8d"]),
        p("publishes negative", &["--publishes", "-1"]),
        p("publishes over 1000", &["--publishes", "1001"]),
        p("unknown mode", &["--mode", "sideways"]),
        p(
            "exchange over 255 bytes",
            &["--exchange", &long, "--routing-key", "k"],
        ),
        p(
            "routing key over 255 bytes",
            &["--exchange", "e", "--routing-key", &long],
        ),
        p("exchange without routing key", &["--exchange", "e"]),
        p(
            "pump-every without starved",
            &["--pump-every", "1s", "--mode", "disabled"],
        ),
        p("unknown format", &["--format", "xml"]),
        p("unknown colour", &["--color", "sometimes"]),
        row("explain without a topic", &["explain"], 2, "error"),
        row(
            "explain --list and a topic",
            &["explain", "--list", "104"],
            2,
            "error",
        ),
        row(
            "explain nonsense",
            &["explain", "zzqqxx"],
            2,
            "unknown topic",
        ),
        row(
            "unknown client library",
            &["heartbeat", "--client", "nosuchlib"],
            2,
            "unknown client library",
        ),
        row("unknown shell", &["completions", "nosh"], 2, "error"),
        row(
            "proxy: listen address not an address",
            &["proxy", "--listen", "notanaddr"],
            2,
            "cannot listen on notanaddr",
        ),
        row(
            "proxy: listen port too big",
            &["proxy", "--listen", "127.0.0.1:99999"],
            2,
            "cannot listen",
        ),
        row(
            "proxy: on-idle without idle-timeout",
            &["proxy", "--on-idle", "drop"],
            2,
            "--idle-timeout",
        ),
        row(
            "proxy: idle timeout zero",
            &["proxy", "--idle-timeout", "0s"],
            2,
            "greater than zero",
        ),
        row(
            "proxy: unknown heartbeat direction",
            &["proxy", "--drop-heartbeats", "sideways"],
            2,
            "error",
        ),
        row(
            "idle-timeout: --min not below --max",
            &["idle-timeout", "--min", "10s", "--max", "10s"],
            2,
            "--min (10 s) must be shorter than --max (10 s)",
        ),
        row(
            "idle-timeout: one probe",
            &["idle-timeout", "--probes", "1"],
            2,
            "--probes",
        ),
        row(
            "idle-timeout: too many probes",
            &["idle-timeout", "--probes", "65"],
            2,
            "--probes",
        ),
        row(
            "idle-timeout: max zero",
            &["idle-timeout", "--max", "0s"],
            2,
            "greater than zero",
        ),
        row(
            "idle-timeout: max not a duration",
            &["idle-timeout", "--max", "forever"],
            2,
            "not a duration",
        ),
        row("scan: port 0", &["scan", "--port", "0"], 2, "--port"),
        row(
            "scan: port not a number",
            &["scan", "--port", "amqp"],
            2,
            "--port",
        ),
        row(
            "scan: watch zero",
            &["scan", "--watch", "0s"],
            2,
            "greater than zero",
        ),
        row(
            "scan: pid not a number",
            &["scan", "--pid", "me"],
            2,
            "--pid",
        ),
        row(
            "audit: join file missing",
            &["audit", "--join", "/nonexistent/amqpdoctor-scan.json"],
            2,
            "--join",
        ),
        row("unknown subcommand", &["frobnicate"], 2, "error"),
        {
            let mut r = row(
                "password file missing",
                &["probe", "--password-file", "/nonexistent/amqpdoctor-pw"],
                2,
                "--password-file",
            );
            r.max = Duration::from_secs(2);
            r
        },
    ]
}

fn hostile_rows() -> Vec<Row> {
    let silent = serve(|_c| thread::sleep(Duration::from_secs(10)));
    let http = serve(|mut c| {
        skip(&mut c, 8);
        let _ = std::io::Write::write_all(&mut c, b"HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    let amqp10 = serve(|mut c| {
        skip(&mut c, 8);
        let _ = std::io::Write::write_all(&mut c, b"AMQP\x00\x01\x00\x00");
    });
    let garbage = serve(|mut c| {
        skip(&mut c, 8);
        let _ = std::io::Write::write_all(&mut c, &[0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 0xff]);
        thread::sleep(Duration::from_secs(3));
    });
    // The reproduction: Tune says frame_max 4 GiB, then a frame
    // announcing 0xFFFFFFF0 bytes streams in.
    let oversized = serve_many(|mut c| {
        fake::handshake(&mut c, fake::rabbit_start(), u32::MAX);
        let _ = std::io::Write::write_all(&mut c, &[1, 0, 0, 0xff, 0xff, 0xff, 0xf0]);
        let chunk = vec![0u8; 1 << 16];
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if std::io::Write::write_all(&mut c, &chunk).is_err() {
                break;
            }
        }
    });
    let truncated = serve(|mut c| {
        skip(&mut c, 8);
        let bytes = amqpdoctor::wire::codec::encode(&fake::rabbit_start()).unwrap();
        let _ = std::io::Write::write_all(&mut c, &bytes[..bytes.len() / 2]);
    });
    let huge_tune = serve(|mut c| {
        skip(&mut c, 8);
        send(&mut c, fake::rabbit_start());
        fake::read_frame(&mut c);
        send(&mut c, fake::tune(u32::MAX, u16::MAX));
        fake::read_frame(&mut c);
        fake::read_frame(&mut c);
        send(&mut c, fake::open_ok());
        thread::sleep(Duration::from_secs(3));
    });
    let escapes = |c: std::net::TcpStream| {
        let mut c = c;
        skip(&mut c, 8);
        send(
            &mut c,
            fake::start(
                "\x1b[2J\x1b]0;pwned\x07RabbitMQ",
                "\0\x1b[31m",
                "\u{9b}31m\u{202e}",
                "PLAIN",
            ),
        );
        fake::read_frame(&mut c);
        send(
            &mut c,
            fake::close(403, "\x1b[2JACCESS_REFUSED\x07 - \x1b]0;x\x07"),
        );
        thread::sleep(Duration::from_millis(500));
    };
    let escapes_probe = serve(escapes);
    let escapes_heartbeat = serve(escapes);
    let external_only = serve(|mut c| {
        skip(&mut c, 8);
        send(
            &mut c,
            fake::start("RabbitMQ", "3.13", "Erlang", "EXTERNAL"),
        );
        thread::sleep(Duration::from_secs(2));
    });
    let no_mechanism = serve(|mut c| {
        skip(&mut c, 8);
        send(&mut c, fake::start("RabbitMQ", "3.13", "Erlang", ""));
        thread::sleep(Duration::from_secs(2));
    });
    let rst_mid_handshake = serve(|mut c| {
        skip(&mut c, 8);
        send(&mut c, fake::rabbit_start());
        fake::read_frame(&mut c);
        fake::reset(c);
    });
    let forced = serve(|mut c| {
        skip(&mut c, 8);
        send(&mut c, fake::rabbit_start());
        fake::read_frame(&mut c);
        send(
            &mut c,
            fake::close(320, "CONNECTION_FORCED - broker shutdown"),
        );
        thread::sleep(Duration::from_millis(500));
    });
    let eof_after_login = serve(|mut c| {
        skip(&mut c, 8);
        send(&mut c, fake::rabbit_start());
        fake::read_frame(&mut c);
    });
    let refused = {
        // Bind, learn the port, close: nothing listens there any more.
        common::run::refused_url(SECRET)
    };
    let idle = ["--idle", "1s", "--mode", "disabled"];
    vec![
        probe("silent server", &silent, &idle, 3, "timeout"),
        probe("HTTP server", &http, &idle, 3, "protocol_mismatch"),
        probe("AMQP 1.0 header", &amqp10, &idle, 3, "protocol_mismatch"),
        probe("garbage", &garbage, &idle, 3, "protocol_mismatch"),
        probe("oversized frame", &oversized, &idle, 3, "exceeds frame_max"),
        probe(
            "truncated frame",
            &truncated,
            &idle,
            3,
            "could not diagnose",
        ),
        heartbeat("huge Tune values", &huge_tune, 0, ""),
        probe("escape sequences", &escapes_probe, &idle, 3, "auth_failed"),
        heartbeat(
            "escape sequences (heartbeat)",
            &escapes_heartbeat,
            3,
            "auth_failed",
        ),
        probe("EXTERNAL only", &external_only, &idle, 3, "EXTERNAL"),
        probe(
            "no mechanism at all",
            &no_mechanism,
            &idle,
            3,
            "auth_failed",
        ),
        probe(
            "RST mid-handshake",
            &rst_mid_handshake,
            &idle,
            3,
            "peer_reset",
        ),
        probe(
            "320 during the handshake",
            &forced,
            &idle,
            3,
            "server_closed",
        ),
        probe(
            "EOF after the login",
            &eof_after_login,
            &idle,
            3,
            "auth_failed",
        ),
        probe("refused port", &refused, &idle, 3, "ECONNREFUSED"),
    ]
}

/// `check` against bad URLs, bad flags and hostile servers: a bad URL or
/// flag is a usage error (2); a hostile or broken target is a failed check
/// (1) naming its verdict code on stderr, never a hang or "no diagnosis".
fn check_rows() -> Vec<Row> {
    let long = "x".repeat(300);
    let c = |name: &str, args: &[&str], exit: i32, stderr: &'static str| {
        let mut all = vec!["check", "--connect-timeout", "1s", "--format", "json"];
        all.extend_from_slice(args);
        row(&format!("check: {name}"), &all, exit, stderr)
    };
    let silent = serve(|_c| thread::sleep(Duration::from_secs(10)));
    let http = serve(|mut c| {
        skip(&mut c, 8);
        let _ = std::io::Write::write_all(&mut c, b"HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    let oversized = serve_many(|mut c| {
        fake::handshake(&mut c, fake::rabbit_start(), u32::MAX);
        let _ = std::io::Write::write_all(&mut c, &[1, 0, 0, 0xff, 0xff, 0xff, 0xf0]);
        thread::sleep(Duration::from_secs(3));
    });
    let rst = serve(|mut c| {
        skip(&mut c, 8);
        send(&mut c, fake::rabbit_start());
        fake::read_frame(&mut c);
        fake::reset(c);
    });
    let never_confirms = serve_many(fake::broker_that_never_confirms);
    let nacks = serve_many(fake::broker_that_nacks);
    let spec_only = serve_many(fake::plain_spec_broker);
    let targets =
        std::env::temp_dir().join(format!("amqpdoctor-bad-targets-{}", std::process::id()));
    let many: String = (0..1001)
        .map(|i| format!("amqp://127.0.0.1:{}/\n", 1 + i % 60000))
        .collect();
    std::fs::write(&targets, many).unwrap();
    let targets = targets.to_str().unwrap().to_string();
    let empty =
        std::env::temp_dir().join(format!("amqpdoctor-empty-targets-{}", std::process::id()));
    std::fs::write(&empty, "# nothing here yet\n\n").unwrap();
    let empty = empty.to_str().unwrap().to_string();
    vec![
        c(
            "bad URL among good ones",
            &["amqp://127.0.0.1/", "amqp://u:S3cr3tPw@h:x/"],
            2,
            "invalid URL",
        ),
        c(
            "heartbeat range reversed",
            &["--expect-heartbeat", "60s..10s"],
            2,
            "empty",
        ),
        c(
            "heartbeat range open both ends",
            &["--expect-heartbeat", ".."],
            2,
            "error",
        ),
        c(
            "heartbeat range in ms",
            &["--expect-heartbeat", "1500ms.."],
            2,
            "whole seconds",
        ),
        c(
            "empty server expectation",
            &["--expect-server", " "],
            2,
            "error",
        ),
        c(
            "bad version requirement",
            &["--expect-server", "RabbitMQ >=x"],
            2,
            "version requirement",
        ),
        c(
            "max-connect zero",
            &["--max-connect", "0s"],
            2,
            "greater than zero",
        ),
        c(
            "routing key without exchange",
            &["--routing-key", "k"],
            2,
            "error",
        ),
        c(
            "default exchange",
            &["--exchange", ""],
            2,
            "default exchange",
        ),
        c("exchange over 255 bytes", &["--exchange", &long], 2, "255"),
        c("unknown format", &["--format", "xml"], 2, "error"),
        c(
            "targets file missing",
            &["--targets-file", "/nonexistent/amqpdoctor-targets"],
            2,
            "--targets-file",
        ),
        c(
            "too many targets",
            &["--targets-file", &targets],
            2,
            "at most 1000",
        ),
        c(
            "targets file without a URL",
            &["--targets-file", &empty],
            2,
            "no URL in it",
        ),
        c("silent server", &[&silent], 1, "timeout"),
        c("HTTP server", &[&http], 1, "protocol_mismatch"),
        c("oversized frame", &[&oversized], 1, "exceeds frame_max"),
        c("RST mid-handshake", &[&rst], 1, "peer_reset"),
        c("confirms never come", &[&never_confirms], 1, "publish"),
        c("nacked publish", &[&nacks], 1, "message_refused"),
        // No publisher_confirms announced: the publish is not confirmed,
        // and this broker never answers Basic.Get.
        c("no publisher_confirms", &[&spec_only], 1, "get: no answer"),
    ]
}

/// `idle-timeout` against hostile servers: no connection opens, so there is
/// no diagnosis (3); a server that closes every connection right after the
/// handshake is reported, not trusted; nothing prints the password.
fn idle_timeout_rows() -> Vec<Row> {
    let silent = serve_many(|_c| thread::sleep(Duration::from_secs(10)));
    let http = serve_many(|mut c| {
        skip(&mut c, 8);
        let _ = std::io::Write::write_all(&mut c, b"HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    let resets_after_open = serve_many(|mut c| {
        fake::handshake(&mut c, fake::rabbit_start(), 131_072);
        fake::reset(c);
    });
    let row = |name: &str, url: &str, exit: i32, stderr: &'static str| {
        let mut r = row(
            name,
            &[
                "idle-timeout",
                url,
                "--max",
                "2s",
                "--probes",
                "3",
                "--connect-timeout",
                "1s",
                "--color",
                "never",
            ],
            exit,
            stderr,
        );
        r.max = Duration::from_secs(8);
        r
    };
    vec![
        row(
            "idle-timeout: silent server",
            &silent,
            3,
            "could not diagnose",
        ),
        row("idle-timeout: HTTP server", &http, 3, "protocol_mismatch"),
        // Every connection dies at once: the path (or the server) kills
        // even the shortest idle, and the report says to look lower.
        row(
            "idle-timeout: RST right after the handshake",
            &resets_after_open,
            1,
            "",
        ),
    ]
}

fn signal_rows() -> Vec<Row> {
    let silent = serve_many(|_c| thread::sleep(Duration::from_secs(30)));
    let never_confirms = serve_many(fake::broker_that_never_confirms);
    let slow_preflight = |name: &str, sig: &'static str| {
        let mut r = row(
            name,
            &[
                "probe",
                &silent,
                "--connect-timeout",
                "15s",
                "--mode",
                "disabled",
            ],
            130,
            "interrupted",
        );
        r.signal = Some((sig, Duration::from_millis(800)));
        r.max = Duration::from_secs(4);
        r
    };
    // A broker that never confirms: publish at once, then wait for confirms.
    let confirms = |name: &str, timeout: &str, exit: i32, stderr: &'static str| {
        let mut r = probe(
            name,
            &never_confirms,
            &[
                "--mode",
                "disabled",
                "--idle",
                "0s",
                "--confirm-timeout",
                timeout,
            ],
            exit,
            stderr,
        );
        r.max = Duration::from_secs(6);
        r
    };
    let mut confirm_wait = confirms("SIGINT in the confirm wait", "30s", 130, "interrupted");
    confirm_wait.signal = Some(("INT", Duration::from_millis(1500)));
    let lost = confirms("confirms never come", "1s", 1, "");
    // check: Ctrl-C during a handshake that never ends prints the report
    // (the step interrupted, the rest skipped) and exits 130.
    let mut check_int = row(
        "SIGINT during a check",
        &[
            "check",
            &silent,
            "--connect-timeout",
            "15s",
            "--format",
            "json",
        ],
        130,
        "interrupted",
    );
    check_int.signal = Some(("INT", Duration::from_millis(800)));
    check_int.max = Duration::from_secs(4);
    // idle-timeout: Ctrl-C while every connection idles prints the report
    // of what finished and exits 130.
    let idler = serve_many(|mut c| {
        fake::handshake(&mut c, fake::rabbit_start(), 131_072);
        thread::sleep(Duration::from_secs(30));
    });
    let mut idle_int = row(
        "SIGINT during idle-timeout",
        &["idle-timeout", &idler, "--max", "60s", "--probes", "2"],
        130,
        "interrupted",
    );
    idle_int.signal = Some(("INT", Duration::from_millis(1500)));
    idle_int.max = Duration::from_secs(4);
    // scan: Ctrl-C during a watch prints what was seen and exits 130.
    let mut scan_int = row(
        "SIGINT during scan --watch",
        &["scan", "--watch", "60s", "--format", "json"],
        130,
        "interrupted",
    );
    scan_int.signal = Some(("INT", Duration::from_millis(800)));
    scan_int.max = Duration::from_secs(4);
    vec![
        check_int,
        idle_int,
        scan_int,
        slow_preflight("SIGINT in the preflight", "INT"),
        slow_preflight("SIGTERM in the preflight", "TERM"),
        confirm_wait,
        lost,
    ]
}

fn output_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for args in [
        &["explain", "104"][..],
        &["explain", "--list"],
        &["man"],
        &["completions", "bash"],
    ] {
        let mut r = row(&format!("closed stdout: {}", args.join(" ")), args, 0, "");
        r.closed_stdout = true;
        rows.push(r);
    }
    let mut env = row(
        "password from the environment, bad URL",
        &["probe", "amqp:/u@127.0.0.1"],
        2,
        "two slashes",
    );
    env.env.push(("AMQPDOCTOR_PASSWORD", SECRET.into()));
    rows.push(env);
    rows
}

/// Run one row and return what went wrong with it, if anything.
fn check(row: &Row) -> Option<String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_amqpdoctor"));
    cmd.args(&row.args)
        .env("NO_COLOR", "1")
        .env_remove("AMQP_URL")
        .env_remove("AMQPDOCTOR_PASSWORD")
        .env_remove("AMQPDOCTOR_PASSWORD_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in &row.env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawning amqpdoctor");
    let mut stdout_pipe = child.stdout.take();
    if row.closed_stdout {
        stdout_pipe = None; // dropped: the tool's first write gets EPIPE
    }
    let reader = stdout_pipe.map(|mut p| {
        thread::spawn(move || {
            let mut s = Vec::new();
            let _ = p.read_to_end(&mut s);
            s
        })
    });
    let mut stderr_pipe = child.stderr.take().unwrap();
    let err_reader = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut s);
        s
    });
    if let Some((sig, after)) = row.signal {
        thread::sleep(after);
        let _ = Command::new("kill")
            .args([&format!("-{sig}"), &child.id().to_string()])
            .status();
    }
    // Bounded: kill the tool if it outlives twice its budget.
    let deadline = started + row.max * 2;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let stdout = reader
        .map(|r| r.join().unwrap_or_default())
        .unwrap_or_default();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).to_string();
    let stdout_text = String::from_utf8_lossy(&stdout);
    let mut problems = Vec::new();
    match status.and_then(|s| s.code()) {
        Some(c) if c == row.exit => {}
        other => problems.push(format!("exit {other:?}, want {}", row.exit)),
    }
    if elapsed > row.max {
        problems.push(format!("took {elapsed:?}, budget {:?}", row.max));
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        problems.push("panicked".into());
    }
    if stderr.contains(SECRET) || stdout_text.contains(SECRET) {
        problems.push("printed the password".into());
    }
    if !stderr.to_lowercase().contains(&row.stderr.to_lowercase()) {
        problems.push(format!("stderr lacks {:?}", row.stderr));
    }
    if row.exit != 0
        && !stderr
            .lines()
            .any(|l| l.starts_with("amqpdoctor: ") || l.starts_with("error: "))
    {
        problems.push("no clear line on stderr".into());
    }
    if row.closed_stdout && stderr.to_lowercase().contains("broken pipe") {
        problems.push("complained about the closed pipe".into());
    }
    if stdout.iter().any(|&b| b == 0x1b || b == 0x07 || b == 0) {
        problems.push("raw control characters on stdout".into());
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{}: {}\n  args: {:?}\n  stderr: {}",
            row.name,
            problems.join("; "),
            row.args
                .iter()
                .map(|a| if a.len() > 60 {
                    format!("{}…", &a[..60])
                } else {
                    a.clone()
                })
                .collect::<Vec<_>>(),
            stderr.trim()
        )
    })
}

/// Run rows a few at a time (the machine has two cores, and the wall-time
/// budgets must hold).
fn run_table(rows: Vec<Row>) -> Vec<String> {
    let mut failures = Vec::new();
    for chunk in rows.chunks(6) {
        let handles: Vec<_> = chunk
            .iter()
            .cloned()
            .map(|r| thread::spawn(move || check(&r)))
            .collect();
        failures.extend(handles.into_iter().filter_map(|h| h.join().unwrap()));
    }
    failures
}

#[test]
fn bad_input_table() {
    let rows: Vec<Row> = url_rows()
        .into_iter()
        .chain(flag_rows())
        .chain(hostile_rows())
        .chain(check_rows())
        .chain(idle_timeout_rows())
        .chain(output_rows())
        .collect();
    assert!(rows.len() >= 40, "only {} rows", rows.len());
    let failures = run_table(rows);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn signals_table() {
    let failures = run_table(signal_rows());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Issue 24 item 18: help and version text that cannot be written fail like
/// every other output (clap's own exit dropped the error and exited 0).
#[test]
fn help_and_version_to_a_full_device_fail() {
    for args in [&["--help"][..], &["--version"], &["probe", "--help"]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_amqpdoctor"))
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: stderr: {stderr}");
        assert!(stderr.contains("writing the help"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Issue 24 item 16: `scan --pid` naming no process is bad input (exit 2),
/// not an empty scan that exits 0.
#[test]
fn scan_of_a_pid_with_no_process_says_so() {
    let out = Command::new(env!("CARGO_BIN_EXE_amqpdoctor"))
        .args(["scan", "--pid", "4000000"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("no such process"), "{stderr}");
}
