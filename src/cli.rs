//! The command line, as clap sees it: every flag, its help text and its
//! parser. Values are validated here (durations, ranges) so that commands
//! receive typed settings; a bad value exits 2 with a message naming the flag.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub mod format;
pub mod logs;

pub use logs::LogsArgs;
mod tls;
pub use tls::{Families, TlsArgs, TlsCmdArgs};
pub mod serve;

use crate::target::DEFAULT_URL;
use crate::vocab::check::{HeartbeatRange, ServerExpectation};
use crate::vocab::format::Format;
use crate::vocab::HeartbeatRequest;

/// Find out why AMQP 0-9-1 connections die, and explain it.
///
/// amqpdoctor opens connections to a broker under chosen heartbeat modes,
/// idles on purpose, publishes, and classifies what happens at the socket
/// (ECONNRESET, EPIPE, FIN, silence) and on the wire (Connection.Close).
#[derive(Debug, Parser)]
#[command(name = "amqpdoctor", version, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 as predicted / all passed, 1 liveness fault found, \
2 usage or bad input, 3 could not diagnose (connect/auth failed), 130 interrupted."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Reproduce and classify connection deaths under the three heartbeat modes.
    ///
    /// Each run connects, opens a channel, declares its own exclusive
    /// auto-delete queue, enables publisher confirms, idles, publishes, waits
    /// for confirms and closes. Modes run concurrently.
    Probe(ProbeArgs),
    /// Show heartbeat negotiation against this broker and what each client library would do.
    Heartbeat(HeartbeatArgs),
    /// Smoke-check brokers for CI: every step timed, expectations, junit/markdown/prometheus.
    ///
    /// For every target, concurrently: resolve, connect, AMQP handshake, open a channel
    /// with publisher confirms, declare the check's own exclusive auto-delete queue
    /// (amqpdoctor.check.<random>), publish one message and wait for its confirm, get it
    /// back and compare the body, close. A failed step names its errno or reply code and a
    /// hint; later steps are skipped. Exit 0 when every target passes, 1 when any fails
    /// (unreachable included), 2 on bad usage, 130 when interrupted.
    Check(CheckArgs),
    /// A TCP proxy that behaves like a middlebox: kills idle flows (reset, drop or close),
    /// swallows heartbeats, logs frames.
    ///
    /// Put it between a client (or `amqpdoctor probe`) and the broker to reproduce what a
    /// load balancer or NAT gateway does to an idle AMQP connection. It runs until Ctrl-C
    /// (or SIGTERM), then reports per connection what it did; exit 0.
    Proxy(ProxyArgs),
    /// Find the idle timeout of the path to the broker: parallel idles, one round trip each.
    ///
    /// Opens --probes connections at once with heartbeats off, each idling for a different
    /// duration (geometric, from --min to --max), then asks each for one round trip
    /// (Channel.Open → Open-Ok). Reports the bracket [longest survivor, shortest casualty],
    /// how the casualties died (RST, FIN, silence) and the heartbeat or TCP keepalive that
    /// keeps a connection inside it. Takes about --max. Exit 0 when every connection
    /// survived, 1 when the path killed one, 3 when none could open, 130 when interrupted.
    IdleTimeout(IdleTimeoutArgs),
    /// Every AMQP connection of the applications on this host, read passively from the kernel.
    ///
    /// Lists the TCP sockets whose peer port is an AMQP port (or that belong to --pid) through
    /// the kernel's socket diagnostics (NETLINK_SOCK_DIAG with tcp_info, as `ss -ti` does),
    /// with the owning process. It never reads or writes the application's socket. With
    /// --watch it samples every 250 ms and reads the heartbeat from the byte counts: healthy,
    /// starving (receives the broker's heartbeats, sends nothing: dropped between 2T and 3T
    /// after its last byte), heartbeats_off or dead. Exit 1 when one is starving or died.
    Scan(ScanArgs),
    /// The broker's view of every client connection, from the RabbitMQ management API.
    ///
    /// Reads /api/overview and /api/connections: per connection the negotiated heartbeat,
    /// the client library and version, bytes each way, state and peer; flags heartbeat 0,
    /// silence longer than T and blocked connections, with what the knowledge base says about
    /// the library. --join scan.json matches `amqpdoctor scan`'s records by address pair and
    /// says which side stopped talking first. Exit 1 when a connection is flagged.
    Audit(AuditArgs),
    /// Read RabbitMQ's logs for who died, how and why.
    ///
    /// Joins each connection's accepting, authenticated and closing lines by its Erlang pid:
    /// deaths by cause (missed heartbeats with T, closed abruptly, forced by an operator or a
    /// shutdown, refused logins…), per peer host the lifetimes (median, p95), and the
    /// patterns with the command to run next: a starving application, an idle timeout on
    /// the path, a burst across peers, a reconnect storm. Reads every log format since 3.6,
    /// JSON, container and journald prefixes, .gz and rotated sets. Exit 1 when a death
    /// other than a normal close was found.
    Logs(LogsArgs),
    /// The TLS handshake only (no AMQP, no login): the chain as sent, what was negotiated,
    /// and which client families accept the certificate.
    ///
    /// Prints each certificate the server sent (subject, names, issuer, validity and days
    /// left, key, signature), the TLS version, cipher and ALPN, whether the chain reaches a
    /// trusted root, and per client family (OpenSSL, Java, .NET, Go, rustls) whether it
    /// accepts the certificate and why not. Exit 0; 1 when a family of --expect-accepted-by
    /// (without it: the --tls-as family) refuses; 3 when no TLS handshake happens (the report
    /// says what answered: plain AMQP, HTTP or nothing).
    Tls(TlsCmdArgs),
    /// A Prometheus exporter: this host's connections (--scan), smoke checks (--check) and
    /// the broker's view (--audit) as metrics, until SIGTERM.
    ///
    /// Serves /metrics (the Prometheus text format, or OpenMetrics when the scraper asks for
    /// it), /healthz and an index page on --listen (default 127.0.0.1:9464). Label
    /// cardinality is bounded: aggregates by classification and process name, per-connection
    /// series only up to --max-connection-series. No password or URL credential is in any
    /// label. SIGTERM or Ctrl-C stops it; exit 0.
    Serve(serve::ServeArgs),
    /// Explain an errno, an AMQP reply code, a client library, a verdict or a log line (offline).
    Explain(ExplainArgs),
    /// Print a shell completion script to stdout.
    Completions {
        /// The shell to generate completions for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    Man,
}

