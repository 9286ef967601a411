//! What happened on one connection, in milliseconds since the TCP connect
//! began.
//!
//! The network layer (wire client, lapin driver, socket observer) appends
//! [`Event`]s; the classifier and the renderers only read them. Heartbeats
//! are counted with their timestamps in [`Heartbeats`] rather than listed as
//! events (a 3-minute idle at T = 2 s would otherwise bury the story), unless
//! tracing is on.
//!
//! [`PublishAttempt`] is the other record the network layer keeps: what it
//! saw of each publish, before the classifier settles its outcome.

use std::time::Instant;

use serde::Serialize;

use crate::vocab::units::duration_ms;
use crate::vocab::{Awaiting, Op};

/// One timestamped event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub at_ms: u64,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Who closed or broke the TCP connection, as the kernel saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TcpEnd {
    /// The peer reset the connection (RST): TCP state CLOSE.
    Reset,
    /// The peer closed its side in order (FIN): TCP state CLOSE_WAIT.
    Fin,
}

/// Everything the timeline can record. Serialized as
/// `{"at_ms": …, "event": "<snake_case name>", …fields}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    TcpConnected {
        local: String,
        peer: String,
    },
    /// A frame we sent (heartbeats only with `--trace`).
    Sent {
        frame: String,
    },
    /// A frame we received (heartbeats only with `--trace`).
    Received {
        frame: String,
    },
    /// Connection.Tune-Ok sent and Connection.Open-Ok received.
    ConnectionOpen {
        heartbeat_s: u16,
    },
    /// The experiment's idle began: the client will stay silent this long.
    IdleStart {
        planned_ms: u64,
    },
    IdleEnd,
    /// The socket observer saw the peer end the connection while the
    /// application was not reading.
    PeerEnded {
        how: TcpEnd,
        tcp_state: String,
        /// From TCP_INFO: how long the client had sent no data.
        since_last_client_byte_ms: u64,
        /// From TCP_INFO: how long the server had sent no data.
        since_last_server_byte_ms: u64,
    },
    PublishWritten {
        seq: u32,
    },
    PublishFailed {
        seq: u32,
        errno: Option<i32>,
        errno_name: String,
    },
    Confirmed {
        seq: u32,
    },
    Nacked {
        seq: u32,
    },
    Returned {
        reply_code: u16,
        reply_text: String,
    },
    /// Connection.Close from the server.
    ServerClose {
        reply_code: u16,
        reply_text: String,
        class_id: u16,
        method_id: u16,
    },
    /// Channel.Close from the server (a soft error).
    ChannelClose {
        reply_code: u16,
        reply_text: String,
    },
    ClientClose {
        reply_code: u16,
    },
    CloseOk,
    Blocked {
        reason: String,
    },
    Unblocked,
    /// A read returned 0: the peer closed (FIN) and we read up to it.
    Eof,
    /// A read or write failed with this errno.
    IoError {
        op: Op,
        errno: Option<i32>,
        errno_name: String,
    },
    /// We waited for something and it did not come.
    Timeout {
        waiting_for: Awaiting,
        after_ms: u64,
    },
    /// Something worth recording that fits no other shape.
    Note {
        text: String,
    },
    /// The user interrupted the probe.
    Interrupted,
}

/// Heartbeat frames seen in each direction, with their times.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Heartbeats {
    pub sent: u32,
    /// `None` when the mode cannot observe received heartbeats.
    pub received: Option<u32>,
    #[serde(skip)]
    pub sent_at_ms: Vec<u64>,
    #[serde(skip)]
    pub received_at_ms: Vec<u64>,
}

/// Heartbeat times kept per direction: 2 per second for 9 hours, 512 KiB.
/// Past this the beats are still counted; a peer flooding heartbeats (the
/// spec lets it send them at any time) cannot grow memory without bound.
pub const MAX_HEARTBEAT_TIMES: usize = 65_536;

