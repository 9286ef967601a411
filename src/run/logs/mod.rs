//! `logs`' reader: log files (plain, `.gz`, `-` for stdin) into records,
//! streams merged by time, records through the lifecycle join into the
//! summary. Streaming and bounded: one buffer and one open record per
//! stream, lines capped at [`MAX_LINE`], a multi-pattern prefilter
//! (`classify::logs::event::NEEDLES`) before any parsing, and state only
//! for connections still open (the tracker's cap).
//!
//! [`follow`] keeps reading files as they grow, across rotation.

pub mod app;
pub mod follow;
pub mod plan;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use aho_corasick::AhoCorasick;
use serde::Serialize;

use crate::classify::logs::event::{event, NEEDLES};
use crate::classify::logs::lifecycle::{host_of, Closed, Step, Tracker};
use crate::classify::logs::parse::unwrap_container;
use crate::classify::logs::record::{Assembler, Record};
use crate::classify::logs::Summary;

/// The longest line read whole; the rest of a longer one is skipped.
pub const MAX_LINE: usize = 1 << 20;
const BUF: usize = 256 * 1024;

/// What to read and which deaths to count.
pub struct LogsSpec {
    pub paths: Vec<PathBuf>,
    pub filter: Filter,
    /// Checked between records: true ends the read (Ctrl-C).
    pub cancelled: Box<dyn Fn() -> bool + Send>,
}

/// Which records count: a time window and a peer.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// A host, a host:port, or a client-provided connection name.
    pub peer: Option<String>,
}

impl Filter {
    pub fn in_window(&self, at_ms: i64) -> bool {
        self.since_ms.is_none_or(|s| at_ms >= s) && self.until_ms.is_none_or(|u| at_ms <= u)
    }

    fn peer_matches(&self, peer: &str, name: Option<&str>) -> bool {
        self.peer
            .as_deref()
            .is_none_or(|p| p == peer || p == host_of(peer) || name == Some(p))
    }

    /// Whether `step` counts (the tracker sees every record regardless).
    pub fn keeps(&self, step: &Step) -> bool {
        match step {
            Step::Nothing => false,
            Step::Opened { peer, at_ms, .. } => {
                self.in_window(*at_ms) && self.peer_matches(peer, None)
            }
            Step::Closed(c) => {
                self.in_window(c.closed_ms) && self.peer_matches(&c.peer, c.name.as_deref())
            }
            Step::Node { at_ms, .. } => self.in_window(*at_ms),
        }
    }
}

/// One file as read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileRead {
    pub path: String,
    pub node: String,
    pub bytes: u64,
    pub lines: u64,
    /// Lines longer than [`MAX_LINE`] (their rest skipped).
    pub long_lines: u64,
    /// Why the file could not be read to its end, in words.
    pub error: Option<String>,
}

/// Everything the read found.
#[derive(Debug, Default)]
pub struct LogsOutcome {
    pub nodes: Vec<String>,
    pub files: Vec<FileRead>,
    pub summary: Summary,
    pub records: u64,
    pub still_open: usize,
    pub evicted: u64,
    pub closes_without_open: u64,
    pub interrupted: bool,
    /// Client libraries' log lines recognised (lines that are no RabbitMQ record).
    pub app_lines: Vec<app::AppFinding>,
}

/// The prefilter: any of the needles the event parser needs, the most
/// common one first by itself (one SIMD search decides most wanted lines).
pub struct Prefilter {
    common: memchr::memmem::Finder<'static>,
    any: AhoCorasick,
}

impl Prefilter {
    pub fn is_match(&self, line: &[u8]) -> bool {
        self.common.find(line).is_some() || self.any.is_match(line)
    }
}

pub fn prefilter() -> Prefilter {
    Prefilter {
        common: memchr::memmem::Finder::new(b"connection <"),
        any: AhoCorasick::new(NEEDLES).expect("the needles are plain strings"),
    }
}

