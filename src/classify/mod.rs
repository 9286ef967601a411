//! Pure classification: a run's timeline plus the negotiated values in, a
//! [`Verdict`] out. No sockets here, and no prose outside [`narrate`].
//!
//! | file | concern |
//! |---|---|
//! | [`errno`] | what an errno means for a connection |
//! | [`end`] | how a connection ended, read off its timeline |
//! | [`publish`] | what became of each published message |
//! | [`predict`] | what a mode predicts for an idle and T |
//! | [`attribute`] | which hop ended it: the 2T–3T rule and the rest |
//! | [`setup`] | failures before the experiment (connect, login, vhost) |
//! | [`cadence`] | whether heartbeats came on time |
//! | [`check`] | `check`: failed steps classified, expectations judged |
//! | [`idle`] | `idle-timeout`: the idles to try, the bracket, the advice |
//! | [`scan`] | `scan`: T from the broker's beats, starving, heartbeats off, dead |
//! | [`logs`] | `logs`: broker log lines into connection lifecycles, causes, patterns |
//! | [`audit`] | `audit`: the broker's records flagged, the library named, joined with a scan |
//! | [`fault`] | the broker's own reasons: alarms, operator close, shutdown, limits, consumer timeout |
//! | [`narrate`] | every sentence: predictions, summaries, explanations, remedies |

pub mod attribute;
pub(crate) mod audit;
pub(crate) mod cadence;
pub(crate) mod check;
pub mod end;
pub(crate) mod errno;
pub(crate) mod fault;
pub(crate) mod idle;
pub(crate) mod logs;
pub mod narrate;
pub(crate) mod predict;
pub(crate) mod publish;
pub(crate) mod scan;
pub(crate) mod setup;

use serde::Serialize;

pub use attribute::{attribute, RunFacts};
pub use cadence::{cadence, Cadence};
pub use end::{end_of, End, EndKind, SeenBy};
pub use errno::ErrnoClass;
pub use predict::{predict, Prediction};
pub use publish::{publish_reports, Outcome, PublishReport, WriteResult};
pub use setup::{setup_code, SetupFailure};

use crate::vocab::VerdictCode;

/// The classifier's conclusion for one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub code: VerdictCode,
    /// Whether this ending is what the mode predicts for this idle and T.
    pub expected: bool,
    pub prediction: Prediction,
    pub prediction_text: String,
    pub summary: String,
    pub explanation: String,
    pub remedy: String,
}

/// Classify one run: verdict code, whether it was predicted, and the words.
pub fn verdict(f: &RunFacts) -> Verdict {
    let code = attribute(f);
    let prediction = predict(f.mode, f.heartbeat, f.idle_ms, f.pump_every_ms);
    let expected = f.interrupted && code == VerdictCode::Healthy || prediction.admits(code);
    let words = fault::words(f, code).unwrap_or_else(|| narrate::words(f, code));
    Verdict {
        code,
        expected,
        prediction,
        prediction_text: narrate::prediction_text(f.mode, f.heartbeat, f.idle_ms, f.pump_every_ms),
        summary: words.summary,
        explanation: words.explanation,
        remedy: words.remedy,
    }
}

/// The verdict for a run that could not start its experiment.
pub fn setup_verdict(f: &SetupFailure) -> Verdict {
    let mut words = narrate::setup_words(f);
    if f.code == VerdictCode::ConnectionLimit {
        words.remedy = fault::limit_remedy();
    }
    Verdict {
        code: f.code,
        expected: false,
        prediction: Prediction::Healthy,
        prediction_text: "no prediction: the experiment could not start".into(),
        summary: words.summary,
        explanation: words.explanation,
        remedy: words.remedy,
    }
}