/// Heartbeat events `--trace` lists per direction before only counting.
pub const MAX_TRACED_HEARTBEATS: u32 = 10_000;

fn keep_time(times: &mut Vec<u64>, at: u64) {
    if times.len() < MAX_HEARTBEAT_TIMES {
        times.push(at);
    }
}

/// The record of one connection.
#[derive(Debug, Clone)]
pub struct Timeline {
    start: Instant,
    pub events: Vec<Event>,
    pub heartbeats: Heartbeats,
    /// When the client wrote bytes (ms since connect), in order.
    pub client_writes_ms: Vec<u64>,
    /// When the client last read a byte from the server.
    pub last_server_byte_ms: Option<u64>,
    /// List every frame, heartbeats included.
    pub trace: bool,
    /// A certificate rustls refused that the `--tls-as` family accepts,
    /// when this connection went on because of it.
    pub tls_accepted: Option<crate::vocab::tls::TlsLeniency>,
}

impl Timeline {
    /// Start the clock now.
    pub fn new(trace: bool) -> Self {
        Self::starting_at(Instant::now(), trace)
    }

    pub fn starting_at(start: Instant, trace: bool) -> Self {
        Timeline {
            start,
            events: Vec::new(),
            heartbeats: Heartbeats::default(),
            client_writes_ms: Vec::new(),
            last_server_byte_ms: None,
            trace,
            tls_accepted: None,
        }
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    /// Milliseconds since the clock started.
    pub fn now_ms(&self) -> u64 {
        self.ms_at(Instant::now())
    }

    pub fn ms_at(&self, t: Instant) -> u64 {
        duration_ms(t.saturating_duration_since(self.start))
    }

    pub fn push(&mut self, kind: EventKind) -> u64 {
        let at_ms = self.now_ms();
        self.push_at(at_ms, kind);
        at_ms
    }

    pub fn push_at(&mut self, at_ms: u64, kind: EventKind) {
        // Events from the observer thread can arrive a little late; keep the
        // list in time order so renderers can print it as it is.
        let pos = self
            .events
            .iter()
            .rposition(|e| e.at_ms <= at_ms)
            .map_or(0, |p| p + 1);
        self.events.insert(pos, Event { at_ms, kind });
    }

    pub fn client_wrote(&mut self) {
        let now = self.now_ms();
        self.client_writes_ms.push(now);
    }

    /// Record a publish whose write failed; returns the (errno, name) pair
    /// the publish attempt keeps.
    pub fn publish_failed(
        &mut self,
        at_ms: u64,
        seq: u32,
        errno: Option<i32>,
        errno_name: String,
    ) -> (Option<i32>, String) {
        self.push_at(
            at_ms,
            EventKind::PublishFailed {
                seq,
                errno,
                errno_name: errno_name.clone(),
            },
        );
        (errno, errno_name)
    }

    /// The client's last write at or before `at_ms`.
    pub fn last_client_byte_before(&self, at_ms: u64) -> Option<u64> {
        self.client_writes_ms
            .iter()
            .rev()
            .find(|&&t| t <= at_ms)
            .copied()
    }

    pub fn server_spoke(&mut self) {
        self.last_server_byte_ms = Some(self.now_ms());
    }

    pub fn heartbeat_sent(&mut self) {
        let at = self.now_ms();
        self.heartbeats.sent = self.heartbeats.sent.saturating_add(1);
        let n = self.heartbeats.sent;
        keep_time(&mut self.heartbeats.sent_at_ms, at);
        self.trace_heartbeat(
            at,
            n,
            EventKind::Sent {
                frame: "heartbeat".into(),
            },
        );
    }

    pub fn heartbeat_received(&mut self) {
        let at = self.now_ms();
        let n = self.heartbeats.received.get_or_insert(0);
        *n = n.saturating_add(1);
        let n = *n;
        keep_time(&mut self.heartbeats.received_at_ms, at);
        self.trace_heartbeat(
            at,
            n,
            EventKind::Received {
                frame: "heartbeat".into(),
            },
        );
    }

    /// With `--trace`, list the `n`th heartbeat in one direction, up to
    /// [`MAX_TRACED_HEARTBEATS`]; past that, one note says the rest are
    /// only counted (a peer flooding heartbeats must not grow the list).
    fn trace_heartbeat(&mut self, at: u64, n: u32, kind: EventKind) {
        if !self.trace || n > MAX_TRACED_HEARTBEATS + 1 {
            return;
        }
        if n == MAX_TRACED_HEARTBEATS + 1 {
            let dir = if matches!(kind, EventKind::Sent { .. }) {
                "sent"
            } else {
                "received"
            };
            let text = format!(
                "more than {MAX_TRACED_HEARTBEATS} heartbeats {dir}: the rest are counted, not listed"
            );
            self.push_at(at, EventKind::Note { text });
            return;
        }
        self.push_at(at, kind);
    }

    /// The first event matching `pred`.
    pub fn find<F: Fn(&EventKind) -> bool>(&self, pred: F) -> Option<&Event> {
        self.events.iter().find(|e| pred(&e.kind))
    }
}

/// How the broker settled one published message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Ack,
    Nack,
    /// Basic.Return (unroutable), then Basic.Ack.
    Returned,
}