/// Reads every file of `spec` to its end (or to Ctrl-C), calling
/// `on_death` for each death counted, in time order.
pub fn read(
    spec: &LogsSpec,
    mut on_death: impl FnMut(&str, &Closed),
) -> Result<LogsOutcome, String> {
    let plan = plan::plan(&spec.paths)?;
    let mut out = LogsOutcome {
        nodes: plan.nodes.clone(),
        ..LogsOutcome::default()
    };
    // Two stages on two threads: this one joins and counts; the reader
    // splits, prefilters and assembles, a bounded queue of batches apart
    // (dropping the receiver stops the reader).
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(u16, i64, String)>>(QUEUED_BATCHES);
    let reader = std::thread::Builder::new()
        .name("logs-reader".into())
        .spawn(move || merge(plan, &tx))
        .map_err(|e| format!("starting the log reader: {e}"))?;
    let mut tracker = Tracker::default();
    'batches: for batch in &rx {
        for (node, at_ms, text) in batch {
            if out.records.is_multiple_of(1024) && (spec.cancelled)() {
                out.interrupted = true;
                break 'batches;
            }
            apply(
                &mut out,
                &mut tracker,
                &spec.filter,
                node,
                at_ms,
                &text,
                &mut on_death,
            );
        }
    }
    drop(rx);
    (out.files, out.app_lines) = reader.join().unwrap_or_default();
    out.still_open = tracker.still_open();
    out.evicted = tracker.evicted;
    out.closes_without_open = tracker.closes_without_open;
    Ok(out)
}

/// Batches of records in flight between the reader and the join.
const QUEUED_BATCHES: usize = 4;
const BATCH: usize = 512;

/// The reader's stage: every stream's records, merged by time, in batches
/// to `tx`; the files' stats at the end (or when the receiver is gone).
fn merge(
    plan: plan::Plan,
    tx: &std::sync::mpsc::SyncSender<Vec<(u16, i64, String)>>,
) -> (Vec<FileRead>, Vec<app::AppFinding>) {
    let ac = prefilter();
    let mut files = Vec::new();
    let mut streams: Vec<StreamReader> = plan
        .streams
        .iter()
        .map(|s| StreamReader::new(s.node, s.files.clone(), &plan.nodes))
        .collect();
    let mut heap = BinaryHeap::new();
    for (i, s) in streams.iter_mut().enumerate() {
        if let Some(r) = s.next_record(&ac, &mut files) {
            heap.push(Reverse((r.at_ms, i, r.text)));
        }
    }
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(Reverse((at_ms, i, text))) = heap.pop() {
        batch.push((streams[i].node, at_ms, text));
        if batch.len() == BATCH
            && tx
                .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                .is_err()
        {
            break;
        }
        if let Some(r) = streams[i].next_record(&ac, &mut files) {
            heap.push(Reverse((r.at_ms, i, r.text)));
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(batch);
    }
    let mut found = Vec::new();
    for mut s in streams {
        s.close(&mut files);
        app::AppLines::merge(&mut found, s.app.findings());
    }
    (files, found)
}

/// One record through the join and, when it counts, into the summary.
pub fn apply(
    out: &mut LogsOutcome,
    tracker: &mut Tracker,
    filter: &Filter,
    node: u16,
    at_ms: i64,
    text: &str,
    on_death: &mut impl FnMut(&str, &Closed),
) {
    out.records += 1;
    if filter.in_window(at_ms) {
        out.summary.saw(at_ms);
    }
    let Some(ev) = event(text) else { return };
    let step = tracker.apply(node, at_ms, &ev);
    if !filter.keeps(&step) {
        return;
    }
    if let Step::Closed(c) = &step {
        let label = out.nodes.get(usize::from(node)).map_or("", String::as_str);
        on_death(label, c);
    }
    out.summary.add(step);
}

/// A stream's files, read one after the other into records.
struct StreamReader {
    node: u16,
    node_label: String,
    files: std::vec::IntoIter<PathBuf>,
    cur: Option<(Box<dyn BufRead + Send>, FileRead)>,
    asm: Assembler,
    line: Vec<u8>,
    app: app::AppLines,
}

impl StreamReader {
    fn new(node: u16, files: Vec<PathBuf>, nodes: &[String]) -> Self {
        StreamReader {
            node,
            node_label: nodes.get(usize::from(node)).cloned().unwrap_or_default(),
            files: files.into_iter(),
            cur: None,
            asm: Assembler::default(),
            line: Vec::with_capacity(4096),
            app: app::AppLines::default(),
        }
    }

    /// The next record of the stream, opening its next file when one ends.
    fn next_record(&mut self, ac: &Prefilter, done: &mut Vec<FileRead>) -> Option<Record> {
        loop {
            if self.cur.is_none() {
                let path = self.files.next()?;
                self.cur = Some(open(&path, &self.node_label));
            }
            let (reader, stats) = self.cur.as_mut()?;
            match read_line(reader.as_mut(), &mut self.line, MAX_LINE) {
                Ok(Some(long)) => {
                    stats.lines += 1;
                    stats.bytes += self.line.len() as u64 + 1;
                    stats.long_lines += u64::from(long);
                    let app = &mut self.app;
                    let skipped = |raw: &[u8]| {
                        app.check(raw, || format!("{}:{}", stats.path, stats.lines));
                    };
                    if let Some(r) = feed(&mut self.asm, ac, &self.line, skipped) {
                        return Some(r);
                    }
                }
                Ok(None) => {
                    self.close(done);
                    if let Some(r) = self.asm.finish() {
                        return Some(r);
                    }
                }
                Err(e) => {
                    if let Some((_, s)) = self.cur.as_mut() {
                        s.error = Some(read_error(&e));
                    }
                    self.close(done);
                    if let Some(r) = self.asm.finish() {
                        return Some(r);
                    }
                }
            }
        }
    }

    fn close(&mut self, done: &mut Vec<FileRead>) {
        if let Some((_, stats)) = self.cur.take() {
            done.push(stats);
        }
    }
}

/// One line into the assembler, when the prefilter or an open record wants
/// it; a line neither wants goes to `skipped` (the client-library lines).
pub fn feed(
    asm: &mut Assembler,
    ac: &Prefilter,
    raw: &[u8],
    skipped: impl FnOnce(&[u8]),
) -> Option<Record> {
    let json = raw.first() == Some(&b'{');
    // Most wanted lines are connection lines: one SIMD search decides them.
    let wanted = ac.is_match(raw);
    if !wanted && !json && !asm.open() {
        skipped(raw);
        return None;
    }
    let text = match std::str::from_utf8(raw) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(raw),
    };
    // RabbitMQ's own `YYYY-MM-DD HH:MM:SS` stamp first: no container prefix.
    let own = raw.len() > 20 && raw[4] == b'-' && raw[10] == b' ' && raw[13] == b':';
    let line = if own {
        std::borrow::Cow::Borrowed(text.as_ref())
    } else {
        unwrap_container(&text)
    };
    let wanted = wanted || (json && ac.is_match(line.as_bytes()));
    if !wanted && !asm.open() {
        return None;
    }
    asm.push(&line, wanted)
}

