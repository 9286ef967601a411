//! How a connection ended, read off its timeline.

use serde::Serialize;

use super::errno::ErrnoClass;
use crate::timeline::{EventKind, TcpEnd, Timeline};

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndKind {
    /// Still open when we closed it.
    Alive,
    /// We closed it before the experiment finished (interrupted).
    ClientClose,
    /// Connection.Close received from the server.
    ServerClose,
    /// RST / ECONNRESET.
    Reset,
    /// Orderly close by the peer: FIN, EOF, or EPIPE on write.
    Fin,
    /// No answer to a request within its timeout.
    Silence,
}

/// What showed the ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeenBy {
    /// The socket observer (poll + TCP_INFO), while nobody read.
    Observer,
    Read,
    Write,
    /// A Connection.Close frame.
    CloseFrame,
    Timeout,
    /// The client itself (it closed, or was interrupted).
    Client,
}

/// The ending of one run, as the JSON contract describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct End {
    pub kind: EndKind,
    pub at_ms: u64,
    pub since_last_client_byte_ms: Option<u64>,
    pub since_last_server_byte_ms: Option<u64>,
    pub reply_code: Option<u16>,
    pub reply_text: Option<String>,
    pub class_id: Option<u16>,
    pub method_id: Option<u16>,
    pub errno: Option<i32>,
    pub errno_name: Option<String>,
    pub seen_by: SeenBy,
}

impl End {
    pub fn new(kind: EndKind, at_ms: u64, seen_by: SeenBy) -> Self {
        End {
            kind,
            at_ms,
            since_last_client_byte_ms: None,
            since_last_server_byte_ms: None,
            reply_code: None,
            reply_text: None,
            class_id: None,
            method_id: None,
            errno: None,
            errno_name: None,
            seen_by,
        }
    }
}

/// How much later than a failed write or read the observer's report of the
/// same death may come and still be the same death.
const OBSERVER_LAG_MS: u64 = 100;

/// Read the ending off a timeline. The earliest evidence of death wins (a
/// reset seen by the observer at 6 s explains the ECONNRESET a publish got
/// at 8 s); timeouts count only when nothing died.
pub fn end_of(tl: &Timeline) -> End {
    let mut end = None;
    let mut timeout = None;
    let mut interrupted = None;
    for ev in &tl.events {
        match &ev.kind {
            EventKind::Timeout { .. } => {
                timeout.get_or_insert(ev.at_ms);
            }
            EventKind::Interrupted => {
                interrupted.get_or_insert(ev.at_ms);
            }
            kind => {
                end = death_shown_by(kind, ev.at_ms);
                if end.is_some() {
                    break;
                }
            }
        }
    }
    let mut end = end.unwrap_or_else(|| end_without_death(tl, interrupted, timeout));
    if end.since_last_server_byte_ms.is_none()
        && matches!(end.seen_by, SeenBy::Write | SeenBy::Read)
    {
        end.since_last_server_byte_ms = observer_server_silence(tl, &end);
    }
    if end.since_last_client_byte_ms.is_none() {
        // Silence measured up to the end, from the last write before it.
        end.since_last_client_byte_ms =
            tl.last_client_byte_before(end.at_ms).map(|t| end.at_ms - t);
    }
    end
}

/// The death an event at `at` ms shows, if it shows one: a Connection.Close
/// from the server, the observer's reset or FIN, a failed read or write, or
/// EOF.
fn death_shown_by(kind: &EventKind, at: u64) -> Option<End> {
    match kind {
        EventKind::ServerClose {
            reply_code,
            reply_text,
            class_id,
            method_id,
        } => {
            let mut e = End::new(EndKind::ServerClose, at, SeenBy::CloseFrame);
            e.reply_code = Some(*reply_code);
            e.reply_text = Some(reply_text.clone());
            e.class_id = Some(*class_id);
            e.method_id = Some(*method_id);
            Some(e)
        }
        EventKind::PeerEnded {
            how,
            since_last_client_byte_ms,
            since_last_server_byte_ms,
            ..
        } => {
            let kind = match how {
                TcpEnd::Reset => EndKind::Reset,
                TcpEnd::Fin => EndKind::Fin,
            };
            let mut e = End::new(kind, at, SeenBy::Observer);
            e.since_last_client_byte_ms = Some(*since_last_client_byte_ms);
            e.since_last_server_byte_ms = Some(*since_last_server_byte_ms);
            Some(e)
        }
        EventKind::IoError {
            op,
            errno,
            errno_name,
        } => {
            let kind = match ErrnoClass::from_raw(*errno) {
                ErrnoClass::BrokenPipe | ErrnoClass::Eof => EndKind::Fin,
                ErrnoClass::TimedOut | ErrnoClass::Unreachable => EndKind::Silence,
                _ => EndKind::Reset,
            };
            let seen_by = if op.is_write() {
                SeenBy::Write
            } else {
                SeenBy::Read
            };
            let mut e = End::new(kind, at, seen_by);
            e.errno = *errno;
            e.errno_name = Some(errno_name.clone());
            Some(e)
        }
        EventKind::Eof => Some(End::new(EndKind::Fin, at, SeenBy::Read)),
        _ => None,
    }
}

/// The ending of a timeline in which nothing died: the interruption if the
/// run was interrupted, else the first timeout, else still alive when the
/// client closed it (or at the last event).
fn end_without_death(tl: &Timeline, interrupted: Option<u64>, timeout: Option<u64>) -> End {
    if let Some(at) = interrupted {
        End::new(EndKind::ClientClose, at, SeenBy::Client)
    } else if let Some(at) = timeout {
        End::new(EndKind::Silence, at, SeenBy::Timeout)
    } else {
        let at = tl
            .find(|k| matches!(k, EventKind::ClientClose { .. }))
            .map_or_else(|| tl.events.last().map_or(0, |e| e.at_ms), |e| e.at_ms);
        End::new(EndKind::Alive, at, SeenBy::Client)
    }
}

