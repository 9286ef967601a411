//! Table tests of serve's pure parts: process labels, the metrics of a
//! snapshot (names, labels, the caps) and the routes.

use super::exposition::Flavor;
use super::*;
use crate::run::serve::http::Request;

#[test]
fn process_names() {
    let rows = [
        (
            "/usr/bin/python3 -u /srv/app/worker.py --queue q",
            "python3 worker.py",
        ),
        ("python3.11 app.py", "python3.11 app.py"),
        ("/opt/svc/bin/billing --url amqp://u:***@h/v", "billing"),
        ("java -Xmx1g -jar /srv/orders.jar", "java orders.jar"),
        ("node", "node"),
        ("[kworker/0:1]", "[kworker/0:1]"),
        ("", "unknown"),
    ];
    for (command, want) in rows {
        assert_eq!(process_name(command), want, "{command}");
    }
    assert_eq!(process_name(&"x".repeat(100)).len(), 64);
}

fn conn(process: &str, port: u16, class: Classification) -> ConnState {
    ConnState {
        pid: Some(42),
        process: process.into(),
        local: format!("127.0.0.1:{port}").parse().unwrap(),
        remote: "127.0.0.1:5672".parse().unwrap(),
        classification: class,
        heartbeat_s: (class == Classification::Starving).then_some(5),
        silence_sent_ms: 7250,
        silence_received_ms: 1500,
    }
}

fn scan_snapshot(conns: Vec<ConnState>, cap: usize) -> Snapshot {
    let mut deaths = BTreeMap::new();
    deaths.insert(("python3 app.py".to_string(), "true"), 2);
    Snapshot {
        started_unix_s: 1000.0,
        scan: Some(ScanState {
            up: true,
            samples_total: 9,
            errors_total: 0,
            sample_seconds: 0.002,
            connections: conns,
            deaths,
            untracked: 0,
            max_connection_series: cap,
        }),
        check: None,
        audit: None,
        logs: None,
    }
}

#[test]
fn scan_metrics() {
    use Classification::*;
    let snap = scan_snapshot(
        vec![
            conn("python3 app.py", 40001, Healthy),
            conn("python3 app.py", 40002, Starving),
            conn("billing", 40003, Healthy),
        ],
        2,
    );
    let text = render(&snap, Flavor::Text);
    // (line expected in the output)
    let rows = [
        "amqpdoctor_scan_up 1",
        "amqpdoctor_scan_samples_total 9",
        "# TYPE amqpdoctor_scan_samples_total counter",
        "amqpdoctor_scan_connections{classification=\"healthy\",process=\"billing\"} 1",
        "amqpdoctor_scan_connections{classification=\"starving\",process=\"python3 app.py\"} 1",
        // the starving one is listed first; the cap of 2 drops one healthy one
        "amqpdoctor_scan_connection_classification{pid=\"42\",process=\"python3 app.py\",\
         local=\"127.0.0.1:40002\",remote=\"127.0.0.1:5672\",classification=\"starving\"} 1",
        "amqpdoctor_scan_connection_heartbeat_seconds{pid=\"42\",process=\"python3 app.py\",\
         local=\"127.0.0.1:40002\",remote=\"127.0.0.1:5672\"} 5",
        "amqpdoctor_scan_connection_silence_seconds{pid=\"42\",process=\"python3 app.py\",\
         local=\"127.0.0.1:40002\",remote=\"127.0.0.1:5672\",direction=\"sent\"} 7.250000",
        "amqpdoctor_scan_connection_series_dropped 1",
        "amqpdoctor_scan_deaths_total{process=\"python3 app.py\",in_window=\"true\"} 2",
        "amqpdoctor_build_info{version=\"",
    ];
    for want in rows {
        assert!(text.contains(want), "missing {want}\n{text}");
    }
    assert_eq!(
        text.matches("amqpdoctor_scan_connection_classification{")
            .count(),
        2,
        "{text}"
    );
    assert!(!text.contains("# EOF"));
    let om = render(&snap, Flavor::OpenMetrics);
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert!(
        om.contains("# TYPE amqpdoctor_scan_deaths counter\n"),
        "{om}"
    );
}

#[test]
fn process_names_are_capped() {
    let conns: Vec<ConnState> = (0..PROCESSES_MAX + 5)
        .map(|i| {
            conn(
                &format!("p{i:03}"),
                1000 + i as u16,
                Classification::Healthy,
            )
        })
        .collect();
    let text = render(&scan_snapshot(conns, 0), Flavor::Text);
    let aggregates = text
        .lines()
        .filter(|l| l.starts_with("amqpdoctor_scan_connections{"))
        .count();
    assert_eq!(aggregates, PROCESSES_MAX + 1, "{text}");
    assert!(
        text.contains(
            "amqpdoctor_scan_connections{classification=\"healthy\",process=\"other\"} 5"
        ),
        "{text}"
    );
    assert!(text.contains("amqpdoctor_scan_connection_series_dropped 105"));
}

