//! `audit` as human text: a line about the broker, one table row per
//! connection, then per connection what is flagged and what to do, then
//! the join.

use std::fmt::Write;

use super::cells::{
    broker_line, cut, facts_line, flags_cell, heartbeat_cell, plural, silence_cell, CLIENT_CELL,
    NAME_CELL,
};
use super::{notes, AuditConnection, AuditReport, JoinedReport};
use crate::report::style::{clean, wrap_with, Style, WIDTH};

/// The human report: a line about the broker, one table row per
/// connection, then per connection what is flagged and what to do, then
/// the join.
pub fn render_human(r: &AuditReport, style: Style) -> String {
    let mut out = format!(
        "{} {}\n",
        style.bold("amqpdoctor audit"),
        clean(&r.management)
    );
    let _ = writeln!(out, "{}", clean(&broker_line(&r.overview)));
    let _ = writeln!(
        out,
        "{}, {} flagged; silence from the API's samples every {} s over the last {} s\n",
        plural(
            r.connections.len(),
            "client connection",
            "client connections"
        ),
        r.flagged,
        r.sample_every_s,
        r.sample_window_s
    );
    if !r.connections.is_empty() {
        out.push_str(&table(&r.connections, style));
        out.push('\n');
    }
    // A note several connections share is said once, at the end.
    let shared = notes::shared_notes(&r.connections);
    for c in &r.connections {
        details(&mut out, c, &shared, style);
    }
    if let Some(joined) = &r.joined {
        join_section(&mut out, r, joined, style);
    }
    for n in shared.list.into_iter().chain(&r.notes) {
        out.push('\n');
        out.push_str(&wrap_with(&format!("note: {n}"), WIDTH, "", "      "));
    }
    out
}

/// One row per connection.
fn table(connections: &[AuditConnection], style: Style) -> String {
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        // Never wrap: an address or a flag broken over two lines is
        // hard to read and to grep; long names are cut short instead
        // (the details below have them whole).
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(vec![
            "peer",
            "connection name",
            "client",
            "heartbeat",
            "state",
            "silent",
            "flags",
        ]);
    if style.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    for c in connections {
        let flags = comfy_table::Cell::new(flags_cell(&c.flags));
        table.add_row(vec![
            comfy_table::Cell::new(clean(c.label())),
            comfy_table::Cell::new(cut(
                &clean(c.connection_name.as_deref().unwrap_or("–")),
                NAME_CELL,
            )),
            comfy_table::Cell::new(cut(&clean(&c.client_label()), CLIENT_CELL)),
            comfy_table::Cell::new(heartbeat_cell(c.heartbeat_s)),
            comfy_table::Cell::new(clean(c.state.as_deref().unwrap_or("–"))),
            comfy_table::Cell::new(silence_cell(c.silence.as_ref())),
            if c.flags.is_empty() {
                flags
            } else {
                flags.fg(comfy_table::Color::Red)
            },
        ]);
    }
    table.to_string()
}

/// What is flagged on one connection and what to do, unless there is
/// nothing to say beyond the notes said once at the end.
fn details(out: &mut String, c: &AuditConnection, shared: &notes::SharedNotes<'_>, style: Style) {
    let own_notes = c.notes.iter().any(|n| !shared.contains(n));
    if c.flags.is_empty() && c.advice.is_empty() && !own_notes {
        return;
    }
    let mark = if c.flags.is_empty() {
        style.good("✓")
    } else {
        style.bad("✗")
    };
    let _ = writeln!(out, "\n{mark} {}", clean(c.label()));
    out.push_str(&wrap_with(&facts_line(c), WIDTH, "  ", "  "));
    if !c.flags.is_empty() {
        let _ = writeln!(out, "  {} {}", style.bad("flagged:"), flags_cell(&c.flags));
    }
    for a in &c.advice {
        out.push_str(&wrap_with(a, WIDTH, "  - ", "    "));
    }
    for n in c.notes.iter().filter(|n| !shared.contains(n)) {
        out.push_str(&wrap_with(&format!("note: {n}"), WIDTH, "  ", "        "));
    }
}

/// The join with the scan: the matched pairs, then what only one side has.
fn join_section(out: &mut String, r: &AuditReport, joined: &[JoinedReport], style: Style) {
    let scan_only = r.unmatched_scan.as_deref().unwrap_or_default();
    let broker_only = r.unmatched_broker.as_deref().unwrap_or_default();
    let _ = writeln!(
        out,
        "\n{} {}: {} matched, {} only in the scan, {} only on the broker",
        style.heading("joined with"),
        clean(r.join_file.as_deref().unwrap_or("the scan")),
        joined.len(),
        scan_only.len(),
        broker_only.len()
    );
    for j in joined {
        let who = match (&j.scan.pid, &j.scan.command) {
            (Some(pid), Some(cmd)) => format!(" (pid {pid}, {cmd})"),
            (Some(pid), None) => format!(" (pid {pid})"),
            _ => String::new(),
        };
        let name = j
            .connection_name
            .as_deref()
            .map(|n| format!(" \"{n}\""))
            .unwrap_or_default();
        let head = format!(
            "{}{name}{who}: {}",
            j.peer.as_deref().unwrap_or(&j.name),
            j.summary
        );
        out.push_str(&wrap_with(&head, WIDTH, "  ", "    "));
    }
    for s in scan_only {
        let line = format!(
            "only in the scan: {} → {}{}{}: the broker does not list it (another broker, or \
             already gone on the broker's side)",
            s.local.as_deref().unwrap_or("?"),
            s.remote.as_deref().unwrap_or("?"),
            s.pid.map(|p| format!(", pid {p}")).unwrap_or_default(),
            s.classification
                .map(|c| format!(", scan says {c}"))
                .unwrap_or_default(),
        );
        out.push_str(&wrap_with(&line, WIDTH, "  ", "    "));
    }
    for b in broker_only.iter().filter(|b| b.from_scanned_host) {
        let line = format!(
            "only on the broker, from a scanned host: {}{}: the application's side may be \
             gone (half-open)",
            b.peer.as_deref().unwrap_or(&b.name),
            b.connection_name
                .as_deref()
                .map(|n| format!(" \"{n}\""))
                .unwrap_or_default()
        );
        out.push_str(&wrap_with(&line, WIDTH, "  ", "    "));
    }
    let others = broker_only.iter().filter(|b| !b.from_scanned_host).count();
    if others > 0 {
        let _ = writeln!(
            out,
            "  {} from other hosts the scan did not look at",
            plural(others, "broker connection", "broker connections")
        );
    }
}