/// What the network layer saw of one publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishAttempt {
    pub seq: u32,
    pub at_ms: u64,
    /// `Some((errno, name))` when the write failed.
    pub write_error: Option<(Option<i32>, String)>,
    /// `None`: no confirm came.
    pub settled: Option<Settled>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_events_are_inserted_in_time_order() {
        let mut t = Timeline::new(false);
        t.push_at(10, EventKind::IdleStart { planned_ms: 5 });
        t.push_at(30, EventKind::IdleEnd);
        t.push_at(20, EventKind::Eof);
        t.push_at(0, EventKind::Interrupted);
        let times: Vec<u64> = t.events.iter().map(|e| e.at_ms).collect();
        assert_eq!(times, vec![0, 10, 20, 30]);
    }

    #[test]
    fn events_serialize_with_a_flat_tag() {
        let e = Event {
            at_ms: 7,
            kind: EventKind::PublishFailed {
                seq: 1,
                errno: Some(104),
                errno_name: "ECONNRESET".into(),
            },
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"at_ms": 7, "event": "publish_failed", "seq": 1,
                                "errno": 104, "errno_name": "ECONNRESET"})
        );
    }

    #[test]
    fn heartbeats_are_counted_not_listed_unless_tracing() {
        let mut quiet = Timeline::new(false);
        quiet.heartbeat_received();
        quiet.heartbeat_sent();
        assert!(quiet.events.is_empty());
        assert_eq!(
            (quiet.heartbeats.sent, quiet.heartbeats.received),
            (1, Some(1))
        );
        let mut loud = Timeline::new(true);
        loud.heartbeat_received();
        assert_eq!(loud.events.len(), 1);
    }

    #[test]
    fn a_heartbeat_flood_is_counted_in_bounded_memory() {
        for trace in [false, true] {
            let mut t = Timeline::new(trace);
            let n = MAX_HEARTBEAT_TIMES as u32 + 5_000;
            for _ in 0..n {
                t.heartbeat_received();
                t.heartbeat_sent();
            }
            assert_eq!((t.heartbeats.sent, t.heartbeats.received), (n, Some(n)));
            assert_eq!(t.heartbeats.received_at_ms.len(), MAX_HEARTBEAT_TIMES);
            assert_eq!(t.heartbeats.sent_at_ms.len(), MAX_HEARTBEAT_TIMES);
            let listed = if trace {
                2 * (MAX_TRACED_HEARTBEATS as usize + 1)
            } else {
                0
            };
            assert_eq!(t.events.len(), listed, "trace {trace}");
        }
    }
}
