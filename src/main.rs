//! Thin entry point: parse, run, print the error once, map to an exit code.

use std::process::ExitCode;

use amqpdoctor::{cli::Cli, commands, error};
use clap::Parser;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(&e),
    };
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(err) => {
            // Printed once, here; never a panic, even on a closed stderr.
            amqpdoctor::report::notice(&format!("error: {err:#}"));
            error::exit_status_for(&err).into()
        }
    }
}

/// `--help`, `--version` and clap's usage errors. clap's own `exit()` drops
/// a failed write (`--help > /dev/full` would exit 0); here a help or
/// version text that cannot be written fails like every other output.
fn clap_exit(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if !matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        // A usage error goes to stderr; clap exits 2 for it. clap echoes
        // the argument it could not place (`unexpected argument '--pw S3cr3t'`):
        // through the redactor first, so no password is shown.
        use std::io::Write;
        let text = amqpdoctor::target::redact::redact_text(&e.render().to_string());
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
        return error::ExitStatus::Usage.into();
    }
    use std::io::Write;
    match e.print().and_then(|()| std::io::stdout().flush()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            amqpdoctor::report::notice(&format!("error: writing the help to stdout: {err}"));
            error::ExitStatus::CannotDiagnose.into()
        }
        _ => ExitCode::SUCCESS,
    }
}
