//! `logs --follow`: read each file as it grows, from its end at the start,
//! like `tail -F`: a file renamed away (rotation) is read to its end and the
//! new file at the same path is read from its start; a file truncated in
//! place (logrotate's copytruncate) is read again from its start; a path
//! that is gone is waited for. Every death is handed out as it is read.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use super::{apply, feed, plan, FileRead, LogsOutcome, LogsSpec, MAX_LINE};
use crate::classify::logs::lifecycle::{Closed, Tracker};
use crate::classify::logs::record::{Assembler, Record};

/// How often the files are looked at.
pub const POLL: Duration = Duration::from_millis(200);
/// The most bytes read from one file per look (the rest on the next).
const CHUNK: usize = 1 << 20;

struct Tail {
    path: PathBuf,
    node: u16,
    file: Option<File>,
    ino: u64,
    pos: u64,
    partial: Vec<u8>,
    asm: Assembler,
    stats: FileRead,
}

impl Tail {
    fn open(path: PathBuf, node: u16, label: &str) -> Tail {
        let mut t = Tail {
            stats: FileRead {
                path: path.display().to_string(),
                node: label.to_string(),
                ..FileRead::default()
            },
            path,
            node,
            file: None,
            ino: 0,
            pos: 0,
            partial: Vec::new(),
            asm: Assembler::default(),
        };
        if let Ok(mut f) = File::open(&t.path) {
            t.pos = f.seek(SeekFrom::End(0)).unwrap_or(0);
            t.ino = f.metadata().map(|m| m.ino()).unwrap_or(0);
            t.file = Some(f);
        }
        t
    }

    /// The records that became complete since the last look.
    fn look(&mut self, ac: &super::Prefilter, buf: &mut [u8]) -> Vec<Record> {
        let mut out = Vec::new();
        let n = match self.file.as_mut().map(|f| f.read(buf)) {
            Some(Ok(n)) => n,
            Some(Err(e)) => {
                self.stats.error = Some(format!("read failed: {e}"));
                0
            }
            None => 0,
        };
        if n > 0 {
            self.pos += n as u64;
            self.stats.bytes += n as u64;
            self.lines(&buf[..n], ac, &mut out);
            return out;
        }
        // Nothing new: the record being read is complete (the broker writes
        // a record's lines at once), and the path may be a new file.
        out.extend(self.asm.finish());
        self.reopen_if_rotated();
        out
    }

    fn lines(&mut self, data: &[u8], ac: &super::Prefilter, out: &mut Vec<Record>) {
        let mut rest = data;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            let room = MAX_LINE.saturating_sub(self.partial.len());
            if i > room {
                self.stats.long_lines += 1;
            }
            self.partial.extend_from_slice(&rest[..i.min(room)]);
            rest = &rest[i + 1..];
            self.stats.lines += 1;
            if self.partial.last() == Some(&b'\r') {
                self.partial.pop();
            }
            out.extend(feed(&mut self.asm, ac, &self.partial, |_| {}));
            self.partial.clear();
        }
        let room = MAX_LINE.saturating_sub(self.partial.len());
        self.partial
            .extend_from_slice(&rest[..rest.len().min(room)]);
    }

    fn reopen_if_rotated(&mut self) {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return; // gone for now: rotated away and not yet recreated
        };
        let rotated = meta.ino() != self.ino || self.file.is_none();
        let truncated = !rotated && meta.len() < self.pos;
        if rotated {
            if let Ok(f) = File::open(&self.path) {
                self.file = Some(f);
                self.ino = meta.ino();
                self.pos = 0;
                self.partial.clear();
            }
        } else if truncated {
            if let Some(f) = self.file.as_mut() {
                self.pos = f.seek(SeekFrom::Start(0)).unwrap_or(0);
                self.partial.clear();
            }
        }
    }
}

/// Follows the live file of every stream of `spec` until it is cancelled.
pub fn follow(
    spec: &LogsSpec,
    mut on_death: impl FnMut(&str, &Closed),
) -> Result<LogsOutcome, String> {
    let plan = plan::plan(&spec.paths)?;
    let ac = super::prefilter();
    let mut out = LogsOutcome {
        nodes: plan.nodes.clone(),
        ..LogsOutcome::default()
    };
    let mut tails: Vec<Tail> = Vec::new();
    for s in &plan.streams {
        let live = s.files.last().cloned().unwrap_or_default();
        if live.as_os_str() == "-" {
            return Err("--follow reads files, not stdin".into());
        }
        let label = plan
            .nodes
            .get(usize::from(s.node))
            .map_or("", String::as_str);
        tails.push(Tail::open(live, s.node, label));
    }
    let mut tracker = Tracker::default();
    let mut buf = vec![0u8; CHUNK];
    while !(spec.cancelled)() {
        let mut busy = false;
        for t in &mut tails {
            let before = t.pos;
            let records = t.look(&ac, &mut buf);
            busy |= t.pos != before;
            for r in records {
                apply(
                    &mut out,
                    &mut tracker,
                    &spec.filter,
                    t.node,
                    r.at_ms,
                    &r.text,
                    &mut on_death,
                );
            }
        }
        if !busy {
            nap(POLL, &spec.cancelled);
        }
    }
    out.interrupted = true;
    out.files = tails.into_iter().map(|t| t.stats).collect();
    out.still_open = tracker.still_open();
    out.evicted = tracker.evicted;
    out.closes_without_open = tracker.closes_without_open;
    Ok(out)
}

/// Sleeps `d`, waking early when cancelled.
fn nap(d: Duration, cancelled: &dyn Fn() -> bool) {
    let step = Duration::from_millis(25);
    let mut left = d;
    while !left.is_zero() && !cancelled() {
        let s = left.min(step);
        std::thread::sleep(s);
        left -= s;
    }
}
