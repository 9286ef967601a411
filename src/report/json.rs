//! `--format json`: exactly one JSON document (schema in docs/json.md).

use serde::Serialize;

/// Any report as one pretty JSON document with a final newline.
pub fn render<T: Serialize>(doc: &T) -> String {
    // Serializing plain data with string keys cannot fail.
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_else(|e| {
        format!("{{\"tool\":\"amqpdoctor\",\"error\":\"cannot serialize report: {e}\"}}")
    });
    s.push('\n');
    s
}
