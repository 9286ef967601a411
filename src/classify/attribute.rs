//! The attribution rule: which hop ended a connection, from its timeline
//! and the negotiated T.
//!
//! RabbitMQ samples the bytes it received once per T and gives up after two
//! empty samples, closing with linger 0: a silent client sees RST between 2T
//! and 3T after its last byte. An ending outside that window, or with
//! heartbeats off, was caused by something else in the path.

use super::end::{End, EndKind};
use super::publish::{Outcome, PublishReport};
use crate::knowledge::Broker;
use crate::timeline::{EventKind, Timeline};
use crate::vocab::{Heartbeat, Mode, Pumper, VerdictCode};

/// Everything the classifier needs to know about one run.
#[derive(Debug, Clone)]
pub struct RunFacts<'a> {
    pub mode: Mode,
    pub server_heartbeat: Option<Heartbeat>,
    /// None: the client accepted the server's proposal.
    pub requested_heartbeat_s: Option<u16>,
    pub heartbeat: Heartbeat,
    pub idle_ms: u64,
    pub pump_every_ms: Option<u64>,
    /// Who `pump_every_ms` stands for.
    pub pumper: Pumper,
    pub confirm_timeout_ms: u64,
    pub timeline: &'a Timeline,
    pub end: &'a End,
    pub publishes: &'a [PublishReport],
    pub interrupted: bool,
    /// The broker, and the rules it applies (see [`Broker::from_server`]).
    pub broker: &'a Broker,
}

/// Extra tolerance around RabbitMQ's [2T, 3T] window: scheduling jitter on
/// both hosts plus the half-second granularity of our own idle.
pub fn attribution_tolerance_ms(t: Heartbeat) -> u64 {
    500 + 50 * u64::from(t.secs())
}

/// Both directions must have been silent at least this long before an
/// ending for it to look like an idle-timeout kill.
pub const PATH_IDLE_MIN_MS: u64 = 1000;

/// Whether `client_silence_ms` before an ending falls in the broker's
/// heartbeat window (RabbitMQ's [2T, 3T]), with tolerance.
pub fn in_broker_window(broker: &Broker, t: Heartbeat, client_silence_ms: u64) -> bool {
    let tol = attribution_tolerance_ms(t);
    !t.is_off()
        && client_silence_ms + tol >= broker.may_drop_ms(t)
        && client_silence_ms <= broker.drops_by_ms(t) + tol
}

/// When the client *did* send heartbeats while idle but the ending still
/// came in the broker's window counted from the client's last frame that
/// was not a heartbeat (the start of the idle), the heartbeats never
/// reached the broker: something in the path swallowed them. Returns that
/// silence as the broker heard it.
pub fn heartbeats_swallowed(f: &RunFacts) -> Option<u64> {
    let end = f.end;
    if !matches!(end.kind, EndKind::Reset | EndKind::Fin) || end.reply_code.is_some() {
        return None;
    }
    if f.timeline.heartbeats.sent == 0 {
        return None;
    }
    if in_broker_window(
        f.broker,
        f.heartbeat,
        end.since_last_client_byte_ms.unwrap_or(0),
    ) {
        return None;
    }
    let idle_start = f
        .timeline
        .find(|k| matches!(k, EventKind::IdleStart { .. }))
        .map(|e| e.at_ms)?;
    let heard = end.at_ms.checked_sub(idle_start)?;
    in_broker_window(f.broker, f.heartbeat, heard).then_some(heard)
}

/// When an RST answered the client's first write after an idle in which
/// neither side sent a byte — the client had heartbeats off or sent none,
/// and the server was silent since the idle began — the peer no longer
/// knew the connection: a NAT gateway, load balancer or firewall that
/// forgot the flow and rejects its next packet (or a broker host that
/// rebooted or lost its address to another). Returns how long both sides
/// had been silent before that write.
pub fn reset_on_first_write_after_idle(f: &RunFacts) -> Option<u64> {
    let end = f.end;
    if end.kind != EndKind::Reset || end.reply_code.is_some() || f.timeline.heartbeats.sent > 0 {
        return None;
    }
    let client = end.since_last_client_byte_ms?;
    let server = end.since_last_server_byte_ms?;
    if client >= PATH_IDLE_MIN_MS || server < PATH_IDLE_MIN_MS {
        return None;
    }
    let idle_start = f
        .timeline
        .find(|k| matches!(k, EventKind::IdleStart { .. }))
        .map(|e| e.at_ms)?;
    // The server has been silent since (about) the start of the idle.
    let idle_to_end = end.at_ms.checked_sub(idle_start)?;
    (server + IDLE_START_SLACK_MS >= idle_to_end).then_some(server.saturating_sub(client))
}

