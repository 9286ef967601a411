//! `amqpdoctor proxy`: run the middlebox proxy until Ctrl-C, printing each
//! event as it happens and a table of the connections at the end.

use anyhow::Context;

use crate::cli::{HeartbeatDirection, OnIdleArg, ProxyArgs};
use crate::error::{ExitStatus, UsageError};
use crate::report::{self, proxy as render};
use crate::run::proxy::{serve, ProxyEvent, ProxySpec};
use crate::vocab::proxy::OnIdle;

pub fn run(args: ProxyArgs) -> anyhow::Result<ExitStatus> {
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
