use super::*;

#[test]
fn every_shape_has_every_family_with_a_source() {
    assert!(shapes().len() >= 8);
    for s in shapes() {
        for f in Family::ALL {
            let r = s.rule(f).unwrap_or_else(|| panic!("{}: no {f} row", s.id));
            assert!(
                !r.why.is_empty() && !r.source.path.is_empty(),
                "{} {f}",
                s.id
            );
            assert!(
                ["read", "measured", "documented"].contains(&r.evidence.as_str()),
                "{} {f}: evidence {}",
                s.id,
                r.evidence
            );
        }
        assert_eq!(
            s.family.len(),
            Family::ALL.len(),
            "{}: a family twice",
            s.id
        );
        // rustls is the verifier of record: each shape is one it refuses.
        assert_eq!(
            s.rule(Family::Rustls).unwrap().verdict,
            Verdict::Refuse,
            "{}",
            s.id
        );
    }
}

fn f(is_ca: bool, dns: &[&str], ip: &[&str], cn: &str) -> CertFacts {
    CertFacts {
        is_ca,
        self_issued: true,
        dns_sans: dns.iter().map(|s| s.to_string()).collect(),
        ip_sans: ip.iter().map(|s| s.to_string()).collect(),
        common_name: Some(cn.into()),
        rsa_bits: Some(2048),
        sha1_signature: false,
        not_before: 0,
        not_after: i64::MAX,
    }
}

#[test]
fn shapes_from_facts_and_refusal() {
    let sha1 = CertFacts {
        sha1_signature: true,
        ..f(false, &["localhost"], &[], "localhost")
    };
    let small = CertFacts {
        rsa_bits: Some(1024),
        ..f(false, &["localhost"], &[], "localhost")
    };
    // (facts, refusal, host, leaf in CA file, shapes)
    let rows: Vec<(CertFacts, &str, &str, bool, Vec<&str>)> = vec![
        (
            f(true, &["localhost"], &["127.0.0.1"], "localhost"),
            "CaUsedAsEndEntity",
            "localhost",
            true,
            vec!["self_signed_ca_leaf"],
        ),
        (
            f(true, &["localhost"], &[], "localhost"),
            "CaUsedAsEndEntity",
            "localhost",
            false,
            vec![],
        ),
        (
            f(false, &[], &[], "localhost"),
            "NotValidForNameContext",
            "localhost",
            true,
            vec!["cn_only"],
        ),
        (
            f(false, &[], &[], "localhost"),
            "NotValidForNameContext",
            "other",
            true,
            vec![],
        ),
        (
            f(false, &["other"], &[], "localhost"),
            "NotValidForName",
            "localhost",
            true,
            vec![],
        ),
        (
            f(false, &[], &[], "127.0.0.1"),
            "NotValidForNameContext",
            "127.0.0.1",
            true,
            vec!["ip_only_in_cn"],
        ),
        (
            f(false, &[], &[], "x"),
            "ExpiredContext",
            "x",
            true,
            vec!["expired_minutes"],
        ),
        (
            sha1,
            "UnsupportedSignatureAlgorithmContext",
            "localhost",
            false,
            vec!["sha1_signature"],
        ),
        (
            small,
            "UnsupportedSignatureAlgorithmForPublicKeyContext",
            "localhost",
            false,
            vec!["rsa_under_2048"],
        ),
        (f(false, &[], &[], "x"), "UnknownIssuer", "x", false, vec![]),
    ];
    for (facts, refusal, host, in_ca, want) in rows {
        assert_eq!(
            shapes_of(&facts, refusal, host, in_ca),
            want,
            "{refusal} {host} {facts:?}"
        );
    }
}

#[test]
fn verdicts_per_family() {
    use Family::*;
    use Verdict::*;
    // (shapes, family, verdict)
    let rows: &[(&[&str], Family, Option<Verdict>)] = &[
        (&["self_signed_ca_leaf"], Openssl, Some(Accept)),
        (&["self_signed_ca_leaf"], Go, Some(Accept)),
        (&["self_signed_ca_leaf"], Rustls, Some(Refuse)),
        (&["cn_only"], Openssl, Some(Accept)),
        (&["cn_only"], Java, Some(Accept)),
        (&["cn_only"], Go, Some(Refuse)),
        (&["cn_only"], Dotnet, Some(Unknown)),
        (&["ip_only_in_cn"], Openssl, Some(Refuse)),
        (&["self_signed_ca_leaf", "cn_only"], Go, Some(Refuse)),
        (&["self_signed_ca_leaf", "cn_only"], Openssl, Some(Accept)),
        (&["sha1_signature"], Java, Some(Accept)),
        (&[], Openssl, None),
    ];
    for (ids, fam, want) in rows {
        assert_eq!(judge(ids, *fam).map(|(v, _)| v), *want, "{ids:?} {fam}");
    }
}

