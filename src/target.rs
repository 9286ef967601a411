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

pub mod redact;
mod tls;
pub use redact::{redact_command_line, redact_url_text};
pub use tls::TlsSettings;

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
        if let Some(why) = unsafe_shape(raw) {
            return Err(malformed(why));
        }
        // `amqp:/user:pw@host` parses as a URL whose *path* is
        // `user:pw@host`: it would log in as guest and send the password to
        // the broker as a vhost name. Demand the two slashes.
        if let Some((scheme, rest)) = raw.split_once(':') {
            if (scheme.eq_ignore_ascii_case("amqp") || scheme.eq_ignore_ascii_case("amqps"))
                && !rest.starts_with("//")
            {
                return Err(malformed(
                    "a URL needs two slashes after the scheme: did you mean amqp://…?",
                ));
            }
        }
        let url = url::Url::parse(&with_host(raw)).map_err(|e| malformed(&e.to_string()))?;
        let tls = match url.scheme() {
            "amqp" => false,
            "amqps" => true,
            other => return Err(TargetError::Scheme(other.to_string())),
        };
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => {
                idna_host(d).map_err(|e| malformed(&e))?
            }
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => "localhost".to_string(),
        };
        let port = match url.port() {
            Some(0) => return Err(malformed("port 0 is not a port a broker can listen on")),
            Some(p) => p,
            None if tls => 5671,
            None => 5672,
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| malformed("credentials or vhost are not valid UTF-8"))
        };
        // Absent user info (no `@`) means guest/guest; a present one is
        // taken as written, even empty (`amqp://:@host`): the spec holds
        // zero-length and absent apart.
        let userinfo = raw
            .split_once("//")
            .map(|(_, body)| &body[..body.find(['/', '?', '#']).unwrap_or(body.len())])
            .and_then(|authority| authority.rfind('@').map(|at| &authority[..at]));
        let (user, password) = match userinfo {
            None => ("guest".to_string(), "guest".to_string()),
            Some(_) => (
                decode(url.username())?,
                url.password().map(decode).transpose()?.unwrap_or_default(),
            ),
        };
        let mut warnings = Vec::new();
        let path = url.path();
        let vhost = match path {
            // No `/` after the authority: the vhost is absent, so the
            // default one.
            "" => "/".to_string(),
            // A `/` with nothing after it names the empty vhost "".
            "/" => {
                warnings.push(
                    "the URL ends in `/`, which names the empty vhost \"\" (RabbitMQ's URI \
                     spec; the Java and Erlang clients read it so, pika reads it as \"/\"): for \
                     the default vhost leave the `/` out or write `/%2f`"
                        .to_string(),
                );
                String::new()
            }
            p => {
                let seg = &p[1..];
                if seg.contains('/') {
                    return Err(malformed(
                        "the vhost must be a single path segment (write `/` as %2f)",
                    ));
                }
                decode(seg)?
            }
        };
        if vhost.len() > SHORT_STRING_MAX {
            return Err(malformed(&format!(
                "the vhost is {} bytes; AMQP allows at most {SHORT_STRING_MAX}",
                vhost.len()
            )));
        }
        let options = query_options(&url, &mut warnings).map_err(|e| malformed(&e))?;
        let tls_settings = tls.then(|| TlsSettings::from_query(&options));
        let tls_given: Vec<&str> = [
            ("cacertfile", options.cacertfile.is_some()),
            ("certfile", options.certfile.is_some()),
            ("keyfile", options.keyfile.is_some()),
            ("verify", options.verify.is_some()),
            (
                "server_name_indication",
                options.server_name_indication.is_some(),
            ),
        ]
        .iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| *name)
        .collect();
        if !tls && !tls_given.is_empty() {
            warnings.push(format!(
                "ignored on an amqp:// URL (only of use for amqps://): {}",
                tls_given.join(", ")
            ));
        }
        if !tls
            && options.auth_mechanisms.contains(&AuthMechanism::External)
            && !options
                .auth_mechanisms
                .iter()
                .any(|m| *m != AuthMechanism::External)
        {
            return Err(malformed(
                "auth_mechanism=external logs in with a TLS client certificate, which needs \
                 amqps://",
            ));
        }
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

/// The spec lets the host be zero-length (`amqp://user@`, `amqp://:10000`,
/// `amqp://:@/`); the URL parser does not accept that next to user info or
/// a port, so an empty host is written out as the default, `localhost`.
fn with_host(raw: &str) -> std::borrow::Cow<'_, str> {
    let Some(start) = raw.find("//").map(|i| i + 2) else {
        return raw.into();
    };
    let body = &raw[start..];
    let authority_end = body.find(['/', '?', '#']).unwrap_or(body.len());
    let host_start = body[..authority_end].rfind('@').map_or(0, |at| at + 1);
    let host = &body[host_start..authority_end];
    if (host.is_empty() && host_start > 0) || host.starts_with(':') {
        let at = start + host_start;
        return format!("{}localhost{}", &raw[..at], &raw[at..]).into();
    }
    raw.into()
}

