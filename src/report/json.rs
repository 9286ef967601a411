//! `--format json`: exactly one JSON document (schema in docs/json.md).

use super::Report;

pub fn render(report: &Report) -> String {
    // Serializing plain data with string keys cannot fail.
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        format!("{{\"tool\":\"amqpdoctor\",\"error\":\"cannot serialize report: {e}\"}}")
    });
    s.push('\n');
    s
}
