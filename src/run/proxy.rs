//! `amqpdoctor proxy`: a TCP proxy that behaves like a middlebox, to
//! reproduce on a laptop what load balancers and NAT gateways do to idle
//! AMQP connections.
//!
//! One task per connection forwards both directions in one `select!`
//! loop, so the idle timer sees traffic either way. After `idle_timeout`
//! without a byte in either direction it acts as `OnIdle` says:
//!
//! | on idle | what it does | like |
//! |---|---|---|
//! | `reset` | SO_LINGER 0 on both sockets, then close: RST to both | Azure LB with "TCP reset on idle" |
//! | `forget` | nothing at the timeout; whichever side sends (or closes) next gets RST, the other is held open and never told | NAT gateways, NLB, Linux conntrack with an INVALID → reject rule |
//! | `drop` | keeps both sockets open, reads and discards everything | a blackhole (Azure LB, GCP NAT without reset) |
//! | `close` | shutdown(WR) on both: FIN to both | HAProxy's `timeout client` |
//!
//! With `--drop-heartbeats` or `--log-frames` the byte stream is cut into
//! AMQP frames (amq-protocol's parser, through `wire::codec::decode`);
//! heartbeat frames in the chosen direction are swallowed, everything else
//! is forwarded byte for byte. Traffic that is not AMQP is forwarded raw.

use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use amq_protocol::frame::AMQPFrame;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use tokio::sync::mpsc::error::TrySendError;

use super::cancelled;
use crate::vocab::proxy::{Direction, OnIdle};
use crate::vocab::units::duration_ms;
use crate::wire::codec::{self, Decoded};

/// What the proxy is asked to do.
#[derive(Debug, Clone)]
pub struct ProxySpec {
    pub listen: String,
    pub upstream: String,
    pub idle_timeout: Option<Duration>,
    pub on_idle: OnIdle,
    pub drop_to_server: bool,
    pub drop_to_client: bool,
    pub log_frames: bool,
    pub connect_timeout: Duration,
    pub cancel: tokio::sync::watch::Receiver<bool>,
}

/// Something the proxy did, as it happens (ms since the proxy started).
#[derive(Debug, Clone, PartialEq)]
pub enum ProxyEvent {
    Listening {
        addr: SocketAddr,
    },
    Opened {
        id: u32,
        at_ms: u64,
        client: String,
        upstream: String,
    },
    UpstreamFailed {
        id: u32,
        at_ms: u64,
        client: String,
        error: String,
    },
    Frame {
        id: u32,
        at_ms: u64,
        dir: Direction,
        frame: String,
        dropped: bool,
    },
    /// The stream stopped parsing as AMQP; forwarded raw from here on.
    Raw {
        id: u32,
        at_ms: u64,
        dir: Direction,
        why: String,
    },
    Idle {
        id: u32,
        at_ms: u64,
        idle_ms: u64,
        action: OnIdle,
    },
    Closed {
        id: u32,
        at_ms: u64,
        how: String,
    },
}

/// What the proxy did to one connection, for the report at the end.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ConnSummary {
    pub id: u32,
    pub client: String,
    pub opened_at_ms: u64,
    pub bytes_to_server: u64,
    pub bytes_to_client: u64,
    pub heartbeats_dropped_to_server: u64,
    pub heartbeats_dropped_to_client: u64,
    /// Bytes read and thrown away after a `drop`.
    pub bytes_blackholed: u64,
    /// What the idle timer did, and after how long.
    pub idle_action: Option<OnIdle>,
    pub idle_ms: Option<u64>,
    pub ended_at_ms: Option<u64>,
    pub ended: String,
}

/// Frames bigger than this are not parsed: the stream is forwarded raw
/// from there on. It bounds what one direction of one connection can make
/// the proxy hold (issue 24 item 7): a client sending the first bytes of a
/// huge frame and never the rest pins at most this much, not 16 MiB.
/// RabbitMQ's default `frame_max` is 128 KiB (rabbitmq-server,
/// deps/rabbit/Makefile, `frame_max` 131072), so real traffic stays parsed.
pub const PARSE_LIMIT: u32 = 1024 * 1024;

/// How many events may wait for the writer; past this they are dropped and
/// counted (issue 24 item 3), so a slow or blocked stdout costs memory
/// bounded by this, never relaying.
pub const EVENT_QUEUE: usize = 4096;

/// Where the proxy's events go: a bounded queue that never waits. An event
/// that finds the queue full is dropped and counted.
#[derive(Debug, Clone)]
pub struct EventSink {
    tx: tokio::sync::mpsc::Sender<ProxyEvent>,
    dropped: Arc<AtomicU64>,
}

