//! A 0-9-1 broker without RabbitMQ's extensions (no capabilities at all, so
//! no publisher confirms): the probe takes the plain-spec path and says so,
//! instead of failing the run or calling the messages lost.

mod common;

use common::fake::{plain_spec_broker, serve_many};
use common::run::json_of;
use serde_json::Value;

#[test]
fn a_probe_without_publisher_confirms_degrades_with_a_note() {
    let url = serve_many(plain_spec_broker);
    let out = common::amqpdoctor()
        .args([
            "probe",
            &url,
            "--mode",
            "starved,disabled",
            "--heartbeat",
            "0",
        ])
        .args([
            "--idle",
            "0s",
            "--confirm-timeout",
            "1s",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let doc: Value = json_of(&out);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert!(
        doc["server"]["capabilities"].as_array().unwrap().is_empty(),
        "{doc:#}"
    );
    for run in doc["runs"].as_array().unwrap() {
        assert_eq!(run["verdict"]["code"], "healthy", "{run:#}");
        assert!(
            run["notes"]
                .to_string()
                .contains("does not announce publisher_confirms"),
            "{run:#}"
        );
        for p in run["publishes"].as_array().unwrap() {
            assert_eq!(p["write"], "ok", "{p:#}");
            assert_eq!(p["outcome"], "unknown", "{p:#}");
        }
        // No Confirm.Select was sent: the timeline has no confirm at all.
        assert!(!run["events"].to_string().contains("confirmed"), "{run:#}");
        assert!(
            !run["events"].to_string().contains("Confirm.Select"),
            "{run:#}"
        );
    }
}
