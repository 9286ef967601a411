//! The socket side of the wire client: a connection over any
//! `AsyncRead + AsyncWrite` stream, recording every frame in a timeline.
//!
//! Every read and write has a deadline. Frames that can arrive at any time
//! are handled here, once: heartbeats are counted, Connection.Blocked and
//! Unblocked recorded, and a Connection.Close or Channel.Close from the
//! server is answered (Close-Ok) and surfaced as [`WireError::ServerClose`] /
//! [`WireError::ChannelClose`], so callers only see the frames they asked for.

use std::collections::BTreeMap;
use std::io;
use std::time::{Duration, Instant};

use amq_protocol::frame::{AMQPContentHeader, AMQPFrame, ProtocolVersion};
use amq_protocol::protocol::{basic, channel, confirm, connection, queue, AMQPClass};
use amq_protocol::types::ShortString;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::codec::{self, Decoded, ServerInfo};
use crate::target::AuthMechanism;
use crate::timeline::{EventKind, Timeline};
use crate::vocab::units::{duration_ms, errno_label, secs};
use crate::vocab::{
    Awaiting, CloseInfo, FailureKind, Heartbeat, HeartbeatRequest, Op, SetupError, Stage,
};

/// How long a failed first write waits for a TLS alert that explains it.
const ALERT_GLANCE: Duration = Duration::from_millis(200);

/// Why a wire operation did not complete.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("no answer while waiting for {waiting_for} (gave up {} after connecting)", secs(duration_ms(*.after)))]
    Timeout {
        waiting_for: Awaiting,
        after: Duration,
    },
    #[error("the server closed the TCP connection while we waited for {waiting_for}")]
    Eof { waiting_for: Awaiting },
    #[error("{op}: {err}")]
    Io { op: Op, err: io::Error },
    #[error("the server does not speak AMQP 0-9-1: {0}")]
    ProtocolMismatch(String),
    #[error("protocol violation: {0}")]
    Invalid(String),
    #[error(
        "the server offers no mechanism amqpdoctor can log in with: it offers {}, and amqpdoctor \
         authenticates with PLAIN or AMQPLAIN (user and password; the URL's auth_mechanism= \
         chooses)",
        if .0.is_empty() { "none".to_string() } else { .0.join(", ") }
    )]
    NoMechanism(Vec<String>),
    #[error("the server closed the connection: {} {}", .0.reply_code, .0.reply_text)]
    ServerClose(CloseInfo),
    #[error("the server closed the channel: {} {}", .0.reply_code, .0.reply_text)]
    ChannelClose(CloseInfo),
    #[error("{message}")]
    Tls {
        failure: crate::vocab::TlsFailure,
        message: String,
    },
}

impl WireError {
    /// The errno behind an I/O failure, if any.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            WireError::Io { err, .. } => err.raw_os_error(),
            _ => None,
        }
    }

    /// The typed facts of this failure, for the classifier.
    pub fn failure_kind(&self) -> FailureKind {
        match self {
            WireError::Timeout { .. } => FailureKind::Timeout,
            WireError::Eof { waiting_for } => FailureKind::Eof {
                awaiting: waiting_for.clone(),
            },
            // A TLS alert (or a rustls refusal) behind an I/O error: the
            // broker refused a client certificate after a TLS 1.3
            // handshake, say.
            WireError::Io { err, .. } if super::tls::failure(err, true).is_some() => {
                FailureKind::Tls(
                    super::tls::failure(err, true).unwrap_or(crate::vocab::TlsFailure::Other),
                )
            }
            WireError::Tls { failure, .. } => FailureKind::Tls(*failure),
            WireError::Io { err, op } if err.kind() == io::ErrorKind::UnexpectedEof => {
                FailureKind::Eof {
                    awaiting: match op {
                        Op::Read(a) => a.clone(),
                        _ => Awaiting::PendingFrames,
                    },
                }
            }
            WireError::Io { err, .. } => FailureKind::Io {
                errno: err.raw_os_error(),
            },
            WireError::ProtocolMismatch(_) => FailureKind::ProtocolMismatch,
            WireError::Invalid(_) => FailureKind::Invalid,
            WireError::NoMechanism(offered) => FailureKind::NoMechanism {
                offered: offered.clone(),
            },
            WireError::ServerClose(c) => FailureKind::ConnectionClose(c.clone()),
            WireError::ChannelClose(c) => FailureKind::ChannelClose(c.clone()),
        }
    }

    /// This failure as the setup of a run at `stage` saw it.
    pub fn setup_error(&self, stage: Stage) -> SetupError {
        SetupError {
            stage,
            kind: self.failure_kind(),
            message: self.to_string(),
        }
    }
}

