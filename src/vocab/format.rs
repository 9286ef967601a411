//! The output formats, as one vocabulary for every command.
//!
//! A command offers some of these (its `--format` values, in `cli::format`)
//! and its report renders them (`report::format::Render`). Adding a format
//! is: a variant here, a method on `Render` (a default that answers "not
//! offered", or one built from the report's pass/fail outcomes), its writer
//! in `report/format/`, and the commands that offer it in `cli::format`.

use std::fmt;

/// One output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Words and tables for a person at a terminal.
    Human,
    /// Exactly one JSON document (docs/json.md).
    Json,
    /// JUnit XML, for CI test reports.
    Junit,
    /// A Markdown table, for job summaries and tickets.
    Markdown,
    /// The Prometheus text exposition format.
    Prometheus,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 5] = [
        Format::Human,
        Format::Json,
        Format::Junit,
        Format::Markdown,
        Format::Prometheus,
    ];

    /// The name on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Prometheus => "prometheus",
        }
    }

    /// The format named `name` (exactly as [`Format::name`] spells it).
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Format;

    #[test]
    fn names_round_trip_and_are_distinct() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
        }
        let mut names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Format::ALL.len());
        assert_eq!(Format::from_name("Human"), None);
        assert_eq!(Format::from_name(""), None);
    }
}
