//! Certificates of the shapes in data/knowledge/tls.toml, made here with
//! `openssl`, served by a real TLS terminator (socat `openssl-listen`, on a
//! free loopback port) in front of the local broker: amqpdoctor connects
//! where the user's OpenSSL-based clients connect (issue 19's two
//! reproductions), says what it accepted and who would refuse it, and its
//! prediction for the OpenSSL family agrees with the real clients (pika
//! from .ci/.venv, `openssl s_client -verify_return_error`).

mod common;

use std::net::TcpListener;

use common::fixture;
use common::require_broker;
use common::tls_server::{make, Terminator};
use serde_json::Value;

/// `amqpdoctor ARGS`: exit code, stdout, stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = common::amqpdoctor().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Issue 19's (a): `openssl req -x509` with a SAN, which OpenSSL 3 marks
/// CA:TRUE, trusted as the CA file itself.
fn self_signed_ca_leaf() -> String {
    make(
        "a",
        "/CN=localhost",
        &["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
    )
}

/// Issue 19's (b): a CN and no subjectAltName (and CA:TRUE, as `req -x509`
/// makes it).
fn cn_only() -> String {
    make("b", "/CN=localhost", &[])
}

fn json(out: &str, err: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}\n{out}\n{err}"))
}

#[test]
fn probe_and_check_connect_where_openssl_clients_do() {
    for (cert, refused_by) in [
        (self_signed_ca_leaf(), vec!["rustls"]),
        (cn_only(), vec!["go", "rustls"]),
    ] {
        let tls = Terminator::start(&cert);
        let url = tls.url("localhost");
        let probe = ["probe", &url, "--cacert", &cert, "--mode", "disabled"];
        let (code, out, err) = run(&[&probe[..], &["--idle", "0s", "--format", "json"]].concat());
        assert_eq!(code, 0, "{cert}: {err}\n{out}");
        let doc = json(&out, &err);
        let t = &doc["tls"];
        assert_eq!(t["verified"], false, "{t:#}");
        assert_eq!(t["accepted"]["accepted_as"], "openssl", "{t:#}");
        assert_eq!(
            t["accepted"]["refused_by"],
            serde_json::json!(refused_by),
            "{t:#}"
        );
        assert!(!out.contains("verified for"), "{out}");
        assert!(out.contains("NOT verified by rustls"), "{out}");

        let (code, out, err) = run(&[&probe[..], &["--idle", "0s"]].concat());
        assert_eq!(code, 0, "{err}\n{out}");
        assert!(!out.contains("verified for"), "{out}");
        assert!(
            out.contains("NOT verified by rustls; accepted as openssl clients would"),
            "{out}"
        );
        assert!(out.contains("Would refuse it: "), "{out}");

        let (code, out, err) = run(&["check", &url, "--cacert", &cert, "--format", "json"]);
        assert_eq!(code, 0, "{cert}: {err}\n{out}");
        let doc = json(&out, &err);
        let target = &doc["targets"][0];
        assert_eq!(target["tls"]["accepted"]["accepted_as"], "openssl");
        assert!(
            target["notes"].to_string().contains("rustls refused"),
            "{target:#}"
        );
        let (code, out, _) = run(&["check", &url, "--cacert", &cert]);
        assert_eq!(code, 0, "{out}");
        assert!(!out.contains("in the certificate's SAN"), "{out}");

        // Following rustls's own rules, the certificate is refused.
        let (code, out, _) = run(&["check", &url, "--cacert", &cert, "--tls-as", "rustls"]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("step tls failed"), "{out}");
    }
}

