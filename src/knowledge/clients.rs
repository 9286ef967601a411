//! Client libraries by version, and the heartbeat negotiation rules they
//! follow. The rules are code; which library follows which rule, in which
//! versions, is data (data/knowledge/clients.toml).

use semver::{Version, VersionReq};

use crate::vocab::check::parse_version;
use serde::{Deserialize, Serialize};

use super::{clients, Source};

/// How a client library turns the server's proposal S and its own setting C
/// into the heartbeat it sends in Tune-Ok.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NegotiationRule {
    /// C = 0 → 0; S = 0 → C; else min(C, S).
    ZeroDisablesElseMin,
    /// Either side 0 → 0; else min(C, S).
    EitherZeroDisablesElseMin,
    /// Either side 0 → 0; else max(C, S).
    EitherZeroDisablesElseMax,
    /// The client's value is sent as it is.
    ClientWins,
    /// Either side 0 → the other's value; else min(C, S).
    ZeroMeansOtherElseMin,
    /// Tune-Ok carries 0 whatever the server proposed or the application
    /// asked for: the library has no heartbeat (py-amqplib).
    AlwaysZero,
}

impl NegotiationRule {
    /// The rule in plain words, for reports and docs.
    pub fn describe(self) -> &'static str {
        match self {
            NegotiationRule::ZeroDisablesElseMin => {
                "client 0 disables heartbeats; otherwise the smaller of client and server \
                 (server 0 → the client's value)"
            }
            NegotiationRule::EitherZeroDisablesElseMin => {
                "0 on either side disables heartbeats; otherwise the smaller of the two"
            }
            NegotiationRule::EitherZeroDisablesElseMax => {
                "0 on either side disables heartbeats; otherwise the larger of the two"
            }
            NegotiationRule::ClientWins => {
                "the client's value (its own default when the application sets none) is sent \
                 as it is, whatever the server proposed; a library without a default sends \
                 the server's proposal"
            }
            NegotiationRule::ZeroMeansOtherElseMin => {
                "either side 0 → the other side's value; otherwise the smaller of the two \
                 (cannot disable heartbeats when the server proposes one)"
            }
            NegotiationRule::AlwaysZero => {
                "answers every Tune with 0 and has no heartbeat setting: heartbeats are always \
                 off"
            }
        }
    }

    /// A short name for tables.
    pub fn short(self) -> &'static str {
        match self {
            NegotiationRule::ZeroDisablesElseMin => "client 0 → 0; else min",
            NegotiationRule::EitherZeroDisablesElseMin => "either 0 → 0; else min",
            NegotiationRule::EitherZeroDisablesElseMax => "either 0 → 0; else max",
            NegotiationRule::ClientWins => "client wins",
            NegotiationRule::ZeroMeansOtherElseMin => "either 0 → the other; else min",
            NegotiationRule::AlwaysZero => "always 0",
        }
    }
}

/// The heartbeat a client sends in Tune-Ok for the server's proposal
/// `server_s` and the client's setting `client` (None = "accept the
/// server", the default of the libraries that have no number of their own).
pub fn negotiate(rule: NegotiationRule, server_s: u16, client: Option<u16>) -> u16 {
    if rule == NegotiationRule::AlwaysZero {
        return 0;
    }
    let Some(c) = client else {
        return server_s;
    };
    let s = server_s;
    match rule {
        NegotiationRule::ZeroDisablesElseMin if c == 0 => 0,
        NegotiationRule::ZeroDisablesElseMin if s == 0 => c,
        NegotiationRule::EitherZeroDisablesElseMin | NegotiationRule::EitherZeroDisablesElseMax
            if c == 0 || s == 0 =>
        {
            0
        }
        NegotiationRule::ZeroDisablesElseMin | NegotiationRule::EitherZeroDisablesElseMin => {
            c.min(s)
        }
        NegotiationRule::EitherZeroDisablesElseMax => c.max(s),
        NegotiationRule::ClientWins => c,
        NegotiationRule::ZeroMeansOtherElseMin if c == 0 || s == 0 => c.max(s),
        NegotiationRule::ZeroMeansOtherElseMin => c.min(s),
        NegotiationRule::AlwaysZero => 0,
    }
}

