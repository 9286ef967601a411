//! lapin behind the driver: the serviced mode. A real async client whose
//! own I/O task sends heartbeats every T/2 and reads continuously.
//!
//! We open the socket ourselves through `Connection::connector` so we keep a
//! duplicate of its fd: the observer watches it, and TCP_INFO counts the
//! heartbeats. While idle lapin sends nothing but heartbeats and the broker
//! too, so bytes ÷ 8 over the idle counts them in each direction.
//!
//! lapin cannot show the server's Tune proposal (the probe's preflight
//! handshake supplies it) and cannot negotiate heartbeat 0 against a broker
//! that proposes one: its rule is "client 0 → the server's value, else the
//! lower". The report says so when the user asked for 0.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};
use lapin::PublisherConfirm;
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};

use super::driver::{self, Opened};
use super::{Policy, RunSpec};
use crate::observe::TcpInfo;
use crate::timeline::{EventKind, Settled, Timeline};
use crate::vocab::units::{duration_ms, errno_label};
use crate::vocab::{
    Awaiting, CloseInfo, Destination, FailureKind, Heartbeat, Negotiation, Op, PeerAnswer,
    SetupError, Stage,
};
use crate::wire::OpenFailure;

pub(super) struct LapinConnection {
    conn: Connection,
    channel: Option<Channel>,
    confirms: Vec<(u32, PublisherConfirm)>,
    tl: Timeline,
    step: std::time::Duration,
    next_seq: u32,
    /// Over TLS, heartbeats are counted in TLS records, not 8-byte frames.
    tls: bool,
    /// The server announced `publisher_confirms` (seen in the preflight).
    server_confirms: bool,
    /// Connection.Blocked / Unblocked and the broker's Close frames as
    /// lapin's events listener saw them, with when: put on the timeline by
    /// [`LapinConnection::take_events`].
    events: Arc<Mutex<Vec<(Instant, EventKind)>>>,
}

/// What the report should know about how lapin opened the connection.
fn open_notes(server_confirms: bool, requested: Option<u16>, negotiated: Heartbeat) -> Vec<String> {
    let mut notes = Vec::new();
    if !server_confirms {
        notes.push(super::NO_CONFIRMS_NOTE.to_string());
    }
    if requested == Some(0) && !negotiated.is_off() {
        notes.push(format!(
            "You asked for heartbeat 0, but lapin cannot disable heartbeats against a broker that \
             proposes one: it treats 0 as \"accept the server's value\" and negotiated {negotiated}."
        ));
    }
    notes
}

/// Record lapin's Connection.Blocked and Unblocked events (with their
/// reason) and the broker's Connection.Close / Channel.Close (a protocol
/// error, hard or soft) as they come: lapin handles those frames itself, so
/// without this a blocked connection would look like lost publishes and an
/// operator's close during the idle like the reset that follows it. The
/// task ends when the connection is dropped (the stream ends).
fn listen_events(conn: &Connection) -> Arc<Mutex<Vec<(Instant, EventKind)>>> {
    use futures_core::Stream;
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let mut events = Box::pin(conn.events_listener());
    tokio::spawn(async move {
        while let Some(ev) = std::future::poll_fn(|cx| events.as_mut().poll_next(cx)).await {
            let kind = match ev {
                lapin::Event::ConnectionBlocked(reason) => EventKind::Blocked { reason },
                lapin::Event::ConnectionUnblocked => EventKind::Unblocked,
                lapin::Event::Error(e) => match e.kind() {
                    lapin::ErrorKind::ProtocolError(amqp) => {
                        let (reply_code, reply_text) =
                            (amqp.get_id(), amqp.get_message().to_string());
                        match amqp.kind() {
                            amq_protocol::protocol::AMQPErrorKind::Hard(_) => {
                                EventKind::ServerClose {
                                    reply_code,
                                    reply_text,
                                    class_id: 0,
                                    method_id: 0,
                                }
                            }
                            amq_protocol::protocol::AMQPErrorKind::Soft(_) => {
                                EventKind::ChannelClose {
                                    reply_code,
                                    reply_text,
                                }
                            }
                        }
                    }
                    _ => continue,
                },
                _ => continue,
            };
            if let Ok(mut l) = sink.lock() {
                l.push((Instant::now(), kind));
            }
        }
    });
    log
}

/// How long a failed connection waits for lapin's events listener.
const EVENTS_CATCH_UP: std::time::Duration = std::time::Duration::from_millis(50);

