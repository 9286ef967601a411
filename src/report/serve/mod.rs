//! `serve`'s view: the [`Snapshot`] the collectors keep up to date, the
//! metrics it is rendered to on every scrape (pure: [`metrics`]), and the
//! answer to each request ([`respond`]: routes, the credentials, the
//! format the scraper asked for).
//!
//! Cardinality is bounded by design: aggregates are by classification and
//! process name (at most [`PROCESSES_MAX`] names; the rest are `other`),
//! per-connection series only for the first `max_connection_series`
//! connections (the ones in trouble first), and a gauge says how many were
//! left out. No label carries a password or a URL's user: check targets
//! are labelled `scheme://host:port/vhost`, processes by program name.

mod audit;
pub mod exposition;
mod logs;
mod metrics;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::classify::scan::Inference;
use crate::report::check::{CheckSettings, TargetReport};
use crate::run::serve::http::{same_secret, Request, Response};
use crate::vocab::scan::{Classification, Owner, Track};
pub use audit::AuditState;
use exposition::Flavor;
pub use logs::LogsState;
pub use metrics::render;

/// At most this many process names in the aggregates and death counts.
pub const PROCESSES_MAX: usize = 100;

/// The name a process is labelled with in place of names past
/// [`PROCESSES_MAX`].
pub const OTHER: &str = "other";

/// Everything the collectors know, as of their last reading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// When serve started, seconds since the Unix epoch.
    pub started_unix_s: f64,
    pub scan: Option<ScanState>,
    pub check: Option<CheckState>,
    pub audit: Option<AuditState>,
    pub logs: Option<LogsState>,
}

/// The scan collector's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanState {
    /// Whether the last reading of the socket table succeeded.
    pub up: bool,
    pub samples_total: u64,
    pub errors_total: u64,
    /// How long the last reading took.
    pub sample_seconds: f64,
    /// Connections now, each with what its bytes showed.
    pub connections: Vec<ConnState>,
    /// Deaths seen: (process, died in the broker's window: true, false or
    /// unknown) → count.
    pub deaths: BTreeMap<(String, &'static str), u64>,
    /// Sockets over the tracking limit in the last reading.
    pub untracked: usize,
    /// Per-connection series at most.
    pub max_connection_series: usize,
}

/// One connection as the scan collector last saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnState {
    pub pid: Option<u32>,
    /// Shared among the connections of one process (no copy per reading).
    pub process: Arc<str>,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub classification: Classification,
    pub heartbeat_s: Option<u16>,
    /// How long since the application last sent / received a byte.
    pub silence_sent_ms: u64,
    pub silence_received_ms: u64,
}

impl ConnState {
    /// `process`: the owner's [`process_name`] (the caller keeps one per
    /// process).
    pub fn of(t: &Track, owner: Option<&Owner>, process: Arc<str>, inf: &Inference) -> Self {
        ConnState {
            pid: owner.map(|o| o.pid),
            process,
            local: t.local,
            remote: t.remote,
            classification: inf.classification,
            heartbeat_s: inf.heartbeat_s,
            silence_sent_ms: u64::from(t.last.last_data_sent_ms),
            silence_received_ms: u64::from(t.last.last_data_recv_ms),
        }
    }
}

/// The check collector's state.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckState {
    pub settings: CheckSettings,
    pub targets: Vec<CheckTargetState>,
}

/// One check target: its last report and how its runs went.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckTargetState {
    /// `scheme://host:port/vhost`: no user, no password.
    pub label: String,
    pub last: Option<TargetReport>,
    pub passed_total: u64,
    pub failed_total: u64,
    pub last_run_unix_s: Option<f64>,
}

/// Interpreters whose first argument names the program better than they do.
const INTERPRETERS: &[&str] = &[
    "python", "python2", "python3", "node", "ruby", "perl", "php", "java", "dotnet", "bash", "sh",
    "bun", "deno", "pypy", "pypy3", "uv", "poetry", "gunicorn", "celery", "uwsgi",
];

