//! `amqpdoctor idle-timeout`: find the idle timeout of the path to the
//! broker with K parallel idles, and say what keeps a connection inside it.

use anyhow::Context;

use crate::classify::idle::{default_min, plan_idles};
use crate::cli::IdleTimeoutArgs;
use crate::error::{ExitStatus, UsageError};
use crate::report::idle::{IdleReport, IdleSettings};
use crate::report::progress::Countdown;
use crate::report::{self, Header};
use crate::run::idle::{discover, IdleSpec};
use crate::vocab::units::{duration_ms, secs};

pub fn run(args: IdleTimeoutArgs) -> anyhow::Result<ExitStatus> {
    let target = super::target(&args.connect)?;
    let max = args.max;
    let min = args.min.unwrap_or_else(|| default_min(max));
    if min >= max {
        return Err(UsageError(format!(
            "--min ({}) must be shorter than --max ({})",
            secs(duration_ms(min)),
            secs(duration_ms(max))
        ))
        .into());
    }
    let idles = plan_idles(min, max, usize::from(args.probes));
    let step_timeout = super::connect_timeout(args.connect.connect_timeout, &target);
    let settings = IdleSettings {
        min_ms: duration_ms(min),
        max_ms: duration_ms(max),
        probes: idles.len(),
        step_timeout_ms: duration_ms(step_timeout),
        wait_all: args.wait_all,
    };
    report::notice(&format!(
        "idle-timeout: {} connections with heartbeats off, idling {} … {}; about {} in all \
         (Ctrl-C reports what finished)",
        idles.len(),
        secs(settings.min_ms),
        secs(settings.max_ms),
        secs(settings.max_ms + settings.step_timeout_ms)
    ));
    let header = Header::for_target("idle-timeout", &target);
    let rt = super::runtime()?;
    let outcome = rt.block_on(async {
        let cancel = super::interrupt_flag();
        let countdown = Countdown::start("idling", max);
        let outcome = discover(IdleSpec {
            target,
            idles,
            step_timeout,
            wait_all: args.wait_all,
            cancel,
        })
        .await;
        countdown.finish();
        outcome
    });
    let mut header = header;
    if let Some(t) = header.tls.as_mut() {
        t.accept(outcome.tls_accepted.as_ref());
    }
    let r = IdleReport::new(header, settings, outcome);
    let out = report::format::render(&r, args.output.format, super::style_for(args.output.color))?;
    report::emit(out).context("writing the report")?;
    if let Some(f) = &r.setup_failure {
        report::notice(&super::could_not_diagnose(f));
    }
    Ok(r.exit_code)
}
