//! One file per subcommand; each wires the layers below (parse into the
//! vocabulary, run, build a report, [`emit`](crate::report::emit) it) and
//! nothing else. [`run`] dispatches.

pub(crate) mod audit;
pub(crate) mod check;
pub mod completions;
pub mod explain;
pub(crate) mod heartbeat;
pub(crate) mod idle_timeout;
pub(crate) mod logs;
pub mod man;
pub(crate) mod probe;
pub(crate) mod proxy;
pub(crate) mod scan;
pub(crate) mod serve;
pub(crate) mod tls;

use crate::cli::{Cli, ColorArg, Command, ConnectArgs};
use crate::error::{ExitStatus, UsageError};
use crate::report::{self, style};
use crate::target::Target;

pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Probe(args) => probe::run(args),
        Command::Heartbeat(args) => heartbeat::run(args),
        Command::Check(args) => check::run(args),
        Command::Proxy(args) => proxy::run(args),
        Command::IdleTimeout(args) => idle_timeout::run(args),
        Command::Scan(args) => scan::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Logs(args) => logs::run(args),
        Command::Tls(args) => tls::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Completions { shell } => completions::run(shell),
        Command::Man => man::run(),
    }
}

/// The house style for `--color`.
pub fn style_for(choice: ColorArg) -> style::Style {
    style::Style {
        color: style::use_color(match choice {
            ColorArg::Auto => style::ColorChoice::Auto,
            ColorArg::Always => style::ColorChoice::Always,
            ColorArg::Never => style::ColorChoice::Never,
        }),
    }
}

/// The step timeout when neither `--connect-timeout` nor the URL's
/// `connection_timeout=` gives one.
pub const DEFAULT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The step timeout for `t`: the flag beats the URL's `connection_timeout=`,
/// which beats the default.
pub fn connect_timeout(flag: Option<std::time::Duration>, t: &Target) -> std::time::Duration {
    flag.or(t
        .options()
        .connection_timeout_ms
        .map(std::time::Duration::from_millis))
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
}

/// The heartbeat to ask `t` for: the flag beats the URL's `heartbeat=`,
/// which beats accepting the server's proposal.
/// `--client ID[@VERSION]` resolved, or a usage error naming the known
/// libraries (`heartbeat --client`, `probe --client`).
pub fn client_arg(name: &str) -> Result<crate::knowledge::ClientSpec<'static>, UsageError> {
    crate::knowledge::client_spec(name).map_err(|why| {
        let ids: Vec<&str> = crate::knowledge::clients()
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        UsageError(format!(
            "{why}; known libraries: {} (add @VERSION for one version, e.g. pika@0.13)",
            ids.join(", ")
        ))
    })
}

pub fn heartbeat_request(
    flag: Option<crate::vocab::HeartbeatRequest>,
    t: &Target,
) -> crate::vocab::HeartbeatRequest {
    flag.or(t
        .options()
        .heartbeat_s
        .map(crate::vocab::HeartbeatRequest::Seconds))
        .unwrap_or(crate::vocab::HeartbeatRequest::Server)
}

/// `t` with the TLS flags on top of its URL's settings; the settings are
/// tried (files read) now, so a bad file is a usage error before anything
/// is sent. TLS flags on an `amqp://` target are said to be ignored.
pub fn with_tls(t: Target, flags: &crate::cli::TlsArgs, prefix: &str) -> anyhow::Result<Target> {
    if !t.is_tls() {
        if flags.any() {
            report::notice(&format!(
                "{prefix}--cacert, --cert, --key, --tls-server-name and --insecure apply to \
                 amqps:// targets only; ignored"
            ));
        }
        return Ok(t);
    }
    let settings = crate::target::TlsSettings {
        judge: crate::knowledge::tls::judge_handle(),
        ..flags.settings()
    };
    let t = t.with_tls_flags(&settings);
    if let Some(s) = t.tls() {
        crate::wire::tls::client_config(s).map_err(|e| UsageError(e.to_string()))?;
        if s.insecure {
            report::notice(&format!(
                "{prefix}--insecure: the server's certificate is NOT verified; anyone in the path \
                 could be the broker"
            ));
        }
    }
    Ok(t)
}

