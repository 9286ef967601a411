//! `amqpdoctor serve`: a Prometheus exporter. The collectors the user
//! enables keep one [`Snapshot`] up to date; every scrape renders it.
//!
//! ```text
//!   scan thread  ── every 250 ms: Scanner::sample → infer → Snapshot.scan ─┐
//!   check task   ── every --check-every: run::check per target → .check ───┤ Mutex<Snapshot>
//!   HTTP workers ◄─ GET /metrics: report::serve::respond(&Snapshot) ───────┘
//!   main         ── waits for SIGTERM / Ctrl-C, stops the check task, exit 0
//! ```
//!
//! The scan thread is a plain thread (netlink and /proc are blocking
//! reads); the checks run as tasks on a current-thread runtime (every step
//! waits on the network) that also owns the signals. The lock is held to
//! copy a reading in and to render a scrape, never across I/O.

use std::collections::{BTreeMap, HashSet};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;

use crate::classify::scan::infer;
use crate::cli::serve::ServeArgs;
use crate::error::{ExitStatus, UsageError};
use crate::report::audit::AuditReport;
use crate::report::check::{CheckSettings, TargetReport};
use crate::report::serve::{
    process_name, respond, AuditState, Auth, CheckState, CheckTargetState, ConnState, LogsState,
    ScanState, Snapshot, OTHER, PROCESSES_MAX,
};
use crate::report::{self};
use crate::run::check::{check, CheckSpec};
use crate::run::management::{fetch, ManagementUrl};
use crate::run::scan::{Scanner, SAMPLE_EVERY};
use crate::target::Target;
use crate::vocab::check::Expectations;
use crate::vocab::scan::Classification;
use crate::vocab::units::duration_ms;

/// A bearer token file larger than this is refused.
const TOKEN_FILE_MAX: u64 = 4096;

/// At most this many targets are checked at the same time.
const CHECKS_AT_ONCE: usize = 64;

type Shared = Arc<Mutex<Snapshot>>;

