//! The metrics of a [`Snapshot`], rendered (pure). Every name is
//! `amqpdoctor_…` in base units; docs/serve.md lists each.

use std::collections::{BTreeMap, BTreeSet};

use super::exposition::{Family, Flavor};
use super::{CheckState, ConnState, ScanState, Snapshot, OTHER, PROCESSES_MAX};
use crate::report::check::{render_prometheus, CheckReport};
use crate::vocab::scan::Classification;

/// The exposition text of everything the snapshot holds.
pub fn render(snap: &Snapshot, flavor: Flavor) -> String {
    let mut out = String::new();
    let mut build = Family::gauge(
        "amqpdoctor_build_info",
        "The amqpdoctor version serving these metrics (always 1).",
    );
    build.push(&[("version", env!("CARGO_PKG_VERSION"))], 1.0);
    let mut start = Family::gauge(
        "amqpdoctor_start_time_seconds",
        "When serve started, seconds since the Unix epoch.",
    );
    start.push(&[], snap.started_unix_s);
    let mut families = vec![build, start];
    if let Some(s) = &snap.scan {
        families.extend(scan_families(s));
    }
    if let Some(c) = &snap.check {
        families.extend(check_counters(c));
    }
    if let Some(a) = &snap.audit {
        families.extend(a.families());
    }
    if let Some(l) = &snap.logs {
        families.extend(l.families());
    }
    for f in &families {
        f.write(&mut out, flavor);
    }
    if let Some(c) = &snap.check {
        out.push_str(&check_gauges(c));
    }
    if flavor == Flavor::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// Connections in trouble first, so a cap keeps the ones that matter.
fn rank(c: Classification) -> u8 {
    match c {
        Classification::Starving => 0,
        Classification::Dead => 1,
        Classification::HeartbeatsOff => 2,
        Classification::Unknown => 3,
        Classification::Healthy => 4,
    }
}

/// Process names as labelled: the first [`PROCESSES_MAX`] (by name) keep
/// theirs, the rest are [`OTHER`].
pub fn kept_processes<'a>(names: impl Iterator<Item = &'a str>) -> BTreeSet<&'a str> {
    names
        .collect::<BTreeSet<_>>()
        .into_iter()
        .take(PROCESSES_MAX)
        .collect()
}

fn scan_families(s: &ScanState) -> Vec<Family> {
    let mut up = Family::gauge(
        "amqpdoctor_scan_up",
        "1 when the last reading of the kernel's socket table succeeded.",
    );
    up.push(&[], f64::from(u8::from(s.up)));
    let mut samples = Family::counter(
        "amqpdoctor_scan_samples_total",
        "Readings of the socket table (one every 250 ms).",
    );
    samples.push(&[], s.samples_total as f64);
    let mut errors = Family::counter(
        "amqpdoctor_scan_errors_total",
        "Readings of the socket table that failed.",
    );
    errors.push(&[], s.errors_total as f64);
    let mut took = Family::gauge(
        "amqpdoctor_scan_sample_duration_seconds",
        "How long the last reading of the socket table took.",
    );
    took.push(&[], s.sample_seconds);
    let mut untracked = Family::gauge(
        "amqpdoctor_scan_untracked_sockets",
        "AMQP sockets over the tracking limit in the last reading (not followed).",
    );
    untracked.push(&[], s.untracked as f64);
    let mut out = vec![up, samples, errors, took, untracked];
    out.push(aggregates(&s.connections));
    out.extend(per_connection(s));
    let mut deaths = Family::counter(
        "amqpdoctor_scan_deaths_total",
        "Connections that died (left the socket table or were half-closed), by process and \
         whether they died inside the broker's heartbeat window [2T, 3T] after the \
         application's last byte (unknown: they were not starving).",
    );
    for ((process, in_window), n) in &s.deaths {
        deaths.push(&[("process", process), ("in_window", in_window)], *n as f64);
    }
    out.push(deaths);
    out
}

