//! One file per subcommand. [`run`] dispatches.

pub mod completions;
pub mod explain;
pub mod heartbeat;
pub mod probe;

use crate::cli::{Cli, Command};
use crate::error::ExitStatus;

pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Probe(args) => probe::run(args),
        Command::Heartbeat(args) => heartbeat::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Completions { shell } => completions::run_completions(shell),
        Command::Man => completions::run_man(),
    }
}