/// A process's label: its program's file name, and for an interpreter the
/// file name of its first non-option argument (`python3 app.py`); at most
/// 64 characters. From the redacted command line, so never a password.
pub fn process_name(command: &str) -> String {
    let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_string();
    let mut words = command.split_whitespace();
    let Some(first) = words.next() else {
        return "unknown".into();
    };
    // `[comm]`: a process without a command line (scan writes its name so).
    let program = if first.starts_with('[') {
        first.to_string()
    } else {
        base(first)
    };
    let interp = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let mut name = if INTERPRETERS.contains(&program.as_str()) || INTERPRETERS.contains(&interp) {
        match words.find(|w| !w.starts_with('-')) {
            Some(arg) => format!("{program} {}", base(arg)),
            None => program,
        }
    } else {
        program
    };
    if name.chars().count() > 64 {
        name = name.chars().take(64).collect();
    }
    name
}

/// Who may read `/` and `/metrics`: nobody needs to say (both None), or
/// a client that sends the bearer token or the basic credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Auth {
    pub bearer: Option<String>,
    /// `user:password`, base64-encoded, as `Authorization: Basic` sends it.
    pub basic: Option<String>,
}

impl Auth {
    /// Whether `req` may pass (always, when nothing is required).
    pub fn allows(&self, req: &Request) -> bool {
        if self.bearer.is_none() && self.basic.is_none() {
            return true;
        }
        let Some(given) = req.header("authorization") else {
            return false;
        };
        let matches = |scheme: &str, want: &Option<String>| {
            want.as_ref().is_some_and(|w| {
                given
                    .strip_prefix(scheme)
                    .is_some_and(|g| same_secret(g.trim().as_bytes(), w.as_bytes()))
            })
        };
        matches("Bearer ", &self.bearer) || matches("Basic ", &self.basic)
    }

    fn challenge(&self) -> &'static str {
        if self.bearer.is_some() {
            "Bearer realm=\"amqpdoctor\""
        } else {
            "Basic realm=\"amqpdoctor\""
        }
    }
}

/// Answer one request: `/metrics`, `/healthz`, `/`; GET and HEAD only;
/// with `--bearer-token-file` or `--basic-auth-file`, the credentials on
/// everything but `/healthz` (a liveness probe has none).
pub fn respond(req: &Request, snap: &Snapshot, auth: &Auth) -> Response {
    if req.method != "GET" && req.method != "HEAD" {
        let mut r = Response::text(405, "only GET and HEAD\n");
        r.headers.push(("Allow", "GET, HEAD"));
        return r;
    }
    if req.path == "/healthz" {
        return Response::text(200, "ok\n");
    }
    if !auth.allows(req) {
        let mut r = Response::text(401, "credentials are required\n");
        r.headers.push(("WWW-Authenticate", auth.challenge()));
        return r;
    }
    match req.path.as_str() {
        "/metrics" => {
            let flavor = Flavor::from_accept(req.header("accept"));
            Response {
                status: 200,
                content_type: flavor.content_type(),
                headers: Vec::new(),
                body: render(snap, flavor).into_bytes(),
            }
        }
        "/" => Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            headers: Vec::new(),
            body: index(snap).into_bytes(),
        },
        _ => Response::text(404, "not found: try /metrics, /healthz or /\n"),
    }
}

/// The index page: links to both endpoints and which collectors run.
pub fn index(snap: &Snapshot) -> String {
    let mut collectors = Vec::new();
    if let Some(s) = &snap.scan {
        collectors.push(format!(
            "<li>scan: {} connections on this host</li>",
            s.connections.len()
        ));
    }
    if let Some(c) = &snap.check {
        collectors.push(format!("<li>check: {} targets</li>", c.targets.len()));
    }
    if let Some(a) = &snap.audit {
        collectors.push(format!(
            "<li>audit: {} connections listed by the broker</li>",
            a.by_library.values().sum::<u64>()
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>amqpdoctor serve</title></head>\n\
         <body><h1>amqpdoctor serve {}</h1>\n<ul><li><a href=\"/metrics\">/metrics</a></li>\
         <li><a href=\"/healthz\">/healthz</a></li></ul>\n<h2>Collectors</h2>\n<ul>{}</ul>\n\
         <p>Every metric is described in docs/serve.md.</p></body></html>\n",
        env!("CARGO_PKG_VERSION"),
        collectors.join("")
    )
}
