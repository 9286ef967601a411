//! `amqpdoctor tls`: the chain as sent, what was negotiated, and each
//! client family's verdict; human, JSON and Markdown.

use std::fmt::Write;

use serde::Serialize;

use super::check::md_cell;
use super::style::{self, clean, Style};
use super::Header;
use crate::error::ExitStatus;
use crate::knowledge::tls_chain::{CertSummary, FamilyAcceptance};
use crate::vocab::check::Millis;
use crate::vocab::tls::TlsFamily;

/// What the handshake agreed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Negotiated {
    pub version: String,
    pub cipher: String,
    pub alpn: Option<String>,
    /// From the TCP connection to the end of the handshake.
    pub handshake_ms: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlsReport {
    #[serde(flatten)]
    pub header: Header,
    /// The address connected to.
    pub peer: Option<String>,
    /// Null when the handshake did not complete.
    pub negotiated: Option<Negotiated>,
    /// Why the handshake did not complete, in words.
    pub failure: Option<String>,
    /// The certificates the server sent, leaf first.
    pub chain: Vec<CertSummary>,
    /// Whether the chain as sent reaches a trusted root (null: no chain).
    pub chain_complete: Option<bool>,
    pub acceptance: Vec<FamilyAcceptance>,
    /// `--expect-accepted-by`.
    pub expect_accepted_by: Vec<TlsFamily>,
    /// What the port answered instead of TLS, when it did not speak TLS.
    pub not_tls: Option<String>,
    pub exit_code: ExitStatus,
}

impl TlsReport {
    /// Exit 3 without a TLS answer; 1 when a family of
    /// `--expect-accepted-by` (without it: the `--tls-as` family) refuses.
    pub fn decide(&mut self, tls_as: TlsFamily) {
        let named = if self.expect_accepted_by.is_empty() {
            vec![tls_as]
        } else {
            self.expect_accepted_by.clone()
        };
        let refused = self
            .acceptance
            .iter()
            .any(|a| named.contains(&a.family) && a.accepted == Some(false));
        self.exit_code = if self.chain.is_empty() && self.negotiated.is_none() {
            ExitStatus::CannotDiagnose
        } else if refused {
            ExitStatus::Fault
        } else {
            ExitStatus::Ok
        };
    }
}

fn verdict(a: &FamilyAcceptance) -> &'static str {
    match a.accepted {
        Some(true) => "accepts",
        Some(false) => "refuses",
        None => "not known",
    }
}

/// One certificate of the chain, for a terminal.
fn cert_lines(i: usize, c: &CertSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\ncertificate {i}{}: {}",
        if i == 0 { " (the server's)" } else { "" },
        clean(&c.subject)
    );
    let _ = writeln!(out, "  issuer     {}", clean(&c.issuer));
    let sans = if c.sans.is_empty() {
        "none (no subjectAltName)".to_string()
    } else {
        clean(&c.sans.join(", ")).into_owned()
    };
    let _ = writeln!(out, "  names      {sans}");
    let _ = writeln!(
        out,
        "  valid      {} to {} ({} days left)",
        c.not_before, c.not_after, c.days_left
    );
    let _ = writeln!(
        out,
        "  key        {}, signed with {}{}",
        c.key,
        c.signature,
        match (c.is_ca, c.self_signed) {
            (true, true) => "; a self-signed CA (CA:TRUE)",
            (true, false) => "; a CA (CA:TRUE)",
            (false, true) => "; self-signed",
            _ => "",
        }
    );
    out
}

pub fn render(r: &TlsReport, style: Style) -> String {
    let mut out = format!(
        "{} {}\n",
        style.bold("amqpdoctor tls"),
        clean(&r.header.target)
    );
    if let Some(p) = &r.peer {
        let _ = writeln!(out, "peer     {}", clean(p));
    }
    match (&r.negotiated, &r.failure) {
        (Some(n), _) => {
            let _ = writeln!(
                out,
                "tls      {} {}, ALPN {}, handshake {:.1} ms",
                clean(&n.version),
                clean(&n.cipher),
                n.alpn
                    .as_deref()
                    .map_or("none".to_string(), |a| clean(a).into_owned()),
                n.handshake_ms.0
            );
        }
        (None, Some(f)) => {
            out.push_str(&style.bad("handshake not completed\n"));
            out.push_str(&style::wrap(f, style::WIDTH, "         "));
        }
        (None, None) => {}
    }
    if let Some(n) = &r.not_tls {
        out.push_str(&style.bad("no TLS: the port answered with "));
        out.push_str(&format!("{}\n", clean(n)));
        return out;
    }
    for (i, c) in r.chain.iter().enumerate() {
        out.push_str(&cert_lines(i, c));
    }
    if let Some(complete) = r.chain_complete {
        let _ = writeln!(
            out,
            "\nchain    {}",
            if complete {
                "complete: it reaches a trusted root"
            } else {
                "NOT complete: the last certificate's issuer was neither sent nor trusted (a \
                 missing intermediate, or a CA to give with --cacert)"
            }
        );
    }
    let rows = r
        .acceptance
        .iter()
        .map(|a| {
            vec![
                a.family.clients().to_string(),
                verdict(a).to_string(),
                clean(&a.reason).into_owned(),
            ]
        })
        .collect();
    if r.acceptance.is_empty() {
        return out;
    }
    out.push('\n');
    out.push_str(&style::table(&["client family", "verdict", "why"], rows));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

pub fn render_markdown(r: &TlsReport) -> String {
    let mut out = format!(
        "### amqpdoctor tls `{}`\n\n",
        md_cell(&r.header.target).replace('`', "'")
    );
    if let Some(n) = &r.not_tls {
        let _ = writeln!(out, "No TLS: the port answered with {}.", md_cell(n));
        return out;
    }
    if let Some(n) = &r.negotiated {
        let _ = writeln!(
            out,
            "{} {}, handshake {:.1} ms.\n",
            md_cell(&n.version),
            md_cell(&n.cipher),
            n.handshake_ms.0
        );
    } else if let Some(f) = &r.failure {
        let _ = writeln!(out, "Handshake not completed: {}\n", md_cell(f));
    }
    out.push_str("| # | subject | names | issuer | days left | key | signature |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for (i, c) in r.chain.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {i} | {} | {} | {} | {} | {} | {} |",
            md_cell(&c.subject),
            md_cell(&c.sans.join(", ")),
            md_cell(&c.issuer),
            c.days_left,
            md_cell(&c.key),
            md_cell(&c.signature)
        );
    }
    out.push_str("\n| client family | verdict | why |\n|---|---|---|\n");
    for a in &r.acceptance {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            a.family,
            verdict(a),
            md_cell(&a.reason)
        );
    }
    out
}
