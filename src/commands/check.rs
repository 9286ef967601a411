//! `amqpdoctor check`: the CI smoke check. Every target concurrently, every
//! step timed, expectations judged, one report in the chosen format.
//!
//! Targets come from the arguments and `--targets-file`; without either,
//! from `$AMQP_URL`, else the local default. All are parsed before any
//! connection opens, so a bad URL is a usage error (exit 2) and nothing is
//! sent anywhere.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;

use crate::cli::CheckArgs;
use crate::error::{ExitStatus, UsageError};
use crate::report::check::{self as render, CheckReport, CheckSettings, TargetReport};
use crate::report::{self, junit};
use crate::run::check::{check, CheckSpec};
use crate::target::{Target, DEFAULT_URL};
use crate::vocab::check::{Expectations, Millis};
use crate::vocab::format::Format;

/// More targets than this in one check is a usage error (each is a
/// connection and a file descriptor).
pub const MAX_TARGETS: usize = 1000;

/// At most this many targets are checked at the same time…
const CONCURRENCY: usize = 64;

/// …and fewer when the open-files limit is low (issue 24 item 13): each
/// check holds one socket, and this many descriptors stay for stdio, the
/// runtime, the broker's files (`--cacert`, `--junit`).
const FDS_KEPT: u64 = 24;

/// Checks at once for an open-files soft limit of `nofile`: at most
/// [`CONCURRENCY`], at least 1.
fn concurrency_for(nofile: u64) -> usize {
    let spare = nofile.saturating_sub(FDS_KEPT).max(1);
    usize::try_from(spare).map_or(CONCURRENCY, |n| n.min(CONCURRENCY))
}

/// How many of `targets` checks run at once here, with a notice when
/// `ulimit -n` lowered it below both [`CONCURRENCY`] and `targets`.
fn concurrency(targets: usize) -> usize {
    let Some(limit) = crate::observe::open_files_limit() else {
        return CONCURRENCY;
    };
    let n = concurrency_for(limit);
    if n < CONCURRENCY && n < targets {
        report::notice(&format!(
            "checking {n} targets at a time, not {CONCURRENCY}: the open-files limit \
             (ulimit -n) is {limit}"
        ));
    }
    n
}

/// A targets file larger than this is refused (it is a list of URLs).
const TARGETS_FILE_MAX: u64 = 1024 * 1024;

pub fn run(args: CheckArgs) -> anyhow::Result<ExitStatus> {
    let targets = targets(&args)?;
    if args.exchange.is_some() {
        report::notice(
            "publishing through a user exchange as asked: messages may reach user queues bound \
             with the same routing key",
        );
    }
    let exp = Expectations {
        heartbeat: args.expect_heartbeat,
        max_connect: args.max_connect,
        max_handshake: args.max_handshake,
        max_roundtrip: args.max_roundtrip,
        server: args.expect_server.clone(),
        tls_accepted_by: args
            .expect_tls_accepted_by
            .clone()
            .map(|f| f.0)
            .unwrap_or_default(),
    };
    let settings = CheckSettings {
        heartbeat: args
            .heartbeat
            .map_or_else(|| "server (or each URL's heartbeat=)".into(), |h| h.label()),
        step_timeout_ms: crate::vocab::units::duration_ms(
            args.connect_timeout
                .unwrap_or(super::DEFAULT_CONNECT_TIMEOUT),
        ),
        exchange: args.exchange.clone(),
        routing_key: args.routing_key.clone(),
        expect_heartbeat: exp.heartbeat.map(|r| r.to_string()),
        max_connect_ms: exp.max_connect.map(Millis::of),
        max_handshake_ms: exp.max_handshake.map(Millis::of),
        max_roundtrip_ms: exp.max_roundtrip.map(Millis::of),
        expect_server: exp.server.as_ref().map(|s| s.to_string()),
        expect_tls_accepted_by: exp.tls_accepted_by.clone(),
    };
    // One thread is plenty: every step waits on the network.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = rt.block_on(check_all(&args, targets, &exp, settings));
    let out = report::format::render(&report, args.format, super::style_for(args.color))?;
    report::emit(out).context("writing the report")?;
    if let Some(path) = &args.junit {
        // A FIFO nobody reads must not hold the process (issue 24 item 6).
        crate::wire::small_file::write_small(path, render::render_junit(&report).as_bytes())
            .map_err(|e| anyhow::anyhow!("writing the JUnit report to {}: {e}", path.display()))?;
    }
    if args.format != Format::Human {
        // The report may be XML in a file: say the outcome in one line for
        // the CI log too.
        for t in report.targets.iter().filter(|t| !t.passed) {
            if let Some(why) = &t.failure {
                report::notice(&format!(
                    "check failed: {} — {}",
                    t.target,
                    report::style::clean(why)
                ));
            }
        }
    }
    Ok(report.exit_code)
}

