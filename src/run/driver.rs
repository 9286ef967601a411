//! The one lifecycle every run follows, over the [`Connection`] trait.
//!
//! While idle the socket observer times any RST/FIN without reading; the
//! idle is cut short when the connection is already dead (publishing at once
//! or later gives the application the same errno, and nobody should wait
//! minutes for a known result).

use std::collections::BTreeMap;
use std::future::Future;
use std::os::fd::OwnedFd;

use super::{cancelled, probe_body, Policy, RunOutcome, RunSpec};
use crate::observe::{self, Observation, Observer, TcpInfo};
use crate::timeline::{EventKind, PublishAttempt, Settled, Timeline};
use crate::vocab::units::duration_ms;
use crate::vocab::{Destination, Negotiation, SetupError};
use crate::wire::{OpenFailure, ServerInfo};

/// What the driver needs from a client, once the connection is open.
///
/// Implementations record their own frames on the timeline; the driver
/// records the experiment (idle, publishes, what the observer saw).
pub(super) trait Connection {
    fn timeline(&mut self) -> &mut Timeline;
    fn into_timeline(self) -> Timeline;
    /// Channel, publisher confirms and, for [`Destination::OwnQueue`], the
    /// private queue (its name is returned).
    async fn prepare(&mut self, dest: &Destination) -> Result<Option<String>, SetupError>;
    /// Read what has arrived and answer with a heartbeat; false when the
    /// connection failed.
    async fn pump(&mut self) -> bool;
    /// Account for what crossed the socket during the idle, from TCP_INFO
    /// before and after it (heartbeats nobody read, or lapin's own).
    fn record_idle_traffic(&mut self, before: &TcpInfo, after: &TcpInfo, pumped: bool);
    /// Publish one message; the errno and its name when the write failed.
    async fn publish(
        &mut self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
    ) -> Result<(), (Option<i32>, String)>;
    /// Wait until `deadline` for the broker to settle the publishes `seqs`.
    async fn settle(
        &mut self,
        seqs: &[u32],
        deadline: tokio::time::Instant,
    ) -> BTreeMap<u32, Settled>;
    /// Whether publishes can be confirmed (the server announced
    /// `publisher_confirms`); without, their outcome is unknown, not lost.
    fn confirms(&self) -> bool {
        true
    }

    /// Consume `queue` without acking for `hold` (`--consume`). Clients that
    /// cannot say so on the timeline.
    async fn consume_unacked(&mut self, queue: &str, hold: std::time::Duration) {
        let _ = (queue, hold);
        self.timeline().push(EventKind::Note {
            text: "this client cannot consume: --consume was skipped".into(),
        });
    }

    fn is_open(&self) -> bool;
    /// Close politely (Connection.Close, Close-Ok), within the step timeout.
    async fn close(&mut self);
}

/// A connection just opened, with what the opening learned.
pub(super) struct Opened<C> {
    pub conn: C,
    /// A duplicate of the socket's fd: for the observer and TCP_INFO.
    pub fd: Option<OwnedFd>,
    pub server: Option<ServerInfo>,
    pub negotiation: Negotiation,
    pub notes: Vec<String>,
}

/// Run the experiment on a connection that `open` will produce.
pub(super) async fn drive<C: Connection>(
    spec: &RunSpec,
    policy: &Policy,
    open: impl Future<Output = Result<Opened<C>, Box<OpenFailure>>>,
) -> RunOutcome {
    let mut cancel = spec.cancel.clone();
    let mut out = RunOutcome::new(spec, policy, Timeline::new(spec.trace));
    let opened = tokio::select! {
        o = open => o,
        _ = cancelled(&mut cancel) => {
            out.interrupted = true;
            out.timeline.push(EventKind::Interrupted);
            return out;
        }
    };
    let Opened {
        mut conn,
        fd,
        server,
        negotiation,
        notes,
    } = match opened {
        Ok(o) => o,
        Err(f) => {
            out.timeline = f.timeline;
            out.setup_error = Some(f.error);
            return out;
        }
    };
    out.server = server;
    out.negotiation = Some(negotiation);
    out.notes = notes;

    if !prepare(spec, &mut conn, &mut out, &mut cancel).await {
        return finish(out, conn).await;
    }

    let mut observer = fd
        .as_ref()
        .and_then(|fd| fd.try_clone().ok())
        .map(Observer::watch);
    let before = fd.as_ref().and_then(|fd| observe::tcp_info(fd).ok());
    let mut observed = idle(spec, policy, &mut conn, &mut out, observer.as_mut()).await;
    let after = observed
        .map(|o| o.info)
        .or_else(|| fd.as_ref().and_then(|fd| observe::tcp_info(fd).ok()));
    if let (Some(b), Some(a)) = (before, after) {
        conn.record_idle_traffic(&b, &a, policy.pump_every.is_some());
    }
    conn.timeline().push(EventKind::IdleEnd);

    if !out.interrupted {
        experiment(spec, &mut conn, &mut out).await;
    }
    // Stop watching before we close: our own close ends in the server's FIN,
    // which is not news.
    if let Some(obs) = observer.take() {
        if observed.is_none() {
            observed = obs.stop();
            if let Some(o) = &observed {
                record_observation(conn.timeline(), o);
            }
        }
    }
    finish(out, conn).await
}

