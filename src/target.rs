//! The broker a command talks to: URL parsing, defaults, and credential
//! redaction.
//!
//! A [`Target`] never prints its password. `Display` and `Debug` both redact,
//! and the only way to read the secret is [`Target::password`], which the
//! handshake code uses to build the PLAIN response. Everything a user sees
//! (reports, errors, logs) goes through `Display`.

use std::fmt;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use thiserror::Error;

mod parse;
pub mod redact;
mod tls;
pub use redact::{redact_command_line, redact_url_text};
pub use tls::TlsSettings;

use parse::{
    check_tls_options, credentials, encoding_hint, host_and_port, query_options, refuse_shape,
    vhost, with_host,
};

/// The URL used when neither an argument nor `$AMQP_URL` gives one.
pub const DEFAULT_URL: &str = "amqp://guest:guest@localhost:5672/%2f";

/// Characters escaped when the vhost is printed back as a URL path segment.
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'/')
    .add(b'%')
    .add(b'?')
    .add(b'#')
    .add(b'@');

/// The user name in the printed URL also escapes `:`, or `us:er` would read
/// as user `us` with password `er`.
const USER: &AsciiSet = &PATH_SEGMENT.add(b':');

/// AMQP short strings (the vhost in Connection.Open, exchange and routing
/// key names) are at most this many bytes.
pub const SHORT_STRING_MAX: usize = 255;

/// A parsed, validated AMQP target.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    host: String,
    port: u16,
    user: String,
    password: String,
    vhost: String,
    options: UriOptions,
    warnings: Vec<String>,
    /// `amqps://`: TLS, with these settings.
    tls: Option<TlsSettings>,
}

/// A SASL mechanism the URL allows (`auth_mechanism=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMechanism {
    Plain,
    Amqplain,
    External,
}

impl AuthMechanism {
    /// The name the server announces in Connection.Start.
    pub fn name(self) -> &'static str {
        match self {
            AuthMechanism::Plain => "PLAIN",
            AuthMechanism::Amqplain => "AMQPLAIN",
            AuthMechanism::External => "EXTERNAL",
        }
    }
}

/// What the URL's query asks for (RabbitMQ's "URI Query Parameters").
/// None: the URL did not say; the flag or the default decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UriOptions {
    /// `heartbeat=` in seconds (0 turns heartbeats off).
    pub heartbeat_s: Option<u16>,
    /// `connection_timeout=` in milliseconds.
    pub connection_timeout_ms: Option<u64>,
    /// `channel_max=`: at most this many channels (0: no limit of ours).
    pub channel_max: Option<u16>,
    /// `frame_max=`: the largest frame we accept (0: no limit of ours).
    pub frame_max: Option<u32>,
    /// `auth_mechanism=`, in the order given (empty: PLAIN).
    pub auth_mechanisms: Vec<AuthMechanism>,
    /// TLS settings (`cacertfile`, `certfile`, `keyfile`, `verify`,
    /// `server_name_indication`): only of use for `amqps://`.
    pub cacertfile: Option<String>,
    pub certfile: Option<String>,
    pub keyfile: Option<String>,
    /// `verify=verify_peer` (true) or `verify_none` (false).
    pub verify: Option<bool>,
    pub server_name_indication: Option<String>,
}

/// The smallest frame_max AMQP 0-9-1 allows (the spec's frame-min-size).
pub const FRAME_MIN_SIZE: u32 = 4096;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("invalid URL `{url}`: {reason}")]
    Malformed { url: String, reason: String },
    #[error("unsupported scheme `{0}`: use amqp:// or amqps:// (TLS)")]
    Scheme(String),
}

