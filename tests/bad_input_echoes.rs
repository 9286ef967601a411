//! Issue 24's rows for what the tool echoes back, end to end (the
//! redactor's own table is in src/target/redact/tests.rs): a password
//! beginning with `/` or `?` (item 1), a URL given to `proxy --upstream`
//! (item 10), targets files with junk, trailing words, a 900 kB line and
//! duplicates (item 12), a `?password=` query (item 14).

mod common;

use std::time::Duration;

const SECRET: &str = "S3cr3tPw";

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = common::amqpdoctor()
        .args(args)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp(name: &str, body: &[u8]) -> String {
    let p = std::env::temp_dir().join(format!("amqpdoctor-echo-{}-{name}", std::process::id()));
    std::fs::write(&p, body).unwrap();
    p.display().to_string()
}

#[test]
fn passwords_that_look_like_a_path_or_a_query_are_never_echoed() {
    for url in [
        "amqp://localhost:/S3cr3tPw@127.0.0.1:1",
        "amqp://localhost:?S3cr3tPw@127.0.0.1:1/",
        "amqp://guest:guest@127.0.0.1:1?password=S3cr3tPw",
    ] {
        for cmd in [
            &["probe", url, "--mode", "disabled", "--idle", "0s"][..],
            &["check", url],
            &["heartbeat", url],
        ] {
            let (code, out, err) = run(cmd);
            assert!(
                !out.contains(SECRET) && !err.contains(SECRET),
                "{cmd:?}: {out}{err}"
            );
            assert!(matches!(code, Some(1..=3)), "{cmd:?}: {code:?} {err}");
        }
    }
}

#[test]
fn proxy_refuses_a_url_as_upstream_without_echoing_it() {
    let (code, out, err) = run(&[
        "proxy",
        "--upstream",
        "amqp://guest:S3cr3tPw@127.0.0.1:5672",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(!out.contains(SECRET) && !err.contains(SECRET), "{err}");
    assert!(err.contains("HOST:PORT"), "{err}");
}

#[test]
fn targets_files_are_echoed_safely_and_bounded() {
    let junk = temp("junk", b"\x1b[31mjunk\x07\n");
    let (code, _, err) = run(&["check", "--targets-file", &junk]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{7}'),
        "raw escapes: {err:?}"
    );
    let words = temp(
        "words",
        b"amqp://guest:guest@127.0.0.1:5672 trailing words\n",
    );
    let (code, _, err) = run(&["check", "--targets-file", &words]);
    assert_eq!(code, Some(2), "trailing words are not a vhost: {err}");
    let long = temp(
        "long",
        format!(
            "amqp://guest:{SECRET}@127.0.0.1:5672/{}\n",
            "x".repeat(900_000)
        )
        .as_bytes(),
    );
    let (code, _, err) = run(&["check", "--targets-file", &long]);
    assert!(matches!(code, Some(1..=3)), "{err}");
    assert!(
        err.len() < 4096,
        "the 900 kB line is not echoed whole ({} bytes)",
        err.len()
    );
    assert!(!err.contains(SECRET));
}

#[test]
fn duplicate_targets_are_one_series() {
    common::require_broker();
    let url = common::broker_url();
    let url = url.trim_end_matches('/');
    let dups = temp("dups", format!("{url}\n{url}\n").as_bytes());
    let (_, out, err) = run(&["check", "--targets-file", &dups, "--format", "prometheus"]);
    assert_eq!(out.matches("amqpdoctor_check_up{").count(), 1, "{out}{err}");
}