/// A client library: its names and, by version range, how it negotiates
/// and dispatches heartbeats.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientLib {
    /// The topic name for `explain` and `--client`: pika-blocking, lapin, …
    pub id: String,
    pub name: String,
    /// Other names users type (pika, celery, go).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Lowercase logger names, namespaces or package paths that show up in
    /// this library's log lines (`pika.adapters`, `phpamqplib\`): a pasted
    /// line containing one is this library's.
    #[serde(default)]
    pub loggers: Vec<String>,
    /// What `audit` adds when it recognises a connection as this library
    /// (pika sends one product name for every adapter, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_note: Option<String>,
    /// How an idle application of this library starves, as a clause that
    /// `audit` ends with "and RabbitMQ drops it …"; without it, the words
    /// every library that heartbeats only inside its calls gets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starves_as: Option<String>,
    /// How the library names itself in the client properties a broker
    /// shows (RabbitMQ's management API), for `audit`; first match wins,
    /// in file order. Applications may override `product`; a connection
    /// that does is not recognised.
    #[serde(default, rename = "signature", skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<Signature>,
    /// A library the broker cannot tell from another: it sends that
    /// library's client properties (pika's adapters, Celery over py-amqp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub looks_like: Option<String>,
    /// Oldest first; the last one is the current behaviour.
    pub versions: Vec<ClientVersion>,
}

/// Client properties that give a library away. Text compares ignoring
/// case and surrounding blanks: `product` and `platform` are equal,
/// `…_contains` contained.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_contains: Option<String>,
    /// The AMQP version the connection speaks, as the broker names it
    /// (`AMQP 0-8`), for a library whose generations send the same
    /// properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// What to call the library in a sentence: `pika`, `Java client`.
    pub called: String,
}

impl Signature {
    /// Whether a connection's `product`, `platform` and `protocol` (empty
    /// when not known) match this signature. One without a product test
    /// matches nothing.
    pub fn matches(&self, product: &str, platform: &str, protocol: &str) -> bool {
        let text = |s: &str| s.trim().to_lowercase();
        let (product, platform, protocol) = (text(product), text(platform), text(protocol));
        let is = |want: &Option<String>, got: &str| want.as_ref().is_none_or(|w| text(w) == got);
        let has =
            |want: &Option<String>, got: &str| want.as_ref().is_none_or(|w| got.contains(&text(w)));
        (self.product.is_some() || self.product_contains.is_some())
            && is(&self.product, &product)
            && has(&self.product_contains, &product)
            && is(&self.platform, &platform)
            && has(&self.platform_contains, &platform)
            && is(&self.protocol, &protocol)
    }
}

/// The library that sent these client properties, and what to call it.
pub fn client_by_properties(
    product: &str,
    platform: &str,
    protocol: &str,
) -> Option<(&'static ClientLib, &'static str)> {
    clients().iter().find_map(|lib| {
        lib.signatures
            .iter()
            .find(|s| s.matches(product, platform, protocol))
            .map(|s| (lib, s.called.as_str()))
    })
}

/// How one range of a library's versions behaves.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientVersion {
    /// The versions this row covers, as a semver requirement.
    pub versions: VersionReq,
    /// The same for a reader: "0.12–0.13", "≥ 1.0".
    pub label: String,
    /// The setting and its default, e.g. "heartbeat (default: server's value)".
    pub setting: String,
    /// The client's heartbeat setting when the user leaves it alone;
    /// None = accept the server's proposal.
    #[serde(default)]
    pub default_heartbeat_s: Option<u16>,
    pub negotiation: NegotiationRule,
    /// Who sends its heartbeats and how often, in plain words.
    pub dispatch: String,
    /// true when heartbeats stop as soon as the application stops pumping I/O.
    pub starves_when_idle: bool,
    /// How often it sends a heartbeat while its I/O runs (for a library
    /// that starves: while the application pumps it); `probe --client` pumps at this cadence.
    pub beats_every: super::cadence::Cadence,
    pub remedy: Vec<String>,
    /// What the application sees when such a connection dies (messages the
    /// library prints or raises).
    #[serde(default)]
    pub symptoms: Vec<String>,
    /// For an open-ended last row: the newest major.minor whose source was
    /// read. A later version still gets this row, said to be newer than
    /// what was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_up_to: Option<String>,
    pub sources: Vec<Source>,
}

impl ClientLib {
    /// The newest behaviour.
    pub fn latest(&self) -> &ClientVersion {
        // Never empty: `clients()` keeps only libraries with a row, and
        // the only ClientLib values come from there.
        &self.versions[self.versions.len() - 1]
    }

