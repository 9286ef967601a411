//! The opening handshake: protocol header, Start/Start-Ok, Tune/Tune-Ok,
//! Open/Open-Ok, and what it asks for and learns.

use std::time::{Duration, Instant};

use amq_protocol::frame::{AMQPFrame, ProtocolVersion};
use amq_protocol::protocol::{connection, AMQPClass};
use amq_protocol::types::{LongString, ShortString};
use tokio::io::{AsyncRead, AsyncWrite};

use super::{WireConn, WireError};
use crate::target::AuthMechanism;
use crate::timeline::EventKind;
use crate::vocab::{Awaiting, FailureKind, Heartbeat, HeartbeatRequest};
use crate::wire::codec::{self, ServerInfo};

/// How long a failed first write waits for a TLS alert that explains it.
const ALERT_GLANCE: Duration = Duration::from_millis(200);

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

impl<S: AsyncRead + AsyncWrite + Unpin> WireConn<S> {
    /// The opening handshake: protocol header, Start/Start-Ok (PLAIN),
    /// Tune/Tune-Ok with the requested heartbeat, Open/Open-Ok.
    pub async fn handshake(&mut self, p: &HandshakeParams) -> Result<Handshake, WireError> {
        self.send_header().await?;
        let start = self.await_start().await?;
        let server = ServerInfo::from_start(&start);
        let start_ok = match start_ok(p, &server) {
            Ok(s) => s,
            Err(e) => {
                self.dead = true;
                return Err(e);
            }
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
        let (tune_ok, heartbeat) = tune_ok(p, &tune);
        let (channel_max, frame_max) = (tune_ok.channel_max, tune_ok.frame_max);
        self.send_method(
            0,
            AMQPClass::Connection(connection::AMQPMethod::TuneOk(tune_ok)),
        )
        .await?;
        self.frame_max = frame_max;
        self.open_vhost(&p.vhost).await?;
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

    /// Send the protocol header. When the write fails, glance for a TLS
    /// alert that explains it.
    async fn send_header(&mut self) -> Result<(), WireError> {
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
        Ok(())
    }

    /// Wait for Connection.Start; anything else means the server does not
    /// speak AMQP 0-9-1 (or speaks TLS).
    async fn await_start(&mut self) -> Result<connection::Start, WireError> {
        self.expect(0, Awaiting::ConnectionStart, |m| match m {
            AMQPClass::Connection(connection::AMQPMethod::Start(s)) => Some(s.clone()),
            _ => None,
        })
        .await
        .map_err(|e| match e {
            // A TLS record where Connection.Start should be: plain AMQP
            // was spoken to a TLS port (RabbitMQ answers with an alert).
            WireError::Invalid(_) if crate::wire::tls::looks_like_tls(&self.rbuf) => {
                WireError::Tls {
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
                }
            }
            WireError::Invalid(detail) => WireError::ProtocolMismatch {
                answered: crate::vocab::PeerAnswer::of(&self.rbuf),
                detail,
            },
            e => e,
        })
    }

    /// Connection.Open on `vhost`, and its Open-Ok.
    async fn open_vhost(&mut self, vhost: &str) -> Result<(), WireError> {
        let vhost = ShortString::try_new(vhost.to_string())
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
        .await
    }
}

/// Connection.Start-Ok: the first of our mechanisms the server offers, and
/// the response it takes. Err when the server offers none of ours.
fn start_ok(p: &HandshakeParams, server: &ServerInfo) -> Result<connection::StartOk, WireError> {
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
        return Err(WireError::NoMechanism(server.mechanisms.clone()));
    };
    Ok(connection::StartOk {
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
            AuthMechanism::External => LongString::default(),
            AuthMechanism::Plain => codec::plain_response(&p.user, &p.password),
        },
        locale: "en_US".into(),
    })
}

/// Connection.Tune-Ok answering `tune`: the requested heartbeat, and never
/// more channels or a larger frame than ours. With the heartbeat it names.
fn tune_ok(p: &HandshakeParams, tune: &connection::Tune) -> (connection::TuneOk, Heartbeat) {
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
    (tune_ok, heartbeat)
}
