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