fn read_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => "truncated: the compressed data ends early".into(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            format!("not readable as gzip ({e}); the rest of this file is skipped")
        }
        _ => format!("read failed: {e}"),
    }
}

/// A file (or stdin) opened for reading, gunzipped when its name or its
/// first bytes say gzip. A file that cannot be opened is read as empty,
/// with the reason in its stats.
fn open(path: &Path, node: &str) -> (Box<dyn BufRead + Send>, FileRead) {
    let mut stats = FileRead {
        path: path.display().to_string(),
        node: node.to_string(),
        ..FileRead::default()
    };
    if path.as_os_str() == "-" {
        return (Box::new(BufReader::with_capacity(BUF, io::stdin())), stats);
    }
    match File::open(path) {
        Ok(f) => {
            let mut r = BufReader::with_capacity(BUF, f);
            let gz = r
                .fill_buf()
                .map(|b| b.starts_with(&[0x1f, 0x8b]))
                .unwrap_or(false);
            if gz {
                let d = flate2::bufread::MultiGzDecoder::new(r);
                (Box::new(BufReader::with_capacity(BUF, d)), stats)
            } else {
                (Box::new(r), stats)
            }
        }
        Err(e) => {
            stats.error = Some(format!("cannot open: {e}"));
            (Box::new(io::empty()), stats)
        }
    }
}

/// The next line of `r` into `buf` (without its `\n`; at most `max` bytes
/// kept): `Some(true)` when the line was longer, `None` at the end.
pub fn read_line(r: &mut dyn BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<bool>> {
    buf.clear();
    let mut long = false;
    let mut any = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(any.then_some(long));
        }
        any = true;
        let (chunk, used, end) = match memchr::memchr(b'\n', avail) {
            Some(i) => (&avail[..i], i + 1, true),
            None => (avail, avail.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        if chunk.len() > room {
            long = true;
        }
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        r.consume(used);
        if end {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(long));
        }
    }
}

#[cfg(test)]
mod tests;
