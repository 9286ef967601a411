//! Which client families accept a certificate rustls refused: the rules
//! are data (data/knowledge/tls.toml: certificate shape × family → verdict,
//! each with its source); the code here reads the facts of the server's
//! certificate, decides which shapes it has, and looks the verdicts up.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use super::Source;

/// A family of TLS client libraries that judge certificates alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Family {
    Openssl,
    Java,
    Dotnet,
    Go,
    Rustls,
}

impl Family {
    pub const ALL: [Family; 5] = [
        Family::Openssl,
        Family::Java,
        Family::Dotnet,
        Family::Go,
        Family::Rustls,
    ];

    /// The libraries this family stands for, for a reader.
    pub fn clients(self) -> &'static str {
        match self {
            Family::Openssl => {
                "OpenSSL: Python's ssl (pika, kombu, aio-pika), PHP, Ruby, Node, rabbitmq-c"
            }
            Family::Java => "Java (JSSE)",
            Family::Dotnet => ".NET (SslStream)",
            Family::Go => "Go (crypto/tls)",
            Family::Rustls => "rustls (lapin, amqprs)",
        }
    }
}

/// What a family does with a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Verdict {
    Accept,
    Refuse,
    Unknown,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyRule {
    pub family: Family,
    pub verdict: Verdict,
    pub why: String,
    pub evidence: String,
    pub source: Source,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    pub id: String,
    pub title: String,
    pub made_by: String,
    pub family: Vec<FamilyRule>,
}

impl Shape {
    pub fn rule(&self, f: Family) -> Option<&FamilyRule> {
        self.family.iter().find(|r| r.family == f)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    shape: Vec<Shape>,
}

/// The shapes, as compiled in.
pub fn shapes() -> &'static [Shape] {
    static S: OnceLock<Vec<Shape>> = OnceLock::new();
    S.get_or_init(|| {
        toml::from_str::<TlsFile>(include_str!("../../data/knowledge/tls.toml"))
            .unwrap_or_else(|e| panic!("data/knowledge/tls.toml: {e}"))
            .shape
    })
}

pub fn shape(id: &str) -> Option<&'static Shape> {
    shapes().iter().find(|s| s.id == id)
}

/// The facts of a server certificate that the shapes depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertFacts {
    /// basicConstraints cA=TRUE.
    pub is_ca: bool,
    /// Subject and issuer are the same name.
    pub self_issued: bool,
    pub dns_sans: Vec<String>,
    pub ip_sans: Vec<String>,
    pub common_name: Option<String>,
    pub rsa_bits: Option<u32>,
    pub sha1_signature: bool,
}

/// The facts of a DER certificate; None when it does not parse.
pub fn facts(der: &[u8]) -> Option<CertFacts> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let mut f = CertFacts {
        is_ca: cert.is_ca(),
        self_issued: cert.subject() == cert.issuer(),
        common_name: cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string),
        sha1_signature: {
            let oid = cert.signature_algorithm.algorithm.to_id_string();
            // sha1WithRSAEncryption, ecdsa-with-SHA1, dsa-with-sha1
            [
                "1.2.840.113549.1.1.5",
                "1.2.840.10045.4.1",
                "1.2.840.10040.4.3",
            ]
            .contains(&oid.as_str())
        },
        ..CertFacts::default()
    };
    if let Ok(x509_parser::public_key::PublicKey::RSA(rsa)) = cert.public_key().parsed() {
        f.rsa_bits = u32::try_from(rsa.key_size()).ok();
    }
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => f.dns_sans.push(d.to_string()),
                GeneralName::IPAddress(b) => f.ip_sans.push(ip_text(b)),
                _ => {}
            }
        }
    }
    Some(f)
}

fn ip_text(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => <[u8; 16]>::try_from(b).map_or_else(
            |_| String::new(),
            |a| std::net::Ipv6Addr::from(a).to_string(),
        ),
        _ => String::new(),
    }
}

/// The shapes a refused certificate has. `refusal`: the name of rustls's
/// (or webpki's) refusal; `host`: the name connected to; `in_ca_file`:
/// whether the leaf itself is one of the trusted certificates.
pub fn shapes_of(
    facts: &CertFacts,
    refusal: &str,
    host: &str,
    in_ca_file: bool,
) -> Vec<&'static str> {
    let is_ip = host.parse::<std::net::IpAddr>().is_ok();
    let cn_is_host = facts
        .common_name
        .as_deref()
        .is_some_and(|cn| cn.eq_ignore_ascii_case(host));
    let mut out = Vec::new();
    match refusal {
        "CaUsedAsEndEntity" if facts.is_ca && facts.self_issued && in_ca_file => {
            out.push("self_signed_ca_leaf");
        }
        "NotValidForName" | "NotValidForNameContext" | "CertNotValidForName" if cn_is_host => {
            match (is_ip, facts.ip_sans.is_empty(), facts.dns_sans.is_empty()) {
                (true, true, _) => out.push("ip_only_in_cn"),
                (false, _, true) => out.push("cn_only"),
                _ => {}
            }
        }
        "Expired" | "ExpiredContext" | "CertExpired" => out.push("expired_minutes"),
        "UnsupportedSignatureAlgorithm"
        | "UnsupportedSignatureAlgorithmContext"
        | "UnsupportedSignatureAlgorithmForPublicKeyContext"
        | "UnsupportedSignatureAlgorithmForPublicKey"
        | "InvalidSignatureForPublicKey"
        | "BadSignature" => {
            if facts.sha1_signature {
                out.push("sha1_signature");
            }
            if facts.rsa_bits.is_some_and(|b| b < 2048) {
                out.push("rsa_under_2048");
            }
        }
        "ServerDoesNotSupportTls12Or13" => out.push("tls_1_0_1_1_only"),
        _ => {}
    }
    out
}

/// A family's verdict on a certificate with these shapes: refused when any
/// shape is refused, unknown when any is unknown, else accepted; with the
/// rule that decided (None: no shape, nothing to judge).
pub fn judge(shape_ids: &[&str], f: Family) -> Option<(Verdict, &'static FamilyRule)> {
    let rules: Vec<&FamilyRule> = shape_ids
        .iter()
        .filter_map(|id| shape(id)?.rule(f))
        .collect();
    [Verdict::Refuse, Verdict::Unknown, Verdict::Accept]
        .into_iter()
        .find_map(|v| rules.iter().find(|r| r.verdict == v).map(|r| (v, *r)))
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
