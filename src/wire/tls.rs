//! TLS for `amqps://` targets: the rustls client configuration built from
//! the user's files, the stream every wire connection runs over, and what
//! a TLS failure means.
//!
//! The TCP socket stays reachable under TLS ([`Transport::tcp`]), so the
//! socket observer still reads TCP_INFO and sees an RST or a FIN as it
//! comes. rustls is used with the *ring* provider (no C toolchain needed).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{AlertDescription, CertificateError, ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::target::TlsSettings;
use crate::vocab::TlsFailure;

pub use super::tls_files::TlsConfigError;
use super::tls_files::{certificates, read_pem};

/// The client configuration for these settings. Roots: `cacert`, else the
/// system's, else the Mozilla roots compiled in.
pub fn client_config(s: &TlsSettings) -> Result<Arc<ClientConfig>, TlsConfigError> {
    configure(s).map(|(c, _)| c)
}

/// The client configuration, and where its verifier records a certificate
/// rustls refused that the family of `--tls-as` accepts.
pub fn configure(
    s: &TlsSettings,
) -> Result<(Arc<ClientConfig>, super::tls_verify::Leniency), TlsConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsConfigError {
            what: "TLS",
            path: String::new(),
            why: e.to_string(),
        })?;
    let accepted = super::tls_verify::Leniency::default();
    let (roots, root_ders) = roots(s)?;
    let judge = s
        .judge
        .0
        .clone()
        .map(|j| (j, s.tls_as.unwrap_or(crate::vocab::tls::TlsFamily::Openssl)));
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(super::tls_verify::Judged {
            roots: Arc::new(roots),
            root_ders,
            provider,
            judge,
            insecure: s.insecure,
            accepted: accepted.clone(),
        }));
    let config = with_client_auth(builder, s)?;
    Ok((Arc::new(config), accepted))
}

/// The roots to trust, and the `--cacert` certificates as given (a leaf
/// that is one of them is a trust anchor to OpenSSL).
fn roots(s: &TlsSettings) -> Result<(RootCertStore, Vec<CertificateDer<'static>>), TlsConfigError> {
    let mut roots = RootCertStore::empty();
    let mut ders = Vec::new();
    match &s.cacert {
        Some(path) => {
            for c in certificates(path, "--cacert")? {
                roots.add(c.clone()).map_err(|e| TlsConfigError {
                    what: "--cacert",
                    path: path.display().to_string(),
                    why: format!("a certificate rustls cannot use as a root ({e})"),
                })?;
                ders.push(c);
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            let _ = roots.add_parsable_certificates(native.certs);
            if roots.is_empty() {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
        }
    }
    Ok((roots, ders))
}

fn with_client_auth(
    builder: rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>,
    s: &TlsSettings,
) -> Result<ClientConfig, TlsConfigError> {
    match (&s.cert, &s.key) {
        (Some(cert), Some(key)) => {
            let chain = certificates(cert, "--cert")?;
            let bytes = read_pem(key, "--key")?;
            let key_der = PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| TlsConfigError {
                what: "--key",
                path: key.display().to_string(),
                why: format!("no PEM private key ({e})"),
            })?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| TlsConfigError {
                    what: "--cert/--key",
                    path: cert.display().to_string(),
                    why: match e {
                        rustls::Error::InconsistentKeys(_) => format!(
                            "the private key {} is not the key of this certificate",
                            key.display()
                        ),
                        other => super::tls_words::sentence(&other),
                    },
                })
        }
        (None, None) => Ok(builder.with_no_client_auth()),
        (Some(cert), None) => Err(TlsConfigError {
            what: "--cert",
            path: cert.display().to_string(),
            why: "needs --key (the URL's keyfile=) too".into(),
        }),
        (None, Some(key)) => Err(TlsConfigError {
            what: "--key",
            path: key.display().to_string(),
            why: "needs --cert (the URL's certfile=) too".into(),
        }),
    }
}

/// What a wire connection runs over: plain TCP, or TLS over TCP.
#[derive(Debug)]
pub enum Transport {
    Plain(TcpStream),
    /// TLS, and what was accepted that rustls refused (None: verified, or
    /// `--insecure`).
    Tls(
        Box<tokio_rustls::client::TlsStream<TcpStream>>,
        Option<Box<crate::vocab::tls::TlsLeniency>>,
    ),
}