impl EventSink {
    /// A sink holding at most `capacity` events, and its receiving end.
    pub fn new(capacity: usize) -> (Self, tokio::sync::mpsc::Receiver<ProxyEvent>) {
        let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        (Self { tx, dropped }, rx)
    }

    /// Queue `event`, or drop and count it if the writer is behind.
    pub fn send(&self, event: ProxyEvent) {
        if let Err(TrySendError::Full(_)) = self.tx.try_send(event) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Events dropped so far because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Cuts one direction's bytes into frames, when asked to look at them.
struct Framer {
    buf: Vec<u8>,
    raw: bool,
}

impl Framer {
    /// Split `bytes` (appended to what is pending) into what to forward,
    /// calling `seen` for each whole frame (`true` = drop it). Incomplete
    /// frames wait for more bytes.
    fn feed(
        &mut self,
        bytes: &[u8],
        mut seen: impl FnMut(&AMQPFrame) -> bool,
    ) -> (Vec<u8>, Option<String>) {
        if self.raw {
            return (bytes.to_vec(), None);
        }
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::with_capacity(self.buf.len());
        let mut used = 0;
        loop {
            match codec::decode(&self.buf[used..], PARSE_LIMIT) {
                Decoded::Frame(frame, n) => {
                    if !seen(&frame) {
                        out.extend_from_slice(&self.buf[used..used + n]);
                    }
                    used += n;
                }
                Decoded::NeedMore => break,
                Decoded::Invalid(why) => {
                    self.raw = true;
                    out.extend_from_slice(&self.buf[used..]);
                    self.buf.clear();
                    return (out, Some(why));
                }
            }
        }
        self.buf.drain(..used);
        (out, None)
    }
}

/// Accept and proxy connections until Ctrl-C; the summaries of all.
pub async fn serve(spec: ProxySpec, events: EventSink) -> std::io::Result<Vec<ConnSummary>> {
    let listener = TcpListener::bind(&spec.listen).await?;
    events.send(ProxyEvent::Listening {
        addr: listener.local_addr()?,
    });
    let start = Instant::now();
    let mut cancel = spec.cancel.clone();
    let mut tasks = Vec::new();
    let mut next_id = 1;
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = cancelled(&mut cancel) => break,
        };
        let Ok((client, peer)) = accepted else {
            continue;
        };
        let id = next_id;
        next_id += 1;
        let spec = spec.clone();
        let events = events.clone();
        tasks.push(tokio::spawn(async move {
            proxy_one(id, client, peer, spec, start, events).await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        if let Ok(s) = t.await {
            out.push(s);
        }
    }
    Ok(out)
}

/// Connect to `--upstream` within `--connect-timeout`; Ctrl-C ends the
/// wait at once (issue 24 item 17), so stopping never waits for a
/// connect still pending.
async fn connect_upstream(spec: &ProxySpec) -> Result<TcpStream, String> {
    let mut cancel = spec.cancel.clone();
    let connect = tokio::time::timeout(spec.connect_timeout, TcpStream::connect(&spec.upstream));
    tokio::select! {
        r = connect => match r {
            Ok(Ok(server)) => Ok(server),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "no answer within {}",
                humantime::format_duration(spec.connect_timeout)
            )),
        },
        _ = cancelled(&mut cancel) => Err("proxy stopped (Ctrl-C) before the upstream answered".into()),
    }
}

/// How a connection's loop stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Forwarding,
    /// `drop`: read and discard, forward nothing.
    Blackhole,
    /// `forget`: the next read from either side resets that side.
    Forgotten,
}

