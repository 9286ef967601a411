//! `audit`, judged: the broker's view of one client connection (what the
//! management API reported) turned into flags, the client library behind
//! it with what the knowledge base says about that library, advice in
//! words, and the join with `scan`'s records from the application's host.
//! Pure: `run::management` fetches, `report::audit` renders.
//!
//! Silence is read from the API's sampled `recv_oct`: the management
//! plugin records the counter every `collect_statistics_interval` (5 s by
//! default), so a silence is known to within one sample and is reported as
//! a lower bound (the time between the first and the last sample that show
//! the same count).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

use crate::knowledge::{self, ClientLib, ClientVersion};
use crate::vocab::check::parse_version;
use crate::vocab::units::secs;
use crate::vocab::Heartbeat;

/// The management plugin's default statistics interval
/// (`collect_statistics_interval`, 5000 ms): the spacing of its samples.
pub const STATS_INTERVAL_MS: u64 = 5000;

/// Two silences closer than this are "at the same time": the scan's
/// `last_*` readings are taken at one instant, but heartbeats and replies
/// cross on the wire.
pub const QUIET_SLACK_MS: u64 = 1000;

/// One reading of a counter: its value at `at_ms` (ms since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub at_ms: u64,
    pub value: u64,
}

/// What a client said about itself in Connection.Start-Ok's client
/// properties (as the management API shows them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientProperties {
    pub product: Option<String>,
    /// `version`, or py-amqp's `product_version`.
    pub version: Option<String>,
    pub platform: Option<String>,
    /// The application's own name for the connection.
    pub connection_name: Option<String>,
}

/// One client connection as the broker reports it. Every field the API
/// may leave out (direct Erlang connections have no peer, other protocols
/// no heartbeat) is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrokerConnection {
    /// The broker's name for it: `127.0.0.1:54994 -> 127.0.0.1:5672`.
    pub name: String,
    pub node: Option<String>,
    /// `network` or `direct`.
    pub kind: Option<String>,
    pub peer_host: Option<String>,
    pub peer_port: Option<u16>,
    /// The broker's side of the socket.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub vhost: Option<String>,
    pub protocol: Option<String>,
    pub tls: bool,
    pub tls_protocol: Option<String>,
    /// `running`, `blocked`, `blocking`, `flow`, `closed`, …
    pub state: Option<String>,
    pub channels: Option<u64>,
    pub connected_at_ms: Option<u64>,
    /// The negotiated heartbeat (the API's `timeout`).
    pub heartbeat: Option<Heartbeat>,
    pub client: ClientProperties,
    pub recv_oct: Option<u64>,
    pub send_oct: Option<u64>,
    /// Bytes per second, as the API computed them.
    pub recv_rate: Option<f64>,
    pub send_rate: Option<f64>,
    /// `recv_oct` over the sampled window, in any order.
    pub recv_samples: Vec<Sample>,
}

impl BrokerConnection {
    /// The client's address, `host:port` (IPv6 bracketed).
    pub fn peer(&self) -> Option<String> {
        Some(authority(self.peer_host.as_deref()?, self.peer_port?))
    }

    /// The broker's address on this connection, `host:port`.
    pub fn broker_address(&self) -> Option<String> {
        Some(authority(self.host.as_deref()?, self.port?))
    }

    /// How to name it in a sentence: the peer, else the broker's name.
    pub fn label(&self) -> String {
        self.peer().unwrap_or_else(|| self.name.clone())
    }

    fn is_direct(&self) -> bool {
        self.kind.as_deref() == Some("direct")
    }
}

fn authority(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Why a connection is flagged (the JSON's `flags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Heartbeat 0: nothing notices a dead peer or a forgotten path.
    HeartbeatOff,
    /// The broker received nothing for longer than T.
    SilentLongerThanT,
    /// The broker is blocking or throttling its publishes.
    Blocked,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::HeartbeatOff => "heartbeat_off",
            Flag::SilentLongerThanT => "silent_longer_than_t",
            Flag::Blocked => "blocked",
        }
    }
}

impl std::fmt::Display for Flag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long the broker had received nothing, read off the samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Silence {
    /// At least this long without a byte from the client, at the newest
    /// sample (0 when bytes came since the one before).
    pub silent_ms: u64,
    /// How much time the usable samples span (those since the connection
    /// opened).
    pub observed_ms: u64,
    /// Silent over everything observed: the silence may be longer.
    pub whole_window: bool,
    /// How many samples were usable.
    pub samples: usize,
    /// The newest sample's time, ms since the Unix epoch.
    pub newest_at_ms: u64,
}