/// What the connect callback learned about the socket it opened.
struct Socket {
    fd: OwnedFd,
    local: String,
    peer: String,
    at: Instant,
}

/// Connect through lapin, on a socket we open ourselves.
pub(super) async fn open(
    spec: &RunSpec,
    policy: &Policy,
) -> Result<Opened<LapinConnection>, Box<OpenFailure>> {
    let mut tl = Timeline::new(spec.trace);
    let slot: Arc<Mutex<Option<Socket>>> = Arc::new(Mutex::new(None));
    let requested = policy.tune_ok.requested_s();
    let step = spec.step_timeout;
    let uri = AMQPUri {
        scheme: AMQPScheme::AMQP,
        authority: AMQPAuthority {
            userinfo: AMQPUserInfo {
                username: spec.target.user().to_string(),
                password: spec.target.password().to_string(),
            },
            host: spec.target.host().to_string(),
            port: spec.target.port(),
        },
        vhost: spec.target.vhost().to_string(),
        query: AMQPQueryString {
            heartbeat: requested,
            connection_timeout: Some(duration_ms(step)),
            frame_max: spec.target.options().frame_max.filter(|&f| f != 0),
            channel_max: spec.target.options().channel_max.filter(|&c| c != 0),
            auth_mechanism: spec
                .target
                .options()
                .auth_mechanisms
                .iter()
                .find(|m| **m != crate::target::AuthMechanism::External || spec.target.is_tls())
                .map(|m| match m {
                    crate::target::AuthMechanism::Amqplain => lapin::uri::SASLMechanism::AMQPlain,
                    crate::target::AuthMechanism::External => lapin::uri::SASLMechanism::External,
                    crate::target::AuthMechanism::Plain => lapin::uri::SASLMechanism::Plain,
                }),
        },
    };
    let props =
        ConnectionProperties::default().with_connection_name(spec.mode.connection_name().into());
    let runtime = async_rs::Runtime::tokio_current();
    let cb_slot = slot.clone();
    let host = spec.target.host().to_string();
    let port = spec.target.port();
    // amqps://: the same rustls configuration as the wire client's
    // (validated by the command before anything connected).
    let tls = match spec.target.tls() {
        Some(s) => match crate::wire::tls::configure(s) {
            Ok((c, accepted)) => Some((
                lapin::tcp::RustlsConnector::from(c),
                spec.target.tls_server_name().to_string(),
                accepted,
            )),
            Err(e) => {
                return Err(Box::new(OpenFailure {
                    timeline: tl,
                    error: SetupError {
                        stage: Stage::Tls,
                        kind: FailureKind::Tls(crate::vocab::TlsFailure::Other),
                        message: e.to_string(),
                    },
                }))
            }
        },
        None => None,
    };
    let lenient = tls.as_ref().map(|(_, _, l)| l.clone());
    let connect = async move |_uri: AMQPUri, _rt: async_rs::TokioRuntime| {
        let stream =
            tokio::time::timeout(step, tokio::net::TcpStream::connect((host.as_str(), port)))
                .await
                .map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "TCP connect timed out")
                })??;
        let _ = stream.set_nodelay(true);
        let socket = Socket {
            fd: stream.as_fd().try_clone_to_owned()?,
            local: stream
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            peer: stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            at: Instant::now(),
        };
        if let Ok(mut s) = cb_slot.lock() {
            *s = Some(socket);
        }
        let plain = lapin::AsyncTcpStream::Plain(async_compat::Compat::new(stream));
        match &tls {
            Some((connector, name, _)) => Ok(tokio::time::timeout(
                step,
                plain.into_rustls(connector, name),
            )
            .await
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake timed out")
            })??),
            None => Ok(plain),
        }
    };

    // The whole handshake: TCP connect plus six frames, each bounded by the
    // step timeout inside lapin; the outer bound keeps a mute server from
    // holding us forever.
    let connected = tokio::time::timeout(
        step * 4,
        Connection::connector(uri, runtime, connect, props),
    )
    .await;
    let socket = slot.lock().ok().and_then(|mut s| s.take());
    if let Some(s) = &socket {
        let at = tl.ms_at(s.at);
        tl.push_at(
            at,
            EventKind::TcpConnected {
                local: s.local.clone(),
                peer: s.peer.clone(),
            },
        );
        if let (Some(settings), Ok(Ok(_))) = (spec.target.tls(), &connected) {
            let accepted = lenient
                .as_ref()
                .and_then(|l| l.lock().ok().and_then(|l| l.accepted.clone()));
            tl.push_at(at, tls_note(settings, accepted.as_ref(), &spec.target));
            if let Some(l) = accepted {
                tl.push_at(at, EventKind::Note { text: l.note() });
                tl.tls_accepted = Some(l);
            }
        }
    }
    let stage = if socket.is_some() {
        Stage::Handshake
    } else {
        Stage::Connect
    };
    let conn = match connected {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            return Err(Box::new(OpenFailure {
                timeline: tl,
                error: setup_error(stage, &e),
            }))
        }
        Err(_) => {
            return Err(Box::new(OpenFailure {
                timeline: tl,
                error: SetupError {
                    stage,
                    kind: FailureKind::Timeout,
                    message: format!(
                        "lapin did not finish the handshake within {}",
                        crate::vocab::units::secs(duration_ms(step * 4))
                    ),
                },
            }))
        }
    };
    let cfg = conn.configuration();
    let negotiated = Heartbeat::from_secs(cfg.heartbeat());
    tl.push(EventKind::ConnectionOpen {
        heartbeat_s: negotiated.secs(),
    });
    let notes = open_notes(spec.server_confirms, requested, negotiated);
    Ok(Opened {
        negotiation: Negotiation {
            server_heartbeat_s: None,
            requested_heartbeat_s: requested,
            negotiated_heartbeat_s: negotiated,
            frame_max: cfg.frame_max(),
            channel_max: cfg.channel_max(),
        },
        conn: LapinConnection {
            events: listen_events(&conn),
            conn,
            channel: None,
            confirms: Vec::new(),
            tl,
            step,
            next_seq: 1,
            tls: spec.target.is_tls(),
            server_confirms: spec.server_confirms,
        },
        fd: socket.map(|s| s.fd),
        server: None,
        notes,
    })
}

