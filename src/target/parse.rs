//! The parts of [`Target::parse`](super::Target::parse): the shapes
//! refused before parsing, the authority, the credentials, the vhost, the
//! query parameters and the TLS options' sense on a plain URL.

use super::{AuthMechanism, UriOptions, FRAME_MIN_SIZE, SHORT_STRING_MAX};

/// The shapes refused before the URL parser sees the text: see
/// [`unsafe_shape`], and a scheme without its two slashes.
pub(super) fn refuse_shape(raw: &str) -> Result<(), &'static str> {
    if let Some(why) = unsafe_shape(raw) {
        return Err(why);
    }
    // `amqp:/user:pw@host` parses as a URL whose *path* is
    // `user:pw@host`: it would log in as guest and send the password to
    // the broker as a vhost name. Demand the two slashes.
    if let Some((scheme, rest)) = raw.split_once(':') {
        if (scheme.eq_ignore_ascii_case("amqp") || scheme.eq_ignore_ascii_case("amqps"))
            && !rest.starts_with("//")
        {
            return Err("a URL needs two slashes after the scheme: did you mean amqp://…?");
        }
    }
    Ok(())
}

/// The host as the resolver wants it (an empty one is `localhost`) and the
/// port (the scheme's default when absent; 0 refused).
pub(super) fn host_and_port(url: &url::Url, tls: bool) -> Result<(String, u16), String> {
    let host = match url.host() {
        Some(url::Host::Domain(d)) if !d.is_empty() => idna_host(d)?,
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        _ => "localhost".to_string(),
    };
    let port = match url.port() {
        Some(0) => return Err("port 0 is not a port a broker can listen on".into()),
        Some(p) => p,
        None if tls => 5671,
        None => 5672,
    };
    Ok((host, port))
}

/// Percent-decoded text of the URL, which must be UTF-8.
fn decode(s: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| "credentials or vhost are not valid UTF-8".to_string())
}

/// The user and password. Absent user info (no `@`) means guest/guest; a
/// present one is taken as written, even empty (`amqp://:@host`): the spec
/// holds zero-length and absent apart.
pub(super) fn credentials(raw: &str, url: &url::Url) -> Result<(String, String), String> {
    let userinfo = raw
        .split_once("//")
        .map(|(_, body)| &body[..body.find(['/', '?', '#']).unwrap_or(body.len())])
        .and_then(|authority| authority.rfind('@').map(|at| &authority[..at]));
    Ok(match userinfo {
        None => ("guest".to_string(), "guest".to_string()),
        Some(_) => (
            decode(url.username())?,
            url.password().map(decode).transpose()?.unwrap_or_default(),
        ),
    })
}

/// The vhost named by the URL's path: absent is the default `/`, a lone
/// `/` the empty vhost (with a warning), else one decoded segment of at
/// most [`SHORT_STRING_MAX`] bytes.
pub(super) fn vhost(path: &str, warnings: &mut Vec<String>) -> Result<String, String> {
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
                return Err("the vhost must be a single path segment (write `/` as %2f)".into());
            }
            decode(seg)?
        }
    };
    if vhost.len() > SHORT_STRING_MAX {
        return Err(format!(
            "the vhost is {} bytes; AMQP allows at most {SHORT_STRING_MAX}",
            vhost.len()
        ));
    }
    Ok(vhost)
}

/// On an `amqp://` URL, TLS parameters are warned about as ignored, and
/// EXTERNAL as the only mechanism is refused (it needs a client
/// certificate).
pub(super) fn check_tls_options(
    tls: bool,
    options: &UriOptions,
    warnings: &mut Vec<String>,
) -> Result<(), &'static str> {
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
        return Err(
            "auth_mechanism=external logs in with a TLS client certificate, which needs \
             amqps://",
        );
    }
    Ok(())
}

/// The spec lets the host be zero-length (`amqp://user@`, `amqp://:10000`,
/// `amqp://:@/`); the URL parser does not accept that next to user info or
/// a port, so an empty host is written out as the default, `localhost`.
pub(super) fn with_host(raw: &str) -> std::borrow::Cow<'_, str> {
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
pub(super) fn query_options(
    url: &url::Url,
    warnings: &mut Vec<String>,
) -> Result<UriOptions, String> {
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
pub(super) fn encoding_hint(raw: &str) -> &'static str {
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
