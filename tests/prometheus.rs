//! A real Prometheus (Debian's package) scraping `amqpdoctor serve --scan
//! --check` every second with deploy/alerts.yml loaded: a starving pika
//! app shows up in Prometheus, its alert fires, and its death inside the
//! broker's window is counted and alerted on; every query of
//! deploy/grafana-dashboard.json runs. Every wait is bounded; a
//! missing `prometheus` binary fails naming `bash .ci/broker`.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::pika::PikaApp;
use common::serve::{prometheus, Serve};

/// A Prometheus of our own (killed by its pid when dropped).
struct Prometheus {
    child: Child,
    addr: String,
    dir: std::path::PathBuf,
}

impl Prometheus {
    /// Scrape `target` every second, evaluate deploy/alerts.yml every second.
    fn start(target: &str) -> Prometheus {
        let dir = std::env::temp_dir().join(format!("amqpdoctor-prom-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/alerts.yml");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: amqpdoctor\n    static_configs:\n      - targets: [\"{target}\"]\n"
        );
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        // A free port (bound, then released for Prometheus).
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(prometheus())
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting prometheus");
        let p = Prometheus { child, addr, dir };
        p.wait_for("ready", 60, |_| true, "/-/ready");
        p
    }

    /// GET `path` (query already encoded): the body, or None.
    fn get(&self, path: &str) -> Option<String> {
        let mut s = TcpStream::connect(&self.addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        let (head, body) = out.split_once("\r\n\r\n")?;
        head.starts_with("HTTP/1.1 200").then(|| body.to_string())
    }

    /// Ask `path` until `ready` holds for the body, at most `tries` times
    /// 250 ms apart; the body, or the test fails saying `what`.
    fn wait_for(&self, what: &str, tries: u32, ready: impl Fn(&str) -> bool, path: &str) -> String {
        let mut last = None;
        for _ in 0..tries {
            last = self.get(path);
            if last.as_deref().is_some_and(&ready) {
                return last.unwrap();
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("Prometheus never showed {what}; last answer to {path}: {last:?}");
    }

    /// Query until the result is not empty.
    fn query_until(&self, what: &str, promql: &str) -> String {
        self.wait_for(
            what,
            120,
            |b| b.contains("\"status\":\"success\"") && !b.contains("\"result\":[]"),
            &query_path(promql),
        )
    }
}

/// `/api/v1/query?query=…`, percent-encoded.
fn query_path(promql: &str) -> String {
    let q: String = promql
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("/api/v1/query?query={q}")
}

/// Every query of deploy/grafana-dashboard.json.
fn dashboard_queries() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/grafana-dashboard.json"
    ))
    .unwrap();
    let dash: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    dash["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().iter())
        .map(|t| t["expr"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_dashboards_metrics_are_documented() {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/serve.md")).unwrap();
    for q in dashboard_queries() {
        for (i, _) in q.match_indices("amqpdoctor_") {
            let name: String = q[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(
                docs.contains(&format!("`{name}`")),
                "{name} (in {q}) is not in docs/serve.md"
            );
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn prometheus_sees_the_starving_app_fires_its_alert_and_counts_its_death() {
    common::require_broker();
    let serve = Serve::scan_and_check(&[]);
    let prom = Prometheus::start(&serve.addr);
    prom.query_until("the check", "amqpdoctor_check_up == 1");
    let app = PikaApp::start(
        "starving",
        2,
        &format!("prom-starving-{}", std::process::id()),
    );
    let local = format!("127.0.0.1:{}", app.local_port);
    prom.query_until(
        "the starving connection",
        &format!(
            "amqpdoctor_scan_connection_classification{{classification=\"starving\",local=\"{local}\"}}"
        ),
    );
    // T = 2: the alert fires from 2T of silence until the broker drops it
    // (by 3T); max_over_time keeps a firing that lasted one evaluation.
    let firing = prom.query_until(
        "AMQPConnectionStarving firing",
        &format!(
            "max_over_time(ALERTS{{alertname=\"AMQPConnectionStarving\",alertstate=\"firing\",local=\"{local}\"}}[5m])"
        ),
    );
    assert!(firing.contains("pika_app.py"), "{firing}");
    prom.query_until(
        "the death in the broker's window",
        "amqpdoctor_scan_deaths_total{in_window=\"true\",process=\"python pika_app.py\"} >= 1",
    );
    prom.query_until(
        "AMQPDeathsInBrokerWindow firing",
        "ALERTS{alertname=\"AMQPDeathsInBrokerWindow\",alertstate=\"firing\",process=\"python pika_app.py\"}",
    );
    // Every dashboard query parses and runs against the data just scraped.
    for q in dashboard_queries() {
        let answer = prom.get(&query_path(&q));
        assert!(
            answer
                .as_deref()
                .is_some_and(|b| b.contains("\"status\":\"success\"")),
            "the dashboard's query fails in Prometheus: {q}\n{answer:?}"
        );
    }
    let (code, said) = serve.terminate();
    assert_eq!(code, Some(0), "{said}");
}
