//! The TLS flags every connecting command shares, and `amqpdoctor tls`'s.

use clap::Args;

use super::{format, ColorArg, ConnectArgs};
use crate::vocab::format::Format;

/// TLS for `amqps://` targets; each flag beats the URL's query parameter.
#[derive(Debug, Clone, Default, Args)]
pub struct TlsArgs {
    /// CA certificates to trust (PEM) [default: the URL's cacertfile=, else the system's roots].
    #[arg(long, value_name = "FILE", env = "AMQPDOCTOR_CACERT")]
    pub cacert: Option<std::path::PathBuf>,

    /// Client certificate chain (PEM), for mutual TLS or auth_mechanism=external.
    #[arg(long, value_name = "FILE", env = "AMQPDOCTOR_CERT", requires = "key")]
    pub cert: Option<std::path::PathBuf>,

    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "FILE", env = "AMQPDOCTOR_KEY", requires = "cert")]
    pub key: Option<std::path::PathBuf>,

    /// Verify the server's certificate for NAME (and send it as SNI) instead of the URL's host.
    #[arg(long, value_name = "NAME", env = "AMQPDOCTOR_TLS_SERVER_NAME")]
    pub tls_server_name: Option<String>,

    /// Do not verify the server's certificate (to diagnose only; every report says so).
    #[arg(long, env = "AMQPDOCTOR_INSECURE")]
    pub insecure: bool,

    /// Whose rules decide a certificate rustls refuses: openssl (pika, kombu, PHP, Node,
    /// rabbitmq-c), go, java, dotnet or rustls. When that family accepts it the diagnosis
    /// goes on, with a note naming what was accepted and which families would refuse it.
    #[arg(long, value_name = "FAMILY", env = "AMQPDOCTOR_TLS_AS", default_value = "openssl",
          value_parser = parse_tls_family)]
    pub tls_as: crate::vocab::tls::TlsFamily,
}

/// A comma-separated list of TLS client families.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Families(pub Vec<crate::vocab::tls::TlsFamily>);

pub(super) fn parse_families(s: &str) -> Result<Families, String> {
    crate::vocab::tls::TlsFamily::parse_list(s).map(Families)
}

fn parse_tls_family(s: &str) -> Result<crate::vocab::tls::TlsFamily, String> {
    match crate::vocab::tls::TlsFamily::parse_list(s)?.as_slice() {
        [one] => Ok(*one),
        _ => Err("name one TLS client family".to_string()),
    }
}

impl TlsArgs {
    pub fn settings(&self) -> crate::target::TlsSettings {
        crate::target::TlsSettings {
            cacert: self.cacert.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
            server_name: self.tls_server_name.clone(),
            insecure: self.insecure,
            tls_as: Some(self.tls_as),
            judge: crate::vocab::tls::JudgeHandle::default(),
        }
    }

    /// Whether any TLS flag was given.
    pub fn any(&self) -> bool {
        self.cacert.is_some()
            || self.cert.is_some()
            || self.tls_server_name.is_some()
            || self.insecure
    }
}

#[derive(Debug, Clone, Args)]
pub struct TlsCmdArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Exit 1 when a named client family refuses the certificate (openssl, java, dotnet, go,
    /// rustls; comma-separated).
    #[arg(long, value_name = "FAMILY,...", value_parser = parse_families)]
    pub expect_accepted_by: Option<Families>,

    #[arg(long, default_value = "human", value_parser = format::parser(format::TLS))]
    pub format: Format,

    /// Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}
