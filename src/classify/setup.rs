//! Runs that failed before their experiment began: the one rule that maps
//! a typed setup failure (from the wire client or from lapin) to a verdict.

use serde::Serialize;

use super::errno::ErrnoClass;
use crate::vocab::{Awaiting, CloseInfo, FailureKind, PeerAnswer, SetupError, Stage, VerdictCode};

/// A run that could not get as far as the experiment, classified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetupFailure {
    pub code: VerdictCode,
    pub stage: Stage,
    pub message: String,
    pub errno: Option<i32>,
    pub close: Option<CloseInfo>,
    /// The SASL mechanisms the server offered, when none was usable.
    pub offered_mechanisms: Option<Vec<String>>,
    /// What a peer that does not speak AMQP 0-9-1 answered instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_answered: Option<PeerAnswer>,
}

impl SetupFailure {
    pub fn classify(err: &SetupError) -> Self {
        SetupFailure {
            code: setup_code(err),
            stage: err.stage,
            message: err.message.clone(),
            errno: err.errno(),
            close: err.close().cloned(),
            offered_mechanisms: match &err.kind {
                FailureKind::NoMechanism { offered } => Some(offered.clone()),
                _ => None,
            },
            peer_answered: match &err.kind {
                FailureKind::ProtocolMismatch(a) => Some(*a),
                _ => None,
            },
        }
    }
}

/// The verdict for a run that failed before its experiment began.
pub fn setup_code(err: &SetupError) -> VerdictCode {
    let handshake = err.stage == Stage::Handshake;
    match &err.kind {
        _ if err.stage == Stage::Connect => VerdictCode::ConnectFailed,
        FailureKind::ConnectionClose(c) | FailureKind::ChannelClose(c) => match c.reply_code {
            403 if handshake => VerdictCode::AuthFailed,
            // A refusal that answers Start-Ok (class 10, method 11) or
            // Secure-Ok (21) is about the login, whatever its code:
            // GarageMQ answers a wrong password with 530.
            530 | 402 if handshake && c.class_id == 10 && matches!(c.method_id, 11 | 21) => {
                VerdictCode::AuthFailed
            }
            530 | 402 if handshake && super::fault::connection_limit(&c.reply_text).is_some() => {
                VerdictCode::ConnectionLimit
            }
            530 | 402 if handshake => VerdictCode::VhostNotAllowed,
            _ => VerdictCode::ServerClosed,
        },
        FailureKind::Tls(t) => t.verdict(),
        FailureKind::ProtocolMismatch(_) | FailureKind::Invalid => VerdictCode::ProtocolMismatch,
        // It speaks AMQP; we cannot log in.
        FailureKind::NoMechanism { .. } => VerdictCode::AuthFailed,
        FailureKind::Timeout => VerdictCode::Timeout,
        // RabbitMQ without the authentication_failure_close capability, and
        // other brokers, drop the socket after a refused login: the EOF
        // comes where Connection.Tune should have.
        FailureKind::Eof {
            awaiting: Awaiting::ConnectionTune,
        } if handshake => VerdictCode::AuthFailed,
        FailureKind::Eof { .. } => VerdictCode::PeerClosed,
        FailureKind::Io { errno } => match ErrnoClass::from_raw(*errno) {
            ErrnoClass::Reset => VerdictCode::PeerReset,
            ErrnoClass::BrokenPipe | ErrnoClass::Eof => VerdictCode::PeerClosed,
            // An I/O failure without an errno is a library's word for a
            // connection that went away.
            ErrnoClass::Other if errno.is_none() => VerdictCode::PeerClosed,
            _ => VerdictCode::ConnectFailed,
        },
    }
}

/// What to do about a failed TLS handshake: the verdict's first remedy,
/// except for a name only in the subject CN of a certificate with no
/// subjectAltName, where "connect by a name in the SAN" cannot help.
pub fn tls_remedy(code: VerdictCode, message: &str, fallback: &str) -> String {
    if code == VerdictCode::TlsNameMismatch && message.contains(crate::vocab::tls::NO_SAN) {
        return "The certificate has no subjectAltName: its name is only in the subject CN, \
                which Go (since 1.15) and rustls do not read, while OpenSSL-based clients (pika, \
                PHP, Node) and Java still do. Reissue it with every name clients use in its \
                subjectAltName (`-addext subjectAltName=DNS:broker.example.com`); until then \
                `--tls-as openssl` follows the clients that read the CN."
            .to_string();
    }
    crate::knowledge::verdict(code)
        .and_then(|v| v.about.remedy.first().cloned())
        .unwrap_or_else(|| fallback.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_failures() {
        let close = |code| {
            FailureKind::ConnectionClose(CloseInfo {
                reply_code: code,
                reply_text: String::new(),
                class_id: 10,
                method_id: 40,
            })
        };
        let eof = |awaiting| FailureKind::Eof { awaiting };
        let io = |n| FailureKind::Io { errno: Some(n) };
        use Stage::{Channel, Connect, Handshake};
        let rows = [
            (Handshake, close(403), VerdictCode::AuthFailed),
            (Handshake, close(530), VerdictCode::VhostNotAllowed),
            (Handshake, close(402), VerdictCode::VhostNotAllowed),
            // GarageMQ: 530 in answer to Start-Ok is a refused login
            (
                Handshake,
                FailureKind::ConnectionClose(CloseInfo {
                    reply_code: 530,
                    reply_text: "NOT_ALLOWED - login failure".into(),
                    class_id: 10,
                    method_id: 11,
                }),
                VerdictCode::AuthFailed,
            ),
            (
                Handshake,
                FailureKind::Tls(crate::vocab::TlsFailure::UnknownCa),
                VerdictCode::TlsUnknownCa,
            ),
            (Channel, close(403), VerdictCode::ServerClosed),
            (Channel, close(530), VerdictCode::ServerClosed),
            (
                Handshake,
                FailureKind::ProtocolMismatch(crate::vocab::PeerAnswer::Http),
                VerdictCode::ProtocolMismatch,
            ),
            (
                Handshake,
                FailureKind::Invalid,
                VerdictCode::ProtocolMismatch,
            ),
            (
                Handshake,
                eof(Awaiting::ConnectionTune),
                VerdictCode::AuthFailed,
            ),
            (
                Handshake,
                eof(Awaiting::ConnectionStart),
                VerdictCode::PeerClosed,
            ),
            (Handshake, FailureKind::Timeout, VerdictCode::Timeout),
            (
                Handshake,
                FailureKind::NoMechanism {
                    offered: vec!["EXTERNAL".into()],
                },
                VerdictCode::AuthFailed,
            ),
            (Handshake, io(104), VerdictCode::PeerReset),
            (Handshake, io(32), VerdictCode::PeerClosed),
            (
                Handshake,
                FailureKind::Io { errno: None },
                VerdictCode::PeerClosed,
            ),
            (Connect, io(111), VerdictCode::ConnectFailed),
            (Connect, FailureKind::Timeout, VerdictCode::ConnectFailed),
        ];
        for (stage, kind, want) in rows {
            let err = SetupError {
                stage,
                kind: kind.clone(),
                message: String::new(),
            };
            assert_eq!(setup_code(&err), want, "{stage} {kind:?}");
        }
    }
}