/// How much earlier than the idle's start the server's last byte may be
/// (the answer to our last setup step, just before the idle began).
const IDLE_START_SLACK_MS: u64 = 250;

/// The heartbeat a broker enforces when it takes the smaller of its own
/// proposal and the client's Tune-Ok (GarageMQ does; RabbitMQ adopts the
/// Tune-Ok value as it is): the proposal, when the client asked for more.
/// Off (so no window) otherwise.
fn enforced_by_min(f: &RunFacts) -> Heartbeat {
    match f.server_heartbeat {
        Some(s) if !s.is_off() && !f.heartbeat.is_off() && s.secs() < f.heartbeat.secs() => s,
        _ => Heartbeat::from_secs(0),
    }
}

/// The attribution rule: which verdict an ending gets.
/// The broker's own reasons (an operator's close, a shutdown, a consumer
/// timeout; see [`super::fault`]) come first.
pub fn attribute(f: &RunFacts) -> VerdictCode {
    super::fault::run_code(f).unwrap_or_else(|| attribute_ending(f))
}

fn attribute_ending(f: &RunFacts) -> VerdictCode {
    let end = f.end;
    let blocked = f
        .timeline
        .find(|k| matches!(k, EventKind::Blocked { .. }))
        .is_some();
    let unsettled = f.publishes.iter().any(|p| {
        matches!(
            p.outcome,
            Outcome::Lost | Outcome::Unknown | Outcome::Blocked
        )
    });
    let exchange_missing = f
        .timeline
        .find(|k| {
            matches!(
                k,
                EventKind::ChannelClose {
                    reply_code: 404,
                    ..
                }
            )
        })
        .is_some();
    let refused = f
        .publishes
        .iter()
        .any(|p| matches!(p.outcome, Outcome::Nacked | Outcome::Returned));
    let lost = f.publishes.iter().any(|p| p.outcome == Outcome::Lost);
    // A connection that stayed up is healthy only if every message it was
    // given arrived: a refused or lost publish is a fault in any mode.
    let survived = || {
        if blocked && unsettled {
            VerdictCode::Blocked
        } else if exchange_missing {
            VerdictCode::ExchangeNotFound
        } else if refused {
            VerdictCode::MessageRefused
        } else if lost {
            VerdictCode::SilentLoss
        } else {
            VerdictCode::Healthy
        }
    };
    match end.kind {
        EndKind::ServerClose => match (end.reply_code, end.class_id, end.method_id) {
            (Some(403), Some(10), _) => VerdictCode::AuthFailed,
            (Some(530 | 402), Some(10), Some(40)) => VerdictCode::VhostNotAllowed,
            _ => VerdictCode::ServerClosed,
        },
        EndKind::Reset | EndKind::Fin => {
            let client_silence = end.since_last_client_byte_ms.unwrap_or(0);
            if in_broker_window(f.broker, f.heartbeat, client_silence)
                || in_broker_window(f.broker, enforced_by_min(f), client_silence)
                || heartbeats_swallowed(f).is_some()
            {
                VerdictCode::BrokerHeartbeatTimeout
            } else if (client_silence >= PATH_IDLE_MIN_MS
                && end
                    .since_last_server_byte_ms
                    .is_some_and(|s| s >= PATH_IDLE_MIN_MS))
                || reset_on_first_write_after_idle(f).is_some()
            {
                VerdictCode::PathIdleTimeout
            } else if end.kind == EndKind::Reset {
                VerdictCode::PeerReset
            } else {
                VerdictCode::PeerClosed
            }
        }
        EndKind::Silence => match survived() {
            VerdictCode::Healthy => VerdictCode::Timeout,
            code => code,
        },
        // Interrupted before anything died: no diagnosis.
        EndKind::ClientClose => VerdictCode::Interrupted,
        EndKind::Alive if f.interrupted => VerdictCode::Interrupted,
        EndKind::Alive => survived(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::classify::end::tests::tl;
    use crate::classify::end::SeenBy;
    use crate::classify::publish::publish_reports;
    use crate::timeline::{EventKind as K, PublishAttempt};

    pub(crate) static RABBITMQ: std::sync::LazyLock<Broker> =
        std::sync::LazyLock::new(|| Broker::from_server(Some("RabbitMQ"), Some("3.10.8")));

    pub(crate) fn end(kind: EndKind, client_silence: u64, server_silence: Option<u64>) -> End {
        let mut e = End::new(kind, client_silence + 10, SeenBy::Observer);
        e.since_last_client_byte_ms = Some(client_silence);
        e.since_last_server_byte_ms = server_silence;
        e
    }

    pub(crate) fn facts<'a>(
        mode: Mode,
        t: u16,
        idle: u64,
        tl: &'a Timeline,
        e: &'a End,
        p: &'a [PublishReport],
    ) -> RunFacts<'a> {
        RunFacts {
            mode,
            server_heartbeat: Some(Heartbeat::from_secs(60)),
            requested_heartbeat_s: Some(t),
            heartbeat: Heartbeat::from_secs(t),
            idle_ms: idle,
            pump_every_ms: None,
            pumper: Pumper::Application,
            confirm_timeout_ms: 5000,
            timeline: tl,
            end: e,
            publishes: p,
            interrupted: false,
            broker: &RABBITMQ,
        }
    }

    #[test]
    fn heartbeats_that_never_arrived() {
        // Measured through `proxy --drop-heartbeats to-server`: lapin at
        // T = 1 s sent 5 heartbeats; the broker reset the connection 2.935 s
        // after the idle began, 432 ms after the client's last byte.
        let mut timeline = tl(&[(73, K::IdleStart { planned_ms: 5000 })], &[]);
        let mut e = end(EndKind::Reset, 432, Some(500));
        e.at_ms = 3008;
        // (heartbeats sent, T, verdict)
        let rows = [
            (5, 1, VerdictCode::BrokerHeartbeatTimeout),
            // Nothing sent: an early reset by someone else.
            (0, 1, VerdictCode::PeerReset),
            // Outside [2T, 3T] of the idle start for T = 5.
            (5, 5, VerdictCode::PeerReset),
        ];
        for (sent, t, want) in rows {
            timeline.heartbeats.sent = sent;
            let f = facts(Mode::Serviced, t, 5000, &timeline, &e, &[]);
            assert_eq!(attribute(&f), want, "sent {sent}, T {t}");
            assert_eq!(
                heartbeats_swallowed(&f).is_some(),
                want == VerdictCode::BrokerHeartbeatTimeout
            );
        }
    }

    #[test]
    fn attribution_rule() {
        let empty = Timeline::new(false);
        // (end, T, verdict)
        let rows: Vec<(End, u16, VerdictCode)> = vec![
            // the measured case: RST 5.99 s after the last byte, T = 2
            (
                end(EndKind::Reset, 5990, Some(990)),
                2,
                VerdictCode::BrokerHeartbeatTimeout,
            ),
            (
                end(EndKind::Reset, 4100, Some(100)),
                2,
                VerdictCode::BrokerHeartbeatTimeout,
            ),
            // at T = 60: 120–180 s
            (
                end(EndKind::Reset, 150_000, Some(20_000)),
                60,
                VerdictCode::BrokerHeartbeatTimeout,
            ),
            // too early for the broker: something else, path not idle
            (
                end(EndKind::Reset, 1500, Some(200)),
                2,
                VerdictCode::PeerReset,
            ),
            (
                end(EndKind::Fin, 1500, Some(200)),
                2,
                VerdictCode::PeerClosed,
            ),
            // far past 3T: not the broker's window
            (
                end(EndKind::Reset, 60_000, Some(500)),
                2,
                VerdictCode::PeerReset,
            ),
            // heartbeats off, both directions silent: an idle timeout in the path
            (
                end(EndKind::Reset, 350_000, Some(350_000)),
                0,
                VerdictCode::PathIdleTimeout,
            ),
            (
                end(EndKind::Fin, 30_000, Some(30_000)),
                0,
                VerdictCode::PathIdleTimeout,
            ),
            // heartbeats off but the server was talking: a plain reset
            (
                end(EndKind::Reset, 30_000, Some(10)),
                0,
                VerdictCode::PeerReset,
            ),
            (end(EndKind::Alive, 0, None), 2, VerdictCode::Healthy),
            (end(EndKind::Silence, 0, None), 2, VerdictCode::Timeout),
        ];
        for (i, (e, t, want)) in rows.iter().enumerate() {
            let f = facts(Mode::Starved, *t, 8000, &empty, e, &[]);
            assert_eq!(attribute(&f), *want, "row {i}: {e:?} T={t}");
        }
        let mut close = End::new(EndKind::ServerClose, 100, SeenBy::CloseFrame);
        let shutdown =
            "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'";
        for (code, class, method, text, want) in [
            (
                320,
                0,
                0,
                "CONNECTION_FORCED - x",
                VerdictCode::OperatorClosed,
            ),
            (320, 0, 0, shutdown, VerdictCode::BrokerShutdown),
            (403, 10, 11, "", VerdictCode::AuthFailed),
            (530, 10, 40, "", VerdictCode::VhostNotAllowed),
            (541, 0, 0, "", VerdictCode::ServerClosed),
        ] {
            close.reply_text = Some(text.into());
            close.reply_code = Some(code);
            close.class_id = Some(class);
            close.method_id = Some(method);
            let f = facts(Mode::Disabled, 0, 0, &empty, &close, &[]);
            assert_eq!(attribute(&f), want, "{code}");
        }
    }

    #[test]
    fn a_broker_that_enforces_the_smaller_heartbeat() {
        // GarageMQ proposes 10 s and enforces min(10, Tune-Ok): a client
        // that answered 20 s is dropped at 3 × 10 s.
        let empty = Timeline::new(false);
        let e = end(EndKind::Fin, 30_003, Some(10));
        let mut f = facts(Mode::Starved, 20, 35_000, &empty, &e, &[]);
        f.server_heartbeat = Some(Heartbeat::from_secs(10));
        assert_eq!(attribute(&f), VerdictCode::BrokerHeartbeatTimeout);
        // Proposal above the client's value: only the client's T counts.
        f.server_heartbeat = Some(Heartbeat::from_secs(60));
        assert_eq!(attribute(&f), VerdictCode::PeerClosed);
    }

    #[test]
    fn a_reset_answering_the_first_write_after_a_silent_idle_is_the_path() {
        // The idle began at 100 ms; the RST came at 6110 ms.
        let idle = tl(&[(100, K::IdleStart { planned_ms: 6000 })], &[6108]);
        let no_idle = Timeline::new(false);
        let mut beating = idle.clone();
        beating.heartbeats.sent = 3;
        let at = |kind: EndKind, client: u64, server: u64| {
            let mut e = End::new(kind, 6110, SeenBy::Write);
            e.since_last_client_byte_ms = Some(client);
            e.since_last_server_byte_ms = Some(server);
            e
        };
        // (timeline, end, verdict, two-way silence before the write)
        let rows: [(&Timeline, End, VerdictCode, Option<u64>); 7] = [
            // conntrack in a namespace, measured: RST 0 ms after the
            // publish, the server silent the whole 6 s idle
            (
                &idle,
                at(EndKind::Reset, 2, 6005),
                VerdictCode::PathIdleTimeout,
                Some(6003),
            ),
            // the server's last byte a little before the idle began
            (
                &idle,
                at(EndKind::Reset, 2, 6150),
                VerdictCode::PathIdleTimeout,
                Some(6148),
            ),
            // the server was talking during the idle: just a reset
            (
                &idle,
                at(EndKind::Reset, 2, 300),
                VerdictCode::PeerReset,
                None,
            ),
            // the server went silent well after the idle began
            (
                &idle,
                at(EndKind::Reset, 2, 3000),
                VerdictCode::PeerReset,
                None,
            ),
            // the client sent heartbeats while idle: the path was not idle
            (
                &beating,
                at(EndKind::Reset, 2, 6005),
                VerdictCode::PeerReset,
                None,
            ),
            // a FIN is an orderly close by someone, not a forgotten flow
            (
                &idle,
                at(EndKind::Fin, 2, 6005),
                VerdictCode::PeerClosed,
                None,
            ),
            // no idle: nothing to have forgotten
            (
                &no_idle,
                at(EndKind::Reset, 2, 6005),
                VerdictCode::PeerReset,
                None,
            ),
        ];
        for (i, (t, e, want, silence)) in rows.iter().enumerate() {
            let f = facts(Mode::Disabled, 0, 6000, t, e, &[]);
            assert_eq!(attribute(&f), *want, "row {i}: {e:?}");
            assert_eq!(reset_on_first_write_after_idle(&f), *silence, "row {i}");
        }
    }

    #[test]
    fn a_surviving_connection_is_healthy_only_if_every_message_arrived() {
        let empty = Timeline::new(false);
        let one = |write_error, settled| PublishAttempt {
            seq: 1,
            at_ms: 1,
            write_error,
            settled,
        };
        let not_found = tl(
            &[(
                5,
                K::ChannelClose {
                    reply_code: 404,
                    reply_text: "NOT_FOUND - no exchange 'nosuchexchange' in vhost '/'".into(),
                },
            )],
            &[],
        );
        use crate::timeline::Settled;
        // (timeline, publish, verdict)
        let rows = [
            (&empty, one(None, Some(Settled::Ack)), VerdictCode::Healthy),
            (&empty, one(None, None), VerdictCode::SilentLoss),
            (
                &empty,
                one(None, Some(Settled::Nack)),
                VerdictCode::MessageRefused,
            ),
            (
                &empty,
                one(None, Some(Settled::Returned)),
                VerdictCode::MessageRefused,
            ),
            (&not_found, one(None, None), VerdictCode::ExchangeNotFound),
        ];
        let alive = end(EndKind::Alive, 0, None);
        for (i, (t, p, want)) in rows.into_iter().enumerate() {
            let pubs = publish_reports(std::slice::from_ref(&p), false);
            for mode in [Mode::Serviced, Mode::Starved, Mode::Disabled] {
                assert_eq!(
                    attribute(&facts(mode, 2, 3000, t, &alive, &pubs)),
                    want,
                    "row {i} {mode}"
                );
            }
        }
        // Interrupted before anything died: interrupted, not healthy.
        let mut f = facts(Mode::Starved, 2, 20_000, &empty, &alive, &[]);
        f.interrupted = true;
        assert_eq!(attribute(&f), VerdictCode::Interrupted);
        let client = end(EndKind::ClientClose, 0, None);
        assert_eq!(
            attribute(&facts(Mode::Starved, 2, 20_000, &empty, &client, &[])),
            VerdictCode::Interrupted
        );
    }

    #[test]
    fn silence_with_lost_publishes_is_silent_loss_and_blocked_wins() {
        let lost = publish_reports(
            &[PublishAttempt {
                seq: 1,
                at_ms: 1,
                write_error: None,
                settled: None,
            }],
            false,
        );
        let e = end(EndKind::Silence, 0, None);
        let empty = Timeline::new(false);
        assert_eq!(
            attribute(&facts(Mode::Disabled, 0, 0, &empty, &e, &lost)),
            VerdictCode::SilentLoss
        );
        let blocked = tl(
            &[(
                5,
                K::Blocked {
                    reason: "low on memory".into(),
                },
            )],
            &[],
        );
        assert_eq!(
            attribute(&facts(Mode::Disabled, 0, 0, &blocked, &e, &lost)),
            VerdictCode::Blocked
        );
    }
}
