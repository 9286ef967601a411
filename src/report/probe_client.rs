//! `probe --client ID[@VERSION]`: which library row the run behaved as,
//! the heartbeat its rule negotiated and how it dispatched, and what that
//! library shows the application when such a connection dies (the
//! report's `client` object, and its block in human output).

use serde::Serialize;

use super::style::{wrap, wrap_with, Style, WIDTH};
use super::Run;
use crate::knowledge::cadence::{Behaviour, Cadence, Emulation};
use crate::knowledge::{ClientSpec, NegotiationRule};
use crate::vocab::units::secs;
use crate::vocab::{Heartbeat, Mode};

/// The library the probe behaved as (JSON: the report's `client`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientRun {
    /// `--client` as typed.
    pub asked: String,
    pub id: String,
    pub name: String,
    /// The label of the version row used ("≥ 1.0").
    pub version: String,
    /// Whether a version was given (without one the newest row is used).
    pub pinned: bool,
    /// Set when the version given is newer than what was read for the row.
    pub newer_note: Option<String>,
    /// How the application sets the heartbeat in this library.
    pub setting: String,
    pub negotiation: NegotiationRule,
    pub negotiation_rule: &'static str,
    pub server_heartbeat_s: u16,
    /// The application's setting (`--heartbeat`, the URL's `heartbeat=`);
    /// null: it leaves the library's default alone.
    pub requested_heartbeat_s: Option<u16>,
    /// The library's default; null: it accepts the server's proposal.
    pub default_heartbeat_s: Option<u16>,
    /// T as the library's rule gives it: what the probe sent in Tune-Ok.
    pub negotiated_heartbeat_s: Heartbeat,
    pub dispatch: String,
    pub starves_when_idle: bool,
    pub beats_every: Cadence,
    /// `starves`, `beats` or `off`.
    pub behaviour: &'static str,
    /// With `beats`: the period the probe read and sent a heartbeat at.
    pub beats_every_ms: Option<u64>,
    /// With `starves` and `--pump-every`: the application calls into the
    /// library (pika's `process_data_events()`) this often, and the run
    /// was read and answered at that period.
    pub application_pumps_every_ms: Option<u64>,
    /// The mode the run took to behave so (`starved`, pumped or not, or
    /// `disabled`).
    pub mode: Mode,
    /// What the application sees when such a connection dies.
    pub symptoms: Vec<String>,
    pub remedy: Vec<String>,
}

impl ClientRun {
    pub fn new(
        asked: &str,
        spec: &ClientSpec<'_>,
        server_s: u16,
        requested: Option<u16>,
        em: &Emulation,
        mode: Mode,
    ) -> Self {
        let row = spec.row();
        ClientRun {
            asked: asked.trim().to_string(),
            id: spec.lib.id.clone(),
            name: spec.lib.name.clone(),
            version: row.label.clone(),
            pinned: spec.pinned.is_some(),
            newer_note: spec.newer_note(),
            setting: row.setting.clone(),
            negotiation: row.negotiation,
            negotiation_rule: row.negotiation.describe(),
            server_heartbeat_s: server_s,
            requested_heartbeat_s: requested,
            default_heartbeat_s: row.default_heartbeat_s,
            negotiated_heartbeat_s: Heartbeat::from_secs(em.tune_ok_s),
            dispatch: row.dispatch.clone(),
            starves_when_idle: row.starves_when_idle,
            beats_every: row.beats_every,
            behaviour: em.behaviour.as_str(),
            beats_every_ms: match em.behaviour {
                Behaviour::Beats { every_ms } => Some(every_ms),
                _ => None,
            },
            application_pumps_every_ms: None,
            mode,
            symptoms: row.symptoms.clone(),
            remedy: row.remedy.clone(),
        }
    }

    /// What the plan line before the idle calls the run: "pika-blocking
    /// ≥ 1.0 (as the starved mode, read every 500 ms)".
    pub fn plan_name(&self) -> String {
        format!("{} ({})", self.title(), self.how())
    }

    /// "as the starved mode, read and answered every 500 ms".
    pub fn how(&self) -> String {
        match self.beats_every_ms.or(self.application_pumps_every_ms) {
            Some(ms) => format!(
                "as the {} mode, read and answered every {}",
                self.mode,
                secs(ms)
            ),
            None => format!("as the {} mode", self.mode),
        }
    }

    /// "pika-blocking ≥ 1.0".
    fn title(&self) -> String {
        format!("{} {}", self.id, self.version)
    }

    fn asked_words(&self) -> String {
        match (self.requested_heartbeat_s, self.default_heartbeat_s) {
            (Some(r), _) => format!("the application asks for {}", Heartbeat::from_secs(r)),
            (None, Some(d)) => format!(
                "the application sets nothing: the library's default, {}",
                Heartbeat::from_secs(d)
            ),
            (None, None) => {
                "the application sets nothing: the library accepts the server's proposal".into()
            }
        }
    }

