//! Thin entry point: parse, run, print the error once, map to an exit code.

use std::process::ExitCode;

use amqpdoctor::{cli::Cli, commands, error};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(err) => {
            // Printed once, here; never a panic, even on a closed stderr.
            amqpdoctor::report::notice(&format!("error: {err:#}"));
            error::exit_status_for(&err).into()
        }
    }
}