    /// The row covering `version`, when any does.
    pub fn at(&self, version: &Version) -> Option<&ClientVersion> {
        self.versions.iter().find(|v| v.versions.matches(version))
    }
}

/// A library as the user named it: all its versions, or one
/// (`pika@0.10`).
#[derive(Debug, Clone, Copy)]
pub struct ClientSpec<'a> {
    pub lib: &'a ClientLib,
    /// The row for the version the user gave; None when they gave none.
    pub pinned: Option<&'a ClientVersion>,
    /// The version the user gave, when it is newer than what was read for
    /// its row (see [`ClientVersion::read_up_to`]).
    pub newer: Option<(u64, u64, u64)>,
}

impl<'a> ClientSpec<'a> {
    /// The spec for a library with no version given.
    pub fn unpinned(lib: &'a ClientLib) -> Self {
        ClientSpec {
            lib,
            pinned: None,
            newer: None,
        }
    }

    /// "kombu 5.4.2 is newer than what amqpdoctor read …", when it is.
    pub fn newer_note(&self) -> Option<String> {
        let (major, minor, patch) = self.newer?;
        let v = format!("{major}.{minor}.{patch}");
        let row = self.row();
        Some(format!(
            "{} {v} is newer than what amqpdoctor read for this row ({}, read up to {}): it is \
             assumed to behave the same; check its changelog",
            self.lib.id,
            row.label,
            row.read_up_to.as_deref().unwrap_or("?")
        ))
    }

    /// The row to predict with: the pinned one, else the newest.
    pub fn row(&self) -> &'a ClientVersion {
        self.pinned.unwrap_or_else(|| self.lib.latest())
    }

    /// The rows to show: the pinned one, or every version.
    pub fn rows(&self) -> &'a [ClientVersion] {
        match self.pinned {
            Some(row) => std::slice::from_ref(row),
            None => &self.lib.versions,
        }
    }

    /// `pika-blocking@0.12–0.13`, or the bare id.
    pub fn name(&self) -> String {
        match self.pinned {
            Some(row) => format!("{}@{}", self.lib.id, row.label),
            None => self.lib.id.clone(),
        }
    }
}

/// Looks a client library up by id or alias (case-insensitive, `_` and
/// spaces read as `-`).
pub fn client(name: &str) -> Option<&'static ClientLib> {
    let norm = name.trim().to_lowercase().replace([' ', '_'], "-");
    clients()
        .iter()
        .find(|c| c.id == norm || c.aliases.contains(&norm))
}

/// `pika`, `pika@0.10`, `pika@1.3.2`: a library and optionally a version.
/// Err says what is wrong, in words for a usage error.
pub fn client_spec(spec: &str) -> Result<ClientSpec<'static>, String> {
    let (name, version) = match spec.split_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (spec, None),
    };
    let lib = client(name).ok_or_else(|| format!("unknown client library `{}`", name.trim()))?;
    let Some(v) = version else {
        return Ok(ClientSpec::unpinned(lib));
    };
    let parsed = parse_version(v).ok_or_else(|| {
        format!(
            "`{}` is not a version (write it like 1.3.2, 0.10 or 2)",
            v.trim()
        )
    })?;
    let row = lib.at(&parsed).ok_or_else(|| {
        let known: Vec<&str> = lib.versions.iter().map(|r| r.label.as_str()).collect();
        format!(
            "amqpdoctor knows nothing about {} {parsed}; it knows {}",
            lib.id,
            known.join(", ")
        )
    })?;
    Ok(ClientSpec {
        lib,
        pinned: Some(row),
        newer: newer_than_read(row, &parsed).then_some((parsed.major, parsed.minor, parsed.patch)),
    })
}

/// Whether `v` is later (by major.minor) than what was read for `row`.
pub fn newer_than_read(row: &ClientVersion, v: &semver::Version) -> bool {
    row.read_up_to
        .as_deref()
        .and_then(parse_version)
        .is_some_and(|r| (v.major, v.minor) > (r.major, r.minor))
}

/// What `row` negotiates against `server_s` when the application asks for
/// `requested` seconds (None = leaves the library's default alone).
pub fn negotiate_for(row: &ClientVersion, server_s: u16, requested: Option<u16>) -> u16 {
    negotiate(
        row.negotiation,
        server_s,
        requested.or(row.default_heartbeat_s),
    )
}

