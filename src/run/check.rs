//! `check` against one target: every step on the wire client, each timed,
//! each bounded by the step timeout and each raced against Ctrl-C.
//!
//! ```text
//!   dns → connect → handshake → channel (+ confirm.select) → queue
//!       → publish (+ wait for the confirm) → get (compare body) → close
//! ```
//!
//! A failed step ends the check; the steps after it are recorded as not
//! run (skipped), but an open connection is still closed, untimed, so the
//! check's exclusive, auto-delete queue goes with it. Only spec-level
//! methods are used; `publisher_confirms` is used when the server announces
//! it, and without it the publish is timed as a write and the get retried.

use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::cancelled;
use crate::target::Target;
use crate::timeline::{EventKind, Timeline};
use crate::vocab::check::{CheckStep, StepError};
use crate::vocab::{HeartbeatRequest, Stage};
use crate::wire::{self, Confirm, Handshake, HandshakeParams, Transport, WireConn, WireError};

/// What one target's check is asked to do.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    pub target: Target,
    pub heartbeat: HeartbeatRequest,
    pub step_timeout: Duration,
    /// Publish through this exchange (the user named it) instead of the
    /// default exchange; the check's queue is bound to it with the key.
    pub exchange: Option<(String, Option<String>)>,
    pub cancel: tokio::sync::watch::Receiver<bool>,
}

/// One step as it happened: timed when it ran, with its error when it
/// failed; neither when it did not run.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    pub step: CheckStep,
    pub took: Option<Duration>,
    pub error: Option<StepError>,
}

/// Everything one target's check saw.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// Every step of the check, in order, run or not.
    pub steps: Vec<StepRecord>,
    pub handshake: Option<Handshake>,
    pub peer: Option<SocketAddr>,
    /// The check's own queue, once declared.
    pub queue: Option<String>,
    /// Whether the publish was confirmed by the broker (publisher confirms
    /// announced and used).
    pub confirms: bool,
    pub notes: Vec<String>,
    /// A certificate rustls refused that the `--tls-as` family accepts.
    pub tls_accepted: Option<crate::vocab::tls::TlsLeniency>,
    /// When the check of this target began (it may wait for a slot).
    pub began: Instant,
    pub total: Duration,
    pub interrupted: bool,
}

impl CheckOutcome {
    /// Record a certificate rustls refused that the `--tls-as` family accepts.
    fn accept_tls(&mut self, l: Option<&crate::vocab::tls::TlsLeniency>) {
        if let Some(l) = l {
            self.notes.push(l.note());
            self.tls_accepted = Some(l.clone());
        }
    }
}

/// The biggest body a check accepts back: its own is a few dozen bytes.
const MAX_BODY: u64 = 64 * 1024;

/// The steps of a check of an `amqp://` target, in order; `amqps://` adds
/// `tls` after `connect` ([`steps_for`]).
pub const STEPS: [CheckStep; 8] = [
    CheckStep::Dns,
    CheckStep::Connect,
    CheckStep::Handshake,
    CheckStep::Channel,
    CheckStep::Queue,
    CheckStep::Publish,
    CheckStep::Get,
    CheckStep::Close,
];

/// The steps of a check of `target`, in order.
pub fn steps_for(target: &Target) -> Vec<CheckStep> {
    let mut steps = STEPS.to_vec();
    if target.is_tls() {
        steps.insert(2, CheckStep::Tls);
    }
    steps
}

/// 16 hex digits from the standard library's per-process random hasher
/// keys: enough to keep concurrent checks' queue names apart.
pub fn random_token() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

/// Records steps as they run.
struct Steps {
    records: Vec<StepRecord>,
    cancel: tokio::sync::watch::Receiver<bool>,
    failed: bool,
    interrupted: bool,
}

impl Steps {
    /// Run `fut` as `step`: time it, race it against Ctrl-C, record it.
    async fn run<T>(
        &mut self,
        step: CheckStep,
        fut: impl std::future::Future<Output = Result<T, StepError>>,
    ) -> Option<T> {
        let started = Instant::now();
        let res = tokio::select! {
            r = fut => r,
            _ = cancelled(&mut self.cancel) => {
                self.interrupted = true;
                Err(StepError::Interrupted)
            }
        };
        let took = started.elapsed();
        match res {
            Ok(t) => {
                self.records.push(StepRecord {
                    step,
                    took: Some(took),
                    error: None,
                });
                Some(t)
            }
            Err(e) => {
                self.failed = true;
                self.records.push(StepRecord {
                    step,
                    took: Some(took),
                    error: Some(e),
                });
                None
            }
        }
    }