fn der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

/// The judgement of each family on certificates made by `openssl` (100
/// years valid; tests/data/tls), given what webpki says of them.
#[test]
fn families_judge_what_rustls_refused() {
    use crate::vocab::tls::TlsJudgement as J;
    let ca_leaf = der(include_str!("../../tests/data/tls/self-signed-ca-leaf.pem"));
    let cn_ca = der(include_str!("../../tests/data/tls/cn-only-ca.pem"));
    let cn = der(include_str!("../../tests/data/tls/cn-only.pem"));
    let ip_cn = der(include_str!("../../tests/data/tls/ip-in-cn.pem"));
    const CA: Option<&str> = Some("CaUsedAsEndEntity");
    const NAME: Option<&str> = Some("NotValidForNameContext");
    // (leaf, host, chain refusal, name refusal, leaf in roots, family,
    //  accepted (Some(refused_by)) or refused (None, by name))
    type Row<'a> = (
        &'a [u8],
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        bool,
        Family,
        Result<Vec<Family>, bool>,
    );
    let rows: Vec<Row> = vec![
        (
            &ca_leaf,
            "localhost",
            CA,
            None,
            true,
            Family::Openssl,
            Ok(vec![Family::Rustls]),
        ),
        (
            &ca_leaf,
            "localhost",
            CA,
            None,
            true,
            Family::Go,
            Ok(vec![Family::Rustls]),
        ),
        (
            &ca_leaf,
            "localhost",
            CA,
            None,
            true,
            Family::Rustls,
            Err(false),
        ),
        (
            &cn_ca,
            "localhost",
            CA,
            NAME,
            true,
            Family::Openssl,
            Ok(vec![Family::Go, Family::Rustls]),
        ),
        (
            &cn_ca,
            "localhost",
            CA,
            NAME,
            true,
            Family::Java,
            Ok(vec![Family::Go, Family::Rustls]),
        ),
        // Go takes the self-signed leaf but not the CN: the name is what it refuses.
        (&cn_ca, "localhost", CA, NAME, true, Family::Go, Err(true)),
        (
            &cn,
            "localhost",
            None,
            NAME,
            true,
            Family::Openssl,
            Ok(vec![Family::Go, Family::Rustls]),
        ),
        (&cn, "localhost", None, NAME, true, Family::Go, Err(true)),
        (
            &ip_cn,
            "127.0.0.1",
            None,
            NAME,
            true,
            Family::Openssl,
            Err(true),
        ),
    ];
    for (leaf, host, chain, name, in_roots, family, want) in rows {
        let r = TlsRefusal {
            leaf,
            host,
            chain,
            name,
            leaf_in_roots: in_roots,
            now_unix: 1_800_000_000,
            words: "w",
        };
        let got = leniency(&r, family);
        match (&got, &want) {
            (J::Accept(l), Ok(refused_by)) => {
                assert_eq!(
                    &l.refused_by, refused_by,
                    "{host} {chain:?} {name:?} {family}"
                );
                assert!(!l.why.is_empty() && l.note().contains("Would refuse it"));
            }
            (J::Refuse { by_name, why }, Err(want_by_name)) => {
                assert_eq!(
                    by_name, want_by_name,
                    "{host} {chain:?} {name:?} {family}: {why}"
                );
                assert!(
                    why.contains(&format!("{family} clients refuse it")),
                    "{why}"
                );
            }
            _ => panic!("{host} {chain:?} {name:?} {family}: {got:?}, want {want:?}"),
        }
    }
    // A name that is nowhere in the certificate is no shape: rustls stands.
    let r = TlsRefusal {
        leaf: &ca_leaf,
        host: "other.example",
        chain: CA,
        name: NAME,
        leaf_in_roots: true,
        now_unix: 1_800_000_000,
        words: "w",
    };
    assert_eq!(leniency(&r, Family::Openssl), J::Unknown);
    // A self-signed leaf that is not the CA file's is no shape either.
    let r = TlsRefusal {
        leaf_in_roots: false,
        host: "localhost",
        name: None,
        ..r
    };
    assert_eq!(leniency(&r, Family::Openssl), J::Unknown);
    // Nor is one out of its dates.
    let r = TlsRefusal {
        leaf_in_roots: true,
        now_unix: 10,
        ..r
    };
    assert_eq!(leniency(&r, Family::Openssl), J::Unknown);
}
