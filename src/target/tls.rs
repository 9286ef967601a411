//! An `amqps://` target's TLS settings: from the URL's query, with the
//! command line's flags on top.

use super::Target;

/// How to speak TLS to an `amqps://` target: from the URL's query, with
/// the command line's flags on top.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// CA certificates (PEM) to trust; None: the system's roots.
    pub cacert: Option<std::path::PathBuf>,
    /// A client certificate chain and its key (PEM), for mutual TLS or
    /// EXTERNAL.
    pub cert: Option<std::path::PathBuf>,
    pub key: Option<std::path::PathBuf>,
    /// The name to verify the server's certificate against (and send as
    /// SNI); None: the URL's host.
    pub server_name: Option<String>,
    /// Accept any certificate (diagnosis only; every report warns).
    pub insecure: bool,
    /// Whose rules decide a certificate rustls refuses (`--tls-as`);
    /// None: OpenSSL's, the family most AMQP clients use.
    pub tls_as: Option<crate::vocab::tls::TlsFamily>,
    /// Who applies those rules (set by the command; none: rustls alone).
    pub judge: crate::vocab::tls::JudgeHandle,
}

impl TlsSettings {
    /// The settings the URL's query gives.
    pub(super) fn from_query(options: &super::UriOptions) -> Self {
        TlsSettings {
            cacert: options.cacertfile.clone().map(Into::into),
            cert: options.certfile.clone().map(Into::into),
            key: options.keyfile.clone().map(Into::into),
            server_name: options.server_name_indication.clone(),
            insecure: options.verify == Some(false),
            ..TlsSettings::default()
        }
    }
}

impl Target {
    /// Whether this is an `amqps://` target.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The TLS settings of an `amqps://` target.
    pub fn tls(&self) -> Option<&TlsSettings> {
        self.tls.as_ref()
    }

    /// The same target with the command line's TLS flags on top of the
    /// URL's (a flag beats the URL). No effect on an `amqp://` target.
    pub fn with_tls_flags(mut self, flags: &TlsSettings) -> Self {
        if let Some(t) = self.tls.as_mut() {
            t.cacert = flags.cacert.clone().or(t.cacert.take());
            t.cert = flags.cert.clone().or(t.cert.take());
            t.key = flags.key.clone().or(t.key.take());
            t.server_name = flags.server_name.clone().or(t.server_name.take());
            t.insecure |= flags.insecure;
            t.tls_as = flags.tls_as.or(t.tls_as);
            t.judge = flags.judge.clone();
        }
        self
    }

    /// The name the server's certificate must carry: `--tls-server-name`
    /// or the URL's `server_name_indication=`, else the host.
    pub fn tls_server_name(&self) -> &str {
        self.tls
            .as_ref()
            .and_then(|t| t.server_name.as_deref())
            .unwrap_or(&self.host)
    }
}