#[test]
fn a_certificate_without_san_is_said_so_and_go_refuses_it() {
    let cert = cn_only();
    let tls = Terminator::start(&cert);
    let url = tls.url("localhost");
    // The run follows OpenSSL; the expectation names Go, which refuses.
    let (code, out, err) = run(&[
        "check",
        &url,
        "--cacert",
        &cert,
        "--expect-tls-accepted-by",
        "go,java",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{err}\n{out}");
    let doc = json(&out, &err);
    let exp = &doc["targets"][0]["expectations"];
    let tls_exp = exp
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "expect_tls_accepted_by")
        .unwrap_or_else(|| panic!("{exp:#}"));
    assert_eq!(tls_exp["status"], "failed", "{tls_exp:#}");
    assert!(
        tls_exp["message"]
            .as_str()
            .unwrap()
            .starts_with("go would refuse"),
        "{tls_exp:#}"
    );
    // Java accepts it: that alone passes.
    let (code, out, _) = run(&[
        "check",
        &url,
        "--cacert",
        &cert,
        "--expect-tls-accepted-by",
        "java",
    ]);
    assert_eq!(code, 0, "{out}");

    // Following Go: refused for its name, with advice that fits a
    // certificate with no SAN.
    let (code, out, _) = run(&["check", &url, "--cacert", &cert, "--tls-as", "go"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("tls_name_mismatch"), "{out}");
    assert!(out.contains("go clients refuse it"), "{out}");
    assert!(out.contains("no subjectAltName"), "{out}");
    assert!(!out.contains("in the certificate's SAN"), "{out}");
    let (code, _, err) = run(&[
        "probe", &url, "--cacert", &cert, "--tls-as", "go", "--mode", "disabled",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("tls_name_mismatch"), "{err}");
}

/// `amqpdoctor tls URL --format json`: exit code and document.
fn tls_json(url: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["tls", url, "--connect-timeout", "2s", "--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(&args);
    (code, json(&out, &err))
}

fn verdicts(doc: &Value) -> Vec<(String, Value)> {
    doc["acceptance"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc:#}"))
        .iter()
        .map(|a| {
            (
                a["family"].as_str().unwrap().to_string(),
                a["accepted"].clone(),
            )
        })
        .collect()
}

#[test]
fn tls_shows_the_chain_and_who_accepts_it() {
    require_broker();
    // RabbitMQ's own listener, a certificate rustls verifies.
    let ca = fixture::tls_file("ca.pem");
    let (code, doc) = tls_json("amqps://localhost:5671", &["--cacert", &ca]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["tls"]["verified"], true, "{doc:#}");
    assert!(doc["negotiated"]["version"]
        .as_str()
        .unwrap()
        .starts_with("TLS 1."));
    assert!(
        doc["chain"][0]["sans"]
            .to_string()
            .contains("DNS:localhost"),
        "{doc:#}"
    );
    assert!(doc["chain"][0]["days_left"].as_i64().unwrap() > 0);
    assert_eq!(doc["chain_complete"], true);
    assert!(verdicts(&doc).iter().all(|(_, a)| *a == true), "{doc:#}");

    // Issue 19's (b): Go and rustls refuse the CN-only certificate.
    let cert = cn_only();
    let tls = Terminator::start(&cert);
    let url = tls.url("localhost");
    let (code, doc) = tls_json(&url, &["--cacert", &cert]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["tls"]["verified"], false, "{doc:#}");
    assert_eq!(doc["chain"][0]["sans"], serde_json::json!([]));
    let v = verdicts(&doc);
    for (family, want) in [
        ("openssl", true),
        ("java", true),
        ("go", false),
        ("rustls", false),
    ] {
        let got = &v.iter().find(|(f, _)| f == family).unwrap().1;
        assert_eq!(*got, want, "{family}: {doc:#}");
    }
    let go = &doc["acceptance"].as_array().unwrap()[3];
    assert!(
        go["reason"].as_str().unwrap().contains("no subjectAltName"),
        "{go:#}"
    );
    let (code, _) = tls_json(&url, &["--cacert", &cert, "--expect-accepted-by", "go"]);
    assert_eq!(code, 1);
    let (code, _) = tls_json(
        &url,
        &["--cacert", &cert, "--expect-accepted-by", "openssl,java"],
    );
    assert_eq!(code, 0);
    let (code, out, _) = run(&["tls", &url, "--cacert", &cert]);
    assert_eq!(code, 0);
    assert!(
        out.contains("none (no subjectAltName)") && out.contains("Go (crypto/tls)"),
        "{out}"
    );
}

#[test]
fn tls_says_what_answered_when_no_tls_did() {
    require_broker();
    let (code, doc) = tls_json(&format!("amqps://{}", common::broker_host_port()), &[]);
    assert_eq!(code, 3, "{doc:#}");
    assert!(
        doc["not_tls"].as_str().unwrap().starts_with("plain AMQP"),
        "{doc:#}"
    );
    let mgmt = std::env::var("AMQPDOCTOR_CI_MANAGEMENT_PORT").unwrap_or_else(|_| "15672".into());
    let (code, doc) = tls_json(&format!("amqps://127.0.0.1:{mgmt}"), &[]);
    assert_eq!(code, 3, "{doc:#}");
    assert!(
        doc["not_tls"].as_str().unwrap().starts_with("HTTP"),
        "{doc:#}"
    );
    // A listener that never says a word.
    let quiet = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = quiet.local_addr().unwrap().port();
    let (code, doc) = tls_json(&format!("amqps://127.0.0.1:{port}"), &[]);
    assert_eq!(code, 3, "{doc:#}");
    assert!(
        doc["not_tls"].as_str().unwrap().starts_with("nothing"),
        "{doc:#}"
    );
    drop(quiet);
    // Not an amqps:// URL: a usage error, before anything connects.
    let (code, _, err) = run(&["tls", "amqp://localhost:1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("needs an amqps:// URL"), "{err}");
}
