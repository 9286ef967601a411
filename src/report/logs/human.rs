//! `logs` for a terminal: what was read, deaths by cause, per peer host,
//! the patterns with their next command, the last deaths, what could not
//! be read.

use super::{Death, LogsReport, PeerRow};
use crate::report::style::{clean, table, wrap, wrap_with, Style, WIDTH};
use crate::vocab::units::secs;

/// The last deaths listed in human output (JSON lists up to 1,000).
const SHOWN_DEATHS: usize = 10;
/// Peer rows shown in human output.
const SHOWN_PEERS: usize = 20;

pub fn render(r: &LogsReport, style: Style) -> String {
    let mut out = format!(
        "{}\n",
        style.bold(&format!("amqpdoctor logs {}", clean(&r.header.target)))
    );
    out.push_str(&read_line(r));
    out.push_str(&wrap(&headline(r), WIDTH, ""));
    if !r.by_cause.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            style.heading("Connections ended, by cause")
        ));
        let rows = r
            .by_cause
            .iter()
            .map(|c| {
                vec![
                    c.count.to_string(),
                    c.words.to_string(),
                    c.cause.code().to_string(),
                ]
            })
            .collect();
        out.push_str(&table(&["count", "how it ended", "cause"], rows));
        out.push('\n');
    }
    if !r.peers.is_empty() {
        out.push_str(&format!("\n{}\n", style.heading("By peer host")));
        out.push_str(&peers_table(&r.peers));
    }
    out.push_str(&names_table(r, style));
    out.push_str(&app_lines(r, style));
    out.push_str(&patterns(r, style));
    out.push_str(&deaths(
        &r.deaths,
        r.deaths.len() as u64 + r.deaths_not_listed,
        r.nodes.len() > 1,
        style,
    ));
    out.push_str(&notes(r));
    out
}

fn read_line(r: &LogsReport) -> String {
    let bytes: u64 = r.files.iter().map(|f| f.bytes).sum();
    let lines: u64 = r.files.iter().map(|f| f.lines).sum();
    let span = match (&r.first, &r.last) {
        (Some(a), Some(b)) => format!(", records from {a} to {b}"),
        _ => ", no records in the window".to_string(),
    };
    let nodes = if r.nodes.len() > 1 {
        format!(" of {} nodes ({})", r.nodes.len(), r.nodes.join(", "))
    } else {
        String::new()
    };
    wrap(
        &format!(
            "Read {} file(s){nodes}: {} lines, {}{span}.",
            r.files.len(),
            lines,
            size(bytes)
        ),
        WIDTH,
        "",
    )
}

fn headline(r: &LogsReport) -> String {
    let interrupted = if r.interrupted {
        " (interrupted: this is what was read until then)"
    } else {
        ""
    };
    if r.closed == 0 && r.opened == 0 && !r.app_lines.is_empty() {
        let n: u64 = r.app_lines.iter().map(|f| f.count).sum();
        return format!(
            "No RabbitMQ connection records; {n} client library line(s) recognised{interrupted}."
        );
    }
    if r.closed == 0 {
        return format!(
            "{} connection(s) opened, none closed in what was read{interrupted}.",
            r.opened
        );
    }
    let deaths = match r.abnormal {
        0 => "every one closed normally".to_string(),
        n => format!("{n} ended other than by a normal close"),
    };
    format!(
        "{} connection(s) opened, {} closed: {deaths}{interrupted}.",
        r.opened, r.closed
    )
}

fn peers_table(peers: &[PeerRow]) -> String {
    let rows = peers
        .iter()
        .take(SHOWN_PEERS)
        .map(|p| {
            let causes = crate::classify::logs::cause::abnormal_counts(&p.by_cause);
            let t: Vec<String> = p.heartbeat_s.iter().map(|t| format!("{t} s")).collect();
            vec![
                clean(&p.host).into_owned(),
                p.opened.to_string(),
                p.abnormal.to_string(),
                if causes.is_empty() {
                    "-".into()
                } else {
                    causes.join("\n")
                },
                life(p.lifetime_median_s),
                life(p.lifetime_p95_s),
                if t.is_empty() {
                    "-".into()
                } else {
                    t.join(", ")
                },
            ]
        })
        .collect();
    let mut out = table(
        &[
            "host",
            "opened",
            "deaths",
            "causes",
            "lifetime median",
            "p95",
            "T logged",
        ],
        rows,
    );
    out.push('\n');
    if peers.len() > SHOWN_PEERS {
        out.push_str(&format!(
            "({} more peer hosts: --format json lists them)\n",
            peers.len() - SHOWN_PEERS
        ));
    }
    out
}

