//! What `check` is made of: its steps, how a step can fail, and the
//! expectations a user sets on the results. Data and parsing only; the
//! classifier evaluates them (`classify::check`).

use std::fmt;
use std::time::Duration;

use semver::{Version, VersionReq};
use serde::{Serialize, Serializer};

use super::{Heartbeat, SetupError};

/// One timed step of a check, in the order they run.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CheckStep {
    /// Resolve the host name.
    Dns,
    /// Open the TCP connection.
    Connect,
    /// The TLS handshake (amqps only).
    Tls,
    /// Protocol header to Connection.Open-Ok: login, Tune, vhost.
    Handshake,
    /// Channel.Open and Confirm.Select.
    Channel,
    /// Declare the check's own queue (and bind it, with --exchange).
    Queue,
    /// Basic.Publish, then wait for its confirm.
    Publish,
    /// Basic.Get the message back and compare the body.
    Get,
    /// Connection.Close to Close-Ok.
    Close,
}

impl CheckStep {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// What the step does, for reports ("publish with confirm").
    pub fn describe(self) -> &'static str {
        match self {
            CheckStep::Dns => "resolve the host name",
            CheckStep::Connect => "open the TCP connection",
            CheckStep::Tls => "TLS handshake",
            CheckStep::Handshake => "AMQP handshake (login, tune, vhost)",
            CheckStep::Channel => "open a channel and turn on publisher confirms",
            CheckStep::Queue => "declare the check's own exclusive, auto-delete queue",
            CheckStep::Publish => "publish one message and wait for its confirm",
            CheckStep::Get => "get the message back (basic.get) and compare the body",
            CheckStep::Close => "close the connection (Close to Close-Ok)",
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum StepStatus {
    Passed,
    Failed,
    /// Not run: an earlier step failed (or the run was interrupted).
    Skipped,
}

/// Why a check step failed, as the network layer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepError {
    /// The connection or its channel failed (I/O, timeout, close, …).
    Wire(SetupError),
    /// The broker nacked the message.
    Nacked,
    /// The broker returned the message unroutable.
    Returned { reply_code: u16, reply_text: String },
    /// Basic.Get found the queue empty: the message published is not there.
    NotDelivered,
    /// Basic.Get returned another body than the one published.
    BodyMismatch { sent: usize, got: usize },
    /// Ctrl-C came during this step.
    Interrupted,
    /// The broker blocked the connection (Connection.Blocked, a resource
    /// alarm) and the publish waited unconfirmed until the step timeout.
    Blocked { reason: String, waited_ms: u64 },
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Wire(e) => f.write_str(&e.message),
            StepError::Nacked => f.write_str("the broker nacked the message (Basic.Nack)"),
            StepError::Returned {
                reply_code,
                reply_text,
            } => write!(
                f,
                "the broker returned the message unroutable: {reply_code} {reply_text}"
            ),
            StepError::NotDelivered => f.write_str(
                "Basic.Get found the check's queue empty: the message published is not there",
            ),
            StepError::BodyMismatch { sent, got } => write!(
                f,
                "Basic.Get returned a different body ({got} bytes) from the one published \
                 ({sent} bytes)"
            ),
            StepError::Interrupted => f.write_str("interrupted (Ctrl-C)"),
            StepError::Blocked { reason, waited_ms } => write!(
                f,
                "the broker sent Connection.Blocked \"{reason}\" and the publish waited {} \
                 without a confirm",
                super::units::secs(*waited_ms)
            ),
        }
    }
}

/// `--expect-heartbeat`: an inclusive range of whole seconds, either end
/// open. `10s..60s`, `10s..`, `..60s`, or one value (`60s`, `0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatRange {
    pub min_s: Option<u16>,
    pub max_s: Option<u16>,
}

impl HeartbeatRange {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let side = |v: &str| -> Result<Option<u16>, String> {
            let v = v.trim();
            if v.is_empty() {
                return Ok(None);
            }
            if v == "0" {
                return Ok(Some(0));
            }
            let d = humantime::parse_duration(v)
                .map_err(|e| format!("`{v}` is not a duration ({e}); try 10s..60s"))?;
            if d.subsec_nanos() != 0 {
                return Err(format!("`{v}`: AMQP heartbeats are whole seconds"));
            }
            u16::try_from(d.as_secs())
                .map(Some)
                .map_err(|_| format!("`{v}`: must be at most 65535s (AMQP's limit)"))
        };
        let range = match s.split_once("..") {
            Some((lo, hi)) => {
                let hi = hi.strip_prefix('=').unwrap_or(hi);
                HeartbeatRange {
                    min_s: side(lo)?,
                    max_s: side(hi)?,
                }
            }
            None => {
                let v = side(s)?.ok_or("give a range such as 10s..60s")?;
                HeartbeatRange {
                    min_s: Some(v),
                    max_s: Some(v),
                }
            }
        };
        match (range.min_s, range.max_s) {
            (None, None) => Err("give at least one end, such as 10s..60s or 10s..".into()),
            (Some(lo), Some(hi)) if lo > hi => Err(format!(
                "the range is empty: {lo}s is more than {hi}s; write the low end first"
            )),
            _ => Ok(range),
        }
    }

    pub fn contains(self, t: Heartbeat) -> bool {
        let s = t.secs();
        self.min_s.is_none_or(|lo| s >= lo) && self.max_s.is_none_or(|hi| s <= hi)
    }
}

