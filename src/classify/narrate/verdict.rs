//! A verdict's summary, explanation and remedy, one function per verdict
//! family, built from the facts of one run.

use super::{
    heartbeat_counts, idle_reached_ms, kb_remedy, lowercase_first, method_clause, middleboxes,
    negotiation_sentence, operator_hint, publish_sentence, Words,
};
use crate::classify::attribute::{self, RunFacts};
use crate::classify::end::EndKind;
use crate::knowledge;
use crate::timeline::EventKind;
use crate::vocab::units::{duration_ms, flag_duration, secs};
use crate::vocab::{Mode, Pumper, VerdictCode};

/// The sentences every verdict shares: how the heartbeat was negotiated,
/// what became of the publishes, the client's silence and when it ended.
struct Common {
    neg: String,
    pubs: String,
    silence: String,
    at: String,
}

impl Common {
    fn of(f: &RunFacts) -> Self {
        Common {
            neg: negotiation_sentence(f),
            pubs: publish_sentence(f),
            silence: f
                .end
                .since_last_client_byte_ms
                .map(secs)
                .unwrap_or_else(|| "?".into()),
            at: secs(f.end.at_ms),
        }
    }
}

/// The words for a run's verdict.
pub fn words(f: &RunFacts, code: VerdictCode) -> Words {
    let c = Common::of(f);
    match code {
        VerdictCode::Healthy => healthy(f, &c),
        VerdictCode::BrokerHeartbeatTimeout => match attribute::heartbeats_swallowed(f) {
            Some(heard_ms) => heartbeats_swallowed(f, &c, heard_ms),
            None => heartbeat_timeout(f, &c, code),
        },
        VerdictCode::ServerClosed => server_closed(f, &c),
        VerdictCode::AuthFailed | VerdictCode::VhostNotAllowed => refused(f, &c),
        VerdictCode::PathIdleTimeout | VerdictCode::PeerReset | VerdictCode::PeerClosed => {
            peer_ended(f, &c, code)
        }
        VerdictCode::SilentLoss => silent_loss(f, &c, code),
        VerdictCode::ExchangeNotFound => exchange_not_found(f, &c, code),
        VerdictCode::MessageRefused => message_refused(&c, code),
        VerdictCode::Interrupted => interrupted(f, &c, code),
        VerdictCode::Timeout => timeout(f, &c, code),
        // ConnectFailed, ProtocolMismatch and the TLS codes: failures
        // before any experiment.
        _ => not_amqp(&c),
    }
}

/// Healthy: the connection was still open at the end, and why.
fn healthy(f: &RunFacts, c: &Common) -> Words {
    let Common { neg, pubs, .. } = c;
    let hb = f.heartbeat;
    let (summary, mut remedy) = match f.mode {
        Mode::Serviced => (
            format!(
                "healthy: lapin kept the connection alive through the {} idle",
                secs(f.idle_ms)
            ),
            "Nothing to fix. This is what a client with its own I/O thread gives you.".to_string(),
        ),
        Mode::Starved if f.pump_every_ms.is_some() && f.pumper == Pumper::Library => (
            format!(
                "healthy: the library's own heartbeats every {} kept the broker satisfied",
                secs(f.pump_every_ms.unwrap_or(0))
            ),
            "Nothing to fix: this library sends its heartbeats from its own timer, thread or \
             loop while the application idles (as long as that loop is not blocked)."
                .to_string(),
        ),
        Mode::Starved if f.pump_every_ms.is_some() => (
            format!(
                "healthy: pumping every {} kept the broker satisfied",
                secs(f.pump_every_ms.unwrap_or(0))
            ),
            "This is the remedy: pump the connection (or let a thread do it) at least every T/2."
                .to_string(),
        ),
        Mode::Starved if !hb.is_off() => (
            format!(
                "healthy, but only because the idle ({}) was shorter than 2T = {}",
                secs(f.idle_ms),
                secs(hb.broker_may_drop_ms())
            ),
            format!(
                "Rerun with --idle {} to reproduce the broker's reset. {}",
                flag_duration(duration_ms(hb.auto_idle())),
                kb_remedy(VerdictCode::BrokerHeartbeatTimeout)
            ),
        ),
        _ => (
            format!(
                "healthy here, with heartbeats off, over a {} idle",
                secs(f.idle_ms)
            ),
            format!(
                "Healthy only because nothing on this path drops idle connections. \
                         Behind a load balancer or NAT gateway whose idle timeout is shorter \
                         than your quietest period ({}), this connection would be dropped \
                         without either side knowing; the next publish would fail or be \
                         silently lost. Enable heartbeats (5–20 s, and below the smallest idle \
                         timeout on the path).",
                middleboxes()
            ),
        ),
    };
    if f.interrupted {
        remedy =
            "The run was interrupted before it finished; rerun it to completion for a diagnosis."
                .into();
    }
    Words {
        summary,
        explanation: format!(
            "{neg} {} The connection was still open when amqpdoctor closed it. {pubs}",
            heartbeat_counts(f)
        ),
        remedy,
    }
}

