//! Which client families accept a certificate rustls refused: the rules
//! are data (data/knowledge/tls.toml: certificate shape × family → verdict,
//! each with its source); the code here reads the facts of the server's
//! certificate, decides which shapes it has, and looks the verdicts up.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use super::Source;
use crate::vocab::tls::{TlsJudge, TlsJudgement, TlsLeniency, TlsRefusal, NO_SAN};

pub use crate::vocab::tls::TlsFamily as Family;

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
    /// notBefore and notAfter, seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
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
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
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

/// What `family` does with what rustls refused, from the certificate's
/// facts: every refusal (the chain's, the name's) must be a known shape,
/// and the family must accept every shape for the run to go on.
pub fn leniency(r: &TlsRefusal<'_>, family: Family) -> TlsJudgement {
    let Some(facts) = facts(r.leaf) else {
        return TlsJudgement::Unknown;
    };
    // (shape, found in the name's refusal)
    let mut found: Vec<(&'static str, bool)> = Vec::new();
    for (refusal, by_name) in [(r.chain, false), (r.name, true)] {
        let Some(refusal) = refusal else { continue };
        let ids = shapes_of(&facts, refusal, r.host, r.leaf_in_roots);
        if ids.is_empty() {
            return TlsJudgement::Unknown;
        }
        found.extend(ids.into_iter().map(|id| (id, by_name)));
    }
    // webpki stops at CaUsedAsEndEntity before looking at the dates; a
    // trust anchor's dates are still checked by OpenSSL, Java and Go.
    let now = i64::try_from(r.now_unix).unwrap_or(i64::MAX);
    if r.chain == Some("CaUsedAsEndEntity") && !(facts.not_before..=facts.not_after).contains(&now)
    {
        return TlsJudgement::Unknown;
    }
    let ids: Vec<&str> = found.iter().map(|(id, _)| *id).collect();
    let verdict_of = |f: Family| judge(&ids, f).map(|(v, _)| v);
    match judge(&ids, family) {
        Some((Verdict::Accept, _)) => {}
        Some((Verdict::Refuse, _)) => {
            let refusing = found.iter().find_map(|(id, by_name)| {
                let s = shape(id)?;
                let rule = s.rule(family).filter(|r| r.verdict == Verdict::Refuse)?;
                Some((s, rule, *by_name))
            });
            let no_san = if facts.dns_sans.is_empty() && facts.ip_sans.is_empty() {
                format!("{NO_SAN}; ")
            } else {
                String::new()
            };
            return TlsJudgement::Refuse {
                by_name: refusing.is_some_and(|(_, _, n)| n),
                why: refusing.map_or_else(String::new, |(s, rule, _)| {
                    format!(
                        "{no_san}{family} clients refuse it ({}: {})",
                        s.title, rule.why
                    )
                }),
            };
        }
        _ => return TlsJudgement::Unknown,
    }
    let with = |v: Verdict| -> Vec<Family> {
        Family::ALL
            .into_iter()
            .filter(|f| verdict_of(*f) == Some(v))
            .collect()
    };
    TlsJudgement::Accept(TlsLeniency {
        accepted_as: family,
        rustls_refused: r.words.to_string(),
        shapes: ids.iter().map(|s| s.to_string()).collect(),
        why: ids
            .iter()
            .filter_map(|id| shape(id))
            .map(|s| s.title.clone())
            .collect(),
        refused_by: with(Verdict::Refuse),
        unknown_for: with(Verdict::Unknown),
    })
}

/// The judge the commands hand to the network layer.
pub struct Judge;

impl TlsJudge for Judge {
    fn judge(&self, refusal: &TlsRefusal<'_>, family: Family) -> TlsJudgement {
        leniency(refusal, family)
    }
}

/// A handle on [`Judge`], for the TLS settings.
pub fn judge_handle() -> crate::vocab::tls::JudgeHandle {
    crate::vocab::tls::JudgeHandle(Some(std::sync::Arc::new(Judge)))
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