/// Where to connect and how long to wait for each network step.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Broker URL (amqp://user:pass@host:port/vhost). The password is never printed.
    #[arg(env = "AMQP_URL", default_value = DEFAULT_URL, hide_env_values = true, hide_default_value = true)]
    pub url: String,

    /// Timeout for the TCP connect and for each handshake step [default: the URL's
    /// connection_timeout=, else 5s].
    #[arg(long, value_name = "DUR", value_parser = parse_positive_duration)]
    pub connect_timeout: Option<Duration>,

    /// Read the password from FILE (its first line) instead of the URL, so it is not in argv
    /// where any local user can read it. $AMQPDOCTOR_PASSWORD works too; this flag wins.
    #[arg(long, value_name = "FILE", env = "AMQPDOCTOR_PASSWORD_FILE")]
    pub password_file: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub tls: TlsArgs,
}

/// How results are printed.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format. json prints exactly one JSON document on stdout.
    #[arg(long, default_value = "human", value_parser = format::parser(format::BASIC))]
    pub format: Format,

    /// Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

#[derive(Debug, Clone, Args)]
pub struct IdleTimeoutArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,

    /// The longest idle to try: the discovery takes about this long. The default covers the
    /// common cloud load balancers and NAT gateways (Azure 4 min, AWS 350 s).
    #[arg(long, value_name = "DUR", default_value = "6m", value_parser = parse_positive_duration)]
    pub max: Duration,

    /// The shortest idle to try (default: --max / 32, at least 1 s).
    #[arg(long, value_name = "DUR", value_parser = parse_positive_duration)]
    pub min: Option<Duration>,

    /// How many connections, each idling for its own duration (more: a tighter bracket).
    #[arg(long, value_name = "K", default_value_t = 8, value_parser = clap::value_parser!(u16).range(2..=64))]
    pub probes: u16,

    /// Idle every connection to its end, even after a shorter idle already died (slower;
    /// shows whether the path is a simple idle timer).
    #[arg(long)]
    pub wait_all: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// Peer ports that mark a socket as AMQP, comma-separated.
    #[arg(
        long,
        value_name = "PORTS",
        value_delimiter = ',',
        default_value = "5672,5671"
    )]
    pub port: Vec<u16>,

    /// Only this process's sockets (any peer port).
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,

    /// Sample every 250 ms for DUR and classify each connection from what its bytes show.
    #[arg(long, value_name = "DUR", value_parser = parse_positive_duration)]
    pub watch: Option<Duration>,

    /// The largest heartbeat expected on this host: a connection silent both ways for more
    /// than half of it is taken to have heartbeats off.
    #[arg(long, value_name = "DUR", default_value = "120s", value_parser = parse_positive_duration)]
    pub max_heartbeat: Duration,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// The management API (http or https; user:password@ in it, else guest/guest). The
    /// password is never printed.
    #[arg(
        long,
        value_name = "URL",
        env = "AMQPDOCTOR_MANAGEMENT_URL",
        default_value = "http://localhost:15672",
        hide_env_values = true
    )]
    pub management: String,

    /// Read the management password from FILE (its first line) instead of the URL.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<std::path::PathBuf>,

    /// Timeout for each HTTP request.
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = parse_positive_duration)]
    pub timeout: Duration,

    /// Match `amqpdoctor scan --format json` output (taken on the application host) by
    /// address pair, and say per connection which side stopped talking first.
    #[arg(long, value_name = "FILE")]
    pub join: Option<std::path::PathBuf>,

    /// Output format.
    #[arg(long, default_value = "human", value_parser = format::parser(format::AUDIT))]
    pub format: Format,

    /// Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