impl fmt::Display for HeartbeatRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = |v: Option<u16>| v.map(|s| format!("{s}s")).unwrap_or_default();
        if self.min_s.is_some() && self.min_s == self.max_s {
            return f.write_str(&end(self.min_s));
        }
        write!(f, "{}..{}", end(self.min_s), end(self.max_s))
    }
}

/// `--expect-server`: a product name, a semver requirement on its version,
/// or both (`RabbitMQ >=3.12`, `RabbitMQ`, `>=3.12, <5`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerExpectation {
    /// Compared without regard to case.
    pub product: Option<String>,
    pub version: Option<VersionReq>,
    /// As the user wrote it, for reports.
    pub text: String,
}

impl ServerExpectation {
    pub fn parse(s: &str) -> Result<Self, String> {
        let text = s.trim().to_string();
        // The product is every word before the first that starts like a
        // version requirement (an operator or a digit).
        let starts_req = |w: &str| {
            w.starts_with(['<', '>', '=', '~', '^', '*'])
                || w.starts_with(|c: char| c.is_ascii_digit())
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        let split = words
            .iter()
            .position(|w| starts_req(w))
            .unwrap_or(words.len());
        let product = words[..split].join(" ");
        let req = words[split..].join(" ");
        let version = if req.is_empty() {
            None
        } else {
            Some(VersionReq::parse(&req).map_err(|e| {
                format!("`{req}` is not a version requirement ({e}); try 'RabbitMQ >=3.12'")
            })?)
        };
        if product.is_empty() && version.is_none() {
            return Err("give a product, a version requirement or both: 'RabbitMQ >=3.12'".into());
        }
        Ok(ServerExpectation {
            product: (!product.is_empty()).then_some(product),
            version,
            text,
        })
    }

    /// Why the server does not meet this expectation; None when it does.
    pub fn mismatch(&self, product: Option<&str>, version: Option<&str>) -> Option<String> {
        if let Some(want) = &self.product {
            match product {
                Some(p) if p.eq_ignore_ascii_case(want) => {}
                Some(p) => return Some(format!("the server is {p}, not {want}")),
                None => {
                    return Some(format!(
                        "the server does not name its product; expected {want}"
                    ))
                }
            }
        }
        if let Some(req) = &self.version {
            let Some(raw) = version else {
                return Some("the server does not announce its version".into());
            };
            match parse_version(raw) {
                Some(v) if req.matches(&v) => {}
                Some(_) => return Some(format!("version {raw} does not satisfy {req}")),
                None => {
                    return Some(format!(
                        "version `{raw}` is not a version amqpdoctor can compare"
                    ))
                }
            }
        }
        None
    }
}

impl fmt::Display for ServerExpectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A version as people and servers write it: `1.3.2`, `0.10`, `2`,
/// `v1.10.0`, `3.13.0-rc.1`; missing parts are 0. Pre-release and build
/// suffixes are kept, so semver's rules for them apply.
pub fn parse_version(v: &str) -> Option<Version> {
    let v = v.trim().trim_start_matches(['v', 'V']);
    if v.is_empty() || v.len() > 40 {
        return None;
    }
    let (core, rest) = match v.find(['-', '+']) {
        Some(i) => v.split_at(i),
        None => (v, ""),
    };
    let padded = match core.matches('.').count() {
        0 => format!("{core}.0.0{rest}"),
        1 => format!("{core}.0{rest}"),
        _ => v.to_string(),
    };
    Version::parse(&padded).ok()
}

/// What a check expects beyond every step passing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    pub heartbeat: Option<HeartbeatRange>,
    pub max_connect: Option<Duration>,
    pub max_handshake: Option<Duration>,
    pub max_roundtrip: Option<Duration>,
    pub server: Option<ServerExpectation>,
    /// `--expect-tls-accepted-by`: families that must accept the server's
    /// certificate (empty: no expectation).
    pub tls_accepted_by: Vec<super::tls::TlsFamily>,
}

/// A duration in milliseconds with microsecond precision, for timings that
/// are often below a millisecond on a LAN (serialized as a number).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Millis(pub f64);

impl Millis {
    pub fn of(d: Duration) -> Self {
        Millis((d.as_micros() as f64) / 1000.0)
    }

    pub fn secs(self) -> f64 {
        self.0 / 1000.0
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64((self.0 * 1000.0).round() / 1000.0)
    }
}

