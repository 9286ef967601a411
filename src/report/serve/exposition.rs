//! The two exposition formats `serve` writes: Prometheus's text format
//! (version 0.0.4) and OpenMetrics 1.0 (when the scraper asks for it). The
//! differences that matter here: OpenMetrics names a counter's family
//! without `_total` (its samples keep it) and ends with `# EOF`.

use std::fmt::Write;

/// Content-Type of the text format.
pub const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Content-Type of OpenMetrics.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Which format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Text,
    OpenMetrics,
}

impl Flavor {
    /// The format a scraper's `Accept` header asks for: OpenMetrics when
    /// it is named (Prometheus names it first when it supports it).
    pub fn from_accept(accept: Option<&str>) -> Self {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Flavor::OpenMetrics,
            _ => Flavor::Text,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Flavor::Text => TEXT,
            Flavor::OpenMetrics => OPENMETRICS,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
}

/// One metric family: its full sample name (a counter's ends in
/// `_total`), help, and samples as (label text, value).
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub samples: Vec<(String, f64)>,
}

impl Family {
    pub fn gauge(name: &'static str, help: &'static str) -> Self {
        Family {
            name,
            kind: Kind::Gauge,
            help,
            samples: Vec::new(),
        }
    }

    pub fn counter(name: &'static str, help: &'static str) -> Self {
        debug_assert!(name.ends_with("_total"), "{name}");
        Family {
            name,
            kind: Kind::Counter,
            help,
            samples: Vec::new(),
        }
    }

    /// Add a sample with these labels (values escaped here).
    pub fn push(&mut self, labels: &[(&str, &str)], value: f64) {
        self.samples.push((label_text(labels), value));
    }

    /// Write the family (its HELP and TYPE even without samples: the
    /// series exists, it has nothing to say yet).
    pub fn write(&self, out: &mut String, flavor: Flavor) {
        let family = match (self.kind, flavor) {
            (Kind::Counter, Flavor::OpenMetrics) => {
                self.name.strip_suffix("_total").unwrap_or(self.name)
            }
            _ => self.name,
        };
        let kind = match self.kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        };
        let _ = writeln!(out, "# HELP {family} {}", self.help);
        let _ = writeln!(out, "# TYPE {family} {kind}");
        for (labels, value) in &self.samples {
            let _ = if labels.is_empty() {
                writeln!(out, "{} {}", self.name, number(*value))
            } else {
                writeln!(out, "{}{{{labels}}} {}", self.name, number(*value))
            };
        }
    }
}

/// A sample value: integers without a fraction, others to the microsecond.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.6}")
    }
}

/// A label value, escaped as both formats require.
pub fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `a="x",b="y"`.
pub fn label_text(labels: &[(&str, &str)]) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_named_per_flavor() {
        let mut f = Family::counter("amqpdoctor_x_total", "Things.");
        f.push(&[("a", "q\"\\\n")], 3.0);
        let mut text = String::new();
        f.write(&mut text, Flavor::Text);
        assert_eq!(
            text,
            "# HELP amqpdoctor_x_total Things.\n# TYPE amqpdoctor_x_total counter\n\
             amqpdoctor_x_total{a=\"q\\\"\\\\\\n\"} 3\n"
        );
        let mut om = String::new();
        f.write(&mut om, Flavor::OpenMetrics);
        assert!(om.starts_with("# HELP amqpdoctor_x Things.\n# TYPE amqpdoctor_x counter\n"));
        assert!(om.contains("\namqpdoctor_x_total{"), "{om}");
    }

    #[test]
    fn numbers_and_accept() {
        for (v, want) in [
            (1.0, "1"),
            (0.25, "0.250000"),
            (f64::NAN, "NaN"),
            (-2.0, "-2"),
        ] {
            assert_eq!(number(v), want);
        }
        let rows = [
            (None, Flavor::Text),
            (Some("text/plain;version=0.0.4"), Flavor::Text),
            (
                Some("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
                Flavor::OpenMetrics,
            ),
        ];
        for (accept, want) in rows {
            assert_eq!(Flavor::from_accept(accept), want, "{accept:?}");
        }
    }
}
