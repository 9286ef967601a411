//! The command line as a user meets it, without a broker: help and version
//! succeed, bad input exits 2 with the reason on stderr and nothing on
//! stdout (stdout is for results; a script piping `--format json` must never
//! read an error as a document), and passwords never leak into errors.

mod common;

use std::time::Duration;

use common::amqpdoctor;
use common::run::json_of;
use predicates::prelude::*;

/// Every bad-input case must fail before any network step; if one ever
/// tries to connect, fail it instead of hanging the suite.
const NO_NETWORK_TIMEOUT: Duration = Duration::from_secs(30);

/// Run amqpdoctor with `args`, expect exit 2, something on stderr and an
/// empty stdout; return stderr for further checks.
fn usage_error(args: &[&str]) -> String {
    let out = amqpdoctor()
        .args(args)
        .timeout(NO_NETWORK_TIMEOUT)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.trim().is_empty(),
        "`amqpdoctor {}`: stderr should say what was wrong",
        args.join(" ")
    );
    stderr
}

/// A usage error whose stderr starts with an error line (clap's `error:`
/// or main's `amqpdoctor: error:`), not just a help screen.
fn usage_error_message(args: &[&str]) -> String {
    let stderr = usage_error(args);
    assert!(
        stderr.contains("error:"),
        "`amqpdoctor {}`: stderr should carry an error line, got: {stderr}",
        args.join(" ")
    );
    stderr
}

#[test]
fn top_level_help_lists_commands_and_exit_codes() {
    amqpdoctor().arg("--help").assert().success().stdout(
        predicate::str::contains("probe")
            .and(predicate::str::contains("heartbeat"))
            .and(predicate::str::contains("explain"))
            .and(predicate::str::contains("completions"))
            .and(predicate::str::contains("Exit codes")),
    );
}

#[test]
fn probe_help_mentions_key_flags() {
    let out = amqpdoctor().args(["probe", "--help"]).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for flag in [
        "--idle",
        "--mode",
        "--heartbeat",
        "--pump-every",
        "--client",
        "--publishes",
        "--confirm-timeout",
        "--format",
    ] {
        assert!(
            stdout.contains(flag),
            "probe --help lacks {flag}:\n{stdout}"
        );
    }
}

#[test]
fn version_names_the_tool_and_crate_version() {
    amqpdoctor()
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("amqpdoctor {}\n", env!("CARGO_PKG_VERSION")));
}

/// clap answers a missing subcommand with the help text on stderr.
#[test]
fn no_subcommand_is_a_usage_error() {
    let stderr = usage_error(&[]);
    assert!(stderr.contains("Usage:"), "{stderr}");
}

#[test]
fn idle_must_be_a_duration() {
    let stderr = usage_error_message(&["probe", "--idle", "soon"]);
    assert!(stderr.contains("--idle"), "{stderr}");
    assert!(stderr.contains("soon"), "{stderr}");
}

#[test]
fn heartbeat_must_be_whole_seconds() {
    let stderr = usage_error_message(&["probe", "--heartbeat", "1500ms"]);
    assert!(stderr.contains("--heartbeat"), "{stderr}");
    assert!(stderr.contains("whole seconds"), "{stderr}");
}

#[test]
fn mode_must_be_known() {
    let stderr = usage_error_message(&["probe", "--mode", "bogus"]);
    assert!(stderr.contains("bogus"), "{stderr}");
    assert!(
        stderr.contains("starved"),
        "should list the modes: {stderr}"
    );
}

#[test]
fn publishes_must_not_be_negative() {
    // `--publishes -1`: clap reads `-1` as an unknown flag, not as a value,
    // so only `=` gets an error that names --publishes.
    usage_error_message(&["probe", "--publishes", "-1"]);
    let stderr = usage_error_message(&["probe", "--publishes=-1"]);
    assert!(stderr.contains("--publishes"), "{stderr}");
}

/// Needs `probe` to parse its URL before connecting (exit 2 via
/// `TargetError`); until probe is wired it exits 3 "not built yet".
#[test]
fn malformed_url_is_a_usage_error_without_the_password() {
    let stderr = usage_error_message(&["probe", "amqp://u:secret-pw@h:notaport/"]);
    assert!(!stderr.contains("secret-pw"), "password leaked: {stderr}");
}

/// Same dependency on `probe` as above.
#[test]
fn non_amqp_scheme_is_a_usage_error() {
    let stderr = usage_error_message(&["probe", "http://h/"]);
    assert!(stderr.contains("http"), "should name the scheme: {stderr}");
}

#[test]
fn completions_print_a_script() {
    let out = amqpdoctor()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
    let stdout = &out.get_output().stdout;
    assert!(
        String::from_utf8_lossy(stdout).contains("complete -F"),
        "not a bash completion script"
    );
    // The binary prints exactly what the library generates (and what
    // tests/generated.rs compares with the committed files).
    assert_eq!(
        stdout,
        &amqpdoctor::commands::completions::completion_script(clap_complete::Shell::Bash)
    );
}

#[test]
fn completions_for_an_unknown_shell_is_a_usage_error() {
    usage_error_message(&["completions", "tcsh"]);
}

#[test]
fn man_prints_the_man_page() {
    let out = amqpdoctor().arg("man").assert().success();
    assert_eq!(
        out.get_output().stdout,
        amqpdoctor::commands::man::man_page()
    );
}