/// What we ask for in the handshake.
#[derive(Debug, Clone)]
pub struct HandshakeParams {
    pub user: String,
    pub password: String,
    pub vhost: String,
    pub heartbeat: HeartbeatRequest,
    /// Shown by the broker as the connection's name.
    pub connection_name: String,
    /// SASL mechanisms to log in with, in order of preference (the URL's
    /// `auth_mechanism=`; empty: PLAIN).
    pub mechanisms: Vec<crate::target::AuthMechanism>,
    /// The URL's `channel_max=` / `frame_max=`: never answer Tune with more
    /// (0 or None: no limit of ours).
    pub channel_max: Option<u16>,
    pub frame_max: Option<u32>,
}

impl HandshakeParams {
    /// Log in to `target` asking for `heartbeat`, under `connection_name`
    /// (the name the broker shows for the connection).
    pub fn for_target(
        target: &crate::target::Target,
        heartbeat: HeartbeatRequest,
        connection_name: impl Into<String>,
    ) -> Self {
        HandshakeParams {
            user: target.user().to_string(),
            password: target.password().to_string(),
            vhost: target.vhost().to_string(),
            heartbeat,
            connection_name: connection_name.into(),
            // EXTERNAL logs in with the TLS client certificate: only over TLS.
            mechanisms: target
                .options()
                .auth_mechanisms
                .iter()
                .copied()
                .filter(|m| *m != AuthMechanism::External || target.is_tls())
                .collect(),
            channel_max: target.options().channel_max,
            frame_max: target.options().frame_max,
        }
    }
}

/// What the handshake learned.
#[derive(Debug, Clone, PartialEq)]
pub struct Handshake {
    pub server: ServerInfo,
    /// Connection.Tune as the server proposed it.
    pub server_channel_max: u16,
    pub server_frame_max: u32,
    pub server_heartbeat: Heartbeat,
    /// Connection.Tune-Ok as we answered.
    pub channel_max: u16,
    pub frame_max: u32,
    pub heartbeat: Heartbeat,
}

/// A publisher confirm, or a return, for one published message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    Ack,
    Nack,
}

/// An AMQP 0-9-1 connection on a stream.
pub struct WireConn<S> {
    stream: S,
    rbuf: Vec<u8>,
    /// The record of this connection. Public so the caller can add its own
    /// events (idle, observer) and take it at the end.
    pub tl: Timeline,
    frame_max: u32,
    step_timeout: Duration,
    /// Heartbeats already counted from TCP_INFO while nobody read them; the
    /// first this many heartbeat frames we read are not counted again.
    precounted_heartbeats: u32,
    /// Set once the connection is unusable (server Close, EOF, I/O error).
    dead: bool,
}