/// Say on stderr what the URL of `t` asks that does not apply or was not
/// understood (before anything is sent).
pub fn warn_about(t: &Target, prefix: &str) {
    for w in t.warnings() {
        report::notice(&format!("{prefix}{w}"));
    }
}

/// Passwords longer than this in a password file are refused (a file that
/// is not a password, such as a log, must not be read whole).
const PASSWORD_FILE_MAX: u64 = 4096;

/// The target to talk to: the URL, with the password from `--password-file`
/// or `$AMQPDOCTOR_PASSWORD` when given (in that order; both beat the URL's).
pub fn target(connect: &ConnectArgs) -> anyhow::Result<Target> {
    let target = with_tls(Target::parse(&connect.url)?, &connect.tls, "")?;
    warn_about(&target, "");
    if let Some(path) = &connect.password_file {
        return Ok(target.with_password(read_password_file(path)?));
    }
    match std::env::var("AMQPDOCTOR_PASSWORD") {
        Ok(pw) => Ok(target.with_password(pw)),
        Err(std::env::VarError::NotPresent) => Ok(target),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(UsageError("$AMQPDOCTOR_PASSWORD is not valid UTF-8".into()).into())
        }
    }
}

/// The first line of a password file, without its line ending. Errors name
/// the file, never its content. A FIFO (`<(echo pw; sleep 30)`) is read up
/// to its first line, at most a second (issue 24 item 6).
pub fn read_password_file(path: &std::path::Path) -> anyhow::Result<String> {
    use crate::wire::small_file::{read_small, Want};
    let shown = path.display();
    let bytes = read_small(path, Want::FirstLine(PASSWORD_FILE_MAX), "a password file")
        .map_err(|e| UsageError(format!("--password-file {shown}: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| UsageError(format!("--password-file {shown}: not UTF-8 text")))?;
    Ok(text.lines().next().unwrap_or("").to_string())
}

/// A UTF-8 text file of at most `max` bytes, given with `flag`; a larger
/// one is refused unread (a log given by mistake must not be read whole),
/// a FIFO read for at most a second. Errors are usage errors naming the
/// flag and the file, never the content.
pub fn read_small_text_file(
    path: &std::path::Path,
    flag: &str,
    max: u64,
    what: &str,
) -> anyhow::Result<String> {
    use crate::wire::small_file::{read_small, Want};
    let shown = path.display();
    let bytes = read_small(path, Want::Whole(max), what)
        .map_err(|e| UsageError(format!("{flag} {shown}: {e}")))?;
    Ok(String::from_utf8(bytes)
        .map_err(|_| UsageError(format!("{flag} {shown}: not UTF-8 text")))?)
}

/// The one line on stderr for a run that could not be diagnosed (exit 3).
pub fn could_not_diagnose(f: &crate::classify::SetupFailure) -> String {
    let message = report::style::clean(&f.message);
    format!(
        "could not diagnose: {} during the {}: {message}",
        f.code, f.stage
    )
}

/// A multi-threaded runtime for the network commands.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Watch Ctrl-C and SIGTERM (call inside the runtime): the first flips the
/// returned flag, so every wait stops, connections close and the partial
/// report is printed (exit 130); a second one exits at once.
pub fn interrupt_flag() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let mut signals = 0;
        loop {
            let got = tokio::select! {
                r = tokio::signal::ctrl_c() => r.is_ok(),
                s = async {
                    match term.as_mut() {
                        Some(t) => t.recv().await,
                        None => std::future::pending().await,
                    }
                } => s.is_some(),
            };
            if !got {
                return;
            }
            signals += 1;
            if signals == 1 {
                report::notice(
                    "interrupted — closing connections and reporting what was seen \
                     (again to quit at once)",
                );
                let _ = tx.send(true);
            } else {
                std::process::exit(i32::from(ExitStatus::Interrupted.code()));
            }
        }
    });
    rx
}
