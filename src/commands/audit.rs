//! `amqpdoctor audit`: the broker's view of every client connection, read
//! from the RabbitMQ management API, judged, optionally joined with a
//! `scan` taken on the application's host.
//!
//! The URL and the scan file are read before any request, so a bad one is
//! a usage error (exit 2) and nothing is sent. The requests are blocking
//! (ureq); they run on a blocking thread raced against Ctrl-C, so an
//! interrupt exits 130 at once instead of waiting out a timeout.

use anyhow::Context;

use crate::classify::audit::{ScanFile, ScanRecord};
use crate::cli::AuditArgs;
use crate::error::{ExitStatus, Interrupted, UsageError};
use crate::report::audit::AuditReport;
use crate::report::{self, style};
use crate::run::management::{fetch, ManagementUrl};
use crate::vocab::format::Format;

/// A scan file larger than this is refused (a scan of a busy host is a
/// few hundred bytes per connection).
const SCAN_FILE_MAX: u64 = 16 * 1024 * 1024;

pub fn run(args: AuditArgs) -> anyhow::Result<ExitStatus> {
    let mut api = ManagementUrl::parse(&args.management)?;
    if let Some(path) = &args.password_file {
        api = api.with_password(super::read_password_file(path)?);
    }
    let scan = match &args.join {
        Some(path) => Some((path.display().to_string(), read_scan(path)?)),
        None => None,
    };
    // One thread is plenty: the requests block on their own thread, and
    // this one only waits for them or for Ctrl-C.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let timeout = args.timeout;
    let fetched = rt.block_on(async {
        let mut cancel = super::interrupt_flag();
        let api = api.clone();
        let work = tokio::task::spawn_blocking(move || fetch(&api, timeout));
        tokio::select! {
            done = work => Some(done),
            _ = cancel.wait_for(|&c| c) => None,
        }
    });
    // A request still under way must not hold the exit up.
    rt.shutdown_background();
    let fetched = match fetched {
        None => return Err(Interrupted("while reading the management API").into()),
        Some(Err(e)) => anyhow::bail!("reading the management API failed inside amqpdoctor: {e}"),
        // The failure's one line names the URL (redacted), what happened
        // and what to try; server text in it is shown, not obeyed.
        Some(Ok(Err(failure))) => anyhow::bail!("{}", style::clean(&failure.to_string())),
        Some(Ok(Ok(f))) => f,
    };
    if fetched.skipped > 0 {
        report::notice(&format!(
            "the management API listed {} more connection(s) than the {} audit reads; those \
             were skipped",
            fetched.skipped,
            crate::run::management::MAX_CONNECTIONS
        ));
    }
    let mut report = AuditReport::build(api.to_string(), fetched, scan);
    for alarm in &report.overview.alarms {
        report.notes.push(format!(
            "{alarm}: the broker blocks every connection that publishes (Connection.Blocked) \
             until it clears; see `amqpdoctor explain blocked`"
        ));
    }
    let out = report::format::render(&report, args.format, super::style_for(args.color))?;
    report::emit(out).context("writing the report")?;
    if args.format != Format::Human && report.flagged > 0 {
        // The report may be XML in a file: the outcome in one line for the log.
        report::notice(&format!(
            "audit: {} of {} connection(s) flagged",
            report.flagged,
            report.connections.len()
        ));
    }
    Ok(report.exit_code)
}

/// The records of `amqpdoctor scan --format json`. A file that cannot be
/// read or is not such a document is a usage error naming the file.
fn read_scan(path: &std::path::Path) -> anyhow::Result<Vec<ScanRecord>> {
    let text =
        super::read_small_text_file(path, "--join", SCAN_FILE_MAX, "`amqpdoctor scan` JSON")?;
    let file: ScanFile = serde_json::from_str(&text).map_err(|e| {
        UsageError(format!(
            "--join {}: not `amqpdoctor scan --format json` output ({e})",
            path.display()
        ))
    })?;
    Ok(file.connections)
}
