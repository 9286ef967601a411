//! Bad TLS files (issue 19 item 6): `--cacert`, `--cert` and `--key` given
//! a directory, a FIFO nobody writes to, a device, a 1 GB file, binary
//! junk, a PEM with no certificate, a key that is not the certificate's.
//! Each is one line on stderr naming the flag and the file, exit 2, before
//! anything connects (the target is a closed port), never a hang (each run
//! is killed after 10 s), never the password.
// The test harness's own libc calls (mkfifo, kill, wait4, geteuid), each
// with its reason beside it; the crate denies unsafe code elsewhere.
#![allow(unsafe_code)]

mod common;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fixture::tls_file;

const SECRET: &str = "S3cr3tPw";

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("amqpdoctor-bad-tls-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run amqpdoctor with ARGS; killed after 10 s. Exit code and stderr.
fn run(args: &[String]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_amqpdoctor"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    (status, err)
}

#[test]
fn bad_tls_files_are_one_line_and_exit_2() {
    let d = dir();
    let fifo = d.join("fifo.pem");
    let _ = std::fs::remove_file(&fifo);
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo has no other effect.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0, "mkfifo");
    let big = d.join("big.pem");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let junk = d.join("junk.pem");
    std::fs::write(
        &junk,
        (0..4096u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let (ca, cert, key, other_key) = (
        tls_file("ca.pem"),
        tls_file("client.pem"),
        tls_file("client.key"),
        tls_file("server.key"),
    );
    let s = |p: &PathBuf| p.display().to_string();
    let tmp = std::env::temp_dir().display().to_string();
    // (flags, stderr contains)
    let rows: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--cacert".into(), tmp.clone()],
            "is a directory, not a PEM file",
        ),
        (vec!["--cacert".into(), s(&fifo)], "is a FIFO (named pipe)"),
        (
            vec!["--cacert".into(), "/dev/zero".into()],
            "is a device, not a PEM file",
        ),
        (
            vec!["--cacert".into(), s(&big)],
            "1073741824 bytes, larger than",
        ),
        (
            vec!["--cacert".into(), s(&junk)],
            "holds no PEM certificate",
        ),
        (
            vec!["--cacert".into(), key.clone()],
            "holds no PEM certificate",
        ),
        (
            vec![
                "--cacert".into(),
                ca.clone(),
                "--cert".into(),
                cert.clone(),
                "--key".into(),
                other_key,
            ],
            "is not the key of this certificate",
        ),
        (
            vec![
                "--cacert".into(),
                ca.clone(),
                "--cert".into(),
                cert.clone(),
                "--key".into(),
                s(&junk),
            ],
            "--key",
        ),
        (
            vec![
                "--cacert".into(),
                ca.clone(),
                "--cert".into(),
                s(&fifo),
                "--key".into(),
                key.clone(),
            ],
            "is a FIFO (named pipe)",
        ),
        (
            vec![
                "--cacert".into(),
                ca.clone(),
                "--cert".into(),
                cert.clone(),
                "--key".into(),
                "/dev/zero".into(),
            ],
            "is a device",
        ),
        (
            vec![
                "--cacert".into(),
                ca.clone(),
                "--cert".into(),
                tmp.clone(),
                "--key".into(),
                key.clone(),
            ],
            "--cert",
        ),
    ];
    let url = format!("amqps://guest:{SECRET}@127.0.0.1:1/%2f");
    for (flags, says) in &rows {
        for command in ["probe", "check", "heartbeat"] {
            let mut args = vec![command.to_string(), url.clone()];
            args.extend(flags.iter().cloned());
            let (code, err) = run(&args);
            let shown = format!("{command} {flags:?}: {code:?}\n{err}");
            assert_eq!(code, Some(2), "{shown}");
            assert!(err.contains(says), "{shown}");
            assert_eq!(err.trim().lines().count(), 1, "{shown}");
            assert!(
                !err.contains(SECRET) && !err.contains("panicked"),
                "{shown}"
            );
        }
    }
    // The URL's query reads the same way.
    let (code, err) = run(&["check".into(), format!("{url}?cacertfile=/dev/zero")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("is a device"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}
