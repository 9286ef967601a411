//! Exit codes and the errors that choose them.
//!
//! Commands return `anyhow::Result<ExitStatus>`. A returned status is a
//! diagnosis (0 as predicted, 1 a fault); an error is printed once by `main`
//! and mapped here: [`UsageError`] exits 2, anything else exits 3 (the tool
//! could not do its job).

use std::process::ExitCode;

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
    /// The status a report's `exit_code` stands for.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => ExitStatus::Ok,
            1 => ExitStatus::Fault,
            2 => ExitStatus::Usage,
            130 => ExitStatus::Interrupted,
            _ => ExitStatus::CannotDiagnose,
        }
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

/// The exit status for an error that reached `main`.
pub fn exit_status_for(err: &anyhow::Error) -> ExitStatus {
    if err
        .chain()
        .any(|e| e.is::<UsageError>() || e.is::<crate::target::TargetError>())
    {
        ExitStatus::Usage
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
            assert_eq!(ExitStatus::from_code(s as u8), s);
        }
        let usage = anyhow::Error::new(UsageError("x".into()));
        assert_eq!(exit_status_for(&usage), ExitStatus::Usage);
        assert_eq!(
            exit_status_for(&anyhow::anyhow!("io")),
            ExitStatus::CannotDiagnose
        );
    }
}
