//! The AMQP URI as RabbitMQ specifies it, end to end: query parameters that
//! apply (a flag beats the URL), ones that do not or are unknown (said on
//! stderr, never dropped silently), AMQPLAIN, and the empty vhost.

mod common;

use std::sync::mpsc;

use amq_protocol::protocol::{connection, AMQPClass};
use common::fake::{self, send, serve, skip};
use common::{broker_host_port, require_broker};
use serde_json::Value;

/// The test broker's URL with `path_and_query` after the authority.
fn url(path_and_query: &str) -> String {
    format!("amqp://guest:guest@{}{path_and_query}", broker_host_port())
}

/// `heartbeat URL ARGS --format json`: exit code, report, stderr.
fn heartbeat(url: &str, args: &[&str]) -> (i32, Value, String) {
    require_broker();
    let out = common::amqpdoctor()
        .args(["heartbeat", url, "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap(),
        doc,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn heartbeat_from_the_url_and_the_flag_beats_it() {
    let (code, doc, err) = heartbeat(&url("/%2f?heartbeat=7"), &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(doc["negotiation"]["negotiated_heartbeat_s"], 7, "{doc:#}");
    assert!(!err.contains("ignored"), "{err}");
    let (_, doc, _) = heartbeat(&url("/%2f?heartbeat=7"), &["--interval", "3s"]);
    assert_eq!(doc["negotiation"]["negotiated_heartbeat_s"], 3, "{doc:#}");
}

#[test]
fn frame_max_and_channel_max_from_the_url() {
    let (code, doc, err) = heartbeat(&url("/%2f?frame_max=8192&channel_max=16"), &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(doc["negotiation"]["frame_max"], 8192, "{doc:#}");
    assert_eq!(doc["negotiation"]["channel_max"], 16, "{doc:#}");
}

#[test]
fn unknown_and_inapplicable_parameters_are_named() {
    let (code, _, err) = heartbeat(
        &url("/%2f?socket_timeout=5&cacertfile=/etc/ca.pem&heartbeat=5"),
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("does not know: socket_timeout"), "{err}");
    assert!(
        err.contains("only of use for amqps://): cacertfile"),
        "{err}"
    );
}

#[test]
fn a_trailing_slash_names_the_empty_vhost() {
    // RabbitMQ has no vhost "": the login is refused for it, and the
    // warning said why before anything was sent.
    let (code, _, err) = heartbeat(&url("/"), &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("empty vhost"), "{err}");
    assert!(err.contains("vhost_not_allowed"), "{err}");
}

#[test]
fn bad_parameters_are_usage_errors_without_the_password() {
    for q in [
        "?heartbeat=soon",
        "?frame_max=100",
        "?auth_mechanism=kerberos",
    ] {
        let out = common::amqpdoctor()
            .args([
                "heartbeat",
                &format!("amqp://u:S3cr3tPw@127.0.0.1:1/%2f{q}"),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{q}: {err}");
        assert!(!err.contains("S3cr3tPw"), "{q}: {err}");
        let name = q.trim_start_matches('?').split('=').next().unwrap();
        assert!(err.contains(name), "{q}: {err}");
    }
}

/// A server that offers only AMQPLAIN; what the client sent in Start-Ok
/// comes out of the channel.
fn amqplain_only() -> (String, mpsc::Receiver<Option<(u16, AMQPClass)>>) {
    let (tx, rx) = mpsc::channel();
    let addr = serve(move |mut c| {
        skip(&mut c, 8);
        send(
            &mut c,
            fake::start("RabbitMQ", "3.10.8", "Erlang", "AMQPLAIN"),
        );
        let _ = tx.send(fake::next_method(&mut c));
        send(&mut c, fake::tune(131_072, 60));
        fake::read_frame(&mut c);
        fake::read_frame(&mut c);
        send(&mut c, fake::open_ok());
        let _ = fake::next_method(&mut c);
    });
    (addr, rx)
}

#[test]
fn amqplain_when_the_url_asks_for_it() {
    // PLAIN (the default) is refused: nothing to log in with.
    let (addr, rx) = amqplain_only();
    let out = common::amqpdoctor()
        .args(["heartbeat", &addr, "--connect-timeout", "2s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AMQPLAIN"));
    let _ = rx.recv();
    // With auth_mechanism=amqplain it logs in with AMQPLAIN.
    let (addr, rx) = amqplain_only();
    let out = common::amqpdoctor()
        .args(["heartbeat", &format!("{addr}?auth_mechanism=amqplain")])
        .args(["--connect-timeout", "2s"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let Some((0, AMQPClass::Connection(connection::AMQPMethod::StartOk(ok)))) = rx.recv().unwrap()
    else {
        panic!("no Start-Ok");
    };
    assert_eq!(ok.mechanism.as_str(), "AMQPLAIN");
    // The response is an AMQP table body: LOGIN and PASSWORD as long strings.
    let response = ok.response.to_string();
    assert!(
        response.contains("LOGIN") && response.contains("PASSWORD"),
        "{response:?}"
    );
    assert!(response.contains("guest"), "{response:?}");
}