/// How long the server had been silent at `end`, by the observer's report of
/// the same death. A write or read saw the death first; the observer, which
/// knows the server's silence from TCP_INFO, usually reports it a few ms
/// later (within OBSERVER_LAG_MS). Its figure is counted back to the end.
fn observer_server_silence(tl: &Timeline, end: &End) -> Option<u64> {
    tl.events
        .iter()
        .filter(|e| e.at_ms >= end.at_ms && e.at_ms <= end.at_ms + OBSERVER_LAG_MS)
        .find_map(|e| match e.kind {
            EventKind::PeerEnded {
                since_last_server_byte_ms,
                ..
            } => Some(since_last_server_byte_ms.saturating_sub(e.at_ms - end.at_ms)),
            _ => None,
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::timeline::EventKind as K;
    use crate::vocab::units::errno_name;
    use crate::vocab::{Awaiting, Op};

    pub(crate) fn tl(events: &[(u64, K)], writes: &[u64]) -> Timeline {
        let mut t = Timeline::new(false);
        for (at, k) in events {
            t.push_at(*at, k.clone());
        }
        t.client_writes_ms = writes.to_vec();
        t
    }

    fn peer(how: TcpEnd, client: u64, server: u64) -> K {
        K::PeerEnded {
            how,
            tcp_state: "CLOSE".into(),
            since_last_client_byte_ms: client,
            since_last_server_byte_ms: server,
        }
    }

    fn io_err(op: Op, errno: i32) -> K {
        K::IoError {
            op,
            errno: Some(errno),
            errno_name: errno_name(errno),
        }
    }

    #[test]
    fn a_write_that_saw_the_rst_first_borrows_the_observers_server_silence() {
        type Events = Vec<(u64, K)>;
        // (events, server silence at the end)
        let rows: Vec<(Events, Option<u64>)> = vec![
            // the conntrack case: ECONNRESET on the write, the observer 2 ms later
            (
                vec![
                    (6007, io_err(Op::Publish, 104)),
                    (6009, peer(TcpEnd::Reset, 2, 6004)),
                ],
                Some(6002),
            ),
            // the observer's report is of something later: not borrowed
            (
                vec![
                    (6007, io_err(Op::Publish, 104)),
                    (6500, peer(TcpEnd::Reset, 2, 6004)),
                ],
                None,
            ),
            // no observer report at all
            (vec![(6007, io_err(Op::Publish, 104))], None),
        ];
        for (events, want) in rows {
            let e = end_of(&tl(&events, &[6006]));
            assert_eq!(e.seen_by, SeenBy::Write);
            assert_eq!(e.since_last_server_byte_ms, want, "{events:?}");
        }
    }

    #[test]
    fn end_of_picks_the_earliest_evidence() {
        let close = K::ServerClose {
            reply_code: 320,
            reply_text: "CONNECTION_FORCED - x".into(),
            class_id: 0,
            method_id: 0,
        };
        let timeout = K::Timeout {
            waiting_for: Awaiting::Confirms,
            after_ms: 5000,
        };
        let read = || Op::Read(Awaiting::Confirms);
        // (timeline, kind, at, seen by)
        let rows: Vec<(Timeline, EndKind, u64, SeenBy)> = vec![
            (
                tl(
                    &[
                        (6005, peer(TcpEnd::Reset, 5990, 990)),
                        (8000, io_err(Op::Publish, 104)),
                    ],
                    &[10],
                ),
                EndKind::Reset,
                6005,
                SeenBy::Observer,
            ),
            (
                tl(&[(8000, io_err(Op::Publish, 104))], &[10]),
                EndKind::Reset,
                8000,
                SeenBy::Write,
            ),
            (
                tl(&[(8000, io_err(Op::Publish, 32))], &[10]),
                EndKind::Fin,
                8000,
                SeenBy::Write,
            ),
            (
                tl(&[(3000, K::Eof)], &[10]),
                EndKind::Fin,
                3000,
                SeenBy::Read,
            ),
            (
                tl(&[(3000, close.clone()), (3001, K::Eof)], &[10]),
                EndKind::ServerClose,
                3000,
                SeenBy::CloseFrame,
            ),
            (
                tl(&[(9000, timeout.clone())], &[10]),
                EndKind::Silence,
                9000,
                SeenBy::Timeout,
            ),
            (
                tl(&[(9000, io_err(read(), 110))], &[10]),
                EndKind::Silence,
                9000,
                SeenBy::Read,
            ),
            (
                tl(&[(100, K::Interrupted)], &[10]),
                EndKind::ClientClose,
                100,
                SeenBy::Client,
            ),
            (
                tl(
                    &[
                        (8000, K::ClientClose { reply_code: 200 }),
                        (8001, K::CloseOk),
                    ],
                    &[10, 8000],
                ),
                EndKind::Alive,
                8000,
                SeenBy::Client,
            ),
        ];
        for (i, (t, kind, at, seen_by)) in rows.iter().enumerate() {
            let e = end_of(t);
            assert_eq!(
                (e.kind, e.at_ms, e.seen_by),
                (*kind, *at, *seen_by),
                "row {i}: {e:?}"
            );
        }
        // Silence since the last write before the end, when the observer
        // did not measure it.
        let e = end_of(&tl(&[(8000, io_err(Op::Publish, 104))], &[10, 8000]));
        assert_eq!(e.since_last_client_byte_ms, Some(0));
    }
}
