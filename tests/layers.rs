//! The layers of the crate docs, enforced: a module may use the modules
//! below it and nothing above or beside it; only `commands` may use `cli`.
//! (`python3 ../shared/tools/module-graph.py src` draws the same graph.)

use std::collections::BTreeSet;
use std::path::Path;

/// Each top-level module's layer: it may use strictly lower layers only.
const LAYERS: &[(&str, u8)] = &[
    ("vocab", 0),
    // target names vocabulary (the TLS client family its settings follow).
    ("target", 1),
    ("timeline", 1),
    // error names target's errors.
    ("error", 2),
    ("cli", 2),
    ("wire", 2),
    ("observe", 2),
    ("knowledge", 3),
    ("classify", 4),
    ("run", 5),
    ("report", 6),
    ("commands", 7),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// Top-level modules named after `crate::` in `text` (also inside
/// `use crate::{a, b::c}` groups).
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.insert(name);
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn modules_only_use_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(own) = layer(&module) else {
            violations.push(format!(
                "{}: module `{module}` has no layer in LAYERS",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for used in crate_refs(&text) {
            if used == module {
                continue;
            }
            match layer(&used) {
                None => violations.push(format!("{}: unknown module crate::{used}", rel.display())),
                Some(l) if l >= own => violations.push(format!(
                    "{}: `{module}` (layer {own}) uses `{used}` (layer {l}): imports point down only",
                    rel.display()
                )),
                Some(_) if used == "cli" && module != "commands" => violations.push(format!(
                    "{}: only commands may use cli; convert to the vocabulary there",
                    rel.display()
                )),
                Some(_) => {}
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    assert!(
        files.len() > 20,
        "found only {} files under src",
        files.len()
    );
}

#[test]
fn the_scanner_sees_grouped_and_plain_imports() {
    let refs = crate_refs("use crate::{vocab::Mode, timeline};\nlet x = crate::wire::open();");
    assert_eq!(
        refs.into_iter().collect::<Vec<_>>(),
        ["timeline", "vocab", "wire"]
    );
}

#[test]
fn the_architecture_doc_names_every_layer() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"))
            .unwrap();
    for (module, layer) in LAYERS {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| {layer} |")))
            .unwrap_or_else(|| panic!("docs/architecture.md has no row for layer {layer}"));
        assert!(
            row.contains(&format!("`{module}`")) || row.contains(&format!("`{module}/`")),
            "docs/architecture.md: layer {layer}'s row does not name `{module}`: {row}"
        );
    }
}
