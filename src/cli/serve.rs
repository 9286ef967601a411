//! `amqpdoctor serve`'s flags: where to listen, which collectors to run and
//! how often, and the endpoint's bearer token.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use super::{parse_heartbeat, parse_positive_duration, TlsArgs};
use crate::vocab::HeartbeatRequest;

/// The default address: loopback only (binding anything else is said).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9464";

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to serve /metrics, /healthz and / on. Loopback by default; any other address
    /// is said on stderr. Port 0 picks a free port (the address bound is said on stderr).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// Collect this host's AMQP connections, as `scan --watch` does, continuously (a reading
    /// every 250 ms): classification, inferred heartbeat, silence each way, deaths.
    #[arg(long)]
    pub scan: bool,

    /// With --scan: peer ports that mark a socket as AMQP, comma-separated.
    #[arg(
        long,
        value_name = "PORTS",
        value_delimiter = ',',
        default_value = "5672,5671"
    )]
    pub port: Vec<u16>,

    /// With --scan: the largest heartbeat expected on this host (a connection silent both
    /// ways for more than half of it has heartbeats off).
    #[arg(long, value_name = "DUR", default_value = "120s", value_parser = parse_positive_duration)]
    pub max_heartbeat: Duration,

    /// With --scan: per-connection series for at most N connections (starving, dead and
    /// heartbeat-less ones first); the rest are only in the aggregates, and counted.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub max_connection_series: usize,

    /// Smoke-check these broker URLs (as `check` does) every --check-every.
    #[arg(long = "check", value_name = "URL", num_args = 1..)]
    pub check: Vec<String>,

    /// Read more check URLs from FILE: one per line; blank lines and `#` comments are skipped.
    #[arg(long, value_name = "FILE")]
    pub targets_file: Option<std::path::PathBuf>,

    /// How often to check the --check targets.
    #[arg(long, value_name = "DUR", default_value = "30s", value_parser = parse_positive_duration)]
    pub check_every: Duration,

    /// Timeout for each step of a check [default: each URL's connection_timeout=, else 5s].
    #[arg(long, value_name = "DUR", value_parser = parse_positive_duration)]
    pub connect_timeout: Option<Duration>,

    /// Heartbeat the checks request: whole seconds, 0, or "server" [default: each URL's
    /// heartbeat=, else server].
    #[arg(long, value_name = "DUR|0|server", value_parser = parse_heartbeat)]
    pub heartbeat: Option<HeartbeatRequest>,

    /// Read the password for every check target from FILE (its first line), not argv.
    #[arg(long, value_name = "FILE", env = "AMQPDOCTOR_PASSWORD_FILE")]
    pub password_file: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub tls: TlsArgs,

    /// Read the RabbitMQ management API at URL (as `audit` does) every --audit-every: the
    /// broker's view of every connection, counted by client library and flag.
    #[arg(long, value_name = "URL")]
    pub audit: Option<String>,

    /// How often to read the management API.
    #[arg(long, value_name = "DUR", default_value = "60s", value_parser = parse_positive_duration)]
    pub audit_every: Duration,

    /// Timeout for each management API request.
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = parse_positive_duration)]
    pub audit_timeout: Duration,

    /// Read the management API's password from FILE (its first line), not argv.
    #[arg(long, value_name = "FILE")]
    pub audit_password_file: Option<std::path::PathBuf>,

    /// Follow the broker's log FILE (or a directory of logs), as `logs --follow` reads it,
    /// and count connection ends by cause and peer host (repeatable).
    #[arg(long, value_name = "FILE")]
    pub logs: Vec<std::path::PathBuf>,

    /// Require `Authorization: Bearer TOKEN` on / and /metrics, TOKEN being the first line
    /// of FILE (/healthz stays open for liveness probes).
    #[arg(long, value_name = "FILE")]
    pub bearer_token_file: Option<std::path::PathBuf>,

    /// Require HTTP basic auth on / and /metrics, with the `user:password` of FILE's first
    /// line (with --bearer-token-file, either is accepted; /healthz stays open).
    #[arg(long, value_name = "FILE")]
    pub basic_auth_file: Option<std::path::PathBuf>,
}
