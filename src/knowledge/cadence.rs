//! How often a client library sends heartbeats while its I/O runs, and
//! what `probe --client` does to behave as that library: the Tune-Ok value
//! its rule gives and whether (and how often) the connection is pumped.
//! Pure: no I/O, so the table test below covers every rule and cadence.

use serde::{Deserialize, Serialize};

use super::clients::{negotiate_for, ClientVersion};

/// A library's heartbeat cadence as a function of T (`beats_every` in
/// data/knowledge/clients.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// Every T/4 (.NET client 6.x).
    Quarter,
    /// Every T/2.
    Half,
    /// Every 2T/3 (a Celery worker: it checks every T/3 and py-amqp sends
    /// on every second check).
    TwoThirds,
    /// Every max(1, T // 2) whole seconds (aiormq ≥ 6.3).
    HalfWhole,
    /// Every max(T // 2 − 1, 0.4) s (Bunny).
    HalfLessOne,
    /// Every T.
    Full,
    /// Every N seconds whatever T is (aiormq 6.1–6.2: the URL's `timeout`,
    /// 60 by default).
    FixedS(u16),
}

impl Cadence {
    /// The period in milliseconds at heartbeat `t_s` (never 0, so it can
    /// drive a timer).
    pub fn every_ms(self, t_s: u16) -> u64 {
        let t = u64::from(t_s);
        let ms = match self {
            Cadence::Quarter => t * 250,
            Cadence::Half => t * 500,
            Cadence::TwoThirds => t * 2000 / 3,
            Cadence::HalfWhole => (t / 2).max(1) * 1000,
            Cadence::HalfLessOne => ((t / 2) * 1000).saturating_sub(1000).max(400),
            Cadence::Full => t * 1000,
            Cadence::FixedS(s) => u64::from(s) * 1000,
        };
        ms.max(1)
    }

    /// In words: "every T/2".
    pub fn describe(self) -> String {
        match self {
            Cadence::Quarter => "every T/4".into(),
            Cadence::Half => "every T/2".into(),
            Cadence::TwoThirds => "every 2T/3".into(),
            Cadence::HalfWhole => "every max(1, T // 2) whole seconds".into(),
            Cadence::HalfLessOne => "every max(T // 2 − 1, 0.4) s".into(),
            Cadence::Full => "every T".into(),
            Cadence::FixedS(s) => format!("every {s} s whatever T is"),
        }
    }
}

/// What the library does with its connection while the application idles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Nothing: no heartbeat goes out until the application calls into it.
    Starves,
    /// It reads and sends a heartbeat every `every_ms` on its own.
    Beats { every_ms: u64 },
    /// Heartbeats are off (T = 0).
    Off,
}

impl Behaviour {
    /// The snake_case name the JSON report uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Behaviour::Starves => "starves",
            Behaviour::Beats { .. } => "beats",
            Behaviour::Off => "off",
        }
    }
}

/// How `probe --client` behaves as a library's row against a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emulation {
    /// T, what the library sends in Tune-Ok.
    pub tune_ok_s: u16,
    pub behaviour: Behaviour,
}

/// The library `row`, asked for `requested` seconds by the application
/// (None: its default), against the server's proposal `server_s`.
pub fn emulate(row: &ClientVersion, server_s: u16, requested: Option<u16>) -> Emulation {
    let t = negotiate_for(row, server_s, requested);
    let behaviour = if t == 0 {
        Behaviour::Off
    } else if row.starves_when_idle {
        Behaviour::Starves
    } else {
        Behaviour::Beats {
            every_ms: row.beats_every.every_ms(t),
        }
    };
    Emulation {
        tune_ok_s: t,
        behaviour,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::client_spec;

    #[test]
    fn cadences_at_t() {
        // (cadence, T, period ms)
        let rows = [
            (Cadence::Quarter, 60, 15_000),
            (Cadence::Half, 60, 30_000),
            (Cadence::Half, 1, 500),
            (Cadence::TwoThirds, 60, 40_000),
            (Cadence::TwoThirds, 1, 666),
            (Cadence::HalfWhole, 60, 30_000),
            (Cadence::HalfWhole, 1, 1000),
            (Cadence::HalfWhole, 5, 2000),
            (Cadence::HalfLessOne, 60, 29_000),
            (Cadence::HalfLessOne, 2, 400),
            (Cadence::HalfLessOne, 1, 400),
            (Cadence::Full, 5, 5000),
            (Cadence::FixedS(60), 1, 60_000),
            (Cadence::FixedS(0), 1, 1),
            (Cadence::Quarter, 0, 1),
        ];
        for (c, t, want) in rows {
            assert_eq!(c.every_ms(t), want, "{c:?} at T = {t}");
        }
    }

    #[test]
    fn every_row_has_a_cadence_that_can_drive_a_timer() {
        for lib in crate::knowledge::clients() {
            for row in &lib.versions {
                assert_ne!(
                    row.beats_every,
                    Cadence::FixedS(0),
                    "{} {}",
                    lib.id,
                    row.label
                );
            }
        }
    }

    #[test]
    fn rows_become_tune_ok_and_behaviour() {
        use Behaviour::*;
        // (ID@VERSION, server proposal, requested, Tune-Ok, behaviour)
        let rows: &[(&str, u16, Option<u16>, u16, Behaviour)] = &[
            ("pika-blocking@1.3", 60, Some(1), 1, Starves),
            ("pika-blocking@1.3", 60, None, 60, Starves),
            ("pika-blocking@1.3", 60, Some(0), 0, Off),
            ("pika-blocking@0.11.0", 60, Some(1), 60, Starves),
            ("pika-blocking@0.11.1", 60, Some(0), 60, Starves),
            ("pika-select@1.3", 60, Some(1), 1, Beats { every_ms: 500 }),
            ("pika-select@0.10", 60, Some(2), 2, Beats { every_ms: 2000 }),
            ("celery@5.4", 60, None, 60, Beats { every_ms: 40_000 }),
            ("kombu@5.3", 60, None, 0, Off),
            ("kombu@5.3", 60, Some(10), 10, Starves),
            ("java@5.20", 60, None, 60, Beats { every_ms: 30_000 }),
            ("java@5.20", 60, Some(0), 60, Beats { every_ms: 30_000 }),
            ("dotnet@6.5", 60, None, 60, Beats { every_ms: 15_000 }),
            ("go-streadway", 60, None, 10, Beats { every_ms: 10_000 }),
            ("bunny@2.22", 60, None, 60, Beats { every_ms: 29_000 }),
            ("aio-pika@6.1", 60, Some(1), 1, Beats { every_ms: 60_000 }),
            ("aio-pika@6.8", 60, Some(1), 1, Beats { every_ms: 1000 }),
            ("lapin", 0, None, 0, Off),
            ("rabbitmq-c", 60, Some(4), 4, Starves),
        ];
        for &(spec, s, req, t, b) in rows {
            let row = client_spec(spec)
                .unwrap_or_else(|e| panic!("{spec}: {e}"))
                .row();
            let got = emulate(row, s, req);
            assert_eq!(
                (got.tune_ok_s, got.behaviour),
                (t, b),
                "{spec} S={s} C={req:?}"
            );
        }
    }
}