/// The silence at the newest sample: how long `recv_oct` had not changed.
/// Samples from before the connection opened (the API pads the window with
/// zeros) are ignored; `recv_oct` (the live counter) beyond the newest
/// sample means bytes came since. None with fewer than two usable samples.
pub fn silence(
    samples: &[Sample],
    connected_at_ms: Option<u64>,
    recv_oct: Option<u64>,
) -> Option<Silence> {
    let mut usable: Vec<Sample> = samples
        .iter()
        .copied()
        .filter(|s| connected_at_ms.is_none_or(|c| s.at_ms >= c))
        .collect();
    usable.sort_by_key(|s| s.at_ms);
    usable.dedup_by_key(|s| s.at_ms);
    let (first, newest) = (*usable.first()?, *usable.last()?);
    if usable.len() < 2 {
        return None;
    }
    let observed_ms = newest.at_ms - first.at_ms;
    if recv_oct.is_some_and(|live| live != newest.value) {
        return Some(Silence {
            silent_ms: 0,
            observed_ms,
            whole_window: false,
            samples: usable.len(),
            newest_at_ms: newest.at_ms,
        });
    }
    let since = usable
        .iter()
        .rev()
        .take_while(|s| s.value == newest.value)
        .last()
        .map_or(newest.at_ms, |s| s.at_ms);
    Some(Silence {
        silent_ms: newest.at_ms - since,
        observed_ms,
        whole_window: since == first.at_ms,
        samples: usable.len(),
        newest_at_ms: newest.at_ms,
    })
}

// ---------------------------------------------------------------------------
// Which library

