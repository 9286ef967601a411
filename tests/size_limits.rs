//! Size limits of the source (docs/architecture.md, STYLE): no file under
//! `src/` over 700 lines, no function outside tests over 80 lines.
//!
//! A ratchet: `ALLOWED_FILES` and `ALLOWED_FNS` list the offenders of the
//! day the limits came in, each with the size it had then. A row may only
//! shrink: the test fails when an offender grows past its row, when a file
//! or function not listed goes over the limit, and when a row is stale (the
//! offender is gone or now smaller: lower the row, or delete it once it is
//! within the limit). Never raise a row or add one; split the code instead.
//!
//! Functions are found the way rustfmt lays them out: a line whose code
//! starts with `fn` (after `pub`, `pub(crate)`, `async`, `const`, `unsafe`)
//! up to the `}` at the same indentation. `#[cfg(test)]` modules and
//! `#[test]` functions are not counted.

use std::collections::BTreeMap;
use std::path::Path;

const MAX_FILE_LINES: usize = 700;
const MAX_FN_LINES: usize = 80;

/// (file under src/, lines when the limit came in).
const ALLOWED_FILES: &[(&str, usize)] = &[];

/// (file under src/, fn name, lines when the limit came in).
const ALLOWED_FNS: &[(&str, &str, usize)] = &[];

/// A function: its name, first line (1-based) and length in lines.
#[derive(Debug, PartialEq)]
struct Fn {
    name: String,
    line: usize,
    lines: usize,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The name when `line` starts a function item.
fn fn_name(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    // Any visibility: pub, pub(crate), pub(super), pub(in path).
    if let Some(scoped) = rest.strip_prefix("pub(") {
        rest = scoped.split_once(") ").map_or(rest, |(_, after)| after);
    }
    for prefix in ["pub ", "const ", "async ", "unsafe "] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some(&rest[..end])
}

/// The index of the line closing the item that opens at `start` (the first
/// line after it at the same indentation that is `}`), or `start` for an
/// item on one line.
fn item_end(lines: &[&str], start: usize) -> usize {
    let at = indent(lines[start]);
    let first = lines[start].trim_end();
    if first.ends_with('}') && first.contains('{') {
        return start;
    }
    (start + 1..lines.len())
        .find(|&i| indent(lines[i]) == at && lines[i].trim_start().starts_with('}'))
        .unwrap_or(lines.len() - 1)
}

/// Every function with a body in `source`, outside `#[cfg(test)]` items
/// and `#[test]` functions.
fn functions(source: &str) -> Vec<Fn> {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let attr = lines[i].trim();
        if attr == "#[cfg(test)]" || attr == "#[test]" {
            // Skip the attributes, then the whole item that follows.
            let mut j = i + 1;
            while j < lines.len() && lines[j].trim_start().starts_with("#[") {
                j += 1;
            }
            i = if j < lines.len() {
                item_end(&lines, j) + 1
            } else {
                j
            };
            continue;
        }
        if let Some(name) = fn_name(lines[i]) {
            // A declaration without a body (in a trait) ends in `;`.
            let head_end = (i..lines.len())
                .find(|&k| {
                    let t = lines[k].trim_end();
                    t.ends_with('{') || t.ends_with(';') || t.ends_with('}')
                })
                .unwrap_or(i);
            if !lines[head_end].trim_end().ends_with(';') {
                let end = item_end(&lines, i);
                out.push(Fn {
                    name: name.to_string(),
                    line: i + 1,
                    lines: end - i + 1,
                });
            }
        }
        i += 1;
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Per file under src/ (path relative to src/): its line count and its
/// functions.
fn measure() -> BTreeMap<String, (usize, Vec<Fn>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let rel = p.strip_prefix(&src).unwrap().display().to_string();
            (rel, (text.lines().count(), functions(&text)))
        })
        .collect()
}

#[test]
fn files_stay_within_700_lines_or_their_row() {
    let sizes = measure();
    let mut problems = Vec::new();
    for (file, (lines, _)) in &sizes {
        let allowed = ALLOWED_FILES.iter().find(|(f, _)| f == file).map(|r| r.1);
        match allowed {
            None if *lines > MAX_FILE_LINES => problems.push(format!(
                "src/{file}: {lines} lines, over {MAX_FILE_LINES}: split it"
            )),
            Some(max) if *lines > max => problems.push(format!(
                "src/{file}: {lines} lines, over its row ({max}): rows may only shrink; split it"
            )),
            Some(max) if *lines < max => problems.push(format!(
                "src/{file}: {lines} lines, below its row ({max}): lower the row to {lines}{}",
                if *lines <= MAX_FILE_LINES {
                    " (or delete it)"
                } else {
                    ""
                }
            )),
            _ => {}
        }
    }
    for (file, _) in ALLOWED_FILES {
        if !sizes.contains_key(*file) {
            problems.push(format!("src/{file} is gone: delete its row"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn functions_stay_within_80_lines_or_their_row() {
    let sizes = measure();
    let mut problems = Vec::new();
    for (file, (_, fns)) in &sizes {
        for f in fns {
            let allowed = ALLOWED_FNS
                .iter()
                .find(|(rf, name, _)| rf == file && *name == f.name)
                .map(|r| r.2);
            let at = format!("src/{file}:{} fn {}", f.line, f.name);
            match allowed {
                None if f.lines > MAX_FN_LINES => problems.push(format!(
                    "{at}: {} lines, over {MAX_FN_LINES}: split it",
                    f.lines
                )),
                Some(max) if f.lines > max => problems.push(format!(
                    "{at}: {} lines, over its row ({max}): rows may only shrink; split it",
                    f.lines
                )),
                _ => {}
            }
        }
    }
    for (file, name, max) in ALLOWED_FNS {
        let longest = sizes.get(*file).and_then(|(_, fns)| {
            fns.iter()
                .filter(|f| f.name == *name)
                .map(|f| f.lines)
                .max()
        });
        match longest {
            None => problems.push(format!("src/{file} fn {name} is gone: delete its row")),
            Some(n) if n < *max => {
                problems.push(format!(
                "src/{file} fn {name}: {n} lines, below its row ({max}): lower the row to {n}{}",
                if n <= MAX_FN_LINES { " (or delete it)" } else { "" }
            ))
            }
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn functions_are_found_as_rustfmt_lays_them_out() {
    let source = "\
pub(crate) fn a(
    x: u8,
) -> u8 {
    x
}

trait T {
    fn declared(&self);
    fn with_body(&self) -> u8 {
        1
    }
}

fn one_line() -> u8 { 1 }

pub(in crate::run) fn scoped() {
    let _ = 1;
}

#[cfg(test)]
mod tests {
    fn helper() {
        let _ = 1;
    }
}

#[test]
fn a_test() {
    let _ = 1;
}
";
    let found = functions(source);
    let got: Vec<(&str, usize, usize)> = found
        .iter()
        .map(|f| (f.name.as_str(), f.line, f.lines))
        .collect();
    assert_eq!(
        got,
        [
            ("a", 1, 5),
            ("with_body", 9, 3),
            ("one_line", 14, 1),
            ("scoped", 16, 3)
        ]
    );
}