/// Declare what the run publishes to (the probe's own queue, or the
/// user's exchange). False when the run must end here: the broker refused,
/// or Ctrl-C came first.
async fn prepare<C: Connection>(
    spec: &RunSpec,
    conn: &mut C,
    out: &mut RunOutcome,
    cancel: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    let prepared = tokio::select! {
        p = conn.prepare(&spec.destination) => Some(p),
        _ = cancelled(cancel) => None,
    };
    match prepared {
        Some(Ok(q)) => {
            out.queue = q;
            out.confirms = conn.confirms();
            true
        }
        Some(Err(e)) => {
            out.setup_error = Some(e);
            false
        }
        None => {
            out.interrupted = true;
            conn.timeline().push(EventKind::Interrupted);
            false
        }
    }
}

async fn finish<C: Connection>(mut out: RunOutcome, mut conn: C) -> RunOutcome {
    if conn.is_open() {
        conn.close().await;
    }
    out.timeline = conn.into_timeline();
    out
}

/// Put what the observer saw on the timeline, at the moment it saw it.
fn record_observation(tl: &mut Timeline, o: &Observation) {
    let at = tl.ms_at(o.at);
    tl.push_at(
        at,
        EventKind::PeerEnded {
            how: o.how,
            tcp_state: observe::tcp_state_name(o.info.state).to_string(),
            since_last_client_byte_ms: u64::from(o.info.last_data_sent_ms),
            since_last_server_byte_ms: u64::from(o.info.last_data_recv_ms),
        },
    );
}

/// Stay silent (or pump) for the idle, watching for the peer ending the
/// connection and for Ctrl-C. Returns what the observer saw, if it fired.
async fn idle<C: Connection>(
    spec: &RunSpec,
    policy: &Policy,
    conn: &mut C,
    out: &mut RunOutcome,
    mut observer: Option<&mut Observer>,
) -> Option<Observation> {
    conn.timeline().push(EventKind::IdleStart {
        planned_ms: duration_ms(spec.idle),
    });
    let end = tokio::time::Instant::now() + spec.idle;
    let mut cancel = spec.cancel.clone();
    let mut pump = policy.pump_every.map(|p| {
        let mut i = tokio::time::interval_at(tokio::time::Instant::now() + p, p);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    loop {
        // Each arm is cancel-safe: a sleep, a oneshot, a watch, an interval
        // tick; the pump's read runs to completion inside its arm.
        tokio::select! {
            _ = cancelled(&mut cancel) => {
                out.interrupted = true;
                conn.timeline().push(EventKind::Interrupted);
                return None;
            }
            _ = tokio::time::sleep_until(end) => return None,
            o = async {
                match observer.as_deref_mut() {
                    Some(obs) => obs.fired().await,
                    None => std::future::pending().await,
                }
            } => {
                let tl = conn.timeline();
                record_observation(tl, &o);
                out.idle_cut_short_at_ms = Some(tl.ms_at(o.at));
                return Some(o);
            }
            _ = async {
                match pump.as_mut() {
                    Some(i) => { i.tick().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {
                // The remedy: read what arrived, answer with a heartbeat.
                if !conn.pump().await {
                    out.idle_cut_short_at_ms = Some(conn.timeline().now_ms());
                    return None;
                }
            }
        }
    }
}

/// Publish and settle, then (`--consume`) hold the deliveries unacked.
async fn experiment<C: Connection>(spec: &RunSpec, conn: &mut C, out: &mut RunOutcome) {
    publish_and_settle(spec, conn, out).await;
    let (Some(hold), Some(queue)) = (spec.hold, out.queue.clone()) else {
        return;
    };
    if out.interrupted || !conn.is_open() {
        return;
    }
    let mut cancel = spec.cancel.clone();
    tokio::select! {
        () = conn.consume_unacked(&queue, hold) => {}
        _ = cancelled(&mut cancel) => {
            out.interrupted = true;
            conn.timeline().push(EventKind::Interrupted);
        }
    }
}

/// Publish, then wait for the broker to settle what was written.
async fn publish_and_settle<C: Connection>(spec: &RunSpec, conn: &mut C, out: &mut RunOutcome) {
    let (exchange, routing_key) = match (&spec.destination, &out.queue) {
        (
            Destination::Exchange {
                exchange,
                routing_key,
            },
            _,
        ) => (exchange.clone(), routing_key.clone()),
        (Destination::OwnQueue, Some(q)) => (String::new(), q.clone()),
        (Destination::OwnQueue, None) => return,
    };
    let mut written = Vec::new();
    for seq in 1..=spec.publishes {
        let at_ms = conn.timeline().now_ms();
        let body = probe_body(spec.mode, seq);
        let write_error = match conn.publish(&exchange, &routing_key, &body).await {
            Ok(()) => {
                conn.timeline()
                    .push_at(at_ms, EventKind::PublishWritten { seq });
                written.push(seq);
                None
            }
            Err((errno, name)) => Some(conn.timeline().publish_failed(at_ms, seq, errno, name)),
        };
        out.attempts.push(PublishAttempt {
            seq,
            at_ms,
            write_error,
            settled: None,
        });
    }
    if written.is_empty() || !conn.is_open() {
        return;
    }
    if !conn.confirms() {
        // Without publisher confirms nothing will settle them: their
        // outcome stays unknown (see RunOutcome::confirms).
        return;
    }
    let deadline = tokio::time::Instant::now() + spec.confirm_timeout;
    let mut cancel = spec.cancel.clone();
    let settled = tokio::select! {
        s = conn.settle(&written, deadline) => s,
        _ = cancelled(&mut cancel) => {
            out.interrupted = true;
            conn.timeline().push(EventKind::Interrupted);
            return;
        }
    };
    for a in &mut out.attempts {
        a.settled = settled.get(&a.seq).copied();
    }
}
