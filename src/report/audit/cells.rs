//! The cells and lines the human and Markdown renderers share.

use std::fmt::Write;

use super::AuditConnection;
use crate::classify::audit::{Flag, Silence};
use crate::report::style::clean;
use crate::run::management::Overview;
use crate::vocab::units::secs;
use crate::vocab::Heartbeat;

/// `RabbitMQ 3.10.8, cluster rabbit@vm, node rabbit@localhost (management 3.10.8)`.
pub(super) fn broker_line(o: &Overview) -> String {
    let mut out =
        crate::classify::narrate::server_label(o.product.as_deref(), o.version.as_deref());
    if let Some(c) = &o.cluster_name {
        let _ = write!(out, ", cluster {c}");
    }
    if let Some(n) = &o.node {
        let _ = write!(out, ", node {n}");
    }
    if let Some(m) = &o.management_version {
        let _ = write!(out, " (management {m})");
    }
    out
}

/// The widest connection name and client cells in the human table.
pub(super) const NAME_CELL: usize = 28;
pub(super) const CLIENT_CELL: usize = 18;

/// At most `max` characters: a longer text loses its middle to `…` (names
/// often differ only at the end: `app-worker-1`, `app-worker-2`).
pub(super) fn cut(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return text.to_string();
    }
    let tail = (max - 1) / 2;
    let head = max - 1 - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

pub(super) fn heartbeat_cell(t: Option<Heartbeat>) -> String {
    t.map_or_else(|| "–".into(), |t| t.to_string())
}

pub(super) fn silence_cell(s: Option<&Silence>) -> String {
    match s {
        None => "–".into(),
        Some(s) if s.silent_ms == 0 => "no".into(),
        Some(s) => format!("≥ {}", secs(s.silent_ms)),
    }
}

pub(super) fn flags_cell(flags: &[Flag]) -> String {
    if flags.is_empty() {
        "–".into()
    } else {
        flags
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub(super) fn bytes(n: Option<u64>) -> String {
    n.map_or_else(|| "?".into(), |n| format!("{n} B"))
}

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The connection's facts in one line, after its peer.
pub(super) fn facts_line(c: &AuditConnection) -> String {
    let mut parts = Vec::new();
    if let Some(n) = &c.connection_name {
        parts.push(format!("\"{n}\""));
    }
    parts.push(c.client_label());
    if let Some(u) = &c.user {
        parts.push(format!("user {u}"));
    }
    if let Some(v) = &c.vhost {
        parts.push(format!("vhost {v}"));
    }
    if let Some(p) = &c.protocol {
        parts.push(p.clone());
    }
    if c.tls {
        parts.push(format!(
            "TLS{}",
            c.tls_protocol
                .as_deref()
                .map(|p| format!(" {p}"))
                .unwrap_or_default()
        ));
    }
    if let Some(ch) = c.channels {
        parts.push(plural(ch as usize, "channel", "channels"));
    }
    parts.push(format!(
        "received {}, sent {}",
        bytes(c.recv_oct),
        bytes(c.send_oct)
    ));
    clean(&parts.join(", ")).into_owned()
}
