//! The `idle-timeout` report: every connection's idle and fate, the
//! bracket around the path's idle timeout, how the casualties died and the
//! advice; built (pure) from what the run layer saw, rendered as human text
//! or JSON.

use serde::Serialize;

use super::style::{clean, table, wrap, wrap_with, Style, WIDTH};
use super::{Header, ServerSummary, Tune};
use crate::classify::idle::{advice, bracket, finding, Advice, Bracket, Finding};
use crate::classify::{narrate, SetupFailure};
use crate::error::ExitStatus;
use crate::run::idle::IdleOutcome;
use crate::vocab::idle::{Fate, IdleProbe};
use crate::vocab::units::{duration_ms, secs};

/// What the discovery was asked, as resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdleSettings {
    pub min_ms: u64,
    pub max_ms: u64,
    pub probes: usize,
    /// Bounds the connect, each handshake step and the round trip.
    pub step_timeout_ms: u64,
    pub wait_all: bool,
}

/// The whole `idle-timeout` report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdleReport {
    #[serde(flatten)]
    pub header: Header,
    pub server: Option<ServerSummary>,
    pub peer: Option<String>,
    pub settings: IdleSettings,
    /// One per connection, shortest idle first.
    pub probes: Vec<IdleProbe>,
    pub bracket: Bracket,
    pub finding: Finding,
    /// The finding in one sentence.
    pub summary: String,
    /// How the casualties died, one sentence per kind.
    pub died_by: Vec<String>,
    pub advice: Advice,
    /// The advice in sentences.
    pub advice_text: Vec<String>,
    pub duration_ms: u64,
    pub interrupted: bool,
    /// Set when no connection could be opened (exit 3).
    pub setup_failure: Option<SetupFailure>,
    pub exit_code: ExitStatus,
}

impl IdleReport {
    pub fn new(header: Header, settings: IdleSettings, o: IdleOutcome) -> Self {
        let b = bracket(&o.probes);
        let f = finding(&b);
        let a = advice(&b);
        let opened = o.handshake.is_some();
        let setup_failure = match (&o.setup_error, opened) {
            (Some(e), false) => Some(SetupFailure::classify(e)),
            _ => None,
        };
        let exit_code = if o.interrupted {
            ExitStatus::Interrupted
        } else if setup_failure.is_some() {
            ExitStatus::CannotDiagnose
        } else if o.probes.iter().any(|p| p.fate.is_casualty()) {
            ExitStatus::Fault
        } else {
            ExitStatus::Ok
        };
        IdleReport {
            header,
            server: o.handshake.as_ref().map(|hs| {
                ServerSummary::new(
                    &hs.server,
                    Some(Tune {
                        heartbeat: hs.server_heartbeat,
                        frame_max: hs.server_frame_max,
                        channel_max: hs.server_channel_max,
                    }),
                )
            }),
            peer: o.peer.map(|p| p.to_string()),
            summary: narrate::idle_finding(&b, f, settings.max_ms),
            died_by: narrate::idle_died_by(&b.died_by),
            advice_text: narrate::idle_advice(
                &a,
                f,
                b.longest_survivor_ms.unwrap_or(settings.max_ms),
            ),
            settings,
            probes: o.probes,
            bracket: b,
            finding: f,
            advice: a,
            duration_ms: duration_ms(o.total),
            interrupted: o.interrupted,
            setup_failure,
            exit_code,
        }
    }
}