impl Target {
    /// Parse an `amqp://user:pass@host:port/vhost` URL.
    ///
    /// Defaults follow the RabbitMQ URI spec: user and password `guest`, host
    /// `localhost`, port 5672, vhost `/`. An empty path means the default
    /// vhost; `/%2f` names `/` explicitly.
    pub fn parse(raw: &str) -> Result<Self, TargetError> {
        let malformed = |reason: &str| TargetError::Malformed {
            url: crate::target::redact::url_for_message(raw),
            reason: format!("{reason}{}", encoding_hint(raw)),
        };
        refuse_shape(raw).map_err(malformed)?;
        let url = url::Url::parse(&with_host(raw)).map_err(|e| malformed(&e.to_string()))?;
        let tls = match url.scheme() {
            "amqp" => false,
            "amqps" => true,
            other => return Err(TargetError::Scheme(other.to_string())),
        };
        let (host, port) = host_and_port(&url, tls).map_err(|e| malformed(&e))?;
        let (user, password) = credentials(raw, &url).map_err(|e| malformed(&e))?;
        let mut warnings = Vec::new();
        let vhost = vhost(url.path(), &mut warnings).map_err(|e| malformed(&e))?;
        let options = query_options(&url, &mut warnings).map_err(|e| malformed(&e))?;
        check_tls_options(tls, &options, &mut warnings).map_err(malformed)?;
        let tls_settings = tls.then(|| TlsSettings::from_query(&options));
        Ok(Target {
            host,
            port,
            user,
            password,
            vhost,
            options,
            warnings,
            tls: tls_settings,
        })
    }

    /// What the URL's query asked for.
    pub fn options(&self) -> &UriOptions {
        &self.options
    }

    /// What the URL says that the user should hear before anything is
    /// sent: query parameters that were not understood or do not apply,
    /// an empty vhost.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn host(&self) -> &str {
        &self.host
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn user(&self) -> &str {
        &self.user
    }
    pub fn vhost(&self) -> &str {
        &self.vhost
    }
    /// The secret. Only the authentication code may call this.
    pub fn password(&self) -> &str {
        &self.password
    }
    /// The same target with another password (from a file or the
    /// environment instead of the URL).
    pub fn with_password(mut self, password: String) -> Self {
        self.password = password;
        self
    }

    /// `host:port`, with IPv6 literals bracketed, for connecting and messages.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let user = utf8_percent_encode(&self.user, USER);
        // Lower-case %2f, as RabbitMQ's docs write the default vhost.
        let vhost = utf8_percent_encode(&self.vhost, PATH_SEGMENT)
            .to_string()
            .replace("%2F", "%2f");
        let scheme = if self.is_tls() { "amqps" } else { "amqp" };
        write!(f, "{scheme}://{user}:***@{}/{vhost}", self.authority())
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_defaults() {
        let rows: &[(&str, &str, u16, &str, &str, &str)] = &[
            ("amqp://", "localhost", 5672, "guest", "guest", "/"),
            ("amqp://localhost", "localhost", 5672, "guest", "guest", "/"),
            ("amqp://u:p@h:1234/v", "h", 1234, "u", "p", "v"),
            ("amqp://u:p@h/%2f", "h", 5672, "u", "p", "/"),
            (
                "amqp://u:p%40ss@127.0.0.1/%2f",
                "127.0.0.1",
                5672,
                "u",
                "p@ss",
                "/",
            ),
            ("amqp://u@h", "h", 5672, "u", "", "/"),
            (
                "amqp://[::1]:5673/x%2Fy",
                "::1",
                5673,
                "guest",
                "guest",
                "x/y",
            ),
        ];
        for (url, host, port, user, pass, vhost) in rows {
            let t = Target::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(
                (t.host(), t.port(), t.user(), t.password(), t.vhost()),
                (*host, *port, *user, *pass, *vhost),
                "{url}"
            );
        }
    }

