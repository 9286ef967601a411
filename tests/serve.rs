//! `amqpdoctor serve` as Prometheus sees it: started on 127.0.0.1:0 with
//! the scan collector and a check of the real broker, scraped over a plain
//! TcpStream (and the management API read as `audit` reads it). A starving pika app shows up, then its death inside the
//! broker's window; no credential is in any scrape; bad requests get
//! bounded answers while a slow client holds a connection; SIGTERM exits
//! 0. The scrape passes `promtool check metrics` and Python's OpenMetrics
//! parser; deploy/'s alerting rules pass `promtool check rules` and their
//! unit tests (`promtool test rules deploy/alerts.test.yml`).

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};

use common::pika::PikaApp;
use common::serve::{promtool, series, Serve};

/// Run promtool with `args` (and `input` on stdin); its output, or the
/// test fails showing it.
fn promtool_ok(args: &[&str], input: &str) -> String {
    let mut child = Command::new(promtool())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{said}");
    said
}

#[test]
fn a_starving_app_its_death_and_the_check_are_scraped_without_credentials() {
    common::require_broker();
    let app = PikaApp::start(
        "starving",
        2,
        &format!("serve-starving-{}", std::process::id()),
    );
    let serve = Serve::scan_and_check(&[
        "--audit",
        "http://guest:guest@127.0.0.1:15672",
        "--audit-every",
        "1s",
    ]);
    let local = format!("local=\"127.0.0.1:{}\"", app.local_port);
    let starving = serve.scrape_until(40, |b| {
        series(
            b,
            "amqpdoctor_scan_connection_classification",
            &[&local, "starving"],
        )
        .is_some()
            && series(b, "amqpdoctor_check_up", &[]).is_some()
            && series(b, "amqpdoctor_audit_runs_total", &["passed"])
                .is_some_and(|l| !l.ends_with(" 0"))
    });
    assert!(
        series(
            &starving,
            "amqpdoctor_audit_up",
            &["broker=\"http://127.0.0.1:15672\""]
        )
        .is_some_and(|l| l.ends_with(" 1")),
        "{starving}"
    );
    let hb = series(
        &starving,
        "amqpdoctor_scan_connection_heartbeat_seconds",
        &[&local],
    );
    assert!(hb.is_some_and(|l| l.ends_with(" 2")), "{starving}");
    assert!(
        series(&starving, "amqpdoctor_check_up", &["target=\"amqp://"])
            .is_some_and(|l| l.ends_with(" 1")),
        "{starving}"
    );
    assert!(
        starving.contains("process=\"python pika_app.py\""),
        "{starving}"
    );
    // RabbitMQ drops it 2T–3T after its last byte: counted as a death in the window.
    let dead = serve.scrape_until(40, |b| {
        series(
            b,
            "amqpdoctor_scan_deaths_total",
            &["pika_app.py", "in_window=\"true\""],
        )
        .is_some()
    });
    let url = common::broker_url();
    let password = url.split('@').next().unwrap().rsplit(':').next().unwrap();
    for body in [&starving, &dead] {
        assert!(
            !body.contains("guest:guest") && !body.contains("guest@"),
            "{body}"
        );
        assert!(!body.contains(&format!(":{password}@")), "{body}");
    }
    promtool_ok(&["check", "metrics"], &dead);
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/serve.md")).unwrap();
    for name in dead.lines().filter_map(|l| l.strip_prefix("# TYPE ")) {
        let name = name.split(' ').next().unwrap();
        assert!(
            docs.contains(&format!("`{name}`")),
            "{name} is not in docs/serve.md"
        );
    }
    let (_, head, om) = serve.get(
        "/metrics",
        "Accept: application/openmetrics-text; version=1.0.0\r\n",
    );
    assert!(head.contains("application/openmetrics-text"), "{head}");
    assert!(om.ends_with("# EOF\n"), "{om}");
    let parsed = common::fixture::run_python(
        "import sys\nfrom prometheus_client.openmetrics.parser import text_string_to_metric_families as p\n\
         print(len(list(p(sys.stdin.read()))))",
        &om,
    );
    assert!(parsed.trim().parse::<u32>().unwrap() > 10, "{parsed}");
    let (code, said) = serve.terminate();
    assert_eq!(code, Some(0), "{said}");
}

