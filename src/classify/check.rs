//! `check`, judged: a failed step becomes a verdict code, the errno or
//! reply code behind it and a hint (the knowledge `explain` uses), and the
//! user's expectations are held against what was measured. Pure.

use std::time::Duration;

use serde::Serialize;

use super::fault;
use super::narrate;
use super::setup::{setup_code, SetupFailure};
use crate::vocab::check::{CheckStep, Expectations, Millis, StepError, StepStatus};
use crate::vocab::units::errno_name;
use crate::vocab::{FailureKind, Heartbeat, VerdictCode};

/// Why a step failed, classified, with what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepFailure {
    pub code: VerdictCode,
    pub message: String,
    pub errno: Option<i32>,
    pub errno_name: Option<String>,
    pub reply_code: Option<u16>,
    pub reply_text: Option<String>,
    pub hint: String,
    /// The `amqpdoctor explain` topic that tells more (an errno name, a
    /// reply code or the verdict code).
    pub explain: String,
}

/// Classify a failed step.
pub fn step_failure(step: CheckStep, err: &StepError) -> StepFailure {
    let (code, errno, close) = match err {
        StepError::Wire(e) => {
            let code = match &e.kind {
                FailureKind::ChannelClose(c) if c.reply_code == 404 => {
                    VerdictCode::ExchangeNotFound
                }
                FailureKind::ChannelClose(c) | FailureKind::ConnectionClose(c)
                    if step > CheckStep::Handshake =>
                {
                    fault::close_code(c.reply_code, &c.reply_text).unwrap_or_else(|| setup_code(e))
                }
                _ => setup_code(e),
            };
            (code, e.errno(), e.close().cloned())
        }
        StepError::Nacked | StepError::Returned { .. } => (VerdictCode::MessageRefused, None, None),
        StepError::NotDelivered | StepError::BodyMismatch { .. } => {
            (VerdictCode::SilentLoss, None, None)
        }
        StepError::Interrupted => (VerdictCode::Interrupted, None, None),
        StepError::Blocked { .. } => (VerdictCode::Blocked, None, None),
    };
    let reply_code = close.as_ref().map(|c| c.reply_code).or(match err {
        StepError::Returned { reply_code, .. } => Some(*reply_code),
        _ => None,
    });
    let explain = match (errno, reply_code) {
        (Some(n), _) => errno_name(n),
        (None, Some(c)) => c.to_string(),
        (None, None) => code.to_string(),
    };
    let hint = match err {
        StepError::Blocked { reason, waited_ms } => fault::blocked_step_hint(reason, *waited_ms),
        StepError::Wire(_) if code == VerdictCode::ConnectionLimit => fault::limit_remedy(),
        StepError::Wire(e) => {
            let f = SetupFailure {
                code,
                ..SetupFailure::classify(e)
            };
            narrate::check_hint(step, &f)
        }
        other => narrate::check_other_hint(other),
    };
    StepFailure {
        code,
        message: err.to_string(),
        errno,
        errno_name: errno.map(errno_name),
        reply_code,
        reply_text: close.map(|c| c.reply_text).or(match err {
            StepError::Returned { reply_text, .. } => Some(reply_text.clone()),
            _ => None,
        }),
        hint,
        explain,
    }
}

/// What the check measured, as the expectations need it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckSeen<'a> {
    pub heartbeat: Option<Heartbeat>,
    pub connect: Option<Duration>,
    pub handshake: Option<Duration>,
    /// Publish → confirm → get.
    pub roundtrip: Option<Duration>,
    pub product: Option<&'a str>,
    pub version: Option<&'a str>,
    /// Whether the server's Connection.Start was seen at all.
    pub server_seen: bool,
    /// None: no TLS handshake completed; Some(None): rustls verified the
    /// certificate; Some(Some(l)): rustls refused it and `l` says who
    /// accepts it.
    pub tls: Option<Option<&'a crate::vocab::tls::TlsLeniency>>,
}

/// One expectation, held against the measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpectationReport {
    /// The flag's name without dashes: `expect_heartbeat`, `max_connect`, …
    pub name: &'static str,
    pub expected: String,
    pub observed: Option<String>,
    /// `skipped` when the step that measures it did not run.
    pub status: StepStatus,
    pub message: String,
}

/// Every expectation that was set, in a fixed order.
pub fn evaluate(exp: &Expectations, obs: &CheckSeen) -> Vec<ExpectationReport> {
    let mut out = Vec::new();
    if let Some(range) = exp.heartbeat {
        out.push(judge(
            "expect_heartbeat",
            format!("heartbeat in {range}"),
            obs.heartbeat.map(|t| (t.to_string(), range.contains(t))),
        ));
    }
    let limits = [
        ("max_connect", exp.max_connect, obs.connect, "TCP connect"),
        (
            "max_handshake",
            exp.max_handshake,
            obs.handshake,
            "AMQP handshake",
        ),
        (
            "max_roundtrip",
            exp.max_roundtrip,
            obs.roundtrip,
            "publish → confirm → get",
        ),
    ];
    for (name, limit, took, what) in limits {
        if let Some(limit) = limit {
            out.push(judge(
                name,
                format!("{what} within {}", Millis::of(limit)),
                took.map(|d| (Millis::of(d).to_string(), d <= limit)),
            ));
        }
    }
    if let Some(want) = &exp.server {
        let observed = obs.server_seen.then(|| {
            let shown = narrate::server_label(obs.product, obs.version);
            (shown, want.mismatch(obs.product, obs.version).is_none())
        });
        let mut r = judge("expect_server", format!("server {want}"), observed);
        if r.status == StepStatus::Failed {
            if let Some(why) = want.mismatch(obs.product, obs.version) {
                r.message = why;
            }
        }
        out.push(r);
    }
    if !exp.tls_accepted_by.is_empty() {
        out.push(tls_expectation(&exp.tls_accepted_by, obs.tls));
    }
    out
}

