//! Brokers: which one a server is, from what it says about itself in
//! Connection.Start, and the heartbeat rules it applies to a client (when
//! it beats, when it drops a silent client, what it does with Tune-Ok, how
//! it closes). The rules are data, `data/knowledge/brokers.toml`: a broker
//! that behaves like one already listed is a row there, not a code change.

use serde::{Deserialize, Serialize};

use super::Source;
use crate::vocab::Heartbeat;

/// A duration as a multiple of T plus whole seconds: `{ t = 2.0 }` is 2T,
/// `{ t = 1.0, s = 5 }` is T + 5 s.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerT {
    pub t: f64,
    #[serde(default)]
    pub s: u16,
}

impl PerT {
    /// The duration for a negotiated T, in milliseconds (0 when off).
    pub fn ms(self, t: Heartbeat) -> u64 {
        if t.is_off() {
            return 0;
        }
        // T is at most 65 535 s and `t` a small factor: no overflow.
        (self.t * t.ms() as f64).round() as u64 + u64::from(self.s) * 1000
    }
}

/// What a broker does with the client's Tune-Ok heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TuneOkRule {
    /// Uses the client's value as it is (RabbitMQ).
    Adopt,
    /// The smaller of its proposal and the client's value; 0 still
    /// disables (GarageMQ).
    Smaller,
}

/// How a broker ends a connection it gave up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseKind {
    /// With linger 0: the client sees a reset.
    Rst,
    /// An ordinary close: the client sees end of file.
    Fin,
}

/// One row of brokers.toml.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerRules {
    pub id: String,
    /// As a sentence names it ("RabbitMQ"; "the broker" for the spec).
    pub name: String,
    /// Lowercase `product` values that name this broker.
    pub products: Vec<String>,
    pub beats_within: PerT,
    pub drops_after: PerT,
    pub drops_by: PerT,
    pub tune_ok: TuneOkRule,
    /// None: not known (the specification says nothing).
    #[serde(default)]
    pub close: Option<CloseKind>,
    /// The rule in words, as read in the source.
    pub rule: String,
    pub sources: Vec<Source>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BrokerFile {
    pub broker: Vec<BrokerRules>,
    pub spec: BrokerRules,
}

/// The broker a connection talks to, and the rules it applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Broker {
    rules: &'static BrokerRules,
    /// The `version` it announced.
    pub version: Option<String>,
}

impl PartialEq for BrokerRules {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Broker {
    /// The one rule for every place that asks "which broker is this": by
    /// the `product` the server announced, without case. A server that
    /// names no product — or a run that never saw Connection.Start, as
    /// lapin's — is taken for RabbitMQ, the first row; a product not
    /// listed gets the 0-9-1 specification's rules.
    pub fn from_server(product: Option<&str>, version: Option<&str>) -> Broker {
        let file = &*super::BROKERS;
        let rules = match product.map(str::trim).filter(|p| !p.is_empty()) {
            None => &file.broker[0],
            Some(p) => file
                .broker
                .iter()
                .find(|b| b.products.iter().any(|n| n.eq_ignore_ascii_case(p)))
                .unwrap_or(&file.spec),
        };
        Broker {
            rules,
            version: version.map(str::to_string),
        }
    }

    pub fn rules(&self) -> &'static BrokerRules {
        self.rules
    }

    /// "RabbitMQ", "GarageMQ", or "the broker" for one not listed.
    pub fn name(&self) -> &'static str {
        &self.rules.name
    }

    /// A listed broker (not the specification's fallback): its own rules
    /// may be named in a sentence.
    pub fn is_listed(&self) -> bool {
        self.rules.id != super::BROKERS.spec.id
    }

    pub fn is_rabbitmq(&self) -> bool {
        self.rules.id == "rabbitmq"
    }

    /// The longest the broker stays silent on an idle connection.
    pub fn beats_within_ms(&self, t: Heartbeat) -> u64 {
        self.rules.beats_within.ms(t)
    }

    /// The least client silence after which it may drop the client.
    pub fn may_drop_ms(&self, t: Heartbeat) -> u64 {
        self.rules.drops_after.ms(t)
    }

    /// By then it has dropped a silent client.
    pub fn drops_by_ms(&self, t: Heartbeat) -> u64 {
        self.rules.drops_by.ms(t)
    }

    /// The heartbeat it enforces after the client's Tune-Ok.
    pub fn enforced(&self, proposed: Option<Heartbeat>, tune_ok: Heartbeat) -> Heartbeat {
        match (self.rules.tune_ok, proposed) {
            (TuneOkRule::Smaller, Some(p)) if !p.is_off() && !tune_ok.is_off() => p.min(tune_ok),
            _ => tune_ok,
        }
    }

    /// One sentence on what it does with Tune-Ok.
    pub fn tune_ok_sentence(&self) -> String {
        match self.rules.tune_ok {
            TuneOkRule::Adopt => format!("{} adopts the Tune-Ok value as it is.", self.name()),
            TuneOkRule::Smaller => format!(
                "{} enforces the smaller of its proposal and the Tune-Ok value.",
                self.name()
            ),
        }
    }
}

