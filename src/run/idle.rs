//! `idle-timeout`: K connections with heartbeats off, opened together, each
//! idling for its own duration, then asked for one round trip.
//!
//! ```text
//!   open ×K (heartbeat 0) ─► idle d₁ … d_K, reading (an RST or FIN while
//!   silent is seen as it comes) ─► Channel.Open → Open-Ok ─► close
//! ```
//!
//! All idles run at once, so the discovery takes one `--max`, not a search.
//! Once a connection is known dead after idle d, those still idling longer
//! than d are stopped (they could only die the same way) unless
//! `wait_all`. Every wait is bounded by the step timeout or the idle, and
//! raced against Ctrl-C.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::cancelled;
use crate::target::Target;
use crate::timeline::Timeline;
use crate::vocab::check::Millis;
use crate::vocab::idle::{Fate, IdleProbe};
use crate::vocab::units::{duration_ms, errno_name, secs};
use crate::vocab::{Awaiting, HeartbeatRequest, SetupError};
use crate::wire::{self, Handshake, HandshakeParams, WireConn, WireError};

/// What the discovery is asked to do.
#[derive(Debug, Clone)]
pub struct IdleSpec {
    pub target: Target,
    /// One connection per idle.
    pub idles: Vec<Duration>,
    /// Bounds the connect, each handshake step and the round trip.
    pub step_timeout: Duration,
    /// Idle every connection to its end even after a shorter one died.
    pub wait_all: bool,
    pub cancel: watch::Receiver<bool>,
}

/// Everything the discovery saw.
#[derive(Debug, Clone)]
pub struct IdleOutcome {
    /// One per idle, in the order of the idles.
    pub probes: Vec<IdleProbe>,
    /// The first connection's handshake (the server and its Tune).
    pub handshake: Option<Handshake>,
    pub peer: Option<SocketAddr>,
    /// Why the first connection that failed to open failed.
    pub setup_error: Option<SetupError>,
    /// A certificate rustls refused that the `--tls-as` family accepts.
    pub tls_accepted: Option<crate::vocab::tls::TlsLeniency>,
    pub total: Duration,
    pub interrupted: bool,
}

/// How long a connection that is about to be skipped is read first, to
/// catch a death that came at the same moment as the other's.
const GLANCE: Duration = Duration::from_millis(50);

/// What one connection task reports.
struct Report {
    probe: IdleProbe,
    handshake: Option<Handshake>,
    peer: Option<SocketAddr>,
    setup_error: Option<SetupError>,
    tls_accepted: Option<crate::vocab::tls::TlsLeniency>,
}

/// Run the discovery.
pub async fn discover(spec: IdleSpec) -> IdleOutcome {
    let started = Instant::now();
    // The shortest idle after which a connection was known dead, so far.
    let (dead_tx, dead_rx) = watch::channel(None::<u64>);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, idle) in spec.idles.iter().copied().enumerate() {
        let (target, timeout, cancel) =
            (spec.target.clone(), spec.step_timeout, spec.cancel.clone());
        let (dead_tx, dead_rx) = (dead_tx.clone(), dead_rx.clone());
        let stop_early = !spec.wait_all;
        tasks.spawn(async move {
            let report = one(
                &target,
                idle,
                timeout,
                cancel,
                stop_early.then_some(dead_rx),
            )
            .await;
            if let Some(d) = report.probe.dead_after_ms() {
                dead_tx.send_modify(|v| *v = Some(v.map_or(d, |v| v.min(d))));
            }
            (i, report)
        });
    }
    drop(dead_tx);
    let mut reports: Vec<Option<Report>> = (0..spec.idles.len()).map(|_| None).collect();
    while let Some(done) = tasks.join_next().await {
        // A task panicking is a bug; the others still report.
        if let Ok((i, r)) = done {
            reports[i] = Some(r);
        }
    }
    let mut out = IdleOutcome {
        probes: Vec::new(),
        handshake: None,
        peer: None,
        setup_error: None,
        tls_accepted: None,
        total: started.elapsed(),
        interrupted: *spec.cancel.borrow(),
    };
    for (r, idle) in reports.into_iter().zip(&spec.idles) {
        let Some(r) = r else {
            out.probes.push(probe(
                *idle,
                Fate::Error,
                "the connection's task failed".into(),
            ));
            continue;
        };
        out.handshake = out.handshake.take().or(r.handshake);
        out.tls_accepted = out.tls_accepted.take().or(r.tls_accepted);
        out.peer = out.peer.or(r.peer);
        out.setup_error = out.setup_error.take().or(r.setup_error);
        out.probes.push(r.probe);
    }
    out
}

