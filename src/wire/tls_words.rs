//! What a rustls refusal means, in words: one sentence per error, never
//! the error's Debug form. The variant's name (read from its Debug form,
//! which is never shown) picks the sentence from the tables below; a
//! variant without a hand-written sentence still gets words, its name
//! spelled out ("missing key share"), and a test walks every variant
//! declared in the rustls and webpki sources in Cargo.lock.

use rustls::Error as E;

/// Sentences for the certificate refusals: rustls's `CertificateError`
/// and webpki's `Error` (which reaches us inside `CertificateError::Other`).
pub(crate) const CERTIFICATE: &[(&str, &str)] = &[
    ("BadEncoding", "the server's certificate is not valid DER"),
    ("Expired", "the server's certificate has expired"),
    ("ExpiredContext", "the server's certificate has expired"),
    ("NotValidYet", "the server's certificate is not valid yet (is a clock wrong?)"),
    ("NotValidYetContext", "the server's certificate is not valid yet (is a clock wrong?)"),
    ("Revoked", "the server's certificate has been revoked"),
    ("UnhandledCriticalExtension", "the server's certificate has a critical extension rustls does not know"),
    ("UnknownIssuer", "the server's certificate was not issued by a CA amqpdoctor trusts (give the CA with --cacert)"),
    ("UnknownRevocationStatus", "the revocation status of the server's certificate is unknown"),
    ("ExpiredRevocationList", "the certificate revocation list has expired"),
    ("ExpiredRevocationListContext", "the certificate revocation list has expired"),
    ("BadSignature", "a signature in the server's certificate chain does not verify"),
    ("UnsupportedSignatureAlgorithm", "the server's certificate is signed with an algorithm rustls refuses (SHA-1, or an RSA key under 2048 bits?)"),
    ("UnsupportedSignatureAlgorithmContext", "the server's certificate is signed with an algorithm rustls refuses (SHA-1, or an RSA key under 2048 bits?)"),
    ("UnsupportedSignatureAlgorithmForPublicKeyContext", "the server's certificate is signed with an algorithm that does not fit its issuer's key"),
    ("NotValidForName", "the server's certificate does not name the host connected to"),
    ("NotValidForNameContext", "the server's certificate does not name the host connected to"),
    ("InvalidPurpose", "the server's certificate is not for TLS servers (extended key usage)"),
    ("InvalidPurposeContext", "the server's certificate is not for TLS servers (extended key usage)"),
    ("InvalidOcspResponse", "the server's OCSP response is invalid"),
    ("ApplicationVerificationFailure", "amqpdoctor's own check refused the server's certificate"),
    ("Other", "the server's certificate was refused"),
    // webpki::Error
    ("BadDer", "the server's certificate is not valid DER"),
    ("BadDerTime", "a date in the server's certificate is not valid DER"),
    ("CaUsedAsEndEntity", "the server's certificate is a CA certificate (basicConstraints CA:TRUE) used as the server's own; OpenSSL 3's `req -x509` makes such certificates"),
    ("CertDistrusted", "the server's certificate is distrusted"),
    ("CertExpired", "the server's certificate has expired"),
    ("CertNotValidForName", "the server's certificate does not name the host connected to"),
    ("CertNotValidYet", "the server's certificate is not valid yet (is a clock wrong?)"),
    ("CertRevoked", "the server's certificate has been revoked"),
    ("CrlExpired", "the certificate revocation list has expired"),
    ("EmptyEkuExtension", "the server's certificate has an empty extended key usage"),
    ("EndEntityUsedAsCa", "a server certificate (CA:FALSE) was used as the CA of another"),
    ("ExtensionValueInvalid", "an extension of the server's certificate is invalid"),
    ("InvalidCertValidity", "the server's certificate's validity dates are invalid"),
    ("InvalidCrlNumber", "a revocation list has an invalid number"),
    ("InvalidNetworkMaskConstraint", "a name constraint in the chain has an invalid network mask"),
    ("InvalidSerialNumber", "the server's certificate has an invalid serial number"),
    ("InvalidCrlSignatureForPublicKey", "a revocation list's signature does not verify"),
    ("InvalidSignatureForPublicKey", "a signature in the server's certificate chain does not verify"),
    ("IssuerNotCrlSigner", "a revocation list is signed by a CA not allowed to sign one"),
    ("MalformedDnsIdentifier", "a DNS name in the server's certificate is malformed"),
    ("MalformedExtensions", "the server's certificate's extensions are malformed"),
    ("MalformedNameConstraint", "a name constraint in the chain is malformed"),
    ("MaximumNameConstraintComparisonsExceeded", "the chain has too many name constraints to check"),
    ("MaximumPathBuildCallsExceeded", "no chain to a trusted CA was found within rustls's limits"),
    ("MaximumPathDepthExceeded", "the server's certificate chain is too long"),
    ("MaximumSignatureChecksExceeded", "the chain needs too many signature checks"),
    ("NameConstraintViolation", "the server's certificate breaks a name constraint of its CA"),
    ("PathLenConstraintViolated", "the chain is longer than a CA's pathLenConstraint allows"),
    ("RequiredEkuNotFound", "the server's certificate is not for TLS servers (extended key usage)"),
    ("RequiredEkuNotFoundContext", "the server's certificate is not for TLS servers (extended key usage)"),
    ("SignatureAlgorithmMismatch", "the certificate's two signature algorithm fields differ"),
    ("TrailingData", "the server's certificate has bytes after its end"),
    ("UnsupportedCertVersion", "the server's certificate is not X.509 version 3"),
    ("UnsupportedCriticalExtension", "the server's certificate has a critical extension rustls does not know"),
    ("UnsupportedCrlIssuingDistributionPoint", "a revocation list has an unsupported issuing distribution point"),
    ("UnsupportedCrlVersion", "a revocation list has an unsupported version"),
    ("UnsupportedDeltaCrl", "delta revocation lists are not supported"),
    ("UnsupportedIndirectCrl", "indirect revocation lists are not supported"),
    ("UnsupportedNameType", "the server's name is of a type rustls cannot check"),
    ("UnsupportedRevocationReason", "a revocation list gives an unsupported reason"),
    ("UnsupportedRevocationReasonsPartitioning", "a revocation list partitions reasons, which is not supported"),
    ("UnsupportedCrlSignatureAlgorithm", "a revocation list is signed with an unsupported algorithm"),
    ("UnsupportedCrlSignatureAlgorithmContext", "a revocation list is signed with an unsupported algorithm"),
    ("UnsupportedCrlSignatureAlgorithmForPublicKey", "a revocation list's signature does not fit its issuer's key"),
    ("UnsupportedCrlSignatureAlgorithmForPublicKeyContext", "a revocation list's signature does not fit its issuer's key"),
    ("UnsupportedSignatureAlgorithmForPublicKey", "the server's certificate is signed with an algorithm that does not fit its issuer's key"),
];

