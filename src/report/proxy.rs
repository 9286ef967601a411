//! What `proxy` prints: one line per event as it happens, and a table of
//! the connections when it stops.

use crate::run::proxy::{ConnSummary, ProxyEvent, EVENT_QUEUE, PARSE_LIMIT};
use crate::vocab::units::secs;

use super::style::clean;

/// Seconds since the proxy started, right-aligned like probe timelines.
fn at(ms: u64) -> String {
    format!("{:>9.3}", ms as f64 / 1000.0)
}

/// One line for an event (no newline).
pub fn event_line(e: &ProxyEvent) -> String {
    match e {
        ProxyEvent::Listening { addr } => format!("listening on {addr}"),
        ProxyEvent::Opened {
            id,
            at_ms,
            client,
            upstream,
        } => format!("{}  #{id} open {client} → {upstream}", at(*at_ms)),
        ProxyEvent::UpstreamFailed {
            id,
            at_ms,
            client,
            error,
        } => format!(
            "{}  #{id} {client}: upstream connect failed ({}); client reset",
            at(*at_ms),
            clean(error)
        ),
        ProxyEvent::Frame {
            id,
            at_ms,
            dir,
            frame,
            dropped,
        } => format!(
            "{}  #{id} {} {}{}",
            at(*at_ms),
            dir.arrow(),
            clean(frame),
            if *dropped { "  [dropped]" } else { "" }
        ),
        ProxyEvent::Raw {
            id,
            at_ms,
            dir,
            why,
        } => format!(
            "{}  #{id} {} not AMQP any more ({}); forwarding raw",
            at(*at_ms),
            dir.arrow(),
            clean(why)
        ),
        ProxyEvent::Idle {
            id,
            at_ms,
            idle_ms,
            action,
        } => format!(
            "{}  #{id} idle {}: {}",
            at(*at_ms),
            secs(*idle_ms),
            action.describe()
        ),
        ProxyEvent::Closed { id, at_ms, how } => {
            format!("{}  #{id} ended: {}", at(*at_ms), clean(how))
        }
    }
}

/// The table of every connection, when the proxy stops.
pub fn summary(conns: &[ConnSummary]) -> String {
    if conns.is_empty() {
        return "no connections were proxied\n".into();
    }
    let rows = conns
        .iter()
        .map(|c| {
            vec![
                format!("#{}", c.id),
                c.client.clone(),
                secs(c.opened_at_ms),
                format!("{} / {}", c.bytes_to_server, c.bytes_to_client),
                format!(
                    "{} / {}",
                    c.heartbeats_dropped_to_server, c.heartbeats_dropped_to_client
                ),
                match (c.idle_action, c.idle_ms) {
                    (Some(a), Some(ms)) => format!("{a} after {}", secs(ms)),
                    _ => "–".into(),
                },
                clean(&c.ended).into_owned(),
            ]
        })
        .collect();
    super::style::table_unwrapped(
        &[
            "conn",
            "client",
            "opened",
            "bytes → server / → client",
            "heartbeats dropped → / ←",
            "idle action",
            "ended",
        ],
        rows,
    )
}

/// What the proxy's bounds did, after the table: events not printed
/// because the output fell behind, and the parse cap when frames were cut.
pub fn limits(events_dropped: u64, parsing: bool) -> String {
    let mut out = String::new();
    if events_dropped > 0 {
        out.push_str(&format!(
            "{events_dropped} events were not printed: the output fell behind (at most {EVENT_QUEUE} wait \
             for it)\n"
        ));
    }
    if parsing {
        out.push_str(&format!(
            "frames are parsed up to {} KiB; a longer one switches its direction to raw \
             forwarding, so each direction buffers at most that much\n",
            PARSE_LIMIT / 1024
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::proxy::{Direction, OnIdle};

    #[test]
    fn event_lines() {
        let rows = [
            (
                ProxyEvent::Opened {
                    id: 2,
                    at_ms: 311,
                    client: "127.0.0.1:40000".into(),
                    upstream: "127.0.0.1:5672".into(),
                },
                "    0.311  #2 open 127.0.0.1:40000 → 127.0.0.1:5672",
            ),
            (
                ProxyEvent::Frame {
                    id: 2,
                    at_ms: 517,
                    dir: Direction::ToClient,
                    frame: "heartbeat".into(),
                    dropped: true,
                },
                "    0.517  #2 ← heartbeat  [dropped]",
            ),
            (
                ProxyEvent::Idle {
                    id: 2,
                    at_ms: 2313,
                    idle_ms: 2000,
                    action: OnIdle::Reset,
                },
                "    2.313  #2 idle 2 s: reset both sides (RST)",
            ),
            (
                ProxyEvent::Closed {
                    id: 2,
                    at_ms: 2313,
                    how: "server said \u{1b}[2J".into(),
                },
                "    2.313  #2 ended: server said \\x1b[2J",
            ),
        ];
        for (event, want) in rows {
            assert_eq!(event_line(&event), want);
        }
        assert_eq!(summary(&[]), "no connections were proxied\n");
        let table = summary(&[ConnSummary {
            id: 1,
            heartbeats_dropped_to_server: 5,
            idle_action: Some(OnIdle::Drop),
            idle_ms: Some(2001),
            ended: "proxy stopped (Ctrl-C)".into(),
            ..ConnSummary::default()
        }]);
        assert!(
            table.contains("5 / 0") && table.contains("drop after 2.001 s"),
            "{table}"
        );
        assert_eq!(limits(0, false), "");
        let said = limits(7, true);
        assert!(said.starts_with("7 events were not printed"), "{said}");
        assert!(said.contains("parsed up to 1024 KiB"), "{said}");
    }
}
