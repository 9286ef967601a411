//! Exit codes and the errors that choose them.
//!
//! Commands return `anyhow::Result<ExitStatus>`. A returned status is a
//! diagnosis (0 as predicted, 1 a fault); an error is printed once by `main`
//! and mapped here: [`UsageError`] exits 2, anything else exits 3 (the tool
//! could not do its job).

use std::process::ExitCode;

use serde::{Serialize, Serializer};
use thiserror::Error;

/// What a finished command concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Every run ended as its mode predicts / every check passed.
    Ok = 0,
    /// A liveness fault was found.
    Fault = 1,
    /// Usage or bad input.
    Usage = 2,
    /// The tool could not do its job: no diagnosis.
    CannotDiagnose = 3,
    /// Interrupted by Ctrl-C; a partial report was printed.
    Interrupted = 130,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// As the number the process exits with (the reports' `exit_code`).
impl Serialize for ExitStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        ExitCode::from(s as u8)
    }
}

/// Bad input that clap could not catch (a malformed URL, an unknown topic).
#[derive(Debug, Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Ctrl-C came before anything worth reporting was learned.
#[derive(Debug, Error)]
#[error("interrupted {0}")]
pub struct Interrupted(pub &'static str);

/// The exit status for an error that reached `main`.
pub fn exit_status_for(err: &anyhow::Error) -> ExitStatus {
    if err
        .chain()
        .any(|e| e.is::<UsageError>() || e.is::<crate::target::TargetError>())
    {
        ExitStatus::Usage
    } else if err.chain().any(|e| e.is::<Interrupted>()) {
        ExitStatus::Interrupted
    } else {
        ExitStatus::CannotDiagnose
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in [
            ExitStatus::Ok,
            ExitStatus::Fault,
            ExitStatus::Usage,
            ExitStatus::CannotDiagnose,
            ExitStatus::Interrupted,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.code());
        }
        let usage = anyhow::Error::new(UsageError("x".into()));
        assert_eq!(exit_status_for(&usage), ExitStatus::Usage);
        assert_eq!(
            exit_status_for(&anyhow::anyhow!("io")),
            ExitStatus::CannotDiagnose
        );
    }
}
