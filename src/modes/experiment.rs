//! The wire experiment shared by the starved and disabled modes: connect,
//! handshake with the policy's Tune-Ok heartbeat, channel, private queue,
//! confirms, idle (observed, optionally pumped), publish, wait for confirms,
//! close.
//!
//! While idle, the socket observer times any RST/FIN without reading; the
//! idle is cut short when the connection is already dead (publishing at once
//! or later gives the application the same errno, and nobody should wait
//! minutes for a known result).

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::{Destination, Negotiation, RunOutcome, RunSpec, SetupFailure};
use crate::classify::PublishAttempt;
use crate::cli::HeartbeatRequest;
use crate::observe::{self, Observation, Observer};
use crate::timeline::{duration_ms, EventKind, Timeline};
use crate::wire::{self, Confirm, HandshakeParams, WireConn, WireError};

/// What distinguishes starved from disabled.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub tune_ok: HeartbeatRequest,
    pub pump_every: Option<Duration>,
}

const CHANNEL: u16 = 1;

pub async fn run(spec: RunSpec, policy: Policy) -> RunOutcome {
    let params = HandshakeParams {
        user: spec.target.user().to_string(),
        password: spec.target.password().to_string(),
        vhost: spec.target.vhost().to_string(),
        heartbeat: policy.tune_ok,
        connection_name: spec.connection_name(),
    };
    let mut out = RunOutcome::new(&spec, Timeline::new(spec.trace));
    out.pump_every_ms = policy.pump_every.map(duration_ms);
    let tl = Timeline::new(spec.trace);
    let (mut conn, hs) = match wire::open(&spec.target, &params, spec.step_timeout, tl).await {
        Ok(v) => v,
        Err(f) => {
            out.timeline = f.timeline;
            out.setup_failure = Some(f.failure);
            return out;
        }
    };
    // A duplicate of the socket for the observer and TCP_INFO: same socket,
    // separate descriptor, so the observer never shares a read with us.
    let fd = conn.stream().as_fd().try_clone_to_owned().ok();
    out.server = Some(hs.server.clone());
    out.negotiation = Some(Negotiation {
        server_heartbeat_s: Some(hs.server_heartbeat_s),
        requested_heartbeat_s: match policy.tune_ok {
            HeartbeatRequest::Server => None,
            HeartbeatRequest::Seconds(s) => Some(s),
        },
        negotiated_heartbeat_s: hs.heartbeat_s,
        frame_max: hs.frame_max,
        channel_max: hs.channel_max,
    });
    let setup = async {
        conn.open_channel(CHANNEL).await?;
        conn.confirm_select(CHANNEL).await?;
        match &spec.destination {
            Destination::OwnQueue => conn.declare_private_queue(CHANNEL).await.map(Some),
            Destination::Exchange { .. } => Ok(None),
        }
    };
    match setup.await {
        Ok(q) => out.queue = q,
        Err(e) => return fail(out, conn, "channel", &e).await,
    }

    let mut observer = fd
        .as_ref()
        .and_then(|fd| fd.try_clone().ok())
        .map(Observer::watch);
    let mut observed: Option<Observation> = None;
    let before = fd.as_ref().and_then(|fd| observe::tcp_info(fd).ok());
    idle(
        &spec,
        &policy,
        &mut conn,
        &mut out,
        observer.as_mut(),
        &mut observed,
    )
    .await;
    let idle_end_info = observed
        .map(|o| o.info)
        .or_else(|| fd.as_ref().and_then(|fd| observe::tcp_info(fd).ok()));
    if policy.pump_every.is_none() {
        if let (Some(b), Some(a)) = (before, idle_end_info) {
            // While nobody reads, the server can only have sent heartbeats
            // (8 bytes each) unless something else arrived; count them only
            // when the arithmetic says so.
            let delta = a.bytes_received.saturating_sub(b.bytes_received);
            let now = conn.tl.now_ms();
            if delta % 8 == 0 {
                conn.precount_heartbeats((delta / 8) as u32, now);
            } else {
                // Something other than heartbeats arrived (a Close, a
                // Blocked): say when, since nobody read it until now.
                let last = now.saturating_sub(u64::from(a.last_data_recv_ms));
                conn.tl.push_at(
                    last,
                    EventKind::Note {
                        text: format!(
                            "{delta} bytes from the server arrived during the idle, the last at \
                             this moment (TCP_INFO); unread until the application next reads"
                        ),
                    },
                );
            }
        }
    }
    if conn.tl.heartbeats.received.is_none() {
        conn.tl.heartbeats.received = Some(0);
    }

    if !out.interrupted {
        publish_and_confirm(&spec, &mut conn, &mut out).await;
    }
    // Stop watching before we close: our own close ends in the server's FIN,
    // which is not news.
    if let Some(obs) = observer.take() {
        if observed.is_none() {
            observed = obs.stop();
            if let Some(o) = observed {
                record_observation(&mut conn.tl, &o);
            }
        }
    }
    if !conn.is_dead() {
        let _ = conn.close().await;
    }
    out.timeline = conn.tl;
    out
}

