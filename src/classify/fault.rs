//! The broker's own reasons for ending or stalling a connection, read off
//! the reply texts RabbitMQ sends (docs/broker-faults.md): a resource alarm
//! that blocks publishers, an operator's close, a shutdown, a connection
//! limit, a consumer acknowledgement timeout, a message over
//! `max_message_size`. Pure: which verdict, the numbers in the text, and
//! the words for each (the other verdicts' words are in [`super::narrate`]).
//!
//! The texts, as RabbitMQ 3.10.8 formats them (rabbitmq-server, tag v3.10.8):
//!
//! | text | where |
//! |---|---|
//! | `low on memory`, `low on disk` (Connection.Blocked) | deps/rabbit/src/rabbit_reader.erl, `blocked_by_message` |
//! | `broker forced connection closure with reason 'shutdown'` (320) | deps/rabbit/src/rabbit_reader.erl, via `rabbit_networking` |
//! | `Node was put into maintenance mode` (320), read as a shutdown | deps/rabbit/src/rabbit_maintenance.erl, `close_all_client_connections` (v3.13.7) |
//! | the operator's own text (320) | deps/rabbit/src/rabbit_networking.erl, `close_connection/2` |
//! | `access to vhost '~s' refused for user '~s': connection limit (~p) is reached` (530) | deps/rabbit/src/rabbit_reader.erl, `is_over_vhost_connection_limit` |
//! | `connection refused for user '~s': user connection limit (~p) is reached` (530) | deps/rabbit/src/rabbit_reader.erl, `is_over_user_connection_limit` |
//! | `delivery acknowledgement on channel ~w timed out. Timeout value used: ~p ms. …` (406) | deps/rabbit/src/rabbit_channel.erl, `evaluate_consumer_timeout` |
//! | `message size ~B is larger than configured max size ~B` (406) | deps/rabbit/src/rabbit_channel.erl, `check_msg_size` |

use serde::Serialize;

use super::attribute::RunFacts;
use super::end::EndKind;
use super::narrate::{negotiation_sentence, publish_sentence, Words};
use super::publish::{Outcome, PublishReport};
use crate::knowledge;
use crate::timeline::{EventKind, Timeline};
use crate::vocab::units::secs;
use crate::vocab::VerdictCode;

/// How long the broker kept a connection blocked (Connection.Blocked to
/// Connection.Unblocked, or to the end of the run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockedSpan {
    /// The broker's reason, as sent: `low on memory`, `low on disk`.
    pub reason: String,
    /// When Connection.Blocked arrived (ms since connect).
    pub at_ms: u64,
    /// When Connection.Unblocked arrived; null: still blocked at the end.
    pub unblocked_at_ms: Option<u64>,
    /// How long it stayed blocked: to the unblock, else to the client's
    /// close (or the run's last event).
    pub blocked_ms: u64,
}

/// The first Connection.Blocked of a timeline and how long it lasted.
pub fn blocked_span(tl: &Timeline) -> Option<BlockedSpan> {
    let (i, blocked) = tl
        .events
        .iter()
        .enumerate()
        .find(|(_, e)| matches!(e.kind, EventKind::Blocked { .. }))?;
    let EventKind::Blocked { reason } = &blocked.kind else {
        return None;
    };
    let unblocked_at_ms = tl.events[i..]
        .iter()
        .find(|e| matches!(e.kind, EventKind::Unblocked))
        .map(|e| e.at_ms);
    // Still blocked: until the client gave up and closed (the close itself
    // then waits for a broker that no longer reads), else the last event.
    let last = tl.events[i..]
        .iter()
        .find(|e| matches!(e.kind, EventKind::ClientClose { .. }))
        .or(tl.events.last())
        .map_or(blocked.at_ms, |e| e.at_ms);
    Some(BlockedSpan {
        reason: reason.clone(),
        at_ms: blocked.at_ms,
        unblocked_at_ms,
        blocked_ms: unblocked_at_ms
            .unwrap_or(last)
            .saturating_sub(blocked.at_ms),
    })
}

