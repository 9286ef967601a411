//! One file per subcommand. [`run`] dispatches.

pub mod explain;

use crate::cli::{Cli, Command};
use crate::error::ExitStatus;

pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Probe(_) => anyhow::bail!("probe: not built yet"),
        Command::Heartbeat(_) => anyhow::bail!("heartbeat: not built yet"),
        Command::Explain(args) => explain::run(args),
        Command::Completions { .. } | Command::Man => anyhow::bail!("not built yet"),
    }
}