fn lock(s: &Shared) -> MutexGuard<'_, Snapshot> {
    // A panicked collector leaves a reading half-copied at worst; serve
    // what there is rather than nothing.
    s.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_unix_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitStatus> {
    let targets = check_targets(&args)?;
    let audit = audit_api(&args)?;
    if !args.scan && targets.is_empty() && audit.is_none() && args.logs.is_empty() {
        return Err(UsageError(
            "serve needs a collector: --scan, --check URL…, --targets-file FILE, --audit URL or \
             --logs FILE"
                .into(),
        )
        .into());
    }
    for p in &args.logs {
        if !p.exists() {
            return Err(
                UsageError(format!("--logs {}: no such file or directory", p.display())).into(),
            );
        }
    }
    if args.port.is_empty() || args.port.contains(&0) {
        return Err(UsageError("--port needs port numbers from 1 to 65535".into()).into());
    }
    let auth = Auth {
        bearer: bearer_token(&args)?,
        basic: basic_auth(&args)?,
    };
    let listener = bind(&args, auth != Auth::default())?;
    let snap: Shared = Arc::new(Mutex::new(Snapshot {
        started_unix_s: now_unix_s(),
        scan: args.scan.then(|| ScanState {
            max_connection_series: args.max_connection_series,
            ..ScanState::default()
        }),
        check: None,
        audit: audit.as_ref().map(|api| AuditState {
            broker: api.label(),
            ..AuditState::default()
        }),
        logs: (!args.logs.is_empty()).then(|| {
            LogsState::following(args.logs.iter().map(|p| p.display().to_string()).collect())
        }),
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let scan_thread = if args.scan {
        let (snap, stop, ports) = (snap.clone(), stop.clone(), args.port.clone());
        let max_hb = duration_ms(args.max_heartbeat);
        Some(
            std::thread::Builder::new()
                .name("serve-scan".into())
                .spawn(move || scan_loop(ports, max_hb, &snap, &stop))
                .context("starting the scan thread")?,
        )
    } else {
        None
    };
    let logs_thread = logs_collector(&args, &snap, &stop)?;
    {
        let snap = snap.clone();
        let handler =
            move |req: &crate::run::serve::http::Request| respond(req, &lock(&snap), &auth);
        crate::run::serve::spawn(listener, Arc::new(handler))
            .context("starting the HTTP server")?;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(until_stopped(&args, targets, audit, snap));
    // A management API request still under way must not hold the exit up.
    rt.shutdown_timeout(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    if let Some(t) = scan_thread {
        let _ = t.join();
    }
    if let Some(t) = logs_thread {
        let _ = t.join();
    }
    report::notice("serve: stopped");
    Ok(ExitStatus::Ok)
}

/// The `--logs` collector: `logs --follow`'s reader on its own thread, each
/// connection end counted in the snapshot, until `stop`.
fn logs_collector(
    args: &ServeArgs,
    snap: &Shared,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<Option<std::thread::JoinHandle<()>>> {
    if args.logs.is_empty() {
        return Ok(None);
    }
    let (snap, stop_flag) = (snap.clone(), stop.clone());
    let spec = crate::run::logs::LogsSpec {
        paths: args.logs.clone(),
        filter: crate::run::logs::Filter::default(),
        cancelled: Box::new(move || stop_flag.load(Ordering::Relaxed)),
    };
    let t = std::thread::Builder::new()
        .name("serve-logs".into())
        .spawn(move || {
            let counted = crate::run::logs::follow::follow(&spec, |_, c| {
                if let Some(l) = lock(&snap).logs.as_mut() {
                    l.record(c, now_unix_s());
                }
            });
            if let Err(e) = counted {
                report::notice(&format!("serve --logs: {e}"));
            }
        })
        .context("starting the logs thread")?;
    Ok(Some(t))
}

/// The token of `--bearer-token-file` (its first line), if given.
fn bearer_token(args: &ServeArgs) -> anyhow::Result<Option<String>> {
    let Some(path) = &args.bearer_token_file else {
        return Ok(None);
    };
    let text = super::read_small_text_file(path, "--bearer-token-file", TOKEN_FILE_MAX, "a token")?;
    let token = text.lines().next().unwrap_or("").trim().to_string();
    if token.is_empty() {
        return Err(UsageError(format!(
            "--bearer-token-file {}: its first line is empty",
            path.display()
        ))
        .into());
    }
    Ok(Some(token))
}

/// The credentials of `--basic-auth-file` (`user:password`, its first
/// line), base64-encoded as a client sends them, if given.
fn basic_auth(args: &ServeArgs) -> anyhow::Result<Option<String>> {
    let Some(path) = &args.basic_auth_file else {
        return Ok(None);
    };
    let text = super::read_small_text_file(
        path,
        "--basic-auth-file",
        TOKEN_FILE_MAX,
        "a user:password line",
    )?;
    let line = text.lines().next().unwrap_or("").trim();
    match line.split_once(':') {
        Some((user, pass)) if !user.is_empty() && !pass.is_empty() => {
            Ok(Some(crate::run::management::base64_lite::encode(line)))
        }
        _ => Err(UsageError(format!(
            "--basic-auth-file {}: its first line must be user:password",
            path.display()
        ))
        .into()),
    }
}

/// Bind `--listen` and say where (the port chosen for `:0`), and that a
/// non-loopback address is reachable by others.
fn bind(args: &ServeArgs, with_token: bool) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(args.listen)
        .with_context(|| format!("binding --listen {}", args.listen))?;
    let bound = listener.local_addr().context("reading the bound address")?;
    report::notice(&format!(
        "serve: listening on http://{bound}/ (/metrics, /healthz)"
    ));
    if !bound.ip().is_loopback() {
        report::notice(&format!(
            "serve: {} is not a loopback address: whoever reaches it can read the metrics{}",
            bound.ip(),
            if with_token {
                ""
            } else {
                " (--bearer-token-file or --basic-auth-file requires credentials)"
            }
        ));
    }
    Ok(listener)
}

/// Run the checks (if any) until SIGTERM or Ctrl-C; then let the checks
/// under way close their connections.
async fn until_stopped(
    args: &ServeArgs,
    targets: Vec<(Target, String)>,
    audit: Option<ManagementUrl>,
    snap: Shared,
) {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let checks = async {
        if !targets.is_empty() {
            check_loop(args, &targets, &snap, rx.clone()).await;
        }
    };
    let audits = async {
        if let Some(api) = audit {
            audit_loop(args, api, &snap, rx.clone()).await;
        }
    };
    let mut stopped = rx.clone();
    let signalled = async {
        stop_signal().await;
        report::notice("serve: stopping (again to quit at once)");
        let _ = tx.send(true);
    };
    tokio::select! {
        _ = async { tokio::join!(checks, audits, signalled) } => {}
        // A second signal while the checks under way close: quit now.
        _ = async {
            let _ = stopped.wait_for(|&s| s).await;
            stop_signal().await;
        } => std::process::exit(i32::from(ExitStatus::Interrupted.code())),
    }
}

/// SIGTERM or Ctrl-C (SIGINT).
async fn stop_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

/// The management API of `--audit`, with `--audit-password-file`'s password.
fn audit_api(args: &ServeArgs) -> anyhow::Result<Option<ManagementUrl>> {
    let Some(url) = &args.audit else {
        return Ok(None);
    };
    let mut api = ManagementUrl::parse(url)?;
    if let Some(path) = &args.audit_password_file {
        api = api.with_password(super::read_password_file(path)?);
    }
    Ok(Some(api))
}

/// Read the management API every `--audit-every` (the first at once), on
/// a blocking thread raced against the stop.
async fn audit_loop(
    args: &ServeArgs,
    api: ManagementUrl,
    snap: &Shared,
    mut cancel: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(args.audit_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut said = false;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = crate::run::cancelled(&mut cancel) => return,
        }
        let started = Instant::now();
        let (a, timeout) = (api.clone(), args.audit_timeout);
        let work = tokio::task::spawn_blocking(move || fetch(&a, timeout));
        let fetched = tokio::select! {
            done = work => done,
            _ = crate::run::cancelled(&mut cancel) => return,
        };
        let report = match fetched {
            Ok(Ok(f)) => Ok(AuditReport::build(api.to_string(), f, None)),
            Ok(Err(failure)) => Err(report::style::clean(&failure.to_string()).into_owned()),
            Err(e) => Err(format!(
                "reading the management API failed inside amqpdoctor: {e}"
            )),
        };
        let mut s = lock(snap);
        let Some(state) = s.audit.as_mut() else {
            return;
        };
        match report {
            Ok(r) => {
                state.record(&r, started.elapsed().as_secs_f64());
                said = false;
            }
            Err(why) => {
                state.failed();
                // Said once per run of failures, not every interval.
                if !said {
                    report::notice(&format!("serve: audit: {why}"));
                    said = true;
                }
            }
        }
    }
}

/// The check targets with their labels (`scheme://host:port/vhost`: no
/// user, no password); two targets with one label are a usage error (they
/// would be one series).
fn check_targets(args: &ServeArgs) -> anyhow::Result<Vec<(Target, String)>> {
    if args.check.is_empty() && args.targets_file.is_none() {
        return Ok(Vec::new());
    }
    let targets = super::check::target_list(
        &args.check,
        args.targets_file.as_deref(),
        args.password_file.as_deref(),
        &args.tls,
    )?;
    let mut seen = HashSet::new();
    targets
        .into_iter()
        .map(|t| {
            let scheme = if t.is_tls() { "amqps" } else { "amqp" };
            let label = format!("{scheme}://{}", super::check::short_name(&t));
            if !seen.insert(label.clone()) {
                return Err(UsageError(format!(
                    "{label} is checked twice (as different users?): its series would collide"
                ))
                .into());
            }
            Ok((t, label))
        })
        .collect()
}

fn settings(args: &ServeArgs) -> CheckSettings {
    CheckSettings {
        heartbeat: args
            .heartbeat
            .map_or_else(|| "server (or each URL's heartbeat=)".into(), |h| h.label()),
        step_timeout_ms: duration_ms(
            args.connect_timeout
                .unwrap_or(super::DEFAULT_CONNECT_TIMEOUT),
        ),
        exchange: None,
        routing_key: None,
        expect_heartbeat: None,
        max_connect_ms: None,
        max_handshake_ms: None,
        max_roundtrip_ms: None,
        expect_server: None,
        expect_tls_accepted_by: Vec::new(),
    }
}

/// Check every target every `--check-every` (the first at once), each
/// result copied into the snapshot as it comes.
async fn check_loop(
    args: &ServeArgs,
    targets: &[(Target, String)],
    snap: &Shared,
    mut cancel: tokio::sync::watch::Receiver<bool>,
) {
    lock(snap).check = Some(CheckState {
        settings: settings(args),
        targets: targets
            .iter()
            .map(|(_, label)| CheckTargetState {
                label: label.clone(),
                last: None,
                passed_total: 0,
                failed_total: 0,
                last_run_unix_s: None,
            })
            .collect(),
    });
    let exp = Expectations::default();
    let mut tick = tokio::time::interval(args.check_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let gate = Arc::new(tokio::sync::Semaphore::new(CHECKS_AT_ONCE));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = crate::run::cancelled(&mut cancel) => return,
        }
        let started = Instant::now();
        let handles: Vec<_> = targets
            .iter()
            .map(|(t, _)| {
                let spec = CheckSpec {
                    target: t.clone(),
                    heartbeat: super::heartbeat_request(args.heartbeat, t),
                    step_timeout: super::connect_timeout(args.connect_timeout, t),
                    exchange: None,
                    cancel: cancel.clone(),
                };
                let gate = gate.clone();
                tokio::spawn(async move {
                    let _permit = gate.acquire_owned().await;
                    check(spec).await
                })
            })
            .collect();
        for (i, ((t, label), h)) in targets.iter().zip(handles).enumerate() {
            let Ok(outcome) = h.await else { continue };
            if outcome.interrupted {
                continue;
            }
            let hb = super::heartbeat_request(args.heartbeat, t);
            let mut r = TargetReport::build(
                label.clone(),
                super::check::short_name(t),
                started,
                outcome,
                &exp,
                hb,
            );
            r.tls = crate::report::TlsInfo::of(t);
            record_check(snap, i, r);
        }
        if *cancel.borrow() {
            return;
        }
    }
}

fn record_check(snap: &Shared, i: usize, r: TargetReport) {
    let mut s = lock(snap);
    let Some(t) = s.check.as_mut().and_then(|c| c.targets.get_mut(i)) else {
        return;
    };
    if r.passed {
        t.passed_total += 1;
    } else {
        t.failed_total += 1;
    }
    t.last_run_unix_s = Some(now_unix_s());
    t.last = Some(r);
}

/// Read the socket table every 250 ms until `stop`; deaths are counted
/// once, and a connection gone from the table is forgotten (memory stays
/// bounded however long serve runs).
fn scan_loop(ports: Vec<u16>, max_heartbeat_ms: u64, snap: &Shared, stop: &AtomicBool) {
    let started = Instant::now();
    let mut said = false;
    let mut scanner = loop {
        match Scanner::open(ports.clone(), None) {
            Ok(s) => break s,
            Err(e) => {
                if !said {
                    report::notice(&format!("serve: scan: {e}; trying again every 5 s"));
                    said = true;
                }
                if let Some(s) = lock(snap).scan.as_mut() {
                    s.up = false;
                    s.errors_total += 1;
                }
                if sleep_unless_stopped(Instant::now() + Duration::from_secs(5), stop) {
                    return;
                }
            }
        }
    };
    let mut counted = HashSet::new();
    let mut deaths: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
    let mut n: u32 = 0;
    let me = std::process::id();
    let mut names = ProcessNames::default();
    loop {
        let t0 = Instant::now();
        let at_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        scanner.untracked = 0;
        let ok = scanner.sample(at_ms).is_ok();
        let mut conns = Vec::with_capacity(scanner.tracks.len());
        let mut gone = Vec::new();
        for (key, t) in &scanner.tracks {
            let owner = scanner.owners.get(&t.inode);
            // Our own checks' connections are not the host's applications.
            if owner.is_some_and(|o| o.pid == me) {
                if t.gone_at_ms.is_some() {
                    gone.push(*key);
                }
                continue;
            }
            let inf = infer(t, max_heartbeat_ms);
            let conn = ConnState::of(t, owner, names.of(owner), &inf);
            if inf.classification == Classification::Dead && counted.insert(*key) {
                count_death(&mut deaths, &conn.process, inf.died_in_window);
            }
            if t.gone_at_ms.is_some() {
                gone.push(*key);
            } else {
                conns.push(conn);
            }
        }
        for k in &gone {
            scanner.tracks.remove(k);
            counted.remove(k);
        }
        if let Some(s) = lock(snap).scan.as_mut() {
            s.up = ok;
            s.samples_total += 1;
            s.errors_total += u64::from(!ok);
            s.sample_seconds = t0.elapsed().as_secs_f64();
            s.connections = conns;
            s.deaths.clone_from(&deaths);
            s.untracked = scanner.untracked;
        }
        n = n.wrapping_add(1);
        let next = started + SAMPLE_EVERY * n;
        let next = if next < Instant::now() {
            Instant::now() + SAMPLE_EVERY
        } else {
            next
        };
        if sleep_unless_stopped(next, stop) {
            return;
        }
    }
}

/// Process labels, one per process (pid and command line), so a reading
/// of 10,000 connections does not build 10,000 names.
struct ProcessNames {
    by_pid: std::collections::HashMap<u32, (String, Arc<str>)>,
    unknown: Arc<str>,
}

impl Default for ProcessNames {
    fn default() -> Self {
        ProcessNames {
            by_pid: std::collections::HashMap::new(),
            unknown: Arc::from("unknown"),
        }
    }
}

impl ProcessNames {
    fn of(&mut self, owner: Option<&crate::vocab::scan::Owner>) -> Arc<str> {
        let Some(o) = owner else {
            return self.unknown.clone();
        };
        if let Some((command, name)) = self.by_pid.get(&o.pid) {
            if *command == o.command {
                return name.clone();
            }
        }
        // Bounded: processes come and go, pids are reused.
        if self.by_pid.len() >= 10_000 {
            self.by_pid.clear();
        }
        let name: Arc<str> = Arc::from(process_name(&o.command));
        self.by_pid.insert(o.pid, (o.command.clone(), name.clone()));
        name
    }
}

/// One more death of `process` (or of [`OTHER`] past [`PROCESSES_MAX`]
/// names), by whether it came inside the broker's window.
fn count_death(
    deaths: &mut BTreeMap<(String, &'static str), u64>,
    process: &str,
    in_window: Option<bool>,
) {
    let known = deaths.keys().any(|(p, _)| p == process);
    let process = if known || deaths.len() < PROCESSES_MAX {
        process
    } else {
        OTHER
    };
    let window = match in_window {
        Some(true) => "true",
        Some(false) => "false",
        None => "unknown",
    };
    *deaths.entry((process.to_string(), window)).or_default() += 1;
}

/// Sleep until `until`, looking at `stop` every 50 ms; true when stopped.
fn sleep_unless_stopped(until: Instant, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Relaxed) {
            return true;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deaths_are_counted_by_process_and_window_and_bounded() {
        let mut d = BTreeMap::new();
        // (process, in window, entries after, count of that entry after)
        let rows = [
            ("app", Some(true), 1, 1),
            ("app", Some(true), 1, 2),
            ("app", None, 2, 1),
            ("web", Some(false), 3, 1),
        ];
        for (p, w, len, n) in rows {
            count_death(&mut d, p, w);
            let key = match w {
                Some(true) => "true",
                Some(false) => "false",
                None => "unknown",
            };
            assert_eq!((d.len(), d[&(p.to_string(), key)]), (len, n), "{p} {w:?}");
        }
        for i in 0..2 * PROCESSES_MAX {
            count_death(&mut d, &format!("p{i}"), None);
        }
        assert!(d.len() <= PROCESSES_MAX + 1, "{}", d.len());
        assert!(d[&(OTHER.to_string(), "unknown")] > 0);
    }
}