async fn check_all(
    args: &CheckArgs,
    targets: Vec<Target>,
    exp: &Expectations,
    settings: CheckSettings,
) -> CheckReport {
    let cancel = super::interrupt_flag();
    let started = Instant::now();
    let started_at = junit::iso8601(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency(targets.len())));
    let handles: Vec<_> = targets
        .iter()
        .map(|t| {
            let spec = CheckSpec {
                target: t.clone(),
                heartbeat: super::heartbeat_request(args.heartbeat, t),
                step_timeout: super::connect_timeout(args.connect_timeout, t),
                exchange: args.exchange.clone().map(|x| (x, args.routing_key.clone())),
                cancel: cancel.clone(),
            };
            let gate = gate.clone();
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await;
                check(spec).await
            })
        })
        .collect();
    let mut reports = Vec::with_capacity(targets.len());
    let mut interrupted = false;
    for (t, h) in targets.iter().zip(handles) {
        let outcome = match h.await {
            Ok(o) => o,
            Err(e) => {
                // A task that panicked is a bug; the other targets still report.
                report::notice(&format!("checking {t} failed inside amqpdoctor: {e}"));
                continue;
            }
        };
        interrupted |= outcome.interrupted;
        let accepted = outcome.tls_accepted.clone();
        let mut report = TargetReport::build(
            t.to_string(),
            short_name(t),
            started,
            outcome,
            exp,
            super::heartbeat_request(args.heartbeat, t),
        );
        report.tls = crate::report::TlsInfo::of(t);
        if let Some(tls) = report.tls.as_mut() {
            tls.accept(accepted.as_ref());
        }
        reports.push(report);
    }
    CheckReport::new(
        started_at,
        settings,
        reports,
        started.elapsed(),
        interrupted || *cancel.borrow(),
    )
}

/// `host:port/vhost` (vhost percent-encoded as in the URL; `/` is `%2f`).
pub fn short_name(t: &Target) -> String {
    let shown = t.to_string();
    let vhost = shown.rsplit_once('/').map_or("", |(_, v)| v);
    format!("{}/{vhost}", t.authority())
}

/// Every target, parsed, with the password override applied: arguments,
/// then the targets file; without either, `$AMQP_URL`, else the default.
fn targets(args: &CheckArgs) -> anyhow::Result<Vec<Target>> {
    target_list(
        &args.urls,
        args.targets_file.as_deref(),
        args.password_file.as_deref(),
        &args.tls,
    )
}

/// [`targets`] from its parts (`serve --check` takes the same).
pub fn target_list(
    args_urls: &[String],
    targets_file: Option<&std::path::Path>,
    password_file: Option<&std::path::Path>,
    tls: &crate::cli::TlsArgs,
) -> anyhow::Result<Vec<Target>> {
    let mut urls: Vec<String> = args_urls.to_vec();
    if let Some(path) = targets_file {
        let listed = read_targets_file(path)?;
        if listed.is_empty() && urls.is_empty() {
            // Falling back to $AMQP_URL or localhost here would pass a CI
            // job whose list went missing.
            return Err(UsageError(format!(
                "--targets-file {}: no URL in it (only blank lines and comments)",
                path.display()
            ))
            .into());
        }
        urls.extend(listed);
    }
    if urls.is_empty() {
        match std::env::var("AMQP_URL") {
            Ok(u) if !u.trim().is_empty() => urls.push(u),
            _ => urls.push(DEFAULT_URL.to_string()),
        }
    }
    if urls.len() > MAX_TARGETS {
        return Err(UsageError(format!(
            "{} targets; check takes at most {MAX_TARGETS} at a time (split the list)",
            urls.len()
        ))
        .into());
    }
    let password = match password_file {
        Some(path) => Some(super::read_password_file(path)?),
        None => match std::env::var("AMQPDOCTOR_PASSWORD") {
            Ok(pw) => Some(pw),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(UsageError("$AMQPDOCTOR_PASSWORD is not valid UTF-8".into()).into())
            }
        },
    };
    urls.iter()
        .map(|u| {
            let t = Target::parse(u.trim())?;
            let t = super::with_tls(
                t,
                tls,
                &format!("{}: ", crate::target::redact::url_for_message(u.trim())),
            )?;
            super::warn_about(&t, &format!("{t}: "));
            Ok(match &password {
                Some(pw) => t.with_password(pw.clone()),
                None => t,
            })
        })
        .collect::<anyhow::Result<Vec<Target>>>()
        .map(without_duplicates)
}

/// The targets with each one listed twice (same URL once redacted) kept
/// once, said on stderr: a duplicate would be a duplicate Prometheus
/// series.
fn without_duplicates(targets: Vec<Target>) -> Vec<Target> {
    let mut seen = std::collections::HashSet::new();
    targets
        .into_iter()
        .filter(|t| {
            let first = seen.insert(t.to_string());
            if !first {
                report::notice(&format!("{t}: listed more than once; checked once"));
            }
            first
        })
        .collect()
}

/// The URLs in a targets file: one per line, `#` starts a comment, blank
/// lines are skipped. Errors name the file, never its content.
pub fn read_targets_file(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let text =
        super::read_small_text_file(path, "--targets-file", TARGETS_FILE_MAX, "a list of URLs")?;
    Ok(parse_targets(&text))
}

/// The URLs in a targets file's text.
pub fn parse_targets(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_once('#').map_or(l, |(before, _)| before).trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_follows_the_open_files_limit() {
        for (nofile, want) in [(1024, 64), (48, 24), (25, 1), (10, 1), (u64::MAX, 64)] {
            assert_eq!(super::concurrency_for(nofile), want, "ulimit -n {nofile}");
        }
    }

    #[test]
    fn targets_file_lines() {
        let text =
            "# staging\namqp://a/\n\n  amqp://b:5673/v  # second\n#amqp://c/\r\namqp://d/\r\n";
        assert_eq!(
            parse_targets(text),
            ["amqp://a/", "amqp://b:5673/v", "amqp://d/"]
        );
    }

    #[test]
    fn short_names() {
        let rows = [
            ("amqp://u:p@h:5673/v", "h:5673/v"),
            ("amqp://h", "h:5672/%2f"),
            ("amqp://[::1]/%2f", "[::1]:5672/%2f"),
        ];
        for (url, want) in rows {
            assert_eq!(short_name(&Target::parse(url).unwrap()), want, "{url}");
        }
    }
}