/// `--expect-tls-accepted-by`: failed when a named family would refuse the
/// certificate (a family whose verdict is not known does not fail it).
fn tls_expectation(
    want: &[crate::vocab::tls::TlsFamily],
    tls: Option<Option<&crate::vocab::tls::TlsLeniency>>,
) -> ExpectationReport {
    let list = |v: &[crate::vocab::tls::TlsFamily]| {
        v.iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let expected = format!("the certificate accepted by {}", list(want));
    let observed = tls.map(|l| match l {
        None => ("verified by rustls".to_string(), Vec::new()),
        Some(l) => (
            format!(
                "refused by rustls; {}",
                if l.refused_by.is_empty() {
                    "no family known to refuse it".to_string()
                } else {
                    format!("refused by {}", list(&l.refused_by))
                }
            ),
            want.iter()
                .copied()
                .filter(|f| l.refused_by.contains(f))
                .collect::<Vec<_>>(),
        ),
    });
    let mut r = judge(
        "expect_tls_accepted_by",
        expected,
        observed
            .as_ref()
            .map(|(seen, refused)| (seen.clone(), refused.is_empty())),
    );
    if let (StepStatus::Failed, Some((_, refused)), Some(Some(l))) = (r.status, &observed, tls) {
        r.message = format!(
            "{} would refuse the server's certificate ({})",
            list(refused),
            l.shapes.join(", ").replace('_', " ")
        );
    }
    r
}

fn judge(
    name: &'static str,
    expected: String,
    observed: Option<(String, bool)>,
) -> ExpectationReport {
    let (status, observed, message) = match observed {
        None => (
            StepStatus::Skipped,
            None,
            "not measured: the step that measures it did not complete".to_string(),
        ),
        Some((seen, true)) => (
            StepStatus::Passed,
            Some(seen.clone()),
            format!("{seen}: as expected"),
        ),
        Some((seen, false)) => (
            StepStatus::Failed,
            Some(seen.clone()),
            format!("expected {expected}, got {seen}"),
        ),
    };
    ExpectationReport {
        name,
        expected,
        observed,
        status,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::check::{HeartbeatRange, ServerExpectation};
    use crate::vocab::{Awaiting, CloseInfo, SetupError, Stage};

    fn wire(stage: Stage, kind: FailureKind) -> StepError {
        StepError::Wire(SetupError {
            stage,
            kind,
            message: "m".into(),
        })
    }

    #[test]
    fn failed_steps() {
        let close = |code| CloseInfo {
            reply_code: code,
            reply_text: "TEXT".into(),
            class_id: 50,
            method_id: 20,
        };
        // (step, error, code, explain topic, hint contains)
        let rows = [
            (
                CheckStep::Connect,
                wire(Stage::Connect, FailureKind::Io { errno: Some(111) }),
                VerdictCode::ConnectFailed,
                "ECONNREFUSED",
                "port",
            ),
            (
                CheckStep::Connect,
                wire(Stage::Connect, FailureKind::Timeout),
                VerdictCode::ConnectFailed,
                "connect_failed",
                "--connect-timeout",
            ),
            (
                CheckStep::Handshake,
                wire(Stage::Handshake, FailureKind::ConnectionClose(close(403))),
                VerdictCode::AuthFailed,
                "403",
                "password",
            ),
            (
                CheckStep::Handshake,
                wire(
                    Stage::Handshake,
                    FailureKind::Eof {
                        awaiting: Awaiting::ConnectionTune,
                    },
                ),
                VerdictCode::AuthFailed,
                "auth_failed",
                "password",
            ),
            (
                CheckStep::Handshake,
                wire(Stage::Handshake, FailureKind::Timeout),
                VerdictCode::Timeout,
                "timeout",
                "--connect-timeout",
            ),
            (
                CheckStep::Queue,
                wire(Stage::Channel, FailureKind::ChannelClose(close(404))),
                VerdictCode::ExchangeNotFound,
                "404",
                "exchange",
            ),
            (
                CheckStep::Queue,
                wire(Stage::Channel, FailureKind::ChannelClose(close(403))),
                VerdictCode::ServerClosed,
                "403",
                "permission",
            ),
            (
                CheckStep::Publish,
                StepError::Nacked,
                VerdictCode::MessageRefused,
                "message_refused",
                "nack",
            ),
            (
                CheckStep::Publish,
                StepError::Returned {
                    reply_code: 312,
                    reply_text: "NO_ROUTE".into(),
                },
                VerdictCode::MessageRefused,
                "312",
                "routing key",
            ),
            (
                CheckStep::Get,
                StepError::NotDelivered,
                VerdictCode::SilentLoss,
                "silent_loss",
                "queue",
            ),
            (
                CheckStep::Get,
                StepError::BodyMismatch { sent: 3, got: 4 },
                VerdictCode::SilentLoss,
                "silent_loss",
                "body",
            ),
            (
                CheckStep::Close,
                StepError::Interrupted,
                VerdictCode::Interrupted,
                "interrupted",
                "interrupted",
            ),
        ];
        for (step, err, code, explain, hint) in rows {
            let f = step_failure(step, &err);
            assert_eq!(
                (f.code, f.explain.as_str()),
                (code, explain),
                "{step} {err:?}"
            );
            assert!(
                f.hint.to_lowercase().contains(hint),
                "{step} {err:?}: hint {:?} lacks {hint:?}",
                f.hint
            );
            assert!(
                !f.hint.contains("--trace"),
                "check has no --trace: {}",
                f.hint
            );
        }
        let f = step_failure(
            CheckStep::Connect,
            &wire(Stage::Connect, FailureKind::Io { errno: Some(111) }),
        );
        assert_eq!(f.errno_name.as_deref(), Some("ECONNREFUSED"));
    }

    #[test]
    fn expectations() {
        let ms = Duration::from_millis;
        let exp = Expectations {
            heartbeat: Some(HeartbeatRange::parse("10s..60s").unwrap()),
            max_connect: Some(ms(100)),
            max_handshake: Some(ms(50)),
            max_roundtrip: Some(ms(20)),
            server: Some(ServerExpectation::parse("RabbitMQ >=3.12").unwrap()),
            tls_accepted_by: vec![],
        };
        let seen = CheckSeen {
            heartbeat: Some(Heartbeat::from_secs(60)),
            connect: Some(ms(1)),
            handshake: Some(ms(80)),
            roundtrip: Some(ms(20)),
            product: Some("RabbitMQ"),
            version: Some("3.10.8"),
            server_seen: true,
            tls: None,
        };
        let got: Vec<(&str, StepStatus)> = evaluate(&exp, &seen)
            .iter()
            .map(|r| (r.name, r.status))
            .collect();
        use StepStatus::{Failed, Passed, Skipped};
        assert_eq!(
            got,
            [
                ("expect_heartbeat", Passed),
                ("max_connect", Passed),
                ("max_handshake", Failed),
                ("max_roundtrip", Passed),
                ("expect_server", Failed),
            ]
        );
        let server = evaluate(&exp, &seen).pop().unwrap();
        assert!(
            server.message.contains("3.10.8 does not satisfy"),
            "{}",
            server.message
        );

        // Heartbeats off: caught. Nothing measured: skipped, not failed.
        let off = CheckSeen {
            heartbeat: Some(Heartbeat::from_secs(0)),
            ..CheckSeen::default()
        };
        let got: Vec<StepStatus> = evaluate(&exp, &off).iter().map(|r| r.status).collect();
        assert_eq!(got, [Failed, Skipped, Skipped, Skipped, Skipped]);
        assert!(evaluate(&Expectations::default(), &seen).is_empty());
    }

    #[test]
    fn tls_acceptance_expected() {
        use crate::vocab::tls::{TlsFamily as F, TlsLeniency};
        let cn_only = TlsLeniency {
            accepted_as: F::Openssl,
            rustls_refused: "r".into(),
            shapes: vec!["cn_only".into()],
            why: vec!["the host name only in the subject CN".into()],
            refused_by: vec![F::Go, F::Rustls],
            unknown_for: vec![F::Dotnet],
        };
        // (families expected, what TLS saw, status, message contains)
        type Seen<'a> = Option<Option<&'a TlsLeniency>>;
        let rows: Vec<(Vec<F>, Seen, StepStatus, &str)> = vec![
            (
                vec![F::Go, F::Java],
                Some(Some(&cn_only)),
                StepStatus::Failed,
                "go would refuse",
            ),
            (
                vec![F::Java],
                Some(Some(&cn_only)),
                StepStatus::Passed,
                "as expected",
            ),
            (
                vec![F::Dotnet],
                Some(Some(&cn_only)),
                StepStatus::Passed,
                "as expected",
            ),
            (
                vec![F::Go],
                Some(None),
                StepStatus::Passed,
                "verified by rustls",
            ),
            (vec![F::Go], None, StepStatus::Skipped, "not measured"),
        ];
        for (want, tls, status, says) in rows {
            let exp = Expectations {
                tls_accepted_by: want.clone(),
                ..Expectations::default()
            };
            let obs = CheckSeen {
                tls,
                ..CheckSeen::default()
            };
            let r = evaluate(&exp, &obs).pop().unwrap();
            assert_eq!(r.name, "expect_tls_accepted_by");
            assert_eq!(r.status, status, "{want:?}: {}", r.message);
            assert!(r.message.contains(says), "{want:?}: {}", r.message);
        }
    }
}
