//! Our own AMQP 0-9-1 client, on amq-protocol's frame codec.
//!
//! Why not lapin everywhere: lapin cannot show the server's Tune proposal,
//! cannot answer Tune-Ok with heartbeat 0 against a broker that proposes
//! one, and always services its heartbeat timer — so it can neither starve a
//! connection nor disable heartbeats. The wire client does exactly what a
//! mode asks and records every frame.
//!
//! - [`codec`]: frames as data (encode, decode with guards, names)
//! - [`conn`]: [`WireConn`], generic over `AsyncRead + AsyncWrite` so TLS can
//!   wrap it later; every step has a deadline
//! - [`connect_tcp`]: resolve and connect, with a timeout per address
//!
//! Everything here returns typed results and typed errors ([`WireError`],
//! [`ConnectError`], and [`SetupError`] for a failed opening); it never
//! decides a verdict. The classifier reads those facts.

pub mod codec;
pub(crate) mod conn;
pub(crate) mod consume;
pub(crate) mod small_file;
pub(crate) mod tls;
mod tls_files;
pub(crate) mod tls_probe;
pub(crate) mod tls_verify;
pub(crate) mod tls_words;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

pub use codec::ServerInfo;
pub use conn::{Confirm, Handshake, HandshakeParams, WireConn, WireError};
pub use tls::Transport;

use crate::target::Target;
use crate::timeline::{EventKind, Timeline};
use crate::vocab::units::{describe_io_error, duration_ms, secs};
use crate::vocab::{Awaiting, FailureKind, Op, SetupError, Stage, TlsFailure};

/// Why the TCP connection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("resolving {host}: {err}")]
    Resolve { host: String, err: io::Error },
    #[error("resolving {host}: no addresses")]
    NoAddress { host: String },
    #[error("resolving {host}: no answer within {}", secs(duration_ms(*.after)))]
    ResolveTimeout { host: String, after: Duration },
    #[error("connecting to {addr}: {}{}", describe_io_error(.err), connect_hint(.err))]
    Connect { addr: SocketAddr, err: io::Error },
    #[error("connecting to {addr}: no answer within {} — a firewall may be dropping packets, or nothing routes there", secs(duration_ms(*.after)))]
    Timeout { addr: SocketAddr, after: Duration },
}

impl ConnectError {
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            ConnectError::Connect { err, .. } | ConnectError::Resolve { err, .. } => {
                err.raw_os_error()
            }
            _ => None,
        }
    }

    /// The typed facts of this failure, for the classifier.
    pub fn setup_error(&self) -> SetupError {
        SetupError {
            stage: Stage::Connect,
            kind: match self {
                ConnectError::Timeout { .. } | ConnectError::ResolveTimeout { .. } => {
                    FailureKind::Timeout
                }
                _ => FailureKind::Io {
                    errno: self.raw_os_error(),
                },
            },
            message: self.to_string(),
        }
    }
}

fn connect_hint(err: &io::Error) -> &'static str {
    match err.raw_os_error() {
        Some(libc::ECONNREFUSED) => " — is the broker listening there?",
        Some(libc::EHOSTUNREACH | libc::ENETUNREACH) => " — no route to that host",
        _ => "",
    }
}

/// Resolve the target and connect to the first address that answers, each
/// attempt bounded by `timeout`. Records `tcp_connected` with both ends.
pub async fn connect_tcp(
    target: &Target,
    timeout: Duration,
    tl: &mut Timeline,
) -> Result<TcpStream, ConnectError> {
    let addrs = resolve(target, timeout).await?;
    connect_addrs(target.host(), &addrs, timeout, tl).await
}

/// Resolve the target's host, within `timeout`.
pub async fn resolve(target: &Target, timeout: Duration) -> Result<Vec<SocketAddr>, ConnectError> {
    let host = target.host().to_string();
    let lookup = tokio::time::timeout(
        timeout,
        tokio::net::lookup_host((target.host(), target.port())),
    )
    .await;
    match lookup {
        Err(_) => Err(ConnectError::ResolveTimeout {
            host,
            after: timeout,
        }),
        Ok(Err(err)) => Err(ConnectError::Resolve { host, err }),
        Ok(Ok(a)) => {
            let addrs: Vec<SocketAddr> = a.collect();
            if addrs.is_empty() {
                Err(ConnectError::NoAddress { host })
            } else {
                Ok(addrs)
            }
        }
    }
}

