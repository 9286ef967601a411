//! amqps:// end to end against the TLS listener `.ci/broker` configures
//! (127.0.0.1:5671, certificates in `.ci/.tls/`): the three modes with the
//! same verdicts as over TCP, `check` with its `tls` step, and one test per
//! TLS failure kind. Servers presenting an expired certificate or asking
//! for a client certificate are started here with rustls.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;

use common::fake;
use common::fixture::tls_file;
use common::require_broker;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;

const TLS_URL: &str = "amqps://guest:guest@localhost:5671/%2f";

/// `amqpdoctor ARGS`: exit code, stdout, stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = common::amqpdoctor().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `heartbeat URL --connect-timeout 2s ARGS`, expected to fail before the
/// diagnosis: its exit code and the one-line reason.
fn refused(url: &str, args: &[&str]) -> (i32, String) {
    let mut all = vec!["heartbeat", url, "--connect-timeout", "2s"];
    all.extend_from_slice(args);
    let (code, _, err) = run(&all);
    (code, err)
}

#[test]
fn the_three_modes_over_tls_get_the_tcp_verdicts() {
    require_broker();
    let ca = tls_file("ca.pem");
    let (code, out, err) = run(&[
        "probe",
        TLS_URL,
        "--cacert",
        &ca,
        "--heartbeat",
        "2s",
        "--idle",
        "7s",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}\n{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert!(
        doc["target"]
            .as_str()
            .unwrap()
            .starts_with("amqps://guest:***@"),
        "{doc:#}"
    );
    for run in doc["runs"].as_array().unwrap() {
        let (mode, code) = (
            run["mode"].as_str().unwrap(),
            run["verdict"]["code"].as_str().unwrap(),
        );
        let want = if mode == "starved" {
            "broker_heartbeat_timeout"
        } else {
            "healthy"
        };
        assert_eq!(code, want, "{mode}: {run:#}");
        assert_eq!(run["verdict"]["expected"], true, "{mode}");
        // The timeline says TLS was up, and with what.
        let events = run["events"].to_string();
        assert!(events.contains("TLS established"), "{mode}: {events}");
        if mode == "starved" {
            // RabbitMQ's 2T–3T window holds under TLS too; the beats are
            // counted in TLS records.
            let silent = run["end"]["since_last_client_byte_ms"].as_u64().unwrap();
            assert!((3400..=6600).contains(&silent), "{run:#}");
            assert!(
                run["heartbeats"]["received"].as_u64().unwrap() >= 3,
                "{run:#}"
            );
        }
        if mode == "serviced" {
            assert!(run["heartbeats"]["sent"].as_u64().unwrap() >= 2, "{run:#}");
        }
    }
}

#[test]
fn check_over_tls_has_a_tls_step() {
    require_broker();
    let ca = tls_file("ca.pem");
    let (code, out, err) = run(&["check", TLS_URL, "--cacert", &ca, "--format", "json"]);
    assert_eq!(code, 0, "{err}\n{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let steps: Vec<&str> = doc["targets"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "dns",
            "connect",
            "tls",
            "handshake",
            "channel",
            "queue",
            "publish",
            "get",
            "close"
        ]
    );
    // Mutual TLS with the client certificate works too.
    let (code, _, err) = run(&[
        "check",
        TLS_URL,
        "--cacert",
        &ca,
        "--cert",
        &tls_file("client.pem"),
        "--key",
        &tls_file("client.key"),
    ]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn the_ca_the_name_and_the_ports() {
    require_broker();
    let ca = tls_file("ca.pem");
    // (URL, extra args, verdict code)
    let rows: Vec<(String, Vec<String>, &str)> = vec![
        (
            TLS_URL.into(),
            vec!["--cacert".into(), tls_file("other-ca.pem")],
            "tls_unknown_ca",
        ),
        (
            TLS_URL.into(),
            vec![
                "--cacert".into(),
                ca.clone(),
                "--tls-server-name".into(),
                "wrong.example".into(),
            ],
            "tls_name_mismatch",
        ),
        (
            "amqps://guest:guest@localhost:5672/%2f".into(),
            vec!["--cacert".into(), ca.clone()],
            "tls_to_plain_port",
        ),
        (
            "amqp://guest:guest@localhost:5671/%2f".into(),
            vec![],
            "plain_to_tls_port",
        ),
        (
            TLS_URL.into(),
            vec![
                "--cacert".into(),
                ca.clone(),
                "--cert".into(),
                tls_file("other-client.pem"),
                "--key".into(),
                tls_file("other-client.key"),
            ],
            "tls_client_certificate_refused",
        ),
    ];
    for (url, args, verdict) in rows {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, err) = refused(&url, &args);
        assert_eq!(code, 3, "{url} {args:?}: {err}");
        assert!(
            err.contains(&format!("could not diagnose: {verdict}")),
            "{url} {args:?}: {err}"
        );
    }
}

/// A one-connection TLS server presenting `cert`/`key`, asking for a
/// client certificate signed by `ca.pem` when `want_client_cert`.
fn rustls_server(cert: &str, key: &str, want_client_cert: bool) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if want_client_cert {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(tls_file("ca.pem")).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        builder.with_client_cert_verifier(
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap(),
        )
    } else {
        builder.with_no_client_auth()
    };
    let config = Arc::new(builder.with_single_cert(chain, key).unwrap());
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((tcp, _)) = l.accept() {
            let conn = rustls::ServerConnection::new(config).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut buf = [0u8; 64];
            let _ = tls.read(&mut buf);
        }
    });
    format!("amqps://guest:S3cr3tPw@localhost:{port}/%2f")
}