#[test]
fn bad_requests_get_bounded_answers_and_a_slow_client_blocks_nothing() {
    let dir = std::env::temp_dir().join(format!("amqpdoctor-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    let basic = dir.join("basic");
    std::fs::write(&basic, "prometheus:pw-secret\n").unwrap();
    let serve = Serve::start(&[
        "--scan",
        "--bearer-token-file",
        token.to_str().unwrap(),
        "--basic-auth-file",
        basic.to_str().unwrap(),
    ]);
    let auth = "Authorization: Bearer s3cret-token\r\n";
    // 100 slowloris clients: half a request head each, then nothing. They
    // hold no worker (there are fewer), so every request below is answered.
    let slow: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = TcpStream::connect(&serve.addr).unwrap();
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            s
        })
        .collect();
    // (path, headers, status)
    let rows = [
        ("/metrics", auth, 200),
        ("/metrics", "", 401),
        ("/metrics", "Authorization: Bearer wrong\r\n", 401),
        (
            "/metrics",
            "Authorization: Basic cHJvbWV0aGV1czpwdy1zZWNyZXQ=\r\n",
            200,
        ),
        (
            "/metrics",
            "Authorization: Basic cHJvbWV0aGV1czp3cm9uZw==\r\n",
            401,
        ),
        ("/healthz", "", 200),
        ("/", auth, 200),
        ("/nope", auth, 404),
    ];
    for (path, headers, want) in rows {
        let (status, head, body) = serve.get(path, headers);
        assert_eq!(status, want, "{path} {headers:?}: {head}\n{body}");
        assert!(
            !body.contains("s3cret") && !body.contains("pw-secret"),
            "{body}"
        );
    }
    let (status, head, _) = serve.raw(b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(status, 405, "{head}");
    assert!(head.contains("Allow: GET, HEAD"), "{head}");
    let huge = format!(
        "GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n",
        "a".repeat(16 * 1024)
    );
    assert_eq!(serve.raw(huge.as_bytes()).0, 431);
    assert_eq!(serve.raw(b"BREW /pot HTCPCP/1.0\r\n\r\n").0, 400);
    // A burst of 200 requests at once: each is answered (200, or 503
    // beyond the queue) or closed; none hangs.
    let burst: Vec<_> = (0..200)
        .map(|_| {
            let addr = serve.addr.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(&addr).unwrap();
                s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                    .unwrap();
                let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
                let mut head = [0u8; 12];
                match std::io::Read::read_exact(&mut s, &mut head) {
                    Ok(()) => String::from_utf8_lossy(&head[9..12]).to_string(),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => "timeout".into(),
                    Err(e) if e.kind() == std::io::ErrorKind::TimedOut => "timeout".into(),
                    // Refused beyond the queue, closed before the 503 was read.
                    Err(_) => "closed".into(),
                }
            })
        })
        .collect();
    let statuses: Vec<String> = burst.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(
        statuses.iter().all(|s| s == "200" || s == "503"),
        "{statuses:?}"
    );
    // The slow clients are still connected; the scrapes above did not wait for them.
    let (status, _, body) = serve.get("/metrics", auth);
    assert_eq!(status, 200);
    assert!(body.contains("amqpdoctor_scan_up 1"), "{body}");
    drop(slow);
    let (code, said) = serve.terminate();
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("serve: stopped"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_refuses_to_run_without_a_collector() {
    let out = common::amqpdoctor().arg("serve").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--scan"), "{err}");
}

#[test]
fn the_alerting_rules_pass_promtool_and_their_runbooks_name_known_topics() {
    let checked = promtool_ok(&["check", "rules", "deploy/alerts.yml"], "");
    assert!(checked.contains("SUCCESS"), "{checked}");
    let tested = promtool_ok(&["test", "rules", "deploy/alerts.test.yml"], "");
    assert!(tested.contains("SUCCESS"), "{tested}");
    let rules =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/alerts.yml")).unwrap();
    let topics: std::collections::BTreeSet<&str> = rules
        .split("amqpdoctor explain ")
        .skip(1)
        .filter_map(|rest| rest.split([';', '"', ' ']).next())
        .filter(|t| !t.starts_with('{'))
        .collect();
    assert!(topics.contains("broker_heartbeat_timeout"), "{topics:?}");
    for topic in topics {
        let out = common::amqpdoctor()
            .args(["explain", topic])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the runbook's `amqpdoctor explain {topic}` fails"
        );
    }
}