#[test]
fn explain_list_prints_every_kind_without_a_topic() {
    let out = amqpdoctor()
        .args(["explain", "--list", "--color", "never"])
        .timeout(NO_NETWORK_TIMEOUT)
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for want in [
        "\nErrno names",
        "\n  ECONNRESET ",
        "\nAMQP reply codes",
        "\n  320 ",
        "\nClient libraries",
        "\n  pika-blocking ",
        "\nVerdict codes",
        "\n  broker_heartbeat_timeout ",
        "\nEOF and other",
        "\n  EOF ",
        "\nLog lines",
        "\n  rabbitmq_missed_heartbeats ",
    ] {
        assert!(stdout.contains(want), "missing {want:?}:\n{stdout}");
    }
}

#[test]
fn explain_list_json_is_one_document() {
    let out = amqpdoctor()
        .args(["explain", "--list", "--format", "json"])
        .timeout(NO_NETWORK_TIMEOUT)
        .assert()
        .success();
    let doc = json_of(out.get_output());
    assert_eq!(doc["tool"], "amqpdoctor");
    assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["command"], "explain");
    for kind in [
        "errno",
        "reply_code",
        "client",
        "verdict",
        "eof",
        "log_line",
    ] {
        let topics = doc["list"][kind].as_array().map_or(0, Vec::len);
        assert!(topics > 0, "list.{kind} is empty: {doc:#}");
    }
    assert_eq!(doc["list"]["errno"][0]["topic"], "ECONNRESET");
}

#[test]
fn explain_list_with_a_topic_is_a_usage_error() {
    let stderr = usage_error_message(&["explain", "--list", "104"]);
    assert!(stderr.contains("--list"), "{stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    // Neither is an error too: TOPIC is only optional with --list.
    usage_error_message(&["explain"]);
}

#[test]
fn explain_suggestions_point_at_the_list() {
    let stderr = usage_error_message(&["explain", "ECONRESET"]);
    assert!(
        stderr.contains("nearest known topics: ECONNRESET"),
        "{stderr}"
    );
    assert!(
        stderr.contains("(`amqpdoctor explain --list` shows them all)"),
        "{stderr}"
    );
}

/// The lines a pika user pastes, as a new user tried them: each is
/// explained (exit 0), says what it recognised, and adds the library's
/// remedy when the line names the library.
#[test]
fn explain_reads_the_lines_users_paste() {
    // (argument, text the answer must contain)
    let rows: &[(&str, &str)] = &[
        ("Socket Error: 104", "ECONNRESET (errno 104)"),
        (
            "ERROR:pika.adapters.base_connection:Socket Error: 104",
            "Your library: pika, BlockingConnection 0.12–0.13",
        ),
        ("error 104", "ECONNRESET (errno 104)"),
        ("heartbeat", "AMQP heartbeats"),
        ("AMQPHeartbeatTimeout", "pika's own heartbeat check"),
        ("pika@0.11.0", "client library pika-blocking@0.11.0"),
        ("pika", "Across versions"),
    ];
    for &(arg, want) in rows {
        amqpdoctor()
            .args(["explain", arg, "--color", "never"])
            .timeout(NO_NETWORK_TIMEOUT)
            .assert()
            .code(0)
            .stdout(predicate::str::contains(want))
            .stdout(
                predicate::str::contains("Sources")
                    .or(predicate::str::contains("Where this line comes from")),
            );
    }
}

#[test]
fn an_unknown_library_version_is_a_usage_error_naming_the_known_ones() {
    let stderr = usage_error_message(&["heartbeat", "--client", "pika@0.9"]);
    assert!(
        stderr.contains("0.10") && stderr.contains("≥ 1.0"),
        "{stderr}"
    );
    let stderr = usage_error_message(&["heartbeat", "--client", "nosuchlib"]);
    assert!(
        stderr.contains("known libraries: pika-blocking"),
        "{stderr}"
    );
}

/// A pasted line that carries a connection URL keeps its password out of
/// every output: the echo, the JSON `query`, and the unknown-topic error.
#[test]
fn explain_never_echoes_a_password_from_a_pasted_line() {
    let secret = "s3cr3t-Pw";
    let line =
        format!("pika connect amqp://bob:{secret}@host:5672/ failed: Connection reset by peer");
    for format in ["human", "json"] {
        let out = amqpdoctor()
            .args(["explain", &line, "--format", format])
            .timeout(NO_NETWORK_TIMEOUT)
            .assert()
            .code(0)
            .get_output()
            .clone();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(secret), "{format}: {all}");
        assert!(all.contains("amqp://bob:***@host:5672/"), "{format}: {all}");
    }
    let stderr = usage_error_message(&["explain", &format!("amqp://bob:{secret}@h zzqx")]);
    assert!(!stderr.contains(secret), "{stderr}");
}

/// clap echoes an argument it cannot place; a password in it is hidden
/// like everywhere else (issue 24's one redactor for every echoed text).
#[test]
fn usage_errors_echo_no_password() {
    for args in [
        &["explain", "--pw S3cr3tPw ECONNRESET"][..],
        &["probe", "--bogus", "amqp://u:S3cr3tPw@h"],
        &["check", "amqp://u:S3cr3tPw@h", "--expect-heartbeat", "soon"],
    ] {
        let out = common::amqpdoctor().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("S3cr3tPw"), "{args:?}: {err}");
    }
}
