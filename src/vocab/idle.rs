//! What `idle-timeout` learns from one of its connections: how long it
//! idled and what the path did to it.

use serde::Serialize;

use super::check::Millis;

/// What became of one idle connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Fate {
    /// The round trip after the idle came back: the path kept the flow.
    Survived,
    /// An RST: during the idle, or in answer to the round trip.
    Reset,
    /// A FIN (an orderly close) without a Connection.Close.
    Fin,
    /// The round trip was written but nothing came back in time: a blackhole.
    Silence,
    /// The broker sent Connection.Close: not the path's doing.
    BrokerClose,
    /// Something else went wrong (the connection could not be opened, or
    /// the server broke the protocol).
    Error,
    /// Not idled to the end: a shorter idle had already died, so this one
    /// could only repeat it (see `--wait-all`).
    Skipped,
    /// Ctrl-C came first.
    Interrupted,
}

impl Fate {
    /// The path (or the broker) ended the connection.
    pub fn is_casualty(self) -> bool {
        matches!(
            self,
            Fate::Reset | Fate::Fin | Fate::Silence | Fate::BrokerClose
        )
    }
}

/// One connection of an idle-timeout discovery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdleProbe {
    /// How long it was to stay idle.
    pub idle_ms: u64,
    pub fate: Fate,
    /// When it died on its own during the idle (an RST or FIN that came
    /// while it was silent), in ms of idle; null when it died only once it
    /// spoke, or not at all.
    pub died_at_ms: Option<u64>,
    /// How long the round trip (Channel.Open → Open-Ok) took, when it came back.
    pub round_trip_ms: Option<Millis>,
    /// The errno that reported the death (ECONNRESET, EPIPE, …).
    pub errno_name: Option<String>,
    /// The broker's reply code, for `broker_close`.
    pub reply_code: Option<u16>,
    /// What happened, in one line.
    pub detail: String,
}

impl IdleProbe {
    /// How long it had been idle when it was known dead: the moment the
    /// path killed it, when that was seen, else the end of its idle (the
    /// path had forgotten it by then).
    pub fn dead_after_ms(&self) -> Option<u64> {
        self.fate
            .is_casualty()
            .then(|| self.died_at_ms.unwrap_or(self.idle_ms).min(self.idle_ms))
    }
}