/// How to compare a client property with a signature.
#[derive(Debug, Clone, Copy)]
enum Text {
    /// Equal, ignoring case.
    Is(&'static str),
    /// Contains, ignoring case.
    Has(&'static str),
}

impl Text {
    fn matches(self, s: &str) -> bool {
        let s = s.trim().to_lowercase();
        match self {
            Text::Is(t) => s == t,
            Text::Has(t) => s.contains(t),
        }
    }
}

/// How a library names itself in its client properties (product, then
/// platform when the product is ambiguous), its entry in
/// data/knowledge/clients.toml, and what to call it in a sentence. First
/// match wins. Applications may override `product`; a connection that does
/// is not recognised.
const SIGNATURES: &[(Text, Option<Text>, &str, &str)] = &[
    // "Pika Python Client Library", the same for every adapter.
    (Text::Has("pika"), None, "pika-blocking", "pika"),
    (Text::Is("aiormq"), None, "aio-pika", "aiormq"),
    // py-amqp, under kombu and Celery; its version is `product_version`.
    (Text::Is("py-amqp"), None, "kombu", "py-amqp"),
    (
        Text::Is("amqplib"),
        Some(Text::Has("node")),
        "node-amqplib",
        "amqplib",
    ),
    // php-amqplib says "AMQPLib" on platform "PHP".
    (
        Text::Is("amqplib"),
        Some(Text::Is("php")),
        "php-amqplib",
        "php-amqplib",
    ),
    (Text::Is("rabbitmq-c"), None, "rabbitmq-c", "rabbitmq-c"),
    (
        Text::Is("amqp 0.9.1 client"),
        Some(Text::Is("golang")),
        "go-amqp091",
        "amqp091-go",
    ),
    (
        Text::Has("streadway/amqp"),
        None,
        "go-streadway",
        "streadway/amqp",
    ),
    (
        Text::Is("rabbitmq"),
        Some(Text::Has("java")),
        "java",
        "Java client",
    ),
    (
        Text::Is("rabbitmq"),
        Some(Text::Has(".net")),
        "dotnet",
        ".NET client",
    ),
    (Text::Is("bunny"), None, "bunny", "Bunny"),
    (Text::Is("lapin"), None, "lapin", "lapin"),
];

/// The knowledge base's id for the library that sent these properties,
/// and its short name.
pub fn library_id(client: &ClientProperties) -> Option<(&'static str, &'static str)> {
    let product = client.product.as_deref()?;
    let platform = client.platform.as_deref().unwrap_or("");
    SIGNATURES
        .iter()
        .find(|(p, pl, _, _)| p.matches(product) && pl.is_none_or(|pl| pl.matches(platform)))
        .map(|(_, _, id, short)| (*id, *short))
}

/// A library recognised, with the row for its version.
#[derive(Debug, Clone, Copy)]
pub struct Library {
    pub lib: &'static ClientLib,
    pub row: &'static ClientVersion,
    /// What to call it: `pika`, `Java client`.
    pub short: &'static str,
    /// The version named a row; false: the newest row stands in.
    pub version_known: bool,
}

impl Library {
    /// `pika 1.3.2`: the short name and the version as sent.
    pub fn label(&self, version: Option<&str>) -> String {
        match version {
            Some(v) => format!("{} {v}", self.short),
            None => self.short.to_string(),
        }
    }
}

/// The library and its behaviour at this version.
pub fn library(client: &ClientProperties) -> Option<Library> {
    let (id, short) = library_id(client)?;
    let lib = knowledge::client(id)?;
    let row = client
        .version
        .as_deref()
        .and_then(parse_version)
        .and_then(|v| lib.at(&v));
    Some(Library {
        lib,
        row: row.unwrap_or_else(|| lib.latest()),
        short,
        version_known: row.is_some(),
    })
}

// ---------------------------------------------------------------------------
// The judgement

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
    let mut flags = Vec::new();
    let mut advice = Vec::new();
    let mut notes = Vec::new();
    let peer = c.label();
    let t = c.heartbeat.filter(|_| !c.is_direct());
    if t.is_some_and(Heartbeat::is_off) {
        flags.push(Flag::HeartbeatOff);
    }
    let silent_long = match (t, silence) {
        (Some(t), Some(s)) if !t.is_off() => s.silent_ms >= t.ms(),
        _ => false,
    };
    if silent_long {
        flags.push(Flag::SilentLongerThanT);
    }
    let state = c.state.as_deref().unwrap_or("");
    if matches!(state, "blocked" | "blocking" | "flow") {
        flags.push(Flag::Blocked);
    }

    if let (Some(t), Some(s)) = (t, silence) {
        if silent_long {
            let extent = if s.whole_window {
                " (all the samples cover: it may be longer)"
            } else {
                ""
            };
            advice.push(format!(
                "{peer} sent nothing for at least {}{extent}, longer than T = {} s: RabbitMQ drops \
                 a client that stays silent for 2T–3T ({}–{}) unless it speaks; see `amqpdoctor \
                 explain broker_heartbeat_timeout`",
                secs(s.silent_ms),
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
    match t {
        Some(t) if t.is_off() => {
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
            if let Some(l) = library {
                advice.push(format!(
                    "set a heartbeat of 5–20 s in {}: {}",
                    l.label(None),
                    l.row.setting
                ));
            }
        }
        Some(t) => {
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
        None => {}
    }
    match state {
        "blocked" | "blocking" => advice.push(format!(
            "{peer} is {state}: the broker stops reading its publishes while a memory or disk \
             alarm is on (`rabbitmq-diagnostics alarms`); see `amqpdoctor explain blocked`"
        )),
        "flow" => advice.push(format!(
            "{peer} is in flow control: the broker is throttling its publishes because it cannot \
             keep up (brief flow under load is normal; steady flow is not); see `amqpdoctor \
             explain blocked`"
        )),
        _ => {}
    }
    match library {
        Some(l) if !l.version_known => notes.push(format!(
            "amqpdoctor knows nothing about {} {}: the advice follows its newest behaviour ({})",
            l.lib.id,
            c.client.version.as_deref().unwrap_or("(no version sent)"),
            l.row.label
        )),
        Some(l) if l.lib.id == "pika-blocking" => notes.push(
            "pika names every adapter alike: the advice is for a BlockingConnection (a \
             SelectConnection or asyncio app sends heartbeats while idle; see `amqpdoctor \
             explain pika-select`)"
                .into(),
        ),
        Some(_) => {}
        None if !c.is_direct() => notes.push(format!(
            "client library not recognised (product {}, platform {})",
            c.client.product.as_deref().unwrap_or("not sent"),
            c.client.platform.as_deref().unwrap_or("not sent")
        )),
        None => {}
    }
    Judgement {
        flags,
        library,
        silence,
        advice,
        notes,
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
    } else if lib.id == "pika-blocking" {
        format!(
            "a BlockingConnection in a publish-only app starves: pika sends heartbeats only \
             inside its own calls, and {drop}"
        )
    } else {
        format!(
            "heartbeats go out only while the application calls into the library, so an app \
             that idles between calls starves, and {drop}"
        )
    }
}

// ---------------------------------------------------------------------------
// The join with `scan`

/// `amqpdoctor scan --format json`, as far as `audit` reads it. Unknown
/// fields are ignored; a missing one is null.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ScanFile {
    #[serde(default)]
    pub connections: Vec<ScanRecord>,
}

/// One connection as `scan` saw it on the application's host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScanRecord {
    pub pid: Option<u32>,
    pub command: Option<String>,
    /// The application's address, `ip:port`.
    pub local: Option<String>,
    /// The broker's address as the application reached it.
    pub remote: Option<String>,
    pub state: Option<String>,
    /// Milliseconds since the application last sent a byte.
    pub last_sent_ms: Option<u64>,
    /// Milliseconds since the application last received a byte.
    pub last_received_ms: Option<u64>,
    pub inferred_heartbeat_s: Option<u16>,
    /// `healthy`, `starving`, `heartbeats_off`, `dead`, `unknown`.
    pub classification: Option<String>,
    pub drop_window_s: Option<[u64; 2]>,
}

/// An address reduced to what identifies it: IPv4-mapped IPv6 as IPv4,
/// `localhost` as 127.0.0.1, other names lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl Host {
    pub fn parse(host: &str) -> Host {
        let h = host.trim().trim_start_matches('[').trim_end_matches(']');
        if h.eq_ignore_ascii_case("localhost") {
            return Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        match h.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip.to_canonical()),
            Err(_) => Host::Name(h.to_lowercase()),
        }
    }
}

/// `ip:port`, `[v6]:port` or `name:port`, normalised for matching.
pub fn endpoint(text: &str) -> Option<(Host, u16)> {
    let text = text.trim();
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Some((Host::Ip(sa.ip().to_canonical()), sa.port()));
    }
    let (host, port) = text.rsplit_once(':')?;
    Some((Host::parse(host), port.parse().ok()?))
}

/// Which side of a connection stopped talking first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuietFirst {
    /// The application's silence is the longer one, beyond a heartbeat interval.
    Application,
    /// The broker's is.
    Broker,
    /// Neither side is quiet for longer than the other (both talk, or
    /// both went quiet together).
    Neither,
    /// The scan has no times for it.
    Unknown,
}