/// What `proxy` does to a flow idle past --idle-timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnIdleArg {
    /// RST to both sides at the timeout (SO_LINGER 0), like Azure LB with "TCP reset on idle".
    Reset,
    /// Forget the flow: nothing at the timeout; the next packet from either side is answered
    /// with RST to its sender and the other side is never told (NAT gateways, NLB, conntrack).
    Forget,
    /// Stop forwarding, keep both sockets open: a blackhole (Azure LB, GCP NAT without reset).
    Drop,
    /// FIN to both sides, like HAProxy's `timeout client`.
    Close,
}

/// Which heartbeats `proxy` swallows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HeartbeatDirection {
    /// Client → broker: the broker sees a silent client.
    ToServer,
    /// Broker → client: the client sees a silent broker.
    ToClient,
    Both,
}

#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5673")]
    pub listen: String,

    /// The broker to forward to.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:5672")]
    pub upstream: String,

    /// Act on a connection after DUR without a byte in either direction (default: never).
    #[arg(long, value_name = "DUR", value_parser = parse_positive_duration)]
    pub idle_timeout: Option<Duration>,

    /// What to do to an idle connection.
    #[arg(long, value_enum, default_value_t = OnIdleArg::Reset, requires = "idle_timeout")]
    pub on_idle: OnIdleArg,

    /// Swallow heartbeat frames (08 00 00 00 00 00 00 CE) in this direction; forward the rest.
    #[arg(long, value_enum, value_name = "DIRECTION")]
    pub drop_heartbeats: Option<HeartbeatDirection>,

    /// Print every AMQP frame forwarded, with time, connection, direction, channel and method.
    #[arg(long)]
    pub log_frames: bool,

    /// Timeout for connecting to the upstream.
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = parse_positive_duration)]
    pub connect_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

/// A heartbeat mode to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum ModeArg {
    /// lapin: a real async client whose own I/O task sends heartbeats.
    Serviced,
    /// Heartbeat agreed, then never serviced: no heartbeats sent, nothing read.
    Starved,
    /// Heartbeat turned off in Tune-Ok (0).
    Disabled,
    /// All three, concurrently.
    All,
}

/// How long to idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleArg {
    /// Long enough to reproduce a broker heartbeat timeout: 3T + 2 s (10 s when T is 0).
    Auto,
    Fixed(Duration),
}

