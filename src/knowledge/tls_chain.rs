//! The certificates a server sent, as people read them, and each client
//! family's verdict on them (pure: DER and rustls's refusal in, words out;
//! the rules are data/knowledge/tls.toml via [`super::tls::leniency`]).

use serde::Serialize;
use x509_parser::prelude::*;

use super::tls::{Family, Verdict};
use crate::vocab::tls::{TlsJudgement, TlsRefusalFacts};

/// One certificate of the chain as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    /// DNS names and IP addresses of the subjectAltName.
    pub sans: Vec<String>,
    /// notBefore and notAfter (RFC 2822).
    pub not_before: String,
    pub not_after: String,
    /// Whole days from now to notAfter (negative: expired).
    pub days_left: i64,
    /// `RSA 2048`, `EC P-256`, `Ed25519`.
    pub key: String,
    /// `sha256WithRSAEncryption`, `ecdsa-with-SHA256`.
    pub signature: String,
    pub is_ca: bool,
    pub self_signed: bool,
}

/// A certificate of the chain; None when it does not parse.
pub fn summary(der: &[u8], now_unix: i64) -> Option<CertSummary> {
    let (_, c) = X509Certificate::from_der(der).ok()?;
    let mut sans = Vec::new();
    if let Ok(Some(san)) = c.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => sans.push(format!("DNS:{d}")),
                GeneralName::IPAddress(b) => sans.push(format!("IP:{}", ip(b))),
                _ => {}
            }
        }
    }
    let v = c.validity();
    let sig_oid = &c.signature_algorithm.algorithm;
    Some(CertSummary {
        subject: c.subject().to_string(),
        issuer: c.issuer().to_string(),
        sans,
        not_before: v.not_before.to_rfc2822().unwrap_or_default(),
        not_after: v.not_after.to_rfc2822().unwrap_or_default(),
        days_left: (v.not_after.timestamp() - now_unix).div_euclid(86_400),
        key: key(&c),
        signature: x509_parser::objects::oid2sn(sig_oid, x509_parser::objects::oid_registry())
            .map_or_else(|_| sig_oid.to_id_string(), str::to_string),
        is_ca: c.is_ca(),
        self_signed: c.subject() == c.issuer(),
    })
}

fn ip(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => <[u8; 16]>::try_from(b).map_or_else(
            |_| String::new(),
            |a| std::net::Ipv6Addr::from(a).to_string(),
        ),
        _ => String::new(),
    }
}

fn key(c: &X509Certificate<'_>) -> String {
    use x509_parser::public_key::PublicKey as K;
    match c.public_key().parsed() {
        Ok(K::RSA(r)) => format!("RSA {}", r.key_size()),
        Ok(K::EC(p)) => format!(
            "EC {}",
            match p.key_size() {
                256 => "P-256".to_string(),
                384 => "P-384".to_string(),
                521 => "P-521".to_string(),
                n => format!("{n} bits"),
            }
        ),
        Ok(K::DSA(_)) => "DSA".into(),
        _ => {
            let alg = c.public_key().algorithm.algorithm.to_id_string();
            match alg.as_str() {
                "1.3.101.112" => "Ed25519".into(),
                "1.3.101.113" => "Ed448".into(),
                other => other.to_string(),
            }
        }
    }
}

/// Whether the chain as sent reaches a trusted root: None when rustls did
/// not say (no refusal of the chain: complete); false when the issuer of
/// the last certificate sent is unknown and that certificate is not
/// self-signed (the server left its intermediate out, or the CA is not
/// trusted).
pub fn chain_complete(chain: &[CertSummary], refusal: Option<&TlsRefusalFacts>) -> bool {
    match refusal.and_then(|r| r.chain.as_deref()) {
        Some("UnknownIssuer") => chain.last().is_some_and(|c| c.self_signed),
        _ => true,
    }
}

/// One family's verdict on the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FamilyAcceptance {
    pub family: Family,
    /// None: not known (no source says).
    pub accepted: Option<bool>,
    pub reason: String,
    /// The rule's source (repository, path, version); empty when the
    /// verdict is rustls's own or follows from it.
    pub source: String,
}

/// Every family's verdict. `refusal`: what rustls refused (None: it
/// verified the certificate).
pub fn acceptance(refusal: Option<&TlsRefusalFacts>) -> Vec<FamilyAcceptance> {
    Family::ALL
        .into_iter()
        .map(|family| match refusal {
            None => FamilyAcceptance {
                family,
                accepted: Some(true),
                reason: "rustls verified the chain and the name; no rule of amqpdoctor's makes \
                         this family stricter"
                    .into(),
                source: String::new(),
            },
            Some(r) => judged(r, family),
        })
        .collect()
}

fn judged(r: &TlsRefusalFacts, family: Family) -> FamilyAcceptance {
    let rule_source = |ids: &[String]| {
        ids.iter()
            .filter_map(|id| super::tls::shape(id)?.rule(family))
            .map(|rule| {
                format!(
                    "{} {} ({})",
                    rule.source.from, rule.source.path, rule.source.version
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    match super::tls::leniency(&r.refusal(), family) {
        TlsJudgement::Accept(l) => FamilyAcceptance {
            family,
            accepted: Some(true),
            reason: format!("accepts: {}", l.why.join("; ")),
            source: rule_source(&l.shapes),
        },
        TlsJudgement::Refuse { why, .. } => FamilyAcceptance {
            family,
            accepted: Some(false),
            reason: why,
            source: String::new(),
        },
        TlsJudgement::Unknown => {
            // A known shape whose verdict for this family is unknown, or no
            // known shape at all: then every family refuses what rustls does.
            let facts = super::tls::facts(&r.leaf);
            let unknown = facts.as_ref().is_some_and(|f| {
                [r.chain.as_deref(), r.name.as_deref()]
                    .into_iter()
                    .flatten()
                    .flat_map(|x| super::tls::shapes_of(f, x, &r.host, r.leaf_in_roots))
                    .any(|id| {
                        super::tls::shape(id)
                            .and_then(|s| s.rule(family))
                            .is_some_and(|rule| rule.verdict == Verdict::Unknown)
                    })
            });
            FamilyAcceptance {
                family,
                accepted: if unknown { None } else { Some(false) },
                reason: if unknown {
                    "not known: no source says what this family does with it".into()
                } else if family == Family::Rustls {
                    format!("refuses: {}", r.words)
                } else {
                    format!("refuses, as rustls does: {}", r.words)
                },
                source: String::new(),
            }
        }
    }
}
