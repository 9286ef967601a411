//! `audit`'s pass/fail outcomes: one case per connection, for JUnit and
//! every CI format written from `junit::Suites`.

use std::fmt::Write;

use super::{facts_line, flags_cell, AuditReport};
use crate::report::junit::{Case, CaseResult, Suite, Suites};

/// The pass/fail outcomes for the CI formats: one test suite, one test case per connection, failed when
/// the connection is flagged.
pub fn outcomes(r: &AuditReport) -> Suites {
    let cases = r
        .connections
        .iter()
        .map(|c| {
            let vhost = c.vhost.as_deref().unwrap_or("none");
            // Jenkins reads the last dot as package.class: keep dots out.
            let classname = format!(
                "amqpdoctor.audit.{}",
                vhost.replace('.', "_").replace('/', "%2f")
            );
            let name = match &c.connection_name {
                Some(n) => format!("{} ({n})", c.label()),
                None => c.label().to_string(),
            };
            let result = if c.flags.is_empty() {
                CaseResult::Passed
            } else {
                let mut detail = format!("{}\n{}", c.name, facts_line(c));
                for a in &c.advice {
                    let _ = write!(detail, "\n- {a}");
                }
                for n in &c.notes {
                    let _ = write!(detail, "\nnote: {n}");
                }
                CaseResult::Failed {
                    kind: flags_cell(&c.flags),
                    message: c
                        .advice
                        .first()
                        .cloned()
                        .unwrap_or_else(|| flags_cell(&c.flags)),
                    detail,
                }
            };
            Case {
                name,
                classname,
                time_s: 0.0,
                result,
            }
        })
        .collect();
    let mut properties = vec![("management".to_string(), r.management.clone())];
    properties.extend(
        [
            ("broker.product", r.overview.product.clone()),
            ("broker.version", r.overview.version.clone()),
            ("broker.cluster_name", r.overview.cluster_name.clone()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v))),
    );
    Suites {
        name: "amqpdoctor audit".into(),
        suites: vec![Suite {
            name: r.management.clone(),
            time_s: r.duration_ms as f64 / 1000.0,
            timestamp: None,
            properties,
            cases,
        }],
    }
}

/// The outcomes as JUnit XML.
#[cfg(test)]
pub fn render_junit(r: &AuditReport) -> String {
    crate::report::junit::render(&outcomes(r))
}
