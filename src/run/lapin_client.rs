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
use std::sync::{Arc, Mutex};
use std::time::Instant;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::PublisherConfirm;
use lapin::{BasicProperties, Channel, Confirmation, Connection};

use super::driver;
use crate::observe::TcpInfo;
use crate::timeline::{EventKind, Settled, Timeline};
use crate::vocab::units::{duration_ms, errno_label};
use crate::vocab::{
    Awaiting, CloseInfo, Destination, FailureKind, Op, PeerAnswer, SetupError, Stage,
};

mod opening;
pub(super) use opening::open;

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

/// How long a failed connection waits for lapin's events listener.
const EVENTS_CATCH_UP: std::time::Duration = std::time::Duration::from_millis(50);

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