/// Compare how long each side has been quiet, as the application's kernel
/// saw it: the side whose silence is longer by more than [`QUIET_SLACK_MS`]
/// and longer than a heartbeat interval (T/2) went quiet first.
pub fn quiet_first(
    last_sent_ms: Option<u64>,
    last_received_ms: Option<u64>,
    t: Option<Heartbeat>,
) -> QuietFirst {
    let (Some(sent), Some(received)) = (last_sent_ms, last_received_ms) else {
        return QuietFirst::Unknown;
    };
    let normal = t.map_or(0, Heartbeat::send_every_ms) + QUIET_SLACK_MS;
    if sent > received + QUIET_SLACK_MS && sent > normal {
        QuietFirst::Application
    } else if received > sent + QUIET_SLACK_MS && received > normal {
        QuietFirst::Broker
    } else {
        QuietFirst::Neither
    }
}

/// The join's verdict on one matched connection, in a sentence.
pub fn joined_summary(c: &BrokerConnection, r: &ScanRecord, q: QuietFirst) -> String {
    let times = |a: Option<u64>| a.map_or_else(|| "?".to_string(), secs);
    let (sent, received) = (times(r.last_sent_ms), times(r.last_received_ms));
    let mut out = match q {
        QuietFirst::Application => format!(
            "the application went quiet first: it last sent {sent} ago and last received \
             {received} ago"
        ),
        QuietFirst::Broker => format!(
            "the broker went quiet first: the application last received {received} ago and last \
             sent {sent} ago"
        ),
        QuietFirst::Neither => format!(
            "neither side went quiet first: the application last sent {sent} ago and last \
             received {received} ago"
        ),
        QuietFirst::Unknown => {
            "the scan record has no last_sent_ms/last_received_ms: which side went quiet first \
             is unknown"
                .to_string()
        }
    };
    if q == QuietFirst::Application && c.heartbeat.is_some_and(|t| !t.is_off()) {
        out.push_str(", so its heartbeats stopped too: it is not pumping the connection");
    }
    if let Some(class) = r.classification.as_deref() {
        out.push_str(&format!("; scan says {class}"));
        if class == "dead" {
            out.push_str(
                " while the broker still lists it: a half-open connection the broker drops only \
                 after 2T–3T of silence (never with heartbeat 0)",
            );
        }
    }
    out
}

/// Broker connections and scan records matched by address pair: the
/// scan's `local` is the broker's peer and its `remote` the broker's side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Join {
    /// (broker index, scan index), in broker order.
    pub matched: Vec<(usize, usize)>,
    pub scan_only: Vec<usize>,
    pub broker_only: Vec<usize>,
}

pub fn join(broker: &[BrokerConnection], scan: &[ScanRecord]) -> Join {
    type Key = ((Host, u16), (Host, u16));
    let mut by_pair: HashMap<Key, usize> = HashMap::new();
    for (i, r) in scan.iter().enumerate() {
        let pair = r
            .local
            .as_deref()
            .and_then(endpoint)
            .zip(r.remote.as_deref().and_then(endpoint));
        if let Some(pair) = pair {
            by_pair.entry(pair).or_insert(i);
        }
    }
    let mut out = Join::default();
    let mut used = vec![false; scan.len()];
    for (b, c) in broker.iter().enumerate() {
        let key = match (&c.peer_host, c.peer_port, &c.host, c.port) {
            (Some(ph), Some(pp), Some(h), Some(p)) => {
                Some(((Host::parse(ph), pp), (Host::parse(h), p)))
            }
            _ => None,
        };
        match key.and_then(|k| by_pair.get(&k).copied()) {
            Some(s) if !used[s] => {
                used[s] = true;
                out.matched.push((b, s));
            }
            _ => out.broker_only.push(b),
        }
    }
    out.scan_only = (0..scan.len()).filter(|&i| !used[i]).collect();
    out
}

// ---------------------------------------------------------------------------
// When the API cannot be read

