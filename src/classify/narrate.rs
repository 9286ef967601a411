//! Every sentence the classifier writes: the prediction, and a verdict's
//! summary, explanation and remedy, built from the facts of one run. The
//! other classify files decide; this one only words their decisions. Pure
//! string building; no I/O.
//!
//! Every command line suggested here must parse (a test runs them through
//! clap), so durations in suggestions go through [`flag_duration`].

use super::attribute::RunFacts;
use super::idle::{Advice, Bracket, Finding};
use super::predict::{predict, Prediction};
use super::publish::Outcome;
use super::setup::SetupFailure;
use crate::knowledge::{self, TuneOkRule};
use crate::timeline::EventKind;
use crate::vocab::check::{CheckStep, StepError};
use crate::vocab::idle::Fate;
use crate::vocab::units::{duration_ms, flag_duration, secs};
use crate::vocab::{Heartbeat, Mode, PeerAnswer, Pumper, VerdictCode};

mod scan;
mod verdict;

pub use scan::scan_note;
pub use verdict::words;

pub struct Words {
    pub summary: String,
    pub explanation: String,
    pub remedy: String,
}

/// How the heartbeat was negotiated and who dispatches its timer, in this mode.
pub fn negotiation_sentence(f: &RunFacts) -> String {
    let t = f.heartbeat.secs();
    let proposed = f
        .server_heartbeat
        .map_or("an unknown value".to_string(), |s| {
            format!("{} s", s.secs())
        });
    let asked = match f.requested_heartbeat_s {
        None => "accepted the server's proposal".to_string(),
        Some(0) => "asked for 0 (off)".to_string(),
        Some(r) => format!("asked for {r} s"),
    };
    match f.mode {
        Mode::Serviced => {
            let mut s = format!(
                "The broker proposed a heartbeat of {proposed} and lapin {asked}; lapin's rule \
                 (0 means \"take the server's value\", otherwise the lower of the two) gave T = {t} s."
            );
            if f.requested_heartbeat_s == Some(0) && f.server_heartbeat.is_some_and(|s| !s.is_off())
            {
                s.push_str(
                    " lapin cannot disable heartbeats against a broker that proposes one: \
                     it treats 0 as \"accept the server's value\".",
                );
            }
            if t > 0 {
                s.push_str(&format!(
                    " lapin's own I/O task sends a heartbeat after T/2 = {} without other \
                     traffic and reads continuously, whatever the application is doing.",
                    secs(f.heartbeat.send_every_ms())
                ));
            }
            s
        }
        Mode::Starved => {
            let mut s = format!(
                "The broker proposed {proposed}; the client {asked} and answered Tune-Ok with \
                 T = {t} s, {}",
                if f.broker.rules().tune_ok == TuneOkRule::Adopt && f.broker.is_listed() {
                    format!("which {} adopts as it is.", f.broker.name())
                } else {
                    "which the broker enforces (some brokers enforce the smaller of their \
                     proposal and the client's value)."
                        .to_string()
                }
            );
            match f.pump_every_ms {
                None => s.push_str(
                    " Then it never dispatched its heartbeat timer and never read the socket — \
                     like pika's BlockingConnection without process_data_events(), kombu \
                     without heartbeat_check(), or php-amqplib in a publish-only web request.",
                ),
                Some(p) if f.pumper == Pumper::Library => s.push_str(&format!(
                    " Every {} it read what had arrived and sent a heartbeat, from a timer of its \
                     own, as the library does while the application idles.",
                    secs(p)
                )),
                Some(p) => s.push_str(&format!(
                    " It did not send heartbeats on a timer of its own, but every {} it read \
                     what had arrived and answered with a heartbeat, as an application calling \
                     process_data_events() would.",
                    secs(p)
                )),
            }
            s
        }
        Mode::Disabled => format!(
            "The broker proposed {proposed}; the client answered Tune-Ok with heartbeat 0 and \
             {} adopted it: neither side sends heartbeats and neither watches for silence.",
            f.broker.name()
        ),
    }
}

