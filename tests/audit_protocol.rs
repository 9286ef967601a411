//! `amqpdoctor audit` on AMQP 0-8 connections of two real clients, read
//! back through the real broker's management API:
//! - py-amqplib (amqplib 1.0.2 from PyPI, which `.ci/broker` installs and
//!   converts with 2to3 as its own setup.py would): RabbitMQ 3.x reads its
//!   header as 0-8, and it answers Tune with 0, so heartbeats are off;
//! - Mono's own RabbitMQ.Client (Debian's libmono-rabbitmq4.0-cil), which
//!   defaults to 0-8 and names itself as the RabbitMQ .NET client does:
//!   audit must tell it from the .NET client by its protocol.
//!
//! Both must be told that RabbitMQ 4.0 refuses the protocol.
//!
//! Parallel-safe: only the connection whose name carries this process's
//! pid is looked at.

mod common;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::pika::{start_ready, start_ready_line};
use common::run::json_of;
use common::{amqpdoctor, broker_host_port, require_broker};
use serde_json::Value;

/// A running client application (killed when dropped).
struct ClientApp {
    child: Child,
    /// Its end of the connection, when it can tell.
    local_port: Option<u16>,
}

impl Drop for ClientApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(name: &str) -> ClientApp {
    require_broker();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/amqplib_app.py");
    let mut cmd = Command::new(common::fixture::python());
    cmd.args([script, &broker_host_port(), name]);
    let (child, local_port) = start_ready(cmd, "amqplib_app.py");
    ClientApp {
        child,
        local_port: Some(local_port),
    }
}

/// Mono's RabbitMQ.Client connected with heartbeat `t`.
fn start_mono(name: &str, t: u16) -> ClientApp {
    require_broker();
    let exe = common::fixture::mono_app();
    let hp = broker_host_port();
    let (host, port) = hp.rsplit_once(':').unwrap();
    let mut cmd = Command::new("mono");
    cmd.arg(&exe).args([host, port, name, &t.to_string()]);
    let (child, said) = start_ready_line(cmd, "mono_app.exe");
    assert_eq!(
        said,
        format!("AMQP_0_8 heartbeat {t}"),
        "Mono's client defaults to 0-8"
    );
    ClientApp {
        child,
        local_port: None,
    }
}

/// Our connection in `audit --format json`, once the API lists it.
fn audit_until_listed(name: &str) -> (Value, Value) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = amqpdoctor()
            .args(["audit", "--management", &common::management::url()])
            .args(["--format", "json"])
            .output()
            .unwrap();
        let doc = json_of(&out);
        let found = doc["connections"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["connection_name"] == name).cloned());
        if let Some(c) = found {
            return (doc, c);
        }
        assert!(
            Instant::now() < deadline,
            "the management API did not list {name} within 15 s:\n{doc:#}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn a_py_amqplib_connection_is_amqp_0_8_without_heartbeats() {
    common::management::require();
    let name = format!("amqpdoctor-audit-0-8-{}", std::process::id());
    let app = start(&name);
    let (doc, c) = audit_until_listed(&name);

    assert_eq!(doc["exit_code"], 1, "heartbeat 0 is flagged: {c:#}");
    assert_eq!(c["protocol"], "AMQP 0-8", "{c:#}");
    assert_eq!(c["client_product"], "Python amqplib", "{c:#}");
    assert_eq!(c["client_version"], "1.0.2", "{c:#}");
    assert_eq!(c["library"], "py-amqplib", "{c:#}");
    assert_eq!(c["heartbeat_s"], 0, "{c:#}");
    assert_eq!(c["peer"], format!("127.0.0.1:{}", app.local_port.unwrap()));
    let strings = |k: &str| -> Vec<String> {
        c[k].as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(strings("flags"), ["heartbeat_off"], "{c:#}");
    let advice = strings("advice");
    assert!(
        advice
            .iter()
            .any(|a| a.starts_with("py-amqplib cannot have heartbeats")),
        "{advice:#?}"
    );
    assert!(
        advice.iter().any(|a| a.starts_with(&format!(
            "127.0.0.1:{} speaks AMQP 0-8, not 0-9-1: RabbitMQ 4.0 and later refuse",
            app.local_port.unwrap()
        ))),
        "{advice:#?}"
    );
    // The human report says it too.
    let out = amqpdoctor()
        .args(["audit", "--management", &common::management::url()])
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(human.contains("speaks AMQP 0-8"), "{human}");
    drop(app);
}

#[test]
fn monos_rabbitmq_client_is_told_from_the_dotnet_client_by_its_protocol() {
    common::management::require();
    let name = format!("amqpdoctor-audit-mono-{}", std::process::id());
    let _app = start_mono(&name, 10);
    let (_, c) = audit_until_listed(&name);

    assert_eq!(c["protocol"], "AMQP 0-8", "{c:#}");
    // It names itself as the .NET client does (product RabbitMQ, platform
    // .NET, its assembly version 4.0.0.0) ...
    assert_eq!(c["client_product"], "RabbitMQ", "{c:#}");
    assert_eq!(c["client_version"], "4.0.0.0", "{c:#}");
    // ... and only the protocol tells it apart.
    assert_eq!(c["library"], "dotnet-mono", "{c:#}");
    assert_eq!(c["heartbeat_s"], 10, "{c:#}");
    let advice = c["advice"].to_string();
    assert!(
        advice.contains("speaks AMQP 0-8, not 0-9-1: RabbitMQ 4.0 and later refuse"),
        "{c:#}"
    );
    assert!(
        !advice.contains("heartbeat 0 from"),
        "heartbeats are on (T = 10 s): {c:#}"
    );
}
