//! The corpus of strings users pasted into public threads (tests/data/pasted/):
//! every row goes through the real `amqpdoctor explain`, and the test prints
//! per file how many were recognised and how many had the established cause
//! named by their first explanation. It fails when a row is malformed, when a
//! cause is not a topic explain knows, or when either rate falls under its
//! floor. The floors are a ratchet: set from the measured figures, raise them
//! when recognition improves, never lower them.
//!
//! A cause given as an errno that explain reads on a pasted line as a verdict
//! (its `line_verdict`: ECONNREFUSED is connect_failed) is named by either.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// Measured over the whole corpus; raise with the figures, never lower.
const RECOGNISED_FLOOR_PCT: f64 = 99.0;
const CAUSE_NAMED_FLOOR_PCT: f64 = 85.0;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    text: String,
    url: String,
    library: String,
    #[serde(default)]
    version: Option<String>,
    cause: String,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    row: Vec<Row>,
}

#[derive(Default)]
struct Tally {
    rows: usize,
    recognised: usize,
    with_cause: usize,
    cause_named: usize,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.rows += other.rows;
        self.recognised += other.recognised;
        self.with_cause += other.with_cause;
        self.cause_named += other.cause_named;
    }
}

fn pct(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

fn explain(topic: &str) -> Option<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_amqpdoctor"))
        .args(["explain", "--format", "json", "--", topic])
        .output()
        .expect("run amqpdoctor explain");
    if !out.status.success() {
        return None;
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .expect("explain --format json prints one JSON document");
    Some(doc)
}

fn base(topic: &str) -> &str {
    topic.split('@').next().unwrap_or(topic)
}

/// Whether the explanation `named` names `cause`: the same topic, or the
/// verdict explain reads an errno cause as on a pasted line.
fn names_cause(named: Option<&str>, cause: &str) -> bool {
    let Some(named) = named.map(base) else {
        return false;
    };
    if named == base(cause) {
        return true;
    }
    explain(cause)
        .filter(|d| d.get("kind").and_then(|k| k.as_str()) == Some("errno"))
        .and_then(|d| {
            d.get("line_verdict")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .is_some_and(|v| v == named)
}

/// The topic the first explanation names: what the line points to, or the
/// topic itself when explain answered with a verdict, client or concept.
fn first_explanation(doc: &serde_json::Value) -> Option<String> {
    let field =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    if let Some(by) = doc.get("explained_by").filter(|v| !v.is_null()) {
        return field(by, "code").or_else(|| field(by, "topic"));
    }
    match field(doc, "kind").as_deref() {
        Some("log_line") | None => None,
        _ => field(doc, "topic"),
    }
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pasted");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).expect("read corpus file");
    let file: File = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for row in &file.row {
        assert!(
            row.url.starts_with("https://"),
            "{}: a row without a thread address: {}",
            path.display(),
            row.text
        );
        assert!(
            !row.text.trim().is_empty() && !row.library.is_empty(),
            "{}: empty row at {}",
            path.display(),
            row.url
        );
        let _ = (&row.version, &row.note);
    }
    file.row
}

fn check_causes_are_topics(all: &[(String, Vec<Row>)]) {
    let causes: BTreeSet<&str> = all
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|r| r.cause.as_str()))
        .filter(|c| !c.is_empty())
        .collect();
    for cause in causes {
        assert!(
            explain(cause).is_some(),
            "cause {cause:?} is not a topic `amqpdoctor explain` knows"
        );
    }
}

fn run_file(
    rows: &[Row],
    per_library: &mut BTreeMap<String, Tally>,
    misses: &mut Vec<String>,
) -> Tally {
    let mut tally = Tally::default();
    for row in rows {
        let before = (tally.recognised, tally.with_cause, tally.cause_named);
        tally.rows += 1;
        let doc = explain(&row.text)
            .filter(|d| d.get("kind").and_then(|k| k.as_str()) != Some("unknown"));
        let named = doc.as_ref().and_then(first_explanation);
        if doc.is_some() {
            tally.recognised += 1;
        }
        if !row.cause.is_empty() {
            tally.with_cause += 1;
            if names_cause(named.as_deref(), &row.cause) {
                tally.cause_named += 1;
            } else {
                misses.push(format!(
                    "  want {:<26} got {:<26} {}",
                    row.cause,
                    named.as_deref().unwrap_or("-"),
                    row.url
                ));
            }
        } else if doc.is_none() {
            misses.push(format!("  unrecognised {}", row.url));
        }
        let lib = per_library.entry(row.library.clone()).or_default();
        lib.rows += 1;
        lib.recognised += tally.recognised - before.0;
        lib.with_cause += tally.with_cause - before.1;
        lib.cause_named += tally.cause_named - before.2;
    }
    tally
}

fn print_table(heading: &str, rows: &BTreeMap<String, Tally>, total: &Tally) {
    println!(
        "{heading:<26} {:>5} {:>11} {:>12}",
        "rows", "recognised", "cause named"
    );
    for (name, t) in rows.iter().chain([(&"all".to_owned(), total)]) {
        println!(
            "{name:<26} {:>5} {:>10.0}% {:>7.0}% of {}",
            t.rows,
            pct(t.recognised, t.rows),
            pct(t.cause_named, t.with_cause),
            t.with_cause
        );
    }
}

#[test]
fn pasted_corpus_is_recognised_and_named() {
    let all: Vec<(String, Vec<Row>)> = corpus_files()
        .iter()
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                load(p),
            )
        })
        .collect();
    check_causes_are_topics(&all);
    let mut per_file = BTreeMap::new();
    let mut per_library = BTreeMap::new();
    let mut misses = Vec::new();
    let mut total = Tally::default();
    for (name, rows) in &all {
        let tally = run_file(rows, &mut per_library, &mut misses);
        total.add(&tally);
        per_file.insert(name.clone(), tally);
    }
    print_table("file", &per_file, &total);
    println!();
    print_table("library", &per_library, &total);
    println!("misses:\n{}", misses.join("\n"));
    let recognised = pct(total.recognised, total.rows);
    let named = pct(total.cause_named, total.with_cause);
    assert!(
        recognised >= RECOGNISED_FLOOR_PCT,
        "recognised {recognised:.1}% < floor {RECOGNISED_FLOOR_PCT}%"
    );
    assert!(
        named >= CAUSE_NAMED_FLOOR_PCT,
        "cause named {named:.1}% < floor {CAUSE_NAMED_FLOOR_PCT}%"
    );
}
