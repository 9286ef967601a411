//! The server-certificate verifier of every `amqps://` connection: rustls's
//! own webpki checks (the chain to a trusted root, then the name), and,
//! when they refuse, the question whether the client family the run
//! follows (`--tls-as`, default OpenSSL) would accept the certificate. If
//! it would, the handshake goes on and what was accepted is recorded
//! ([`Leniency`]); the handshake's own signatures are always checked by
//! the provider (`verify_tls12_signature`, `verify_tls13_signature`), so
//! the peer still proves it holds the certificate's key.
//!
//! The rules live above this layer (data/knowledge/tls.toml); they reach
//! this verifier as a [`TlsJudge`] in the settings.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::RootCertStore;

use crate::vocab::tls::{
    TlsFamily, TlsJudge, TlsJudgement, TlsLeniency, TlsRefusal, TlsRefusalFacts,
};

/// What a verifier learnt beyond rustls's answer: what it accepted
/// although rustls refused it, or why the chosen family refuses it too.
#[derive(Debug, Default)]
pub struct Judgements {
    pub accepted: Option<TlsLeniency>,
    pub refused_because: Option<String>,
    /// The certificates the server sent, leaf first (DER).
    pub chain: Vec<Vec<u8>>,
    /// What rustls refused, when it did.
    pub refusal: Option<TlsRefusalFacts>,
}

/// Where a verifier records it (one per connection: the configuration is
/// made per connection).
pub type Leniency = Arc<Mutex<Judgements>>;

/// The verifier: webpki first, the judge on refusal.
pub(crate) struct Judged {
    pub roots: Arc<RootCertStore>,
    pub root_ders: Vec<CertificateDer<'static>>,
    pub provider: Arc<CryptoProvider>,
    pub judge: Option<(Arc<dyn TlsJudge>, TlsFamily)>,
    /// `--insecure`: every certificate is accepted after the checks (what
    /// they found is still recorded, for `amqpdoctor tls`); the
    /// handshake's signatures are still checked, so the connection is
    /// encrypted, just not authenticated.
    pub insecure: bool,
    pub accepted: Leniency,
}

impl std::fmt::Debug for Judged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judged")
            .field("roots", &self.roots.len())
            .finish_non_exhaustive()
    }
}

/// The name of a refusal's variant (`CaUsedAsEndEntity`), the key into the
/// shapes of data/knowledge/tls.toml.
fn refusal_name(e: &rustls::Error) -> String {
    super::tls_words::variant_name(e)
}

impl ServerCertVerifier for Judged {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut slot) = self.accepted.lock() {
            slot.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .take(16)
                .map(|c| c.as_ref().to_vec())
                .collect();
        }
        let cert = ParsedCertificate::try_from(end_entity)?;
        let algs = self.provider.signature_verification_algorithms.all;
        let chain =
            verify_server_cert_signed_by_trust_anchor(&cert, &self.roots, intermediates, now, algs)
                .err();
        let name = verify_server_name(&cert, server_name).err();
        // rustls's own order: the chain's refusal first.
        let Some(first) = chain.clone().or_else(|| name.clone()) else {
            return Ok(ServerCertVerified::assertion());
        };
        let host = server_name.to_str();
        let (chain_name, name_name) = (
            chain.as_ref().map(refusal_name),
            name.as_ref().map(refusal_name),
        );
        let refusal = TlsRefusal {
            leaf: end_entity.as_ref(),
            host: &host,
            chain: chain_name.as_deref(),
            name: name_name.as_deref(),
            leaf_in_roots: self
                .root_ders
                .iter()
                .any(|r| r.as_ref() == end_entity.as_ref()),
            now_unix: now.as_secs(),
            words: &super::tls_words::sentence(&first),
        };
        let mut slot = self.accepted.lock().ok();
        if let Some(s) = slot.as_mut() {
            s.refusal = Some(TlsRefusalFacts::of(&refusal));
        }
        if self.insecure {
            return Ok(ServerCertVerified::assertion());
        }
        let Some((judge, family)) = &self.judge else {
            return Err(first);
        };
        let judgement = judge.judge(&refusal, *family);
        match judgement {
            TlsJudgement::Accept(l) => {
                if let Some(s) = slot.as_mut() {
                    s.accepted = Some(l);
                }
                Ok(ServerCertVerified::assertion())
            }
            TlsJudgement::Refuse { by_name, why } => {
                if let Some(s) = slot.as_mut() {
                    s.refused_because = Some(why);
                }
                // The refusal the family shares is the one to report.
                Err(match (by_name, name) {
                    (true, Some(n)) => n,
                    _ => first,
                })
            }
            TlsJudgement::Unknown => Err(first),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