/// Sentences for the other rustls errors and the alerts most often met.
pub(crate) const OTHER: &[(&str, &str)] = &[
    ("InvalidContentType", "the answer was not TLS: is this a plain AMQP port (5672)?"),
    ("NoCipherSuitesInCommon", "the server and amqpdoctor share no cipher suite (rustls offers only modern AEAD suites)"),
    ("ServerDoesNotSupportTls12Or13", "the server speaks neither TLS 1.2 nor TLS 1.3 (TLS 1.0/1.1 only?)"),
    ("ServerTlsVersionIsDisabledByOurConfig", "the server chose a TLS version amqpdoctor does not offer"),
    ("NoSignatureSchemesInCommon", "the server and amqpdoctor share no signature scheme"),
    ("NoKxGroupsInCommon", "the server and amqpdoctor share no key-exchange group"),
    ("ProtocolVersion", "the server refused every TLS version amqpdoctor offers"),
    ("HandshakeFailure", "the server refused the handshake (no common parameters, or it requires a client certificate)"),
    ("CertificateRequired", "the server requires a client certificate (--cert and --key)"),
    ("UnknownCA", "the server does not trust the CA of the client certificate"),
    ("BadCertificate", "the server refused the client certificate"),
    ("DecryptError", "a record did not decrypt: the connection was tampered with or the keys differ"),
    ("NoCertificatesPresented", "the server sent no certificate"),
    ("PeerSentOversizedRecord", "the server sent a TLS record larger than the protocol allows"),
    ("HandshakeNotComplete", "the connection ended before the TLS handshake completed"),
];

