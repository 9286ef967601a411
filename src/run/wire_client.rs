//! Our own frame-level client behind the driver: the starved and disabled
//! modes. It does exactly what the policy asks (any Tune-Ok heartbeat, no
//! timer of its own) and records every frame.

use std::collections::BTreeMap;
use std::os::fd::AsFd;

use super::driver::{Connection, Opened};
use super::{Policy, RunSpec};
use crate::observe::TcpInfo;
use crate::timeline::{EventKind, Settled, Timeline};
use crate::vocab::units::errno_label;
use crate::vocab::{Destination, Negotiation, SetupError, Stage};
use crate::wire::{self, Confirm, HandshakeParams, OpenFailure, WireConn, WireError};

const CHANNEL: u16 = 1;

pub(super) struct WireConnection {
    conn: WireConn<crate::wire::Transport>,
    /// The server announced `publisher_confirms` (a RabbitMQ extension):
    /// without it, publishes are written and their fate stays unknown.
    confirms: bool,
    /// The negotiated T: `--consume` answers heartbeats while it holds.
    heartbeat: crate::vocab::Heartbeat,
}

/// Connect and handshake with the policy's Tune-Ok heartbeat.
pub(super) async fn open(
    spec: &RunSpec,
    policy: &Policy,
) -> Result<Opened<WireConnection>, Box<OpenFailure>> {
    let params =
        HandshakeParams::for_target(&spec.target, policy.tune_ok, spec.mode.connection_name());
    let (conn, hs) = wire::open(
        &spec.target,
        &params,
        spec.step_timeout,
        Timeline::new(spec.trace),
    )
    .await?;
    // A duplicate of the socket for the observer and TCP_INFO: same socket,
    // separate descriptor, so the observer never shares a read with us.
    let fd = conn.stream().as_fd().try_clone_to_owned().ok();
    let confirms = hs.server.has_capability("publisher_confirms");
    let mut notes = Vec::new();
    if !confirms {
        notes.push(super::NO_CONFIRMS_NOTE.to_string());
    }
    Ok(Opened {
        conn: WireConnection {
            conn,
            confirms,
            heartbeat: hs.heartbeat,
        },
        fd,
        server: Some(hs.server.clone()),
        negotiation: Negotiation {
            server_heartbeat_s: Some(hs.server_heartbeat),
            requested_heartbeat_s: policy.tune_ok.requested_s(),
            negotiated_heartbeat_s: hs.heartbeat,
            frame_max: hs.frame_max,
            channel_max: hs.channel_max,
        },
        notes,
    })
}

/// How long a failed write looks for a Connection.Close that came before
/// the reset.
const CLOSE_GLANCE: std::time::Duration = std::time::Duration::from_millis(50);

impl WireConnection {
    /// After a write failed: a broker that closes with linger 0 (RabbitMQ
    /// shutting down) sends Connection.Close and resets at once, and the
    /// kernel still holds the Close for a read. Read it, so the report
    /// says why (320 and its text) and not only that the peer reset.
    async fn glance_for_close(&mut self) {
        let seen = |tl: &Timeline| {
            tl.find(|k| matches!(k, EventKind::ServerClose { .. }))
                .is_some()
        };
        if seen(&self.conn.tl) {
            return;
        }
        let glance = std::time::Instant::now() + CLOSE_GLANCE;
        let mut probe = Timeline::starting_at(self.conn.tl.start(), false);
        std::mem::swap(&mut probe, &mut self.conn.tl);
        let _ = self
            .conn
            .read_frame(&crate::vocab::Awaiting::PendingFrames, glance)
            .await;
        // Keep only what the glance found: the Close, not its own timeout
        // or the repeated I/O error.
        std::mem::swap(&mut probe, &mut self.conn.tl);
        for e in probe.events {
            if matches!(e.kind, EventKind::ServerClose { .. }) {
                self.conn.tl.push_at(e.at_ms, e.kind);
            }
        }
    }
}

impl Connection for WireConnection {
    fn timeline(&mut self) -> &mut Timeline {
        &mut self.conn.tl
    }

    fn into_timeline(self) -> Timeline {
        self.conn.tl
    }

    async fn prepare(&mut self, dest: &Destination) -> Result<Option<String>, SetupError> {
        let c = &mut self.conn;
        let res = async {
            c.open_channel(CHANNEL).await?;
            if self.confirms {
                c.confirm_select(CHANNEL).await?;
            }
            match dest {
                // Named by us: some 0-9-1 brokers (GarageMQ) will not name
                // a queue themselves.
                Destination::OwnQueue => c
                    .declare_queue(CHANNEL, &super::probe_queue_name())
                    .await
                    .map(Some),
                Destination::Exchange { .. } => Ok(None),
            }
        }
        .await;
        res.map_err(|e| e.setup_error(Stage::Channel))
    }