impl Transport {
    /// The TCP socket underneath (for TCP_INFO, addresses, linger).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(s) => s,
            Transport::Tls(s, _) => s.get_ref().0,
        }
    }

    /// How many bytes one heartbeat frame (8 bytes of AMQP) takes on the
    /// TCP connection: 8 in the clear; in TLS, one record around it (5
    /// bytes of header and a 16-byte AEAD tag, plus the inner content type
    /// in TLS 1.3 or the 8-byte explicit nonce of AES-GCM in TLS 1.2).
    /// None for a suite whose overhead is not known.
    pub fn heartbeat_wire_bytes(&self) -> Option<u64> {
        let Transport::Tls(s, _) = self else {
            return Some(8);
        };
        let c = s.get_ref().1;
        let suite = c.negotiated_cipher_suite()?;
        match (c.protocol_version()?, suite) {
            (rustls::ProtocolVersion::TLSv1_3, _) => Some(5 + 8 + 1 + 16),
            (rustls::ProtocolVersion::TLSv1_2, rustls::SupportedCipherSuite::Tls12(s))
                if format!("{:?}", s.common.suite).contains("CHACHA20") =>
            {
                Some(5 + 8 + 16)
            }
            (rustls::ProtocolVersion::TLSv1_2, _) => Some(5 + 8 + 8 + 16),
            _ => None,
        }
    }

    /// How many bytes one TLS alert record (close_notify, say) takes on the
    /// TCP connection; None in the clear.
    pub fn alert_wire_bytes(&self) -> Option<u64> {
        // An alert is 2 bytes of payload where a heartbeat has 8.
        self.heartbeat_wire_bytes()
            .filter(|_| matches!(self, Transport::Tls(..)))
            .map(|hb| hb - 6)
    }

    /// What was accepted although rustls refused it (`--tls-as`).
    pub fn leniency(&self) -> Option<&crate::vocab::tls::TlsLeniency> {
        match self {
            Transport::Tls(_, l) => l.as_deref(),
            Transport::Plain(_) => None,
        }
    }

    /// The negotiated TLS version and cipher suite, for the timeline.
    pub fn tls_summary(&self) -> Option<String> {
        let Transport::Tls(s, _) = self else {
            return None;
        };
        let c = s.get_ref().1;
        Some(format!(
            "{} {}",
            c.protocol_version()
                .map_or("TLS".to_string(), |v| format!("{v:?}")
                    .replace("TLSv1_", "TLS 1.")),
            c.negotiated_cipher_suite()
                .map_or(String::new(), |cs| format!("{:?}", cs.suite()))
        ))
    }
}

impl std::os::fd::AsFd for Transport {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.tcp().as_fd()
    }
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(s, _) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Tls(s, _) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s, _) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s, _) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The TLS handshake over `tcp` for a server called `name`.
pub async fn handshake(
    tcp: TcpStream,
    (config, leniency): (Arc<ClientConfig>, super::tls_verify::Leniency),
    name: &str,
) -> Result<Transport, (TlsFailure, String)> {
    let server = ServerName::try_from(name.to_string()).map_err(|e| {
        (
            TlsFailure::Other,
            format!("`{name}` is not a TLS server name: {e}"),
        )
    })?;
    let client_cert = config.client_auth_cert_resolver.has_certs();
    tokio_rustls::TlsConnector::from(config)
        .connect(server, tcp)
        .await
        .map(|s| {
            let accepted = leniency.lock().ok().and_then(|mut l| l.accepted.take());
            Transport::Tls(Box::new(s), accepted.map(Box::new))
        })
        .map_err(|e| {
            let because = leniency
                .lock()
                .ok()
                .and_then(|mut l| l.refused_because.take());
            (
                failure(&e, client_cert).unwrap_or(TlsFailure::Other),
                match because {
                    Some(b) => format!("{}; {b}", words(&e)),
                    None => words(&e),
                },
            )
        })
}

/// How many heartbeats `bytes` are, when nothing but heartbeats crossed:
/// 8 bytes each in the clear; over TLS one record each, whose size depends
/// on the version and suite (30: TLS 1.3; 37: TLS 1.2 AES-GCM; 29: TLS 1.2
/// ChaCha20), tried in that order. None when no size fits.
pub fn heartbeat_count(bytes: u64, tls: bool) -> Option<u32> {
    let sizes: &[u64] = if tls { &[30, 37, 29] } else { &[8] };
    sizes
        .iter()
        .find(|s| bytes.is_multiple_of(**s))
        .map(|s| u32::try_from(bytes / s).unwrap_or(u32::MAX))
}

/// What a rustls error inside an I/O error means, if it is one.
/// `client_cert`: whether we offered a client certificate (an alert about
/// certificates then means it was refused, else that one is required).
pub fn failure(err: &io::Error, client_cert: bool) -> Option<TlsFailure> {
    let e = err.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(rustls_failure(e, client_cert))
}

/// One sentence for an I/O error from a TLS stream: the rustls refusal in
/// words when it is one, else the I/O error's own message.
pub fn words(err: &io::Error) -> String {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .map_or_else(|| err.to_string(), super::tls_words::sentence)
}