    /// The RabbitMQ URI Specification's Appendix A, row by row
    /// (rabbitmq/rabbitmq-website, docs/uri-spec.md), with amqpdoctor's
    /// defaults for absent parts: guest/guest, localhost, 5672 (5671 for
    /// amqps), vhost "/".
    #[test]
    fn the_uri_specs_examples() {
        // (URI, user, password, host, port, vhost)
        let rows: &[(&str, &str, &str, &str, u16, &str)] = &[
            (
                "amqp://user:pass@host:10000/vhost",
                "user",
                "pass",
                "host",
                10000,
                "vhost",
            ),
            (
                "amqp://user%61:%61pass@ho%61st:10000/v%2fhost",
                "usera",
                "apass",
                "hoast",
                10000,
                "v/host",
            ),
            ("amqp://", "guest", "guest", "localhost", 5672, "/"),
            // present but empty user info and vhost are not absent ones
            ("amqp://:@/", "", "", "localhost", 5672, ""),
            ("amqp://user@", "user", "", "localhost", 5672, "/"),
            ("amqp://user:pass@", "user", "pass", "localhost", 5672, "/"),
            ("amqp://host", "guest", "guest", "host", 5672, "/"),
            ("amqp://:10000", "guest", "guest", "localhost", 10000, "/"),
            (
                "amqp:///vhost",
                "guest",
                "guest",
                "localhost",
                5672,
                "vhost",
            ),
            ("amqp://host/", "guest", "guest", "host", 5672, ""),
            ("amqp://host/%2f", "guest", "guest", "host", 5672, "/"),
            ("amqp://[::1]", "guest", "guest", "::1", 5672, "/"),
        ];
        for (url, user, pass, host, port, vhost) in rows {
            let t = Target::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(
                (t.user(), t.password(), t.host(), t.port(), t.vhost()),
                (*user, *pass, *host, *port, *vhost),
                "{url}"
            );
        }
        // The empty vhost is said out loud; the absent one is not.
        assert!(Target::parse("amqp://host/").unwrap().warnings()[0].contains("empty vhost"));
        assert!(Target::parse("amqp://host").unwrap().warnings().is_empty());
    }