    async fn pump(&mut self) -> bool {
        self.conn.drain_available().await.is_ok() && self.conn.send_heartbeat().await.is_ok()
    }

    fn record_idle_traffic(&mut self, before: &TcpInfo, after: &TcpInfo, pumped: bool) {
        if !pumped {
            // While nobody reads, the server can only have sent heartbeats
            // (8 bytes each, or one TLS record each) unless something else
            // arrived; count them only when the arithmetic says so.
            let delta = after.bytes_received.saturating_sub(before.bytes_received);
            let now = self.conn.tl.now_ms();
            let per_beat = self.conn.stream().heartbeat_wire_bytes();
            // A connection closed during the idle also counts its FIN (one
            // sequence number) and, under TLS, the alert record the server
            // sent before closing (close_notify).
            let alert = self.conn.stream().alert_wire_bytes().unwrap_or(0);
            let tails: &[u64] = if alert > 0 {
                &[0, 1, alert, alert + 1]
            } else {
                &[0, 1]
            };
            let tail = per_beat.and_then(|per| {
                tails
                    .iter()
                    .find(|&&t| delta >= t && (delta - t).is_multiple_of(per))
                    .map(|&t| (per, t))
            });
            if let Some((per, t)) = tail {
                self.conn
                    .precount_heartbeats(u32::try_from((delta - t) / per).unwrap_or(u32::MAX), now);
                if alert > 0 && (t == alert || t == alert + 1) {
                    let last = now.saturating_sub(u64::from(after.last_data_recv_ms));
                    self.conn.tl.push_at(
                        last,
                        EventKind::Note {
                            text: "the server sent a TLS alert record (close_notify) before it \
                                   closed the TCP connection"
                                .into(),
                        },
                    );
                }
            } else {
                // Something other than heartbeats arrived (a Close, a
                // Blocked): say when, since nobody read it until now.
                let last = now.saturating_sub(u64::from(after.last_data_recv_ms));
                self.conn.tl.push_at(
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
        // The wire client can always tell how many it received.
        self.conn.tl.heartbeats.received.get_or_insert(0);
    }

    async fn consume_unacked(&mut self, queue: &str, hold: std::time::Duration) {
        let got = self
            .conn
            .consume_unacked(CHANNEL, queue, hold, self.heartbeat)
            .await;
        if let Ok(n) = got {
            self.conn.tl.push(EventKind::Note {
                text: format!("held {n} delivery(ies) unacknowledged to the end of --hold"),
            });
        }
    }

    async fn publish(
        &mut self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
    ) -> Result<(), (Option<i32>, String)> {
        let res = self
            .conn
            .publish(CHANNEL, exchange, routing_key, body)
            .await;
        if matches!(res, Err(WireError::Io { .. })) {
            self.glance_for_close().await;
        }
        res.map_err(|e| match &e {
            WireError::Io { err, .. } => (err.raw_os_error(), errno_label(err)),
            other => (None, other.to_string()),
        })
    }

    async fn settle(
        &mut self,
        seqs: &[u32],
        deadline: tokio::time::Instant,
    ) -> BTreeMap<u32, Settled> {
        // Delivery tags count publishes on the channel from 1, so a tag is
        // the publish's sequence number.
        let mut pending: Vec<u64> = seqs.iter().map(|&s| u64::from(s)).collect();
        let returns_before = self.returns();
        let (settled, _err) = self
            .conn
            .await_confirms(&mut pending, deadline.into_std())
            .await;
        let mut returns = self.returns() - returns_before;
        // RabbitMQ sends a message's Basic.Return before its Basic.Ack, in
        // publish order: the first `returns` acked messages were returned.
        settled
            .into_iter()
            .map(|(tag, c)| {
                let seq = u32::try_from(tag).unwrap_or(u32::MAX);
                let s = match c {
                    Confirm::Ack if returns > 0 => {
                        returns -= 1;
                        Settled::Returned
                    }
                    Confirm::Ack => Settled::Ack,
                    Confirm::Nack => Settled::Nack,
                };
                (seq, s)
            })
            .collect()
    }

    fn is_open(&self) -> bool {
        !self.conn.is_dead()
    }

    fn confirms(&self) -> bool {
        self.confirms
    }

    async fn close(&mut self) {
        let _ = self.conn.close().await;
    }
}

impl WireConnection {
    fn returns(&self) -> usize {
        self.conn
            .tl
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Returned { .. }))
            .count()
    }
}