async fn fail(
    mut out: RunOutcome,
    mut conn: WireConn<TcpStream>,
    stage: &'static str,
    err: &WireError,
) -> RunOutcome {
    out.setup_failure = Some(SetupFailure::wire(stage, err));
    if !conn.is_dead() {
        let _ = conn.close().await;
    }
    out.timeline = conn.tl;
    out
}

/// Put what the observer saw on the timeline, at the moment it saw it.
pub(super) fn record_observation(tl: &mut Timeline, o: &Observation) {
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
/// connection and for Ctrl-C.
async fn idle(
    spec: &RunSpec,
    policy: &Policy,
    conn: &mut WireConn<TcpStream>,
    out: &mut RunOutcome,
    mut observer: Option<&mut Observer>,
    observed: &mut Option<Observation>,
) {
    let planned = duration_ms(spec.idle);
    conn.tl.push(EventKind::IdleStart {
        planned_ms: planned,
    });
    let end = tokio::time::Instant::now() + spec.idle;
    let mut cancel = spec.cancel.clone();
    let mut pump = policy.pump_every.map(|p| {
        let mut i = tokio::time::interval_at(tokio::time::Instant::now() + p, p);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    loop {
        tokio::select! {
            _ = super::cancelled(&mut cancel) => {
                out.interrupted = true;
                conn.tl.push(EventKind::Interrupted);
                return;
            }
            _ = tokio::time::sleep_until(end) => break,
            o = async {
                match observer.as_deref_mut() {
                    Some(obs) => obs.fired().await,
                    None => std::future::pending().await,
                }
            } => {
                record_observation(&mut conn.tl, &o);
                *observed = Some(o);
                out.idle_cut_short_at_ms = Some(conn.tl.ms_at(o.at));
                break;
            }
            _ = async {
                match pump.as_mut() {
                    Some(i) => { i.tick().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {
                // The remedy: read what arrived, answer with a heartbeat.
                let res = async {
                    conn.drain_available().await?;
                    conn.send_heartbeat().await
                }.await;
                if res.is_err() {
                    out.idle_cut_short_at_ms = Some(conn.tl.now_ms());
                    break;
                }
            }
        }
    }
    conn.tl.push(EventKind::IdleEnd);
}

async fn publish_and_confirm(spec: &RunSpec, conn: &mut WireConn<TcpStream>, out: &mut RunOutcome) {
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
    let mut pending = Vec::new();
    for seq in 1..=spec.publishes {
        let at_ms = conn.tl.now_ms();
        let body = super::probe_body(spec.mode, seq);
        let res = conn.publish(CHANNEL, &exchange, &routing_key, &body).await;
        let write_error = match &res {
            Ok(()) => {
                conn.tl.push_at(at_ms, EventKind::PublishWritten { seq });
                pending.push(u64::from(seq));
                None
            }
            Err(e) => {
                let errno = e.raw_os_error();
                let name = match e {
                    WireError::Io { err, .. } => crate::classify::errno_label(err),
                    other => other.to_string(),
                };
                Some(conn.tl.publish_failed(at_ms, seq, errno, name))
            }
        };
        out.attempts.push(PublishAttempt {
            seq,
            at_ms,
            write_error,
            acked: None,
            returned: false,
        });
    }
    if pending.is_empty() || conn.is_dead() {
        return;
    }
    let deadline = Instant::now() + spec.confirm_timeout;
    let (settled, _err) = conn.await_confirms(&mut pending, deadline).await;
    let returns = conn
        .tl
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Returned { .. }))
        .count();
    for a in &mut out.attempts {
        if let Some(c) = settled.get(&u64::from(a.seq)) {
            a.acked = Some(*c == Confirm::Ack);
        }
    }
    // RabbitMQ sends a message's Basic.Return before its Basic.Ack, in
    // publish order: the first `returns` acked messages were the returned ones.
    for a in out
        .attempts
        .iter_mut()
        .filter(|a| a.acked == Some(true))
        .take(returns)
    {
        a.returned = true;
    }
}