/// The rule, on rustls's error type (pure; table-tested).
pub fn rustls_failure(e: &rustls::Error, client_cert: bool) -> TlsFailure {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => TlsFailure::UnknownCa,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsFailure::NameMismatch
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                TlsFailure::Expired
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                TlsFailure::NotYetValid
            }
            _ => TlsFailure::Other,
        },
        E::AlertReceived(a) => match a {
            AlertDescription::CertificateRequired => TlsFailure::ClientCertificateRequired,
            AlertDescription::UnknownCA
            | AlertDescription::BadCertificate
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateExpired
            | AlertDescription::HandshakeFailure
            | AlertDescription::AccessDenied => {
                if client_cert {
                    TlsFailure::ClientCertificateRefused
                } else {
                    TlsFailure::ClientCertificateRequired
                }
            }
            AlertDescription::ProtocolVersion => TlsFailure::VersionMismatch,
            _ => TlsFailure::Other,
        },
        E::PeerIncompatible(_) => TlsFailure::VersionMismatch,
        E::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => TlsFailure::ToPlainPort,
        _ => TlsFailure::Other,
    }
}

/// Whether the first bytes a plain client got back are a TLS record (an
/// alert, 0x15, or a handshake, 0x16, of TLS 1.x): the port speaks TLS.
pub fn looks_like_tls(bytes: &[u8]) -> bool {
    matches!(bytes, [0x15 | 0x16, 0x03, 0x00..=0x04, ..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustls_errors_mean() {
        use rustls::Error as E;
        // (error, client cert offered, failure)
        let rows = [
            (
                E::InvalidCertificate(CertificateError::UnknownIssuer),
                false,
                TlsFailure::UnknownCa,
            ),
            (
                E::InvalidCertificate(CertificateError::NotValidForName),
                false,
                TlsFailure::NameMismatch,
            ),
            (
                E::InvalidCertificate(CertificateError::Expired),
                false,
                TlsFailure::Expired,
            ),
            (
                E::InvalidCertificate(CertificateError::NotValidYet),
                false,
                TlsFailure::NotYetValid,
            ),
            (
                E::AlertReceived(AlertDescription::CertificateRequired),
                false,
                TlsFailure::ClientCertificateRequired,
            ),
            (
                E::AlertReceived(AlertDescription::UnknownCA),
                true,
                TlsFailure::ClientCertificateRefused,
            ),
            (
                E::AlertReceived(AlertDescription::HandshakeFailure),
                false,
                TlsFailure::ClientCertificateRequired,
            ),
            (
                E::AlertReceived(AlertDescription::ProtocolVersion),
                false,
                TlsFailure::VersionMismatch,
            ),
            (
                E::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
                false,
                TlsFailure::ToPlainPort,
            ),
            (E::General("x".into()), false, TlsFailure::Other),
        ];
        for (e, cert, want) in rows {
            assert_eq!(rustls_failure(&e, cert), want, "{e:?}");
        }
        let io = io::Error::new(
            io::ErrorKind::InvalidData,
            E::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        assert_eq!(failure(&io, false), Some(TlsFailure::UnknownCa));
        assert_eq!(failure(&io::Error::other("plain"), false), None);
    }

    #[test]
    fn heartbeats_counted_in_records() {
        // (bytes, tls, heartbeats)
        let rows = [
            (40, false, Some(5)),
            (41, false, None),
            (150, true, Some(5)),
            (74, true, Some(2)),
            (0, true, Some(0)),
            (31, true, None),
        ];
        for (bytes, tls, want) in rows {
            assert_eq!(heartbeat_count(bytes, tls), want, "{bytes} {tls}");
        }
    }

    #[test]
    fn tls_records_are_recognised() {
        // RabbitMQ's answer to a plain AMQP header on its TLS port (measured).
        assert!(looks_like_tls(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a]));
        assert!(looks_like_tls(&[0x16, 0x03, 0x01, 0x00]));
        assert!(!looks_like_tls(b"AMQP\x00\x00\x09\x01"));
        assert!(!looks_like_tls(&[0x01, 0x00, 0x00]));
        assert!(!looks_like_tls(&[0x15]));
    }

    #[test]
    fn bad_files_are_named() {
        let s = |cacert: &str| TlsSettings {
            cacert: Some(cacert.into()),
            ..TlsSettings::default()
        };
        let e = client_config(&s("/nonexistent/ca.pem"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--cacert /nonexistent/ca.pem"), "{e}");
        let dir = std::env::temp_dir().join(format!("amqpdoctor-tls-{}", std::process::id()));
        std::fs::write(&dir, "not a certificate").unwrap();
        let e = client_config(&s(dir.to_str().unwrap()))
            .unwrap_err()
            .to_string();
        let _ = std::fs::remove_file(&dir);
        assert!(e.contains("no PEM certificate"), "{e}");
        let only_cert = TlsSettings {
            cert: Some("/c.pem".into()),
            ..TlsSettings::default()
        };
        assert!(client_config(&only_cert)
            .unwrap_err()
            .to_string()
            .contains("needs --key"));
        // The system's roots (or the compiled-in ones) with no files at all.
        assert!(client_config(&TlsSettings::default()).is_ok());
    }
}