fn aggregates(conns: &[ConnState]) -> Family {
    let kept = kept_processes(conns.iter().map(|c| &*c.process));
    let mut counts: BTreeMap<(&str, String), u64> = BTreeMap::new();
    for c in conns {
        let p = if kept.contains(&*c.process) {
            &*c.process
        } else {
            OTHER
        };
        *counts.entry((p, c.classification.to_string())).or_default() += 1;
    }
    let mut f = Family::gauge(
        "amqpdoctor_scan_connections",
        "AMQP connections on this host now, by classification and process name.",
    );
    for ((process, class), n) in &counts {
        f.push(
            &[("classification", class), ("process", process)],
            *n as f64,
        );
    }
    f
}

fn per_connection(s: &ScanState) -> Vec<Family> {
    let mut ranked: Vec<&ConnState> = s.connections.iter().collect();
    ranked.sort_by(|a, b| {
        (rank(a.classification), &a.process, &a.remote, &a.local).cmp(&(
            rank(b.classification),
            &b.process,
            &b.remote,
            &b.local,
        ))
    });
    let listed = ranked.len().min(s.max_connection_series);
    let mut class = Family::gauge(
        "amqpdoctor_scan_connection_classification",
        "One connection's classification (always 1): healthy, starving, heartbeats_off, dead \
         or unknown.",
    );
    let mut hb = Family::gauge(
        "amqpdoctor_scan_connection_heartbeat_seconds",
        "The heartbeat T read from the broker's heartbeats (absent until two came).",
    );
    let mut silence = Family::gauge(
        "amqpdoctor_scan_connection_silence_seconds",
        "How long since the application sent (direction=sent) or received (received) a byte.",
    );
    for c in &ranked[..listed] {
        let pid = c.pid.map_or_else(String::new, |p| p.to_string());
        let (local, remote) = (c.local.to_string(), c.remote.to_string());
        let id = [
            ("pid", pid.as_str()),
            ("process", &*c.process),
            ("local", local.as_str()),
            ("remote", remote.as_str()),
        ];
        let class_name = c.classification.to_string();
        let mut with_class = id.to_vec();
        with_class.push(("classification", &class_name));
        class.push(&with_class, 1.0);
        if let Some(t) = c.heartbeat_s {
            hb.push(&id, f64::from(t));
        }
        for (dir, ms) in [
            ("sent", c.silence_sent_ms),
            ("received", c.silence_received_ms),
        ] {
            let mut l = id.to_vec();
            l.push(("direction", dir));
            silence.push(&l, ms as f64 / 1000.0);
        }
    }
    let mut dropped = Family::gauge(
        "amqpdoctor_scan_connection_series_dropped",
        "Connections now left out of the per-connection series (over \
         --max-connection-series); they are still in amqpdoctor_scan_connections.",
    );
    dropped.push(&[], (ranked.len() - listed) as f64);
    vec![class, hb, silence, dropped]
}

fn check_counters(c: &CheckState) -> Vec<Family> {
    let mut runs = Family::counter(
        "amqpdoctor_check_runs_total",
        "Checks of each target since serve started, by result (passed or failed).",
    );
    let mut last = Family::gauge(
        "amqpdoctor_check_last_run_timestamp_seconds",
        "When the target's last check ended, seconds since the Unix epoch.",
    );
    for t in &c.targets {
        runs.push(
            &[("target", &t.label), ("result", "passed")],
            t.passed_total as f64,
        );
        runs.push(
            &[("target", &t.label), ("result", "failed")],
            t.failed_total as f64,
        );
        if let Some(at) = t.last_run_unix_s {
            last.push(&[("target", &t.label)], at);
        }
    }
    vec![runs, last]
}

/// The last check of every target, in the families `check --format
/// prometheus` writes (one renderer for both).
fn check_gauges(c: &CheckState) -> String {
    let targets: Vec<_> = c.targets.iter().filter_map(|t| t.last.clone()).collect();
    if targets.is_empty() {
        return String::new();
    }
    let r = CheckReport::new(
        String::new(),
        c.settings.clone(),
        targets,
        std::time::Duration::ZERO,
        false,
    );
    render_prometheus(&r)
}
