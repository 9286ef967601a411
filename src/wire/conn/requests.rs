//! The channel's requests: open, confirm mode, queue declare and bind,
//! get, publish, and waiting for publisher confirms.

use std::collections::BTreeMap;
use std::time::Instant;

use amq_protocol::frame::{AMQPContentHeader, AMQPFrame};
use amq_protocol::protocol::{basic, channel, confirm, queue, AMQPClass};
use amq_protocol::types::{FieldTable, ShortString};
use tokio::io::{AsyncRead, AsyncWrite};

use super::{WireConn, WireError};
use crate::timeline::EventKind;
use crate::vocab::Awaiting;
use crate::wire::codec;

/// A publisher confirm, or a return, for one published message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    Ack,
    Nack,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WireConn<S> {
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
            arguments: FieldTable::default(),
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
}

/// An AMQP short string, or the error naming what was too long.
fn short(s: &str, what: &str) -> Result<ShortString, WireError> {
    ShortString::try_new(s.to_string())
        .map_err(|_| WireError::Invalid(format!("{what} is longer than 255 bytes")))
}