    /// The records, with every step that did not run added as skipped.
    fn finish(mut self, all: &[CheckStep]) -> (Vec<StepRecord>, bool) {
        for &step in all {
            if !self.records.iter().any(|r| r.step == step) {
                self.records.push(StepRecord {
                    step,
                    took: None,
                    error: None,
                });
            }
        }
        self.records.sort_by_key(|r| r.step);
        (self.records, self.interrupted)
    }
}

fn wire_err(stage: Stage) -> impl Fn(WireError) -> StepError {
    move |e| StepError::Wire(e.setup_error(stage))
}

/// Check one target.
pub async fn check(spec: CheckSpec) -> CheckOutcome {
    let started = Instant::now();
    let mut steps = Steps {
        records: Vec::new(),
        cancel: spec.cancel.clone(),
        failed: false,
        interrupted: false,
    };
    let mut out = CheckOutcome {
        steps: Vec::new(),
        handshake: None,
        peer: None,
        queue: None,
        confirms: false,
        notes: Vec::new(),
        tls_accepted: None,
        began: started,
        total: Duration::ZERO,
        interrupted: false,
    };
    let conn = run_steps(&spec, &mut steps, &mut out).await;
    if let Some(mut conn) = conn {
        // A step failed after the connection opened: close it anyway
        // (bounded by the step timeout) so nothing is left on the broker.
        if !conn.is_dead() {
            let _ = conn.close().await;
        }
    }
    let (records, interrupted) = steps.finish(&steps_for(&spec.target));
    out.steps = records;
    out.interrupted = interrupted;
    out.total = started.elapsed();
    out
}

/// The publish step: publish, then wait (within `timeout`) for the confirm.
/// A confirm that never came on a connection the broker blocked
/// (Connection.Blocked) is that block, not a bare timeout.
async fn publish_step(
    conn: &mut WireConn<Transport>,
    (exchange, key): (&str, &str),
    body: &[u8],
    confirms: bool,
    timeout: Duration,
) -> Result<(), StepError> {
    let ch = 1;
    let e = wire_err(Stage::Channel);
    let started = Instant::now();
    conn.publish(ch, exchange, key, body).await.map_err(&e)?;
    if !confirms {
        return Ok(());
    }
    let mut pending = vec![1];
    let deadline = Instant::now() + timeout;
    let (settled, err) = conn.await_confirms(&mut pending, deadline).await;
    let blocked = conn.tl.events.iter().rev().find_map(|ev| match &ev.kind {
        EventKind::Blocked { reason } => Some(reason.clone()),
        EventKind::Unblocked => Some(String::new()),
        _ => None,
    });
    match (err, blocked) {
        (Some(WireError::Timeout { .. }), Some(reason)) if !reason.is_empty() => {
            return Err(StepError::Blocked {
                reason,
                waited_ms: crate::vocab::units::duration_ms(started.elapsed()),
            })
        }
        (Some(err), _) => return Err(e(err)),
        (None, _) => {}
    }
    if let Some(EventKind::Returned {
        reply_code,
        reply_text,
    }) = conn
        .tl
        .events
        .iter()
        .rev()
        .map(|ev| &ev.kind)
        .find(|k| matches!(k, EventKind::Returned { .. }))
    {
        return Err(StepError::Returned {
            reply_code: *reply_code,
            reply_text: reply_text.clone(),
        });
    }
    match settled.get(&1) {
        Some(Confirm::Ack) => Ok(()),
        _ => Err(StepError::Nacked),
    }
}