/// Why a library (`name`, behaving as `row`) cannot give the `requested`
/// heartbeat against `server_s`, in plain words; None when it can.
pub fn why_not_honoured(
    name: &str,
    row: &ClientVersion,
    server_s: u16,
    requested: u16,
) -> Option<String> {
    let got = negotiate(row.negotiation, server_s, Some(requested));
    if got == requested {
        return None;
    }
    Some(match (requested, got) {
        _ if row.negotiation == NegotiationRule::AlwaysZero => format!(
            "{name} has no heartbeat setting and answers every Tune with 0: heartbeats are \
             always off, whatever you ask for"
        ),
        (0, _) => format!(
            "{name} cannot disable heartbeats while the server proposes {server_s} s: 0 means \
             \"use the server's value\", so it negotiates {got} s"
        ),
        (_, 0) => format!(
            "{name} turns heartbeats off when the server proposes {server_s} s, whatever you \
             ask for"
        ),
        _ if got > requested => format!(
            "{name} takes the larger of its {requested} s and the server's {server_s} s: it \
             negotiates {got} s"
        ),
        _ => format!(
            "{name} takes the smaller of its {requested} s and the server's {server_s} s: it \
             negotiates {got} s"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_as_users_write_them() {
        let rows: &[(&str, Option<&str>)] = &[
            ("1.3.2", Some("1.3.2")),
            ("0.10", Some("0.10.0")),
            ("2", Some("2.0.0")),
            ("v1.10.0", Some("1.10.0")),
            (" 0.13.1 ", Some("0.13.1")),
            ("1.0.0-beta.1", Some("1.0.0-beta.1")),
            ("1.0-rc1", Some("1.0.0-rc1")),
            ("", None),
            ("x", None),
            ("1..2", None),
            ("-1", None),
            ("99999999999999999999999", None),
        ];
        for &(input, want) in rows {
            assert_eq!(
                parse_version(input).map(|v| v.to_string()).as_deref(),
                want,
                "{input:?}"
            );
        }
    }

    #[test]
    fn negotiate_rules() {
        use NegotiationRule::*;
        // (rule, S, C, expected)
        let rows: &[(NegotiationRule, u16, Option<u16>, u16)] = &[
            (ZeroDisablesElseMin, 60, Some(0), 0),
            (ZeroDisablesElseMin, 0, Some(30), 30),
            (ZeroDisablesElseMin, 0, Some(0), 0),
            (ZeroDisablesElseMin, 60, Some(30), 30),
            (ZeroDisablesElseMin, 60, Some(120), 60),
            (ZeroDisablesElseMin, 60, None, 60),
            (EitherZeroDisablesElseMin, 60, Some(0), 0),
            (EitherZeroDisablesElseMin, 0, Some(30), 0),
            (EitherZeroDisablesElseMin, 60, Some(120), 60),
            (EitherZeroDisablesElseMin, 60, Some(30), 30),
            (EitherZeroDisablesElseMax, 60, Some(0), 0),
            (EitherZeroDisablesElseMax, 0, Some(30), 0),
            (EitherZeroDisablesElseMax, 60, Some(30), 60),
            (EitherZeroDisablesElseMax, 60, Some(120), 120),
            (EitherZeroDisablesElseMax, 60, None, 60),
            (ClientWins, 60, Some(0), 0),
            (ClientWins, 60, Some(120), 120),
            (ClientWins, 60, Some(30), 30),
            (ClientWins, 0, Some(30), 30),
            (ClientWins, 60, None, 60),
            (ClientWins, 0, None, 0),
            (AlwaysZero, 60, None, 0),
            (AlwaysZero, 60, Some(10), 0),
            (AlwaysZero, 0, Some(10), 0),
            (AlwaysZero, 0, None, 0),
            (ZeroMeansOtherElseMin, 60, Some(0), 60),
            (ZeroMeansOtherElseMin, 0, Some(60), 60),
            (ZeroMeansOtherElseMin, 0, Some(0), 0),
            (ZeroMeansOtherElseMin, 60, Some(30), 30),
            (ZeroMeansOtherElseMin, 60, Some(120), 60),
        ];
        for &(rule, s, c, want) in rows {
            assert_eq!(negotiate(rule, s, c), want, "{rule:?} S={s} C={c:?}");
        }
    }
}