impl driver::Connection for LapinConnection {
    fn timeline(&mut self) -> &mut Timeline {
        &mut self.tl
    }

    fn into_timeline(mut self) -> Timeline {
        self.take_events();
        self.tl
    }

    async fn prepare(&mut self, dest: &Destination) -> Result<Option<String>, SetupError> {
        let setup = async {
            let ch = self.conn.create_channel().await?;
            if self.server_confirms {
                ch.confirm_select(ConfirmSelectOptions::default()).await?;
            }
            let queue = match dest {
                Destination::OwnQueue => {
                    let opts = QueueDeclareOptions {
                        exclusive: true,
                        auto_delete: true,
                        ..Default::default()
                    };
                    Some(
                        ch.queue_declare(
                            super::probe_queue_name().as_str().into(),
                            opts,
                            FieldTable::default(),
                        )
                        .await?
                        .name()
                        .to_string(),
                    )
                }
                Destination::Exchange { .. } => None,
            };
            Ok::<_, lapin::Error>((ch, queue))
        };
        match tokio::time::timeout(self.step, setup).await {
            Ok(Ok((ch, queue))) => {
                for what in ["Channel.Open", "Confirm.Select", "Queue.Declare"] {
                    self.tl.push(EventKind::Note {
                        text: format!("lapin: {what} done"),
                    });
                }
                self.channel = Some(ch);
                Ok(queue)
            }
            Ok(Err(e)) => Err(setup_error(Stage::Channel, &e)),
            Err(_) => Err(SetupError {
                stage: Stage::Channel,
                kind: FailureKind::Timeout,
                message: format!(
                    "channel setup did not finish within {}",
                    crate::vocab::units::secs(duration_ms(self.step))
                ),
            }),
        }
    }

    /// lapin pumps its own connection.
    async fn pump(&mut self) -> bool {
        self.conn.status().connected()
    }

    fn record_idle_traffic(&mut self, before: &TcpInfo, after: &TcpInfo, _pumped: bool) {
        // Only heartbeats cross an idle lapin connection: 8 bytes each, or
        // one TLS record each.
        let tls = self.tls;
        let beats = |a: u64, b: u64| crate::wire::tls::heartbeat_count(a.saturating_sub(b), tls);
        let tl = &mut self.tl;
        tl.heartbeats.sent = beats(after.bytes_acked, before.bytes_acked).unwrap_or(0);
        tl.heartbeats.received = beats(after.bytes_received, before.bytes_received);
        if after.bytes_acked > before.bytes_acked {
            // lapin's last write during the idle was a heartbeat.
            let now = tl.now_ms();
            tl.client_writes_ms
                .push(now.saturating_sub(u64::from(after.last_data_sent_ms)));
        }
    }

