//! amqpdoctor's prediction for the OpenSSL family against the real clients
//! of that family (issue 19 item 5). For each certificate shape, made here
//! with `openssl` and served by socat in front of the broker: what
//! `amqpdoctor tls` says OpenSSL does, what pika 1.3.2 (Python's ssl, from
//! .ci/.venv) does, and what `openssl s_client -verify_return_error` does.
//! Any disagreement fails, with the whole table.

mod common;

use std::process::{Command, Stdio};

use common::fixture::{self, run_python, tls_file};
use common::tls_server::{make, Terminator};

/// pika's BlockingConnection over TLS, as an application makes it
/// (`ssl.create_default_context(cafile=…)`); stdin: `host port cafile`.
const PIKA: &str = r#"
import sys, ssl, pika
host, port, cafile = sys.stdin.read().split()
ctx = ssl.create_default_context(cafile=cafile)
try:
    c = pika.BlockingConnection(pika.ConnectionParameters(
        host=host, port=int(port), connection_attempts=1, socket_timeout=5,
        credentials=pika.PlainCredentials("guest", "guest"),
        ssl_options=pika.SSLOptions(ctx, server_hostname=host)))
    c.close()
    print("accept")
except Exception as e:
    print("refuse", type(e).__name__)
"#;

fn pika(host: &str, port: u16, ca: &str) -> bool {
    let out = run_python(PIKA, &format!("{host} {port} {ca}"));
    out.trim() == "accept"
}

fn s_client(host: &str, port: u16, ca: &str) -> bool {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(["-CAfile", ca, "-verify_return_error"]);
    if host.parse::<std::net::IpAddr>().is_ok() {
        cmd.args(["-verify_ip", host]);
    } else {
        cmd.args(["-servername", host, "-verify_hostname", host]);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| fixture::missing(&format!("openssl ({e})")))
        .success()
}

/// `amqpdoctor tls`'s verdict for the OpenSSL family (None: not known).
fn predicted(host: &str, port: u16, ca: &str) -> Option<bool> {
    let out = common::amqpdoctor()
        .args(["tls", &format!("amqps://{host}:{port}"), "--cacert", ca])
        .args(["--format", "json", "--connect-timeout", "3s"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    doc["acceptance"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["family"] == "openssl"))
        .and_then(|f| f["accepted"].as_bool())
}

#[test]
fn openssl_predictions_match_pika_and_s_client() {
    let good = tls_file("server.pem");
    let ca = tls_file("ca.pem");
    let a = make(
        "ca-leaf",
        "/CN=localhost",
        &["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
    );
    let b = make("cn-only-ca", "/CN=localhost", &[]);
    let c = make(
        "cn-only",
        "/CN=localhost",
        &["-addext", "basicConstraints=critical,CA:FALSE"],
    );
    let ip = make(
        "ip-in-cn",
        "/CN=127.0.0.1",
        &["-addext", "basicConstraints=critical,CA:FALSE"],
    );
    // (shape, served certificate, CA file given, host connected by)
    let rows = [
        ("verified by rustls", good.clone(), ca.clone(), "localhost"),
        ("self_signed_ca_leaf", a.clone(), a.clone(), "localhost"),
        (
            "self_signed_ca_leaf by IP",
            a.clone(),
            a.clone(),
            "127.0.0.1",
        ),
        (
            "cn_only + self_signed_ca_leaf",
            b.clone(),
            b.clone(),
            "localhost",
        ),
        ("cn_only", c.clone(), c.clone(), "localhost"),
        ("ip_only_in_cn", ip.clone(), ip.clone(), "127.0.0.1"),
        (
            "self-signed, not in the CA file",
            a.clone(),
            ca.clone(),
            "localhost",
        ),
        (
            "wrong name",
            tls_file("wrong-name-server.pem"),
            ca.clone(),
            "localhost",
        ),
        (
            "expired",
            tls_file("expired-server.pem"),
            ca.clone(),
            "localhost",
        ),
    ];
    let mut table = vec![format!(
        "{:<34} {:>10} {:>6} {:>9}",
        "shape", "predicted", "pika", "s_client"
    )];
    let mut mismatches = 0;
    for (shape, cert, ca, host) in rows {
        let server = Terminator::start(&cert);
        let want = predicted(host, server.port, &ca);
        let (p, s) = (
            pika(host, server.port, &ca),
            s_client(host, server.port, &ca),
        );
        let word = |b: bool| if b { "accept" } else { "refuse" };
        if want != Some(p) || want != Some(s) {
            mismatches += 1;
        }
        table.push(format!(
            "{shape:<34} {:>10} {:>6} {:>9}",
            want.map_or("unknown", word),
            word(p),
            word(s)
        ));
    }
    let table = table.join("\n");
    eprintln!("{table}");
    assert_eq!(
        mismatches, 0,
        "prediction and real clients disagree:\n{table}"
    );
}