/// Publishes written before the block ended and never confirmed were not
/// lost: the broker had stopped reading them. They become `blocked`. So
/// does a publish whose write failed without an errno (timed out) then: a
/// client library that holds its writes while blocked (lapin) never sent it.
pub fn mark_blocked(publishes: &mut [PublishReport], tl: &Timeline) {
    let Some(span) = blocked_span(tl) else {
        return;
    };
    let until = span.unblocked_at_ms.unwrap_or(u64::MAX);
    for p in publishes {
        let held = p.outcome == Outcome::Failed && p.errno.is_none();
        if (p.outcome == Outcome::Lost || held) && p.at_ms <= until {
            p.outcome = Outcome::Blocked;
        }
    }
}

/// The verdict a broker's Connection.Close or Channel.Close text names,
/// when it is one of the faults above.
pub fn close_code(reply_code: u16, text: &str) -> Option<VerdictCode> {
    match reply_code {
        320 if text.contains("with reason 'shutdown'") => Some(VerdictCode::BrokerShutdown),
        // `rabbitmq-upgrade drain` (rabbit_maintenance.erl): the node is
        // about to be restarted or upgraded, as with a shutdown.
        320 if text.contains("Node was put into maintenance mode") => {
            Some(VerdictCode::BrokerShutdown)
        }
        320 => Some(VerdictCode::OperatorClosed),
        406 if consumer_timeout_ms(text).is_some() || text.contains("delivery acknowledgement") => {
            Some(VerdictCode::ConsumerAckTimeout)
        }
        406 if message_sizes(text).is_some() => Some(VerdictCode::MessageTooLarge),
        530 | 403 if connection_limit(text).is_some() => Some(VerdictCode::ConnectionLimit),
        _ => None,
    }
}

/// The verdict of a run the broker ended or stalled for one of its own
/// reasons, if it was one: a Connection.Close, or a Channel.Close while
/// the connection stayed up.
pub fn run_code(f: &RunFacts) -> Option<VerdictCode> {
    if let Some((code, text)) = server_close(f) {
        // A 530 here came after the setup, so it is not a limit.
        return close_code(code, text).filter(|c| *c != VerdictCode::ConnectionLimit);
    }
    channel_close(f.timeline).and_then(|(code, text)| {
        close_code(code, text).filter(|c| {
            matches!(
                c,
                VerdictCode::ConsumerAckTimeout | VerdictCode::MessageTooLarge
            )
        })
    })
}

/// The broker's Connection.Close: the ending itself, or one read after the
/// reset that followed it at once (a broker that closes with linger 0, as
/// RabbitMQ does when it shuts down, sends the Close and resets together).
fn server_close<'a>(f: &'a RunFacts) -> Option<(u16, &'a str)> {
    if f.end.kind == EndKind::ServerClose {
        return Some((f.end.reply_code?, f.end.reply_text.as_deref().unwrap_or("")));
    }
    if !matches!(f.end.kind, EndKind::Reset | EndKind::Fin) {
        return None;
    }
    f.timeline.events.iter().find_map(|e| match &e.kind {
        EventKind::ServerClose {
            reply_code,
            reply_text,
            ..
        } => Some((*reply_code, reply_text.as_str())),
        _ => None,
    })
}

/// The first Channel.Close from the broker: its code and text.
fn channel_close(tl: &Timeline) -> Option<(u16, &str)> {
    tl.events.iter().find_map(|e| match &e.kind {
        EventKind::ChannelClose {
            reply_code,
            reply_text,
        } => Some((*reply_code, reply_text.as_str())),
        _ => None,
    })
}

