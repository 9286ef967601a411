//! The output-format seam, end to end: every command that has `--format`
//! runs against the real broker in every format its `--help` offers, and
//! each output is what that format promises (a JSON document, valid JUnit,
//! a Markdown table, Prometheus samples, words). The command × format pairs
//! come from the command line itself, so a format offered but not rendered
//! (`report::format::Render`) fails here, and a new command with `--format`
//! fails until it has a row in `ARGS`.

mod common;

use std::time::Duration;

use amqpdoctor::cli::Cli;
use clap::CommandFactory;
use common::fixture::validate_junit;
use common::{amqpdoctor, broker_url, require_broker};

/// How each command runs quickly against the test broker (`{url}` is the
/// broker's URL, `{mgmt}` its management API, `{ca}` the TLS tests' CA).
const ARGS: &[(&str, &[&str])] = &[
    ("probe", &["{url}", "--mode", "disabled", "--idle", "0s"]),
    ("heartbeat", &["{url}"]),
    ("check", &["{url}"]),
    (
        "idle-timeout",
        &["{url}", "--max", "2s", "--min", "1s", "--probes", "2"],
    ),
    ("scan", &[]),
    ("audit", &["--management", "{mgmt}"]),
    ("explain", &["ECONNRESET"]),
    // The local broker's own log (tests/logs.rs checks what it finds).
    ("logs", &["/var/log/rabbitmq"]),
    (
        "tls",
        &["amqps://guest:guest@localhost:5671/%2f", "--cacert", "{ca}"],
    ),
];

/// Every (command, format) the command line offers.
fn offered() -> Vec<(String, String)> {
    let cli = Cli::command();
    let mut pairs = Vec::new();
    for sub in cli.get_subcommands() {
        let Some(arg) = sub.get_arguments().find(|a| a.get_id() == "format") else {
            continue;
        };
        for v in arg.get_possible_values() {
            pairs.push((sub.get_name().to_string(), v.get_name().to_string()));
        }
    }
    pairs
}

fn management_url() -> String {
    common::management::url()
}

/// What `format` promises, checked on `out`.
fn assert_is(format: &str, what: &str, out: &str) {
    match format {
        "human" => assert!(!out.trim().is_empty(), "{what}: no words"),
        "json" => {
            let doc: serde_json::Value = serde_json::from_str(out)
                .unwrap_or_else(|e| panic!("{what}: not one JSON document ({e}):\n{out}"));
            assert_eq!(doc["tool"], "amqpdoctor", "{what}: {out}");
        }
        "junit" => validate_junit(out),
        // A heading, then a table when there are rows to show.
        "markdown" => assert!(
            out.lines()
                .next()
                .is_some_and(|l| l.starts_with('#') || l.starts_with('|')),
            "{what}: neither a Markdown heading nor a table first:\n{out}"
        ),
        "prometheus" => {
            let samples = out.lines().filter(|l| !l.starts_with('#') && !l.is_empty());
            let mut n = 0;
            for line in samples {
                n += 1;
                let value = line.rsplit(' ').next().unwrap_or("");
                assert!(
                    value.parse::<f64>().is_ok(),
                    "{what}: not a sample line: {line:?}"
                );
            }
            assert!(n > 0, "{what}: no samples:\n{out}");
        }
        other => panic!("{what}: tests/formats.rs does not know the format {other}: add it"),
    }
}

#[test]
fn every_command_renders_every_format_it_offers() {
    require_broker();
    let pairs = offered();
    assert!(pairs.len() >= 20, "too few pairs found: {pairs:?}");
    for (command, _) in &pairs {
        assert!(
            ARGS.iter().any(|(c, _)| c == command),
            "`{command}` has --format but no row in tests/formats.rs ARGS"
        );
    }
    let (url, mgmt) = (broker_url(), management_url());
    let ca = common::fixture::tls_file("ca.pem");
    let failures: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = pairs
            .iter()
            .map(|(command, format)| {
                let (url, mgmt, ca) = (&url, &mgmt, &ca);
                s.spawn(move || {
                    let args = ARGS
                        .iter()
                        .find(|(c, _)| c == command)
                        .map_or(&[][..], |r| r.1);
                    let mut cmd = amqpdoctor();
                    cmd.arg(command).timeout(Duration::from_secs(60));
                    for a in args {
                        cmd.arg(
                            a.replace("{url}", url)
                                .replace("{mgmt}", mgmt)
                                .replace("{ca}", ca),
                        );
                    }
                    let out = cmd
                        .args(["--format", format])
                        .output()
                        .expect("running amqpdoctor");
                    let what = format!("amqpdoctor {command} --format {format}");
                    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    match out.status.code() {
                        Some(0 | 1) => {}
                        code => {
                            return Err(format!("{what}: exit {code:?}\n{stderr}"));
                        }
                    }
                    std::panic::catch_unwind(|| assert_is(format, &what, &stdout))
                        .map_err(|_| format!("{what}: output is not {format} (above)"))
                })
            })
            .collect();
        runs.into_iter()
            .filter_map(|h| h.join().expect("a runner thread").err())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