/// Why a request to the management API failed: the facts the run layer
/// saw. Its `Display` is the one line `audit` prints (exit 3): what was
/// asked, what happened, and what to try.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("reading {url}: {}", describe(.kind, .user))]
pub struct ApiFailure {
    /// The request's URL with the password as `***`.
    pub url: String,
    /// Who tried to log in.
    pub user: String,
    pub kind: ApiFailureKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiFailureKind {
    /// The TCP connection failed or broke.
    Network {
        errno: Option<i32>,
        detail: String,
    },
    /// The host name did not resolve.
    Dns,
    /// No complete answer within the timeout.
    Timeout {
        after_ms: u64,
    },
    /// An HTTP status other than 2xx.
    Status {
        code: u16,
        reason: Option<String>,
        /// Where a redirect points.
        location: Option<String>,
    },
    Tls {
        detail: String,
    },
    /// The answer is larger than amqpdoctor reads.
    TooLarge {
        limit: u64,
    },
    /// The answer is not the JSON the API sends.
    NotJson {
        detail: String,
    },
    /// Not an HTTP answer.
    Protocol {
        detail: String,
    },
}

const ENABLE: &str = "`rabbitmq-plugins enable rabbitmq_management`";

fn describe(kind: &ApiFailureKind, user: &str) -> String {
    use ApiFailureKind as K;
    match kind {
        K::Network {
            errno: Some(111),
            detail,
        } => format!(
            "{detail} — is the management plugin enabled and listening there? {ENABLE} (it \
             listens on port 15672)"
        ),
        K::Network { detail, .. } => {
            format!("{detail} — check the host and port of --management and that the broker is up")
        }
        K::Dns => "the host name does not resolve — check the host in --management".into(),
        K::Timeout { after_ms } => format!(
            "no complete answer within {} (--timeout) — is the host right, is a firewall \
             dropping the port, is the broker overloaded?",
            secs(*after_ms)
        ),
        K::Status { code: 401, .. } | K::Status { code: 403, .. } => format!(
            "HTTP {} — the management API refused user `{user}`: check the user and password \
             (user:password@ in --management, or --password-file FILE) and that the user has \
             the `monitoring` tag (`rabbitmqctl set_user_tags USER monitoring`); `guest` may \
             log in from localhost only",
            status_text(kind)
        ),
        K::Status { code: 404, .. } => format!(
            "HTTP {} — is this the management API? Give its base URL, e.g. \
             http://broker:15672 (with the path prefix, if it has one); {ENABLE}",
            status_text(kind)
        ),
        K::Status {
            code: 300..=399,
            location,
            ..
        } => format!(
            "HTTP {} — the API redirects{}; give that URL to --management (credentials are \
             not sent after a redirect)",
            status_text(kind),
            location
                .as_deref()
                .map(|l| format!(" to {}", crate::target::redact_url_text(l)))
                .unwrap_or_default()
        ),
        K::Status { code: 500.., .. } => format!(
            "HTTP {} — the management API could not answer; try again, and see the broker's \
             log",
            status_text(kind)
        ),
        K::Status { .. } => format!(
            "HTTP {} — is this the management API? Give its base URL, e.g. http://broker:15672 \
             (with the path prefix, if it has one)",
            status_text(kind)
        ),
        K::Tls { detail } => {
            format!("TLS failed ({detail}) — check that the port speaks https, and the certificate")
        }
        K::TooLarge { limit } => format!(
            "the answer is larger than {} MiB, the most amqpdoctor reads — is this the \
             management API? (a broker with many thousands of connections can exceed it)",
            limit / (1024 * 1024)
        ),
        K::NotJson { detail } => format!(
            "the answer is not the management API's JSON ({detail}) — is this the management \
             API? Give its base URL, e.g. http://broker:15672"
        ),
        K::Protocol { detail } => format!(
            "not an HTTP answer ({detail}) — is this the management API's port (15672), and \
             is it http or https?"
        ),
    }
}

fn status_text(kind: &ApiFailureKind) -> String {
    match kind {
        ApiFailureKind::Status {
            code,
            reason: Some(r),
            ..
        } => format!("{code} {r}"),
        ApiFailureKind::Status { code, .. } => code.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(product: &str, platform: &str, version: &str) -> ClientProperties {
        ClientProperties {
            product: Some(product.into()),
            version: Some(version.into()),
            platform: Some(platform.into()),
            connection_name: None,
        }
    }

    #[test]
    fn libraries_by_their_client_properties() {
        // (product, platform, knowledge id) as each library sends them.
        let rows: &[(&str, &str, Option<&str>)] = &[
            (
                "Pika Python Client Library",
                "Python 3.11.7",
                Some("pika-blocking"),
            ),
            ("aiormq", "CPython 3.12.1 (main build)", Some("aio-pika")),
            ("py-amqp", "", Some("kombu")),
            ("amqplib", "Node.JS v20.11.0", Some("node-amqplib")),
            ("AMQPLib", "PHP", Some("php-amqplib")),
            ("rabbitmq-c", "Linux", Some("rabbitmq-c")),
            ("AMQP 0.9.1 Client", "golang", Some("go-amqp091")),
            ("AMQP 0.9.1 Client", "swift", None),
            (
                "https://github.com/streadway/amqp",
                "golang",
                Some("go-streadway"),
            ),
            ("RabbitMQ", "Java", Some("java")),
            ("RabbitMQ", ".NET", Some("dotnet")),
            ("RabbitMQ", "Erlang/OTP 25", None),
            ("Bunny", "ruby 3.2.2", Some("bunny")),
            ("lapin", "rust", Some("lapin")),
            ("amqpdoctor", "Rust", None),
            ("MyCompany Billing", ".NET", None),
        ];
        for &(product, platform, want) in rows {
            assert_eq!(
                library_id(&props(product, platform, "1.0.0")).map(|(id, _)| id),
                want,
                "{product} / {platform}"
            );
            if let Some(id) = want {
                assert!(
                    knowledge::client(id).is_some(),
                    "{id} is not in clients.toml"
                );
            }
        }
        assert_eq!(library_id(&ClientProperties::default()), None);
    }

    #[test]
    fn the_version_picks_the_row() {
        let rows: &[(&str, &str, &str, bool)] = &[
            ("Pika Python Client Library", "1.3.2", "≥ 1.0", true),
            ("Pika Python Client Library", "0.13.1", "0.12–0.13", true),
            (
                "Pika Python Client Library",
                "not a version",
                "≥ 1.0",
                false,
            ),
        ];
        for &(product, version, label, known) in rows {
            let l = library(&props(product, "Python", version)).unwrap();
            assert_eq!(
                (l.row.label.as_str(), l.version_known),
                (label, known),
                "{version}"
            );
        }
        let l = library(&props("Pika Python Client Library", "Python", "1.3.2")).unwrap();
        assert_eq!(l.label(Some("1.3.2")), "pika 1.3.2");
        let l = library(&props("RabbitMQ", "Java", "5.16.0")).unwrap();
        assert_eq!(l.label(Some("5.16.0")), "Java client 5.16.0");
    }

    fn samples(rows: &[(u64, u64)]) -> Vec<Sample> {
        rows.iter()
            .map(|&(at_ms, value)| Sample { at_ms, value })
            .collect()
    }

    #[test]
    fn silence_from_samples() {
        // (samples newest first as the API sends them, connected_at, live
        // recv_oct) → (silent_ms, observed_ms, whole_window)
        type Row = (
            Vec<(u64, u64)>,
            Option<u64>,
            Option<u64>,
            Option<(u64, u64, bool)>,
        );
        let rows: Vec<Row> = vec![
            // Talking: the counter grows every sample.
            (
                vec![(20_000, 30), (15_000, 20), (10_000, 10)],
                None,
                Some(30),
                Some((0, 10_000, false)),
            ),
            // Quiet since 10 s, observed since 5 s.
            (
                vec![
                    (25_000, 9),
                    (20_000, 9),
                    (15_000, 9),
                    (10_000, 9),
                    (5_000, 4),
                ],
                None,
                Some(9),
                Some((15_000, 20_000, false)),
            ),
            // Quiet over everything observed.
            (
                vec![(25_000, 9), (20_000, 9), (15_000, 9)],
                None,
                None,
                Some((10_000, 10_000, true)),
            ),
            // The padding before the connection opened is not a silence.
            (
                vec![(25_000, 9), (20_000, 9), (15_000, 0), (10_000, 0)],
                Some(17_000),
                Some(9),
                Some((5_000, 5_000, true)),
            ),
            // Bytes came after the newest sample.
            (
                vec![(25_000, 9), (20_000, 9)],
                None,
                Some(12),
                Some((0, 5_000, false)),
            ),
            // One usable sample says nothing.
            (vec![(25_000, 9), (20_000, 0)], Some(21_000), Some(9), None),
            (vec![], None, None, None),
        ];
        for (input, connected, live, want) in rows {
            let got = silence(&samples(&input), connected, live)
                .map(|s| (s.silent_ms, s.observed_ms, s.whole_window));
            assert_eq!(got, want, "{input:?} connected {connected:?} live {live:?}");
        }
    }

    fn conn(t: Option<u16>, state: &str, recv: &[(u64, u64)]) -> BrokerConnection {
        BrokerConnection {
            name: "127.0.0.1:54994 -> 127.0.0.1:5672".into(),
            kind: Some("network".into()),
            peer_host: Some("127.0.0.1".into()),
            peer_port: Some(54994),
            host: Some("127.0.0.1".into()),
            port: Some(5672),
            state: Some(state.into()),
            heartbeat: t.map(Heartbeat::from_secs),
            client: props("Pika Python Client Library", "Python 3.11.7", "1.3.2"),
            recv_oct: recv.first().map(|s| s.1),
            recv_samples: samples(recv),
            ..Default::default()
        }
    }

    #[test]
    fn flags_per_connection() {
        let quiet_70s: Vec<(u64, u64)> = (0..15).map(|i| (100_000 - i * 5000, 378)).collect();
        let talking: Vec<(u64, u64)> = (0..15).map(|i| (100_000 - i * 5000, 1000 - i)).collect();
        let rows: Vec<(BrokerConnection, Vec<Flag>)> = vec![
            (conn(Some(60), "running", &talking), vec![]),
            (
                conn(Some(60), "running", &quiet_70s),
                vec![Flag::SilentLongerThanT],
            ),
            (conn(Some(90), "running", &quiet_70s), vec![]),
            (
                conn(Some(0), "running", &quiet_70s),
                vec![Flag::HeartbeatOff],
            ),
            (conn(Some(60), "blocked", &talking), vec![Flag::Blocked]),
            (conn(Some(60), "blocking", &talking), vec![Flag::Blocked]),
            (
                conn(Some(60), "flow", &quiet_70s),
                vec![Flag::SilentLongerThanT, Flag::Blocked],
            ),
            (conn(None, "running", &quiet_70s), vec![]),
            (
                BrokerConnection {
                    kind: Some("direct".into()),
                    ..conn(Some(0), "running", &[])
                },
                vec![],
            ),
        ];
        for (c, want) in rows {
            assert_eq!(judge(&c).flags, want, "{c:?}");
        }
    }

    #[test]
    fn talking_means_bytes_after_the_first_exchanges() {
        // (T, connected_at, samples newest first) → talking
        type Row<'a> = (u16, u64, &'a [(u64, u64)], bool);
        let rows: &[Row] = &[
            // A pumped client: bytes in the last sample, long after connecting.
            (20, 0, &[(100_000, 900), (95_000, 890), (90_000, 890)], true),
            // A starving one: quiet since its handshake.
            (
                60,
                88_000,
                &[(100_000, 466), (95_000, 466), (90_000, 400)],
                false,
            ),
            // A young one: its bytes are the handshake.
            (
                60,
                80_000,
                &[(100_000, 466), (95_000, 400), (90_000, 0)],
                false,
            ),
            // Quiet for longer than T/2.
            (20, 0, &[(100_000, 9), (85_000, 9), (80_000, 8)], false),
        ];
        for &(t, connected, recv, want) in rows {
            let c = BrokerConnection {
                connected_at_ms: Some(connected),
                ..conn(Some(t), "running", recv)
            };
            let s = silence(&c.recv_samples, c.connected_at_ms, c.recv_oct);
            assert_eq!(talking(&c, s, Heartbeat::from_secs(t)), want, "{recv:?}");
        }
    }

    #[test]
    fn advice_names_the_library_and_the_explain_topic() {
        let j = judge(&conn(Some(60), "running", &[]));
        assert_eq!(
            j.advice[0],
            "pika 1.3.2 with heartbeat 60 from 127.0.0.1:54994: a BlockingConnection in a \
             publish-only app starves: pika sends heartbeats only inside its own calls, and \
             RabbitMQ drops it 2T–3T (120 s–180 s) after its last byte; see `amqpdoctor explain \
             pika-blocking`"
        );
        assert!(j.advice[1].starts_with("remedy: "), "{:?}", j.advice);
        let j = judge(&conn(Some(0), "running", &[]));
        assert!(
            j.advice[0].starts_with(
                "heartbeat 0 from 127.0.0.1:54994: exposed to middlebox idle timeouts"
            ),
            "{:?}",
            j.advice
        );
        let j = judge(&conn(Some(2), "running", &[]));
        assert!(
            j.advice.iter().any(|a| a.contains("below 5 s")),
            "{:?}",
            j.advice
        );
        // Every topic the advice points to exists.
        for t in [Some(0), Some(2), Some(60)] {
            for state in ["running", "blocked", "flow"] {
                let quiet: Vec<(u64, u64)> = (0..15).map(|i| (100_000 - i * 5000, 1)).collect();
                for a in judge(&conn(t, state, &quiet)).advice {
                    if let Some((_, rest)) = a.split_once("amqpdoctor explain ") {
                        let topic = rest.trim_end_matches('`').split('`').next().unwrap();
                        assert!(
                            knowledge::lookup(topic).is_ok(),
                            "{topic} in {a:?} is not an explain topic"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn endpoints_normalise() {
        let same = [
            ("127.0.0.1:5672", "127.0.0.1:5672"),
            ("[::ffff:127.0.0.1]:5672", "127.0.0.1:5672"),
            ("localhost:5672", "127.0.0.1:5672"),
            ("LOCALHOST:5672", "127.0.0.1:5672"),
            ("[::1]:5672", "[::1]:5672"),
            ("Broker.Example:5672", "broker.example:5672"),
        ];
        for (a, b) in same {
            assert_eq!(endpoint(a), endpoint(b), "{a} vs {b}");
            assert!(endpoint(a).is_some(), "{a}");
        }
        assert_ne!(endpoint("[::1]:5672"), endpoint("127.0.0.1:5672"));
        assert_ne!(endpoint("127.0.0.1:5672"), endpoint("127.0.0.1:5673"));
        for bad in ["", "127.0.0.1", "h:port", "h:70000"] {
            assert_eq!(endpoint(bad), None, "{bad}");
        }
        assert_eq!(Host::parse("::ffff:10.0.0.1"), Host::parse("10.0.0.1"));
    }

    #[test]
    fn which_side_went_quiet_first() {
        let t = |s| Some(Heartbeat::from_secs(s));
        // (last_sent_ms, last_received_ms, T) → side
        type Row = (Option<u64>, Option<u64>, Option<Heartbeat>, QuietFirst);
        let rows: &[Row] = &[
            (Some(50_000), Some(5_000), t(60), QuietFirst::Application),
            (Some(400), Some(600), t(2), QuietFirst::Neither),
            (Some(25_000), Some(2_000), t(60), QuietFirst::Neither),
            (Some(3_000), Some(9_000), t(0), QuietFirst::Broker),
            (Some(3_000), Some(9_000), None, QuietFirst::Broker),
            (Some(9_000), Some(8_500), t(0), QuietFirst::Neither),
            (None, Some(9_000), t(60), QuietFirst::Unknown),
        ];
        for &(sent, received, t, want) in rows {
            assert_eq!(
                quiet_first(sent, received, t),
                want,
                "{sent:?} {received:?} {t:?}"
            );
        }
    }

    #[test]
    fn join_by_address_pair() {
        let broker = vec![
            conn(Some(60), "running", &[]),
            BrokerConnection {
                peer_port: Some(40000),
                ..conn(Some(60), "running", &[])
            },
            BrokerConnection {
                peer_host: Some("::ffff:127.0.0.1".into()),
                peer_port: Some(40001),
                ..conn(Some(60), "running", &[])
            },
        ];
        let rec = |local: &str, remote: &str| ScanRecord {
            local: Some(local.into()),
            remote: Some(remote.into()),
            ..Default::default()
        };
        let scan = vec![
            rec("127.0.0.1:40001", "localhost:5672"),
            rec("[::ffff:127.0.0.1]:54994", "127.0.0.1:5672"),
            rec("127.0.0.1:40000", "127.0.0.1:5673"),
            rec("127.0.0.1:54994", "127.0.0.1:5672"),
        ];
        let j = join(&broker, &scan);
        assert_eq!(j.matched, vec![(0, 1), (2, 0)]);
        assert_eq!(j.broker_only, vec![1]);
        assert_eq!(j.scan_only, vec![2, 3]);
    }

    #[test]
    fn api_failures_say_what_to_try() {
        use ApiFailureKind as K;
        let rows: Vec<(ApiFailureKind, &str)> = vec![
            (
                K::Network {
                    errno: Some(111),
                    detail: "connection refused (ECONNREFUSED)".into(),
                },
                "rabbitmq-plugins enable rabbitmq_management",
            ),
            (
                K::Status {
                    code: 401,
                    reason: Some("Unauthorized".into()),
                    location: None,
                },
                "HTTP 401 Unauthorized — the management API refused user `mon`",
            ),
            (
                K::Status {
                    code: 404,
                    reason: None,
                    location: None,
                },
                "is this the management API?",
            ),
            (
                K::Status {
                    code: 301,
                    reason: None,
                    location: Some("https://u:S3cr3tPw@h/".into()),
                },
                "redirects to https://u:***@h/",
            ),
            (K::Timeout { after_ms: 5000 }, "within 5 s (--timeout)"),
            (K::TooLarge { limit: 16 << 20 }, "larger than 16 MiB"),
        ];
        for (kind, want) in rows {
            let f = ApiFailure {
                url: "http://mon:***@h:15672/api/overview".into(),
                user: "mon".into(),
                kind,
            };
            let line = f.to_string();
            assert!(
                line.starts_with("reading http://mon:***@h:15672/api/overview: "),
                "{line}"
            );
            assert!(line.contains(want), "{line} lacks {want}");
            assert!(!line.contains('\n') && !line.contains("S3cr3tPw"), "{line}");
        }
    }

    #[test]
    fn scan_files_are_read_leniently() {
        let text = r#"{"tool":"amqpdoctor","connections":[{"pid":7,"command":"python3",
            "local":"127.0.0.1:1","remote":"127.0.0.1:5672","state":"ESTABLISHED",
            "last_sent_ms":10,"last_received_ms":null,"inferred_heartbeat_s":null,
            "classification":"healthy","drop_window_s":[120,180],"future_field":{"x":1}},
            {"local":"127.0.0.1:2"}],"other":true}"#;
        let f: ScanFile = serde_json::from_str(text).unwrap();
        assert_eq!(f.connections.len(), 2);
        assert_eq!(f.connections[0].drop_window_s, Some([120, 180]));
        assert_eq!(f.connections[1].remote, None);
        let empty: ScanFile = serde_json::from_str("{}").unwrap();
        assert!(empty.connections.is_empty());
    }
}
