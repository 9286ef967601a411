//! Pure classification: errno classes, end kinds, predictions and verdicts.
//!
//! Input is a [`Timeline`](crate::timeline::Timeline) plus the negotiated
//! values; output is a [`Verdict`]. No sockets here.

mod narrate;

use std::io;

use nix::errno::Errno;
use serde::Serialize;

use crate::timeline::{EventKind, TcpEnd, Timeline};

/// The three heartbeat modes (see DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Serviced,
    Starved,
    Disabled,
}

/// Verdict codes. A contract: add, never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictCode {
    Healthy,
    BrokerHeartbeatTimeout,
    ServerClosed,
    PeerReset,
    PeerClosed,
    PathIdleTimeout,
    SilentLoss,
    Blocked,
    ConnectFailed,
    AuthFailed,
    VhostNotAllowed,
    ProtocolMismatch,
    Timeout,
}

impl VerdictCode {
    pub const ALL: [VerdictCode; 13] = [
        VerdictCode::Healthy,
        VerdictCode::BrokerHeartbeatTimeout,
        VerdictCode::ServerClosed,
        VerdictCode::PeerReset,
        VerdictCode::PeerClosed,
        VerdictCode::PathIdleTimeout,
        VerdictCode::SilentLoss,
        VerdictCode::Blocked,
        VerdictCode::ConnectFailed,
        VerdictCode::AuthFailed,
        VerdictCode::VhostNotAllowed,
        VerdictCode::ProtocolMismatch,
        VerdictCode::Timeout,
    ];

    /// The snake_case name used in JSON and by `explain`.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictCode::Healthy => "healthy",
            VerdictCode::BrokerHeartbeatTimeout => "broker_heartbeat_timeout",
            VerdictCode::ServerClosed => "server_closed",
            VerdictCode::PeerReset => "peer_reset",
            VerdictCode::PeerClosed => "peer_closed",
            VerdictCode::PathIdleTimeout => "path_idle_timeout",
            VerdictCode::SilentLoss => "silent_loss",
            VerdictCode::Blocked => "blocked",
            VerdictCode::ConnectFailed => "connect_failed",
            VerdictCode::AuthFailed => "auth_failed",
            VerdictCode::VhostNotAllowed => "vhost_not_allowed",
            VerdictCode::ProtocolMismatch => "protocol_mismatch",
            VerdictCode::Timeout => "timeout",
        }
    }
}

impl std::fmt::Display for VerdictCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------
// errno
// ---------------------------------------------------------------------------

/// What an errno means for a broker connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrnoClass {
    /// ECONNRESET: the peer (or a middlebox) sent RST.
    Reset,
    /// EPIPE / ENOTCONN: writing to a connection already shut down.
    BrokenPipe,
    /// ETIMEDOUT: retransmissions or keepalive probes went unanswered.
    TimedOut,
    /// ECONNREFUSED: nothing listens there.
    Refused,
    /// EHOSTUNREACH / ENETUNREACH: no route.
    Unreachable,
    /// ECONNABORTED: the local stack aborted the connection.
    Aborted,
    /// A read returned 0: orderly close (FIN).
    Eof,
    Other,
}

impl ErrnoClass {
    pub fn from_errno(errno: Errno) -> Self {
        match errno {
            Errno::ECONNRESET => ErrnoClass::Reset,
            Errno::EPIPE | Errno::ENOTCONN => ErrnoClass::BrokenPipe,
            Errno::ETIMEDOUT => ErrnoClass::TimedOut,
            Errno::ECONNREFUSED => ErrnoClass::Refused,
            Errno::EHOSTUNREACH | Errno::ENETUNREACH | Errno::EHOSTDOWN => ErrnoClass::Unreachable,
            Errno::ECONNABORTED => ErrnoClass::Aborted,
            _ => ErrnoClass::Other,
        }
    }
}

impl From<&io::Error> for ErrnoClass {
    fn from(err: &io::Error) -> Self {
        match err.raw_os_error() {
            Some(n) => ErrnoClass::from_errno(Errno::from_raw(n)),
            None if err.kind() == io::ErrorKind::UnexpectedEof => ErrnoClass::Eof,
            None => ErrnoClass::Other,
        }
    }
}

/// `ECONNRESET` for 104; `errno 999` for what nix does not know.
pub fn errno_name(errno: i32) -> String {
    match Errno::from_raw(errno) {
        Errno::UnknownErrno => format!("errno {errno}"),
        e => format!("{e:?}"),
    }
}

/// The errno name of an I/O error, or its kind when it has no errno.
pub fn errno_label(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(n) => errno_name(n),
        None if err.kind() == io::ErrorKind::UnexpectedEof => "EOF".into(),
        None => format!("{:?}", err.kind()),
    }
}

