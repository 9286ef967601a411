//! `amqpdoctor logs [FILE…|-]`: RabbitMQ's logs read for who died, how and
//! why. The reader is `run::logs`, the join and the patterns
//! `classify::logs`, the report `report::logs`; this file parses the
//! window, runs the reader off the async runtime (so Ctrl-C is heard) and
//! prints.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;

use crate::classify::logs::lifecycle::Closed;
use crate::classify::logs::time::parse_iso;
use crate::cli::logs::When;
use crate::cli::LogsArgs;
use crate::error::{ExitStatus, UsageError};
use crate::report::logs::human::death_line;
use crate::report::logs::{Death, LogsReport};
use crate::report::style::Style;
use crate::report::{self};
use crate::run::logs::follow::follow;
use crate::run::logs::{read, Filter, LogsSpec};
use crate::vocab::format::Format;

pub fn run(args: LogsArgs) -> anyhow::Result<ExitStatus> {
    let filter = checked_filter(&args)?;
    let target = args
        .files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let style = super::style_for(args.color);
    let format = args.format;
    if args.follow {
        report::notice(
            "logs: following; one line per death as it happens (Ctrl-C prints the summary)",
        );
    }
    let paths = args.files.clone();
    let follow_mode = args.follow;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = rt.block_on(async move {
        let cancel = super::interrupt_flag();
        let spec = LogsSpec {
            paths,
            filter,
            cancelled: Box::new(move || *cancel.borrow()),
        };
        tokio::task::spawn_blocking(move || {
            if follow_mode {
                follow(&spec, |node, c| live_death(format, style, node, c))
            } else {
                read(&spec, |_, _| {})
            }
        })
        .await
    })?;
    let outcome = outcome.map_err(UsageError)?;
    if !outcome.files.is_empty()
        && outcome
            .files
            .iter()
            .all(|f| f.error.is_some() && f.bytes == 0)
    {
        let first = &outcome.files[0];
        return Err(UsageError(format!(
            "{}: {}",
            first.path,
            first.error.as_deref().unwrap_or("unreadable")
        ))
        .into());
    }
    let r = LogsReport::new(target, &outcome);
    let out = if follow_mode && format == Format::Json {
        let mut line = serde_json::to_string(&r).context("writing the summary")?;
        line.push('\n');
        line
    } else {
        report::format::render(&r, format, style)?
    };
    report::emit(out).context("writing the logs report")?;
    Ok(r.exit_status())
}

/// The window and peer asked for, after checking the arguments: a bad
/// time, an empty window, a missing file or `--follow -` is a usage error.
fn checked_filter(args: &LogsArgs) -> Result<Filter, UsageError> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let at = |w: &Option<When>, flag| w.as_ref().map(|w| resolve(w, now_ms, flag)).transpose();
    let since_ms = at(&args.since, "--since")?;
    let until_ms = at(&args.until, "--until")?;
    if let (Some(s), Some(u)) = (since_ms, until_ms) {
        if s > u {
            return Err(UsageError(
                "--since is after --until: nothing can match".into(),
            ));
        }
    }
    for p in &args.files {
        if p.as_os_str() != "-" && !p.exists() {
            return Err(UsageError(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    if args.follow && args.files.iter().any(|p| p.as_os_str() == "-") {
        return Err(UsageError("--follow reads files, not stdin".into()));
    }
    Ok(Filter {
        since_ms,
        until_ms,
        peer: args.peer.clone(),
    })
}

/// `--follow`'s line for one death, printed as it is read.
fn live_death(format: Format, style: Style, node: &str, c: &Closed) {
    let d = Death::of(node, c);
    let line = match format {
        Format::Json => serde_json::to_string(&d).unwrap_or_default(),
        _ if c.cause.abnormal() => style.bad(&death_line(&d, true)),
        _ => death_line(&d, true),
    };
    let _ = report::emit(format!("{line}\n"));
}

/// A `--since`/`--until` value as ms since the epoch.
fn resolve(w: &When, now_ms: i64, flag: &str) -> Result<i64, UsageError> {
    match w {
        When::Ago(d) => Ok(now_ms.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))),
        When::At(s) => parse_when_at(s).ok_or_else(|| {
            UsageError(format!(
                "{flag} {}: not a time; try 2026-12-04, 2026-12-04 17:45, 2026-12-04T17:45:11Z or an age such as 1h",
                report::style::clean(s)
            ))
        }),
    }
}

/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM`, or a full ISO time (UTC unless an
/// offset is given).
pub fn parse_when_at(s: &str) -> Option<i64> {
    let t = s.trim();
    let full = match t.len() {
        10 => format!("{t} 00:00:00"),
        16 => format!("{t}:00"),
        _ => t.to_string(),
    };
    match parse_iso(&full) {
        Some((ms, used)) if used == full.len() => Some(ms),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let day = 20_426_i64 * 86_400_000; // 2025-12-04
        for (s, want) in [
            ("2025-12-04", Some(day)),
            ("2025-12-04 01:02", Some(day + 3_720_000)),
            ("2025-12-04T01:02:03Z", Some(day + 3_723_000)),
            (
                "2025-12-04 01:02:03+01:00",
                Some(day + 3_723_000 - 3_600_000),
            ),
            ("yesterday", None),
            ("2025-12-04 01:02:03 trailing", None),
            ("2025-13-04", None),
        ] {
            assert_eq!(parse_when_at(s), want, "{s}");
        }
        assert_eq!(
            resolve(
                &When::Ago(std::time::Duration::from_secs(60)),
                100_000,
                "--since"
            )
            .ok(),
            Some(40_000)
        );
    }
}
