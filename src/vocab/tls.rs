//! TLS as the user's clients see it: the client families whose rules a run
//! can follow (`--tls-as`), what the network layer hands up when rustls
//! refuses a certificate ([`TlsRefusal`]), and what is recorded when the
//! run goes on because the chosen family would accept it ([`TlsLeniency`]).
//!
//! The rules themselves are data (data/knowledge/tls.toml, read by
//! `knowledge::tls`); the network layer cannot see that layer, so it asks a
//! [`TlsJudge`] handed down to it in the TLS settings.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// A family of TLS client libraries that judge certificates alike.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    Serialize,
    serde::Deserialize,
    strum::Display,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case", ascii_case_insensitive)]
pub enum TlsFamily {
    #[default]
    Openssl,
    Java,
    Dotnet,
    Go,
    Rustls,
}

impl TlsFamily {
    pub const ALL: [TlsFamily; 5] = [
        TlsFamily::Openssl,
        TlsFamily::Java,
        TlsFamily::Dotnet,
        TlsFamily::Go,
        TlsFamily::Rustls,
    ];

    /// The libraries this family stands for, for a reader.
    pub fn clients(self) -> &'static str {
        match self {
            TlsFamily::Openssl => {
                "OpenSSL: Python's ssl (pika, kombu, aio-pika), PHP, Ruby, Node, rabbitmq-c"
            }
            TlsFamily::Java => "Java (JSSE)",
            TlsFamily::Dotnet => ".NET (SslStream)",
            TlsFamily::Go => "Go (crypto/tls)",
            TlsFamily::Rustls => "rustls (lapin, amqprs)",
        }
    }

    /// A comma-separated list of families (`go,java`), for a flag.
    pub fn parse_list(s: &str) -> Result<Vec<TlsFamily>, String> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<TlsFamily>().map_err(|_| {
                    format!("`{p}` is not a TLS client family (openssl, java, dotnet, go, rustls)")
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .and_then(|v| {
                if v.is_empty() {
                    Err("name at least one TLS client family".to_string())
                } else {
                    Ok(v)
                }
            })
    }
}

/// What rustls refused, as facts: the server's certificate (DER), the name
/// connected to, and rustls's two separate answers (the chain to a trusted
/// root, the name), each the refusal's variant name (`CaUsedAsEndEntity`,
/// `NotValidForNameContext`) or None when that part passed.
#[derive(Debug, Clone, Copy)]
pub struct TlsRefusal<'a> {
    pub leaf: &'a [u8],
    pub host: &'a str,
    pub chain: Option<&'a str>,
    pub name: Option<&'a str>,
    /// Whether the leaf itself is one of the trusted certificates.
    pub leaf_in_roots: bool,
    /// Seconds since the Unix epoch, as the handshake saw it.
    pub now_unix: u64,
    /// rustls's refusal (the first: the chain's, else the name's), in words.
    pub words: &'a str,
}

/// [`TlsRefusal`] owned, as the verifier records it for `amqpdoctor tls`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsRefusalFacts {
    pub leaf: Vec<u8>,
    pub host: String,
    pub chain: Option<String>,
    pub name: Option<String>,
    pub leaf_in_roots: bool,
    pub now_unix: u64,
    pub words: String,
}

impl TlsRefusalFacts {
    pub fn of(r: &TlsRefusal<'_>) -> Self {
        TlsRefusalFacts {
            leaf: r.leaf.to_vec(),
            host: r.host.to_string(),
            chain: r.chain.map(str::to_string),
            name: r.name.map(str::to_string),
            leaf_in_roots: r.leaf_in_roots,
            now_unix: r.now_unix,
            words: r.words.to_string(),
        }
    }

    pub fn refusal(&self) -> TlsRefusal<'_> {
        TlsRefusal {
            leaf: &self.leaf,
            host: &self.host,
            chain: self.chain.as_deref(),
            name: self.name.as_deref(),
            leaf_in_roots: self.leaf_in_roots,
            now_unix: self.now_unix,
            words: &self.words,
        }
    }
}

/// A run going on although rustls refused the certificate, because the
/// family whose rules it follows accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsLeniency {
    /// The family whose rules were followed (`--tls-as`).
    pub accepted_as: TlsFamily,
    /// What rustls refused, in words.
    pub rustls_refused: String,
    /// The certificate shapes found (ids of data/knowledge/tls.toml).
    pub shapes: Vec<String>,
    /// Those shapes in words (their titles).
    pub why: Vec<String>,
    /// The families that would refuse this certificate.
    pub refused_by: Vec<TlsFamily>,
    /// The families whose verdict is not known.
    pub unknown_for: Vec<TlsFamily>,
}

impl TlsLeniency {
    /// One line for a report: what was accepted, and who would refuse it.
    pub fn note(&self) -> String {
        let list = |v: &[TlsFamily]| {
            v.iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = format!(
            "rustls refused the server's certificate: {}. {} clients accept it ({}), so the \
             diagnosis went on as they connect (--tls-as {}).",
            self.rustls_refused,
            self.accepted_as,
            self.why.join("; "),
            self.accepted_as
        );
        if !self.refused_by.is_empty() {
            out.push_str(&format!(" Would refuse it: {}.", list(&self.refused_by)));
        }
        if !self.unknown_for.is_empty() {
            out.push_str(&format!(" Not known for: {}.", list(&self.unknown_for)));
        }
        out
    }
}

/// Said of a certificate with no subjectAltName at all (the classifier
/// gives such a name mismatch its own advice).
pub const NO_SAN: &str = "the certificate has no subjectAltName";

/// A family's answer to what rustls refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsJudgement {
    /// The family accepts it: the run goes on.
    Accept(TlsLeniency),
    /// The family refuses it too, for a known reason: `by_name` when the
    /// name (not the chain) is what it refuses; `why` in words.
    Refuse { by_name: bool, why: String },
    /// Not a shape the rules know: rustls's refusal stands as it is.
    Unknown,
}

/// Decides whether the chosen family accepts what rustls refused.
pub trait TlsJudge: Send + Sync {
    fn judge(&self, refusal: &TlsRefusal<'_>, family: TlsFamily) -> TlsJudgement;
}

/// A judge handed down in the TLS settings; equal to any other (settings
/// compare by what the user asked for).
#[derive(Clone, Default)]
pub struct JudgeHandle(pub Option<Arc<dyn TlsJudge>>);

impl PartialEq for JudgeHandle {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for JudgeHandle {}

impl fmt::Debug for JudgeHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "JudgeHandle(set)"
        } else {
            "JudgeHandle(none)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_lists_parse() {
        assert_eq!(
            TlsFamily::parse_list("go, Java").unwrap(),
            [TlsFamily::Go, TlsFamily::Java]
        );
        assert!(TlsFamily::parse_list("gnutls")
            .unwrap_err()
            .contains("`gnutls`"));
        assert!(TlsFamily::parse_list(",").is_err());
    }
}
