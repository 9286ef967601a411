//! The socket side of the wire client: a connection over any
//! `AsyncRead + AsyncWrite` stream, recording every frame in a timeline.
//!
//! Every read and write has a deadline. Frames that can arrive at any time
//! are handled here, once: heartbeats are counted, Connection.Blocked and
//! Unblocked recorded, and a Connection.Close or Channel.Close from the
//! server is answered (Close-Ok) and surfaced as [`WireError::ServerClose`] /
//! [`WireError::ChannelClose`], so callers only see the frames they asked for.

use std::io;
use std::time::{Duration, Instant};

use amq_protocol::frame::AMQPFrame;
use amq_protocol::protocol::{basic, channel, connection, AMQPClass};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::codec::{self, Decoded};
use crate::timeline::{EventKind, Timeline};
use crate::vocab::units::{duration_ms, errno_label, secs};
use crate::vocab::{Awaiting, CloseInfo, FailureKind, Op, SetupError, Stage};

mod handshake;
mod requests;

pub use handshake::{Handshake, HandshakeParams};
pub use requests::Confirm;

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
    #[error("the server does not speak AMQP 0-9-1: it answered with {} ({detail})", answered.words())]
    ProtocolMismatch {
        answered: crate::vocab::PeerAnswer,
        detail: String,
    },
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
            WireError::ProtocolMismatch { answered, .. } => {
                FailureKind::ProtocolMismatch(*answered)
            }
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
                let msg = format!("AMQP {}-{}-{}", v.major, v.minor, v.revision);
                self.tl.push(EventKind::Received {
                    frame: codec::describe(&frame),
                });
                Err(WireError::ProtocolMismatch {
                    answered: crate::vocab::PeerAnswer::of_header(v.major, v.minor, v.revision),
                    detail: msg,
                })
            }
            AMQPFrame::Method(ch, AMQPClass::Connection(m)) => match m {
                connection::AMQPMethod::Close(c) => Err(self.on_server_close(*ch, c).await),
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
                _ => Ok(Some(self.received(frame))),
            },
            AMQPFrame::Method(ch, AMQPClass::Channel(channel::AMQPMethod::Close(c))) => {
                Err(self.on_channel_close(*ch, c).await)
            }
            AMQPFrame::Method(
                _,
                AMQPClass::Basic(basic::AMQPMethod::Ack(_) | basic::AMQPMethod::Nack(_)),
            ) => {
                // Recorded by the publisher with its sequence number.
                Ok(Some(frame))
            }
            AMQPFrame::Header(..) | AMQPFrame::Body(..) if !self.tl.trace => Ok(Some(frame)),
            _ => Ok(Some(self.received(frame))),
        }
    }

    /// Record a frame as received, and hand it on.
    fn received(&mut self, frame: AMQPFrame) -> AMQPFrame {
        self.tl.push(EventKind::Received {
            frame: codec::describe(&frame),
        });
        frame
    }

    /// The server's Connection.Close: recorded, answered with Close-Ok, and
    /// the connection over.
    async fn on_server_close(&mut self, ch: u16, c: &connection::Close) -> WireError {
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
        let ok = AMQPClass::Connection(connection::AMQPMethod::CloseOk(connection::CloseOk {}));
        let _ = self.send_method(ch, ok).await;
        self.dead = true;
        WireError::ServerClose(info)
    }

    /// The server's Channel.Close: recorded and answered with Close-Ok.
    async fn on_channel_close(&mut self, ch: u16, c: &channel::Close) -> WireError {
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
        let _ = self.send_method(ch, ok).await;
        WireError::ChannelClose(info)
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

/// An `io_error` event naming the errno.
pub fn io_event(op: Op, err: &io::Error) -> EventKind {
    EventKind::IoError {
        op,
        errno: err.raw_os_error(),
        errno_name: errno_label(err),
    }
}