/// The leading identifier of a Debug form (`MissingData("x")` →
/// `MissingData`): a key into the tables, never shown.
fn variant(debug: &str) -> &str {
    let end = debug
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(debug.len());
    &debug[..end]
}

/// A variant's name spelled out: `MissingKeyShare` → "missing key share".
pub(crate) fn spelled(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.char_indices() {
        let prev_lower =
            i > 0 && name[..i].ends_with(|p: char| p.is_ascii_lowercase() || p.is_ascii_digit());
        if c.is_ascii_uppercase() && prev_lower {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out.replace("tls12", "TLS 1.2")
        .replace("tls13", "TLS 1.3")
        .replace("tls", "TLS")
}

fn lookup(table: &[(&str, &'static str)], name: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

fn sentence_for(name: &str, lead: &str) -> String {
    lookup(CERTIFICATE, name)
        .or_else(|| lookup(OTHER, name))
        .map_or_else(|| format!("{lead}: {}", spelled(name)), str::to_string)
}

/// The certificate refusal inside `CertificateError::Other`: the webpki
/// error's variant, when that is what it holds.
fn other_certificate(o: &rustls::OtherError) -> String {
    let inner = format!("{:?}", o.0);
    sentence_for(variant(&inner), "the server's certificate was refused")
}

/// The name of a refusal's variant: the webpki error inside
/// `CertificateError::Other`, else the `CertificateError`'s, else the
/// error's own (`CaUsedAsEndEntity`, `NotValidForNameContext`). A key for
/// the certificate shapes, never shown.
pub fn variant_name(e: &E) -> String {
    match e {
        E::InvalidCertificate(rustls::CertificateError::Other(o)) | E::Other(o) => {
            variant(&format!("{:?}", o.0)).to_string()
        }
        E::InvalidCertificate(c) => variant(&format!("{c:?}")).to_string(),
        other => variant(&format!("{other:?}")).to_string(),
    }
}

/// One sentence for a rustls error.
pub fn sentence(e: &E) -> String {
    match e {
        E::InvalidCertificate(rustls::CertificateError::Other(o)) | E::Other(o) => {
            other_certificate(o)
        }
        E::InvalidCertificate(c) => sentence_for(
            variant(&format!("{c:?}")),
            "the server's certificate was refused",
        ),
        E::InvalidMessage(m) => sentence_for(
            variant(&format!("{m:?}")),
            "the server sent a TLS message amqpdoctor could not read",
        ),
        E::PeerIncompatible(p) => sentence_for(
            variant(&format!("{p:?}")),
            "the server and amqpdoctor have no TLS parameters in common",
        ),
        E::PeerMisbehaved(p) => sentence_for(
            variant(&format!("{p:?}")),
            "the server broke the TLS protocol",
        ),
        E::AlertReceived(a) => sentence_for(
            variant(&format!("{a:?}")),
            "the server ended the handshake with the TLS alert",
        ),
        E::General(s) => format!("TLS failed: {s}"),
        other => sentence_for(variant(&format!("{other:?}")), "TLS failed"),
    }
}

#[cfg(test)]
#[path = "tls_words_tests.rs"]
mod tests;
