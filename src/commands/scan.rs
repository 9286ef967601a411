//! `amqpdoctor scan`: every AMQP connection on this host, read from the
//! kernel's socket diagnostics; with `--watch`, what its bytes say about
//! its heartbeats.

use anyhow::Context;

use crate::cli::ScanArgs;
use crate::error::{ExitStatus, UsageError};
use crate::report::progress::Countdown;
use crate::report::scan::ScanReport;
use crate::report::{self};
use crate::run::scan::{scan, ScanSpec};
use crate::vocab::units::{duration_ms, secs};

pub fn run(args: ScanArgs) -> anyhow::Result<ExitStatus> {
    if args.port.is_empty() || args.port.contains(&0) {
        return Err(UsageError("--port needs port numbers from 1 to 65535".into()).into());
    }
    // Issue 24 item 16: a pid with no process behind it would scan nothing
    // and exit 0 as if the process had no connections.
    if let Some(pid) = args.pid {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return Err(UsageError(format!("--pid {pid}: no such process")).into());
        }
    }
    if let Some(w) = args.watch {
        report::notice(&format!(
            "scan: watching for {}, a reading every 250 ms (Ctrl-C reports what was seen)",
            secs(duration_ms(w))
        ));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = rt.block_on(async {
        let cancel = super::interrupt_flag();
        let countdown = args.watch.map(|w| Countdown::start("watching", w));
        let outcome = scan(ScanSpec {
            ports: args.port.clone(),
            pid: args.pid,
            watch: args.watch,
            cancel,
        })
        .await;
        drop(countdown);
        outcome
    })?;
    let r = ScanReport::new(
        args.port.clone(),
        args.pid,
        args.watch.map_or(0, duration_ms),
        duration_ms(args.max_heartbeat),
        &outcome,
    );
    let root = crate::observe::is_root();
    if r.connections.iter().any(|c| c.pid.is_none()) && !root {
        report::notice(
            "some sockets belong to other users' processes: run as root to see which process \
             owns them",
        );
    }
    let out = report::format::render(&r, args.output.format, super::style_for(args.output.color))?;
    report::emit(out).context("writing the report")?;
    Ok(r.exit_code)
}