/// Proxy one accepted connection: connect upstream, relay both ways until
/// it ends, announce the end, and after `forget` hold the side that was
/// never told. Its summary.
async fn proxy_one(
    id: u32,
    mut client: TcpStream,
    peer: SocketAddr,
    spec: ProxySpec,
    start: Instant,
    events: EventSink,
) -> ConnSummary {
    let ms = || duration_ms(start.elapsed());
    let mut s = ConnSummary {
        id,
        client: peer.to_string(),
        opened_at_ms: ms(),
        ..ConnSummary::default()
    };
    let mut server = match connect_upstream(&spec).await {
        Ok(server) => server,
        Err(why) => return upstream_failed(s, &events, ms(), why, client),
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    events.send(ProxyEvent::Opened {
        id,
        at_ms: ms(),
        client: s.client.clone(),
        upstream: server
            .peer_addr()
            .map_or_else(|_| spec.upstream.clone(), |a| a.to_string()),
    });
    let (ended, rejected) =
        relay_both_ways(&mut client, &mut server, &spec, start, &events, &mut s).await;
    s.ended_at_ms = Some(ms());
    s.ended = ended.clone();
    events.send(ProxyEvent::Closed {
        id,
        at_ms: ms(),
        how: ended,
    });
    if let Some(dir) = rejected {
        let (sender, other) = match dir {
            Direction::ToServer => (client, server),
            Direction::ToClient => (server, client),
        };
        let _ = set_linger_zero(&sender);
        drop(sender);
        let mut cancel = spec.cancel.clone();
        s.bytes_blackholed += hold_until_gone(other, &mut cancel).await;
    }
    s
}

/// Relay both directions, act on the idle timeout, until the connection
/// ends: why it ended, and the side that was rejected after `forget`.
async fn relay_both_ways(
    client: &mut TcpStream,
    server: &mut TcpStream,
    spec: &ProxySpec,
    start: Instant,
    events: &EventSink,
    s: &mut ConnSummary,
) -> (String, Option<Direction>) {
    let ms = || duration_ms(start.elapsed());
    let parse = spec.log_frames || spec.drop_to_server || spec.drop_to_client;
    let framer = || Framer {
        buf: Vec::new(),
        raw: !parse,
    };
    let mut framers = [framer(), framer()];
    let (mut cbuf, mut sbuf) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    let (mut client_eof, mut server_eof) = (false, false);
    let mut state = State::Forwarding;
    let mut last = Instant::now();
    let mut cancel = spec.cancel.clone();
    loop {
        if let Some(why) = closed_both(state, client_eof, server_eof, spec.on_idle) {
            return (why, None);
        }
        let deadline = spec
            .idle_timeout
            .filter(|_| state == State::Forwarding)
            .map(|d| last + d);
        let idle = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        let looking = Looking {
            spec,
            id: s.id,
            at_ms: ms(),
            events,
            blackhole: state == State::Blackhole,
            forgotten: state == State::Forgotten,
        };
        let end = tokio::select! {
            r = client.read(&mut cbuf), if !client_eof => {
                let [to_server, _] = &mut framers;
                let flow = relay(r, &cbuf, Direction::ToServer, server, to_server, &looking, s).await;
                after_read(flow, Direction::ToServer, &mut last, &mut client_eof)
            }
            r = server.read(&mut sbuf), if !server_eof => {
                let [_, to_client] = &mut framers;
                let flow = relay(r, &sbuf, Direction::ToClient, client, to_client, &looking, s).await;
                after_read(flow, Direction::ToClient, &mut last, &mut server_eof)
            }
            _ = idle => {
                let idle_ms = duration_ms(last.elapsed());
                match go_idle(client, server, spec, events, s, ms(), idle_ms).await {
                    ControlFlow::Continue(next) => state = next,
                    ControlFlow::Break(why) => return (why, None),
                }
                None
            }
            _ = cancelled(&mut cancel) => return ("proxy stopped (Ctrl-C)".to_string(), None),
        };
        if let Some(end) = end {
            return end;
        }
    }
}

/// Whether the connection is over before the next read: both sides closed,
/// or, after `--on-idle close`, a side answered with its FIN.
fn closed_both(
    state: State,
    client_eof: bool,
    server_eof: bool,
    on_idle: OnIdle,
) -> Option<String> {
    if client_eof && server_eof {
        return Some("both sides closed (FIN)".to_string());
    }
    if state == State::Blackhole && (client_eof || server_eof) && on_idle == OnIdle::Close {
        return Some("idle: closed both sides (FIN)".to_string());
    }
    None
}

/// What one relayed read in `dir` means for the loop: data marks the flow
/// busy, a FIN marks its side closed; the end of the connection is why,
/// with the side rejected after `forget`.
fn after_read(
    flow: Flow,
    dir: Direction,
    last: &mut Instant,
    eof: &mut bool,
) -> Option<(String, Option<Direction>)> {
    match flow {
        Flow::Data => *last = Instant::now(),
        Flow::Eof => *eof = true,
        Flow::End(why) => return Some((why, None)),
        Flow::Rejected => {
            let (sender, other) = match dir {
                Direction::ToServer => ("client", "server"),
                Direction::ToClient => ("server", "client"),
            };
            let why = format!(
                "forgotten: the {sender} sent after the idle and got RST; the {other} side was \
                 never told"
            );
            return Some((why, Some(dir)));
        }
    }
    None
}

/// The flow was idle for `idle_ms`: record and announce it, then do what
/// `--on-idle` says. Breaks with why the connection ended (`reset`), or
/// continues in the state the loop goes on in.
async fn go_idle(
    client: &mut TcpStream,
    server: &mut TcpStream,
    spec: &ProxySpec,
    events: &EventSink,
    s: &mut ConnSummary,
    at_ms: u64,
    idle_ms: u64,
) -> ControlFlow<String, State> {
    s.idle_action = Some(spec.on_idle);
    s.idle_ms = Some(idle_ms);
    events.send(ProxyEvent::Idle {
        id: s.id,
        at_ms,
        idle_ms,
        action: spec.on_idle,
    });
    match spec.on_idle {
        OnIdle::Reset => {
            for side in [&*client, &*server] {
                let _ = set_linger_zero(side);
            }
            ControlFlow::Break("idle: reset both sides (RST)".to_string())
        }
        OnIdle::Close => {
            let _ = client.shutdown().await;
            let _ = server.shutdown().await;
            // Keep reading until each side answers with its own
            // FIN: closing with unread data would send RST.
            ControlFlow::Continue(State::Blackhole)
        }
        OnIdle::Drop => ControlFlow::Continue(State::Blackhole),
        OnIdle::Forget => ControlFlow::Continue(State::Forgotten),
    }
}

/// `forget`: the side that was not told keeps its connection; read and
/// discard what it sends until it closes, resets, or the proxy stops.
/// Returns the bytes thrown away.
async fn hold_until_gone(
    mut side: TcpStream,
    cancel: &mut tokio::sync::watch::Receiver<bool>,
) -> u64 {
    let mut buf = vec![0u8; 16 * 1024];
    let mut thrown = 0;
    loop {
        tokio::select! {
            r = side.read(&mut buf) => match r {
                Ok(0) | Err(_) => return thrown,
                Ok(n) => thrown += n as u64,
            },
            _ = cancelled(cancel) => return thrown,
        }
    }
}

fn upstream_failed(
    mut s: ConnSummary,
    events: &EventSink,
    at_ms: u64,
    error: String,
    client: TcpStream,
) -> ConnSummary {
    events.send(ProxyEvent::UpstreamFailed {
        id: s.id,
        at_ms,
        client: s.client.clone(),
        error: error.clone(),
    });
    // Reset the client, as a balancer with no healthy backend does.
    let _ = set_linger_zero(&client);
    drop(client);
    s.ended_at_ms = Some(at_ms);
    s.ended = format!("upstream connect failed: {error}");
    s
}

/// What the connection loop knows while it relays.
struct Looking<'a> {
    spec: &'a ProxySpec,
    id: u32,
    at_ms: u64,
    events: &'a EventSink,
    blackhole: bool,
    /// `forget` after the idle: any packet from a side is rejected.
    forgotten: bool,
}

