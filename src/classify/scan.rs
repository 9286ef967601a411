//! `scan`, decided: what a connection's byte counts over time say about its
//! heartbeats. Pure; [`narrate`](super::narrate) words it.
//!
//! RabbitMQ sends a heartbeat frame (8 bytes) after T/2 without sending
//! anything else, so an idle connection receives 8-byte steps exactly T/2
//! apart: two of them give T. The application's own 8-byte steps are its
//! heartbeats. A client that receives the broker's beats but has sent
//! nothing for longer than T is starving: RabbitMQ drops it between 2T and
//! 3T after its last byte.

use serde::Serialize;

use crate::vocab::scan::{Classification, Step, Track};
use crate::vocab::Heartbeat;

/// A heartbeat frame on the wire: type, channel 0, size 0, frame end.
pub const HEARTBEAT_FRAME_BYTES: u64 = 8;

/// Two beats closer than this are not T/2 apart (AMQP's T is at least 1 s).
const MIN_BEAT_GAP_MS: u64 = 400;

/// A client may be this much later than T and still be serviced.
const LATE_MS: u64 = 500;

/// What a connection's bytes said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inference {
    pub classification: Classification,
    /// T read from the broker's beats; null until two came in a row.
    pub heartbeat_s: Option<u16>,
    /// When T became known (the second of the two beats), ms after the
    /// scan began.
    pub heartbeat_known_at_ms: Option<u64>,
    /// 8-byte steps each way among the steps kept.
    pub broker_heartbeats: u32,
    pub client_heartbeats: u32,
    /// [2T, 3T] in seconds after the application's last byte: when
    /// RabbitMQ drops a starving connection.
    pub drop_window_s: Option<[u64; 2]>,
    /// The same window counted from the end of the scan (ms; 0 when it
    /// has begun).
    pub drop_in_ms: Option<[u64; 2]>,
    /// Dead: when it was first seen gone (or half-closed), ms after the
    /// scan began.
    pub died_at_ms: Option<u64>,
    /// Dead: how long the application had been silent by then.
    pub died_after_last_sent_ms: Option<u64>,
    /// Dead and starving before: whether it died inside the drop window.
    pub died_in_window: Option<bool>,
    /// Dead: the socket left the kernel's TCP table (an RST, or closed);
    /// false when it is still there, half-closed by the peer (FIN).
    pub left_table: Option<bool>,
}

/// T/2 from consecutive 8-byte receipts: the median gap, and when the
/// first usable pair completed.
fn half_t(received: &std::collections::VecDeque<Step>) -> Option<(u64, u64)> {
    let mut gaps: Vec<u64> = Vec::new();
    let mut known_at = None;
    for w in received.iter().collect::<Vec<_>>().windows(2) {
        let (a, b) = (w[0], w[1]);
        if a.bytes != HEARTBEAT_FRAME_BYTES || b.bytes != HEARTBEAT_FRAME_BYTES {
            continue;
        }
        let gap = b.at_ms.saturating_sub(a.at_ms);
        if gap >= MIN_BEAT_GAP_MS {
            gaps.push(gap);
            known_at.get_or_insert(b.at_ms);
        }
    }
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    Some((gaps[gaps.len() / 2], known_at?))
}

fn beats(steps: &std::collections::VecDeque<Step>) -> u32 {
    steps
        .iter()
        .filter(|s| s.bytes == HEARTBEAT_FRAME_BYTES)
        .count() as u32
}

/// Linux TCP states in which the connection is over or half-closed.
fn half_closed(state: u8) -> bool {
    // CLOSE, CLOSE_WAIT, LAST_ACK, FIN_WAIT1, FIN_WAIT2, CLOSING, TIME_WAIT
    matches!(state, 4..=9 | 11)
}

