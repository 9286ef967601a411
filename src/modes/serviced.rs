//! serviced: a real async client (lapin) whose own I/O task sends
//! heartbeats every T/2 and reads continuously.
//!
//! We open the socket ourselves through `Connection::connector` so we keep a
//! duplicate of its fd: the observer watches it, and TCP_INFO counts the
//! heartbeats. While idle lapin sends nothing but heartbeats and the broker
//! too, so bytes ÷ 8 over the idle counts them in each direction.
//!
//! lapin cannot show the server's Tune proposal (the probe's preflight
//! handshake supplies it) and cannot negotiate heartbeat 0 against a broker
//! that proposes one: its rule is "client 0 → the server's value, else the
//! lower". The report says so when the user asked for 0.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};
use lapin::Confirmation;
use lapin::{BasicProperties, Connection, ConnectionProperties};

use super::{Destination, Negotiation, RunOutcome, RunSpec, SetupFailure};
use crate::classify::{errno_label, PublishAttempt, VerdictCode};
use crate::cli::HeartbeatRequest;
use crate::observe::{self, Observation, Observer};
use crate::timeline::{duration_ms, EventKind, Timeline};
use crate::wire::CloseInfo;

/// What the connect callback learned about the socket it opened.
struct Opened {
    fd: OwnedFd,
    local: String,
    peer: String,
    at: Instant,
}

