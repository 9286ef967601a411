//! Which files make which stream, in what order. A RabbitMQ node writes
//! `rabbit@host.log` and rotates it to `rabbit@host.log.1`, `.2`, … (gzip'd
//! as `.N.gz` by logrotate); 3.6 also writes `rabbit@host-sasl.log`. Files
//! of one base name are one stream, oldest (highest N) first; streams of one
//! node (the log and its `-sasl` log) share a node label and so the Erlang
//! pids' namespace; streams are merged by time.

use std::path::{Path, PathBuf};

/// One stream: files read one after the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// Index into [`Plan::nodes`].
    pub node: u16,
    pub files: Vec<PathBuf>,
}

/// Every stream and the node labels they use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub nodes: Vec<String>,
    pub streams: Vec<Stream>,
}

/// The most streams read at once (each holds one open file and a buffer).
pub const MAX_STREAMS: usize = 256;

/// `rabbit@h.log.2.gz` → (`rabbit@h.log`, 2); `rabbit@h.log` → (…, 0).
pub fn rotation_of(name: &str) -> (&str, u32) {
    let base = name.strip_suffix(".gz").unwrap_or(name);
    match base.rsplit_once('.') {
        Some((stem, n))
            if !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (stem, n.parse().unwrap_or(0))
        }
        _ => (base, 0),
    }
}

/// The node a base name belongs to: `rabbit@h-sasl.log` → `rabbit@h`.
pub fn node_of(base: &str) -> &str {
    let stem = base.strip_suffix(".log").unwrap_or(base);
    stem.strip_suffix("-sasl")
        .or_else(|| stem.strip_suffix("_upgrade"))
        .unwrap_or(stem)
}

/// Whether a file found in a directory is a log worth reading.
fn is_log_name(name: &str) -> bool {
    let (base, _) = rotation_of(name);
    base.ends_with(".log") && !base.ends_with("_upgrade.log")
}

/// The plan for `paths` (files, directories, `-` for stdin), in order.
pub fn plan(paths: &[PathBuf]) -> Result<Plan, String> {
    let mut files: Vec<PathBuf> = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" || !p.is_dir() {
            files.push(p.clone());
            continue;
        }
        let entries = std::fs::read_dir(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| f.is_file() && file_name(f).is_some_and(is_log_name))
            .collect();
        if found.is_empty() {
            return Err(format!("{}: no *.log files in this directory", p.display()));
        }
        found.sort();
        files.extend(found);
    }
    group(files)
}

fn file_name(p: &Path) -> Option<&str> {
    p.file_name().and_then(|n| n.to_str())
}

/// Files into streams (pure: names only).
pub fn group(files: Vec<PathBuf>) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let mut keys: Vec<(String, Vec<(u32, PathBuf)>)> = Vec::new();
    for f in files {
        let name = file_name(&f).unwrap_or("-").to_string();
        let (base, n) = rotation_of(&name);
        let key = if f.as_os_str() == "-" {
            "-".to_string()
        } else {
            let dir = f
                .parent()
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            format!("{dir}/{base}")
        };
        match keys.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push((n, f)),
            None => keys.push((key, vec![(n, f)])),
        }
    }
    if keys.len() > MAX_STREAMS {
        return Err(format!(
            "{} log sets given; at most {MAX_STREAMS} are read at once",
            keys.len()
        ));
    }
    for (key, mut list) in keys {
        list.sort_by_key(|e| std::cmp::Reverse(e.0));
        list.dedup_by(|a, b| a.1 == b.1);
        let base = key.rsplit('/').next().unwrap_or(&key);
        let label = if key == "-" { "stdin" } else { node_of(base) };
        let node = match plan.nodes.iter().position(|n| n == label) {
            Some(i) => i,
            None => {
                plan.nodes.push(label.to_string());
                plan.nodes.len() - 1
            }
        };
        plan.streams.push(Stream {
            node: node as u16,
            files: list.into_iter().map(|(_, f)| f).collect(),
        });
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotations() {
        for (name, base, n) in [
            ("rabbit@h.log", "rabbit@h.log", 0),
            ("rabbit@h.log.1", "rabbit@h.log", 1),
            ("rabbit@h.log.12.gz", "rabbit@h.log", 12),
            ("rabbit@h.log.gz", "rabbit@h.log", 0),
            ("app.2024.log", "app.2024.log", 0),
            ("x.log.1234567", "x.log.1234567", 0),
        ] {
            assert_eq!(rotation_of(name), (base, n), "{name}");
        }
        for (base, node) in [
            ("rabbit@h.log", "rabbit@h"),
            ("rabbit@h-sasl.log", "rabbit@h"),
            ("rabbit@h_upgrade.log", "rabbit@h"),
            ("app.txt", "app.txt"),
        ] {
            assert_eq!(node_of(base), node);
        }
        assert!(!is_log_name("rabbit@h_upgrade.log"));
        assert!(is_log_name("rabbit@h.log.3.gz"));
    }

    #[test]
    fn groups_oldest_first_and_nodes_shared() {
        let f = |s: &str| PathBuf::from(s);
        let p = group(vec![
            f("/l/rabbit@a.log"),
            f("/l/rabbit@a.log.2.gz"),
            f("/l/rabbit@a.log.1"),
            f("/l/rabbit@a-sasl.log"),
            f("/m/rabbit@b.log"),
            f("-"),
        ])
        .unwrap();
        assert_eq!(p.nodes, ["rabbit@a", "rabbit@b", "stdin"]);
        assert_eq!(p.streams.len(), 4);
        assert_eq!(
            p.streams[0].files,
            [
                f("/l/rabbit@a.log.2.gz"),
                f("/l/rabbit@a.log.1"),
                f("/l/rabbit@a.log")
            ]
        );
        assert_eq!(p.streams[1].node, 0, "the sasl log shares the node");
        assert_eq!(p.streams[2].node, 1);
    }
}
