//! `amqpdoctor proxy`: run the middlebox proxy until Ctrl-C, printing each
//! event as it happens and a table of the connections at the end.

use anyhow::Context;

use crate::cli::{HeartbeatDirection, OnIdleArg, ProxyArgs};
use crate::error::{ExitStatus, UsageError};
use crate::report::{self, proxy as render};
use crate::run::proxy::{serve, ProxyEvent, ProxySpec};
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
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let printer = tokio::spawn(async move {
            while let Some(e) = rx.recv().await {
                // Said once the port is bound, so a failed bind is one line.
                if matches!(e, ProxyEvent::Listening { .. }) {
                    report::notice(&plan);
                }
                report::emit(format!("{}\n", render::event_line(&e)))?;
            }
            Ok::<_, std::io::Error>(())
        });
        let conns = serve(spec, tx)
            .await
            .map_err(|e| UsageError(format!("cannot listen on {}: {e}", args.listen)))?;
        printer
            .await
            .context("the event printer failed")?
            .context("writing events")?;
        report::emit(render::summary(&conns)).context("writing the summary")?;
        Ok(ExitStatus::Ok)
    })
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