/// Connection names with deaths (the peer host alone says little when
/// every application is on one host or behind one proxy).
fn names_table(r: &LogsReport, style: Style) -> String {
    let rows: Vec<Vec<String>> = r
        .names
        .iter()
        .filter(|k| k.abnormal > 0)
        .take(SHOWN_PEERS)
        .map(|k| {
            vec![
                clean(&k.key).into_owned(),
                k.closed.to_string(),
                k.abnormal.to_string(),
            ]
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n{}\n",
        style.heading("By connection name (client-provided)")
    );
    out.push_str(&table(&["name", "closed", "deaths"], rows));
    out.push('\n');
    out
}

/// Client libraries' lines, with the explain topic for each.
fn app_lines(r: &LogsReport, style: Style) -> String {
    if r.app_lines.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n{}\n",
        style.heading("Client library log lines recognised")
    );
    for f in &r.app_lines {
        out.push_str(&wrap_with(
            &format!(
                "{} × {} ({}), first at {}",
                f.count,
                f.title,
                f.printed_by,
                clean(&f.first_seen)
            ),
            WIDTH,
            "• ",
            "  ",
        ));
        out.push_str(&wrap_with(&clean(&f.example), WIDTH, "    ", "    "));
        out.push_str(&format!("    next: amqpdoctor explain {}\n", f.explain));
    }
    out
}

fn life(s: Option<f64>) -> String {
    s.map_or("-".into(), |s| secs((s * 1000.0) as u64))
}

fn patterns(r: &LogsReport, style: Style) -> String {
    if r.patterns.is_empty() {
        return String::new();
    }
    let mut out = format!("\n{}\n", style.heading("Patterns"));
    for p in &r.patterns {
        let who = p
            .peer
            .as_deref()
            .map_or(String::new(), |h| format!(" ({})", clean(h)));
        out.push_str(&wrap_with(
            &format!("{}{who}: {}", p.kind, p.summary),
            WIDTH,
            "• ",
            "  ",
        ));
        for e in &p.evidence {
            out.push_str(&wrap_with(e, WIDTH, "    - ", "      "));
        }
        out.push_str(&wrap_with(
            &format!("next: {}", p.next),
            WIDTH,
            "    ",
            "      ",
        ));
    }
    out
}

/// One death as a line (also `--follow`'s line).
pub fn death_line(d: &Death, show_node: bool) -> String {
    let name = d
        .name
        .as_deref()
        .map_or(String::new(), |n| format!(" \"{}\"", clean(n)));
    let node = if d.node.is_empty() || !show_node {
        String::new()
    } else {
        format!(" [{}]", d.node)
    };
    let t = d
        .heartbeat_s
        .map_or(String::new(), |t| format!(" (T = {t} s)"));
    let after = d.lifetime_s.map_or(String::new(), |s| {
        format!(" after {}", secs((s * 1000.0) as u64))
    });
    format!(
        "{} {}{name}{node}: {}{t}{after} [{}]",
        d.closed,
        clean(&d.peer),
        d.cause.words(),
        d.cause.code()
    )
}

fn deaths(list: &[Death], total: u64, show_node: bool, style: Style) -> String {
    if list.is_empty() {
        return String::new();
    }
    let shown = list.len().min(SHOWN_DEATHS);
    let mut out = format!(
        "\n{}\n",
        style.heading(&format!(
            "Last deaths ({shown} of {total}; --format json lists up to 1,000)"
        ))
    );
    for d in &list[list.len() - shown..] {
        out.push_str(&wrap_with(&death_line(d, show_node), WIDTH, "  ", "    "));
    }
    out
}

fn notes(r: &LogsReport) -> String {
    let mut notes = Vec::new();
    for f in &r.files {
        if let Some(e) = &f.error {
            notes.push(format!("{}: {}", clean(&f.path), clean(e)));
        }
        if f.long_lines > 0 {
            notes.push(format!(
                "{}: {} line(s) longer than 1 MiB, read in part",
                clean(&f.path),
                f.long_lines
            ));
        }
    }
    if r.closes_without_open > 0 {
        notes.push(format!(
            "{} close(s) whose opening is not in what was read (the log starts in their lifetime): \
             counted, without a lifetime",
            r.closes_without_open
        ));
    }
    if r.evicted > 0 {
        notes.push(format!(
            "{} open connection(s) forgotten to keep memory bounded",
            r.evicted
        ));
    }
    if r.still_open > 0 {
        notes.push(format!(
            "{} connection(s) still open at the end of the read",
            r.still_open
        ));
    }
    if notes.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n");
    for n in notes {
        out.push_str(&wrap_with(&n, WIDTH, "note: ", "      "));
    }
    out
}

/// `n` bytes for a reader: `37 KiB`, `1.2 GiB`.
pub fn size(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if v < 10.0 {
        format!("{v:.1} {}", UNITS[u])
    } else {
        format!("{v:.0} {}", UNITS[u])
    }
}
