//! `explain -`: what is said around the one diagnosis of a whole paste
//! (how much was read, the lines used, why the chosen one won), in human
//! text and as the JSON `paste` object. Pure; the diagnosis itself is the
//! chosen line's explanation, rendered as for `explain "LINE"`.

use serde::Serialize;

use super::style::{wrap_with, Style};
use crate::knowledge::paste::{
    Candidate, PasteReading, LINE_SCAN_CHARS, MAX_BYTES, MAX_CANDIDATES, MAX_LINES,
};

const WIDTH: usize = 80;

/// "line 12" or "lines 12–13".
fn lines_label(c: &Candidate) -> String {
    match c.last_line {
        Some(last) => format!("lines {}–{last}", c.line),
        None => format!("line {}", c.line),
    }
}

/// What a candidate was read as: the pattern id, or the topic it names.
fn read_as(c: &Candidate) -> String {
    match (c.matched.pattern, c.matched.target()) {
        (Some(p), _) => p.id.clone(),
        (None, Some(t)) => t.name(),
        (None, None) => String::new(),
    }
}

/// What was cut or skipped, one sentence each.
fn notes(r: &PasteReading) -> Vec<String> {
    let mut notes = Vec::new();
    if r.bytes_cut {
        notes.push(format!(
            "Only the first {} MiB were read; the rest of the input was not looked at.",
            MAX_BYTES / (1024 * 1024)
        ));
    }
    if r.lines_cut {
        notes.push(format!("Only the first {MAX_LINES} lines were read."));
    }
    if r.binary_lines > 0 {
        notes.push(format!(
            "{} line(s) held NUL bytes (binary, not text) and were skipped.",
            r.binary_lines
        ));
    }
    if r.long_lines > 0 {
        notes.push(format!(
            "{} line(s) were longer than {LINE_SCAN_CHARS} characters and read for their start only.",
            r.long_lines
        ));
    }
    if r.dropped > 0 {
        notes.push(format!(
            "{} more recognised line(s) ranked lower than the {MAX_CANDIDATES} kept and are not listed.",
            r.dropped
        ));
    }
    notes
}

/// The paragraph before the diagnosis.
pub fn human_header(r: &PasteReading, style: Style) -> String {
    let mut out = style.bold(&format!(
        "Diagnosis of a paste: {} line(s) read from standard input, {} recognised",
        r.lines,
        r.candidates.len() + r.dropped
    ));
    out.push('\n');
    if let (Some(c), Some(why)) = (r.chosen(), r.why()) {
        out.push_str(&wrap_with(
            &format!(
                "Read from {} ({}): {why}. Every line used is listed at the end.",
                lines_label(c),
                c.weight.class.describe()
            ),
            WIDTH,
            "  ",
            "  ",
        ));
    }
    out.push('\n');
    out
}

/// The section after the diagnosis: every line used, in paste order, the
/// chosen one marked; then what was cut or skipped.
pub fn human_lines(r: &PasteReading, style: Style) -> String {
    let mut out = String::from("\n");
    out.push_str(&style.heading("Lines used (in paste order)"));
    out.push('\n');
    let chosen = r.chosen().map(|c| c.line);
    let mut by_line: Vec<&Candidate> = r.candidates.iter().collect();
    by_line.sort_by_key(|c| c.line);
    for c in by_line {
        let mark = if Some(c.line) == chosen {
            " ← the diagnosis"
        } else {
            ""
        };
        let repeats = if c.repeats > 0 {
            format!(", and {} more time(s)", c.repeats)
        } else {
            String::new()
        };
        out.push_str(&wrap_with(
            &format!(
                "{}{repeats}: {} ({}){mark}",
                lines_label(c),
                read_as(c),
                c.weight.class.describe()
            ),
            WIDTH,
            "  - ",
            "    ",
        ));
        out.push_str(&wrap_with(&format!("“{}”", c.text), WIDTH, "    ", "    "));
    }
    let notes = notes(r);
    if !notes.is_empty() {
        out.push('\n');
        out.push_str(&style.heading("Not read"));
        out.push('\n');
        for n in notes {
            out.push_str(&wrap_with(&n, WIDTH, "  - ", "    "));
        }
    }
    out
}

/// The JSON `paste` object of `explain -`.
#[derive(Serialize)]
pub struct PasteFields<'a> {
    source: &'static str,
    bytes_read: usize,
    bytes_cut: bool,
    lines_read: usize,
    lines_cut: bool,
    binary_lines_skipped: usize,
    long_lines_cut: usize,
    recognised_lines: usize,
    lines_not_kept: usize,
    /// The line the diagnosis (the rest of the document) was read from.
    chosen_line: Option<usize>,
    /// Why that line outranked the next best.
    why: Option<String>,
    /// Every line used, best first.
    lines_used: Vec<LineUsed<'a>>,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct LineUsed<'a> {
    line: usize,
    last_line: Option<usize>,
    /// The text as pasted, redacted and shortened.
    text: &'a str,
    read_as: String,
    pattern: Option<&'a str>,
    explained_by: Option<String>,
    class: &'static str,
    caused_by_depth: u16,
    repeats: usize,
    chosen: bool,
}

pub fn json_fields(r: &PasteReading) -> PasteFields<'_> {
    let chosen = r.chosen().map(|c| c.line);
    PasteFields {
        source: "stdin",
        bytes_read: r.bytes,
        bytes_cut: r.bytes_cut,
        lines_read: r.lines,
        lines_cut: r.lines_cut,
        binary_lines_skipped: r.binary_lines,
        long_lines_cut: r.long_lines,
        recognised_lines: r.candidates.len() + r.dropped,
        lines_not_kept: r.dropped,
        chosen_line: chosen,
        why: r.why(),
        lines_used: r
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| LineUsed {
                line: c.line,
                last_line: c.last_line,
                text: &c.text,
                read_as: read_as(c),
                pattern: c.matched.pattern.map(|p| p.id.as_str()),
                explained_by: c.matched.target().map(|t| t.name()),
                class: c.weight.class.as_str(),
                caused_by_depth: c.weight.depth,
                repeats: c.repeats,
                chosen: i == 0,
            })
            .collect(),
        notes: notes(r),
    }
}
