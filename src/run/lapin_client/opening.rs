//! Opening the serviced mode's connection: lapin's URI and TLS from the
//! target, the socket we connect ourselves (and keep a duplicate of for the
//! observer), the handshake within its bound, and the listener of the
//! events lapin handles itself.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};
use lapin::{Connection, ConnectionProperties};

use super::super::driver::Opened;
use super::super::{Policy, RunSpec};
use super::{setup_error, LapinConnection};
use crate::timeline::{EventKind, Timeline};
use crate::vocab::units::duration_ms;
use crate::vocab::{FailureKind, Heartbeat, Negotiation, SetupError, Stage};
use crate::wire::OpenFailure;

/// What the connect callback learned about the socket it opened.
struct Socket {
    fd: OwnedFd,
    local: String,
    peer: String,
    at: Instant,
}

/// What the report should know about how lapin opened the connection.
fn open_notes(server_confirms: bool, requested: Option<u16>, negotiated: Heartbeat) -> Vec<String> {
    let mut notes = Vec::new();
    if !server_confirms {
        notes.push(super::super::NO_CONFIRMS_NOTE.to_string());
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

/// The TLS half of a connection to an `amqps://` target: the connector,
/// the server name, and where the verifier records what it accepted.
type LapinTls = (
    lapin::tcp::RustlsConnector,
    String,
    crate::wire::tls_verify::Leniency,
);

/// Connect through lapin, on a socket we open ourselves.
pub(crate) async fn open(
    spec: &RunSpec,
    policy: &Policy,
) -> Result<Opened<LapinConnection>, Box<OpenFailure>> {
    let mut tl = Timeline::new(spec.trace);
    let slot: Arc<Mutex<Option<Socket>>> = Arc::new(Mutex::new(None));
    let requested = policy.tune_ok.requested_s();
    let step = spec.step_timeout;
    let uri = lapin_uri(spec, requested);
    let props =
        ConnectionProperties::default().with_connection_name(spec.mode.connection_name().into());
    let runtime = async_rs::Runtime::tokio_current();
    let cb_slot = slot.clone();
    let host = spec.target.host().to_string();
    let port = spec.target.port();
    let tls = match lapin_tls(spec) {
        Ok(tls) => tls,
        Err(error) => {
            return Err(Box::new(OpenFailure {
                timeline: tl,
                error,
            }))
        }
    };
    let lenient = tls.as_ref().map(|(_, _, l)| l.clone());
    let connect = async move |_uri: AMQPUri, _rt: async_rs::TokioRuntime| {
        connect_socket((&host, port), step, tls.as_ref(), &cb_slot).await
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
        let handshake_ok = matches!(connected, Ok(Ok(_)));
        record_socket(&mut tl, s, spec, handshake_ok, lenient.as_ref());
    }
    let stage = if socket.is_some() {
        Stage::Handshake
    } else {
        Stage::Connect
    };
    let conn = match handshake_result(connected, stage, step) {
        Ok(c) => c,
        Err(error) => {
            return Err(Box::new(OpenFailure {
                timeline: tl,
                error,
            }))
        }
    };
    Ok(opened(conn, spec, tl, requested, socket))
}

/// The connection lapin opened, for the driver: what was negotiated (lapin
/// cannot show the server's proposal), the connection with the events
/// listener on it, the socket's fd for the observer, and the notes.
fn opened(
    conn: Connection,
    spec: &RunSpec,
    mut tl: Timeline,
    requested: Option<u16>,
    socket: Option<Socket>,
) -> Opened<LapinConnection> {
    let cfg = conn.configuration();
    let negotiated = Heartbeat::from_secs(cfg.heartbeat());
    tl.push(EventKind::ConnectionOpen {
        heartbeat_s: negotiated.secs(),
    });
    let notes = open_notes(spec.server_confirms, requested, negotiated);
    Opened {
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
            step: spec.step_timeout,
            next_seq: 1,
            tls: spec.target.is_tls(),
            server_confirms: spec.server_confirms,
        },
        fd: socket.map(|s| s.fd),
        server: None,
        notes,
    }
}

/// The target as lapin's URI: credentials, host, vhost, the heartbeat we
/// request, the step timeout, frame_max and channel_max when set, and the
/// first SASL mechanism lapin can use (EXTERNAL only over TLS).
fn lapin_uri(spec: &RunSpec, requested: Option<u16>) -> AMQPUri {
    AMQPUri {
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
            connection_timeout: Some(duration_ms(spec.step_timeout)),
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
    }
}

/// For an `amqps://` target, the same rustls configuration as the wire
/// client's (validated by the command before anything connected); None
/// for `amqp://`.
fn lapin_tls(spec: &RunSpec) -> Result<Option<LapinTls>, SetupError> {
    let Some(s) = spec.target.tls() else {
        return Ok(None);
    };
    match crate::wire::tls::configure(s) {
        Ok((c, accepted)) => Ok(Some((
            lapin::tcp::RustlsConnector::from(c),
            spec.target.tls_server_name().to_string(),
            accepted,
        ))),
        Err(e) => Err(SetupError {
            stage: Stage::Tls,
            kind: FailureKind::Tls(crate::vocab::TlsFailure::Other),
            message: e.to_string(),
        }),
    }
}

/// The transport lapin handshakes over: a TCP connect within `step`, on a
/// socket whose fd, addresses and time go into `slot` (for the observer),
/// then the TLS handshake when `tls` asks for it, within `step` too.
async fn connect_socket(
    (host, port): (&str, u16),
    step: std::time::Duration,
    tls: Option<&LapinTls>,
    slot: &Mutex<Option<Socket>>,
) -> lapin::Result<lapin::AsyncTcpStream<async_compat::Compat<tokio::net::TcpStream>>> {
    let stream = tokio::time::timeout(step, tokio::net::TcpStream::connect((host, port)))
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
    if let Ok(mut s) = slot.lock() {
        *s = Some(socket);
    }
    let plain = lapin::AsyncTcpStream::Plain(async_compat::Compat::new(stream));
    match tls {
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
}

/// Put the socket lapin connected on the timeline: the TCP connect and,
/// over TLS once the handshake succeeded, what was verified and any
/// certificate the `--tls-as` family accepted.
fn record_socket(
    tl: &mut Timeline,
    s: &Socket,
    spec: &RunSpec,
    handshake_ok: bool,
    lenient: Option<&crate::wire::tls_verify::Leniency>,
) {
    let at = tl.ms_at(s.at);
    tl.push_at(
        at,
        EventKind::TcpConnected {
            local: s.local.clone(),
            peer: s.peer.clone(),
        },
    );
    if let (Some(settings), true) = (spec.target.tls(), handshake_ok) {
        let accepted = lenient.and_then(|l| l.lock().ok().and_then(|l| l.accepted.clone()));
        tl.push_at(at, tls_note(settings, accepted.as_ref(), &spec.target));
        if let Some(l) = accepted {
            tl.push_at(at, EventKind::Note { text: l.note() });
            tl.tls_accepted = Some(l);
        }
    }
}

/// lapin's connection, or why the handshake failed at `stage`: lapin's
/// error, or no end to it within the outer bound of four steps.
fn handshake_result(
    connected: Result<lapin::Result<Connection>, tokio::time::error::Elapsed>,
    stage: Stage,
    step: std::time::Duration,
) -> Result<Connection, SetupError> {
    match connected {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(setup_error(stage, &e)),
        Err(_) => Err(SetupError {
            stage,
            kind: FailureKind::Timeout,
            message: format!(
                "lapin did not finish the handshake within {}",
                crate::vocab::units::secs(duration_ms(step * 4))
            ),
        }),
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