/// The number in `text` right after `before` (digits only).
fn number_after(text: &str, before: &str) -> Option<u64> {
    let rest = &text[text.find(before)? + before.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The consumer timeout the broker used, from its Channel.Close text
/// (`… timed out. Timeout value used: 2000 ms. …`).
pub fn consumer_timeout_ms(text: &str) -> Option<u64> {
    if !text.contains("delivery acknowledgement") {
        return None;
    }
    number_after(text, "Timeout value used: ")
}

/// The consumer timeout of a run's Channel.Close, if that is what closed it.
pub fn run_consumer_timeout_ms(tl: &Timeline) -> Option<u64> {
    channel_close(tl).and_then(|(_, text)| consumer_timeout_ms(text))
}

/// (message size, max size) from `message size N is larger than [configured] max size M`.
pub fn message_sizes(text: &str) -> Option<(u64, u64)> {
    let size = number_after(text, "message size ")?;
    let max = number_after(text, "max size ")?;
    text.contains("is larger than").then_some((size, max))
}

/// Whose connection limit a refusal names, and the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitScope {
    Vhost,
    User,
}

/// The limit a Connection.Open refusal names: `user connection limit (N)`
/// or `connection limit (N)` (the vhost's).
pub fn connection_limit(text: &str) -> Option<(LimitScope, u64)> {
    if let Some(n) = number_after(text, "user connection limit (") {
        return Some((LimitScope::User, n));
    }
    number_after(text, "connection limit (").map(|n| (LimitScope::Vhost, n))
}

fn remedy(code: VerdictCode) -> String {
    knowledge::verdict(code)
        .map(|v| v.about.remedy.join(" "))
        .unwrap_or_default()
}

/// The words for the verdicts this module decides (and for `blocked`,
/// with its reason and duration); None for every other verdict.
pub fn words(f: &RunFacts, code: VerdictCode) -> Option<Words> {
    let neg = negotiation_sentence(f);
    let pubs = publish_sentence(f);
    let text = server_close(f)
        .map(|(_, t)| t.to_string())
        .unwrap_or_default();
    let at = secs(f.end.at_ms);
    let (summary, explanation) = match code {
        VerdictCode::Blocked => blocked_words(f, &neg, &pubs)?,
        VerdictCode::OperatorClosed => (
            format!("an operator closed the connection: 320 \"{text}\""),
            format!(
                "{neg} At {at} the broker sent Connection.Close 320 CONNECTION_FORCED with the \
                 text \"{text}\": someone closed this connection on purpose (`rabbitmqctl \
                 close_connection`, the management UI or its HTTP API); nothing was wrong with \
                 the connection itself. {pubs}"
            ),
        ),
        VerdictCode::BrokerShutdown => (
            format!("the broker shut down: 320 \"{text}\""),
            format!(
                "{neg} At {at} the broker sent Connection.Close 320 \"{text}\": its node was \
                 stopping or restarting (`rabbitmqctl stop_app`, `stop`, an upgrade). Until it \
                 is back, connecting is refused (ECONNREFUSED). {pubs}"
            ),
        ),
        VerdictCode::ConsumerAckTimeout => {
            let (_, text) = channel_close(f.timeline)?;
            let timeout =
                consumer_timeout_ms(text).map_or_else(|| "its consumer_timeout".to_string(), secs);
            (
                format!(
                    "the broker closed the channel: a delivery was not acknowledged within \
                     {timeout} (consumer_timeout)"
                ),
                format!(
                    "{neg} The probe consumed its own messages without acknowledging them; the \
                     broker closed the channel with 406 \"{text}\". A consumer that holds a \
                     delivery longer than consumer_timeout ({timeout} here) loses its channel, \
                     and the unacknowledged messages are requeued. {pubs}"
                ),
            )
        }
        VerdictCode::MessageTooLarge => {
            let (_, text) = channel_close(f.timeline)?;
            (
                format!("the broker refused a message over its max_message_size: 406 \"{text}\""),
                format!(
                    "{neg} The broker closed the channel with 406 \"{text}\": the message was \
                     larger than its max_message_size and was not enqueued. {pubs}"
                ),
            )
        }
        _ => return None,
    };
    Some(Words {
        summary,
        explanation,
        remedy: remedy(code),
    })
}

fn blocked_words(f: &RunFacts, neg: &str, pubs: &str) -> Option<(String, String)> {
    let span = blocked_span(f.timeline)?;
    let pending = f
        .publishes
        .iter()
        .filter(|p| p.outcome == Outcome::Blocked)
        .count();
    let how_long = match span.unblocked_at_ms {
        Some(u) => format!(
            "for {} (Connection.Unblocked at {})",
            secs(span.blocked_ms),
            secs(u)
        ),
        None => format!(
            "for {}, still blocked when the probe stopped waiting",
            secs(span.blocked_ms)
        ),
    };
    Some((
        format!(
            "the broker blocked publishing (Connection.Blocked \"{}\") {how_long}: a resource alarm",
            span.reason
        ),
        format!(
            "{neg} At {} the broker sent Connection.Blocked \"{}\": a {} alarm stopped it from \
             reading this connection once it published (it also suspends heartbeat monitoring \
             for it). It stayed blocked {how_long}; {pending} publish(es) were pending while \
             blocked, neither lost nor refused: the broker had not read them. {pubs} An \
             application without a Connection.Blocked listener sees a publish that hangs.",
            secs(span.at_ms),
            span.reason,
            span.reason.trim_start_matches("low on "),
        ),
    ))
}

/// The remedy for a refusal at Connection.Open by a connection limit.
pub fn limit_remedy() -> String {
    remedy(VerdictCode::ConnectionLimit)
}

/// What `check` says when its publish waited unconfirmed on a blocked connection.
pub fn blocked_step_hint(reason: &str, for_ms: u64) -> String {
    format!(
        "The broker sent Connection.Blocked \"{reason}\" and stopped reading this connection: \
         the publish waited {} unconfirmed. A resource alarm is on (`rabbitmq-diagnostics \
         alarms`); see `amqpdoctor explain blocked`.",
        secs(for_ms)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_texts() {
        let rows: [(u16, &str, Option<VerdictCode>); 10] = [
            (
                320,
                "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'",
                Some(VerdictCode::BrokerShutdown),
            ),
            (
                320,
                "CONNECTION_FORCED - Node was put into maintenance mode",
                Some(VerdictCode::BrokerShutdown),
            ),
            (
                320,
                "CONNECTION_FORCED - maintenance by ops",
                Some(VerdictCode::OperatorClosed),
            ),
            (
                320,
                "CONNECTION_FORCED - Closed via management plugin",
                Some(VerdictCode::OperatorClosed),
            ),
            (
                406,
                "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout \
                 value used: 2000 ms. This timeout value can be configured, see consumers doc \
                 guide to learn more",
                Some(VerdictCode::ConsumerAckTimeout),
            ),
            (
                406,
                "PRECONDITION_FAILED - message size 200 is larger than configured max size 100",
                Some(VerdictCode::MessageTooLarge),
            ),
            (
                406,
                "PRECONDITION_FAILED - inequivalent arg 'durable'",
                None,
            ),
            (
                530,
                "NOT_ALLOWED - access to vhost '/' refused for user 'guest': connection limit (0) is reached",
                Some(VerdictCode::ConnectionLimit),
            ),
            (
                530,
                "NOT_ALLOWED - connection refused for user 'guest': user connection limit (2) is reached",
                Some(VerdictCode::ConnectionLimit),
            ),
            (
                530,
                "NOT_ALLOWED - access to vhost 'nope' refused for user 'guest'",
                None,
            ),
        ];
        for (code, text, want) in rows {
            assert_eq!(close_code(code, text), want, "{code} {text}");
        }
    }

    #[test]
    fn numbers_in_texts() {
        let ack = "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. \
                   Timeout value used: 1800000 ms. This timeout value can be configured";
        assert_eq!(consumer_timeout_ms(ack), Some(1_800_000));
        assert_eq!(consumer_timeout_ms("Timeout value used: 5 ms"), None);
        assert_eq!(
            message_sizes("message size 200 is larger than max size 134217728"),
            Some((200, 134_217_728))
        );
        assert_eq!(message_sizes("message size is larger"), None);
        assert_eq!(
            connection_limit("user connection limit (2) is reached"),
            Some((LimitScope::User, 2))
        );
        assert_eq!(
            connection_limit("refused for user 'g': connection limit (10) is reached"),
            Some((LimitScope::Vhost, 10))
        );
        assert_eq!(connection_limit("connection limit () is reached"), None);
        assert_eq!(connection_limit(""), None);
    }

    #[test]
    fn run_codes_and_their_words() {
        use crate::classify::attribute::attribute;
        use crate::classify::attribute::tests::{end, facts};
        use crate::classify::end::EndKind;
        use crate::vocab::Mode;
        const SHUTDOWN: &str =
            "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'";
        const ACK: &str = "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed \
                           out. Timeout value used: 2000 ms. This timeout value can be configured";
        let server_close = |text: &str| EventKind::ServerClose {
            reply_code: 320,
            reply_text: text.into(),
            class_id: 0,
            method_id: 0,
        };
        let channel_close = |code: u16, text: &str| EventKind::ChannelClose {
            reply_code: code,
            reply_text: text.into(),
        };
        let closed = |text: &str| {
            let mut e = end(EndKind::ServerClose, 100, None);
            e.reply_code = Some(320);
            e.reply_text = Some(text.into());
            e
        };
        // (timeline, end, verdict, words mention)
        let rows = [
            (
                vec![],
                closed("CONNECTION_FORCED - maintenance"),
                VerdictCode::OperatorClosed,
                "maintenance",
            ),
            (
                vec![],
                closed(SHUTDOWN),
                VerdictCode::BrokerShutdown,
                "'shutdown'",
            ),
            // The Close read just after the reset it came with.
            (
                vec![(2365, server_close(SHUTDOWN))],
                end(EndKind::Reset, 2364, Some(0)),
                VerdictCode::BrokerShutdown,
                "'shutdown'",
            ),
            (
                vec![(2009, channel_close(406, ACK))],
                end(EndKind::Alive, 0, None),
                VerdictCode::ConsumerAckTimeout,
                "within 2 s",
            ),
            (
                vec![(
                    5,
                    channel_close(406, "message size 63 is larger than max size 16"),
                )],
                end(EndKind::Alive, 0, None),
                VerdictCode::MessageTooLarge,
                "max size 16",
            ),
            // Another 406 is not one of these.
            (
                vec![(
                    5,
                    channel_close(406, "PRECONDITION_FAILED - unknown delivery tag 1"),
                )],
                end(EndKind::Alive, 0, None),
                VerdictCode::Healthy,
                "",
            ),
        ];
        for (events, e, want, mention) in rows {
            let t = tl(&events);
            let f = facts(Mode::Disabled, 0, 0, &t, &e, &[]);
            assert_eq!(attribute(&f), want, "{events:?} {e:?}");
            if let Some(w) = words(&f, want) {
                assert!(w.summary.contains(mention), "{}", w.summary);
                assert!(!w.remedy.is_empty(), "{want}");
            } else {
                assert_eq!(want, VerdictCode::Healthy);
            }
        }
        let t = tl(&[(2009, channel_close(406, ACK))]);
        assert_eq!(run_consumer_timeout_ms(&t), Some(2000));
    }

    fn tl(events: &[(u64, EventKind)]) -> Timeline {
        let mut t = Timeline::new(false);
        for (at, k) in events {
            t.push_at(*at, k.clone());
        }
        t
    }

    #[test]
    fn blocked_spans_and_pending_publishes() {
        let blocked = EventKind::Blocked {
            reason: "low on memory".into(),
        };
        let pubs = |outcome| {
            vec![PublishReport {
                seq: 1,
                at_ms: 1005,
                write: super::super::publish::WriteResult::Ok,
                errno: None,
                errno_name: None,
                outcome,
            }]
        };
        // (events, span, outcome of a publish at 1.005 s that was lost)
        let rows = [
            (vec![(1005, EventKind::IdleEnd)], None, Outcome::Lost),
            (
                vec![(1010, blocked.clone()), (3006, EventKind::Eof)],
                Some((1010, None, 1996)),
                Outcome::Blocked,
            ),
            (
                vec![(1010, blocked.clone()), (1500, EventKind::Unblocked)],
                Some((1010, Some(1500), 490)),
                Outcome::Blocked,
            ),
            // Unblocked before the publish: the loss is not the block's.
            (
                vec![(10, blocked.clone()), (20, EventKind::Unblocked)],
                Some((10, Some(20), 10)),
                Outcome::Lost,
            ),
        ];
        for (events, want, outcome) in rows {
            let t = tl(&events);
            let span = blocked_span(&t);
            assert_eq!(
                span.as_ref()
                    .map(|s| (s.at_ms, s.unblocked_at_ms, s.blocked_ms)),
                want,
                "{events:?}"
            );
            let mut p = pubs(Outcome::Lost);
            mark_blocked(&mut p, &t);
            assert_eq!(p[0].outcome, outcome, "{events:?}");
            let mut confirmed = pubs(Outcome::Confirmed);
            mark_blocked(&mut confirmed, &t);
            assert_eq!(confirmed[0].outcome, Outcome::Confirmed);
            // A write that timed out (no errno) is held like a lost one.
            let mut held = pubs(Outcome::Failed);
            mark_blocked(&mut held, &t);
            let want = if outcome == Outcome::Blocked {
                Outcome::Blocked
            } else {
                Outcome::Failed
            };
            assert_eq!(held[0].outcome, want, "{events:?}");
        }
        assert_eq!(
            blocked_span(&tl(&[(5, blocked)])).map(|s| s.reason),
            Some("low on memory".to_string())
        );
    }
}
