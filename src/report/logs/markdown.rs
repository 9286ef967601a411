//! `logs` as Markdown (a CI job summary, an incident ticket): deaths by
//! cause, per peer host, the patterns.

use super::LogsReport;
use crate::report::check::md_cell;

pub fn render(r: &LogsReport) -> String {
    let mut out = format!(
        "### amqpdoctor logs: {} of {} closed connection(s) ended other than by a normal close\n\n",
        r.abnormal, r.closed
    );
    if let (Some(a), Some(b)) = (&r.first, &r.last) {
        out.push_str(&format!(
            "Records from {a} to {b}, {} file(s).\n\n",
            r.files.len()
        ));
    }
    if !r.by_cause.is_empty() {
        out.push_str("| count | how it ended | cause |\n|---:|---|---|\n");
        for c in &r.by_cause {
            out.push_str(&format!(
                "| {} | {} | `{}` |\n",
                c.count,
                md_cell(c.words),
                c.cause.code()
            ));
        }
        out.push('\n');
    }
    if !r.peers.is_empty() {
        out.push_str("| peer host | opened | deaths | lifetime median (s) | p95 (s) |\n|---|---:|---:|---:|---:|\n");
        for p in r.peers.iter().take(50) {
            let f = |s: Option<f64>| s.map_or("-".to_string(), |s| format!("{s:.1}"));
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                md_cell(&p.host),
                p.opened,
                p.abnormal,
                f(p.lifetime_median_s),
                f(p.lifetime_p95_s)
            ));
        }
        out.push('\n');
    }
    for f in &r.app_lines {
        out.push_str(&format!(
            "- {} × {} ({}): `amqpdoctor explain {}`\n",
            f.count,
            md_cell(&f.title),
            md_cell(&f.printed_by),
            f.explain
        ));
    }
    for p in &r.patterns {
        out.push_str(&format!("- **{}**: {}\n", p.kind, md_cell(&p.summary)));
        for e in &p.evidence {
            out.push_str(&format!("  - {}\n", md_cell(e)));
        }
        out.push_str(&format!("  - next: `{}`\n", p.next.replace('`', "'")));
    }
    out
}