pub async fn run(spec: RunSpec) -> RunOutcome {
    let mut tl = Timeline::new(spec.trace);
    let start = tl.start();
    let slot: Arc<Mutex<Option<Opened>>> = Arc::new(Mutex::new(None));
    let requested = match spec.heartbeat {
        HeartbeatRequest::Server => None,
        HeartbeatRequest::Seconds(s) => Some(s),
    };
    let uri = AMQPUri {
        scheme: AMQPScheme::AMQP,
        authority: AMQPAuthority {
            userinfo: AMQPUserInfo {
                username: spec.target.user().to_string(),
                password: spec.target.password().to_string(),
            },
            host: spec.target.host().to_string(),
            port: spec.target.port(),
        },
        vhost: spec.target.vhost().to_string(),
        query: AMQPQueryString {
            heartbeat: requested,
            connection_timeout: Some(duration_ms(spec.step_timeout)),
            ..Default::default()
        },
    };
    let props = ConnectionProperties::default().with_connection_name(spec.connection_name().into());
    let runtime = async_rs::Runtime::tokio_current();
    let step = spec.step_timeout;
    let cb_slot = slot.clone();
    let host = spec.target.host().to_string();
    let port = spec.target.port();
    let connect = async move |_uri: AMQPUri, _rt: async_rs::TokioRuntime| {
        let stream =
            tokio::time::timeout(step, tokio::net::TcpStream::connect((host.as_str(), port)))
                .await
                .map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "TCP connect timed out")
                })??;
        let _ = stream.set_nodelay(true);
        let fd = stream.as_fd().try_clone_to_owned()?;
        let opened = Opened {
            fd,
            local: stream
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            peer: stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            at: Instant::now(),
        };
        if let Ok(mut s) = cb_slot.lock() {
            *s = Some(opened);
        }
        Ok(lapin::AsyncTcpStream::Plain(async_compat::Compat::new(
            stream,
        )))
    };

    // The whole handshake: TCP connect plus six frames, each bounded by the
    // step timeout inside lapin; the outer bound keeps a mute server from
    // holding us forever.
    let connected = tokio::time::timeout(
        step * 4,
        Connection::connector(uri, runtime, connect, props),
    )
    .await;
    let opened = slot.lock().ok().and_then(|mut s| s.take());
    if let Some(o) = &opened {
        let at = tl.ms_at(o.at);
        tl.push_at(
            at,
            EventKind::TcpConnected {
                local: o.local.clone(),
                peer: o.peer.clone(),
            },
        );
    }
    let mut out = RunOutcome::new(&spec, Timeline::starting_at(start, spec.trace));
    let conn = match connected {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            out.setup_failure = Some(lapin_failure(
                if opened.is_some() {
                    "handshake"
                } else {
                    "connect"
                },
                &e,
            ));
            out.timeline = tl;
            return out;
        }
        Err(_) => {
            out.setup_failure = Some(SetupFailure {
                code: VerdictCode::Timeout,
                stage: "handshake",
                message: format!("lapin did not finish the handshake within {:?}", step * 4),
                errno: None,
                close: None,
            });
            out.timeline = tl;
            return out;
        }
    };
    let cfg = conn.configuration();
    let negotiated = cfg.heartbeat();
    tl.push(EventKind::ConnectionOpen {
        heartbeat_s: negotiated,
    });
    out.negotiation = Some(Negotiation {
        server_heartbeat_s: None,
        requested_heartbeat_s: requested,
        negotiated_heartbeat_s: negotiated,
        frame_max: cfg.frame_max(),
        channel_max: cfg.channel_max(),
    });
    if requested == Some(0) && negotiated != 0 {
        out.notes.push(format!(
            "You asked for heartbeat 0, but lapin cannot disable heartbeats against a broker that \
             proposes one: it treats 0 as \"accept the server's value\" and negotiated {negotiated} s."
        ));
    }

    let setup = async {
        let ch = conn.create_channel().await?;
        ch.confirm_select(ConfirmSelectOptions::default()).await?;
        let queue = match &spec.destination {
            Destination::OwnQueue => {
                let opts = QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..Default::default()
                };
                Some(
                    ch.queue_declare("".into(), opts, FieldTable::default())
                        .await?
                        .name()
                        .to_string(),
                )
            }
            Destination::Exchange { .. } => None,
        };
        Ok::<_, lapin::Error>((ch, queue))
    };
    let (channel, queue) = match tokio::time::timeout(step, setup).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            out.setup_failure = Some(lapin_failure("channel", &e));
            let _ = tokio::time::timeout(step, conn.close(200, "amqpdoctor: setup failed".into()))
                .await;
            out.timeline = tl;
            return out;
        }
        Err(_) => {
            out.setup_failure = Some(SetupFailure {
                code: VerdictCode::Timeout,
                stage: "channel",
                message: format!("channel setup did not finish within {step:?}"),
                errno: None,
                close: None,
            });
            out.timeline = tl;
            return out;
        }
    };
    for what in ["Channel.Open", "Confirm.Select", "Queue.Declare"] {
        tl.push(EventKind::Note {
            text: format!("lapin: {what} done"),
        });
    }
    out.queue = queue.clone();

    // Idle, watched.
    let fd = opened.map(|o| o.fd);
    let mut observer = fd
        .as_ref()
        .and_then(|fd| fd.try_clone().ok())
        .map(Observer::watch);
    let before = fd.as_ref().and_then(|fd| observe::tcp_info(fd).ok());
    let planned = duration_ms(spec.idle);
    tl.push(EventKind::IdleStart {
        planned_ms: planned,
    });
    let mut observed: Option<Observation> = None;
    let mut cancel = spec.cancel.clone();
    let idle_end = tokio::time::Instant::now() + spec.idle;
    // lapin services the connection by itself; we only wait for the idle to
    // end, the peer to end it, or Ctrl-C.
    tokio::select! {
        _ = super::cancelled(&mut cancel) => {
            out.interrupted = true;
            tl.push(EventKind::Interrupted);
        }
        _ = tokio::time::sleep_until(idle_end) => {}
        o = async {
            match observer.as_mut() {
                Some(obs) => obs.fired().await,
                None => std::future::pending().await,
            }
        } => {
            observed = Some(o);
            out.idle_cut_short_at_ms = Some(tl.ms_at(o.at));
        }
    }
    let after = observed
        .map(|o| o.info)
        .or_else(|| fd.as_ref().and_then(|fd| observe::tcp_info(fd).ok()));
    if let (Some(b), Some(a)) = (before, after) {
        // Only heartbeats cross an idle lapin connection: 8 bytes each.
        tl.heartbeats.sent = (a.bytes_acked.saturating_sub(b.bytes_acked) / 8) as u32;
        tl.heartbeats.received =
            Some((a.bytes_received.saturating_sub(b.bytes_received) / 8) as u32);
        let idle_ms = tl.now_ms();
        if a.bytes_acked > b.bytes_acked {
            // lapin's last write during the idle was a heartbeat.
            tl.client_writes_ms
                .push(idle_ms.saturating_sub(u64::from(a.last_data_sent_ms)));
        }
    }
    tl.push(EventKind::IdleEnd);

    if !out.interrupted {
        let (exchange, routing_key) = match (&spec.destination, &queue) {
            (
                Destination::Exchange {
                    exchange,
                    routing_key,
                },
                _,
            ) => (exchange.clone(), routing_key.clone()),
            (Destination::OwnQueue, Some(q)) => (String::new(), q.clone()),
            (Destination::OwnQueue, None) => (String::new(), String::new()),
        };
        let mut confirms = Vec::new();
        for seq in 1..=spec.publishes {
            let at_ms = tl.now_ms();
            let body = super::probe_body(spec.mode, seq);
            let res = tokio::time::timeout(
                step,
                channel.basic_publish(
                    exchange.as_str().into(),
                    routing_key.as_str().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..Default::default()
                    },
                    &body,
                    BasicProperties::default().with_app_id("amqpdoctor".into()),
                ),
            )
            .await;
            let write_error = match res {
                Ok(Ok(confirm)) => {
                    tl.client_writes_ms.push(at_ms);
                    tl.push_at(at_ms, EventKind::PublishWritten { seq });
                    confirms.push((seq, confirm));
                    None
                }
                Ok(Err(e)) => {
                    let (errno, name) = lapin_errno(&e);
                    Some(tl.publish_failed(at_ms, seq, errno, name))
                }
                Err(_) => Some(tl.publish_failed(at_ms, seq, None, "timeout".into())),
            };
            out.attempts.push(PublishAttempt {
                seq,
                at_ms,
                write_error,
                acked: None,
                returned: false,
            });
        }
        let deadline = tokio::time::Instant::now() + spec.confirm_timeout;
        for (seq, confirm) in confirms {
            let res = tokio::time::timeout_at(deadline, confirm).await;
            let attempt = out.attempts.iter_mut().find(|a| a.seq == seq);
            match res {
                Ok(Ok(Confirmation::Ack(ret))) => {
                    tl.push(EventKind::Confirmed { seq });
                    if let Some(a) = attempt {
                        a.acked = Some(true);
                        a.returned = ret.is_some();
                    }
                }
                Ok(Ok(Confirmation::Nack(_))) => {
                    tl.push(EventKind::Nacked { seq });
                    if let Some(a) = attempt {
                        a.acked = Some(false);
                    }
                }
                Ok(Ok(Confirmation::NotRequested)) => {}
                Ok(Err(e)) => record_lapin_error(&mut tl, "waiting for a confirm", &e),
                Err(_) => {
                    tl.push(EventKind::Timeout {
                        waiting_for: "publisher confirms".into(),
                        after_ms: duration_ms(spec.confirm_timeout),
                    });
                    break;
                }
            }
        }
    }

    if let Some(obs) = observer.take() {
        if observed.is_none() {
            observed = obs.stop();
        }
    }
    if let Some(o) = &observed {
        super::experiment::record_observation(&mut tl, o);
    }
    if conn.status().connected() {
        tl.push(EventKind::ClientClose { reply_code: 200 });
        match tokio::time::timeout(step, conn.close(200, "amqpdoctor: probe finished".into())).await
        {
            Ok(Ok(())) => {
                tl.push(EventKind::CloseOk);
            }
            Ok(Err(e)) => record_lapin_error(&mut tl, "closing", &e),
            Err(_) => {
                tl.push(EventKind::Timeout {
                    waiting_for: "Connection.Close-Ok".into(),
                    after_ms: duration_ms(step),
                });
            }
        }
    } else if observed.is_none() {
        tl.push(EventKind::Note {
            text: "lapin reports the connection is no longer open".into(),
        });
    }
    out.timeline = tl;
    out
}