/// The broker dropped the client although it sent heartbeats: they were
/// lost on the way.
fn heartbeats_swallowed(f: &RunFacts, c: &Common, heard_ms: u64) -> Words {
    let Common {
        neg,
        pubs,
        silence,
        at,
    } = c;
    let (end, hb, t) = (f.end, f.heartbeat, f.heartbeat.secs());
    let heard = secs(heard_ms);
    Words {
                summary: format!(
                    "the broker dropped the connection after {heard} without a heartbeat from the \
                     client (T = {t} s), though the client sent {}: they were lost on the way",
                    f.timeline.heartbeats.sent
                ),
                explanation: format!(
                    "{neg} {} The client kept sending heartbeats (its last byte left {silence} \
                     before the end), yet at {at} the connection was {} with no Connection.Close, \
                     {heard} after the client's last frame that was not a heartbeat: between 2T = \
                     {} and 3T = {}, exactly when RabbitMQ gives up on a silent client. The \
                     broker did not receive the heartbeats: something in the path between client \
                     and broker swallowed them (a proxy, or a middlebox that filters small \
                     packets). {pubs}",
                    heartbeat_counts(f),
                    if end.kind == EndKind::Reset { "reset (RST)" } else { "closed (FIN)" },
                    secs(hb.broker_may_drop_ms()),
                    secs(hb.broker_drops_by_ms()),
                ),
                remedy: "Find the hop that drops client → broker traffic: compare the bytes the \
                         client sent with what the broker received (`rabbitmqctl list_connections \
                         name recv_oct send_oct`), and probe from the broker's side of each proxy or \
                         load balancer. The client is not at fault; disabling heartbeats would only \
                         hide the broken path."
                    .to_string(),
            }
}

/// The broker's heartbeat check dropped a silent client.
fn heartbeat_timeout(f: &RunFacts, c: &Common, code: VerdictCode) -> Words {
    let Common {
        neg,
        pubs,
        silence,
        at,
    } = c;
    let (end, hb, t) = (f.end, f.heartbeat, f.heartbeat.secs());
    Words {
            summary: format!(
                "the broker dropped the connection after {silence} of client silence (heartbeat timeout, T = {t} s)"
            ),
            explanation: format!(
                "{neg} {} The broker heard nothing from the client for {silence} and {} the \
                 connection at {at} — no Connection.Close frame — between 2T = {} and 3T = {} \
                 after the client's last byte: {} The application did not know: {}",
                heartbeat_counts(f),
                if end.kind == EndKind::Reset { "reset (RST)" } else { "closed" },
                secs(hb.broker_may_drop_ms()),
                secs(hb.broker_drops_by_ms()),
                if f.broker.is_rabbitmq() {
                    format!(
                        "exactly RabbitMQ's rule (it samples the bytes it received once per T \
                         and gives up after two empty samples; its log says \"missed heartbeats \
                         from client, timeout: {t}s\")."
                    )
                } else {
                    "the broker's heartbeat check (the 0-9-1 spec lets a peer close a \
                     connection that sent nothing for two or more intervals)."
                        .to_string()
                },
                lowercase_first(pubs),
            ),
            remedy: format!(
                "{} Rerun with --pump-every {} to watch the remedy work.",
                kb_remedy(code),
                flag_duration(hb.send_every_ms().max(1000))
            ),
    }
}