/// Read a track. `max_heartbeat_ms`: the largest T expected; a connection
/// silent both ways for more than half of it has heartbeats off.
pub fn infer(t: &Track, max_heartbeat_ms: u64) -> Inference {
    let ht = half_t(&t.received);
    let heartbeat_s = ht.map(|(half, _)| (((2 * half) as f64 / 1000.0).round() as u16).max(1));
    let mut inf = Inference {
        classification: Classification::Unknown,
        heartbeat_s,
        heartbeat_known_at_ms: ht.map(|(_, at)| at),
        broker_heartbeats: beats(&t.received),
        client_heartbeats: beats(&t.sent),
        drop_window_s: None,
        drop_in_ms: None,
        died_at_ms: None,
        died_after_last_sent_ms: None,
        died_in_window: None,
        left_table: None,
    };
    let hb = heartbeat_s.map(Heartbeat::from_secs);
    let last = t.last;
    let silent_sent = u64::from(last.last_data_sent_ms);
    let starving = hb.is_some_and(|hb| silent_sent > hb.ms() + LATE_MS);
    if starving {
        let hb = hb.unwrap_or(Heartbeat::from_secs(0));
        inf.drop_window_s = Some([
            hb.broker_may_drop_ms() / 1000,
            hb.broker_drops_by_ms() / 1000,
        ]);
    }
    let dead_at = t
        .gone_at_ms
        .or_else(|| half_closed(last.state).then_some(last.at_ms));
    if let Some(at) = dead_at {
        inf.classification = Classification::Dead;
        inf.died_at_ms = Some(at);
        inf.left_table = Some(t.gone_at_ms.is_some());
        let after = silent_sent + at.saturating_sub(last.at_ms);
        inf.died_after_last_sent_ms = Some(after);
        if let (true, Some(hb)) = (starving, hb) {
            let tol = crate::classify::attribute::attribution_tolerance_ms(hb);
            inf.died_in_window = Some(
                after + tol >= hb.broker_may_drop_ms() && after <= hb.broker_drops_by_ms() + tol,
            );
        }
        return inf;
    }
    if let (true, Some(hb)) = (starving, hb) {
        inf.classification = Classification::Starving;
        inf.drop_in_ms = Some([
            hb.broker_may_drop_ms().saturating_sub(silent_sent),
            hb.broker_drops_by_ms().saturating_sub(silent_sent),
        ]);
        return inf;
    }
    inf.classification = if hb.is_some() {
        Classification::Healthy
    } else if silent_sent > max_heartbeat_ms / 2
        && u64::from(last.last_data_recv_ms) > max_heartbeat_ms / 2
    {
        Classification::HeartbeatsOff
    } else {
        Classification::Unknown
    };
    inf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::scan::SocketSample;

    /// A track from (at_ms, bytes sent so far, bytes received so far,
    /// ms since last sent, ms since last received) rows.
    fn track(rows: &[(u64, u64, u64, u32, u32)]) -> Track {
        let sample = |&(at_ms, sent, recv, ls, lr): &(u64, u64, u64, u32, u32)| SocketSample {
            at_ms,
            state: 1,
            bytes_acked: sent,
            bytes_received: recv,
            last_data_sent_ms: ls,
            last_data_recv_ms: lr,
        };
        let addr = "127.0.0.1:5672".parse().unwrap();
        let mut t = Track::new(addr, addr, 1, sample(&rows[0]));
        for r in &rows[1..] {
            t.push(sample(r));
        }
        t
    }

    /// A connection watched every 250 ms for `ms`: the broker beats every
    /// `broker_every` ms (0: never), the client every `client_every` (0:
    /// never); at the start the client has been silent `quiet` ms.
    fn idle(ms: u64, broker_every: u64, client_every: u64, quiet: u32) -> Track {
        let mut rows = Vec::new();
        let (mut sent, mut recv) = (1000u64, 2000u64);
        let quiet = i64::from(quiet);
        let mut last_sent_at = -quiet;
        let mut last_recv_at = if broker_every == 0 { -quiet } else { -100 };
        let mut at = 0;
        while at <= ms {
            let now = at as i64;
            if broker_every > 0 && now - last_recv_at >= broker_every as i64 {
                last_recv_at += broker_every as i64 * ((now - last_recv_at) / broker_every as i64);
                recv += 8;
            }
            if client_every > 0 && now - last_sent_at >= client_every as i64 {
                last_sent_at += client_every as i64 * ((now - last_sent_at) / client_every as i64);
                sent += 8;
            }
            rows.push((
                at,
                sent,
                recv,
                (now - last_sent_at) as u32,
                (now - last_recv_at) as u32,
            ));
            at += 250;
        }
        track(&rows)
    }

    #[test]
    fn classifications() {
        use Classification::*;
        // (track, T, classification, drop window)
        let rows = [
            // T = 2: the broker beats every 1 s, the client never: starving
            (idle(3000, 1000, 0, 2500), Some(2), Starving, Some([4, 6])),
            // the client beats every 1 s too: healthy
            (idle(3000, 1000, 1000, 0), Some(2), Healthy, None),
            // T = 60 watched 61 s: two beats 30 s apart, the client silent 90 s
            (
                idle(61_000, 30_000, 0, 30_000),
                Some(60),
                Starving,
                Some([120, 180]),
            ),
            // T = 60 watched 20 s: at most one beat, nothing yet
            (idle(20_000, 30_000, 0, 5000), None, Unknown, None),
            // nothing either way for longer than half of max: heartbeats off
            (idle(3000, 0, 0, 70_000), None, HeartbeatsOff, None),
            // the client just sent (no T known): unknown
            (idle(3000, 0, 0, 100), None, Unknown, None),
        ];
        for (i, (t, hb, class, window)) in rows.iter().enumerate() {
            let inf = infer(t, 120_000);
            assert_eq!(inf.heartbeat_s, *hb, "row {i}: {inf:?}");
            assert_eq!(inf.classification, *class, "row {i}: {inf:?}");
            assert_eq!(inf.drop_window_s, *window, "row {i}");
        }
    }

    #[test]
    fn starving_says_when_the_drop_comes() {
        // Client silent 2.5 s at the start, watched 3 s: 5.5 s silent at
        // the end; T = 2 drops it 4–6 s after its last byte.
        let inf = infer(&idle(3000, 1000, 0, 2500), 120_000);
        assert_eq!(inf.drop_in_ms, Some([0, 500]));
        assert_eq!(inf.broker_heartbeats, 3);
        assert_eq!(inf.client_heartbeats, 0);
        // T known after the second beat inside the watch.
        assert!(
            inf.heartbeat_known_at_ms.is_some_and(|at| at <= 2000),
            "{inf:?}"
        );
    }

    #[test]
    fn deaths() {
        // Starving at T = 2, gone at 4.25 s: the client silent 2.5 + 4.25 s.
        let mut t = idle(4000, 1000, 0, 500);
        t.gone_at_ms = Some(4250);
        let inf = infer(&t, 120_000);
        assert_eq!(inf.classification, Classification::Dead);
        assert_eq!(inf.died_at_ms, Some(4250));
        assert_eq!(inf.died_after_last_sent_ms, Some(4750));
        assert_eq!(inf.died_in_window, Some(true));
        assert_eq!(inf.left_table, Some(true));
        assert_eq!(inf.drop_window_s, Some([4, 6]));
        // Starving, but gone long before 2T: not in the window.
        let mut early = idle(2000, 1000, 0, 600);
        early.gone_at_ms = Some(2250);
        assert_eq!(infer(&early, 120_000).died_in_window, Some(false));
        // Half-closed by the peer (CLOSE_WAIT) but still in the table.
        let mut fin = idle(1000, 0, 0, 0);
        fin.last.state = 8;
        let inf = infer(&fin, 120_000);
        assert_eq!(
            (inf.classification, inf.left_table),
            (Classification::Dead, Some(false))
        );
        assert_eq!(inf.died_in_window, None);
    }

    #[test]
    fn data_is_not_a_heartbeat() {
        // 100-byte messages every second are not beats: T stays unknown.
        let rows: Vec<(u64, u64, u64, u32, u32)> = (0..12)
            .map(|i| (i * 250, 10, 100 * (i / 4), 9000, (i % 4 * 250) as u32))
            .collect();
        let inf = infer(&track(&rows), 120_000);
        assert_eq!(inf.heartbeat_s, None);
        assert_eq!(inf.broker_heartbeats, 0);
    }
}