/// Validates every manifest of deploy/kubernetes/ against Kubernetes'
/// schemas (kubernetes-validate ships them), strictly: an unknown field
/// fails. The PodMonitor, a CRD of the Prometheus operator that no
/// schema here covers, gets its fields checked by name; the
/// PrometheusRule must hold deploy/alerts.yml's groups exactly.
const VALIDATE_MANIFESTS: &str = r#"
import glob, sys, yaml, kubernetes_validate as kv
root = sys.argv[1]
seen = []
for path in sorted(glob.glob(root + "/deploy/kubernetes/*.yaml")):
    for doc in yaml.safe_load_all(open(path)):
        if doc is None:
            continue
        if doc["kind"] == "PrometheusRule":
            rules = yaml.safe_load(open(root + "/deploy/alerts.yml"))
            assert doc["spec"]["groups"] == rules["groups"], "prometheusrule.yaml differs from alerts.yml"
        elif doc["kind"] == "PodMonitor":
            assert doc["apiVersion"] == "monitoring.coreos.com/v1", doc
            spec = doc["spec"]
            assert set(spec) <= {"selector", "podMetricsEndpoints", "namespaceSelector", "jobLabel"}, spec
            for e in spec["podMetricsEndpoints"]:
                assert set(e) <= {"port", "path", "interval", "scrapeTimeout", "authorization", "relabelings", "scheme"}, e
        else:
            kv.validate(doc, "1.37.0", strict=True)
        seen.append(doc["kind"])
print(" ".join(sorted(seen)))
"#;

#[test]
fn the_kubernetes_manifests_pass_kubernetes_schemas() {
    let python = common::fixture::python();
    let out = Command::new(&python)
        .args(["-c", VALIDATE_MANIFESTS, env!("CARGO_MANIFEST_DIR")])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "a manifest does not validate:\n{said}"
    );
    let kinds = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        kinds.trim(),
        "DaemonSet Deployment Namespace PodMonitor PrometheusRule Secret Secret Service Service"
    );
}

/// `serve --logs`: the broker's own log followed; a starving pika app's
/// death by missed heartbeats is counted by cause and peer host.
#[test]
fn the_brokers_log_is_followed_and_its_deaths_counted() {
    common::require_broker();
    let dir =
        std::env::var("AMQPDOCTOR_TEST_BROKER_LOG").unwrap_or_else(|_| "/var/log/rabbitmq".into());
    assert!(
        std::path::Path::new(&dir).is_dir(),
        "the broker's log directory {dir} (bash .ci/broker sets the broker up)"
    );
    let serve = Serve::start(&["--logs", &dir]);
    // Followed from its end: start the app once serve reads.
    serve.scrape_until(40, |b| {
        b.contains("amqpdoctor_log_last_abnormal_end_timestamp_seconds ")
    });
    let _app = PikaApp::start("starving", 1, &format!("serve-logs-{}", std::process::id()));
    let body = serve.scrape_until(80, |b| {
        series(
            b,
            "amqpdoctor_log_connection_ends_total",
            &[
                "cause=\"broker_heartbeat_timeout\"",
                "peer_host=\"127.0.0.1\"",
            ],
        )
        .is_some()
    });
    assert!(!body.contains("guest:guest"), "{body}");
    let (code, _) = serve.terminate();
    assert_eq!(code, Some(0));
}