fn probe(idle: Duration, fate: Fate, detail: String) -> IdleProbe {
    IdleProbe {
        idle_ms: duration_ms(idle),
        fate,
        died_at_ms: None,
        round_trip_ms: None,
        errno_name: None,
        reply_code: None,
        detail,
    }
}

/// One connection: open, idle, round trip, close.
async fn one(
    target: &Target,
    idle: Duration,
    timeout: Duration,
    mut cancel: watch::Receiver<bool>,
    dead: Option<watch::Receiver<Option<u64>>>,
) -> Report {
    let params = HandshakeParams::for_target(
        target,
        HeartbeatRequest::Seconds(0),
        format!("amqpdoctor/idle-timeout {}", secs(duration_ms(idle))),
    );
    let opened = tokio::select! {
        r = wire::open(target, &params, timeout, Timeline::new(false)) => r,
        _ = cancelled(&mut cancel) => {
            return Report {
                probe: probe(idle, Fate::Interrupted, "interrupted while connecting".into()),
                handshake: None,
                peer: None,
                setup_error: None,
                tls_accepted: None,
            };
        }
    };
    let (mut conn, hs) = match opened {
        Ok(o) => o,
        Err(f) => {
            return Report {
                probe: probe(
                    idle,
                    Fate::Error,
                    format!("could not open: {}", f.error.message),
                ),
                handshake: None,
                peer: None,
                setup_error: Some(f.error),
                tls_accepted: None,
            };
        }
    };
    let peer = conn.stream().tcp().peer_addr().ok();
    let mut report = Report {
        probe: probe(idle, Fate::Survived, String::new()),
        handshake: Some(hs.clone()),
        tls_accepted: conn.tl.tls_accepted.clone(),
        peer,
        setup_error: None,
    };
    if !hs.heartbeat.is_off() {
        // The broker's own heartbeats would keep the path busy: this
        // connection cannot measure it.
        report.probe.fate = Fate::Error;
        report.probe.detail = format!(
            "the server would not turn heartbeats off (it agreed {}), so its heartbeats keep the \
             path busy",
            hs.heartbeat
        );
        let _ = conn.close().await;
        return report;
    }
    report.probe = idle_then_round_trip(&mut conn, idle, &mut cancel, dead).await;
    if report.probe.fate == Fate::Survived || report.probe.fate == Fate::Skipped {
        let _ = conn.close().await;
    }
    report
}

