//! Reports and their renderers (`Report -> String`), and the one path by
//! which any command's output reaches stdout ([`emit`]).
//!
//! [`Report`] serializes to the JSON contract in docs/json.md; `human`
//! renders the same data for a terminal. Apart from [`emit`] and
//! [`progress`] (stderr), nothing here does I/O.

pub(crate) mod audit;
pub(crate) mod check;
pub(crate) mod explain;
pub(crate) mod explain_json;
pub(crate) mod explain_paste;
pub(crate) mod format;
pub(crate) mod heartbeat;
pub(crate) mod idle;
pub(crate) mod json;
pub(crate) mod junit;
pub(crate) mod logs;
pub(crate) mod probe;
pub(crate) mod progress;
pub(crate) mod proxy;
pub(crate) mod scan;
pub(crate) mod serve;
pub(crate) mod style;
pub(crate) mod tls;

use std::io::Write;

use serde::Serialize;

use crate::vocab::Heartbeat;
use crate::wire::ServerInfo;

pub use probe::{probe_exit, ProbeSettings, Report, Run};

/// Write a rendered report to stdout. A closed pipe (`amqpdoctor … | head
/// -1`) ends the output quietly: the reader has what it wanted, and the
/// exit status stays the diagnosis's.
pub fn emit(bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes.as_ref()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// One line on stderr, for notices while a command runs. Never panics (an
/// `eprintln!` would, on a closed stderr).
pub fn notice(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "amqpdoctor: {line}");
}

/// The "tool, version, command, target" header every JSON report starts with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Header {
    pub tool: &'static str,
    pub version: &'static str,
    pub command: &'static str,
    /// The target URL with the password replaced by `***`.
    pub target: String,
    /// How TLS was set up for an `amqps://` target; null for `amqp://`.
    pub tls: Option<TlsInfo>,
}

/// TLS as asked for (what was negotiated is in the timeline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsInfo {
    /// The name the server's certificate was verified for (and SNI).
    pub server_name: String,
    /// False with `--insecure` / `verify=verify_none`.
    pub verified: bool,
    /// The CA file trusted; null: the system's roots.
    pub cacert: Option<String>,
    /// Whether a client certificate was offered.
    pub client_certificate: bool,
    /// The family whose rules decide a certificate rustls refuses
    /// (`--tls-as`).
    pub tls_as: crate::vocab::tls::TlsFamily,
    /// Set when rustls refused the certificate and the run went on because
    /// that family accepts it (`verified` is then false): what was
    /// accepted and which families would refuse it.
    pub accepted: Option<crate::vocab::tls::TlsLeniency>,
}

impl TlsInfo {
    pub fn of(t: &crate::target::Target) -> Option<Self> {
        t.tls().map(|s| TlsInfo {
            server_name: t.tls_server_name().to_string(),
            verified: !s.insecure,
            cacert: s.cacert.as_ref().map(|p| p.display().to_string()),
            client_certificate: s.cert.is_some(),
            tls_as: s.tls_as.unwrap_or_default(),
            accepted: None,
        })
    }

    /// Record that rustls refused the certificate and the run went on.
    pub fn accept(&mut self, l: Option<&crate::vocab::tls::TlsLeniency>) {
        if let Some(l) = l {
            self.verified = false;
            self.accepted = Some(l.clone());
        }
    }
}

impl Header {
    pub fn new(command: &'static str, target: String) -> Self {
        Header {
            tool: "amqpdoctor",
            version: env!("CARGO_PKG_VERSION"),
            command,
            target,
            tls: None,
        }
    }

    /// Record that the connection of `tl` went on although rustls refused
    /// the server's certificate (see [`TlsInfo::accept`]).
    pub fn accept_tls(&mut self, tl: &crate::timeline::Timeline) {
        if let Some(t) = self.tls.as_mut() {
            t.accept(tl.tls_accepted.as_ref());
        }
    }

    /// The header for a command against `t` (its TLS settings included).
    pub fn for_target(command: &'static str, t: &crate::target::Target) -> Self {
        Header {
            tls: TlsInfo::of(t),
            ..Header::new(command, t.to_string())
        }
    }
}

/// The first line of a human report (`amqpdoctor <command> <target>`),
/// and, when the run could not get going, the failure under it: the
/// report ends there (the second value is true).
pub fn title(
    header: &Header,
    setup_failure: Option<&crate::classify::SetupFailure>,
    style: style::Style,
) -> (String, bool) {
    let mut out = format!(
        "{} {}\n",
        style.bold(&format!("amqpdoctor {}", header.command)),
        style::clean(&header.target)
    );
    if let Some(f) = setup_failure {
        out.push_str(&style.bad(&format!(
            "could not diagnose: {} during the {}\n",
            f.code, f.stage
        )));
        out.push_str(&style::wrap(&f.message, style::WIDTH, "  "));
        return (out, true);
    }
    (out, false)
}

/// What the server said about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerSummary {
    pub product: Option<String>,
    pub version: Option<String>,
    pub platform: Option<String>,
    pub cluster_name: Option<String>,
    /// Connection.Tune's heartbeat: what the server proposes to every client.
    pub proposed_heartbeat_s: Option<Heartbeat>,
    pub frame_max: Option<u32>,
    pub channel_max: Option<u16>,
    pub capabilities: Vec<String>,
    pub mechanisms: Vec<String>,
}

/// Connection.Tune as the server proposed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tune {
    pub heartbeat: Heartbeat,
    pub frame_max: u32,
    pub channel_max: u16,
}

impl ServerSummary {
    pub fn new(info: &ServerInfo, tune: Option<Tune>) -> Self {
        ServerSummary {
            product: info.product.clone(),
            version: info.version.clone(),
            platform: info.platform.clone(),
            cluster_name: info.cluster_name.clone(),
            proposed_heartbeat_s: tune.map(|t| t.heartbeat),
            frame_max: tune.map(|t| t.frame_max),
            channel_max: tune.map(|t| t.channel_max),
            capabilities: info
                .capabilities
                .iter()
                .filter(|(_, on)| *on)
                .map(|(k, _)| k.clone())
                .collect(),
            mechanisms: info.mechanisms.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
