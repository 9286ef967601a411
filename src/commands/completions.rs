//! `amqpdoctor completions <shell>`: a shell completion script on stdout.
//!
//! Rendered from the clap command built by [`Cli::command`], so it cannot
//! drift from the real flags. The copies committed under `completions/` are
//! checked against [`completion_script`] by `tests/generated.rs`
//! (`AMQPDOCTOR_BLESS=1 cargo test --test generated` rewrites them).

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::ExitStatus;

/// The name completions are registered under: the installed binary's name.
pub const BIN_NAME: &str = "amqpdoctor";

/// The completion script for `shell`, as `amqpdoctor completions <shell>` prints it.
pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN_NAME, &mut out);
    out
}

pub fn run(shell: Shell) -> anyhow::Result<ExitStatus> {
    crate::report::emit(completion_script(shell))?;
    Ok(ExitStatus::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_shell_has_a_script_naming_the_binary() {
        for shell in Shell::value_variants() {
            let script = String::from_utf8(completion_script(*shell)).unwrap();
            assert!(script.contains(BIN_NAME), "{shell}");
            assert!(script.contains("probe"), "{shell}");
        }
    }
}