    fn behaviour_words(&self) -> String {
        match self.beats_every_ms {
            _ if self.negotiated_heartbeat_s.is_off() => {
                "heartbeats off (T = 0): probed as the disabled mode".into()
            }
            Some(ms) => format!(
                "sends heartbeats on its own, {} ({} at T = {}): probed as the starved mode \
                 read and answered every {}",
                self.beats_every.describe(),
                secs(ms),
                self.negotiated_heartbeat_s,
                secs(ms)
            ),
            None => match self.application_pumps_every_ms {
                Some(ms) => format!(
                    "starves when the application idles, and the application calls into it \
                     every {} (--pump-every): probed as the starved mode read and answered \
                     every {}",
                    secs(ms),
                    secs(ms)
                ),
                None => "starves when the application idles (no heartbeat goes out until it \
                         calls into the library): probed as the starved mode, never read or \
                         answered"
                    .into(),
            },
        }
    }
}

/// The human block of a `--client` probe: how the library negotiated and
/// behaved, and, next to the run's verdict, what its application sees.
pub fn render(c: &ClientRun, run: Option<&Run>, style: Style) -> String {
    let title = format!("── as {} ", c.title());
    let mut out = style.bold(&format!(
        "{title}{}",
        "─".repeat(WIDTH.saturating_sub(title.chars().count()))
    ));
    out.push('\n');
    let pad = "              ";
    out.push_str(&wrap_with(
        &format!(
            "{} ({}): {}; the server proposed {} → T = {}, by its rule: {}",
            c.name,
            if c.pinned {
                format!("row {} for {}", c.version, c.asked)
            } else {
                format!("no version given: the newest row, {}", c.version)
            },
            c.asked_words(),
            Heartbeat::from_secs(c.server_heartbeat_s),
            c.negotiated_heartbeat_s,
            c.negotiation_rule
        ),
        WIDTH,
        "  library     ",
        pad,
    ));
    if let Some(n) = &c.newer_note {
        out.push_str(&wrap(&format!("note: {n}"), WIDTH, pad));
    }
    out.push_str(&wrap_with(&c.dispatch, WIDTH, "  dispatch    ", pad));
    out.push_str(&wrap_with(
        &c.behaviour_words(),
        WIDTH,
        "  behaved     ",
        pad,
    ));
    if let Some(r) = run {
        out.push_str(&format!("  verdict     {}\n", r.verdict.code));
    }
    let died = run.is_some_and(|r| r.verdict.code != crate::vocab::VerdictCode::Healthy);
    if !c.symptoms.is_empty() {
        out.push_str(&if died {
            format!("  what the application sees with {}\n", c.id)
        } else {
            format!(
                "  what {} shows the application when such a connection dies\n",
                c.id
            )
        });
        for s in &c.symptoms {
            out.push_str(&wrap_with(s, WIDTH, "    - ", "      "));
        }
    }
    if died {
        out.push_str(&format!("  remedy in {}\n", c.id));
        for s in &c.remedy {
            out.push_str(&wrap_with(s, WIDTH, "    - ", "      "));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::{cadence, client_spec};

    fn client_run(spec: &str, server_s: u16, requested: Option<u16>) -> ClientRun {
        let spec_v = client_spec(spec).expect("a known library");
        let em = cadence::emulate(spec_v.row(), server_s, requested);
        let mode = match em.behaviour {
            Behaviour::Off => Mode::Disabled,
            _ => Mode::Starved,
        };
        ClientRun::new(spec, &spec_v, server_s, requested, &em, mode)
    }

    /// The block with its wrapping undone, to look for phrases in.
    fn words(c: &ClientRun) -> String {
        let text = render(c, None, Style::PLAIN);
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn the_block_names_the_row_the_rule_and_the_symptoms() {
        let c = client_run("pika-blocking@1.3", 60, Some(1));
        let text = words(&c);
        for want in [
            "── as pika-blocking ≥ 1.0 ",
            "row ≥ 1.0 for pika-blocking@1.3",
            "the application asks for 1 s",
            "the server proposed 60 s → T = 1 s",
            "starves when the application idles",
            "StreamLostError",
        ] {
            assert!(text.contains(want), "{want:?} not in:\n{text}");
        }
        assert_eq!(c.plan_name(), "pika-blocking ≥ 1.0 (as the starved mode)");
        let mut pumped = c.clone();
        pumped.application_pumps_every_ms = Some(500);
        assert!(words(&pumped).contains("the application calls into it every 500 ms"));
        assert!(pumped
            .plan_name()
            .ends_with("read and answered every 500 ms)"));
    }

    #[test]
    fn a_beating_library_says_its_period_and_a_default_says_so() {
        let c = client_run("java", 60, None);
        assert_eq!((c.behaviour, c.beats_every_ms), ("beats", Some(30_000)));
        let text = words(&c);
        assert!(text.contains("no version given: the newest row"), "{text}");
        assert!(text.contains("the library's default, 60 s"), "{text}");
        assert!(text.contains("every T/2 (30 s at T = 60 s)"), "{text}");
        assert!(c.plan_name().ends_with("read and answered every 30 s)"));
        let off = client_run("kombu", 60, None);
        assert_eq!((off.behaviour, off.mode), ("off", Mode::Disabled));
        assert!(words(&off).contains("heartbeats off (T = 0)"));
    }
}
