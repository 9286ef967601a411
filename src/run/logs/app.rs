//! Client libraries' log lines in what `logs` reads (an application's log,
//! or one given beside the broker's): each line that is not a RabbitMQ
//! record is matched against the knowledge base's log patterns, the ones
//! `explain` uses (data/knowledge/logs.toml), and counted per pattern, with
//! where it was first seen and one example (redacted). A multi-pattern
//! prefilter (every pattern's needles, ASCII case-insensitive) runs first;
//! a line is lowercased and judged only when it matches.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use serde::Serialize;

use crate::knowledge::{log_patterns, LogPattern};
use crate::target::redact::redact_text;

/// The longest example kept.
const EXAMPLE_MAX: usize = 300;

/// One pattern's lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppFinding {
    /// The knowledge base's pattern id (`explain` names it too).
    pub pattern: String,
    pub title: String,
    pub printed_by: String,
    /// The explain topic: `amqpdoctor explain TOPIC`.
    pub explain: String,
    pub count: u64,
    /// `FILE:LINE` of the first one.
    pub first_seen: String,
    /// The first one, redacted and cut to 300 characters.
    pub example: String,
}

/// The matcher and the counts (one slot per pattern: bounded).
pub struct AppLines {
    prefilter: AhoCorasick,
    patterns: &'static [LogPattern],
    found: Vec<Option<AppFinding>>,
}

impl Default for AppLines {
    fn default() -> Self {
        let patterns = log_patterns();
        let needles: Vec<&str> = patterns
            .iter()
            .flat_map(|p| p.needles.iter().map(String::as_str))
            .collect();
        AppLines {
            prefilter: AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .build(needles)
                .expect("the needles are plain strings"),
            patterns,
            found: vec![None; patterns.len()],
        }
    }
}

impl AppLines {
    /// Judge one line; `at` names where it is, asked only for the first of
    /// a pattern.
    pub fn check(&mut self, raw: &[u8], at: impl FnOnce() -> String) {
        if !self.prefilter.is_match(raw) {
            return;
        }
        let line = String::from_utf8_lossy(raw);
        let lower = line.to_lowercase();
        let Some(i) = self
            .patterns
            .iter()
            .position(|p| p.needles.iter().all(|n| lower.contains(n.as_str())))
        else {
            return;
        };
        let p = &self.patterns[i];
        match &mut self.found[i] {
            Some(f) => f.count += 1,
            slot @ None => {
                *slot = Some(AppFinding {
                    pattern: p.id.clone(),
                    title: p.title.clone(),
                    printed_by: p.printed_by.clone(),
                    explain: p.points_to.clone(),
                    count: 1,
                    first_seen: at(),
                    example: cut(&redact_text(line.trim()), EXAMPLE_MAX),
                })
            }
        }
    }

    /// What was found, most lines first.
    pub fn findings(self) -> Vec<AppFinding> {
        let mut v: Vec<AppFinding> = self.found.into_iter().flatten().collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.pattern.cmp(&b.pattern)));
        v
    }

    /// Merges another reader's counts (several streams).
    pub fn merge(all: &mut Vec<AppFinding>, more: Vec<AppFinding>) {
        for f in more {
            match all.iter_mut().find(|a| a.pattern == f.pattern) {
                Some(a) => a.count += f.count,
                None => all.push(f),
            }
        }
        all.sort_by(|a, b| b.count.cmp(&a.count).then(a.pattern.cmp(&b.pattern)));
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_lines_counted_per_pattern() {
        let mut a = AppLines::default();
        // As pasted in https://github.com/faucetsdn/poseidon/issues/1380
        // (tests/data/pasted/pika.toml).
        let pika = br#"2019-10-11T17:18:19+00:00 172.18.0.1 cyberreboot-poseidon-v0.7.2[2171]: [ERROR] connection_lost: StreamLostError: ("Stream connection lost: IndexError('pop from an empty deque')",)"#;
        for n in 0..3 {
            a.check(pika, || format!("app.log:{n}"));
        }
        a.check(b"2019-02-13 10:41:03,000 INFO nothing to see", || {
            "x".into()
        });
        let f = a.findings();
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].pattern, "pika_tx_buffers_race");
        assert_eq!(f[0].explain, "shared_connection");
        assert_eq!(f[0].count, 3);
        assert_eq!(f[0].first_seen, "app.log:0");
    }

    #[test]
    fn examples_are_redacted() {
        let mut a = AppLines::default();
        a.check(
            b"amqp://app:S3cr3tPw@broker:5672/ pika.exceptions.StreamLostError: Stream connection lost: IndexError('pop from an empty deque')",
            || "x".into(),
        );
        let f = a.findings();
        assert!(!f[0].example.contains("S3cr3tPw"), "{}", f[0].example);
    }
}
