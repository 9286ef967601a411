//! The committed completions and man page must match what the current CLI
//! generates. A flag added to `src/cli.rs` without regenerating fails here,
//! with the command that fixes it.
//!
//! `AMQPDOCTOR_BLESS=1 cargo test --test generated` rewrites the files
//! instead of comparing (and still fails nothing), so the fix is one command
//! followed by reviewing `git diff`.

use std::path::PathBuf;

use amqpdoctor::commands::completions::{completion_script, BIN_NAME};
use amqpdoctor::commands::man::man_page;
use clap::ValueEnum;
use clap_complete::{Generator, Shell};

const BLESS_HINT: &str = "AMQPDOCTOR_BLESS=1 cargo test --test generated";

/// Every generated artefact: its path in the repository and its contents now.
fn artefacts() -> Vec<(PathBuf, Vec<u8>)> {
    // Cargo also sets CARGO_MANIFEST_DIR when it runs the test. Prefer that:
    // a test binary reused from another checkout sharing the target dir
    // (same sources, so cargo does not rebuild it) would otherwise compare
    // that checkout's files.
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let root = root.as_path();
    let mut files: Vec<(PathBuf, Vec<u8>)> = Shell::value_variants()
        .iter()
        .map(|shell| {
            // clap_complete's conventional names: amqpdoctor.bash, _amqpdoctor
            // (zsh), amqpdoctor.fish, amqpdoctor.elv, _amqpdoctor.ps1.
            let path = root.join("completions").join(shell.file_name(BIN_NAME));
            (path, completion_script(*shell))
        })
        .collect();
    files.push((root.join("docs").join("amqpdoctor.1"), man_page()));
    files
}

fn blessing() -> bool {
    std::env::var_os("AMQPDOCTOR_BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

#[test]
fn generated_files_are_up_to_date() {
    let bless = blessing();
    let mut stale = Vec::new();
    for (path, want) in artefacts() {
        let have = std::fs::read(&path).ok();
        if have.as_deref() == Some(want.as_slice()) {
            continue;
        }
        if bless {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
            }
            std::fs::write(&path, &want)
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            eprintln!("blessed {}", path.display());
        } else {
            let why = match have {
                None => "missing".to_string(),
                Some(have) => first_difference(&have, &want),
            };
            stale.push(format!("  {}: {why}", path.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "generated files are out of date with the CLI:\n{}\n\
         Regenerate them with `{BLESS_HINT}` and commit the result.",
        stale.join("\n")
    );
}

/// Where two versions first differ, as a line number and both lines, so the
/// failure says what changed without dumping whole scripts.
fn first_difference(have: &[u8], want: &[u8]) -> String {
    let have = String::from_utf8_lossy(have);
    let want = String::from_utf8_lossy(want);
    let mut have_lines = have.lines();
    let mut want_lines = want.lines();
    for n in 1.. {
        match (have_lines.next(), want_lines.next()) {
            (Some(h), Some(w)) if h == w => continue,
            (None, None) => break,
            (h, w) => {
                return format!(
                    "differs at line {n}\n    committed: {}\n    generated: {}",
                    h.unwrap_or("<end of file>"),
                    w.unwrap_or("<end of file>")
                )
            }
        }
    }
    // Same lines, so only line endings or the final newline differ.
    "differs in line endings or the final newline".to_string()
}
