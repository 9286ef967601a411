//! `amqpdoctor audit` on an AMQP 0-8 connection: a real py-amqplib
//! (amqplib 1.0.2 from PyPI, which `.ci/broker` installs and converts with
//! 2to3 as its own setup.py would) connected to the real broker and read
//! back through the management API. RabbitMQ 3.x reads its protocol
//! header as 0-8 and keeps heartbeats off (the library answers Tune with
//! 0); audit must say both, and that RabbitMQ 4.0 refuses the protocol.
//!
//! Parallel-safe: only the connection whose name carries this process's
//! pid is looked at.

mod common;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::pika::start_ready;
use common::run::json_of;
use common::{amqpdoctor, broker_host_port, require_broker};
use serde_json::Value;

/// A running amqplib_app.py (killed when dropped).
struct Amqplib {
    child: Child,
    local_port: u16,
}

impl Drop for Amqplib {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(name: &str) -> Amqplib {
    require_broker();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/amqplib_app.py");
    let mut cmd = Command::new(common::fixture::python());
    cmd.args([script, &broker_host_port(), name]);
    let (child, local_port) = start_ready(cmd, "amqplib_app.py");
    Amqplib { child, local_port }
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
    assert_eq!(c["peer"], format!("127.0.0.1:{}", app.local_port));
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
            app.local_port
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