/// What one read means for the connection.
enum Flow {
    /// Bytes came (forwarded or blackholed): the flow is not idle.
    Data,
    /// The reading side closed (FIN); passed on as a FIN.
    Eof,
    /// The connection is over, and why.
    End(String),
    /// The flow was forgotten and the reading side spoke (data, FIN or
    /// RST): it gets RST, the other side is never told.
    Rejected,
}

/// Handle one read from the side opposite `to`, in direction `dir`:
/// forward it (heartbeats dropped, frames logged as asked), throw it away
/// in a blackhole, pass a FIN or an RST on.
async fn relay(
    read: std::io::Result<usize>,
    buf: &[u8],
    dir: Direction,
    to: &mut TcpStream,
    framer: &mut Framer,
    l: &Looking<'_>,
    s: &mut ConnSummary,
) -> Flow {
    let (from, dest) = match dir {
        Direction::ToServer => ("client", "server"),
        Direction::ToClient => ("server", "client"),
    };
    match read {
        _ if l.forgotten => Flow::Rejected,
        Ok(0) => {
            let _ = to.shutdown().await;
            Flow::Eof
        }
        Ok(n) if l.blackhole => {
            s.bytes_blackholed += n as u64;
            Flow::Data
        }
        Ok(n) => {
            let bytes = forwardable(framer, &buf[..n], dir, l, s);
            match dir {
                Direction::ToServer => s.bytes_to_server += bytes.len() as u64,
                Direction::ToClient => s.bytes_to_client += bytes.len() as u64,
            }
            // A peer that never reads must not hold Ctrl-C (issue 24).
            let mut cancel = l.spec.cancel.clone();
            tokio::select! {
                r = to.write_all(&bytes) => match r {
                    Ok(()) => Flow::Data,
                    Err(_) => Flow::End(format!("{dest} side: write failed")),
                },
                _ = cancelled(&mut cancel) => Flow::End(format!(
                    "proxy stopped (Ctrl-C) while the {dest} was not reading"
                )),
            }
        }
        Err(e) => Flow::End(pass_on_error(from, &e, to)),
    }
}