#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,

    /// How long each connection stays idle before publishing ("auto": 3T + 2 s, enough for a broker heartbeat timeout).
    #[arg(long, value_name = "DUR|auto", default_value = "auto", value_parser = parse_idle)]
    pub idle: IdleArg,

    /// Heartbeat modes to run, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub mode: Vec<ModeArg>,

    /// Heartbeat to request: whole seconds (e.g. 2s, 1m), 0 to disable, or "server" to accept the broker's proposal [default: the URL's heartbeat=, else server].
    #[arg(long, visible_alias = "interval", value_name = "DUR|0|server", value_parser = parse_heartbeat)]
    pub heartbeat: Option<HeartbeatRequest>,

    /// starved mode only: service the connection (read, answer with a heartbeat) every DUR, to show the remedy.
    #[arg(long, value_name = "DUR", value_parser = parse_positive_duration)]
    pub pump_every: Option<Duration>,

    /// Behave as this client library would here instead of running the modes: its rule and
    /// default negotiate the heartbeat against the broker's proposal (--heartbeat is the
    /// application's setting for it), then it starves, or reads and beats at its own cadence
    /// (pika-blocking@1.3, java, celery@5.4; `amqpdoctor explain --list` names them all).
    /// With --pump-every, an application that calls into a starving library every DUR.
    #[arg(long, value_name = "ID[@VERSION]", conflicts_with = "mode")]
    pub client: Option<String>,

    /// Messages to publish after the idle.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=1000), allow_negative_numbers = true)]
    pub publishes: u32,

    /// How long to wait for publisher confirms after publishing.
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = parse_positive_duration)]
    pub confirm_timeout: Duration,

    /// Publish to this exchange instead of the probe's own temporary queue (touches user data).
    #[arg(long, value_name = "NAME", requires = "routing_key", value_parser = parse_short_string)]
    pub exchange: Option<String>,

    /// Routing key to publish with, together with --exchange.
    #[arg(long, value_name = "KEY", requires = "exchange", value_parser = parse_short_string)]
    pub routing_key: Option<String>,

    /// After publishing, consume the probe's own messages without acknowledging them for
    /// --hold: reproduces a broker's consumer acknowledgement timeout.
    #[arg(long, requires = "hold", conflicts_with = "exchange")]
    pub consume: bool,

    /// With --consume: how long to hold the deliveries unacknowledged.
    #[arg(long, value_name = "DUR", requires = "consume", value_parser = parse_positive_duration)]
    pub hold: Option<Duration>,

    /// List every frame in the timeline, heartbeats included. (lapin's frames in the
    /// serviced mode are not visible to amqpdoctor: its heartbeats are counted from
    /// TCP_INFO, not listed.)
    #[arg(long)]
    pub trace: bool,

    /// Output format. json prints exactly one JSON document on stdout.
    #[arg(long, default_value = "human", value_parser = format::parser(format::PROBE))]
    pub format: Format,

    /// Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Broker URLs to check (amqp://user:pass@host:port/vhost), all at once. Without any,
    /// and without --targets-file: $AMQP_URL, else amqp://guest:guest@localhost:5672/%2f.
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,

    /// Read more target URLs from FILE: one per line; blank lines and `#` comments are skipped.
    #[arg(long, value_name = "FILE")]
    pub targets_file: Option<std::path::PathBuf>,

    /// Timeout for each step (resolve, connect, each handshake step, each round trip)
    /// [default: each URL's connection_timeout=, else 5s].
    #[arg(long, value_name = "DUR", value_parser = parse_positive_duration)]
    pub connect_timeout: Option<Duration>,

    /// Read the password for every target from FILE (its first line), so it is not in argv.
    /// $AMQPDOCTOR_PASSWORD works too; this flag wins; both beat the URLs' passwords.
    #[arg(long, value_name = "FILE", env = "AMQPDOCTOR_PASSWORD_FILE")]
    pub password_file: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub tls: TlsArgs,

    /// Heartbeat to request: whole seconds, 0 to disable, or "server" to accept the broker's
    /// proposal (what --expect-heartbeat then sees) [default: each URL's heartbeat=, else
    /// server].
    #[arg(long, visible_alias = "interval", value_name = "DUR|0|server", value_parser = parse_heartbeat)]
    pub heartbeat: Option<HeartbeatRequest>,

    /// Fail unless the negotiated heartbeat is in RANGE: 10s..60s, 10s.. (at least), ..60s,
    /// or one value. Catches a broker or policy that disables heartbeats (0).
    #[arg(long, value_name = "RANGE", value_parser = HeartbeatRange::parse)]
    pub expect_heartbeat: Option<HeartbeatRange>,

    /// Fail when the TCP connect takes longer than DUR.
    #[arg(long, value_name = "DUR", value_parser = parse_positive_duration)]
    pub max_connect: Option<Duration>,

    /// Fail when the AMQP handshake (protocol header to Connection.Open-Ok) takes longer than DUR.
    #[arg(long, value_name = "DUR", value_parser = parse_positive_duration)]
    pub max_handshake: Option<Duration>,

    /// Fail when publish → confirm → get takes longer than DUR.
    #[arg(long, value_name = "DUR", value_parser = parse_positive_duration)]
    pub max_roundtrip: Option<Duration>,

    /// Fail unless the server is this product and/or version: 'RabbitMQ >=3.12', 'RabbitMQ',
    /// '>=3.12, <5' (a semver requirement; the product is compared without case).
    #[arg(long, value_name = "PRODUCT [VERSIONS]", value_parser = ServerExpectation::parse)]
    pub expect_server: Option<ServerExpectation>,

    /// Fail a target whose TLS certificate a named client family would refuse (openssl, java,
    /// dotnet, go, rustls; comma-separated), though the run itself follows --tls-as.
    #[arg(long, value_name = "FAMILY,...", value_parser = tls::parse_families)]
    pub expect_tls_accepted_by: Option<Families>,

    /// Publish through this exchange (it must exist): the check binds its own queue to it with
    /// the routing key, so messages may also reach user queues bound with that key.
    #[arg(long, value_name = "NAME", value_parser = parse_exchange)]
    pub exchange: Option<String>,

    /// Routing key for --exchange (default: the check's queue name, which no user queue is
    /// bound with).
    #[arg(long, value_name = "KEY", requires = "exchange", value_parser = parse_short_string)]
    pub routing_key: Option<String>,

    /// Output format.
    #[arg(long, default_value = "human", value_parser = format::parser(format::CHECK))]
    pub format: Format,

    /// Also write the JUnit XML report to FILE (e.g. markdown to the job summary and
    /// JUnit for the test report, from one check).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,

    /// Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