/// The idle and the round trip after it.
async fn idle_then_round_trip(
    conn: &mut WireConn<crate::wire::Transport>,
    idle: Duration,
    cancel: &mut watch::Receiver<bool>,
    mut dead: Option<watch::Receiver<Option<u64>>>,
) -> IdleProbe {
    let mut p = probe(idle, Fate::Survived, String::new());
    let idle_ms = duration_ms(idle);
    let began = Instant::now();
    let end = began + idle;
    loop {
        let read = tokio::select! {
            r = conn.read_frame(&Awaiting::PendingFrames, end) => r,
            _ = cancelled(cancel) => {
                p.fate = Fate::Interrupted;
                p.detail = format!("interrupted after {} of idle", secs(duration_ms(began.elapsed())));
                return p;
            }
            d = shorter_died(&mut dead, idle_ms) => {
                // The same box may have killed this one at the same moment:
                // look before calling it skipped.
                let glance = Instant::now() + GLANCE;
                if let Err(e) = conn.read_frame(&Awaiting::PendingFrames, glance).await {
                    if !matches!(e, WireError::Timeout { .. }) {
                        died_while_silent(&mut p, &e, began, idle_ms);
                        return p;
                    }
                }
                p.fate = Fate::Skipped;
                p.detail = format!(
                    "stopped after {} of idle: a connection was already dead after {}",
                    secs(duration_ms(began.elapsed())),
                    secs(d)
                );
                return p;
            }
        };
        match read {
            // Heartbeats are off: nothing should come, but a frame that
            // does (connection.blocked, say) is not a death.
            Ok(_) => continue,
            Err(WireError::Timeout { .. }) => break,
            Err(e) => {
                died_while_silent(&mut p, &e, began, idle_ms);
                return p;
            }
        }
    }
    let asked = Instant::now();
    let rt = tokio::select! {
        r = conn.open_channel(1) => r,
        _ = cancelled(cancel) => {
            p.fate = Fate::Interrupted;
            p.detail = "interrupted during the round trip".into();
            return p;
        }
    };
    match rt {
        Ok(()) => {
            let took = Millis::of(asked.elapsed());
            p.round_trip_ms = Some(took);
            p.detail = format!("Channel.Open answered in {took}");
        }
        Err(e) => {
            let when = format!(
                "in answer to the round trip after the idle (waited up to {})",
                secs(duration_ms(conn.step_timeout()))
            );
            died(&mut p, &e, &when);
        }
    }
    p
}

/// The connection died during its idle (begun at `began`, `idle_ms` long).
fn died_while_silent(p: &mut IdleProbe, e: &WireError, began: Instant, idle_ms: u64) {
    let at = duration_ms(began.elapsed()).min(idle_ms);
    died(p, e, &format!("after {} of idle, while silent", secs(at)));
    p.died_at_ms = Some(at);
}

/// Resolves with the idle after which another connection was known dead,
/// once that is shorter than `idle_ms` (idling on can only repeat it);
/// never when `dead` is None (`wait_all`) or no shorter one dies.
async fn shorter_died(dead: &mut Option<watch::Receiver<Option<u64>>>, idle_ms: u64) -> u64 {
    let Some(dead) = dead.as_mut() else {
        return std::future::pending().await;
    };
    loop {
        if let Some(d) = dead.borrow_and_update().filter(|&d| d < idle_ms) {
            return d;
        }
        if dead.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// Record how a connection died, from the error that showed it.
fn died(p: &mut IdleProbe, e: &WireError, when: &str) {
    p.errno_name = e.raw_os_error().map(errno_name);
    let (fate, what) = match e {
        WireError::Eof { .. } => (
            Fate::Fin,
            "FIN (the peer closed the TCP connection)".to_string(),
        ),
        WireError::Io { err, .. } if err.kind() == std::io::ErrorKind::UnexpectedEof => (
            Fate::Fin,
            "FIN (the peer closed the TCP connection)".to_string(),
        ),
        WireError::Io { err, .. } => match err.raw_os_error() {
            Some(errno) if is_reset(errno) => (
                Fate::Reset,
                format!("RST ({})", p.errno_name.clone().unwrap_or_default()),
            ),
            _ => (Fate::Error, e.to_string()),
        },
        WireError::Timeout { .. } => (
            Fate::Silence,
            "silence: the write was accepted and nothing came back".to_string(),
        ),
        WireError::ServerClose(c) => {
            p.reply_code = Some(c.reply_code);
            (
                Fate::BrokerClose,
                format!("the broker closed it: {} {}", c.reply_code, c.reply_text),
            )
        }
        _ => (Fate::Error, e.to_string()),
    };
    p.fate = fate;
    p.detail = format!("{what} {when}");
}

/// ECONNRESET, or EPIPE (a write after the RST had already arrived).
fn is_reset(errno: i32) -> bool {
    matches!(
        nix::errno::Errno::from_raw(errno),
        nix::errno::Errno::ECONNRESET | nix::errno::Errno::EPIPE
    )
}