/// The query parameters RabbitMQ documents ("URI Query Parameters"),
/// parsed; a bad value is an error naming the parameter, an unknown
/// parameter a warning naming it. Nothing is dropped silently.
fn query_options(url: &url::Url, warnings: &mut Vec<String>) -> Result<UriOptions, String> {
    fn number<T: std::str::FromStr>(name: &str, v: &str, what: &str) -> Result<T, String> {
        v.trim()
            .parse()
            .map_err(|_| format!("{name}={v} is not {what}"))
    }
    let mut o = UriOptions::default();
    let mut unknown = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (k, v) in url.query_pairs() {
        let (k, v) = (k.as_ref(), v.as_ref());
        if k != "auth_mechanism" && !seen.insert(k.to_string()) {
            warnings.push(format!(
                "{k} is given more than once in the URL: the last one counts"
            ));
        }
        match k {
            "heartbeat" => {
                o.heartbeat_s = Some(number(k, v, "a whole number of seconds from 0 to 65535")?)
            }
            "connection_timeout" => {
                let ms: u64 = number(k, v, "a number of milliseconds")?;
                if ms == 0 {
                    return Err(
                        "connection_timeout=0: it is in milliseconds and must be above 0".into(),
                    );
                }
                o.connection_timeout_ms = Some(ms);
            }
            "channel_max" => o.channel_max = Some(number(k, v, "a channel count from 0 to 65535")?),
            "frame_max" => {
                let n: u32 = number(k, v, "a frame size in bytes")?;
                if n != 0 && n < FRAME_MIN_SIZE {
                    return Err(format!(
                        "frame_max={n} is below AMQP's minimum frame size of {FRAME_MIN_SIZE} bytes"
                    ));
                }
                o.frame_max = Some(n);
            }
            "auth_mechanism" => o
                .auth_mechanisms
                .push(match v.to_ascii_lowercase().as_str() {
                    "plain" => AuthMechanism::Plain,
                    "amqplain" => AuthMechanism::Amqplain,
                    "external" => AuthMechanism::External,
                    _ => {
                        return Err(format!(
                        "auth_mechanism={v} is not a mechanism amqpdoctor knows (plain, amqplain, \
                         external)"
                    ))
                    }
                }),
            "cacertfile" => o.cacertfile = Some(v.to_string()),
            "certfile" => o.certfile = Some(v.to_string()),
            "keyfile" => o.keyfile = Some(v.to_string()),
            "verify" => {
                o.verify = Some(match v {
                    "verify_peer" => true,
                    "verify_none" => false,
                    _ => return Err(format!("verify={v}: use verify_peer or verify_none")),
                })
            }
            "server_name_indication" => o.server_name_indication = Some(v.to_string()),
            other => unknown.push(other.to_string()),
        }
    }
    if !unknown.is_empty() {
        warnings.push(format!(
            "ignored URL query parameter(s) amqpdoctor does not know: {}",
            unknown.join(", ")
        ));
    }
    Ok(o)
}

/// Shapes refused before any parsing, each of which would otherwise send
/// something else than what was meant:
///
/// - whitespace or a control character (a targets-file line with trailing
///   words would have them in the vhost);
/// - an `@` after the authority's first `/ ? #`. RabbitMQ's URI spec
///   (rabbitmq/rabbitmq-website, site/uri-spec.md: `password = *(
///   unreserved / pct-encoded / sub-delims )`, `vhost = segment`) lets
///   neither user info hold an unencoded `/ ? #` nor the host end
///   elsewhere, so `amqp://host:/pw@h` reads as vhost `pw@h` logged in as
///   guest: the password would reach the broker as a vhost name. It is a
///   password holding `/ ? #`, refused with how to encode it.
fn unsafe_shape(raw: &str) -> Option<&'static str> {
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(
            "a URL holds no spaces or control characters (a vhost with a space is written %20; \
             one URL per line in a targets file)",
        );
    }
    let body = raw.split_once("//")?.1;
    let authority_end = body.find(['/', '?', '#'])?;
    body[authority_end..]
        .contains('@')
        .then_some("an `@` follows a / ? or #, so the user info would end early")
}

/// When a `/`, `?` or `#` comes before the last `@`, the user info was most
/// likely cut short by one of them in the password: say how to write it.
fn encoding_hint(raw: &str) -> &'static str {
    // Without `//` the URL's shape is wrong already; that error says so.
    let Some((_, body)) = raw.split_once("//") else {
        return "";
    };
    match body.rfind('@') {
        Some(at) if body[..at].contains(['/', '?', '#', '@']) => {
            " (a user name or password holding / ? # or @ must be percent-encoded: %2F %3F %23 %40)"
        }
        _ => "",
    }
}

/// A host as the resolver wants it: the URL parser leaves a non-ASCII host
/// of a non-special scheme percent-encoded (`b%C3%BCcher.example`); decode
/// it and convert it with IDNA (`xn--bcher-kva.example`).
fn idna_host(d: &str) -> Result<String, String> {
    let decoded = percent_encoding::percent_decode_str(d)
        .decode_utf8()
        .map_err(|_| "the host name is not valid UTF-8".to_string())?;
    if decoded.is_ascii() {
        return Ok(decoded.into_owned());
    }
    match url::Host::parse(&decoded) {
        Ok(url::Host::Domain(ascii)) => Ok(ascii),
        Ok(other) => Ok(other.to_string()),
        Err(e) => Err(format!("the host name is not a valid domain ({e})")),
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