#[derive(Debug, Clone, Args)]
pub struct HeartbeatArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Heartbeat to request: whole seconds (e.g. 30s), 0 to disable, or "server" to accept the broker's proposal [default: the URL's heartbeat=, else server].
    #[arg(long, visible_alias = "heartbeat", value_name = "DUR|0|server", value_parser = parse_heartbeat)]
    pub interval: Option<HeartbeatRequest>,

    /// Keep the connection serviced this long and measure heartbeat cadence in both directions.
    #[arg(long, value_name = "DUR", value_parser = parse_positive_duration)]
    pub observe: Option<Duration>,

    /// Narrow the client-library table to one library, or one version of it with NAME@VERSION
    /// (pika, pika@0.13, amqplib@0.10; `amqpdoctor explain --list` names them all).
    #[arg(long, value_name = "NAME[@VERSION]")]
    pub client: Option<String>,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// An errno (104, ECONNRESET), reply code (320), client library (pika, pika@0.10),
    /// verdict code (peer_reset), concept (heartbeat) or a log line pasted in quotes;
    /// `-` reads a whole paste (a traceback, a log excerpt) from standard input and
    /// gives one diagnosis, listing the lines it used.
    #[arg(required_unless_present = "list", num_args = 1.., value_name = "TOPIC")]
    pub topic: Vec<String>,

    /// List every topic explain knows instead, grouped: errno names, reply codes, client
    /// libraries, verdict codes, concepts, EOF and the log lines it recognises.
    #[arg(long, conflicts_with = "topic")]
    pub list: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

impl ProbeArgs {
    /// The modes to run, deduplicated, `all` expanded, in a fixed order.
    pub fn modes(&self) -> Vec<ModeArg> {
        let mut modes: Vec<ModeArg> = if self.mode.contains(&ModeArg::All) {
            vec![ModeArg::Serviced, ModeArg::Starved, ModeArg::Disabled]
        } else {
            self.mode.clone()
        };
        modes.sort();
        modes.dedup();
        modes
    }
}

/// A humantime duration greater than zero.
pub fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration ({e}); try 500ms, 5s, 1m30s"))?;
    if d.is_zero() {
        return Err("must be greater than zero".into());
    }
    if d > Duration::from_secs(7 * 24 * 3600) {
        return Err("must be at most 7 days".into());
    }
    Ok(d)
}