impl fmt::Display for Millis {
    /// `0.412 ms`, `12.4 ms`, `1.203 s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms < 1000.0 && ms.fract() == 0.0 {
            write!(f, "{ms:.0} ms")
        } else if ms < 10.0 {
            write!(f, "{ms:.3} ms")
        } else if ms < 1000.0 {
            write!(f, "{ms:.1} ms")
        } else {
            write!(f, "{:.3} s", ms / 1000.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_ranges() {
        let r = |lo, hi| -> Result<HeartbeatRange, ()> {
            Ok(HeartbeatRange {
                min_s: lo,
                max_s: hi,
            })
        };
        let rows: &[(&str, Result<HeartbeatRange, ()>)] = &[
            ("10s..60s", r(Some(10), Some(60))),
            ("10s..=60s", r(Some(10), Some(60))),
            ("1m..2m", r(Some(60), Some(120))),
            ("10s..", r(Some(10), None)),
            ("..60s", r(None, Some(60))),
            ("60s", r(Some(60), Some(60))),
            ("0", r(Some(0), Some(0))),
            ("0..0", r(Some(0), Some(0))),
            ("..", Err(())),
            ("", Err(())),
            ("60s..10s", Err(())),
            ("1.5s..", Err(())),
            ("10..60", Err(())),
            ("70000s..", Err(())),
        ];
        for (input, want) in rows {
            assert_eq!(
                HeartbeatRange::parse(input).map_err(|_| ()),
                *want,
                "{input}"
            );
        }
        let range = HeartbeatRange::parse("10s..60s").unwrap();
        let hb = Heartbeat::from_secs;
        assert!(range.contains(hb(10)) && range.contains(hb(60)));
        assert!(!range.contains(hb(0)) && !range.contains(hb(61)));
        assert!(HeartbeatRange::parse("1s..").unwrap().contains(hb(600)));
        for text in ["10s..60s", "10s..", "..60s", "60s", "0s"] {
            let parsed = HeartbeatRange::parse(text).unwrap();
            assert_eq!(parsed.to_string(), text);
            assert_eq!(HeartbeatRange::parse(&parsed.to_string()), Ok(parsed));
        }
    }

    #[test]
    fn server_expectations() {
        // (expectation, product, version, passes)
        let rows: &[(&str, Option<&str>, Option<&str>, bool)] = &[
            ("RabbitMQ >=3.12", Some("RabbitMQ"), Some("3.13.7"), true),
            ("RabbitMQ >=3.12", Some("RabbitMQ"), Some("3.10.8"), false),
            ("rabbitmq >=3.10", Some("RabbitMQ"), Some("3.10.8"), true),
            ("RabbitMQ", Some("RabbitMQ"), Some("anything"), true),
            ("RabbitMQ", Some("LavinMQ"), Some("2.0.0"), false),
            ("RabbitMQ", None, None, false),
            (">=3.12, <5", Some("RabbitMQ"), Some("4.1"), true),
            (">=3.12, <5", Some("RabbitMQ"), Some("5.0.0"), false),
            (">=3.12", Some("RabbitMQ"), None, false),
            (">=3.12", Some("RabbitMQ"), Some("not-a-version"), false),
            ("Some Broker 2", Some("some broker"), Some("2.4.1"), true),
        ];
        for (text, product, version, passes) in rows {
            let e = ServerExpectation::parse(text).unwrap();
            let got = e.mismatch(*product, *version);
            assert_eq!(
                got.is_none(),
                *passes,
                "{text} vs {product:?} {version:?}: {got:?}"
            );
        }
        let e = ServerExpectation::parse("Some Broker 2").unwrap();
        assert_eq!(e.product.as_deref(), Some("Some Broker"));
        for bad in ["", "   ", "RabbitMQ >=x.y", "RabbitMQ >=3.12 junk"] {
            assert!(ServerExpectation::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions_as_written() {
        let rows = [
            ("3.10.8", Some("3.10.8")),
            ("3.12", Some("3.12.0")),
            ("4", Some("4.0.0")),
            ("v1.10.0", Some("1.10.0")),
            ("3.13.0-rc.1", Some("3.13.0-rc.1")),
            ("", None),
            ("x", None),
        ];
        for (input, want) in rows {
            assert_eq!(
                parse_version(input).map(|v| v.to_string()).as_deref(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn millis_read_well() {
        let rows = [
            (Duration::from_micros(412), "0.412 ms", 0.412),
            (Duration::from_micros(12_400), "12.4 ms", 12.4),
            (Duration::from_micros(1_203_000), "1.203 s", 1203.0),
            (Duration::from_millis(500), "500 ms", 500.0),
        ];
        for (d, text, json) in rows {
            assert_eq!(Millis::of(d).to_string(), text);
            assert_eq!(serde_json::to_value(Millis::of(d)).unwrap(), json);
        }
    }
}
