//! `amqpdoctor tls URL`: the TLS handshake only, and what each client
//! family makes of the server's certificate.

use anyhow::Context;

use crate::cli::TlsCmdArgs;
use crate::error::{ExitStatus, UsageError};
use crate::knowledge::tls_chain;
use crate::report::tls::{Negotiated, TlsReport};
use crate::report::{self, Header};
use crate::vocab::check::Millis;
use crate::vocab::TlsFailure;
use crate::wire::tls_probe;

pub fn run(args: TlsCmdArgs) -> anyhow::Result<ExitStatus> {
    let target = super::target(&args.connect)?;
    if !target.is_tls() {
        return Err(UsageError(format!(
            "amqpdoctor tls needs an amqps:// URL, not {target}"
        ))
        .into());
    }
    let timeout = super::connect_timeout(args.connect.connect_timeout, &target);
    let tls_as = target.tls().and_then(|s| s.tls_as).unwrap_or_default();
    let mut report = TlsReport {
        header: Header::for_target("tls", &target),
        peer: None,
        negotiated: None,
        failure: None,
        chain: Vec::new(),
        chain_complete: None,
        acceptance: Vec::new(),
        expect_accepted_by: args
            .expect_accepted_by
            .clone()
            .map(|f| f.0)
            .unwrap_or_default(),
        not_tls: None,
        exit_code: ExitStatus::Ok,
    };
    let rt = super::runtime()?;
    let shake = rt.block_on(tls_probe::handshake_only(&target, timeout));
    fill(&mut report, shake, &rt, &target, timeout);
    report.decide(tls_as);
    let out = report::format::render(&report, args.format, super::style_for(args.color))?;
    report::emit(out).context("writing the report")?;
    if report.exit_code == ExitStatus::CannotDiagnose {
        report::notice(&format!(
            "no TLS handshake with {target}: {}",
            report
                .not_tls
                .as_deref()
                .or(report.failure.as_deref())
                .unwrap_or("no answer")
        ));
    }
    Ok(report.exit_code)
}

/// The report's facts from the handshake (and, without TLS, from what
/// the port answered instead).
fn fill(
    report: &mut TlsReport,
    shake: Result<tls_probe::HandshakeOnly, String>,
    rt: &tokio::runtime::Runtime,
    target: &crate::target::Target,
    timeout: std::time::Duration,
) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    match shake {
        Err(why) => report.failure = Some(why),
        Ok(h) => {
            report.peer = Some(h.peer);
            report.chain = h
                .chain
                .iter()
                .filter_map(|der| tls_chain::summary(der, now))
                .collect();
            match h.result {
                Ok(n) => {
                    report.negotiated = Some(Negotiated {
                        version: n.version,
                        cipher: n.cipher,
                        alpn: n.alpn,
                        handshake_ms: Millis::of(h.took),
                    })
                }
                Err((failure, message)) => {
                    if h.chain.is_empty()
                        && matches!(failure, TlsFailure::ToPlainPort | TlsFailure::Other)
                    {
                        report.not_tls =
                            Some(rt.block_on(tls_probe::what_answers(target, timeout)));
                    }
                    report.failure = Some(message);
                }
            }
            if !report.chain.is_empty() {
                report.chain_complete =
                    Some(tls_chain::chain_complete(&report.chain, h.refusal.as_ref()));
                report.acceptance = tls_chain::acceptance(h.refusal.as_ref());
            }
            // "verified" only for what rustls verified.
            if let Some(t) = report.header.tls.as_mut() {
                t.verified &= h.refusal.is_none() && report.negotiated.is_some();
            }
        }
    }
}
