//! `amqpdoctor explain -`: whole pastes from public threads
//! (tests/data/pastes/, each with its thread's address) piped into standard
//! input, the diagnosis and the line it was read from checked; a password
//! in a pasted line never printed; a paste over 10 MiB, binary input and
//! empty input answered without a panic.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Paste {
    url: String,
    library: String,
    #[serde(default)]
    version: Option<String>,
    cause: String,
    line: u64,
    note: String,
    text: String,
}

/// Runs `amqpdoctor explain [ARGS] -` with `input` on standard input. The
/// input is written from a thread: amqpdoctor stops reading at 10 MiB and
/// may exit before a longer input is written (the broken pipe is expected).
fn explain_stdin(args: &[&str], input: Vec<u8>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_amqpdoctor"))
        .arg("explain")
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run amqpdoctor explain -");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for amqpdoctor");
    let _ = writer.join();
    out
}

fn json(input: &str) -> serde_json::Value {
    let out = explain_stdin(&["--format", "json"], input.as_bytes().to_vec());
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn pastes() -> Vec<(PathBuf, Paste)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pastes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read paste");
            let paste: Paste =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, paste)
        })
        .collect()
}

/// The topic the diagnosis names (what the chosen line is explained by).
fn diagnosis(doc: &serde_json::Value) -> Option<String> {
    let by = doc.get("explained_by")?;
    by.get("code")
        .or_else(|| by.get("topic"))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

#[test]
fn whole_pastes_get_the_established_diagnosis() {
    let all = pastes();
    assert!(all.len() >= 8, "{} pastes", all.len());
    for (path, p) in &all {
        assert!(p.url.starts_with("https://"), "{}", path.display());
        assert!(!p.library.is_empty() && !p.note.is_empty());
        let _ = &p.version;
        let doc = json(&p.text);
        let paste = &doc["paste"];
        let got = (diagnosis(&doc), paste["chosen_line"].as_u64());
        assert_eq!(
            got,
            (Some(p.cause.clone()), Some(p.line)),
            "{} ({}): why {}; lines used {}",
            path.display(),
            p.url,
            paste["why"],
            paste["lines_used"]
        );
        // The existing contract of explain's document is kept.
        assert_eq!(doc["command"], "explain");
        assert_eq!(doc["kind"], "log_line");
        assert!(doc["query"].is_string() && doc["topic"].is_string());
        assert_eq!(paste["source"], "stdin");
        let used = paste["lines_used"].as_array().expect("lines_used");
        assert_eq!(used[0]["chosen"], true);
        assert_eq!(used[0]["line"].as_u64(), Some(p.line));
        // The human text names the diagnosis and lists the lines used.
        let human = explain_stdin(&[], p.text.as_bytes().to_vec());
        assert!(human.status.success(), "{}", path.display());
        let text = String::from_utf8_lossy(&human.stdout);
        assert!(text.starts_with("Diagnosis of a paste: "), "{text}");
        assert!(text.contains("Lines used (in paste order)"), "{text}");
        assert!(
            text.contains(&format!("line {}", p.line)) && text.contains("← the diagnosis"),
            "{text}"
        );
    }
}

#[test]
fn a_pasted_password_is_never_printed() {
    let paste = "\
[2017-05-22 17:18:10,939: INFO/MainProcess] Connected to amqp://user123:Sup3rSecret@192.168.99.100:5672//
[2017-05-22 17:18:10,965: WARNING/MainProcess] consumer: Connection to broker lost. Trying to re-establish the connection...
pika.exceptions.AMQPConnectionError: amqp://app:Sup3rSecret@10.0.0.5:5672/ ConnectionResetError(104, 'Connection reset by peer')
connection params: host=10.0.0.5 password=Sup3rSecret Connection reset by peer
";
    // A secret across the 200-character cut of an echoed line.
    let long = format!(
        "{paste}Connection reset by peer {} amqp://app:Sup3rSecret@10.0.0.5:5672/\n",
        "x".repeat(170)
    );
    for format in ["human", "json"] {
        let out = explain_stdin(&["--format", format], long.as_bytes().to_vec());
        assert!(out.status.success(), "{format}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("Sup3rSecret"), "{format}: {all}");
        assert!(all.contains("***"), "{format}: {all}");
    }
}

#[test]
fn a_paste_over_10_mib_is_cut_and_answered() {
    let noise = "2019-10-11T17:18:19 INFO worker: processed message id=42 in 3 ms\n";
    let mut input = noise.repeat(60_000).into_bytes();
    input.extend(b"java.net.SocketException: Connection reset\n");
    input.extend(noise.repeat(120_000).into_bytes());
    assert!(input.len() > 11 * 1024 * 1024);
    let out = explain_stdin(&["--format", "json"], input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let paste = &doc["paste"];
    assert_eq!(paste["bytes_cut"], true);
    assert_eq!(paste["bytes_read"].as_u64(), Some(10 * 1024 * 1024));
    assert_eq!(paste["chosen_line"].as_u64(), Some(60_001));
    assert_eq!(diagnosis(&doc).as_deref(), Some("ECONNRESET"));
    let notes = paste["notes"].to_string();
    assert!(notes.contains("Only the first 10 MiB were read"), "{notes}");
}

#[test]
fn binary_empty_and_unknown_input_are_usage_errors() {
    let mut binary: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
    binary.extend(b"\n\0\0\0\n");
    for (what, input, needle) in [
        ("binary", binary, "binary line(s) skipped"),
        ("empty", Vec::new(), "none of the 0 line(s)"),
        (
            "unknown",
            b"hello\nworld\n".to_vec(),
            "none of the 2 line(s)",
        ),
    ] {
        let out = explain_stdin(&[], input);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(needle), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert!(out.stdout.is_empty(), "{what}");
    }
    // Binary noise around a known line: the line is still found.
    let mut mixed: Vec<u8> = vec![0, 1, 2, 0xff, 0xfe, b'\n'];
    mixed.extend(b"Caused by: java.io.EOFException: null\n");
    mixed.extend([0xc3, 0x28, 0, b'\n']);
    let out = explain_stdin(&["--format", "json"], mixed);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["paste"]["binary_lines_skipped"].as_u64(), Some(2));
    assert_eq!(diagnosis(&doc).as_deref(), Some("EOF"));
}