/// `auto`, or a duration; zero is allowed however it is written (`0`,
/// `0s`, `0ms`): publish at once.
fn parse_idle(s: &str) -> Result<IdleArg, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("auto") {
        return Ok(IdleArg::Auto);
    }
    if t == "0" || humantime::parse_duration(t).is_ok_and(|d| d.is_zero()) {
        return Ok(IdleArg::Fixed(Duration::ZERO));
    }
    parse_positive_duration(s).map(IdleArg::Fixed)
}

/// An AMQP short string (exchange and routing key names): at most 255
/// bytes, or the broker could not even be asked.
fn parse_short_string(s: &str) -> Result<String, String> {
    let max = crate::target::SHORT_STRING_MAX;
    if s.len() > max {
        return Err(format!(
            "is {} bytes long; AMQP names are at most {max} bytes",
            s.len()
        ));
    }
    Ok(s.to_string())
}

/// An exchange name for `check --exchange`: a short string, and not the
/// default exchange (which cannot be bound to; leave the flag out for it).
fn parse_exchange(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err("the default exchange (\"\") is what check uses without --exchange".into());
    }
    parse_short_string(s)
}

/// `server`, `0`, or a whole number of seconds up to 65535 (AMQP's heartbeat
/// field is an unsigned 16-bit count of seconds).
pub fn parse_heartbeat(s: &str) -> Result<HeartbeatRequest, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("server") {
        return Ok(HeartbeatRequest::Server);
    }
    if s == "0" {
        return Ok(HeartbeatRequest::Seconds(0));
    }
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}); try 0, 5s, 60s, 1m or \"server\""))?;
    if d.subsec_nanos() != 0 {
        return Err(format!(
            "`{s}`: AMQP heartbeats are whole seconds; try {}s",
            d.as_secs().max(1)
        ));
    }
    u16::try_from(d.as_secs())
        .map(HeartbeatRequest::Seconds)
        .map_err(|_| format!("`{s}`: must be at most 65535s (AMQP's limit)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn heartbeat_values() {
        let rows: &[(&str, Result<HeartbeatRequest, ()>)] = &[
            ("server", Ok(HeartbeatRequest::Server)),
            ("SERVER", Ok(HeartbeatRequest::Server)),
            ("0", Ok(HeartbeatRequest::Seconds(0))),
            ("0s", Ok(HeartbeatRequest::Seconds(0))),
            ("2s", Ok(HeartbeatRequest::Seconds(2))),
            ("1m", Ok(HeartbeatRequest::Seconds(60))),
            ("65535s", Ok(HeartbeatRequest::Seconds(65535))),
            ("65536s", Err(())),
            ("1500ms", Err(())),
            ("abc", Err(())),
            ("-1s", Err(())),
        ];
        for (input, want) in rows {
            assert_eq!(parse_heartbeat(input).map_err(|_| ()), *want, "{input}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_positive_duration("1m30s"),
            Ok(Duration::from_secs(90))
        );
        assert!(parse_positive_duration("0s").is_err());
        assert!(parse_positive_duration("soon").is_err());
        assert_eq!(parse_idle("auto"), Ok(IdleArg::Auto));
        assert_eq!(parse_idle("0"), Ok(IdleArg::Fixed(Duration::ZERO)));
        assert_eq!(parse_idle("0s"), Ok(IdleArg::Fixed(Duration::ZERO)));
        assert_eq!(parse_idle("0ms"), Ok(IdleArg::Fixed(Duration::ZERO)));
        assert!(parse_short_string(&"x".repeat(255)).is_ok());
        assert!(parse_short_string(&"x".repeat(256))
            .unwrap_err()
            .contains("at most 255 bytes"));
        assert_eq!(
            parse_idle("90s"),
            Ok(IdleArg::Fixed(Duration::from_secs(90)))
        );
    }

    #[test]
    fn modes_expand_and_dedupe() {
        let cli = Cli::try_parse_from(["amqpdoctor", "probe", "--mode", "starved,all"]).unwrap();
        let Command::Probe(p) = cli.command else {
            panic!()
        };
        assert_eq!(
            p.modes(),
            vec![ModeArg::Serviced, ModeArg::Starved, ModeArg::Disabled]
        );
        let cli =
            Cli::try_parse_from(["amqpdoctor", "probe", "--mode", "disabled,starved,disabled"])
                .unwrap();
        let Command::Probe(p) = cli.command else {
            panic!()
        };
        assert_eq!(p.modes(), vec![ModeArg::Starved, ModeArg::Disabled]);
    }
}
