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

/// A parsed, validated AMQP target.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    host: String,
    port: u16,
    user: String,
    password: String,
    vhost: String,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("invalid URL `{url}`: {reason}")]
    Malformed { url: String, reason: String },
    #[error("unsupported scheme `{0}`: use amqp:// (amqps:// TLS targets are not supported yet)")]
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
            url: redact_url_text(raw),
            reason: reason.to_string(),
        };
        let url = url::Url::parse(raw).map_err(|e| malformed(&e.to_string()))?;
        match url.scheme() {
            "amqp" => {}
            other => return Err(TargetError::Scheme(other.to_string())),
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => "localhost".to_string(),
        };
        let port = url.port().unwrap_or(5672);
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| malformed("credentials or vhost are not valid UTF-8"))
        };
        let user = match url.username() {
            "" => "guest".to_string(),
            u => decode(u)?,
        };
        let password = match url.password() {
            None if url.username().is_empty() => "guest".to_string(),
            None => String::new(),
            Some(p) => decode(p)?,
        };
        let path = url.path();
        let vhost = match path {
            "" | "/" => "/".to_string(),
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
        Ok(Target {
            host,
            port,
            user,
            password,
            vhost,
        })
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
        let user = utf8_percent_encode(&self.user, PATH_SEGMENT);
        // Lower-case %2f, as RabbitMQ's docs write the default vhost.
        let vhost = utf8_percent_encode(&self.vhost, PATH_SEGMENT)
            .to_string()
            .replace("%2F", "%2f");
        write!(f, "amqp://{user}:***@{}/{vhost}", self.authority())
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({self})")
    }
}

/// Redact the password from URL-like text we could not parse, so that even
/// an error about a malformed URL never echoes the secret.
pub fn redact_url_text(raw: &str) -> String {
    let Some(scheme_end) = raw.find("://") else {
        return raw.to_string();
    };
    let rest = &raw[scheme_end + 3..];
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    let Some(at) = authority.rfind('@') else {
        return raw.to_string();
    };
    let userinfo = &authority[..at];
    let user = userinfo.split(':').next().unwrap_or("");
    format!("{}{}:***@{}", &raw[..scheme_end + 3], user, &rest[at + 1..])
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
                "amqp://u:p%40ss@127.0.0.1/",
                "127.0.0.1",
                5672,
                "u",
                "p@ss",
                "/",
            ),
            ("amqp://u@h/", "h", 5672, "u", "", "/"),
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

    #[test]
    fn rejects_bad_urls() {
        for url in [
            "",
            "localhost:5672",
            "http://h/",
            "amqps://h/",
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
    fn ipv6_authority_is_bracketed() {
        let t = Target::parse("amqp://[::1]/").unwrap();
        assert_eq!(t.authority(), "[::1]:5672");
    }
}