/// The steps, in order. Returns the connection when a step failed while it
/// was open (the caller closes it).
async fn run_steps(
    spec: &CheckSpec,
    steps: &mut Steps,
    out: &mut CheckOutcome,
) -> Option<WireConn<Transport>> {
    let timeout = spec.step_timeout;
    // Before Open-Ok there is no connection to close politely.
    let (mut conn, confirms) = opening_steps(spec, steps, out).await?;

    let ch = 1;
    let channel = steps
        .run(CheckStep::Channel, async {
            let e = wire_err(Stage::Channel);
            conn.open_channel(ch).await.map_err(&e)?;
            if confirms {
                conn.confirm_select(ch).await.map_err(&e)?;
            }
            Ok(())
        })
        .await;
    if channel.is_none() {
        return Some(conn);
    }

    let token = random_token();
    let wanted = format!("amqpdoctor.check.{token}");
    let (exchange, key) = match &spec.exchange {
        Some((x, key)) => (x.clone(), key.clone().unwrap_or_else(|| wanted.clone())),
        None => (String::new(), wanted.clone()),
    };
    let queue = steps
        .run(CheckStep::Queue, async {
            let e = wire_err(Stage::Channel);
            let q = conn.declare_queue(ch, &wanted).await.map_err(&e)?;
            if !exchange.is_empty() {
                conn.bind_queue(ch, &q, &exchange, &key).await.map_err(&e)?;
            }
            Ok(q)
        })
        .await;
    let Some(queue) = queue else {
        return Some(conn);
    };
    out.queue = Some(queue.clone());

    let body = format!("amqpdoctor check {token}; safe to discard").into_bytes();
    let published = steps
        .run(
            CheckStep::Publish,
            publish_step(&mut conn, (&exchange, &key), &body, confirms, timeout),
        )
        .await;
    if published.is_none() {
        return Some(conn);
    }

    let got = steps
        .run(
            CheckStep::Get,
            get_step(&mut conn, &queue, &body, confirms, timeout),
        )
        .await;
    if got.is_none() {
        return Some(conn);
    }

    steps
        .run(CheckStep::Close, async {
            conn.close().await.map_err(wire_err(Stage::Channel))
        })
        .await;
    None
}

/// The steps up to an open connection: dns, connect, tls (for `amqps://`)
/// and the handshake. Returns the connection and whether the server
/// announced publisher confirms, or None when a step failed.
async fn opening_steps(
    spec: &CheckSpec,
    steps: &mut Steps,
    out: &mut CheckOutcome,
) -> Option<(WireConn<Transport>, bool)> {
    let timeout = spec.step_timeout;
    let target = &spec.target;
    let mut tl = Timeline::new(false);

    let addrs = steps
        .run(CheckStep::Dns, async {
            wire::resolve(target, timeout)
                .await
                .map_err(|e| StepError::Wire(e.setup_error()))
        })
        .await?;
    let stream = steps
        .run(CheckStep::Connect, async {
            wire::connect_addrs(target.host(), &addrs, timeout, &mut tl)
                .await
                .map_err(|e| StepError::Wire(e.setup_error()))
        })
        .await?;
    out.peer = stream.peer_addr().ok();
    let stream = if target.is_tls() {
        steps
            .run(CheckStep::Tls, async {
                wire::secure(stream, target, timeout, &mut tl)
                    .await
                    .inspect(|s| out.accept_tls(s.leniency()))
                    .map_err(wire_err(Stage::Tls))
            })
            .await?
    } else {
        Transport::Plain(stream)
    };

    let mut conn = WireConn::new(stream, tl, timeout);
    let params = HandshakeParams::for_target(target, spec.heartbeat, "amqpdoctor/check");
    let hs = steps
        .run(CheckStep::Handshake, async {
            conn.handshake(&params)
                .await
                .map_err(wire_err(Stage::Handshake))
        })
        .await?;
    let confirms = hs.server.has_capability("publisher_confirms");
    out.handshake = Some(hs);
    out.confirms = confirms;
    if !confirms {
        out.notes.push(
            "the server does not announce publisher_confirms: the publish is timed as a write \
             and the get retried until the message arrives"
                .into(),
        );
    }

    Some((conn, confirms))
}

/// The get step: get the message back (within `timeout`) and compare its
/// body with the one published. Without publisher confirms an empty queue
/// is retried until the deadline.
async fn get_step(
    conn: &mut WireConn<Transport>,
    queue: &str,
    body: &[u8],
    confirms: bool,
    timeout: Duration,
) -> Result<(), StepError> {
    let ch = 1;
    let e = wire_err(Stage::Channel);
    let deadline = Instant::now() + timeout;
    loop {
        match conn.get(ch, queue, MAX_BODY).await.map_err(&e)? {
            Some(b) if b == body => return Ok(()),
            Some(b) => {
                return Err(StepError::BodyMismatch {
                    sent: body.len(),
                    got: b.len(),
                })
            }
            // Confirmed means enqueued: empty is a loss. Without
            // confirms the message may still be on its way.
            None if confirms || Instant::now() >= deadline => return Err(StepError::NotDelivered),
            None => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_and_name_a_queue() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(STEPS.first(), Some(&CheckStep::Dns));
        assert_eq!(STEPS.last(), Some(&CheckStep::Close));
        assert!(STEPS.windows(2).all(|w| w[0] < w[1]), "in order");
    }
}
