//! `amqpdoctor logs`'s command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{format, ColorArg};
use crate::vocab::format::Format;

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Log files, directories of them (every *.log and rotated *.log.N[.gz] inside), or - for
    /// stdin. Gzip'd files are read as such; rotated files of one log are read oldest first;
    /// several nodes' logs are merged by time.
    #[arg(value_name = "FILE", default_value = "/var/log/rabbitmq")]
    pub files: Vec<PathBuf>,

    /// Only records at or after WHEN: a time (2026-12-04 17:45, 2026-12-04T17:45:11Z) or an
    /// age (1h, 30m: that long ago).
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    pub since: Option<When>,

    /// Only records at or before WHEN (a time or an age, as --since).
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    pub until: Option<When>,

    /// Only connections of this peer: a host, host:port, or a client-provided connection name.
    #[arg(long, value_name = "PEER")]
    pub peer: Option<String>,

    /// Keep reading as the files grow (across rotation, like tail -F), from their end: one
    /// line per death as it happens; Ctrl-C prints the summary (exit 130).
    #[arg(long)]
    pub follow: bool,

    /// Output format. json prints one JSON document (with --follow, one JSON object per
    /// line: each death, then the summary).
    #[arg(long, default_value = "human", value_parser = format::parser(format::LOGS))]
    pub format: Format,

    /// Colour in human output: auto means stdout is a terminal, NO_COLOR unset and TERM not dumb.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

/// A point in time as given: an age, or a time still to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    Ago(Duration),
    At(String),
}

fn parse_when(s: &str) -> Result<When, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("needs a time (2026-12-04 17:45) or an age (1h)".into());
    }
    if let Ok(d) = humantime::parse_duration(t) {
        return Ok(When::Ago(d));
    }
    if t.len() > 64 {
        return Err("too long for a time".into());
    }
    Ok(When::At(t.to_string()))
}
