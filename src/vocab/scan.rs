//! What `scan` reads off the kernel about one TCP connection over time:
//! its samples, reduced as they come to the moments bytes moved each way.

use std::collections::VecDeque;
use std::net::SocketAddr;

use serde::Serialize;

/// One reading of a socket's `tcp_info`, `at_ms` after the scan began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketSample {
    pub at_ms: u64,
    /// Linux TCP state (1 ESTABLISHED, 8 CLOSE_WAIT, …).
    pub state: u8,
    /// Bytes the peer acknowledged (what the application sent).
    pub bytes_acked: u64,
    pub bytes_received: u64,
    pub last_data_sent_ms: u32,
    pub last_data_recv_ms: u32,
}

/// Bytes that moved one way between two samples: when the last of them
/// moved (ms after the scan began, exact: from `last_data_*`) and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub at_ms: u64,
    pub bytes: u64,
}

/// How many steps each way a track keeps (the newest): enough to infer a
/// heartbeat, bounded however long the watch.
pub const STEPS_KEPT: usize = 64;

/// A connection followed through a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub inode: u32,
    pub first: SocketSample,
    pub last: SocketSample,
    /// Bytes from the broker, newest last.
    pub received: VecDeque<Step>,
    /// Bytes from the application (as the broker acknowledged them).
    pub sent: VecDeque<Step>,
    /// Every step ever seen each way, not only those kept.
    pub received_steps: u64,
    pub sent_steps: u64,
    /// The first sample at which the socket was no longer in the kernel's
    /// TCP table (closed or reset).
    pub gone_at_ms: Option<u64>,
    /// Whether the process still held the socket after it left the table
    /// (its next call on it fails); None when not looked at.
    pub still_held: Option<bool>,
}

impl Track {
    pub fn new(local: SocketAddr, remote: SocketAddr, inode: u32, first: SocketSample) -> Self {
        Track {
            local,
            remote,
            inode,
            first,
            last: first,
            received: VecDeque::new(),
            sent: VecDeque::new(),
            received_steps: 0,
            sent_steps: 0,
            gone_at_ms: None,
            still_held: None,
        }
    }

    /// Add the next sample: a byte count that grew is a step, dated by
    /// `last_data_*` (the kernel's own clock of the last byte).
    pub fn push(&mut self, s: SocketSample) {
        let prev = self.last;
        if s.bytes_received > prev.bytes_received {
            let at = s.at_ms.saturating_sub(u64::from(s.last_data_recv_ms));
            keep(
                &mut self.received,
                Step {
                    at_ms: at,
                    bytes: s.bytes_received - prev.bytes_received,
                },
            );
            self.received_steps += 1;
        }
        if s.bytes_acked > prev.bytes_acked {
            let at = s.at_ms.saturating_sub(u64::from(s.last_data_sent_ms));
            keep(
                &mut self.sent,
                Step {
                    at_ms: at,
                    bytes: s.bytes_acked - prev.bytes_acked,
                },
            );
            self.sent_steps += 1;
        }
        self.last = s;
    }

    /// Watched for this long (from the first sample to the last, or to
    /// when it was gone).
    pub fn watched_ms(&self) -> u64 {
        self.gone_at_ms
            .unwrap_or(self.last.at_ms)
            .saturating_sub(self.first.at_ms)
    }
}

fn keep(steps: &mut VecDeque<Step>, s: Step) {
    if steps.len() == STEPS_KEPT {
        steps.pop_front();
    }
    steps.push_back(s);
}

/// What a connection's bytes say about its heartbeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Classification {
    /// Both directions active within T.
    Healthy,
    /// Receives the broker's heartbeats, sends nothing: the broker will
    /// drop it between 2T and 3T after its last byte.
    Starving,
    /// No heartbeat either way: only a middlebox's idle timeout or TCP
    /// keepalive will ever notice a dead peer.
    HeartbeatsOff,
    /// Closed or reset during the scan (or found half-closed).
    Dead,
    /// Not enough seen yet (no two broker heartbeats, and not silent long
    /// enough to call heartbeats off).
    Unknown,
}

/// Who owns a socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub pid: u32,
    /// The command line, with any password in it replaced by `***`.
    pub command: String,
}
