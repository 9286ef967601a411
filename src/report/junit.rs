//! JUnit XML, as Jenkins (xunit's junit-10.xsd) and GitLab read it: the
//! small model both `check` and `probe` fill, and its one writer.
//!
//! Text from outside (server product, reply texts) may hold control
//! characters that XML 1.0 forbids; they are shown escaped (`\x1b`) like
//! the terminal output does, then XML-escaped.

use std::fmt::Write;

use super::style::clean;

/// `<testsuites>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Suites {
    pub name: String,
    pub suites: Vec<Suite>,
}

/// `<testsuite>`: one target (check) or one probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    pub name: String,
    pub time_s: f64,
    /// ISO 8601, UTC, without zone (as the schema's consumers expect).
    pub timestamp: Option<String>,
    pub properties: Vec<(String, String)>,
    pub cases: Vec<Case>,
}

/// `<testcase>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub name: String,
    pub classname: String,
    pub time_s: f64,
    pub result: CaseResult,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CaseResult {
    Passed,
    Failed {
        kind: String,
        message: String,
        detail: String,
    },
    Skipped {
        message: String,
    },
}

impl Suite {
    fn count(&self, f: impl Fn(&CaseResult) -> bool) -> usize {
        self.cases.iter().filter(|c| f(&c.result)).count()
    }
    fn failures(&self) -> usize {
        self.count(|r| matches!(r, CaseResult::Failed { .. }))
    }
    fn skipped(&self) -> usize {
        self.count(|r| matches!(r, CaseResult::Skipped { .. }))
    }
}

/// XML-escape text for an attribute or element body. Line breaks and tabs
/// are kept as character references; other controls are shown escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c if !c.is_ascii() || c.is_ascii_control() => {
                out.push_str(&clean(c.encode_utf8(&mut [0; 4])))
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Seconds as the schema's SUREFIRE_TIME wants them: at most 3 decimals.
fn time(s: f64) -> String {
    format!("{:.3}", s.max(0.0))
}

/// Render the whole document.
pub fn render(doc: &Suites) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let tests: usize = doc.suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = doc.suites.iter().map(Suite::failures).sum();
    let total: f64 = doc.suites.iter().map(|s| s.time_s).fold(0.0, f64::max);
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{}\">",
        escape(&doc.name),
        time(total)
    );
    for (i, s) in doc.suites.iter().enumerate() {
        let _ = write!(
            out,
            "  <testsuite name=\"{}\" id=\"{i}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\"",
            escape(&s.name),
            s.cases.len(),
            s.failures(),
            s.skipped(),
            time(s.time_s)
        );
        if let Some(ts) = &s.timestamp {
            let _ = write!(out, " timestamp=\"{}\"", escape(ts));
        }
        out.push_str(">\n");
        if !s.properties.is_empty() {
            out.push_str("    <properties>\n");
            for (k, v) in &s.properties {
                let _ = writeln!(
                    out,
                    "      <property name=\"{}\" value=\"{}\"/>",
                    escape(k),
                    escape(v)
                );
            }
            out.push_str("    </properties>\n");
        }
        for c in &s.cases {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
                escape(&c.name),
                escape(&c.classname),
                time(c.time_s)
            );
            match &c.result {
                CaseResult::Passed => out.push_str("/>\n"),
                CaseResult::Failed {
                    kind,
                    message,
                    detail,
                } => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                        escape(kind),
                        escape(message),
                        escape(detail)
                    );
                }
                CaseResult::Skipped { message } => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape(message)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// `2026-11-21T09:05:03` (UTC) for seconds since the Unix epoch.
pub fn iso8601(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let rem = unix_s % 86_400;
    let (y, m, d) = crate::vocab::units::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let rows = [
            (0, "1970-01-01T00:00:00"),
            (951_782_400, "2000-02-29T00:00:00"),
            (1_795_000_000, "2026-11-18T11:06:40"),
            (4_107_542_399, "2100-02-28T23:59:59"),
        ];
        for (s, want) in rows {
            assert_eq!(iso8601(s), want, "{s}");
        }
    }

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            escape("a<b>&\"c'\u{1b}[2J"),
            "a&lt;b&gt;&amp;&quot;c&apos;\\x1b[2J"
        );
        assert_eq!(escape("a\nb\tc\r\u{202e}é"), "a&#10;b&#9;c\\x0d\\u{202e}é");
    }

    #[test]
    fn counts_and_times() {
        let case = |name: &str, result| Case {
            name: name.into(),
            classname: "c".into(),
            time_s: 0.0004,
            result,
        };
        let doc = Suites {
            name: "n".into(),
            suites: vec![Suite {
                name: "s".into(),
                time_s: 1.23456,
                timestamp: None,
                properties: vec![],
                cases: vec![
                    case("a", CaseResult::Passed),
                    case(
                        "b",
                        CaseResult::Failed {
                            kind: "k".into(),
                            message: "m".into(),
                            detail: "d".into(),
                        },
                    ),
                    case(
                        "c",
                        CaseResult::Skipped {
                            message: "s".into(),
                        },
                    ),
                ],
            }],
        };
        let xml = render(&doc);
        assert!(
            xml.contains(r#"tests="3" failures="1" errors="0" skipped="1" time="1.235""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testcase name="a" classname="c" time="0.000"/>"#),
            "{xml}"
        );
    }
}
