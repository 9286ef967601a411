//! The judgement of one connection: its flags, and advice and notes in
//! words.

use super::{library, silence, Library, STATS_INTERVAL_MS};
use crate::knowledge::{self, ClientLib, NegotiationRule};
use crate::vocab::audit::{BrokerConnection, ConnState, Flag, Silence};
use crate::vocab::units::secs;
use crate::vocab::Heartbeat;

/// Everything `audit` concludes about one connection.
#[derive(Debug, Clone)]
pub struct Judgement {
    pub flags: Vec<Flag>,
    pub library: Option<Library>,
    pub silence: Option<Silence>,
    /// What to do, one sentence each, most urgent first.
    pub advice: Vec<String>,
    /// Facts worth a line that need no action.
    pub notes: Vec<String>,
}

/// Judge one connection.
pub fn judge(c: &BrokerConnection) -> Judgement {
    let library = library(&c.client);
    let silence = silence(&c.recv_samples, c.connected_at_ms, c.recv_oct);
    let t = c.heartbeat.filter(|_| !c.is_direct());
    let state = c.state.as_ref();
    let judgeable = t.is_some_and(sampling_can_judge);
    let silent_long = match (t, silence) {
        (Some(t), Some(s)) if !t.is_off() => silent_longer_than_t(s.silent_ms, t),
        _ => false,
    };
    let mut flags = Vec::new();
    if t.is_some_and(Heartbeat::is_off) {
        flags.push(Flag::HeartbeatOff);
    }
    if silent_long {
        flags.push(Flag::SilentLongerThanT);
    }
    if state.is_some_and(ConnState::held_back) {
        flags.push(Flag::Blocked);
    }
    let (mut advice, mut notes) = (Vec::new(), Vec::new());
    if let (Some(t), Some(s)) = (t, silence) {
        silence_words(c, library, t, s, silent_long, &mut advice, &mut notes);
    }
    if let Some(t) = t.filter(|t| !t.is_off() && !judgeable && !silent_long) {
        notes.push(too_short_to_judge(t));
    }
    if let Some(t) = t {
        heartbeat_advice(c, library, silence, t, &mut advice);
    }
    advice.extend(state.and_then(|s| state_advice(&c.label(), s)));
    advice.extend(protocol_advice(c));
    notes.extend(library_note(c, library));
    Judgement {
        flags,
        library,
        silence,
        advice,
        notes,
    }
}

/// Whether a silence the management API's samples show (`sampled_ms`)
/// means silent for T (issue 20 item 5). Its byte counters lag one sample
/// ([`STATS_INTERVAL_MS`]), so the connection has been silent about one
/// sample longer than its samples show; and a live connection's counter
/// moves with every heartbeat, T/2 apart, so its samples can show up to
/// T/2 (plus half a sample of jitter) of silence: only more than that is
/// a silence at all.
pub fn silent_longer_than_t(sampled_ms: u64, t: Heartbeat) -> bool {
    let live_max = t.ms() / 2 + STATS_INTERVAL_MS / 2;
    sampled_ms + STATS_INTERVAL_MS >= t.ms() && sampled_ms > live_max
}

/// Whether the samples can show a starving connection before the broker
/// drops it: it lives 2T–3T, and its silence shows only after two samples
/// plus the counters' one-sample lag (T = 5 s: dropped within 15 s, seen
/// at the earliest 15 s in).
pub fn sampling_can_judge(t: Heartbeat) -> bool {
    !t.is_off() && t.broker_drops_by_ms() > 3 * STATS_INTERVAL_MS
}

/// The note for a T the API's sampling cannot judge.
fn too_short_to_judge(t: Heartbeat) -> String {
    format!(
        "T = {} s is too short for the management API's {} s samples: a starving connection is \
         dropped within 3T = {}, before two samples and the counters' one-sample lag can show \
         its silence; no silence flag means nothing here: run `amqpdoctor scan --watch 10s` on \
         the application's host, which reads the socket itself",
        t.secs(),
        STATS_INTERVAL_MS / 1000,
        secs(t.broker_drops_by_ms())
    )
}

/// The advice on a silence longer than T, or the note on a silence over
/// the whole (short) window.
fn silence_words(
    c: &BrokerConnection,
    library: Option<Library>,
    t: Heartbeat,
    s: Silence,
    silent_long: bool,
    advice: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    let peer = c.label();
    if silent_long {
        let extent = if s.whole_window {
            "; all the samples cover it, so it may be longer"
        } else {
            ""
        };
        advice.push(format!(
            "{peer} sent nothing for about {} ({} in the samples, whose byte counters lag one {} s \
             sample{extent}), at least T = {} s: RabbitMQ drops a client that stays silent \
             for 2T–3T ({}–{}) unless it speaks; see `amqpdoctor explain \
             broker_heartbeat_timeout`",
            secs(s.silent_ms + STATS_INTERVAL_MS),
            secs(s.silent_ms),
            STATS_INTERVAL_MS / 1000,
            t.secs(),
            secs(t.broker_may_drop_ms()),
            secs(t.broker_drops_by_ms()),
        ));
        if let Some(l) = library.filter(|l| !l.row.starves_when_idle) {
            advice.push(format!(
                "{} sends heartbeats on its own, so a silent connection means its process or \
                 event loop is stuck (a blocking callback, a long pause) or the path lost the \
                 packets",
                l.label(c.client.version.as_deref())
            ));
        }
    } else if !t.is_off() && s.whole_window && s.silent_ms > 0 {
        notes.push(format!(
            "silent for all {} the samples cover (less than T = {} s: not flagged; run again \
             later to see more)",
            secs(s.silent_ms),
            t.secs()
        ));
    }
}

