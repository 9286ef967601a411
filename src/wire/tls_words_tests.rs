use super::*;
use std::path::PathBuf;

/// The source directory of `krate` at the version Cargo.lock holds, in
/// cargo's registry (where every build of this crate unpacked it).
fn registry_source(krate: &str) -> PathBuf {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"))
        .expect("Cargo.lock");
    let marker = format!("name = \"{krate}\"\nversion = \"");
    let at = lock.find(&marker).expect("crate in Cargo.lock") + marker.len();
    let version = &lock[at..at + lock[at..].find('"').unwrap()];
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo"));
    let src = home.join("registry/src");
    for index in std::fs::read_dir(&src).expect("cargo registry sources") {
        let dir = index.unwrap().path().join(format!("{krate}-{version}/src"));
        if dir.is_dir() {
            return dir;
        }
    }
    panic!(
        "{krate} {version} not unpacked under {}: run `cargo fetch --locked`",
        src.display()
    );
}

/// The variant names of `pub enum NAME` in `file` (plain enums and the
/// `Variant => 0x00,` form of rustls's enum_builder!).
fn variants(file: &std::path::Path, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let start = text
        .find(&format!("pub enum {name} {{"))
        .unwrap_or_else(|| panic!("enum {name} in {}", file.display()));
    let body = &text[start..];
    let body = &body[body.find('{').unwrap() + 1..];
    let (mut depth, mut out) = (0i32, Vec::new());
    for line in body.lines() {
        let t = line.trim();
        if depth == 0 && t.starts_with('}') {
            break;
        }
        if depth == 0 && !t.starts_with("//") && !t.starts_with('#') {
            let word: String = t
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if word.starts_with(|c: char| c.is_ascii_uppercase()) {
                out.push(word);
            }
        }
        depth += t.matches(['{', '(']).count() as i32 - t.matches(['}', ')']).count() as i32;
    }
    out
}

#[test]
fn every_rustls_and_webpki_variant_has_words() {
    let rustls = registry_source("rustls");
    let webpki = registry_source("rustls-webpki");
    let enums = [
        (rustls.join("error.rs"), "Error", "TLS failed"),
        (rustls.join("error.rs"), "CertificateError", ""),
        (
            rustls.join("error.rs"),
            "InvalidMessage",
            "the server sent a TLS message",
        ),
        (
            rustls.join("error.rs"),
            "PeerIncompatible",
            "the server and amqpdoctor",
        ),
        (
            rustls.join("error.rs"),
            "PeerMisbehaved",
            "the server broke the TLS protocol",
        ),
        (
            rustls.join("enums.rs"),
            "AlertDescription",
            "the server ended the handshake",
        ),
        (webpki.join("error.rs"), "Error", ""),
    ];
    let mut walked = 0;
    for (file, name, lead) in enums {
        let names = variants(&file, name);
        assert!(names.len() > 5, "{name} in {}: {names:?}", file.display());
        for v in names {
            walked += 1;
            let words = sentence_for(&v, lead);
            // Certificate refusals are what users meet most: each has a
            // hand-written sentence.
            if lead.is_empty() {
                assert!(
                    lookup(CERTIFICATE, &v).is_some(),
                    "{name}::{v} has no sentence"
                );
            }
            assert!(
                !words.contains(&v),
                "{name}::{v}: `{words}` shows the variant"
            );
            assert!(
                !words.contains(['(', '{']) || words.contains(" ("),
                "{words}"
            );
        }
    }
    assert!(walked > 200, "only {walked} variants walked");
}

#[test]
fn sentences_for_real_errors() {
    use rustls::{AlertDescription as A, CertificateError as C, PeerIncompatible as PI};
    use rustls::{InvalidMessage as IM, PeerMisbehaved as PM};
    let rows: Vec<(E, &str)> = vec![
        (
            E::InvalidCertificate(C::UnknownIssuer),
            "not issued by a CA amqpdoctor trusts",
        ),
        (
            E::InvalidCertificate(C::NotValidForName),
            "does not name the host",
        ),
        (E::InvalidMessage(IM::InvalidContentType), "plain AMQP port"),
        (
            E::InvalidMessage(IM::MissingData("x")),
            "could not read: missing data",
        ),
        (
            E::PeerIncompatible(PI::ServerDoesNotSupportTls12Or13),
            "TLS 1.0/1.1 only",
        ),
        (
            E::PeerMisbehaved(PM::MissingKeyShare),
            "broke the TLS protocol: missing key share",
        ),
        (
            E::PeerMisbehaved(PM::AttemptedDowngradeToTls12WhenTls13IsSupported),
            "downgrade to TLS 1.2 when TLS 1.3",
        ),
        (
            E::AlertReceived(A::CertificateRequired),
            "requires a client certificate",
        ),
        (E::AlertReceived(A::DecodeError), "TLS alert: decode error"),
        (E::DecryptError, "did not decrypt"),
        (E::General("boom".into()), "TLS failed: boom"),
        (
            E::InvalidCertificate(C::Other(rustls::OtherError(std::sync::Arc::new(
                std::io::Error::other("x"),
            )))),
            "the server's certificate was refused",
        ),
    ];
    for (e, want) in rows {
        let s = sentence(&e);
        assert!(s.contains(want), "{e:?}: `{s}` lacks `{want}`");
        assert!(!s.contains("Error("), "{s}");
    }
}

#[test]
fn spelled_names() {
    assert_eq!(spelled("MissingKeyShare"), "missing key share");
    assert_eq!(spelled("UnknownCA"), "unknown ca");
    assert_eq!(variant("MissingData(\"x\")"), "MissingData");
    assert_eq!(variant("CaUsedAsEndEntity"), "CaUsedAsEndEntity");
}