    #[test]
    fn query_parameters() {
        let o =
            |url: &str| Target::parse(url).map(|t| (t.options().clone(), t.warnings().to_vec()));
        // (URL, check)
        type Check = Box<dyn Fn(&UriOptions, &[String]) -> bool>;
        let ok: Vec<(&str, Check)> = vec![
            (
                "amqp://h?heartbeat=5&connection_timeout=10000",
                Box::new(|o, w| {
                    o.heartbeat_s == Some(5)
                        && o.connection_timeout_ms == Some(10_000)
                        && w.is_empty()
                }),
            ),
            (
                "amqp://h?heartbeat=0",
                Box::new(|o, _| o.heartbeat_s == Some(0)),
            ),
            (
                "amqp://h?channel_max=16&frame_max=8192",
                Box::new(|o, _| o.channel_max == Some(16) && o.frame_max == Some(8192)),
            ),
            (
                "amqp://h?frame_max=0",
                Box::new(|o, _| o.frame_max == Some(0)),
            ),
            (
                "amqp://h?auth_mechanism=plain&auth_mechanism=AMQPLAIN",
                Box::new(|o, _| {
                    o.auth_mechanisms == [AuthMechanism::Plain, AuthMechanism::Amqplain]
                }),
            ),
            // unknown ones are named, not dropped
            (
                "amqp://h?socket_timeout=1&heartbeat=5",
                Box::new(|o, w| {
                    o.heartbeat_s == Some(5) && w.len() == 1 && w[0].contains("socket_timeout")
                }),
            ),
            // TLS settings do nothing on amqp://: said so
            (
                "amqp://h?cacertfile=/ca.pem&verify=verify_peer",
                Box::new(|o, w| {
                    o.cacertfile.as_deref() == Some("/ca.pem")
                        && o.verify == Some(true)
                        && w.iter().any(|w| w.contains("cacertfile, verify"))
                }),
            ),
            (
                "amqp://h?heartbeat=5&heartbeat=10",
                Box::new(|o, w| {
                    o.heartbeat_s == Some(10) && w.iter().any(|w| w.contains("more than once"))
                }),
            ),
            // percent-decoding applies to values
            (
                "amqp://h?server_name_indication=my%2Dhost",
                Box::new(|o, _| o.server_name_indication.as_deref() == Some("my-host")),
            ),
        ];
        for (url, check) in ok {
            let (opts, warnings) = o(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(check(&opts, &warnings), "{url}: {opts:?} {warnings:?}");
        }
        for (url, says) in [
            ("amqp://h?heartbeat=abc", "heartbeat=abc"),
            ("amqp://h?heartbeat=70000", "heartbeat=70000"),
            ("amqp://h?heartbeat=-1", "heartbeat=-1"),
            ("amqp://h?connection_timeout=0", "connection_timeout=0"),
            ("amqp://h?frame_max=100", "frame_max=100"),
            ("amqp://h?channel_max=x", "channel_max=x"),
            (
                "amqp://h?auth_mechanism=kerberos",
                "auth_mechanism=kerberos",
            ),
            ("amqp://h?verify=yes", "verify=yes"),
            ("amqp://h?auth_mechanism=external", "amqps://"),
        ] {
            let err = o(url).unwrap_err().to_string();
            assert!(err.contains(says), "{url}: {err}");
        }
    }

    #[test]
    fn rejects_bad_urls() {
        for url in [
            "",
            "localhost:5672",
            "http://h/",
            "amqp://h/a/b",
            "amqp://h:99999/",
        ] {
            assert!(Target::parse(url).is_err(), "{url} should be rejected");
        }
    }

    #[test]
    fn display_and_errors_never_show_the_password() {
        let t = Target::parse("amqp://bob:s3cr3t-pw@h:5672/%2f").unwrap();
        assert_eq!(t.to_string(), "amqp://bob:***@h:5672/%2f");
        assert!(!format!("{t:?}").contains("s3cr3t"));
        let err = Target::parse("amqp://bob:s3cr3t-pw@h:notaport/").unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        assert_eq!(
            redact_url_text("amqp://bob:s3cr3t@h:x/v"),
            "amqp://bob:***@h:x/v"
        );
        assert_eq!(redact_url_text("no url here"), "no url here");
    }

    #[test]
    fn redaction_survives_every_malformed_shape() {
        let pw = "S3cr3tPw";
        // (URL, what the redacted text must still show)
        let rows = [
            (
                "amqp://user:S3cr3tPw/x@127.0.0.1:5672/%2f",
                "127.0.0.1:5672/%2f",
            ),
            ("amqp://user:S3cr3tPw#x@127.0.0.1:5672/%2f", "127.0.0.1"),
            ("amqp://user:S3cr3tPw?x@127.0.0.1:5672/%2f", "127.0.0.1"),
            ("amqp://user:S3cr3tPw@x@127.0.0.1:5672/%2f", "127.0.0.1"),
            ("amqp:/user:S3cr3tPw!@127.0.0.1:5672", "127.0.0.1"),
            ("amqp:user:S3cr3tPw!@127.0.0.1:5672", "127.0.0.1"),
            ("amqp://user:S3cr3tPw@h:notaport/", "h:notaport"),
            ("amqp://user:S3cr3tPw", "user"),
            ("amqp://user:S3cr3tPw/", "user"),
            ("user:S3cr3tPw@127.0.0.1", "127.0.0.1"),
            ("amqps://user:S3cr3tPw@h/", "h/"),
            ("amqp://user:S3cr3tPw@[::1/", "[::1/"),
        ];
        for (url, keeps) in rows {
            let red = redact_url_text(url);
            assert!(!red.contains(pw), "{url} → {red}");
            assert!(red.contains(keeps), "{url} → {red} lost {keeps}");
            if let Err(e) = Target::parse(url) {
                assert!(!e.to_string().contains(pw), "{url}: {e}");
            }
        }
    }

    #[test]
    fn one_slash_port_zero_and_long_vhosts_are_rejected() {
        for url in [
            "amqp:/user:S3cr3tPw!@127.0.0.1:5672",
            "amqp:user:S3cr3tPw!@127.0.0.1:5672",
            "amqp://h:0/",
        ] {
            let err = Target::parse(url).expect_err(url).to_string();
            assert!(!err.contains("S3cr3tPw"), "{err}");
        }
        assert!(Target::parse("amqp:/u:p@h")
            .unwrap_err()
            .to_string()
            .contains("amqp://"));
        let long = format!("amqp://h/{}", "v".repeat(256));
        assert!(Target::parse(&long)
            .unwrap_err()
            .to_string()
            .contains("255"));
        assert!(Target::parse(&format!("amqp://h/{}", "v".repeat(255))).is_ok());
    }

    #[test]
    fn user_with_a_colon_stays_encoded_and_unicode_hosts_use_idna() {
        let t = Target::parse("amqp://us%3Aer:x@h").unwrap();
        assert_eq!(t.user(), "us:er");
        assert_eq!(t.to_string(), "amqp://us%3Aer:***@h:5672/%2f");
        let t = Target::parse("amqp://bücher.example/").unwrap();
        assert_eq!(t.host(), "xn--bcher-kva.example");
    }

    #[test]
    fn ipv6_authority_is_bracketed() {
        let t = Target::parse("amqp://[::1]/").unwrap();
        assert_eq!(t.authority(), "[::1]:5672");
    }
}