/// Connect to the first of `addrs` that answers, each attempt bounded by
/// `timeout`. Records `tcp_connected` with both ends.
pub async fn connect_addrs(
    host: &str,
    addrs: &[SocketAddr],
    timeout: Duration,
    tl: &mut Timeline,
) -> Result<TcpStream, ConnectError> {
    let mut last = None;
    for &addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                // Frames are small and latency is what we measure.
                let _ = stream.set_nodelay(true);
                let local = stream
                    .local_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_default();
                tl.push(EventKind::TcpConnected {
                    local,
                    peer: addr.to_string(),
                });
                return Ok(stream);
            }
            Ok(Err(err)) => {
                tl.push(conn::io_event(Op::Connect(addr.to_string()), &err));
                last = Some(ConnectError::Connect { addr, err });
            }
            Err(_) => {
                tl.push(EventKind::Timeout {
                    waiting_for: Awaiting::TcpConnect(addr.to_string()),
                    after_ms: duration_ms(timeout),
                });
                last = Some(ConnectError::Timeout {
                    addr,
                    after: timeout,
                });
            }
        }
    }
    Err(last.unwrap_or(ConnectError::NoAddress {
        host: host.to_string(),
    }))
}

/// A failure to open a connection, with the record of how far it got.
#[derive(Debug)]
pub struct OpenFailure {
    pub timeline: Timeline,
    pub error: SetupError,
}

/// For an `amqps://` target, the TLS handshake over `tcp` (bounded by
/// `timeout`), recorded in the timeline; for `amqp://`, `tcp` as it is.
pub async fn secure(
    tcp: TcpStream,
    target: &Target,
    timeout: Duration,
    tl: &mut Timeline,
) -> Result<Transport, WireError> {
    let Some(settings) = target.tls() else {
        return Ok(Transport::Plain(tcp));
    };
    let config = tls::configure(settings).map_err(|e| WireError::Tls {
        failure: TlsFailure::Other,
        message: e.to_string(),
    })?;
    let name = target.tls_server_name().to_string();
    match tokio::time::timeout(timeout, tls::handshake(tcp, config, &name)).await {
        Ok(Ok(t)) => {
            tl.push(EventKind::Note {
                text: format!(
                    "TLS established: {} (server certificate {}){}",
                    t.tls_summary().unwrap_or_default(),
                    match (settings.insecure, t.leniency()) {
                        (true, _) => "NOT verified: --insecure".to_string(),
                        (false, Some(l)) => format!(
                            "NOT verified by rustls; accepted as {} clients would",
                            l.accepted_as
                        ),
                        (false, None) => format!("verified for {name}"),
                    },
                    if settings.cert.is_some() {
                        ", client certificate sent"
                    } else {
                        ""
                    }
                ),
            });
            if let Some(l) = t.leniency() {
                tl.push(EventKind::Note { text: l.note() });
                tl.tls_accepted = Some(l.clone());
            }
            Ok(t)
        }
        Ok(Err((failure, message))) => {
            tl.push(EventKind::Note {
                text: format!("TLS handshake failed: {message}"),
            });
            Err(WireError::Tls {
                failure,
                message: format!("TLS handshake with {name}: {message}"),
            })
        }
        Err(_) => {
            let after = timeout;
            tl.push(EventKind::Timeout {
                waiting_for: Awaiting::TlsHandshake,
                after_ms: duration_ms(after),
            });
            Err(WireError::Timeout {
                waiting_for: Awaiting::TlsHandshake,
                after,
            })
        }
    }
}

/// The record of an opening, whether it succeeded or not.
pub fn timeline_of(
    opened: &Result<(WireConn<Transport>, Handshake), Box<OpenFailure>>,
) -> &Timeline {
    match opened {
        Ok((c, _)) => &c.tl,
        Err(f) => &f.timeline,
    }
}

/// Connect, TLS when the target says so, and handshake: the common opening
/// of every wire connection.
pub async fn open(
    target: &Target,
    params: &HandshakeParams,
    step_timeout: Duration,
    mut tl: Timeline,
) -> Result<(WireConn<Transport>, Handshake), Box<OpenFailure>> {
    let tcp = match connect_tcp(target, step_timeout, &mut tl).await {
        Ok(s) => s,
        Err(e) => {
            return Err(Box::new(OpenFailure {
                timeline: tl,
                error: e.setup_error(),
            }))
        }
    };
    let stream = match secure(tcp, target, step_timeout, &mut tl).await {
        Ok(s) => s,
        Err(e) => {
            return Err(Box::new(OpenFailure {
                timeline: tl,
                error: e.setup_error(Stage::Tls),
            }))
        }
    };
    let mut conn = WireConn::new(stream, tl, step_timeout);
    match conn.handshake(params).await {
        Ok(hs) => Ok((conn, hs)),
        Err(e) => {
            // No polite Connection.Close here: before Open-Ok there is no
            // connection to close, and a mute server would make us wait a
            // second timeout for a Close-Ok that never comes. Dropping the
            // socket is the honest end.
            Err(Box::new(OpenFailure {
                timeline: conn.tl,
                error: e.setup_error(Stage::Handshake),
            }))
        }
    }
}

impl<S> WireConn<S> {
    /// The underlying stream, e.g. to duplicate its fd.
    pub fn stream(&self) -> &S {
        self.stream_ref()
    }
}
