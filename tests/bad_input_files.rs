//! Issue 24 item 6: a FIFO or a never-closing pipe given as an input file
//! (`--password-file`, `--targets-file`, `audit --join`, `audit
//! --password-file`) must not hang: one line naming the file, exit 2; a
//! writer that gives the password's line and stays open (`--password-file
//! <(echo pw; sleep 30)`) is read at once.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn fifo(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("amqpdoctor-fifo-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&p);
    assert!(Command::new("mkfifo").arg(&p).status().unwrap().success());
    p
}

/// Opens `p` for writing, writes `text`, and holds it open for `hold`.
fn writer(p: &std::path::Path, text: &'static str, hold: Duration) -> std::thread::JoinHandle<()> {
    let p = p.to_path_buf();
    std::thread::spawn(move || {
        // Blocks until the reader opens; give up if it never does.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            if let Ok(mut w) = std::fs::OpenOptions::new().write(true).open(&p) {
                let _ = std::io::Write::write_all(&mut w, text.as_bytes());
                let _ = tx.send(());
                std::thread::sleep(hold);
            }
        });
        let _ = rx.recv_timeout(Duration::from_secs(20));
    })
}

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = common::amqpdoctor()
        .args(args)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn fifos_nobody_writes_are_one_line_and_exit_2() {
    let mgmt = format!(
        "http://127.0.0.1:{}",
        std::env::var("AMQPDOCTOR_CI_MANAGEMENT_PORT").unwrap_or_else(|_| "15672".into())
    );
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "probe --password-file",
            vec![
                "probe".into(),
                "--mode".into(),
                "disabled".into(),
                "--idle".into(),
                "0s".into(),
                "--password-file".into(),
            ],
        ),
        (
            "check --password-file",
            vec!["check".into(), "--password-file".into()],
        ),
        (
            "check --targets-file",
            vec!["check".into(), "--targets-file".into()],
        ),
        (
            "audit --password-file",
            vec![
                "audit".into(),
                "--management".into(),
                mgmt.clone(),
                "--password-file".into(),
            ],
        ),
        (
            "audit --join",
            vec![
                "audit".into(),
                "--management".into(),
                mgmt.clone(),
                "--join".into(),
            ],
        ),
    ];
    for (i, (name, mut args)) in cases.into_iter().enumerate() {
        let f = fifo(&format!("never-{i}"));
        args.push(f.display().to_string());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, err) = run(&refs);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains("FIFO"), "{name}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{name}: one line: {err}");
        let _ = std::fs::remove_file(&f);
    }
}

#[test]
fn a_fifo_that_never_closes_is_refused_and_a_password_line_is_enough() {
    common::require_broker();
    // A targets file whose writer never closes: refused after the wait.
    let f = fifo("open-targets");
    let w = writer(
        &f,
        "amqp://guest:guest@127.0.0.1:5672\n",
        Duration::from_secs(5),
    );
    let (code, err) = run(&["check", "--targets-file", &f.display().to_string()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("did not finish"), "{err}");
    drop(w);
    // The password's line from a writer that stays open: read at once.
    let f = fifo("open-password");
    let _w = writer(&f, "guest\n", Duration::from_secs(5));
    let (code, err) = run(&[
        "probe",
        &common::broker_url().replace("guest:guest@", "guest@"),
        "--mode",
        "disabled",
        "--idle",
        "0s",
        "--password-file",
        &f.display().to_string(),
    ]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_junit_fifo_nobody_reads_does_not_hold_check() {
    common::require_broker();
    let f = fifo("junit");
    let (code, err) = run(&[
        "check",
        &common::broker_url(),
        "--junit",
        &f.display().to_string(),
    ]);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("nobody reads"), "{err}");
    let _ = std::fs::remove_file(&f);
}