fn get(path: &str, headers: &[(&str, &str)]) -> Request {
    Request {
        method: "GET".into(),
        path: path.into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

#[test]
fn routes() {
    let snap = scan_snapshot(Vec::new(), 10);
    let bearer = [("authorization", "Bearer s3cret")];
    let wrong = [("authorization", "Bearer s3cre")];
    let mut post = get("/metrics", &[]);
    post.method = "POST".into();
    // (request, token, status)
    let rows = [
        (get("/metrics", &[]), None, 200),
        (get("/", &[]), None, 200),
        (get("/healthz", &[]), None, 200),
        (get("/nope", &[]), None, 404),
        (post.clone(), None, 405),
        (post, Some("s3cret"), 405),
        (get("/metrics", &[]), Some("s3cret"), 401),
        (get("/metrics", &wrong), Some("s3cret"), 401),
        (get("/metrics", &bearer), Some("s3cret"), 200),
        (get("/", &[]), Some("s3cret"), 401),
        (get("/healthz", &[]), Some("s3cret"), 200),
    ];
    for (req, token, want) in rows {
        let auth = Auth {
            bearer: token.map(str::to_string),
            basic: None,
        };
        let r = respond(&req, &snap, &auth);
        assert_eq!(
            r.status, want,
            "{} {} token {token:?}",
            req.method, req.path
        );
        assert!(!String::from_utf8_lossy(&r.body).contains("s3cret"));
    }
    let om = respond(
        &get(
            "/metrics",
            &[("accept", "application/openmetrics-text; version=1.0.0")],
        ),
        &snap,
        &Auth::default(),
    );
    assert_eq!(om.content_type, super::exposition::OPENMETRICS);
    let text = respond(&get("/metrics", &[]), &snap, &Auth::default());
    assert_eq!(text.content_type, super::exposition::TEXT);
}

#[test]
fn audit_metrics() {
    let mut a = AuditState {
        broker: "http://rabbit:15672".into(),
        up: true,
        passed_total: 3,
        ..AuditState::default()
    };
    a.by_library.insert("pika-blocking".into(), 4);
    a.flagged
        .insert(("heartbeat_off", "pika-blocking".into()), 1);
    a.by_heartbeat.insert(0, 1);
    a.failed();
    let mut snap = scan_snapshot(Vec::new(), 1);
    snap.audit = Some(a);
    let text = render(&snap, Flavor::Text);
    let rows = [
        "amqpdoctor_audit_up{broker=\"http://rabbit:15672\"} 0",
        "amqpdoctor_audit_runs_total{broker=\"http://rabbit:15672\",result=\"passed\"} 3",
        "amqpdoctor_audit_runs_total{broker=\"http://rabbit:15672\",result=\"failed\"} 1",
        "amqpdoctor_audit_connections{broker=\"http://rabbit:15672\",library=\"pika-blocking\"} 4",
        "amqpdoctor_audit_flagged_connections{broker=\"http://rabbit:15672\",flag=\"heartbeat_off\",\
         library=\"pika-blocking\"} 1",
        "amqpdoctor_audit_connections_by_heartbeat{broker=\"http://rabbit:15672\",\
         heartbeat_seconds=\"0\"} 1",
    ];
    for want in rows {
        assert!(text.contains(want), "missing {want}\n{text}");
    }
}

#[test]
fn basic_auth() {
    let snap = scan_snapshot(Vec::new(), 1);
    let auth = Auth {
        bearer: None,
        // prometheus:s3cret
        basic: Some("cHJvbWV0aGV1czpzM2NyZXQ=".into()),
    };
    // (authorization header, status)
    let rows = [
        (None, 401),
        (Some("Basic cHJvbWV0aGV1czpzM2NyZXQ="), 200),
        (Some("Basic cHJvbWV0aGV1czpzM2NyZXR4"), 401),
        (Some("Bearer cHJvbWV0aGV1czpzM2NyZXQ="), 401),
    ];
    for (header, want) in rows {
        let headers: Vec<(&str, &str)> = header.map(|h| ("authorization", h)).into_iter().collect();
        let r = respond(&get("/metrics", &headers), &snap, &auth);
        assert_eq!(r.status, want, "{header:?}");
        if want == 401 {
            assert!(r
                .headers
                .contains(&("WWW-Authenticate", "Basic realm=\"amqpdoctor\"")));
        }
    }
}