/// What the application saw of its publishes.
pub(super) fn publish_sentence(f: &RunFacts) -> String {
    if f.publishes.is_empty() {
        return "Nothing was published.".into();
    }
    let mut parts = Vec::new();
    for p in f.publishes {
        let what = match p.outcome {
            Outcome::Confirmed => "was confirmed".to_string(),
            Outcome::Nacked => "was nacked by the broker".to_string(),
            Outcome::Returned => "was returned unroutable (then confirmed)".to_string(),
            Outcome::Lost => {
                "was accepted by the kernel and then lost: no confirm ever came".to_string()
            }
            Outcome::Failed => format!(
                "failed to write with {}{}",
                p.errno_name.as_deref().unwrap_or("an error"),
                p.errno.map(|n| format!(" (errno {n})")).unwrap_or_default()
            ),
            Outcome::Unknown => "had no confirm when the run stopped".to_string(),
            Outcome::Blocked => "was written while the connection was blocked: pending".into(),
        };
        parts.push(format!("publish #{} at {} {what}", p.seq, secs(p.at_ms)));
    }
    let mut s = parts.join("; ");
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s.push('.');
    s
}

fn heartbeat_counts(f: &RunFacts) -> String {
    let hb = &f.timeline.heartbeats;
    match hb.received {
        Some(r) => format!("The client sent {} heartbeat(s) and received {r}.", hb.sent),
        None => format!("The client sent {} heartbeat(s).", hb.sent),
    }
}

/// The remedy the knowledge base gives for a verdict code, as one paragraph
/// (one source of truth with `explain` and docs/errors.md).
fn kb_remedy(code: VerdictCode) -> String {
    knowledge::verdict(code)
        .map(|v| v.about.remedy.join(" "))
        .unwrap_or_default()
}