#[test]
fn an_expired_certificate_and_a_required_client_certificate() {
    let ca = tls_file("ca.pem");
    let expired = rustls_server(
        &tls_file("expired-server.pem"),
        &tls_file("expired-server.key"),
        false,
    );
    let (code, err) = refused(&expired, &["--cacert", &ca]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("could not diagnose: tls_certificate_expired"),
        "{err}"
    );
    assert!(!err.contains("S3cr3tPw"), "{err}");

    let wants_cert = rustls_server(&tls_file("server.pem"), &tls_file("server.key"), true);
    let (code, err) = refused(&wants_cert, &["--cacert", &ca]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("could not diagnose: tls_client_certificate_required"),
        "{err}"
    );
}

#[test]
fn passwords_stay_hidden_and_insecure_says_so() {
    require_broker();
    let ca = tls_file("ca.pem");
    let bad = "amqps://guest:S3cr3tPw@localhost:5671/%2f";
    for format in ["human", "json"] {
        let (code, out, err) = run(&["heartbeat", bad, "--cacert", &ca, "--format", format]);
        assert_eq!(code, 3, "{err}");
        assert!(
            !out.contains("S3cr3tPw") && !err.contains("S3cr3tPw"),
            "{out}{err}"
        );
        assert!(err.contains("auth_failed"), "{err}");
    }
    // A missing CA file is a usage error naming the flag, before any traffic.
    let (code, _, err) = run(&["heartbeat", bad, "--cacert", "/nonexistent/ca.pem"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--cacert /nonexistent/ca.pem") && !err.contains("S3cr3tPw"),
        "{err}"
    );
    let (code, _, err) = run(&["heartbeat", TLS_URL, "--insecure"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("NOT verified"), "{err}");
    // The URL's TLS parameters work like the flags.
    let (code, _, err) = run(&["heartbeat", &format!("{TLS_URL}?cacertfile={ca}")]);
    assert_eq!(code, 0, "{err}");
}

/// A TLS server that asks for a client certificate signed by `ca.pem` and
/// speaks just enough AMQP to log a client in with what it offers
/// (`mechanisms`); the Start-Ok it got comes out of the channel.
fn tls_amqp_server(
    mechanisms: &'static str,
) -> (String, std::sync::mpsc::Receiver<(String, usize)>) {
    use amq_protocol::frame::AMQPFrame;
    use amq_protocol::protocol::{connection, AMQPClass};
    use amqpdoctor::wire::codec::{decode, encode, Decoded};
    use std::io::Write;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(tls_file("server.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(tls_file("server.key")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(tls_file("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .unwrap(),
    );
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok((tcp, _)) = l.accept() else { return };
        let conn = rustls::ServerConnection::new(config).unwrap();
        let mut s = rustls::StreamOwned::new(conn, tcp);
        let mut buf = Vec::new();
        let next = |s: &mut rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>,
                    buf: &mut Vec<u8>|
         -> Option<AMQPFrame> {
            loop {
                if let Decoded::Frame(f, n) = decode(buf, 0) {
                    buf.drain(..n);
                    return Some(f);
                }
                let mut chunk = [0u8; 4096];
                let n = s.read(&mut chunk).ok().filter(|n| *n > 0)?;
                buf.extend_from_slice(&chunk[..n]);
            }
        };
        let send = |s: &mut rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>,
                    f: AMQPFrame| {
            let _ = s.write_all(&encode(&f).unwrap());
        };
        let _header = next(&mut s, &mut buf);
        send(
            &mut s,
            fake::start("RabbitMQ", "3.10.8", "Erlang", mechanisms),
        );
        if let Some(AMQPFrame::Method(
            _,
            AMQPClass::Connection(connection::AMQPMethod::StartOk(ok)),
        )) = next(&mut s, &mut buf)
        {
            let _ = tx.send((ok.mechanism.to_string(), ok.response.as_bytes().len()));
        }
        send(&mut s, fake::tune(131_072, 60));
        let _tune_ok = next(&mut s, &mut buf);
        let _open = next(&mut s, &mut buf);
        send(&mut s, fake::open_ok());
        let _ = next(&mut s, &mut buf);
    });
    (
        format!("amqps://localhost:{port}/%2f?auth_mechanism=external"),
        rx,
    )
}

#[test]
fn external_logs_in_with_the_client_certificate() {
    let (url, rx) = tls_amqp_server("EXTERNAL");
    let (code, _, err) = run(&[
        "heartbeat",
        &url,
        "--connect-timeout",
        "2s",
        "--cacert",
        &tls_file("ca.pem"),
        "--cert",
        &tls_file("client.pem"),
        "--key",
        &tls_file("client.key"),
    ]);
    assert_eq!(code, 0, "{err}");
    let (mechanism, response_len) = rx.recv().unwrap();
    assert_eq!(mechanism, "EXTERNAL");
    assert_eq!(response_len, 0, "EXTERNAL sends an empty response");
}
