//! Consuming without acknowledging: `probe --consume --hold DUR` takes the
//! probe's own messages with Basic.Consume (manual acks) and never acks
//! them, so a broker's `consumer_timeout` can be reproduced and its
//! Channel.Close 406 recorded. Built on [`WireConn`]'s public reads and
//! writes only: the frames that can come at any time (heartbeats, Close)
//! are handled there as everywhere.

use std::time::{Duration, Instant};

use amq_protocol::frame::AMQPFrame;
use amq_protocol::protocol::{basic, AMQPClass};
use amq_protocol::types::FieldTable;
use tokio::io::{AsyncRead, AsyncWrite};

use super::conn::{WireConn, WireError};
use crate::timeline::EventKind;
use crate::vocab::units::{duration_ms, secs};
use crate::vocab::{Awaiting, Heartbeat};

/// The consumer tag the probe consumes under.
pub const CONSUMER_TAG: &str = "amqpdoctor.probe";

impl<S: AsyncRead + AsyncWrite + Unpin> WireConn<S> {
    /// Consume `queue` on `ch` with manual acks and hold every delivery
    /// unacknowledged for `hold`, answering heartbeats every T/2 (a consumer
    /// that is alive, only slow to ack). Returns how many deliveries came;
    /// ends early, with the error, when the broker closes the channel or
    /// the connection.
    pub async fn consume_unacked(
        &mut self,
        ch: u16,
        queue: &str,
        hold: Duration,
        heartbeat: Heartbeat,
    ) -> Result<u32, WireError> {
        let consume = basic::Consume {
            queue: queue.into(),
            consumer_tag: CONSUMER_TAG.into(),
            no_local: false,
            no_ack: false,
            exclusive: false,
            nowait: false,
            arguments: FieldTable::default(),
        };
        self.send(&[AMQPFrame::Method(
            ch,
            AMQPClass::Basic(basic::AMQPMethod::Consume(consume)),
        )])
        .await?;
        let until = Instant::now() + hold;
        self.tl.push(EventKind::Note {
            text: format!(
                "consuming {queue} without acknowledging for {} (--consume --hold)",
                secs(duration_ms(hold))
            ),
        });
        let beat = (!heartbeat.is_off()).then(|| Duration::from_millis(heartbeat.ms() / 2));
        let mut next_beat = beat.map(|b| Instant::now() + b);
        let mut delivered = 0;
        loop {
            let stop = next_beat.map_or(until, |b| b.min(until));
            // The read's own deadline lies past `stop`: reaching `stop` is
            // the plan, not a timeout to record.
            let far = until + self.step_timeout();
            let read =
                tokio::time::timeout_at(stop.into(), self.read_frame(&Awaiting::Deliveries, far))
                    .await;
            match read {
                Ok(Ok(AMQPFrame::Method(_, AMQPClass::Basic(basic::AMQPMethod::Deliver(_))))) => {
                    delivered += 1;
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) if Instant::now() >= until => return Ok(delivered),
                Err(_) => {
                    self.send_heartbeat().await?;
                    next_beat = beat.map(|b| Instant::now() + b);
                }
            }
        }
    }
}
