//! The one fixture check of the integration tests: what `bash .ci/broker`
//! sets up (the broker, its TLS listener and management API, the second
//! broker, `.ci/.venv` with the Python packages of `.ci/requirements.txt`)
//! and what to say when a piece is missing.
//!
//! A missing fixture ends the whole test binary at once with ONE line on
//! stderr naming what is missing and the command that sets it up, then
//! `std::process::exit(1)`. Why not a panic: every test of the binary that
//! needs the fixture would panic on its own (a cascade of the same
//! failure), each with libtest's "thread panicked" preamble and, under
//! `RUST_BACKTRACE`, a backtrace before the useful line. A panic hook could
//! hide the backtrace but not the cascade. The line is written to the
//! process's stderr directly (`io::stderr().write_all`), which libtest's
//! output capture (it captures `print!`/`eprint!` only) does not swallow.
//! Never a skip: a suite that passes without its fixtures proves nothing.
//!
//! Overrides: `AMQPDOCTOR_TEST_PYTHON` (a Python with the packages of
//! `.ci/requirements.txt`, instead of `.ci/.venv/bin/python`),
//! `AMQPDOCTOR_TEST_TLS_DIR` (instead of `.ci/.tls`).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The command that sets up every fixture (README's quick start).
pub const SETUP: &str = "bash .ci/broker";

/// Print `amqpdoctor tests: missing WHAT; run ...` as one line and end the
/// test binary with status 1.
pub fn missing(what: &str) -> ! {
    missing_with(what, SETUP)
}

/// [`missing`], naming another setup command (`bash .ci/faults-node` for
/// the broker-fault tests' private node).
pub fn missing_with(what: &str, setup: &str) -> ! {
    let what = what.split_whitespace().collect::<Vec<_>>().join(" ");
    let line = format!("\namqpdoctor tests: missing {what}; run `{setup}` to set it up\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    std::process::exit(1);
}

/// `check` once per test binary (under `lock`); [`missing`] with `what`
/// and the reason when it fails.
pub fn require(
    lock: &'static OnceLock<Result<(), String>>,
    what: &str,
    check: impl FnOnce() -> Result<(), String>,
) {
    if let Err(why) = lock.get_or_init(check) {
        missing(&format!("{what} ({why})"));
    }
}

fn root() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

/// The Python the tests run their real clients and consumers with:
/// `$AMQPDOCTOR_TEST_PYTHON`, else `.ci/.venv/bin/python`; checked once to
/// import every package of `.ci/requirements.txt`.
pub fn python() -> PathBuf {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let path = std::env::var_os("AMQPDOCTOR_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(root()).join(".ci/.venv/bin/python"));
    require(
        &CHECK,
        &format!("the tests' Python {}", path.display()),
        || {
            let out = Command::new(&path)
                .args([
                    "-c",
                    "import pika, xmlschema, prometheus_client, kubernetes_validate, yaml, \
                     amqplib.client_0_8",
                ])
                .output()
                .map_err(|e| format!("cannot run it: {e}"))?;
            if out.status.success() {
                return Ok(());
            }
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().last().unwrap_or("no message");
            Err(format!(
                "it lacks a package of .ci/requirements.txt: {last}"
            ))
        },
    );
    path
}

/// `python -c SCRIPT` with `input` on stdin: its stdout. Fails the test
/// (with Python's stderr) when the script fails.
pub fn run_python(script: &str, input: &str) -> String {
    let python = python();
    let mut child = Command::new(&python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", python.display()));
    // A script that exits before reading all of stdin is not an error here.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python failed:\n{stderr}\ninput:\n{input}"
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Validate JUnit XML against Jenkins' schema (`tests/data/junit-10.xsd`)
/// with Python's xmlschema.
pub fn validate_junit(xml: &str) {
    let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/junit-10.xsd");
    let script = format!(
        "import sys, xmlschema\nxmlschema.XMLSchema({xsd:?}).validate(sys.stdin.read())\nprint('valid')"
    );
    assert_eq!(run_python(&script, xml).trim(), "valid", "{xml}");
}

/// A file of the TLS tests' certificates (`.ci/.tls/NAME`, or
/// `$AMQPDOCTOR_TEST_TLS_DIR/NAME`).
pub fn tls_file(name: &str) -> String {
    let dir = std::env::var_os("AMQPDOCTOR_TEST_TLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(root()).join(".ci/.tls"));
    let p = dir.join(name);
    if !p.exists() {
        missing(&format!(
            "the TLS test certificate {} (and the RabbitMQ TLS listener on 127.0.0.1:5671)",
            p.display()
        ));
    }
    p.display().to_string()
}

/// Mono's RabbitMQ.Client as Debian installs it (`libmono-rabbitmq4.0-cil`).
pub const MONO_RABBITMQ_DLL: &str =
    "/usr/lib/mono/gac/RabbitMQ.Client/4.0.0.0__b03f5f7f11d50a3a/RabbitMQ.Client.dll";

/// `tests/clients/mono_app.cs` compiled once per test binary with `mcs`
/// against Mono's RabbitMQ.Client: the path of the program, to run with
/// `mono`.
pub fn mono_app() -> PathBuf {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let exe = std::env::temp_dir().join(format!("amqpdoctor-mono-app-{}.exe", std::process::id()));
    require(&CHECK, "Mono (mono, mcs) and its RabbitMQ.Client", || {
        if !std::path::Path::new(MONO_RABBITMQ_DLL).is_file() {
            return Err(format!("{MONO_RABBITMQ_DLL} is not there"));
        }
        let out = Command::new("mcs")
            .arg(format!("-out:{}", exe.display()))
            .arg(format!("-r:{MONO_RABBITMQ_DLL}"))
            .arg(format!("{}/tests/clients/mono_app.cs", root()))
            .output()
            .map_err(|e| format!("cannot run mcs: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "mcs failed: {}",
                String::from_utf8_lossy(&out.stdout).trim()
            ))
        }
    });
    exe
}
