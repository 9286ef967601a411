//! Misbehaving servers on 127.0.0.1:0 (mini-redis's start_server pattern):
//! a server that never speaks, one that speaks HTTP, one that closes at
//! once. Each must end in a classified exit 3, never a hang or a panic.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use common::amqpdoctor;
use serde_json::Value;

/// Serve one connection with `behave`, return the URL to reach it.
fn start_server(behave: fn(std::net::TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        if let Ok((conn, _)) = listener.accept() {
            behave(conn);
        }
    });
    format!("amqp://guest:guest@127.0.0.1:{port}/%2f")
}

fn probe_against(url: &str) -> (i32, Value) {
    let out = amqpdoctor()
        .args(["probe", url, "--connect-timeout", "1s", "--format", "json"])
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), common::run::json_of(&out))
}

#[test]
fn a_silent_server_is_a_handshake_timeout() {
    let url = start_server(|c| {
        thread::sleep(Duration::from_secs(5));
        drop(c);
    });
    let (code, doc) = probe_against(&url);
    assert_eq!(code, 3, "{doc:#}");
    assert_eq!(doc["setup_failure"]["code"], "timeout");
    assert_eq!(doc["setup_failure"]["stage"], "handshake");
}

#[test]
fn an_http_server_is_a_protocol_mismatch() {
    let url = start_server(|mut c| {
        let mut buf = [0u8; 8];
        let _ = c.read(&mut buf);
        let _ = c.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        thread::sleep(Duration::from_millis(500));
    });
    let (code, doc) = probe_against(&url);
    assert_eq!(code, 3, "{doc:#}");
    assert_eq!(doc["setup_failure"]["code"], "protocol_mismatch");
    assert!(doc["setup_failure"]["message"]
        .as_str()
        .unwrap()
        .contains("HTTP/1.1"));
    assert_eq!(doc["setup_failure"]["peer_answered"], "http");
}

#[test]
fn an_amqp_1_0_listener_is_named() {
    // What an AMQP 1.0-only broker answers a 0-9-1 header with: its own
    // SASL header (ActiveMQ Artemis, Qpid; AMQP 1.0 spec, part 5.3.1).
    let url = start_server(|mut c| {
        let mut buf = [0u8; 8];
        let _ = c.read(&mut buf);
        let _ = c.write_all(b"AMQP\x03\x01\x00\x00");
        thread::sleep(Duration::from_millis(500));
    });
    let (code, doc) = probe_against(&url);
    assert_eq!(code, 3, "{doc:#}");
    assert_eq!(doc["setup_failure"]["code"], "protocol_mismatch");
    assert_eq!(doc["setup_failure"]["peer_answered"], "amqp10", "{doc:#}");
    let run = &doc["runs"][0]["verdict"];
    assert!(run["remedy"].to_string().contains("AMQP 1.0"), "{doc:#}");
    assert!(
        !run["explanation"].to_string().contains("Nom("),
        "a parser's Debug print: {doc:#}"
    );
}

#[test]
fn a_server_that_hangs_up_at_once_is_classified() {
    let url = start_server(drop);
    let (code, doc) = probe_against(&url);
    assert_eq!(code, 3, "{doc:#}");
    let got = doc["setup_failure"]["code"].as_str().unwrap().to_string();
    assert!(
        ["peer_closed", "peer_reset"].contains(&got.as_str()),
        "{got}"
    );
}

#[test]
fn heartbeat_against_a_refused_port_exits_3_naming_the_errno() {
    let port = {
        // Bind and release a port so nothing listens there.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = amqpdoctor()
        .args(["heartbeat", &format!("amqp://u:pw-xyz@127.0.0.1:{port}/")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("ECONNREFUSED"), "{text}");
    assert!(!text.contains("pw-xyz"));
}