/// errno (if any) and a label for a lapin error.
fn lapin_errno(e: &lapin::Error) -> (Option<i32>, String) {
    match e.kind() {
        lapin::ErrorKind::IOError(io) => (io.raw_os_error(), errno_label(io)),
        other => (None, format!("{other:?}")),
    }
}

fn close_info(e: &lapin::Error) -> Option<CloseInfo> {
    match e.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => Some(CloseInfo {
            reply_code: amqp.get_id(),
            reply_text: amqp.get_message().to_string(),
            class_id: 0,
            method_id: 0,
        }),
        _ => None,
    }
}

fn record_lapin_error(tl: &mut Timeline, op: &str, e: &lapin::Error) {
    if let Some(c) = close_info(e) {
        tl.push(EventKind::ServerClose {
            reply_code: c.reply_code,
            reply_text: c.reply_text,
            class_id: c.class_id,
            method_id: c.method_id,
        });
        return;
    }
    let (errno, errno_name) = lapin_errno(e);
    if errno.is_some() {
        tl.push(EventKind::IoError {
            op: op.to_string(),
            errno,
            errno_name,
        });
    } else {
        tl.push(EventKind::Note {
            text: format!("lapin: {op}: {e}"),
        });
    }
}

fn lapin_failure(stage: &'static str, e: &lapin::Error) -> SetupFailure {
    let close = close_info(e);
    let (errno, _) = lapin_errno(e);
    let code = match (&close, e.kind()) {
        (Some(c), _) => match c.reply_code {
            403 if stage != "channel" => VerdictCode::AuthFailed,
            530 | 402 if stage != "channel" => VerdictCode::VhostNotAllowed,
            _ => VerdictCode::ServerClosed,
        },
        (None, lapin::ErrorKind::InvalidProtocolVersion(_) | lapin::ErrorKind::ParsingError(_)) => {
            VerdictCode::ProtocolMismatch
        }
        (None, lapin::ErrorKind::IOError(io)) if io.kind() == std::io::ErrorKind::TimedOut => {
            VerdictCode::Timeout
        }
        (None, _) if stage == "connect" => VerdictCode::ConnectFailed,
        (None, _) => VerdictCode::PeerClosed,
    };
    SetupFailure {
        code,
        stage,
        message: format!("lapin: {e}"),
        errno,
        close,
    }
}

/// How long lapin waits before its first heartbeat: T/2.
pub fn heartbeat_period(t_s: u16) -> Duration {
    Duration::from_millis(u64::from(t_s) * 500)
}
