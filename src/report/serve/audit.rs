//! The audit collector's state and metrics: the broker's view of its
//! connections (the management API, as `audit` reads it), counted by
//! client library and flag, so the series stay few however many
//! connections the broker has.

use std::collections::BTreeMap;

use super::exposition::Family;
use super::{OTHER, PROCESSES_MAX};
use crate::report::audit::AuditReport;

/// The audit collector's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditState {
    /// The management API without credentials (`http://host:15672`).
    pub broker: String,
    /// Whether the last read succeeded.
    pub up: bool,
    pub passed_total: u64,
    pub failed_total: u64,
    pub last_duration_s: f64,
    /// Connections by client library (the `explain` topic; `unknown`).
    pub by_library: BTreeMap<String, u64>,
    /// Connections by (flag, library).
    pub flagged: BTreeMap<(&'static str, String), u64>,
    /// Connections by negotiated heartbeat, seconds (`0`: off).
    pub by_heartbeat: BTreeMap<u16, u64>,
}

impl AuditState {
    /// Take in a successful read.
    pub fn record(&mut self, r: &AuditReport, took_s: f64) {
        self.up = true;
        self.passed_total += 1;
        self.last_duration_s = took_s;
        self.by_library.clear();
        self.flagged.clear();
        self.by_heartbeat.clear();
        for c in &r.connections {
            let lib = c.library.clone().unwrap_or_else(|| "unknown".into());
            let lib = if self.by_library.len() < PROCESSES_MAX || self.by_library.contains_key(&lib)
            {
                lib
            } else {
                OTHER.to_string()
            };
            *self.by_library.entry(lib.clone()).or_default() += 1;
            for f in &c.flags {
                *self.flagged.entry((f.as_str(), lib.clone())).or_default() += 1;
            }
            if let Some(hb) = c.heartbeat_s {
                // At most 65,536 values (a u16): bounded, and few in practice.
                *self.by_heartbeat.entry(hb.secs()).or_default() += 1;
            }
        }
    }

    /// Take in a failed read: the last counts stay, `up` says they are old.
    pub fn failed(&mut self) {
        self.up = false;
        self.failed_total += 1;
    }

    pub fn families(&self) -> Vec<Family> {
        let b = self.broker.as_str();
        let mut up = Family::gauge(
            "amqpdoctor_audit_up",
            "1 when the last read of the management API succeeded.",
        );
        up.push(&[("broker", b)], f64::from(u8::from(self.up)));
        let mut runs = Family::counter(
            "amqpdoctor_audit_runs_total",
            "Reads of the management API, by result (passed or failed).",
        );
        runs.push(
            &[("broker", b), ("result", "passed")],
            self.passed_total as f64,
        );
        runs.push(
            &[("broker", b), ("result", "failed")],
            self.failed_total as f64,
        );
        let mut took = Family::gauge(
            "amqpdoctor_audit_duration_seconds",
            "How long the last read of the management API took.",
        );
        took.push(&[("broker", b)], self.last_duration_s);
        let mut libs = Family::gauge(
            "amqpdoctor_audit_connections",
            "Client connections the broker lists, by client library (an explain topic).",
        );
        for (lib, n) in &self.by_library {
            libs.push(&[("broker", b), ("library", lib)], *n as f64);
        }
        let mut flagged = Family::gauge(
            "amqpdoctor_audit_flagged_connections",
            "Connections the audit flags, by flag (heartbeat_off, silent_longer_than_t, \
             blocked) and client library.",
        );
        for ((flag, lib), n) in &self.flagged {
            flagged.push(
                &[("broker", b), ("flag", flag), ("library", lib)],
                *n as f64,
            );
        }
        let mut hb = Family::gauge(
            "amqpdoctor_audit_connections_by_heartbeat",
            "Connections by their negotiated heartbeat in seconds (label heartbeat_seconds; 0 \
             is off).",
        );
        for (t, n) in &self.by_heartbeat {
            hb.push(
                &[("broker", b), ("heartbeat_seconds", &t.to_string())],
                *n as f64,
            );
        }
        vec![up, runs, took, libs, flagged, hb]
    }
}