impl<S> WireConn<S> {
    pub(crate) fn stream_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WireConn<S> {
    pub fn new(stream: S, tl: Timeline, step_timeout: Duration) -> Self {
        WireConn {
            stream,
            rbuf: Vec::with_capacity(8192),
            tl,
            frame_max: codec::PRE_TUNE_FRAME_MAX,
            step_timeout,
            precounted_heartbeats: 0,
            dead: false,
        }
    }

    pub fn is_dead(&self) -> bool {
        self.dead
    }

    pub fn step_timeout(&self) -> Duration {
        self.step_timeout
    }

    /// Record heartbeats counted without reading them (see the field).
    pub fn precount_heartbeats(&mut self, n: u32, at_ms: u64) {
        self.precounted_heartbeats += n;
        self.tl.heartbeats.received = Some(self.tl.heartbeats.received.unwrap_or(0) + n);
        if n > 0 {
            self.tl.push_at(
                at_ms,
                EventKind::Note {
                    text: format!(
                        "{n} heartbeat frame(s) from the server arrived during the idle \
                         (counted from TCP_INFO, not read by the application)"
                    ),
                },
            );
        }
    }

    /// Write frames as one buffer, within the step timeout.
    pub async fn send(&mut self, frames: &[AMQPFrame]) -> Result<(), WireError> {
        let bytes = codec::encode_all(frames).map_err(WireError::Invalid)?;
        let what = frames
            .first()
            .map(codec::describe)
            .unwrap_or_else(|| "nothing".into());
        let op = match frames.first() {
            Some(AMQPFrame::Method(_, AMQPClass::Basic(basic::AMQPMethod::Publish(_)))) => {
                Op::Publish
            }
            _ => Op::Write(what.clone()),
        };
        let res = tokio::time::timeout(self.step_timeout, async {
            self.stream.write_all(&bytes).await?;
            self.stream.flush().await
        })
        .await;
        match res {
            Ok(Ok(())) => {
                self.tl.client_wrote();
                for f in frames {
                    match f {
                        AMQPFrame::Heartbeat => self.tl.heartbeat_sent(),
                        // close() records its own client_close event.
                        AMQPFrame::Method(
                            _,
                            AMQPClass::Connection(connection::AMQPMethod::Close(_)),
                        ) => {}
                        // The publisher records publish_written with its number.
                        AMQPFrame::Header(..)
                        | AMQPFrame::Body(..)
                        | AMQPFrame::Method(_, AMQPClass::Basic(basic::AMQPMethod::Publish(_)))
                            if !self.tl.trace => {}
                        f => {
                            self.tl.push(EventKind::Sent {
                                frame: codec::describe(f),
                            });
                        }
                    }
                }
                Ok(())
            }
            Ok(Err(err)) => {
                self.dead = true;
                self.tl.push(io_event(op.clone(), &err));
                Err(WireError::Io { op, err })
            }
            Err(_) => {
                let after = self.step_timeout;
                let waiting_for = Awaiting::WriteAccepted(what);
                self.tl.push(EventKind::Timeout {
                    waiting_for: waiting_for.clone(),
                    after_ms: duration_ms(after),
                });
                Err(WireError::Timeout { waiting_for, after })
            }
        }
    }

    async fn send_method(&mut self, channel: u16, method: AMQPClass) -> Result<(), WireError> {
        self.send(&[AMQPFrame::Method(channel, method)]).await
    }

    /// Read the next frame the caller cares about, before `deadline`.
    ///
    /// Heartbeats, Blocked/Unblocked and Close frames are handled here (see
    /// the module docs) and never returned.
    pub async fn read_frame(
        &mut self,
        waiting_for: &Awaiting,
        deadline: Instant,
    ) -> Result<AMQPFrame, WireError> {
        loop {
            match codec::decode(&self.rbuf, self.frame_max) {
                Decoded::Frame(frame, used) => {
                    self.rbuf.drain(..used);
                    if let Some(frame) = self.on_frame(frame).await? {
                        return Ok(frame);
                    }
                    continue;
                }
                Decoded::Invalid(why) => {
                    self.dead = true;
                    self.tl.push(EventKind::Note {
                        text: format!("invalid data from the server: {why}"),
                    });
                    return Err(WireError::Invalid(why));
                }
                Decoded::NeedMore => {}
            }
            // A read that is always ready (a peer flooding heartbeats) would
            // never let `timeout_at` fire: check the deadline ourselves.
            let read = if Instant::now() >= deadline {
                Err(())
            } else {
                tokio::time::timeout_at(deadline.into(), self.stream.read_buf(&mut self.rbuf))
                    .await
                    .map_err(|_| ())
            };
            match read {
                Err(()) => {
                    let after = deadline.saturating_duration_since(self.tl.start());
                    self.tl.push(EventKind::Timeout {
                        waiting_for: waiting_for.clone(),
                        after_ms: duration_ms(after),
                    });
                    return Err(WireError::Timeout {
                        waiting_for: waiting_for.clone(),
                        after,
                    });
                }
                Ok(Ok(0)) => {
                    self.dead = true;
                    self.tl.push(EventKind::Eof);
                    return Err(WireError::Eof {
                        waiting_for: waiting_for.clone(),
                    });
                }
                Ok(Ok(_)) => self.tl.server_spoke(),
                Ok(Err(err)) => {
                    self.dead = true;
                    let op = Op::Read(waiting_for.clone());
                    self.tl.push(io_event(op.clone(), &err));
                    return Err(WireError::Io { op, err });
                }
            }
        }
    }

    /// Handle the frames that can come at any time. Returns the frame if the
    /// caller should see it.
    async fn on_frame(&mut self, frame: AMQPFrame) -> Result<Option<AMQPFrame>, WireError> {
        match &frame {
            AMQPFrame::Heartbeat => {
                if self.precounted_heartbeats > 0 {
                    self.precounted_heartbeats -= 1;
                } else {
                    self.tl.heartbeat_received();
                }
                Ok(None)
            }
            AMQPFrame::ProtocolHeader(v) => {
                self.dead = true;
                let msg = format!(
                    "it answered with protocol header AMQP {}-{}-{}",
                    v.major, v.minor, v.revision
                );
                self.tl.push(EventKind::Received {
                    frame: codec::describe(&frame),
                });
                Err(WireError::ProtocolMismatch(msg))
            }
            AMQPFrame::Method(ch, AMQPClass::Connection(m)) => match m {
                connection::AMQPMethod::Close(c) => {
                    let info = CloseInfo {
                        reply_code: c.reply_code,
                        reply_text: c.reply_text.to_string(),
                        class_id: c.class_id,
                        method_id: c.method_id,
                    };
                    self.tl.push(EventKind::ServerClose {
                        reply_code: info.reply_code,
                        reply_text: info.reply_text.clone(),
                        class_id: info.class_id,
                        method_id: info.method_id,
                    });
                    // Answer politely so the broker logs a clean close; the
                    // connection is over whatever happens to this write.
                    let ok = AMQPClass::Connection(connection::AMQPMethod::CloseOk(
                        connection::CloseOk {},
                    ));
                    let _ = self.send_method(*ch, ok).await;
                    self.dead = true;
                    Err(WireError::ServerClose(info))
                }
                connection::AMQPMethod::Blocked(b) => {
                    self.tl.push(EventKind::Blocked {
                        reason: b.reason.to_string(),
                    });
                    Ok(None)
                }
                connection::AMQPMethod::Unblocked(_) => {
                    self.tl.push(EventKind::Unblocked);
                    Ok(None)
                }
                // close() records it as close_ok.
                connection::AMQPMethod::CloseOk(_) => Ok(Some(frame)),
                _ => {
                    self.tl.push(EventKind::Received {
                        frame: codec::describe(&frame),
                    });
                    Ok(Some(frame))
                }
            },
            AMQPFrame::Method(ch, AMQPClass::Channel(channel::AMQPMethod::Close(c))) => {
                let info = CloseInfo {
                    reply_code: c.reply_code,
                    reply_text: c.reply_text.to_string(),
                    class_id: c.class_id,
                    method_id: c.method_id,
                };
                self.tl.push(EventKind::ChannelClose {
                    reply_code: info.reply_code,
                    reply_text: info.reply_text.clone(),
                });
                let ok = AMQPClass::Channel(channel::AMQPMethod::CloseOk(channel::CloseOk {}));
                let _ = self.send_method(*ch, ok).await;
                Err(WireError::ChannelClose(info))
            }
            AMQPFrame::Method(_, AMQPClass::Basic(basic::AMQPMethod::Ack(_)))
            | AMQPFrame::Method(_, AMQPClass::Basic(basic::AMQPMethod::Nack(_))) => {
                // Recorded by the publisher with its sequence number.
                Ok(Some(frame))
            }
            AMQPFrame::Header(..) | AMQPFrame::Body(..) if !self.tl.trace => Ok(Some(frame)),
            _ => {
                self.tl.push(EventKind::Received {
                    frame: codec::describe(&frame),
                });
                Ok(Some(frame))
            }
        }
    }

    /// Read until a method matching `want` arrives on `channel`.
    async fn expect<T>(
        &mut self,
        channel: u16,
        what: Awaiting,
        want: impl Fn(&AMQPClass) -> Option<T>,
    ) -> Result<T, WireError> {
        let deadline = Instant::now() + self.step_timeout;
        loop {
            match self.read_frame(&what, deadline).await? {
                AMQPFrame::Method(ch, m) if ch == channel => {
                    if let Some(t) = want(&m) {
                        return Ok(t);
                    }
                    self.unexpected(&m, &what)?;
                }
                other => {
                    self.tl.push(EventKind::Note {
                        text: format!(
                            "ignored {} while waiting for {what}",
                            codec::describe(&other)
                        ),
                    });
                }
            }
        }
    }

    fn unexpected(&mut self, m: &AMQPClass, what: &Awaiting) -> Result<(), WireError> {
        match m {
            // Confirms and returns can interleave with any request.
            AMQPClass::Basic(_) => Ok(()),
            _ => Err(WireError::Invalid(format!(
                "expected {what}, got {}",
                codec::method_name(m)
            ))),
        }
    }

    /// The opening handshake: protocol header, Start/Start-Ok (PLAIN),
    /// Tune/Tune-Ok with the requested heartbeat, Open/Open-Ok.
    pub async fn handshake(&mut self, p: &HandshakeParams) -> Result<Handshake, WireError> {
        if let Err(e) = self
            .send(&[AMQPFrame::ProtocolHeader(ProtocolVersion::amqp_0_9_1())])
            .await
        {
            // Over TLS 1.3 a broker that refuses the client certificate
            // says so with an alert just after the handshake and resets:
            // the write can fail first, the alert is still there to read.
            if matches!(e, WireError::Io { .. }) {
                let glance = Instant::now() + ALERT_GLANCE;
                if let Err(read) = self.read_frame(&Awaiting::ConnectionStart, glance).await {
                    if matches!(read.failure_kind(), FailureKind::Tls(_)) {
                        return Err(read);
                    }
                }
            }
            return Err(e);
        }
        let start = self
            .expect(0, Awaiting::ConnectionStart, |m| match m {
                AMQPClass::Connection(connection::AMQPMethod::Start(s)) => Some(s.clone()),
                _ => None,
            })
            .await
            .map_err(|e| match e {
                // A TLS record where Connection.Start should be: plain AMQP
                // was spoken to a TLS port (RabbitMQ answers with an alert).
                WireError::Invalid(_) if super::tls::looks_like_tls(&self.rbuf) => WireError::Tls {
                    failure: crate::vocab::TlsFailure::PlainToTlsPort,
                    message: format!(
                        "the server answered the AMQP header with a TLS record ({}): it speaks \
                         TLS; use amqps:// (RabbitMQ's TLS port is 5671)",
                        self.rbuf
                            .iter()
                            .take(7)
                            .map(|b| format!("{b:02x}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                },
                WireError::Invalid(why) => WireError::ProtocolMismatch(why),
                e => e,
            })?;
        let server = ServerInfo::from_start(&start);
        let allowed = if p.mechanisms.is_empty() {
            vec![AuthMechanism::Plain]
        } else {
            p.mechanisms.clone()
        };
        let Some(mechanism) = allowed
            .iter()
            .copied()
            .find(|m| server.mechanisms.iter().any(|s| s == m.name()))
        else {
            self.dead = true;
            return Err(WireError::NoMechanism(server.mechanisms.clone()));
        };
        let start_ok = connection::StartOk {
            client_properties: codec::client_properties(&p.connection_name),
            mechanism: mechanism.name().into(),
            response: match mechanism {
                AuthMechanism::Amqplain => amq_protocol::auth::Credentials::new(
                    p.user.clone().into(),
                    p.password.clone().into(),
                )
                .sasl_auth_string(amq_protocol::auth::SASLMechanism::AMQPlain),
                // The identity is the TLS client certificate: an empty
                // response (RabbitMQ's rabbit_auth_mechanism_ssl).
                AuthMechanism::External => Default::default(),
                _ => codec::plain_response(&p.user, &p.password),
            },
            locale: "en_US".into(),
        };
        self.send_method(
            0,
            AMQPClass::Connection(connection::AMQPMethod::StartOk(start_ok)),
        )
        .await?;
        let tune = self
            .expect(0, Awaiting::ConnectionTune, |m| match m {
                AMQPClass::Connection(connection::AMQPMethod::Tune(t)) => Some(t.clone()),
                _ => None,
            })
            .await?;
        let heartbeat = p.heartbeat.tune_ok(Heartbeat::from_secs(tune.heartbeat));
        // The reader's limit is what we answer here, never more than ours.
        let frame_max = match p.frame_max {
            Some(ours) if ours != 0 => codec::negotiate_frame_max(tune.frame_max).min(ours),
            _ => codec::negotiate_frame_max(tune.frame_max),
        };
        let channel_max = if tune.channel_max == 0 {
            2047
        } else {
            tune.channel_max
        };
        let channel_max = match p.channel_max {
            Some(ours) if ours != 0 => channel_max.min(ours),
            _ => channel_max,
        };
        let tune_ok = connection::TuneOk {
            channel_max,
            frame_max,
            heartbeat: heartbeat.secs(),
        };
        self.send_method(
            0,
            AMQPClass::Connection(connection::AMQPMethod::TuneOk(tune_ok)),
        )
        .await?;
        self.frame_max = frame_max;
        let vhost = ShortString::try_new(p.vhost.clone())
            .map_err(|_| WireError::Invalid("the vhost name is longer than 255 bytes".into()))?;
        self.send_method(
            0,
            AMQPClass::Connection(connection::AMQPMethod::Open(connection::Open {
                virtual_host: vhost,
            })),
        )
        .await?;
        self.expect(0, Awaiting::ConnectionOpenOk, |m| match m {
            AMQPClass::Connection(connection::AMQPMethod::OpenOk(_)) => Some(()),
            _ => None,
        })
        .await?;
        self.tl.push(EventKind::ConnectionOpen {
            heartbeat_s: heartbeat.secs(),
        });
        Ok(Handshake {
            server,
            server_channel_max: tune.channel_max,
            server_frame_max: tune.frame_max,
            server_heartbeat: Heartbeat::from_secs(tune.heartbeat),
            channel_max,
            frame_max,
            heartbeat,
        })
    }

    pub async fn open_channel(&mut self, ch: u16) -> Result<(), WireError> {
        self.send_method(
            ch,
            AMQPClass::Channel(channel::AMQPMethod::Open(channel::Open {})),
        )
        .await?;
        self.expect(ch, Awaiting::ChannelOpenOk, |m| match m {
            AMQPClass::Channel(channel::AMQPMethod::OpenOk(_)) => Some(()),
            _ => None,
        })
        .await
    }

    /// Turn on publisher confirms on `ch`.
    pub async fn confirm_select(&mut self, ch: u16) -> Result<(), WireError> {
        self.send_method(
            ch,
            AMQPClass::Confirm(confirm::AMQPMethod::Select(confirm::Select {
                nowait: false,
            })),
        )
        .await?;
        self.expect(ch, Awaiting::ConfirmSelectOk, |m| match m {
            AMQPClass::Confirm(confirm::AMQPMethod::SelectOk(_)) => Some(()),
            _ => None,
        })
        .await
    }

    /// Declare an exclusive, auto-delete queue named `name` (empty: let the
    /// server name it). Not every 0-9-1 broker names queues, so callers that
    /// must work everywhere choose the name.
    pub async fn declare_queue(&mut self, ch: u16, name: &str) -> Result<String, WireError> {
        let flags = queue::Declare {
            exclusive: true,
            auto_delete: true,
            queue: short(name, "the queue name")?,
            ..Default::default()
        };
        self.send_method(ch, AMQPClass::Queue(queue::AMQPMethod::Declare(flags)))
            .await?;
        self.expect(ch, Awaiting::QueueDeclareOk, |m| match m {
            AMQPClass::Queue(queue::AMQPMethod::DeclareOk(ok)) => Some(ok.queue.to_string()),
            _ => None,
        })
        .await
    }

    /// Bind `queue` to `exchange` with `routing_key`. The binding goes away
    /// with an auto-delete queue.
    pub async fn bind_queue(
        &mut self,
        ch: u16,
        queue_name: &str,
        exchange: &str,
        routing_key: &str,
    ) -> Result<(), WireError> {
        let bind = queue::Bind {
            queue: short(queue_name, "the queue name")?,
            exchange: short(exchange, "the exchange name")?,
            routing_key: short(routing_key, "the routing key")?,
            nowait: false,
            arguments: Default::default(),
        };
        self.send_method(ch, AMQPClass::Queue(queue::AMQPMethod::Bind(bind)))
            .await?;
        self.expect(ch, Awaiting::QueueBindOk, |m| match m {
            AMQPClass::Queue(queue::AMQPMethod::BindOk(_)) => Some(()),
            _ => None,
        })
        .await
    }

    /// Basic.Get one message from `queue` with no_ack (the broker forgets
    /// it once sent). Ok(None) when the queue is empty. A body larger than
    /// `max_body` is refused before it is read.
    pub async fn get(
        &mut self,
        ch: u16,
        queue_name: &str,
        max_body: u64,
    ) -> Result<Option<Vec<u8>>, WireError> {
        let get = basic::Get {
            queue: short(queue_name, "the queue name")?,
            no_ack: true,
        };
        self.send_method(ch, AMQPClass::Basic(basic::AMQPMethod::Get(get)))
            .await?;
        let got = self
            .expect(ch, Awaiting::GetOk, |m| match m {
                AMQPClass::Basic(basic::AMQPMethod::GetOk(_)) => Some(true),
                AMQPClass::Basic(basic::AMQPMethod::GetEmpty(_)) => Some(false),
                _ => None,
            })
            .await?;
        if !got {
            return Ok(None);
        }
        let deadline = Instant::now() + self.step_timeout;
        let mut size = None;
        let mut body = Vec::new();
        loop {
            if let Some(n) = size {
                if body.len() as u64 >= n {
                    return Ok(Some(body));
                }
            }
            match self.read_frame(&Awaiting::Content, deadline).await? {
                AMQPFrame::Header(c, h) if c == ch && size.is_none() => {
                    if h.body_size > max_body {
                        self.dead = true;
                        return Err(WireError::Invalid(format!(
                            "the message got back is {} bytes; a check message is at most {max_body}",
                            h.body_size
                        )));
                    }
                    size = Some(h.body_size);
                }
                AMQPFrame::Body(c, part) if c == ch && size.is_some() => {
                    body.extend_from_slice(&part);
                    if Some(body.len() as u64) > size {
                        self.dead = true;
                        return Err(WireError::Invalid(
                            "more body bytes than the content header announced".into(),
                        ));
                    }
                }
                // Confirms and returns for earlier publishes can interleave.
                AMQPFrame::Method(_, AMQPClass::Basic(_)) => {}
                other => {
                    self.dead = true;
                    return Err(WireError::Invalid(format!(
                        "expected the message's content, got {}",
                        codec::describe(&other)
                    )));
                }
            }
        }
    }

    /// Publish one message: method, content header and body frames (split at
    /// frame_max), in one write. `mandatory` makes the broker return what it
    /// cannot route.
    pub async fn publish(
        &mut self,
        ch: u16,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
    ) -> Result<(), WireError> {
        let publish = basic::Publish {
            exchange: short(exchange, "the exchange name")?,
            routing_key: short(routing_key, "the routing key")?,
            mandatory: true,
            immediate: false,
        };
        let props = basic::AMQPProperties::default()
            .with_content_type("text/plain".into())
            .with_app_id("amqpdoctor".into());
        let mut frames = vec![
            AMQPFrame::Method(ch, AMQPClass::Basic(basic::AMQPMethod::Publish(publish))),
            AMQPFrame::Header(
                ch,
                AMQPContentHeader {
                    class_id: 60,
                    body_size: body.len() as u64,
                    properties: props,
                },
            ),
        ];
        // A body frame carries at most frame_max minus the 8 bytes of frame
        // header and end marker.
        let chunk = (self.frame_max as usize).saturating_sub(8).max(1);
        for part in body.chunks(chunk) {
            frames.push(AMQPFrame::Body(ch, part.to_vec()));
        }
        self.send(&frames).await
    }

    /// Read confirms until every delivery tag in `pending` is settled or the
    /// deadline passes. Settled tags are moved into the returned map. A
    /// Basic.Return (unroutable) is recorded as an event and its content
    /// frames skipped.
    pub async fn await_confirms(
        &mut self,
        pending: &mut Vec<u64>,
        deadline: Instant,
    ) -> (BTreeMap<u64, Confirm>, Option<WireError>) {
        let mut settled = BTreeMap::new();
        while !pending.is_empty() {
            let frame = match self.read_frame(&Awaiting::Confirms, deadline).await {
                Ok(f) => f,
                Err(e) => return (settled, Some(e)),
            };
            let (tag, multiple, how) = match frame {
                AMQPFrame::Method(_, AMQPClass::Basic(basic::AMQPMethod::Ack(a))) => {
                    (a.delivery_tag, a.multiple, Confirm::Ack)
                }
                AMQPFrame::Method(_, AMQPClass::Basic(basic::AMQPMethod::Nack(n))) => {
                    (n.delivery_tag, n.multiple, Confirm::Nack)
                }
                AMQPFrame::Method(_, AMQPClass::Basic(basic::AMQPMethod::Return(r))) => {
                    self.tl.push(EventKind::Returned {
                        reply_code: r.reply_code,
                        reply_text: r.reply_text.to_string(),
                    });
                    continue;
                }
                _ => continue,
            };
            let mut hits = Vec::new();
            pending.retain(|&t| {
                let hit = if multiple { t <= tag } else { t == tag };
                if hit {
                    hits.push(t);
                }
                !hit
            });
            for t in hits {
                settled.insert(t, how);
                // Delivery tags count publishes on the channel from 1, so the
                // tag is the publish's sequence number.
                let seq = u32::try_from(t).unwrap_or(u32::MAX);
                self.tl.push(match how {
                    Confirm::Ack => EventKind::Confirmed { seq },
                    Confirm::Nack => EventKind::Nacked { seq },
                });
            }
        }
        (settled, None)
    }

    /// Read and handle whatever the server has already sent, without
    /// waiting: the "pump" an application's I/O loop would run.
    pub async fn drain_available(&mut self) -> Result<(), WireError> {
        loop {
            let deadline = Instant::now() + Duration::from_millis(2);
            match self.read_frame(&Awaiting::PendingFrames, deadline).await {
                Ok(_) => continue,
                Err(WireError::Timeout { .. }) => {
                    // Nothing more to read; the timeout is not news.
                    if matches!(
                        self.tl.events.last().map(|e| &e.kind),
                        Some(EventKind::Timeout { .. })
                    ) {
                        self.tl.events.pop();
                    }
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub async fn send_heartbeat(&mut self) -> Result<(), WireError> {
        self.send(&[AMQPFrame::Heartbeat]).await
    }

    /// Close the connection politely: Connection.Close(200), then wait for
    /// Close-Ok within the step timeout.
    pub async fn close(&mut self) -> Result<(), WireError> {
        if self.dead {
            return Ok(());
        }
        let close = connection::Close {
            reply_code: 200,
            reply_text: "amqpdoctor: probe finished".into(),
            class_id: 0,
            method_id: 0,
        };
        self.tl.push(EventKind::ClientClose { reply_code: 200 });
        self.send_method(
            0,
            AMQPClass::Connection(connection::AMQPMethod::Close(close)),
        )
        .await?;
        let res = self
            .expect(0, Awaiting::ConnectionCloseOk, |m| match m {
                AMQPClass::Connection(connection::AMQPMethod::CloseOk(_)) => Some(()),
                _ => None,
            })
            .await;
        self.dead = true;
        if res.is_ok() {
            self.tl.push(EventKind::CloseOk);
        }
        let _ = self.stream.shutdown().await;
        res
    }
}

/// An AMQP short string, or the error naming what was too long.
fn short(s: &str, what: &str) -> Result<ShortString, WireError> {
    ShortString::try_new(s.to_string())
        .map_err(|_| WireError::Invalid(format!("{what} is longer than 255 bytes")))
}

/// An `io_error` event naming the errno.
pub fn io_event(op: Op, err: &io::Error) -> EventKind {
    EventKind::IoError {
        op,
        errno: err.raw_os_error(),
        errno_name: errno_label(err),
    }
}
