//! `amqpdoctor proxy`: run the middlebox proxy until Ctrl-C, printing each
//! event as it happens and a table of the connections at the end.

use anyhow::Context;

use crate::cli::{HeartbeatDirection, OnIdleArg, ProxyArgs};
use crate::error::{ExitStatus, UsageError};
use crate::report::{self, proxy as render};
use crate::run::proxy::{serve, EventSink, ProxyEvent, ProxySpec, EVENT_QUEUE};
use crate::vocab::proxy::OnIdle;

/// `--upstream` is HOST:PORT. A URL (`amqp://guest:pw@h:5672`) or any user
/// info is refused without echoing it: it may hold a password, and the
/// resolver would be handed the whole string for every client.
pub fn check_upstream(upstream: &str) -> Result<(), UsageError> {
    if !upstream.contains("://") && !upstream.contains('@') && !upstream.contains('/') {
        return Ok(());
    }
    let hint = crate::target::Target::parse(upstream)
        .map(|t| format!(" (here: --upstream {})", t.authority()))
        .unwrap_or_default();
    Err(UsageError(format!(
        "--upstream takes HOST:PORT, such as 127.0.0.1:5672, not a URL or user info: the proxy \
         relays bytes and never logs in{hint}"
    )))
}

pub fn run(args: ProxyArgs) -> anyhow::Result<ExitStatus> {
    check_upstream(&args.upstream)?;
    let rt = super::runtime()?;
    rt.block_on(async {
        let cancel = super::interrupt_flag();
        let (drop_to_server, drop_to_client) = match args.drop_heartbeats {
            None => (false, false),
            Some(HeartbeatDirection::ToServer) => (true, false),
            Some(HeartbeatDirection::ToClient) => (false, true),
            Some(HeartbeatDirection::Both) => (true, true),
        };
        let spec = ProxySpec {
            listen: args.listen.clone(),
            upstream: args.upstream.clone(),
            idle_timeout: args.idle_timeout,
            on_idle: match args.on_idle {
                OnIdleArg::Reset => OnIdle::Reset,
                OnIdleArg::Forget => OnIdle::Forget,
                OnIdleArg::Drop => OnIdle::Drop,
                OnIdleArg::Close => OnIdle::Close,
            },
            drop_to_server,
            drop_to_client,
            log_frames: args.log_frames,
            connect_timeout: args.connect_timeout,
            cancel,
        };
        let plan = format!(
            "proxy {} → {}; {}{}",
            args.listen,
            args.upstream,
            match spec.idle_timeout {
                Some(d) => format!(
                    "after {} idle: {}",
                    humantime::format_duration(d),
                    spec.on_idle.describe()
                ),
                None => "no idle timeout".into(),
            },
            match args.drop_heartbeats {
                Some(HeartbeatDirection::ToServer) =>
                    "; dropping heartbeats client → broker".into(),
                Some(HeartbeatDirection::ToClient) =>
                    "; dropping heartbeats broker → client".into(),
                Some(HeartbeatDirection::Both) => "; dropping heartbeats both ways".into(),
                None => String::new(),
            }
        );
        let parsing = spec.log_frames || spec.drop_to_server || spec.drop_to_client;
        let (sink, rx) = EventSink::new(EVENT_QUEUE);
        let writer = Writer::start(rx, plan);
        let conns = serve(spec, sink.clone())
            .await
            .map_err(|e| UsageError(format!("cannot listen on {}: {e}", args.listen)))?;
        let mut text = render::summary(&conns);
        text.push_str(&render::limits(sink.dropped(), parsing));
        drop(sink);
        writer.finish(text).await?;
        Ok(ExitStatus::Ok)
    })
}

/// How long the summary may wait for a stdout nobody reads once the proxy
/// has stopped; then the process ends anyway (issue 24 item 4).
const WRITER_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Writes the proxy's output on its own thread, so a blocked stdout (a
/// FIFO never read) holds neither relaying nor Ctrl-C / SIGTERM.
struct Writer {
    summary: std::sync::mpsc::Sender<String>,
    done: tokio::sync::oneshot::Receiver<std::io::Result<()>>,
}

impl Writer {
    fn start(mut rx: tokio::sync::mpsc::Receiver<ProxyEvent>, plan: String) -> Self {
        let (summary, summary_rx) = std::sync::mpsc::channel::<String>();
        let (done_tx, done) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut write = || {
                while let Some(e) = rx.blocking_recv() {
                    // Said once the port is bound, so a failed bind is one line.
                    if matches!(e, ProxyEvent::Listening { .. }) {
                        report::notice(&plan);
                    }
                    report::emit(format!("{}\n", render::event_line(&e)))?;
                }
                match summary_rx.recv() {
                    Ok(text) => report::emit(text),
                    Err(_) => Ok(()),
                }
            };
            let _ = done_tx.send(write());
        });
        Self { summary, done }
    }

    /// Hand the summary over once every event sender is gone, and wait for
    /// it to be written — at most [`WRITER_GRACE`].
    async fn finish(self, text: String) -> anyhow::Result<()> {
        let _ = self.summary.send(text);
        match tokio::time::timeout(WRITER_GRACE, self.done).await {
            Ok(Ok(written)) => written.context("writing the proxy's output"),
            Ok(Err(_)) => anyhow::bail!("the output writer stopped"),
            Err(_) => anyhow::bail!(
                "standard output was not read for {} after the proxy stopped: the rest of the \
                 events and the summary were not written",
                humantime::format_duration(WRITER_GRACE)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_upstream;

    #[test]
    fn upstream_is_host_and_port_only() {
        for ok in ["127.0.0.1:5672", "[::1]:5672", "rabbit:5672"] {
            assert!(check_upstream(ok).is_ok(), "{ok}");
        }
        for (bad, hint) in [
            ("amqp://guest:S3cr3tPw@127.0.0.1:5672", "127.0.0.1:5672"),
            ("guest:S3cr3tPw@127.0.0.1:5672", ""),
            ("amqps://u:S3cr3tPw@h", "h:5671"),
        ] {
            let e = check_upstream(bad).unwrap_err().to_string();
            assert!(!e.contains("S3cr3tPw"), "{e}");
            assert!(e.contains(hint), "{e}");
        }
    }
}
