//! When the management API cannot be read: the failure and its one line.

use crate::vocab::units::secs;

/// Why a request to the management API failed: the facts the run layer
/// saw. Its `Display` is the one line `audit` prints (exit 3): what was
/// asked, what happened, and what to try.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("reading {url}: {}", describe(.kind, .user))]
pub struct ApiFailure {
    /// The request's URL with the password as `***`.
    pub url: String,
    /// Who tried to log in.
    pub user: String,
    pub kind: ApiFailureKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiFailureKind {
    /// The TCP connection failed or broke.
    Network {
        errno: Option<i32>,
        detail: String,
    },
    /// The host name did not resolve.
    Dns,
    /// No complete answer within the timeout.
    Timeout {
        after_ms: u64,
    },
    /// An HTTP status other than 2xx.
    Status {
        code: u16,
        reason: Option<String>,
        /// Where a redirect points.
        location: Option<String>,
    },
    Tls {
        detail: String,
    },
    /// The answer is larger than amqpdoctor reads.
    TooLarge {
        limit: u64,
    },
    /// The answer is not the JSON the API sends.
    NotJson {
        detail: String,
    },
    /// Not an HTTP answer.
    Protocol {
        detail: String,
    },
}

const ENABLE: &str = "`rabbitmq-plugins enable rabbitmq_management`";

fn describe(kind: &ApiFailureKind, user: &str) -> String {
    use ApiFailureKind as K;
    match kind {
        K::Network {
            errno: Some(111),
            detail,
        } => format!(
            "{detail} — is the management plugin enabled and listening there? {ENABLE} (it \
             listens on port 15672)"
        ),
        K::Network { detail, .. } => {
            format!("{detail} — check the host and port of --management and that the broker is up")
        }
        K::Dns => "the host name does not resolve — check the host in --management".into(),
        K::Timeout { after_ms } => format!(
            "no complete answer within {} (--timeout) — is the host right, is a firewall \
             dropping the port, is the broker overloaded?",
            secs(*after_ms)
        ),
        K::Status { code: 401, .. } | K::Status { code: 403, .. } => format!(
            "HTTP {} — the management API refused user `{user}`: check the user and password \
             (user:password@ in --management, or --password-file FILE) and that the user has \
             the `monitoring` tag (`rabbitmqctl set_user_tags USER monitoring`); `guest` may \
             log in from localhost only",
            status_text(kind)
        ),
        K::Status { code: 404, .. } => format!(
            "HTTP {} — is this the management API? Give its base URL, e.g. \
             http://broker:15672 (with the path prefix, if it has one); {ENABLE}",
            status_text(kind)
        ),
        K::Status {
            code: 300..=399,
            location,
            ..
        } => format!(
            "HTTP {} — the API redirects{}; give that URL to --management (credentials are \
             not sent after a redirect)",
            status_text(kind),
            location
                .as_deref()
                .map(|l| format!(" to {}", crate::target::redact_url_text(l)))
                .unwrap_or_default()
        ),
        K::Status { code: 500.., .. } => format!(
            "HTTP {} — the management API could not answer; try again, and see the broker's \
             log",
            status_text(kind)
        ),
        K::Status { .. } => format!(
            "HTTP {} — is this the management API? Give its base URL, e.g. http://broker:15672 \
             (with the path prefix, if it has one)",
            status_text(kind)
        ),
        K::Tls { detail } => {
            format!("TLS failed ({detail}) — check that the port speaks https, and the certificate")
        }
        K::TooLarge { limit } => format!(
            "the answer is larger than {} MiB, the most amqpdoctor reads — is this the \
             management API? (a broker with many thousands of connections can exceed it)",
            limit / (1024 * 1024)
        ),
        K::NotJson { detail } => format!(
            "the answer is not the management API's JSON ({detail}) — is this the management \
             API? Give its base URL, e.g. http://broker:15672"
        ),
        K::Protocol { detail } => format!(
            "not an HTTP answer ({detail}) — is this the management API's port (15672), and \
             is it http or https?"
        ),
    }
}

fn status_text(kind: &ApiFailureKind) -> String {
    match kind {
        ApiFailureKind::Status {
            code,
            reason: Some(r),
            ..
        } => format!("{code} {r}"),
        ApiFailureKind::Status { code, .. } => code.to_string(),
        _ => String::new(),
    }
}