/// "AWS Network Load Balancer 350 s, …" from the knowledge base's table.
fn middleboxes() -> String {
    knowledge::middleboxes()
        .iter()
        .filter_map(|m| m.idle_timeout_s.map(|s| format!("{} {s} s", m.name)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How much of the idle actually passed: from its start to its end, or to
/// the interruption.
pub fn idle_reached_ms(tl: &crate::timeline::Timeline) -> Option<u64> {
    let start = tl.find(|k| matches!(k, EventKind::IdleStart { .. }))?.at_ms;
    let stop = tl
        .find(|k| matches!(k, EventKind::IdleEnd | EventKind::Interrupted))
        .map_or_else(|| tl.events.last().map_or(start, |e| e.at_ms), |e| e.at_ms);
    Some(stop.saturating_sub(start))
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn method_clause(class_id: Option<u16>, method_id: Option<u16>) -> String {
    match (class_id, method_id) {
        (Some(c), Some(m)) if c != 0 => {
            format!(
                " in reply to {}",
                crate::wire::codec::method_name_by_id(c, m)
            )
        }
        _ => String::new(),
    }
}

/// Who closed it, read from RabbitMQ's reply texts.
pub fn operator_hint(text: &str) -> &'static str {
    let t = text.to_ascii_lowercase();
    if t.contains("management plugin") {
        "An operator closed it from the management UI or HTTP API."
    } else if t.contains("reason 'shutdown'") || t.contains("shutdown") {
        "The broker node was shutting down (a restart, an upgrade, or a stop)."
    } else if t.starts_with("connection_forced") {
        "An operator closed it (rabbitmqctl close_connection or the management API send 320 with \
         their own text)."
    } else {
        "The reply text names the cause."
    }
}

/// The prediction in words, e.g. "a starved client survives at least
/// 2T = 120 s of silence and is dropped by 3T = 180 s".
pub fn prediction_text(
    mode: Mode,
    t: Heartbeat,
    idle_ms: u64,
    pump_every_ms: Option<u64>,
) -> String {
    let idle = secs(idle_ms);
    match (mode, t.is_off()) {
        (Mode::Serviced, true) => "heartbeats are off, so the broker never checks for silence: \
            predicted healthy (unless something in the path drops idle connections)"
            .into(),
        (Mode::Serviced, false) => format!(
            "lapin sends a heartbeat every T/2 = {} whatever the application does: \
             predicted healthy for any idle",
            secs(t.send_every_ms())
        ),
        (Mode::Disabled, _) | (Mode::Starved, true) => format!(
            "heartbeats are off, so the broker never checks for silence: predicted healthy after \
             the {idle} idle (unless something in the path drops idle connections)"
        ),
        (Mode::Starved, false) => {
            let window = format!(
                "a starved client survives at least 2T = {} of silence and is dropped by 3T = {}",
                secs(t.broker_may_drop_ms()),
                secs(t.broker_drops_by_ms())
            );
            match (pump_every_ms, predict(mode, t, idle_ms, pump_every_ms)) {
                (Some(pump), Prediction::Healthy) => format!(
                    "{window}; pumped every {}, it is never silent that long: predicted healthy",
                    secs(pump)
                ),
                (Some(pump), _) => format!(
                    "{window}; pumped only every {}, it can still be dropped",
                    secs(pump)
                ),
                (None, Prediction::Healthy) => format!(
                    "{window}, so the {idle} idle alone will not reproduce the reset \
                     (use --idle {} or more): predicted healthy",
                    flag_duration(duration_ms(t.auto_idle()))
                ),
                (None, Prediction::BrokerHeartbeatTimeout) => {
                    format!(
                        "{window}; the {idle} idle is longer: predicted broker_heartbeat_timeout"
                    )
                }
                (None, Prediction::Either) => format!(
                    "{window}; the {idle} idle falls between the two, so either outcome is possible"
                ),
            }
        }
    }
}

/// A protocol mismatch's message without the lead the explanation already has.
fn mismatch_detail(message: &str) -> &str {
    message
        .strip_prefix("the server does not speak AMQP 0-9-1: ")
        .unwrap_or(message)
}

/// The words for a run that could not start its experiment: the tool could
/// not diagnose (exit 3), and says why in actionable words.
pub fn setup_words(f: &SetupFailure) -> Words {
    setup_words_with(f, "Rerun with --trace to see every frame.")
}

/// [`setup_words`], with `see_frames` as the advice for seeing every frame
/// (commands without --trace say how to get them another way).
fn setup_words_with(f: &SetupFailure, see_frames: &str) -> Words {
    let (code, stage, message, close) = (f.code, f.stage, f.message.as_str(), f.close.as_ref());
    let (explanation, remedy) = match code {
        VerdictCode::AuthFailed if f.offered_mechanisms.is_some() => (
            format!("The broker cannot be logged in to by amqpdoctor: {message}."),
            "Enable PLAIN on the broker (RabbitMQ: `auth_mechanisms.1 = PLAIN` in \
             rabbitmq.conf), or point amqpdoctor at a listener that offers it. EXTERNAL means \
             logging in with a TLS client certificate: use amqps:// with --cert and --key and \
             add `?auth_mechanism=external` to the URL."
                .to_string(),
        ),
        VerdictCode::AuthFailed => (
            format!("The broker refused the login during the {stage}: {message}."),
            "Check the user name and password in the URL, and that the user may connect from \
             this host (RabbitMQ's guest user may only connect from localhost)."
                .to_string(),
        ),
        VerdictCode::VhostNotAllowed => (
            format!("The broker refused to open the virtual host: {message}."),
            "Check the vhost in the URL (the last path segment; write the default vhost `/` as \
             %2f) and the user's permissions: `rabbitmqctl list_vhosts`, \
             `rabbitmqctl list_permissions -p <vhost>`."
                .to_string(),
        ),
        VerdictCode::ConnectFailed => (
            format!("No TCP connection: {message}."),
            "Check the host and port (AMQP listens on 5672) and that the broker is running \
             (`rabbitmqctl status`; start it with `rabbitmq-server -detached`)."
                .to_string(),
        ),
        VerdictCode::ProtocolMismatch => (
            format!(
                "The peer does not speak AMQP 0-9-1: {}.",
                mismatch_detail(message)
            ),
            f.peer_answered
                .unwrap_or(PeerAnswer::Unrecognised)
                .advice()
                .to_string(),
        ),
        VerdictCode::Timeout => (
            format!("The broker did not answer during the {stage}: {message}."),
            "The broker may be overloaded, blocked, or something in the path drops packets; \
             raise --connect-timeout to tell slow from dead."
                .to_string(),
        ),
        // Frame-level errors in amqpdoctor's own handshake are not the
        // user's application's doing (the knowledge base's remedies for
        // these codes are about applications sharing a channel).
        _ if close.is_some_and(|c| matches!(c.reply_code, 501..=505)) => (
            format!("The connection failed during the {stage}: {message}."),
            format!(
                "amqpdoctor's own client sent the frames here, so the fault is on the other side: \
             the server (or a proxy in between) sent or expected a frame out of order. Check \
             that the target is an AMQP 0-9-1 broker. {see_frames}"
            ),
        ),
        code if code.is_tls() => (
            format!("The TLS connection failed during the {stage}: {message}."),
            super::setup::tls_remedy(code, message, see_frames),
        ),
        _ => (
            format!("The connection failed during the {stage}: {message}."),
            close
                .and_then(|c| knowledge::reply_by_code(c.reply_code))
                .map_or_else(|| see_frames.to_string(), |r| r.about.remedy.join(" ")),
        ),
    };
    Words {
        summary: format!("could not diagnose: {code} during the {stage}"),
        explanation,
        remedy,
    }
}

/// What to do about a check step that failed on the wire: the same advice
/// as a probe that could not start, for the step's own failure.
pub fn check_hint(step: CheckStep, f: &SetupFailure) -> String {
    const SEE_FRAMES: &str = "`amqpdoctor probe --mode disabled --idle 0 --trace` against \
                              this target lists every frame.";
    match f.code {
        _ if step == CheckStep::Dns => "The host name did not resolve: check its spelling and \
             the DNS this machine uses (`getent hosts HOST`); in CI, the runner may not see \
             private DNS names."
            .to_string(),
        VerdictCode::ConnectFailed if f.errno.is_none() => "Nothing answered the TCP connect: \
             a firewall or security group may be dropping the packets, or the host is down. \
             Check the host and port (AMQP listens on 5672); raise --connect-timeout to tell a \
             slow path from a dead one."
            .to_string(),
        VerdictCode::ExchangeNotFound => "The exchange given with --exchange does not exist in \
             this vhost (Channel.Close 404): check its name and vhost (`rabbitmqctl \
             list_exchanges -p VHOST`), or drop --exchange to use the check's own queue only."
            .to_string(),
        VerdictCode::PeerReset | VerdictCode::PeerClosed if step >= CheckStep::Channel => format!(
            "The broker (or something in the path) dropped the connection during the {step} \
             step. Look at the broker's log for this connection (`amqpdoctor/check`) at that \
             time; {}",
            setup_words_with(f, SEE_FRAMES).remedy
        ),
        _ => setup_words_with(f, SEE_FRAMES).remedy,
    }
}

/// What to do about a check step that failed after the broker took the
/// message (a nack, a return, a message that did not come back).
pub fn check_other_hint(err: &StepError) -> String {
    match err {
        StepError::Nacked => "The broker refused the message with a nack: a queue length limit \
             with `overflow = reject-publish`, a full disk or memory alarm on a quorum queue, or \
             an internal error. Look at the broker's log and `rabbitmqctl list_queues name \
             messages`."
            .into(),
        StepError::Returned { .. } => "The broker could not route the message: no queue is \
             bound to the exchange with that routing key. Check --exchange and --routing-key \
             (or leave --routing-key out: the check binds its own queue with the key it uses)."
            .into(),
        StepError::NotDelivered => "The broker confirmed the message but the check's own queue \
             was empty when it asked for it: the message was lost between confirm and get. A \
             policy on `amqpdoctor.check.*` (a message TTL or max-length of 0) does this; \
             otherwise it is a broker fault worth its log."
            .into(),
        StepError::BodyMismatch { .. } => "The message that came back is not the one published: \
             only the check uses its exclusive queue, so something between the check and the \
             broker (a proxy or plugin) rewrote the body."
            .into(),
        StepError::Interrupted => "The check was interrupted (Ctrl-C or SIGTERM) before this \
             step finished; run it again."
            .into(),
        StepError::Wire(_) | StepError::Blocked { .. } => err.to_string(),
    }
}

/// `RabbitMQ 3.10.8`, or what the server left out said plainly.
/// What an idle-timeout discovery found, in one sentence.
pub fn idle_finding(b: &Bracket, finding: Finding, max_ms: u64) -> String {
    let s = b.longest_survivor_ms.map(secs).unwrap_or_default();
    let c = b.shortest_casualty_ms.map(secs).unwrap_or_default();
    let how = if b.seen_dying_while_idle {
        "it acted at its timeout: the death came while the connection was silent"
    } else {
        "it acted only on the next packet: the death showed once the connection spoke"
    };
    match finding {
        Finding::NoTimeout if b.longest_survivor_ms == Some(max_ms) => {
            format!("No idle timeout up to {s}: every connection survived its idle.")
        }
        Finding::NoTimeout => format!(
            "No idle timeout up to {s}: every connection that got through its idle survived \
             (the longest idle planned was {}).",
            secs(max_ms)
        ),
        Finding::Bracketed => format!(
            "The path forgets a connection that stays idle for more than {s} and at most {c} \
             ({how})."
        ),
        Finding::BelowShortest => {
            let min = b.shortest_casualty_ms.unwrap_or_default() / 4;
            format!(
                "Even the shortest idle was too long: a connection was dead after {c}. Run again \
                 with --min {} to find the bracket.",
                flag_duration(min.max(100))
            )
        }
        Finding::Inconsistent => format!(
            "Not a simple idle timer: a connection was dead after {c} of idle, yet another \
             survived {s}. Several boxes with different timeouts, a load balancer spreading \
             connections over them, or deaths that have nothing to do with idling (see each \
             connection's line)."
        ),
        Finding::Unknown => {
            "No connection got through its idle, so there is nothing to bracket.".into()
        }
    }
}

/// How the casualties died, one line per kind, with what does that.
pub fn idle_died_by(fates: &[Fate]) -> Vec<String> {
    fates
        .iter()
        .filter_map(|f| {
            Some(match f {
                Fate::Reset => "RST: a box that resets the flows it forgets (a NAT gateway or a \
                                load balancer answering the next packet, or one with \
                                \"reset on idle\")"
                    .to_string(),
                Fate::Fin => "FIN: an orderly close, as a proxy does when its idle timeout fires \
                              (HAProxy's `timeout client`/`timeout server`)"
                    .to_string(),
                Fate::Silence => "silence: a blackhole; the box forgot the flow and drops its \
                                  packets without a word, so a publish on such a connection is \
                                  accepted by the kernel and lost"
                    .to_string(),
                Fate::BrokerClose => "Connection.Close from the broker: not the path's doing (see \
                                      the reply code)"
                    .to_string(),
                _ => return None,
            })
        })
        .collect()
}

/// What to do about it: a heartbeat, TCP keepalive, or a longer search.
///
/// `reached_ms` is the longest idle a connection survived.
pub fn idle_advice(a: &Advice, finding: Finding, reached_ms: u64) -> Vec<String> {
    let mut out = Vec::new();
    if finding == Finding::NoTimeout {
        let mut longer: Vec<(u64, &str)> = knowledge::middleboxes()
            .iter()
            .filter_map(|m| {
                m.idle_timeout_s
                    .map(|s| (u64::from(s) * 1000, m.name.as_str()))
            })
            .filter(|(ms, _)| *ms > reached_ms)
            .collect();
        longer.sort_unstable();
        let longer: Vec<String> = longer
            .iter()
            .map(|(ms, name)| format!("{name} {}", secs(*ms)))
            .collect();
        out.push(format!(
            "Nothing on this path forgets a connection idle for {} or less.",
            secs(reached_ms)
        ));
        if !longer.is_empty() {
            let biggest = knowledge::middleboxes()
                .iter()
                .filter_map(|m| m.idle_timeout_s)
                .max()
                .map_or(0, |s| u64::from(s) * 1000);
            out.push(format!(
                "Common middleboxes wait longer ({}); to cover them, run with --max {}.",
                longer.join(", "),
                flag_duration(biggest + 60_000)
            ));
        }
        out.push(
            "A connection with heartbeats off stays at the mercy of any box beyond that; a \
             heartbeat (RabbitMQ's default is 60 s) keeps the path busy."
                .into(),
        );
        return out;
    }
    let Some(safe) = a.safe_idle_ms else {
        return out;
    };
    match a.heartbeat_s {
        Some(t) => out.push(format!(
            "Use a heartbeat of {t} s or less: each side then sends after {} of silence, within \
             the {} the path is known to allow. The client must send its heartbeats while the \
             application idles (`amqpdoctor heartbeat --interval {t}` shows what each library \
             negotiates and whether it services them).",
            secs(u64::from(t) * 500),
            secs(safe)
        )),
        None => out.push(format!(
            "No AMQP heartbeat fits: the smallest, 1 s, leaves 500 ms silences, and the path \
             allows {}. Raise the path's idle timeout.",
            secs(safe)
        )),
    }
    out.extend(a.warnings.iter().cloned());
    if let Some(k) = a.keepalive_idle_s {
        out.push(format!(
            "Or TCP keepalive, where the client lets you set it: the first probe after at most \
             {k} s of idle (TCP_KEEPIDLE on the socket, or sysctl \
             net.ipv4.tcp_keepalive_time={k}; Linux waits {} s by default). It keeps the path's \
             state alive, but unlike heartbeats it does not tell a hung client from an idle one.",
            knowledge::TCP_KEEPALIVE_IDLE_S
        ));
    }
    out
}

pub fn server_label(product: Option<&str>, version: Option<&str>) -> String {
    match (product, version) {
        (Some(p), Some(v)) => format!("{p} {v}"),
        (Some(p), None) => format!("{p} (no version announced)"),
        (None, Some(v)) => format!("unnamed server {v}"),
        (None, None) => "a server that names neither product nor version".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_errors_in_our_own_setup_do_not_blame_the_application() {
        let f = |code: u16| SetupFailure {
            code: VerdictCode::ServerClosed,
            stage: crate::vocab::Stage::Handshake,
            message: "lapin: 505 UNEXPECTED_FRAME".into(),
            errno: None,
            close: Some(crate::vocab::CloseInfo {
                reply_code: code,
                reply_text: "UNEXPECTED_FRAME".into(),
                class_id: 0,
                method_id: 0,
            }),
            offered_mechanisms: None,
            peer_answered: None,
        };
        let w = setup_words(&f(505));
        assert!(!w.remedy.to_lowercase().contains("thread"), "{}", w.remedy);
        assert!(w.remedy.contains("--trace"), "{}", w.remedy);
        // Other codes keep the knowledge base's remedy.
        let w = setup_words(&f(320));
        assert!(
            !w.remedy.contains("amqpdoctor's own client"),
            "{}",
            w.remedy
        );
    }

    #[test]
    fn prediction_words() {
        let text = prediction_text(Mode::Starved, Heartbeat::from_secs(60), 90_000, None);
        assert!(
            text.contains("2T = 120 s")
                && text.contains("3T = 180 s")
                && text.contains("will not reproduce")
                && text.contains("--idle 182s or more"),
            "{text}"
        );
    }
}
