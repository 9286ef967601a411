//! `audit` as Markdown for a job summary: a table, then what is flagged
//! and why, then the join.

use std::fmt::Write;

use super::cells::{broker_line, flags_cell, heartbeat_cell, plural, silence_cell};
use super::{AuditConnection, AuditReport, JoinedReport};
use crate::report::check::md_cell;

/// Markdown for a job summary: a table, then what is flagged and why.
pub fn render_markdown(r: &AuditReport) -> String {
    let mut out = format!(
        "### amqpdoctor audit: {}, {} flagged\n\n{} at `{}`\n\n",
        plural(
            r.connections.len(),
            "client connection",
            "client connections"
        ),
        r.flagged,
        md_cell(&broker_line(&r.overview)),
        md_cell(&r.management).replace('`', "'")
    );
    if !r.connections.is_empty() {
        table(&mut out, &r.connections);
    }
    let advised: Vec<&AuditConnection> = r
        .connections
        .iter()
        .filter(|c| !c.advice.is_empty())
        .collect();
    if !advised.is_empty() {
        out.push_str("\n#### Advice\n\n");
        for c in advised {
            for a in &c.advice {
                let _ = writeln!(out, "- **{}**: {}", md_cell(c.label()), md_cell(a));
            }
        }
    }
    if let Some(joined) = &r.joined {
        join_section(&mut out, r, joined);
    }
    for n in &r.notes {
        let _ = writeln!(out, "\n_{}_", md_cell(n));
    }
    out
}

/// One row per connection.
fn table(out: &mut String, connections: &[AuditConnection]) {
    out.push_str("| peer | connection name | client | heartbeat | state | silent | flags |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for c in connections {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            md_cell(c.label()).replace('`', "'"),
            md_cell(c.connection_name.as_deref().unwrap_or("")),
            md_cell(&c.client_label()),
            heartbeat_cell(c.heartbeat_s),
            md_cell(c.state.as_deref().unwrap_or("")),
            silence_cell(c.silence.as_ref()),
            if c.flags.is_empty() {
                String::new()
            } else {
                format!("❌ {}", flags_cell(&c.flags))
            }
        );
    }
}

/// The join with the scan: the matched pairs, then what only one side has.
fn join_section(out: &mut String, r: &AuditReport, joined: &[JoinedReport]) {
    let _ = writeln!(
        out,
        "\n#### Joined with `{}`\n",
        md_cell(r.join_file.as_deref().unwrap_or("")).replace('`', "'")
    );
    for j in joined {
        let _ = writeln!(
            out,
            "- **{}**: {}",
            md_cell(j.peer.as_deref().unwrap_or(&j.name)),
            md_cell(&j.summary)
        );
    }
    for s in r.unmatched_scan.as_deref().unwrap_or_default() {
        let _ = writeln!(
            out,
            "- only in the scan: {} → {}",
            md_cell(s.local.as_deref().unwrap_or("?")),
            md_cell(s.remote.as_deref().unwrap_or("?"))
        );
    }
    for b in r.unmatched_broker.as_deref().unwrap_or_default() {
        if b.from_scanned_host {
            let _ = writeln!(
                out,
                "- only on the broker, from a scanned host: {}",
                md_cell(b.peer.as_deref().unwrap_or(&b.name))
            );
        }
    }
}