/// The server sent Connection.Close.
fn server_closed(f: &RunFacts, c: &Common) -> Words {
    let Common { neg, pubs, at, .. } = c;
    let end = f.end;
    let code = end.reply_code.unwrap_or(0);
    let text = end.reply_text.clone().unwrap_or_default();
    let name = knowledge::reply_by_code(code).map_or("unknown reply code", |r| r.name.as_str());
    let who = operator_hint(&text);
    Words {
        summary: format!("the server closed the connection: {code} {text}"),
        explanation: format!(
            "{neg} At {at} the broker sent Connection.Close with reply code {code} \
                     ({name}): \"{text}\"{}. {who} {pubs}",
            method_clause(end.class_id, end.method_id)
        ),
        remedy: knowledge::reply_by_code(code).map_or(
            "Read the reply text: it names the cause.".to_string(),
            |r| r.about.remedy.join(" "),
        ),
    }
}

/// The broker refused the login or the vhost.
fn refused(f: &RunFacts, c: &Common) -> Words {
    let at = &c.at;
    let end = f.end;
    let code_n = end.reply_code.unwrap_or(0);
    let text = end.reply_text.clone().unwrap_or_default();
    Words {
        summary: format!("the broker refused the connection: {code_n} {text}"),
        explanation: format!(
            "At {at} the broker answered with Connection.Close {code_n}: \"{text}\"."
        ),
        remedy: knowledge::reply_by_code(code_n)
            .map_or(String::new(), |r| r.about.remedy.join(" ")),
    }
}

/// The peer (or the path) reset or closed the connection without a Close.
fn peer_ended(f: &RunFacts, c: &Common, code: VerdictCode) -> Words {
    let Common {
        neg,
        pubs,
        silence,
        at,
    } = c;
    let (end, hb) = (f.end, f.heartbeat);
    let how = if end.kind == EndKind::Reset {
        "reset (RST)"
    } else {
        "closed in order (FIN)"
    };
    let answered_write = (code == VerdictCode::PathIdleTimeout)
        .then(|| attribute::reset_on_first_write_after_idle(f))
        .flatten();
    let why = if let Some(quiet) = answered_write {
        format!(
            "Nothing had crossed the connection in either direction for {} before the \
                     client wrote, and the RST answered that write: the far end no longer knew \
                     the connection. That is a load balancer, NAT gateway or firewall that \
                     forgot the flow while it was idle and rejects its next packet ({}) — or a \
                     broker host that rebooted or whose address moved to another host.",
            secs(quiet),
            middleboxes()
        )
    } else if code == VerdictCode::PathIdleTimeout {
        format!(
            "Nothing had crossed the connection in either direction for {} before it \
                     ended: the signature of an idle timeout in a load balancer, NAT gateway or \
                     firewall ({}).",
            secs(
                end.since_last_server_byte_ms
                    .unwrap_or(0)
                    .min(end.since_last_client_byte_ms.unwrap_or(0))
            ),
            middleboxes()
        )
    } else if !hb.is_off() {
        format!(
            "That is not the broker's heartbeat check, which needs 2T = {} of client \
                     silence; something else ended it — a proxy or load balancer, a broker \
                     restart, or a network device.",
            secs(hb.broker_may_drop_ms())
        )
    } else {
        "Heartbeats were off, so it was not the broker's heartbeat check; something \
                 else ended it — a proxy or load balancer, a broker restart, or a network device."
            .to_string()
    };
    Words {
        summary: format!(
            "the peer {how} the connection at {at}, {silence} after the client's last byte"
        ),
        explanation: format!(
            "{neg} At {at} the connection was {how} without a Connection.Close frame. {why} {pubs}"
        ),
        remedy: kb_remedy(code),
    }
}