/// The human report.
pub fn render(r: &IdleReport, style: Style) -> String {
    let (mut out, failed) = super::title(&r.header, r.setup_failure.as_ref(), style);
    if failed {
        return out;
    }
    if let Some(s) = &r.server {
        out.push_str(&format!(
            "server   {}{}\n",
            clean(&narrate::server_label(
                s.product.as_deref(),
                s.version.as_deref()
            )),
            r.peer
                .as_deref()
                .map_or(String::new(), |p| format!(" at {p}"))
        ));
    }
    let s = &r.settings;
    out.push_str(&format!(
        "{} connections with heartbeats off, idles {} … {}, each then one round trip \
         (Channel.Open); took {}\n\n",
        s.probes,
        secs(s.min_ms),
        secs(s.max_ms),
        secs(r.duration_ms)
    ));
    let rows = r
        .probes
        .iter()
        .map(|p| {
            let fate = p.fate.to_string();
            vec![
                secs(p.idle_ms),
                match p.fate {
                    Fate::Survived => style.good(&fate),
                    f if f.is_casualty() => style.bad(&fate),
                    _ => style.dim(&fate),
                },
                p.dead_after_ms().map(secs).unwrap_or_default(),
                clean(&p.detail).into_owned(),
            ]
        })
        .collect();
    out.push_str(&table(
        &["idle", "result", "dead after", "what happened"],
        rows,
    ));
    out.push_str("\n\n");
    let headline = match r.finding {
        Finding::NoTimeout => style.good(&r.summary),
        Finding::Unknown => r.summary.clone(),
        _ => style.bad(&r.summary),
    };
    out.push_str(&wrap(&headline, WIDTH, ""));
    if !r.died_by.is_empty() {
        out.push_str(&format!("\n{}\n", style.heading("How they died")));
        for line in &r.died_by {
            out.push_str(&wrap_with(line, WIDTH, "  - ", "    "));
        }
    }
    if !r.advice_text.is_empty() {
        out.push_str(&format!("\n{}\n", style.heading("What to do")));
        for line in &r.advice_text {
            out.push_str(&wrap_with(line, WIDTH, "  - ", "    "));
        }
    }
    if r.interrupted {
        out.push_str(&style.bad("\ninterrupted: the bracket is from what finished\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::style::Style;
    use std::time::Duration;

    fn p(idle_ms: u64, fate: Fate, died_at_ms: Option<u64>, detail: &str) -> IdleProbe {
        IdleProbe {
            idle_ms,
            fate,
            died_at_ms,
            round_trip_ms: (fate == Fate::Survived).then_some(crate::vocab::check::Millis(0.4)),
            errno_name: (fate == Fate::Reset).then(|| "ECONNRESET".into()),
            reply_code: None,
            detail: detail.into(),
        }
    }

    fn report(probes: Vec<IdleProbe>, interrupted: bool) -> IdleReport {
        IdleReport::new(
            Header::new("idle-timeout", "amqp://guest:***@127.0.0.1:5672/%2f".into()),
            IdleSettings {
                min_ms: 1000,
                max_ms: 8000,
                probes: probes.len(),
                step_timeout_ms: 5000,
                wait_all: false,
            },
            IdleOutcome {
                probes,
                handshake: None,
                peer: None,
                setup_error: None,
                tls_accepted: None,
                total: Duration::from_millis(8100),
                interrupted,
            },
        )
    }

    #[test]
    fn exit_codes_and_findings() {
        use Fate::*;
        // (probes, interrupted, exit, finding)
        let rows = [
            (
                vec![p(1000, Survived, None, ""), p(8000, Survived, None, "")],
                false,
                ExitStatus::Ok,
                Finding::NoTimeout,
            ),
            (
                vec![p(1000, Survived, None, ""), p(8000, Reset, Some(2010), "")],
                false,
                ExitStatus::Fault,
                Finding::Bracketed,
            ),
            (
                vec![p(1000, Survived, None, ""), p(8000, Interrupted, None, "")],
                true,
                ExitStatus::Interrupted,
                Finding::NoTimeout,
            ),
            (
                vec![p(1000, Silence, None, ""), p(8000, Skipped, None, "")],
                false,
                ExitStatus::Fault,
                Finding::BelowShortest,
            ),
        ];
        for (probes, interrupted, exit, f) in rows {
            let r = report(probes, interrupted);
            assert_eq!(r.exit_code, exit, "{:?}", r.probes);
            assert_eq!(r.finding, f, "{:?}", r.probes);
        }
    }

    #[test]
    fn human_and_json() {
        let r = report(
            vec![
                p(1000, Fate::Survived, None, "Channel.Open answered in 1 ms"),
                p(1810, Fate::Survived, None, "Channel.Open answered in 1 ms"),
                p(
                    2440,
                    Fate::Reset,
                    Some(2012),
                    "RST (ECONNRESET) after 2.012 s of idle, while silent",
                ),
                p(
                    8000,
                    Fate::Skipped,
                    None,
                    "stopped after 2.013 s of idle: a connection was already dead after 2.012 s",
                ),
            ],
            false,
        );
        let text = render(&r, Style { color: false });
        insta::assert_snapshot!("idle_timeout_human", text);
        assert!(
            text.contains("more than 1.810 s and at most 2.012 s"),
            "{text}"
        );
        assert!(
            text.contains("How they died") && text.contains("RST:"),
            "{text}"
        );
        assert!(text.contains("Use a heartbeat of 1 s or less"), "{text}");
        let json: serde_json::Value =
            serde_json::from_str(&crate::report::json::render(&r)).unwrap();
        assert_eq!(json["command"], "idle-timeout");
        assert_eq!(json["bracket"]["longest_survivor_ms"], 1810);
        assert_eq!(json["bracket"]["shortest_casualty_ms"], 2012);
        assert_eq!(json["probes"][2]["fate"], "reset");
        assert_eq!(json["probes"][2]["died_at_ms"], 2012);
        assert_eq!(json["finding"], "bracketed");
        assert_eq!(json["advice"]["heartbeat_s"], 1);
        assert_eq!(json["exit_code"], 1);
        let none = report(vec![p(1000, Fate::Survived, None, "")], false);
        let json: serde_json::Value =
            serde_json::from_str(&crate::report::json::render(&none)).unwrap();
        assert!(json["bracket"]["shortest_casualty_ms"].is_null());
    }
}