/// Every listed broker, then the specification's fallback.
pub fn brokers() -> impl Iterator<Item = &'static BrokerRules> {
    let file = &*super::BROKERS;
    file.broker.iter().chain(std::iter::once(&file.spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hb(s: u16) -> Heartbeat {
        Heartbeat::from_secs(s)
    }

    #[test]
    fn one_rule_picks_the_broker() {
        // (product as servers send it, version, broker id). The products
        // are the servers' own strings: RabbitMQ's rabbit_reader.erl,
        // GarageMQ's connectionMethods.go, LavinMQ's connection_factory.cr.
        let rows = [
            (Some("RabbitMQ"), Some("3.10.8"), "rabbitmq"),
            (Some("rabbitmq"), None, "rabbitmq"),
            (Some("garagemq"), Some("0.1"), "garagemq"),
            (Some("LavinMQ"), Some("2.9.1"), "lavinmq"),
            (None, None, "rabbitmq"),
            (Some("  "), None, "rabbitmq"),
            (Some("Apache Qpid"), None, "spec"),
        ];
        for (product, version, id) in rows {
            let b = Broker::from_server(product, version);
            assert_eq!(b.rules().id, id, "{product:?}");
            assert_eq!(b.version.as_deref(), version);
        }
        assert!(!Broker::from_server(Some("Apache Qpid"), None).is_listed());
        assert!(Broker::from_server(Some("LavinMQ"), None).is_listed());
    }

    #[test]
    fn windows_per_broker() {
        // (product, T, beats within, may drop, drops by), in ms.
        let rows = [
            (Some("RabbitMQ"), 60, 30_000, 120_000, 180_000),
            (Some("garagemq"), 60, 60_000, 180_000, 180_000),
            (Some("LavinMQ"), 60, 30_000, 65_000, 95_000),
            (Some("Apache Qpid"), 10, 10_000, 20_000, 30_000),
            (Some("RabbitMQ"), 0, 0, 0, 0),
        ];
        for (product, t, within, after, by) in rows {
            let b = Broker::from_server(product, None);
            let t = hb(t);
            assert_eq!(
                (b.beats_within_ms(t), b.may_drop_ms(t), b.drops_by_ms(t)),
                (within, after, by),
                "{product:?} T = {t}"
            );
        }
    }

    #[test]
    fn rabbitmq_row_is_the_heartbeat_arithmetic() {
        // vocab::Heartbeat still carries RabbitMQ's window for the callers
        // that have no broker at hand (scan, audit, explain): the two agree.
        let b = Broker::from_server(Some("RabbitMQ"), None);
        for s in [1, 2, 5, 60, 600] {
            let t = hb(s);
            assert_eq!(b.beats_within_ms(t), t.send_every_ms());
            assert_eq!(b.may_drop_ms(t), t.broker_may_drop_ms());
            assert_eq!(b.drops_by_ms(t), t.broker_drops_by_ms());
        }
        assert_eq!(b.rules().close, Some(CloseKind::Rst));
    }

    #[test]
    fn tune_ok_rules() {
        // (product, proposed, Tune-Ok, enforced)
        let rows = [
            (Some("RabbitMQ"), Some(60), 120, 120),
            (Some("garagemq"), Some(60), 120, 60),
            (Some("garagemq"), Some(60), 10, 10),
            (Some("garagemq"), Some(60), 0, 0),
            (Some("garagemq"), None, 120, 120),
            (Some("LavinMQ"), Some(60), 120, 120),
        ];
        for (product, proposed, tune_ok, enforced) in rows {
            let b = Broker::from_server(product, None);
            assert_eq!(
                b.enforced(proposed.map(hb), hb(tune_ok)),
                hb(enforced),
                "{product:?} {proposed:?} {tune_ok}"
            );
        }
        assert_eq!(
            Broker::from_server(Some("garagemq"), None).tune_ok_sentence(),
            "GarageMQ enforces the smaller of its proposal and the Tune-Ok value."
        );
    }

    #[test]
    fn lavinmq_needs_no_code() {
        // LavinMQ is only a row in brokers.toml: no code in the crate
        // names it, yet it is recognised with its own rules.
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![src];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "rs") && !p.ends_with("brokers.rs") {
                    // Tests may use it as an example (check's --expect-server).
                    let text = std::fs::read_to_string(&p).unwrap();
                    let code = text.split("#[cfg(test)]").next().unwrap_or("");
                    assert!(
                        !code.to_lowercase().contains("lavinmq"),
                        "{} names LavinMQ",
                        p.display()
                    );
                }
            }
        }
        let b = Broker::from_server(Some("LavinMQ"), Some("2.9.1"));
        assert_eq!(b.name(), "LavinMQ");
        assert_eq!(b.rules().close, Some(CloseKind::Fin));
    }

    #[test]
    fn every_row_is_sourced_and_sane() {
        let mut ids = std::collections::BTreeSet::new();
        for b in brokers() {
            assert!(ids.insert(b.id.clone()), "{} twice", b.id);
            assert!(!b.sources.is_empty(), "{} has no source", b.id);
            assert!(!b.rule.is_empty(), "{}", b.id);
            for p in &b.products {
                assert_eq!(p, &p.to_lowercase(), "{}: products are lowercase", b.id);
            }
            let t = hb(10);
            assert!(b.drops_after.ms(t) <= b.drops_by.ms(t), "{}", b.id);
            assert!(b.beats_within.ms(t) < b.drops_after.ms(t), "{}", b.id);
        }
    }
}