/// Publishes accepted by the kernel and never confirmed.
fn silent_loss(f: &RunFacts, c: &Common, code: VerdictCode) -> Words {
    let Common { neg, pubs, .. } = c;
    Words {
        summary: "publishes were accepted by the kernel but never confirmed: silently lost".into(),
        explanation: format!(
            "{neg} {pubs} Nothing came back — no confirm, no Close, no RST — within {}: the \
                 peer or a middlebox dropped the traffic without a word. Without publisher \
                 confirms the application would never know.",
            secs(f.confirm_timeout_ms)
        ),
        remedy: kb_remedy(code),
    }
}

/// The broker closed the channel with 404: no such exchange.
fn exchange_not_found(f: &RunFacts, c: &Common, code: VerdictCode) -> Words {
    let Common { neg, pubs, .. } = c;
    let text = f
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
        .and_then(|e| match &e.kind {
            EventKind::ChannelClose { reply_text, .. } => Some(reply_text.clone()),
            _ => None,
        })
        .unwrap_or_default();
    Words {
        summary: format!("the broker refused the publishes: 404 {text}"),
        explanation: format!(
            "{neg} The broker closed the channel with 404 \"{text}\": the exchange does \
                     not exist in this vhost, so the publishes were refused although the kernel \
                     accepted every write. {pubs}"
        ),
        remedy: kb_remedy(code),
    }
}

/// Nacked or returned publishes.
fn message_refused(c: &Common, code: VerdictCode) -> Words {
    let Common { neg, pubs, .. } = c;
    Words {
        summary: "the broker refused publishes: nacked, or returned unroutable".into(),
        explanation: format!(
            "{neg} The connection stayed up, but not every message arrived. {pubs}"
        ),
        remedy: kb_remedy(code),
    }
}

/// Ctrl-C or SIGTERM before anything ended the connection.
fn interrupted(f: &RunFacts, c: &Common, code: VerdictCode) -> Words {
    let Common { neg, pubs, .. } = c;
    let reached = idle_reached_ms(f.timeline);
    Words {
        summary: format!(
            "interrupted after {} of the {} idle: no diagnosis",
            secs(reached.unwrap_or(0)),
            secs(f.idle_ms)
        ),
        explanation: format!(
            "{neg} The run was interrupted (Ctrl-C or SIGTERM){} before anything ended \
                     the connection; amqpdoctor closed it. {pubs}",
            reached
                .map(|r| format!(" {} into its {} idle", secs(r), secs(f.idle_ms)))
                .unwrap_or_default()
        ),
        remedy: kb_remedy(code),
    }
}

/// The broker did not answer within the timeout.
fn timeout(f: &RunFacts, c: &Common, code: VerdictCode) -> Words {
    let Common { neg, pubs, .. } = c;
    Words {
        summary: format!(
            "the broker did not answer in time ({})",
            secs(f.confirm_timeout_ms)
        ),
        explanation: format!(
            "{neg} The connection stayed open but the broker did not answer within the \
                 timeout. {pubs}"
        ),
        remedy: kb_remedy(code),
    }
}

/// No AMQP 0-9-1 at all.
fn not_amqp(c: &Common) -> Words {
    let Common { neg, pubs, .. } = c;
    Words {
        summary: "could not talk AMQP 0-9-1 to the target".into(),
        explanation: format!("{neg} {pubs}"),
        remedy: "Check the URL, the port (5672 for AMQP) and that the broker is running.".into(),
    }
}