    async fn publish(
        &mut self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
    ) -> Result<(), (Option<i32>, String)> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let Some(channel) = &self.channel else {
            return Err((None, "no channel".into()));
        };
        let res = tokio::time::timeout(
            self.step,
            channel.basic_publish(
                exchange.into(),
                routing_key.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                body,
                BasicProperties::default().with_app_id("amqpdoctor".into()),
            ),
        )
        .await;
        match res {
            Ok(Ok(confirm)) => {
                self.tl.client_wrote();
                self.confirms.push((seq, confirm));
                Ok(())
            }
            Ok(Err(e)) => {
                self.catch_up_events().await;
                Err(lapin_errno(&e))
            }
            Err(_) => Err((None, "timeout".into())),
        }
    }

    async fn settle(
        &mut self,
        _seqs: &[u32],
        deadline: tokio::time::Instant,
    ) -> BTreeMap<u32, Settled> {
        let mut settled = BTreeMap::new();
        for (seq, confirm) in std::mem::take(&mut self.confirms) {
            match tokio::time::timeout_at(deadline, confirm).await {
                Ok(Ok(Confirmation::Ack(ret))) => {
                    self.tl.push(EventKind::Confirmed { seq });
                    let s = if ret.is_some() {
                        Settled::Returned
                    } else {
                        Settled::Ack
                    };
                    settled.insert(seq, s);
                }
                Ok(Ok(Confirmation::Nack(_))) => {
                    self.tl.push(EventKind::Nacked { seq });
                    settled.insert(seq, Settled::Nack);
                }
                Ok(Ok(Confirmation::NotRequested)) => {}
                Ok(Err(e)) => self.record_error("waiting for a confirm", &e),
                Err(_) => {
                    let after_ms = self.tl.ms_at(deadline.into_std());
                    self.tl.push(EventKind::Timeout {
                        waiting_for: Awaiting::Confirms,
                        after_ms,
                    });
                    break;
                }
            }
        }
        self.take_events();
        settled
    }

    fn confirms(&self) -> bool {
        self.server_confirms
    }

    /// `--consume`: lapin's consumer with manual acks; lapin buffers the
    /// deliveries and nobody acks them. Ends early when the broker closes
    /// the channel (its Channel.Close comes through the events listener).
    async fn consume_unacked(&mut self, queue: &str, hold: std::time::Duration) {
        let Some(ch) = self.channel.clone() else {
            return;
        };
        let consumer = ch
            .basic_consume(
                queue.into(),
                crate::wire::consume::CONSUMER_TAG.into(),
                lapin::options::BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await;
        let _consumer = match consumer {
            Ok(c) => c,
            Err(e) => return self.record_error("Basic.Consume", &e),
        };
        self.tl.push(EventKind::Note {
            text: format!(
                "consuming {queue} without acknowledging for {} (--consume --hold)",
                crate::vocab::units::secs(duration_ms(hold))
            ),
        });
        let until = tokio::time::Instant::now() + hold;
        while tokio::time::Instant::now() < until && ch.status().connected() {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.catch_up_events().await;
    }

    fn is_open(&self) -> bool {
        self.conn.status().connected()
    }

    async fn close(&mut self) {
        self.tl.push(EventKind::ClientClose { reply_code: 200 });
        let closing = self.conn.close(200, "amqpdoctor: probe finished".into());
        match tokio::time::timeout(self.step, closing).await {
            Ok(Ok(())) => {
                self.tl.push(EventKind::CloseOk);
            }
            Ok(Err(e)) => self.record_error("closing", &e),
            Err(_) => {
                self.tl.push(EventKind::Timeout {
                    waiting_for: Awaiting::ConnectionCloseOk,
                    after_ms: duration_ms(self.step),
                });
            }
        }
    }
}

impl LapinConnection {
    /// The connection failed: give the listener task a moment to record
    /// the Close that may have come with it (RabbitMQ shutting down sends
    /// Connection.Close and resets at once), then take what it recorded.
    async fn catch_up_events(&mut self) {
        tokio::time::sleep(EVENTS_CATCH_UP).await;
        self.take_events();
    }

    /// Put the events lapin's listener recorded on the timeline, at their time.
    fn take_events(&mut self) {
        let events = self
            .events
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default();
        for (at, kind) in events {
            let at_ms = self.tl.ms_at(at);
            self.tl.push_at(at_ms, kind);
        }
    }

    fn record_error(&mut self, op: &'static str, e: &lapin::Error) {
        if let Some(c) = close_info(e) {
            // lapin reports both levels as a protocol error: a connection
            // that is still open lost only its channel.
            self.tl.push(if self.conn.status().connected() {
                EventKind::ChannelClose {
                    reply_code: c.reply_code,
                    reply_text: c.reply_text,
                }
            } else {
                EventKind::ServerClose {
                    reply_code: c.reply_code,
                    reply_text: c.reply_text,
                    class_id: c.class_id,
                    method_id: c.method_id,
                }
            });
            return;
        }
        let (errno, errno_name) = lapin_errno(e);
        if errno.is_some() {
            self.tl.push(EventKind::IoError {
                op: Op::Library(op),
                errno,
                errno_name,
            });
        } else {
            self.tl.push(EventKind::Note {
                text: format!("lapin: {op}: {e}"),
            });
        }
    }
}

/// errno (if any) and a label for a lapin error.
fn lapin_errno(e: &lapin::Error) -> (Option<i32>, String) {
    match e.kind() {
        lapin::ErrorKind::IOError(io) => (io.raw_os_error(), errno_label(io)),
        other => (None, format!("{other:?}")),
    }
}

fn close_info(e: &lapin::Error) -> Option<CloseInfo> {
    match e.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => Some(CloseInfo {
            reply_code: amqp.get_id(),
            reply_text: amqp.get_message().to_string(),
            class_id: 0,
            method_id: 0,
        }),
        _ => None,
    }
}

