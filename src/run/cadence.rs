//! `heartbeat --observe`: service a wire connection like a well-behaved
//! client (read continuously, send a heartbeat every T/2) and time the
//! heartbeats in both directions.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};

use super::cancelled;
use crate::classify::{cadence, Cadence};
use crate::vocab::units::duration_ms;
use crate::vocab::{Awaiting, Heartbeat};
use crate::wire::{WireConn, WireError};

/// Measured heartbeat cadence in each direction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CadenceSeen {
    /// How long we observed (shorter than asked when interrupted).
    pub duration_ms: u64,
    pub server_to_client: Cadence,
    pub client_to_server: Cadence,
    pub interrupted: bool,
}

/// Service `conn` for `window`, or until Ctrl-C; `on_tick(received, sent)`
/// is called about every 250 ms with the heartbeat counts so far. We send
/// every T/2; the server is held to a beat every `server_every_ms`.
pub async fn observe<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut WireConn<S>,
    t: Heartbeat,
    server_every_ms: u64,
    window: Duration,
    cancel: &mut tokio::sync::watch::Receiver<bool>,
    mut on_tick: impl FnMut(u32, u32),
) -> Result<CadenceSeen, WireError> {
    let start_ms = conn.tl.now_ms();
    let started = Instant::now();
    let end = started + window;
    let half = Duration::from_millis(t.send_every_ms());
    let mut next_beat = (!t.is_off()).then(|| started + half);
    let tick = Duration::from_millis(250);
    let mut interrupted = false;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        // Wake for the next heartbeat to send, the next progress tick, or
        // the end of the window, whichever is first.
        let wake = next_beat.map_or(end, |b| b.min(end)).min(now + tick);
        let read = tokio::select! {
            r = conn.read_frame(&Awaiting::Heartbeats, wake) => r,
            _ = cancelled(cancel) => {
                interrupted = true;
                break;
            }
        };
        match read {
            Ok(_) => {}
            Err(WireError::Timeout { .. }) => {
                // Our own deadline, not the server's silence.
                conn.tl.events.pop();
            }
            Err(e) => return Err(e),
        }
        if let Some(b) = next_beat {
            if Instant::now() >= b {
                conn.send_heartbeat().await?;
                next_beat = Some(b + half);
            }
        }
        let hb = &conn.tl.heartbeats;
        on_tick(hb.received.unwrap_or(0), hb.sent);
    }
    let end_ms = conn.tl.now_ms();
    let expected = t.send_every_ms();
    let hb = &conn.tl.heartbeats;
    Ok(CadenceSeen {
        duration_ms: duration_ms(if interrupted {
            started.elapsed()
        } else {
            window
        }),
        server_to_client: cadence(&hb.received_at_ms, start_ms, end_ms, server_every_ms),
        client_to_server: cadence(&hb.sent_at_ms, start_ms, end_ms, expected),
        interrupted,
    })
}
