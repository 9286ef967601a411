//! What `scan` concluded about one connection, one function per
//! classification.

use crate::classify::scan::Inference as ScanInference;
use crate::vocab::scan::{Classification, Track};
use crate::vocab::units::secs;
use crate::vocab::Heartbeat;

/// What `scan` concluded about one connection, in a sentence or two.
/// `watched_ms`: how long it was watched (0 for a single reading).
pub fn scan_note(inf: &ScanInference, track: &Track, watched_ms: u64) -> String {
    let silent = secs(u64::from(track.last.last_data_sent_ms));
    let t = inf.heartbeat_s.map(Heartbeat::from_secs);
    match inf.classification {
        Classification::Starving => starving(inf, t, &silent),
        Classification::Healthy => healthy(inf, t, &silent),
        Classification::HeartbeatsOff => heartbeats_off(track),
        Classification::Dead => dead(inf, track, t),
        Classification::Unknown if watched_ms == 0 => {
            "one reading cannot tell the heartbeat: watch it, e.g. `--watch 1m` (at least T; \
             RabbitMQ's default T is 60 s)."
                .into()
        }
        Classification::Unknown => format!(
            "not two heartbeats from the broker in {}: watch for at least T (RabbitMQ's default \
             T is 60 s: `--watch 1m`).",
            secs(watched_ms)
        ),
    }
}

/// Receiving the broker's heartbeats, sending nothing: when it is dropped.
fn starving(inf: &ScanInference, t: Option<Heartbeat>, silent: &str) -> String {
    let t = t.unwrap_or(Heartbeat::from_secs(0));
    let [lo, hi] = inf.drop_in_ms.unwrap_or_default();
    format!(
        "starving: it receives the broker's heartbeats every {} (T = {}) but has sent \
                 nothing for {silent}. RabbitMQ drops it between 2T = {} and 3T = {} after its \
                 last byte: {}. The application must service the connection while it idles \
                 (see `amqpdoctor explain broker_heartbeat_timeout`; `amqpdoctor audit` names \
                 its library).",
        secs(t.send_every_ms()),
        t,
        secs(t.broker_may_drop_ms()),
        secs(t.broker_drops_by_ms()),
        if hi == 0 {
            "any moment now".to_string()
        } else if lo == 0 {
            format!("any moment now, at the latest in {}", secs(hi))
        } else {
            format!("in {} to {}", secs(lo), secs(hi))
        }
    )
}

fn healthy(inf: &ScanInference, t: Option<Heartbeat>, silent: &str) -> String {
    let t = t.unwrap_or(Heartbeat::from_secs(0));
    if inf.client_heartbeats > 0 {
        format!(
            "healthy: heartbeats both ways (T = {t}); the application sent {} heartbeat{} during \
             the watch.",
            inf.client_heartbeats,
            if inf.client_heartbeats == 1 { "" } else { "s" }
        )
    } else {
        format!("healthy: T = {t}, and the application sent a byte {silent} ago.")
    }
}

fn heartbeats_off(track: &Track) -> String {
    format!(
        "heartbeats off: nothing either way for {} (or T is larger than twice that). A dead \
             broker or a middlebox that forgot the connection goes unnoticed until the next \
             publish fails or is lost; `amqpdoctor idle-timeout` measures the path's idle \
             timeout.",
        secs(u64::from(
            track
                .last
                .last_data_sent_ms
                .min(track.last.last_data_recv_ms)
        ))
    )
}

/// Gone, how, when, and whether the broker's heartbeat window explains it.
fn dead(inf: &ScanInference, track: &Track, t: Option<Heartbeat>) -> String {
    let how = match inf.left_table {
        Some(true) => "it left the kernel's TCP table (reset or closed)",
        _ => "the broker closed its side (FIN)",
    };
    let at = inf.died_at_ms.map(secs).unwrap_or_default();
    let after = inf.died_after_last_sent_ms.map_or(String::new(), |ms| {
        format!(", {} after the application's last byte", secs(ms))
    });
    let window = match (inf.died_in_window, t) {
        (Some(true), Some(t)) => format!(
            ": inside the broker's heartbeat window [2T, 3T] = [{}, {}], so the broker \
                     dropped a starving client",
            secs(t.broker_may_drop_ms()),
            secs(t.broker_drops_by_ms())
        ),
        (Some(false), Some(t)) => format!(
            ": outside the broker's heartbeat window [{}, {}], so something else ended it",
            secs(t.broker_may_drop_ms()),
            secs(t.broker_drops_by_ms())
        ),
        _ => String::new(),
    };
    let held = match track.still_held {
        Some(true) => " The process still holds the socket: its next call on it fails \
                               (ECONNRESET or EPIPE)."
            .to_string(),
        Some(false) => " The process has closed the socket.".to_string(),
        None => String::new(),
    };
    format!("dead: {how} at {at}{after}{window}.{held}")
}
