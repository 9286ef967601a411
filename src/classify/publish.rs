//! What became of each published message.

use serde::Serialize;

use crate::timeline::{PublishAttempt, Settled};

/// What became of one published message (contract values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    Confirmed,
    Nacked,
    Returned,
    /// The kernel accepted the write, but no confirm ever came.
    Lost,
    /// The write itself failed (errno).
    Failed,
    /// Written while the broker had the connection blocked (Connection.Blocked,
    /// a resource alarm) and never confirmed: pending, not lost.
    Blocked,
    Unknown,
}

impl Outcome {
    /// Whether the message certainly reached its destination.
    pub fn delivered(self) -> bool {
        self == Outcome::Confirmed
    }
}

/// Whether the write reached the kernel ("ok") or failed ("error").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteResult {
    Ok,
    Error,
}

/// One publish in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishReport {
    pub seq: u32,
    pub at_ms: u64,
    pub write: WriteResult,
    pub errno: Option<i32>,
    pub errno_name: Option<String>,
    pub outcome: Outcome,
}

/// Settle each publish's outcome. Without a confirm, a message whose write
/// succeeded is `lost` — unless the run was interrupted before we could
/// know (`unknown`).
pub fn publish_reports(attempts: &[PublishAttempt], interrupted: bool) -> Vec<PublishReport> {
    attempts
        .iter()
        .map(|a| {
            let (write, errno, errno_name) = match &a.write_error {
                Some((n, name)) => (WriteResult::Error, *n, Some(name.clone())),
                None => (WriteResult::Ok, None, None),
            };
            let outcome = match (&a.write_error, a.settled) {
                (Some(_), _) => Outcome::Failed,
                (None, Some(Settled::Returned)) => Outcome::Returned,
                (None, Some(Settled::Ack)) => Outcome::Confirmed,
                (None, Some(Settled::Nack)) => Outcome::Nacked,
                (None, None) if interrupted => Outcome::Unknown,
                (None, None) => Outcome::Lost,
            };
            PublishReport {
                seq: a.seq,
                at_ms: a.at_ms,
                write,
                errno,
                errno_name,
                outcome,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_outcomes() {
        let a = |write_error: Option<(Option<i32>, String)>, settled| PublishAttempt {
            seq: 1,
            at_ms: 0,
            write_error,
            settled,
        };
        let rows = [
            (a(None, Some(Settled::Ack)), false, Outcome::Confirmed),
            (a(None, Some(Settled::Returned)), false, Outcome::Returned),
            (a(None, Some(Settled::Nack)), false, Outcome::Nacked),
            (a(None, None), false, Outcome::Lost),
            (a(None, None), true, Outcome::Unknown),
            (
                a(Some((Some(104), "ECONNRESET".into())), None),
                false,
                Outcome::Failed,
            ),
        ];
        for (attempt, interrupted, want) in rows {
            let r = publish_reports(std::slice::from_ref(&attempt), interrupted);
            assert_eq!(r[0].outcome, want, "{attempt:?}");
            assert_eq!(
                r[0].write == WriteResult::Error,
                attempt.write_error.is_some()
            );
        }
        assert_eq!(Outcome::Lost.to_string(), "lost");
    }
}
