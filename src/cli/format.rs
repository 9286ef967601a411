//! Which `--format` values each command offers, with the help line for
//! each, and the one parser that turns them into [`Format`].
//!
//! The formats themselves are `vocab::format::Format`; what a report can
//! render is `report::format::Render`. `tests/formats.rs` runs every
//! command in every format listed here.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use crate::vocab::format::Format;

/// One format a command offers, and what it looks like for that command.
#[derive(Debug, Clone, Copy)]
pub struct Offer {
    pub format: Format,
    /// The help line under `--format` (empty: the name says it all).
    pub help: &'static str,
}

const fn plain(format: Format) -> Offer {
    Offer { format, help: "" }
}

/// The formats of heartbeat, idle-timeout, scan and explain.
pub const BASIC: &[Offer] = &[plain(Format::Human), plain(Format::Json)];

pub const PROBE: &[Offer] = &[
    plain(Format::Human),
    plain(Format::Json),
    Offer {
        format: Format::Junit,
        help: "JUnit XML: one test case per mode",
    },
    Offer {
        format: Format::Markdown,
        help: "A Markdown table, e.g. for a GitHub job summary",
    },
];

pub const CHECK: &[Offer] = &[
    Offer {
        format: Format::Human,
        help: "One table row per target, steps as columns",
    },
    Offer {
        format: Format::Json,
        help: "One JSON document",
    },
    Offer {
        format: Format::Junit,
        help: "JUnit XML: one test suite per target, one test case per step and expectation",
    },
    Offer {
        format: Format::Markdown,
        help: "A Markdown table, e.g. for a GitHub job summary ($GITHUB_STEP_SUMMARY)",
    },
    Offer {
        format: Format::Prometheus,
        help: "Prometheus text exposition format (node_exporter textfile collector, Pushgateway)",
    },
];

pub const TLS: &[Offer] = &[
    plain(Format::Human),
    plain(Format::Json),
    Offer {
        format: Format::Markdown,
        help: "Markdown tables: the chain, then each family's verdict",
    },
];

pub const AUDIT: &[Offer] = &[
    plain(Format::Human),
    plain(Format::Json),
    Offer {
        format: Format::Junit,
        help: "JUnit XML: one test case per connection, failed when it is flagged",
    },
    Offer {
        format: Format::Markdown,
        help: "A Markdown table of every connection, then what is flagged and why",
    },
];

pub const LOGS: &[Offer] = &[
    plain(Format::Human),
    plain(Format::Json),
    Offer {
        format: Format::Markdown,
        help: "Markdown tables of deaths by cause and by peer, then the patterns",
    },
];

/// The clap parser for a `--format` offering `offers`: only those names
/// are accepted (anything else exits 2 listing them), each with its help.
pub fn parser(offers: &'static [Offer]) -> impl TypedValueParser<Value = Format> {
    let values = offers.iter().map(|o| {
        let v = PossibleValue::new(o.format.name());
        if o.help.is_empty() {
            v
        } else {
            v.help(o.help)
        }
    });
    // Only the names above get through, and each is a format's name; the
    // fallback is never taken.
    PossibleValuesParser::new(values).map(|name| Format::from_name(&name).unwrap_or(Format::Human))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_offers_human_and_json_first_and_no_format_twice() {
        for offers in [BASIC, PROBE, CHECK, AUDIT] {
            assert_eq!(offers[0].format, Format::Human);
            assert_eq!(offers[1].format, Format::Json);
            let mut seen: Vec<Format> = offers.iter().map(|o| o.format).collect();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), offers.len());
        }
    }
}