/// `connection refused (ECONNREFUSED)`.
pub fn describe_io_error(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(n) => format!(
            "{} ({})",
            Errno::from_raw(n).desc().to_lowercase(),
            errno_name(n)
        ),
        None => err.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Ends
// ---------------------------------------------------------------------------

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndKind {
    /// Still open when we closed it.
    Alive,
    /// We closed it before the experiment finished (interrupted).
    ClientClose,
    /// Connection.Close received from the server.
    ServerClose,
    /// RST / ECONNRESET.
    Reset,
    /// Orderly close by the peer: FIN, EOF, or EPIPE on write.
    Fin,
    /// No answer to a request within its timeout.
    Silence,
}

/// The ending of one run, as the JSON contract describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct End {
    pub kind: EndKind,
    pub at_ms: u64,
    pub since_last_client_byte_ms: Option<u64>,
    pub since_last_server_byte_ms: Option<u64>,
    pub reply_code: Option<u16>,
    pub reply_text: Option<String>,
    pub class_id: Option<u16>,
    pub method_id: Option<u16>,
    pub errno: Option<i32>,
    pub errno_name: Option<String>,
    /// What showed the ending: observer, read, write, close_frame, timeout.
    pub seen_by: &'static str,
}

impl End {
    fn new(kind: EndKind, at_ms: u64, seen_by: &'static str) -> Self {
        End {
            kind,
            at_ms,
            since_last_client_byte_ms: None,
            since_last_server_byte_ms: None,
            reply_code: None,
            reply_text: None,
            class_id: None,
            method_id: None,
            errno: None,
            errno_name: None,
            seen_by,
        }
    }
}

/// Read the ending off a timeline. The earliest evidence of death wins (a
/// reset seen by the observer at 6 s explains the ECONNRESET a publish got
/// at 8 s); timeouts count only when nothing died.
pub fn end_of(tl: &Timeline) -> End {
    let mut end = None;
    let mut timeout = None;
    let mut interrupted = None;
    for ev in &tl.events {
        let at = ev.at_ms;
        let found = match &ev.kind {
            EventKind::ServerClose {
                reply_code,
                reply_text,
                class_id,
                method_id,
            } => {
                let mut e = End::new(EndKind::ServerClose, at, "close_frame");
                e.reply_code = Some(*reply_code);
                e.reply_text = Some(reply_text.clone());
                e.class_id = Some(*class_id);
                e.method_id = Some(*method_id);
                Some(e)
            }
            EventKind::PeerEnded {
                how,
                since_last_client_byte_ms,
                since_last_server_byte_ms,
                ..
            } => {
                let kind = match how {
                    TcpEnd::Reset => EndKind::Reset,
                    TcpEnd::Fin => EndKind::Fin,
                };
                let mut e = End::new(kind, at, "observer");
                e.since_last_client_byte_ms = Some(*since_last_client_byte_ms);
                e.since_last_server_byte_ms = Some(*since_last_server_byte_ms);
                Some(e)
            }
            EventKind::IoError {
                op,
                errno,
                errno_name,
                ..
            } => {
                let class = errno.map_or(ErrnoClass::Other, |n| {
                    ErrnoClass::from_errno(Errno::from_raw(n))
                });
                let kind = match class {
                    ErrnoClass::BrokenPipe | ErrnoClass::Eof => EndKind::Fin,
                    ErrnoClass::TimedOut | ErrnoClass::Unreachable => EndKind::Silence,
                    _ => EndKind::Reset,
                };
                let seen_by = if op.starts_with("writing") {
                    "write"
                } else {
                    "read"
                };
                let mut e = End::new(kind, at, seen_by);
                e.errno = *errno;
                e.errno_name = Some(errno_name.clone());
                Some(e)
            }
            EventKind::Eof => Some(End::new(EndKind::Fin, at, "read")),
            EventKind::Timeout { .. } => {
                timeout.get_or_insert(at);
                None
            }
            EventKind::Interrupted => {
                interrupted.get_or_insert(at);
                None
            }
            _ => None,
        };
        if let Some(e) = found {
            end = Some(e);
            break;
        }
    }
    let mut end = end.unwrap_or_else(|| {
        if let Some(at) = interrupted {
            End::new(EndKind::ClientClose, at, "client")
        } else if let Some(at) = timeout {
            End::new(EndKind::Silence, at, "timeout")
        } else {
            let at = tl
                .find(|k| matches!(k, EventKind::ClientClose { .. }))
                .map_or_else(|| tl.events.last().map_or(0, |e| e.at_ms), |e| e.at_ms);
            End::new(EndKind::Alive, at, "client")
        }
    });
    if end.since_last_client_byte_ms.is_none() {
        // Silence measured up to the end, from the last write before it.
        end.since_last_client_byte_ms =
            tl.last_client_byte_before(end.at_ms).map(|t| end.at_ms - t);
    }
    end
}

// ---------------------------------------------------------------------------
// Publishes
// ---------------------------------------------------------------------------

/// What became of one published message (contract values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Confirmed,
    Nacked,
    Returned,
    /// The kernel accepted the write, but no confirm ever came.
    Lost,
    /// The write itself failed (errno).
    Failed,
    Unknown,
}

/// What the network layer saw of one publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishAttempt {
    pub seq: u32,
    pub at_ms: u64,
    /// `Some((errno, name))` when the write failed.
    pub write_error: Option<(Option<i32>, String)>,
    /// `Some(true)` acked, `Some(false)` nacked, `None` no confirm.
    pub acked: Option<bool>,
    pub returned: bool,
}