/// A read failed on `side`: say how, and pass a reset on to the other side
/// (an RST the proxy swallowed would turn into a FIN, which is not what the
/// peer did).
fn pass_on_error(side: &str, e: &std::io::Error, other: &TcpStream) -> String {
    if e.raw_os_error() == Some(libc::ECONNRESET) {
        let _ = set_linger_zero(other);
        format!("{side} reset the connection (RST); passed on")
    } else {
        format!("{side} side: {}", crate::vocab::units::describe_io_error(e))
    }
}

/// SO_LINGER 0: the next close sends RST instead of FIN.
fn set_linger_zero(stream: &TcpStream) -> nix::Result<()> {
    use nix::sys::socket::{setsockopt, sockopt::Linger};
    setsockopt(
        stream,
        Linger,
        &libc::linger {
            l_onoff: 1,
            l_linger: 0,
        },
    )
}

/// The bytes to forward in `dir`, with heartbeats dropped and frames
/// logged as asked.
fn forwardable(
    framer: &mut Framer,
    bytes: &[u8],
    dir: Direction,
    l: &Looking<'_>,
    s: &mut ConnSummary,
) -> Vec<u8> {
    let drop_hb = match dir {
        Direction::ToServer => l.spec.drop_to_server,
        Direction::ToClient => l.spec.drop_to_client,
    };
    let (out, raw) = framer.feed(bytes, |frame| {
        let dropped = drop_hb && matches!(frame, AMQPFrame::Heartbeat);
        if dropped {
            match dir {
                Direction::ToServer => s.heartbeats_dropped_to_server += 1,
                Direction::ToClient => s.heartbeats_dropped_to_client += 1,
            }
        }
        if l.spec.log_frames {
            l.events.send(ProxyEvent::Frame {
                id: l.id,
                at_ms: l.at_ms,
                dir,
                frame: frame_label(frame),
                dropped,
            });
        }
        dropped
    });
    if let Some(why) = raw {
        l.events.send(ProxyEvent::Raw {
            id: l.id,
            at_ms: l.at_ms,
            dir,
            why,
        });
    }
    out
}

/// `ch1 Basic.Publish`, `heartbeat`, `protocol header AMQP 0-9-1`.
fn frame_label(frame: &AMQPFrame) -> String {
    let ch = match frame {
        AMQPFrame::Method(ch, _) | AMQPFrame::Header(ch, _) | AMQPFrame::Body(ch, _) => Some(*ch),
        _ => None,
    };
    match ch {
        Some(ch) => format!("ch{ch} {}", codec::describe(frame)),
        None => codec::describe(frame),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framer_drops_heartbeats_and_keeps_partial_frames() {
        let hb = [8u8, 0, 0, 0, 0, 0, 0, 0xce];
        let header = b"AMQP\x00\x00\x09\x01";
        let mut f = Framer {
            buf: Vec::new(),
            raw: false,
        };
        let mut seen = Vec::new();
        let mut input = header.to_vec();
        input.extend_from_slice(&hb);
        input.extend_from_slice(&hb[..3]);
        let (out, raw) = f.feed(&input, |fr| {
            seen.push(codec::describe(fr));
            matches!(fr, AMQPFrame::Heartbeat)
        });
        assert_eq!((out.as_slice(), raw), (&header[..], None));
        assert_eq!(seen, ["protocol header AMQP 0-9-1", "heartbeat"]);
        // The rest of the second heartbeat arrives: dropped too.
        let (out, _) = f.feed(&hb[3..], |fr| matches!(fr, AMQPFrame::Heartbeat));
        assert!(out.is_empty());
        // Not AMQP: forwarded raw from then on.
        let (out, raw) = f.feed(b"GET / HTTP/1.1\r\n", |_| true);
        assert_eq!(out, b"GET / HTTP/1.1\r\n");
        assert!(raw.is_some());
        let (out, raw) = f.feed(&hb, |_| true);
        assert_eq!((out.as_slice(), raw), (&hb[..], None));
    }
}