/// A lapin error as typed facts; the classifier's one rule decides the
/// verdict, as it does for the wire client.
fn setup_error(stage: Stage, e: &lapin::Error) -> SetupError {
    let kind = match (close_info(e), e.kind()) {
        (Some(c), _) if stage == Stage::Channel => FailureKind::ChannelClose(c),
        (Some(c), _) => FailureKind::ConnectionClose(c),
        (None, lapin::ErrorKind::InvalidProtocolVersion(v)) => {
            FailureKind::ProtocolMismatch(PeerAnswer::of_header(v.major, v.minor, v.revision))
        }
        (None, lapin::ErrorKind::ParsingError(_)) => {
            FailureKind::ProtocolMismatch(PeerAnswer::Unrecognised)
        }
        (None, lapin::ErrorKind::IOError(io)) if crate::wire::tls::failure(io, true).is_some() => {
            FailureKind::Tls(
                crate::wire::tls::failure(io, true).unwrap_or(crate::vocab::TlsFailure::Other),
            )
        }
        (None, lapin::ErrorKind::IOError(io)) if io.kind() == std::io::ErrorKind::TimedOut => {
            FailureKind::Timeout
        }
        (None, lapin::ErrorKind::IOError(io)) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            FailureKind::Eof {
                awaiting: Awaiting::Handshake,
            }
        }
        (None, lapin::ErrorKind::IOError(io)) => FailureKind::Io {
            errno: io.raw_os_error(),
        },
        (None, _) => FailureKind::Io { errno: None },
    };
    SetupError {
        stage,
        kind,
        message: match e.kind() {
            lapin::ErrorKind::IOError(io) if crate::wire::tls::failure(io, true).is_some() => {
                format!("lapin: TLS: {}", crate::wire::tls::words(io))
            }
            _ => format!("lapin: {e}"),
        },
    }
}

/// The timeline's note on a TLS connection lapin established.
fn tls_note(
    settings: &crate::target::TlsSettings,
    accepted: Option<&crate::vocab::tls::TlsLeniency>,
    target: &crate::target::Target,
) -> EventKind {
    EventKind::Note {
        text: format!(
            "TLS established by lapin (rustls; server certificate {})",
            match (settings.insecure, accepted) {
                (true, _) => "NOT verified: --insecure".to_string(),
                (false, Some(l)) => format!(
                    "NOT verified by rustls; accepted as {} clients would",
                    l.accepted_as
                ),
                (false, None) => format!("verified for {}", target.tls_server_name()),
            }
        ),
    }
}