/// One publish in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishReport {
    pub seq: u32,
    pub at_ms: u64,
    /// "ok" or "error".
    pub write: &'static str,
    pub errno: Option<i32>,
    pub errno_name: Option<String>,
    pub outcome: Outcome,
}

/// Settle each publish's outcome. Without a confirm, a message whose write
/// succeeded is `lost` — unless the run was interrupted before we could
/// know (`unknown`).
pub fn publish_reports(attempts: &[PublishAttempt], interrupted: bool) -> Vec<PublishReport> {
    attempts
        .iter()
        .map(|a| {
            let (write, errno, errno_name) = match &a.write_error {
                Some((n, name)) => ("error", *n, Some(name.clone())),
                None => ("ok", None, None),
            };
            let outcome = match (&a.write_error, a.acked, a.returned) {
                (Some(_), _, _) => Outcome::Failed,
                (None, Some(true), true) => Outcome::Returned,
                (None, Some(true), false) => Outcome::Confirmed,
                (None, Some(false), _) => Outcome::Nacked,
                (None, None, _) if interrupted => Outcome::Unknown,
                (None, None, _) => Outcome::Lost,
            };
            PublishReport {
                seq: a.seq,
                at_ms: a.at_ms,
                write,
                errno,
                errno_name,
                outcome,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Prediction
// ---------------------------------------------------------------------------

/// What a mode predicts for an idle and T.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Prediction {
    Healthy,
    BrokerHeartbeatTimeout,
    /// The idle ends between 2T and 3T: either outcome is possible.
    Either,
}

/// Margin added to 3T before we predict a reset for certain: RabbitMQ's
/// timer and our clock are not perfectly aligned.
pub const PREDICTION_MARGIN_MS: u64 = 500;

/// The longest stretch the client stays silent: the idle, or the pump
/// period when the connection is pumped.
fn longest_client_silence_ms(idle_ms: u64, pump_every_ms: Option<u64>) -> u64 {
    pump_every_ms.map_or(idle_ms, |p| p.min(idle_ms))
}

pub fn predict(
    mode: Mode,
    heartbeat_s: u16,
    idle_ms: u64,
    pump_every_ms: Option<u64>,
) -> Prediction {
    if mode != Mode::Starved || heartbeat_s == 0 {
        return Prediction::Healthy;
    }
    let t = u64::from(heartbeat_s) * 1000;
    let silence = longest_client_silence_ms(idle_ms, pump_every_ms);
    if silence < 2 * t {
        Prediction::Healthy
    } else if silence >= 3 * t + PREDICTION_MARGIN_MS {
        Prediction::BrokerHeartbeatTimeout
    } else {
        Prediction::Either
    }
}

impl Prediction {
    pub fn admits(self, code: VerdictCode) -> bool {
        match self {
            Prediction::Healthy => code == VerdictCode::Healthy,
            Prediction::BrokerHeartbeatTimeout => code == VerdictCode::BrokerHeartbeatTimeout,
            Prediction::Either => {
                matches!(
                    code,
                    VerdictCode::Healthy | VerdictCode::BrokerHeartbeatTimeout
                )
            }
        }
    }
}

/// The prediction in words, e.g. "a starved client survives at least
/// 2T = 120 s of silence and is dropped by 3T = 180 s".
pub fn prediction_text(
    mode: Mode,
    heartbeat_s: u16,
    idle_ms: u64,
    pump_every_ms: Option<u64>,
) -> String {
    let t = u64::from(heartbeat_s);
    let idle = secs(idle_ms);
    match (mode, heartbeat_s) {
        (Mode::Serviced, 0) => "heartbeats are off, so the broker never checks for silence: \
            predicted healthy (unless something in the path drops idle connections)"
            .into(),
        (Mode::Serviced, _) => format!(
            "lapin sends a heartbeat every T/2 = {} whatever the application does: \
             predicted healthy for any idle",
            secs(t * 500)
        ),
        (Mode::Disabled, _) | (Mode::Starved, 0) => format!(
            "heartbeats are off, so the broker never checks for silence: predicted healthy after \
             the {idle} idle (unless something in the path drops idle connections)"
        ),
        (Mode::Starved, _) => {
            let window = format!(
                "a starved client survives at least 2T = {} of silence and is dropped by 3T = {}",
                secs(2 * t * 1000),
                secs(3 * t * 1000)
            );
            let p = predict(mode, heartbeat_s, idle_ms, pump_every_ms);
            match (pump_every_ms, p) {
                (Some(pump), Prediction::Healthy) => format!(
                    "{window}; pumped every {}, it is never silent that long: predicted healthy",
                    secs(pump)
                ),
                (Some(pump), _) => format!(
                    "{window}; pumped only every {}, it can still be dropped",
                    secs(pump)
                ),
                (None, Prediction::Healthy) => format!(
                    "{window}, so the {idle} idle alone will not reproduce the reset \
                     (use --idle {} or more): predicted healthy",
                    secs(3 * t * 1000 + 2000)
                ),
                (None, Prediction::BrokerHeartbeatTimeout) => {
                    format!(
                        "{window}; the {idle} idle is longer: predicted broker_heartbeat_timeout"
                    )
                }
                (None, Prediction::Either) => format!(
                    "{window}; the {idle} idle falls between the two, so either outcome is possible"
                ),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Verdict
// ---------------------------------------------------------------------------

/// The classifier's conclusion for one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub code: VerdictCode,
    /// Whether this ending is what the mode predicts for this idle and T.
    pub expected: bool,
    pub prediction: Prediction,
    pub prediction_text: String,
    pub summary: String,
    pub explanation: String,
    pub remedy: String,
}

/// Everything the classifier needs to know about one run.
#[derive(Debug, Clone)]
pub struct RunFacts<'a> {
    pub mode: Mode,
    pub server_heartbeat_s: Option<u16>,
    /// None: the client accepted the server's proposal.
    pub requested_heartbeat_s: Option<u16>,
    pub heartbeat_s: u16,
    pub idle_ms: u64,
    pub pump_every_ms: Option<u64>,
    pub confirm_timeout_ms: u64,
    pub timeline: &'a Timeline,
    pub end: &'a End,
    pub publishes: &'a [PublishReport],
    pub interrupted: bool,
}

/// Extra tolerance around RabbitMQ's [2T, 3T] window: scheduling jitter on
/// both hosts plus the half-second granularity of our own idle.
pub fn attribution_tolerance_ms(heartbeat_s: u16) -> u64 {
    500 + 50 * u64::from(heartbeat_s)
}

/// Both directions must have been silent at least this long before an
/// ending for it to look like an idle-timeout kill.
pub const PATH_IDLE_MIN_MS: u64 = 1000;

/// The attribution rule (DESIGN.md): which verdict an ending gets.
pub fn attribute(f: &RunFacts) -> VerdictCode {
    let end = f.end;
    let blocked = f
        .timeline
        .find(|k| matches!(k, EventKind::Blocked { .. }))
        .is_some();
    let unsettled = f
        .publishes
        .iter()
        .any(|p| matches!(p.outcome, Outcome::Lost | Outcome::Unknown));
    match end.kind {
        EndKind::ServerClose => match (end.reply_code, end.class_id, end.method_id) {
            (Some(403), Some(10), _) => VerdictCode::AuthFailed,
            (Some(530 | 402), Some(10), Some(40)) => VerdictCode::VhostNotAllowed,
            _ => VerdictCode::ServerClosed,
        },
        EndKind::Reset | EndKind::Fin => {
            let t = u64::from(f.heartbeat_s) * 1000;
            let tol = attribution_tolerance_ms(f.heartbeat_s);
            let client_silence = end.since_last_client_byte_ms.unwrap_or(0);
            if t > 0 && client_silence + tol >= 2 * t && client_silence <= 3 * t + tol {
                VerdictCode::BrokerHeartbeatTimeout
            } else if client_silence >= PATH_IDLE_MIN_MS
                && end
                    .since_last_server_byte_ms
                    .is_some_and(|s| s >= PATH_IDLE_MIN_MS)
            {
                VerdictCode::PathIdleTimeout
            } else if end.kind == EndKind::Reset {
                VerdictCode::PeerReset
            } else {
                VerdictCode::PeerClosed
            }
        }
        EndKind::Silence => {
            if blocked && unsettled {
                VerdictCode::Blocked
            } else if f.publishes.iter().any(|p| p.outcome == Outcome::Lost) {
                VerdictCode::SilentLoss
            } else {
                VerdictCode::Timeout
            }
        }
        EndKind::Alive | EndKind::ClientClose => {
            if blocked && unsettled {
                VerdictCode::Blocked
            } else {
                VerdictCode::Healthy
            }
        }
    }
}

/// Classify one run: verdict code, whether it was predicted, and the words.
pub fn verdict(f: &RunFacts) -> Verdict {
    let code = attribute(f);
    let prediction = predict(f.mode, f.heartbeat_s, f.idle_ms, f.pump_every_ms);
    let expected = f.interrupted && code == VerdictCode::Healthy || prediction.admits(code);
    let words = narrate::words(f, code);
    Verdict {
        code,
        expected,
        prediction,
        prediction_text: prediction_text(f.mode, f.heartbeat_s, f.idle_ms, f.pump_every_ms),
        summary: words.summary,
        explanation: words.explanation,
        remedy: words.remedy,
    }
}

/// `6.007 s`, `120 s`, `350 ms`.
pub fn secs(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.3} s", ms as f64 / 1000.0)
    }
}

/// The verdict for a run that failed before its experiment began.
pub fn setup_failure_code(stage: &str, err: &crate::wire::WireError) -> VerdictCode {
    use crate::wire::WireError as W;
    match err {
        W::ServerClose(c) | W::ChannelClose(c) => match c.reply_code {
            403 if stage == "handshake" => VerdictCode::AuthFailed,
            530 | 402 if stage == "handshake" => VerdictCode::VhostNotAllowed,
            _ => VerdictCode::ServerClosed,
        },
        W::ProtocolMismatch(_) => VerdictCode::ProtocolMismatch,
        W::Invalid(_) => VerdictCode::ProtocolMismatch,
        W::Timeout { .. } => VerdictCode::Timeout,
        // RabbitMQ without the authentication_failure_close capability, and
        // other brokers, drop the socket after a refused login.
        W::Eof { waiting_for } if waiting_for == "Connection.Tune" => VerdictCode::AuthFailed,
        W::Eof { .. } => VerdictCode::PeerClosed,
        W::Io { err, .. } => match ErrnoClass::from(err) {
            ErrnoClass::Reset => VerdictCode::PeerReset,
            ErrnoClass::BrokenPipe | ErrnoClass::Eof => VerdictCode::PeerClosed,
            _ => VerdictCode::ConnectFailed,
        },
    }
}

/// The verdict for a run that could not start its experiment: the tool
/// could not diagnose (exit 3), and says why in actionable words.
pub fn setup_verdict(
    code: VerdictCode,
    stage: &str,
    message: &str,
    close: Option<&crate::wire::CloseInfo>,
) -> Verdict {
    let (explanation, remedy) = match code {
        VerdictCode::AuthFailed => (
            format!("The broker refused the login during the {stage}: {message}."),
            "Check the user name and password in the URL, and that the user may connect from \
             this host (RabbitMQ's guest user may only connect from localhost)."
                .to_string(),
        ),
        VerdictCode::VhostNotAllowed => (
            format!("The broker refused to open the virtual host: {message}."),
            "Check the vhost in the URL (the last path segment; write the default vhost `/` as \
             %2f) and the user's permissions: `rabbitmqctl list_vhosts`, \
             `rabbitmqctl list_permissions -p <vhost>`."
                .to_string(),
        ),
        VerdictCode::ConnectFailed => (
            format!("No TCP connection: {message}."),
            "Check the host and port (AMQP listens on 5672) and that the broker is running \
             (`rabbitmqctl status`; start it with `rabbitmq-server -detached`)."
                .to_string(),
        ),
        VerdictCode::ProtocolMismatch => (
            format!("The peer does not speak AMQP 0-9-1: {message}."),
            "Point amqpdoctor at the broker's AMQP 0-9-1 listener (5672), not at the \
             management UI (15672), an AMQP 1.0 or TLS port."
                .to_string(),
        ),
        VerdictCode::Timeout => (
            format!("The broker did not answer during the {stage}: {message}."),
            "The broker may be overloaded, blocked, or something in the path drops packets; \
             raise --connect-timeout to tell slow from dead."
                .to_string(),
        ),
        _ => (
            format!("The connection failed during the {stage}: {message}."),
            close
                .and_then(|c| crate::knowledge::reply_by_code(c.reply_code))
                .map_or_else(
                    || "Rerun with --trace to see every frame.".to_string(),
                    |r| r.remedy.to_string(),
                ),
        ),
    };
    Verdict {
        code,
        expected: false,
        prediction: Prediction::Healthy,
        prediction_text: "no prediction: the experiment could not start".into(),
        summary: format!("could not diagnose: {code} during the {stage}"),
        explanation,
        remedy,
    }
}

// ---------------------------------------------------------------------------
// Heartbeat cadence
// ---------------------------------------------------------------------------

/// Heartbeats seen in one direction over an observation window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cadence {
    pub count: u32,
    /// Mean gap between consecutive heartbeats (null with fewer than two).
    pub mean_gap_ms: Option<u64>,
    /// Longest silence, counting the stretches before the first and after
    /// the last heartbeat (null with no heartbeat at all).
    pub max_gap_ms: Option<u64>,
    /// What the protocol asks for: T/2.
    pub expected_gap_ms: u64,
    /// Gaps longer than T/2 by more than the slack.
    pub late: u32,
    /// True when the window was long enough to expect beats and none came
    /// for longer than T.
    pub missing: bool,
}

/// Slack before a heartbeat counts as late: a quarter of T/2 plus 250 ms of
/// scheduling jitter on both hosts.
pub fn late_slack_ms(expected_gap_ms: u64) -> u64 {
    expected_gap_ms / 4 + 250
}

/// Measure the cadence of heartbeats at `times` (ms) within
/// `[start_ms, end_ms]` against the expected gap T/2 (0: none expected).
pub fn cadence(times: &[u64], start_ms: u64, end_ms: u64, expected_gap_ms: u64) -> Cadence {
    let beats: Vec<u64> = times
        .iter()
        .copied()
        .filter(|&t| t >= start_ms && t <= end_ms)
        .collect();
    let inner: Vec<u64> = beats.windows(2).map(|w| w[1] - w[0]).collect();
    let mean_gap_ms = if inner.is_empty() {
        None
    } else {
        Some(inner.iter().sum::<u64>() / inner.len() as u64)
    };
    let max_gap_ms = match (beats.first(), beats.last()) {
        (Some(&first), Some(&last)) => Some(
            inner
                .iter()
                .copied()
                .chain([first - start_ms, end_ms - last])
                .max()
                .unwrap_or(0),
        ),
        _ => None,
    };
    let limit = expected_gap_ms + late_slack_ms(expected_gap_ms);
    let late = if expected_gap_ms == 0 {
        0
    } else {
        inner.iter().filter(|&&g| g > limit).count() as u32
    };
    let longest = max_gap_ms.unwrap_or(end_ms.saturating_sub(start_ms));
    let missing =
        expected_gap_ms > 0 && longest > 2 * expected_gap_ms + late_slack_ms(expected_gap_ms);
    Cadence {
        count: beats.len() as u32,
        mean_gap_ms,
        max_gap_ms,
        expected_gap_ms,
        late,
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_code_names_match_serde() {
        for code in VerdictCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::Value::String(code.as_str().into()));
        }
    }

    #[test]
    fn cadence_table() {
        // (beats, start, end, expected, count, mean, max, late, missing)
        type Row = (
            &'static [u64],
            u64,
            u64,
            u64,
            u32,
            Option<u64>,
            Option<u64>,
            u32,
            bool,
        );
        let rows: &[Row] = &[
            // RabbitMQ at T = 2 s: a beat every second.
            (
                &[1000, 2000, 3000, 4000, 5000, 6000],
                0,
                7000,
                1000,
                6,
                Some(1000),
                Some(1000),
                0,
                false,
            ),
            // one late beat
            (
                &[1000, 2000, 4000, 5000],
                0,
                5500,
                1000,
                4,
                Some(1333),
                Some(2000),
                1,
                false,
            ),
            // heartbeats off, none expected, none came
            (&[], 0, 7000, 0, 0, None, None, 0, false),
            // expected but silent for the whole window
            (&[], 0, 7000, 1000, 0, None, None, 0, true),
            // beats outside the window do not count
            (
                &[500, 1500, 9000],
                1000,
                3000,
                1000,
                1,
                None,
                Some(1500),
                0,
                false,
            ),
        ];
        for (beats, start, end, exp, count, mean, max, late, missing) in rows {
            let c = cadence(beats, *start, *end, *exp);
            assert_eq!(
                (c.count, c.mean_gap_ms, c.max_gap_ms, c.late, c.missing),
                (*count, *mean, *max, *late, *missing),
                "{beats:?}"
            );
        }
    }

    use crate::timeline::{EventKind as K, TcpEnd, Timeline};

    #[test]
    fn errno_classes() {
        let rows = [
            (Errno::ECONNRESET, ErrnoClass::Reset),
            (Errno::EPIPE, ErrnoClass::BrokenPipe),
            (Errno::ENOTCONN, ErrnoClass::BrokenPipe),
            (Errno::ETIMEDOUT, ErrnoClass::TimedOut),
            (Errno::ECONNREFUSED, ErrnoClass::Refused),
            (Errno::EHOSTUNREACH, ErrnoClass::Unreachable),
            (Errno::ENETUNREACH, ErrnoClass::Unreachable),
            (Errno::ECONNABORTED, ErrnoClass::Aborted),
            (Errno::EINVAL, ErrnoClass::Other),
        ];
        for (errno, class) in rows {
            assert_eq!(ErrnoClass::from_errno(errno), class, "{errno:?}");
            let io = io::Error::from_raw_os_error(errno as i32);
            assert_eq!(ErrnoClass::from(&io), class);
        }
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        assert_eq!(ErrnoClass::from(&eof), ErrnoClass::Eof);
        assert_eq!(errno_name(104), "ECONNRESET");
        assert_eq!(errno_name(32), "EPIPE");
        assert_eq!(errno_name(99999), "errno 99999");
    }

    fn tl(events: &[(u64, K)], writes: &[u64]) -> Timeline {
        let mut t = Timeline::new(false);
        for (at, k) in events {
            t.push_at(*at, k.clone());
        }
        t.client_writes_ms = writes.to_vec();
        t
    }

    fn peer(how: TcpEnd, client: u64, server: u64) -> K {
        K::PeerEnded {
            how,
            tcp_state: "CLOSE".into(),
            since_last_client_byte_ms: client,
            since_last_server_byte_ms: server,
        }
    }

    fn io_err(op: &str, errno: i32) -> K {
        K::IoError {
            op: op.into(),
            errno: Some(errno),
            errno_name: errno_name(errno),
        }
    }

    #[test]
    fn end_of_picks_the_earliest_evidence() {
        let close = K::ServerClose {
            reply_code: 320,
            reply_text: "CONNECTION_FORCED - x".into(),
            class_id: 0,
            method_id: 0,
        };
        let timeout = K::Timeout {
            waiting_for: "publisher confirms".into(),
            after_ms: 5000,
        };
        let rows: Vec<(Timeline, EndKind, u64)> = vec![
            (
                tl(
                    &[
                        (6005, peer(TcpEnd::Reset, 5990, 990)),
                        (8000, io_err("writing Basic.Publish", 104)),
                    ],
                    &[10],
                ),
                EndKind::Reset,
                6005,
            ),
            (
                tl(&[(8000, io_err("writing Basic.Publish", 104))], &[10]),
                EndKind::Reset,
                8000,
            ),
            (
                tl(&[(8000, io_err("writing Basic.Publish", 32))], &[10]),
                EndKind::Fin,
                8000,
            ),
            (tl(&[(3000, K::Eof)], &[10]), EndKind::Fin, 3000),
            (
                tl(&[(3000, close.clone()), (3001, K::Eof)], &[10]),
                EndKind::ServerClose,
                3000,
            ),
            (
                tl(&[(9000, timeout.clone())], &[10]),
                EndKind::Silence,
                9000,
            ),
            (
                tl(&[(9000, io_err("reading", 110))], &[10]),
                EndKind::Silence,
                9000,
            ),
            (
                tl(&[(100, K::Interrupted)], &[10]),
                EndKind::ClientClose,
                100,
            ),
            (
                tl(
                    &[
                        (8000, K::ClientClose { reply_code: 200 }),
                        (8001, K::CloseOk),
                    ],
                    &[10, 8000],
                ),
                EndKind::Alive,
                8000,
            ),
        ];
        for (i, (t, kind, at)) in rows.iter().enumerate() {
            let e = end_of(t);
            assert_eq!((e.kind, e.at_ms), (*kind, *at), "row {i}: {e:?}");
        }
        // Silence since the last write before the end, when the observer
        // did not measure it.
        let e = end_of(&tl(
            &[(8000, io_err("writing Basic.Publish", 104))],
            &[10, 8000],
        ));
        assert_eq!(e.since_last_client_byte_ms, Some(0));
    }

    fn end(kind: EndKind, client_silence: u64, server_silence: Option<u64>) -> End {
        let mut e = End::new(kind, client_silence + 10, "observer");
        e.since_last_client_byte_ms = Some(client_silence);
        e.since_last_server_byte_ms = server_silence;
        e
    }

    fn facts<'a>(
        mode: Mode,
        t: u16,
        idle: u64,
        tl: &'a Timeline,
        e: &'a End,
        p: &'a [PublishReport],
    ) -> RunFacts<'a> {
        RunFacts {
            mode,
            server_heartbeat_s: Some(60),
            requested_heartbeat_s: Some(t),
            heartbeat_s: t,
            idle_ms: idle,
            pump_every_ms: None,
            confirm_timeout_ms: 5000,
            timeline: tl,
            end: e,
            publishes: p,
            interrupted: false,
        }
    }

    #[test]
    fn attribution_rule() {
        let empty = Timeline::new(false);
        // (end, T, verdict)
        let rows: Vec<(End, u16, VerdictCode)> = vec![
            // the measured case: RST 5.99 s after the last byte, T = 2
            (
                end(EndKind::Reset, 5990, Some(990)),
                2,
                VerdictCode::BrokerHeartbeatTimeout,
            ),
            (
                end(EndKind::Reset, 4100, Some(100)),
                2,
                VerdictCode::BrokerHeartbeatTimeout,
            ),
            // at T = 60: 120–180 s
            (
                end(EndKind::Reset, 150_000, Some(20_000)),
                60,
                VerdictCode::BrokerHeartbeatTimeout,
            ),
            // too early for the broker: something else, path not idle
            (
                end(EndKind::Reset, 1500, Some(200)),
                2,
                VerdictCode::PeerReset,
            ),
            (
                end(EndKind::Fin, 1500, Some(200)),
                2,
                VerdictCode::PeerClosed,
            ),
            // far past 3T: not the broker's window
            (
                end(EndKind::Reset, 60_000, Some(500)),
                2,
                VerdictCode::PeerReset,
            ),
            // heartbeats off, both directions silent: an idle timeout in the path
            (
                end(EndKind::Reset, 350_000, Some(350_000)),
                0,
                VerdictCode::PathIdleTimeout,
            ),
            (
                end(EndKind::Fin, 30_000, Some(30_000)),
                0,
                VerdictCode::PathIdleTimeout,
            ),
            // heartbeats off but the server was talking: a plain reset
            (
                end(EndKind::Reset, 30_000, Some(10)),
                0,
                VerdictCode::PeerReset,
            ),
            (end(EndKind::Alive, 0, None), 2, VerdictCode::Healthy),
            (end(EndKind::Silence, 0, None), 2, VerdictCode::Timeout),
        ];
        for (i, (e, t, want)) in rows.iter().enumerate() {
            let f = facts(Mode::Starved, *t, 8000, &empty, e, &[]);
            assert_eq!(attribute(&f), *want, "row {i}: {e:?} T={t}");
        }
        let mut close = End::new(EndKind::ServerClose, 100, "close_frame");
        for (code, class, method, want) in [
            (320, 0, 0, VerdictCode::ServerClosed),
            (403, 10, 11, VerdictCode::AuthFailed),
            (530, 10, 40, VerdictCode::VhostNotAllowed),
            (541, 0, 0, VerdictCode::ServerClosed),
        ] {
            close.reply_code = Some(code);
            close.class_id = Some(class);
            close.method_id = Some(method);
            let f = facts(Mode::Disabled, 0, 0, &empty, &close, &[]);
            assert_eq!(attribute(&f), want, "{code}");
        }
    }

    #[test]
    fn silence_with_lost_publishes_is_silent_loss_and_blocked_wins() {
        let lost = publish_reports(
            &[PublishAttempt {
                seq: 1,
                at_ms: 1,
                write_error: None,
                acked: None,
                returned: false,
            }],
            false,
        );
        let e = end(EndKind::Silence, 0, None);
        let empty = Timeline::new(false);
        assert_eq!(
            attribute(&facts(Mode::Disabled, 0, 0, &empty, &e, &lost)),
            VerdictCode::SilentLoss
        );
        let blocked = tl(
            &[(
                5,
                K::Blocked {
                    reason: "low on memory".into(),
                },
            )],
            &[],
        );
        assert_eq!(
            attribute(&facts(Mode::Disabled, 0, 0, &blocked, &e, &lost)),
            VerdictCode::Blocked
        );
    }

    #[test]
    fn predictions() {
        let rows = [
            (
                Mode::Starved,
                2,
                8000,
                None,
                Prediction::BrokerHeartbeatTimeout,
            ),
            (Mode::Starved, 2, 3000, None, Prediction::Healthy),
            (Mode::Starved, 2, 5000, None, Prediction::Either),
            (Mode::Starved, 60, 90_000, None, Prediction::Healthy),
            (
                Mode::Starved,
                60,
                182_000,
                None,
                Prediction::BrokerHeartbeatTimeout,
            ),
            (Mode::Starved, 2, 8000, Some(1000), Prediction::Healthy),
            (
                Mode::Starved,
                2,
                60_000,
                Some(10_000),
                Prediction::BrokerHeartbeatTimeout,
            ),
            (Mode::Starved, 0, 60_000, None, Prediction::Healthy),
            (Mode::Serviced, 2, 60_000, None, Prediction::Healthy),
            (Mode::Disabled, 0, 60_000, None, Prediction::Healthy),
        ];
        for (mode, t, idle, pump, want) in rows {
            assert_eq!(
                predict(mode, t, idle, pump),
                want,
                "{mode:?} T={t} idle={idle} pump={pump:?}"
            );
        }
        assert!(Prediction::Either.admits(VerdictCode::Healthy));
        assert!(Prediction::Either.admits(VerdictCode::BrokerHeartbeatTimeout));
        assert!(!Prediction::Healthy.admits(VerdictCode::PeerReset));
        let text = prediction_text(Mode::Starved, 60, 90_000, None);
        assert!(
            text.contains("2T = 120 s")
                && text.contains("3T = 180 s")
                && text.contains("will not reproduce"),
            "{text}"
        );
    }

    #[test]
    fn publish_outcomes() {
        let a = |write_error: Option<(Option<i32>, String)>, acked, returned| PublishAttempt {
            seq: 1,
            at_ms: 0,
            write_error,
            acked,
            returned,
        };
        let rows = [
            (a(None, Some(true), false), false, Outcome::Confirmed),
            (a(None, Some(true), true), false, Outcome::Returned),
            (a(None, Some(false), false), false, Outcome::Nacked),
            (a(None, None, false), false, Outcome::Lost),
            (a(None, None, false), true, Outcome::Unknown),
            (
                a(Some((Some(104), "ECONNRESET".into())), None, false),
                false,
                Outcome::Failed,
            ),
        ];
        for (attempt, interrupted, want) in rows {
            let r = publish_reports(std::slice::from_ref(&attempt), interrupted);
            assert_eq!(r[0].outcome, want, "{attempt:?}");
        }
    }

    #[test]
    fn setup_failures() {
        use crate::wire::{CloseInfo, WireError as W};
        let close = |code| {
            W::ServerClose(CloseInfo {
                reply_code: code,
                reply_text: String::new(),
                class_id: 10,
                method_id: 40,
            })
        };
        let rows = [
            ("handshake", close(403), VerdictCode::AuthFailed),
            ("handshake", close(530), VerdictCode::VhostNotAllowed),
            ("channel", close(403), VerdictCode::ServerClosed),
            (
                "handshake",
                W::ProtocolMismatch("x".into()),
                VerdictCode::ProtocolMismatch,
            ),
            (
                "handshake",
                W::Eof {
                    waiting_for: "Connection.Tune".into(),
                },
                VerdictCode::AuthFailed,
            ),
            (
                "handshake",
                W::Eof {
                    waiting_for: "Connection.Start".into(),
                },
                VerdictCode::PeerClosed,
            ),
            (
                "handshake",
                W::Timeout {
                    waiting_for: "Connection.Start".into(),
                    after: std::time::Duration::from_secs(5),
                },
                VerdictCode::Timeout,
            ),
            (
                "handshake",
                W::Io {
                    op: "reading".into(),
                    err: io::Error::from_raw_os_error(104),
                },
                VerdictCode::PeerReset,
            ),
        ];
        for (stage, err, want) in rows {
            assert_eq!(setup_failure_code(stage, &err), want, "{stage} {err}");
        }
    }

    #[test]
    fn secs_formatting() {
        assert_eq!(secs(350), "350 ms");
        assert_eq!(secs(120_000), "120 s");
        assert_eq!(secs(6007), "6.007 s");
    }
}