/// The advice on the negotiated heartbeat: off, or on with a library that
/// starves, or a value the knowledge base warns about.
fn heartbeat_advice(
    c: &BrokerConnection,
    library: Option<Library>,
    silence: Option<Silence>,
    t: Heartbeat,
    advice: &mut Vec<String>,
) {
    let peer = c.label();
    if t.is_off() {
        let smallest = knowledge::smallest_middlebox();
        let middlebox = smallest
            .and_then(|m| {
                Some(format!(
                    " (the shortest common default is {} s, {})",
                    m.idle_timeout_s?, m.name
                ))
            })
            .unwrap_or_default();
        advice.push(format!(
            "heartbeat 0 from {peer}: exposed to middlebox idle timeouts{middlebox}, and a dead \
             peer is noticed only by TCP keepalive, after over 2 h; see `amqpdoctor explain \
             heartbeat`"
        ));
        match library {
            Some(l) if l.row.negotiation == NegotiationRule::AlwaysZero => advice.push(format!(
                "{} cannot have heartbeats (it answers every Tune with 0){}",
                l.label(None),
                l.row
                    .remedy
                    .first()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            )),
            Some(l) => advice.push(format!(
                "set a heartbeat of 5–20 s in {}: {}",
                l.label(None),
                l.row.setting
            )),
            None => {}
        }
        return;
    }
    if let Some(l) = library.filter(|l| l.row.starves_when_idle) {
        advice.push(format!(
            "{} with heartbeat {} from {peer}: {}; see `amqpdoctor explain {}`",
            l.label(c.client.version.as_deref()),
            t.secs(),
            starves(l.lib, t, talking(c, silence, t)),
            l.lib.id
        ));
        if let Some(remedy) = l.row.remedy.first() {
            advice.push(format!("remedy: {remedy}"));
        }
    }
    for w in knowledge::heartbeat_warnings(t.secs()) {
        advice.push(format!("heartbeat {} from {peer}: {w}", t.secs()));
    }
}

/// The advice on a blocked or throttled connection.
fn state_advice(peer: &str, state: &ConnState) -> Option<String> {
    match state {
        ConnState::Blocked | ConnState::Blocking => Some(format!(
            "{peer} is {}: the broker stops reading its publishes while a memory or disk \
             alarm is on (`rabbitmq-diagnostics alarms`); see `amqpdoctor explain blocked`",
            state.as_str()
        )),
        ConnState::Flow => Some(format!(
            "{peer} is in flow control: the broker is throttling its publishes because it cannot \
             keep up (brief flow under load is normal; steady flow is not); see `amqpdoctor \
             explain blocked`"
        )),
        _ => None,
    }
}

/// The advice on a connection that speaks AMQP 0-8 (py-amqplib and other
/// clients of before 0-9-1): RabbitMQ 4.0 and later refuse the protocol
/// (deps/rabbit/src/rabbit_reader.erl, `version_negotiation`, v4.0.1).
fn protocol_advice(c: &BrokerConnection) -> Option<String> {
    let protocol = c.protocol.as_deref()?;
    (protocol.trim() == "AMQP 0-8").then(|| {
        format!(
            "{} speaks AMQP 0-8, not 0-9-1: RabbitMQ 4.0 and later refuse AMQP 0-8 (they answer \
             its protocol header with AMQP 1.0's and close), so this client stops connecting \
             when the broker is upgraded; move it to a 0-9-1 client",
            c.label()
        )
    })
}

/// The note on the library: unknown version, pika's one name for every
/// adapter, or not recognised.
fn library_note(c: &BrokerConnection, library: Option<Library>) -> Option<String> {
    match library {
        Some(l) if !l.version_known => Some(format!(
            "amqpdoctor knows nothing about {} {}: the advice follows its newest behaviour ({})",
            l.lib.id,
            c.client.version.as_deref().unwrap_or("(no version sent)"),
            l.row.label
        )),
        Some(l) => l.lib.audit_note.clone(),
        None if !c.is_direct() => Some(format!(
            "client library not recognised (product {}, platform {})",
            c.client.product.as_deref().unwrap_or("not sent"),
            c.client.platform.as_deref().unwrap_or("not sent")
        )),
        None => None,
    }
}

/// Whether the samples show the client talking after its first exchanges
/// (the handshake and whatever the app did at once): its last bytes came
/// more than T/2 after it connected and at most one heartbeat interval (or
/// one sample) ago. A young connection that has not had T/2 yet is not
/// "talking": its bytes so far are the handshake.
pub fn talking(c: &BrokerConnection, silence: Option<Silence>, t: Heartbeat) -> bool {
    let (Some(s), Some(connected)) = (silence, c.connected_at_ms) else {
        return false;
    };
    let last_bytes_at = s.newest_at_ms.saturating_sub(s.silent_ms);
    let recent = s.silent_ms <= t.send_every_ms().max(STATS_INTERVAL_MS);
    !s.whole_window && recent && last_bytes_at > connected + t.send_every_ms()
}

/// Why a library that heartbeats only inside the application's calls
/// starves, in a clause.
fn starves(lib: &ClientLib, t: Heartbeat, talking: bool) -> String {
    let drop = format!(
        "RabbitMQ drops it 2T–3T ({}–{}) after its last byte",
        secs(t.broker_may_drop_ms()),
        secs(t.broker_drops_by_ms())
    );
    if talking {
        format!(
            "it talks now (bytes arrive after its first exchanges), but it sends heartbeats only \
             while the application calls into the library: once the app stops calling, it \
             starves and {drop}"
        )
    } else if let Some(shape) = &lib.starves_as {
        format!("{shape}, and {drop}")
    } else {
        format!(
            "heartbeats go out only while the application calls into the library, so an app \
             that idles between calls starves, and {drop}"
        )
    }
}
