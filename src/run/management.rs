//! The RabbitMQ management HTTP API, as `audit` reads it: the URL (with
//! its credentials, never printed), the requests (each bounded by the
//! timeout, each answer read up to [`MAX_BODY`]), and the API's JSON read
//! leniently into the classifier's [`BrokerConnection`]s.
//!
//! Three GETs, one after the other on one blocking agent (`ureq`): the
//! overview; the connections' heartbeats only (`columns=timeout`, a few
//! bytes each), to size the sample window to the longest T; then the
//! connections with `recv_oct` sampled every 5 s over that window
//! (`data_rates_age`, `data_rates_incr`). The caller runs [`fetch`] off the
//! async runtime and races it against Ctrl-C.

use std::io::Read;
use std::time::{Duration, Instant};

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::classify::audit::{ApiFailure, ApiFailureKind, BrokerConnection, STATS_INTERVAL_MS};
use crate::error::UsageError;
use crate::target::redact_url_text;

mod json;
pub use json::MAX_CONNECTIONS;
use json::{read_connections, ApiOverview, ApiTimeout, Capped};

/// The most any one answer may hold (decompressed). Enough for several
/// thousand connections with their samples; a hostile or mistaken server
/// cannot make amqpdoctor allocate more.
pub const MAX_BODY: u64 = 16 * 1024 * 1024;

/// The sample window: at least this long, so that a young T still shows
/// some history…
const MIN_WINDOW_S: u64 = 30;
/// …and at most this long: the management plugin keeps 5 s samples for
/// 600 s by default (`sample_retention_policies`, `basic`).
const MAX_WINDOW_S: u64 = 600;

/// The columns `audit` reads: the rest (garbage collection, reductions,
/// their samples) would only make the answer bigger.
const COLUMNS: &str = "name,node,type,peer_host,peer_port,host,port,user,vhost,protocol,ssl,\
ssl_protocol,state,channels,connected_at,timeout,client_properties,recv_oct,send_oct,\
recv_oct_details,send_oct_details";

/// The user name in a printed URL escapes `:` and `@`.
const USER: &AsciiSet = &CONTROLS.add(b' ').add(b':').add(b'@').add(b'/').add(b'%');

/// Where the management API is and who logs in. `Display` and `Debug`
/// redact the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ManagementUrl {
    https: bool,
    /// As it goes in a URL (`[::1]` bracketed).
    host: String,
    port: u16,
    /// The path prefix before `/api`, without a trailing slash (`""` or
    /// `/rabbitmq`).
    base: String,
    user: String,
    password: String,
}

impl ManagementUrl {
    /// Parse `http[s]://[user[:password]@]host[:port][/prefix]`. Without
    /// credentials: guest/guest. Errors are usage errors that never show
    /// the password, even for a URL that does not parse.
    pub fn parse(raw: &str) -> Result<Self, UsageError> {
        let shown = redact_url_text(raw.trim());
        let bad = |why: &str| UsageError(format!("--management `{shown}`: {why}"));
        let url = url::Url::parse(raw.trim()).map_err(|e| {
            bad(&format!(
                "{e} (write it like http://localhost:15672; a password holding / ? # or @ must be \
                 percent-encoded)"
            ))
        })?;
        let https = match url.scheme() {
            "http" => false,
            "https" => true,
            "amqp" | "amqps" => {
                return Err(bad(
                    "that is an AMQP URL; audit reads the management HTTP API, e.g. \
                     http://localhost:15672 (enable it with `rabbitmq-plugins enable \
                     rabbitmq_management`)",
                ))
            }
            other => return Err(bad(&format!("`{other}:` is not http or https"))),
        };
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            _ => return Err(bad("no host in it")),
        };
        let port = url
            .port_or_known_default()
            .filter(|&p| p != 0)
            .ok_or_else(|| bad("port 0 is not a port the API can listen on"))?;
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| bad("the user name or password is not valid UTF-8"))
        };
        let (user, password) = match (url.username(), url.password()) {
            ("", None) => ("guest".to_string(), "guest".to_string()),
            (u, p) => (decode(u)?, decode(p.unwrap_or(""))?),
        };
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("give the API's base URL without ? or #"));
        }
        let base = url.path().trim_end_matches('/').to_string();
        let base = base.strip_suffix("/api").unwrap_or(&base).to_string();
        Ok(ManagementUrl {
            https,
            host,
            port,
            base,
            user,
            password,
        })
    }

    /// The same API with another password (from `--password-file`).
    pub fn with_password(mut self, password: String) -> Self {
        self.password = password;
        self
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// The API's address without credentials (`http://host:15672`, with
    /// its path prefix): what `serve` labels its metrics with.
    pub fn label(&self) -> String {
        format!("{}{}", self.origin(), self.base)
    }

    fn origin(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}:{}", self.host, self.port)
    }

    /// Where a request goes (no credentials: they travel in a header).
    fn endpoint(&self, path_and_query: &str) -> String {
        format!("{}{}{path_and_query}", self.origin(), self.base)
    }

    /// A request's URL as users may see it: with `user:***@`.
    pub fn shown(&self, path_and_query: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        let user = utf8_percent_encode(&self.user, USER);
        format!(
            "{scheme}://{user}:***@{}:{}{}{path_and_query}",
            self.host, self.port, self.base
        )
    }

    fn authorization(&self) -> String {
        use base64_lite::encode;
        format!(
            "Basic {}",
            encode(&format!("{}:{}", self.user, self.password))
        )
    }
}

impl std::fmt::Display for ManagementUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown(""))
    }
}

impl std::fmt::Debug for ManagementUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ManagementUrl({self})")
    }
}

/// Base64 for the Basic credentials (RFC 4648, with padding): a few lines
/// rather than a dependency.
pub mod base64_lite {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

/// What the broker says about itself (`/api/overview`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Overview {
    pub product: Option<String>,
    pub version: Option<String>,
    pub management_version: Option<String>,
    pub cluster_name: Option<String>,
    pub node: Option<String>,
    pub erlang_version: Option<String>,
    /// `basic`, `detailed` or `none` (then there are no samples).
    pub rates_mode: Option<String>,
    /// The broker collects no statistics at all (no samples, no rates).
    pub stats_disabled: bool,
    /// The resource alarms on (`/api/nodes`: `mem_alarm`, `disk_free_alarm`):
    /// `memory alarm on NODE`, `disk alarm on NODE`. While one is on, the
    /// broker blocks every publishing connection. Empty when none is on,
    /// or when the user may not read /api/nodes (the `monitoring` tag).
    pub alarms: Vec<String>,
}

/// Everything one audit read from the API.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub overview: Overview,
    pub connections: Vec<BrokerConnection>,
    /// The sample window asked for (`data_rates_age`), seconds.
    pub window_s: u64,
    /// The three requests, end to end.
    pub took: Duration,
    /// Connections past [`MAX_CONNECTIONS`] in the answer, not read.
    pub skipped: u64,
}

/// Read the overview and every connection. Each request is bounded by
/// `timeout` (connect, send, headers and body together).
pub fn fetch(api: &ManagementUrl, timeout: Duration) -> Result<Fetched, ApiFailure> {
    let started = Instant::now();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_per_call(Some(timeout))
        // Credentials must not follow a redirect to another host; a
        // redirect is reported instead (give the final URL).
        .max_redirects(0)
        .user_agent(concat!("amqpdoctor/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let overview: ApiOverview = get_json(&agent, api, "/api/overview", timeout)?;
    let nodes = "/api/nodes?columns=name,mem_alarm,disk_free_alarm";
    // Bounded like every answer (a 16 MiB array of tiny elements must not
    // become millions of structs: issue 24 item 5).
    let alarms = get_body(&agent, api, nodes, timeout)
        .map(|b| json::node_alarms(&b))
        .unwrap_or_default();
    let path = "/api/connections?columns=timeout";
    let body = get_body(&agent, api, path, timeout)?;
    let sizes: Capped<MAX_CONNECTIONS> = parse_json(&body, api, path)?;
    let longest_t = sizes
        .items
        .iter()
        .filter_map(|c| serde_json::from_str::<ApiTimeout>(c.get()).ok()?.timeout)
        .max()
        .unwrap_or(0);
    drop(body);
    let window_s = sample_window_s(longest_t);
    let path = format!(
        "/api/connections?columns={COLUMNS}&data_rates_age={window_s}&data_rates_incr={}",
        STATS_INTERVAL_MS / 1000
    );
    let (mut connections, skipped) = connections_paged(&agent, api, &path, timeout, PAGE_SIZE)?;
    connections.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Fetched {
        overview: Overview {
            alarms,
            ..overview.into_overview()
        },
        connections,
        window_s,
        took: started.elapsed(),
        skipped,
    })
}

/// Connections asked for per page: a page with its samples stays far below
/// [`MAX_BODY`] (a connection with 121 samples is about 10 KiB).
pub const PAGE_SIZE: usize = 500;

/// Every connection of `path`, a page at a time (RabbitMQ 3.6 and later
/// page `/api/connections`; an older broker's whole array is read as one
/// page), at most [`MAX_CONNECTIONS`]; the rest counted as skipped.
fn connections_paged(
    agent: &ureq::Agent,
    api: &ManagementUrl,
    path: &str,
    timeout: Duration,
    page_size: usize,
) -> Result<(Vec<BrokerConnection>, u64), ApiFailure> {
    let mut connections = Vec::new();
    let mut page = 1u64;
    loop {
        let paged = format!("{path}&page={page}&page_size={page_size}");
        let body = get_body(agent, api, &paged, timeout)?;
        let answer =
            json::page_of::<MAX_CONNECTIONS>(&body).map_err(|e| not_json(api, &paged, &e))?;
        let (items, page_count, total) = match answer {
            json::PageOf::Whole(items) => {
                let skipped = items.skipped;
                connections.extend(read_connections(&items));
                return Ok((connections, skipped));
            }
            json::PageOf::Paged {
                items,
                page_count,
                total_count,
            } => (items, page_count, total_count),
        };
        let room = MAX_CONNECTIONS.saturating_sub(connections.len());
        let mut read = read_connections(&items);
        read.truncate(room);
        connections.extend(read);
        if page >= page_count || connections.len() >= MAX_CONNECTIONS {
            let skipped = total.saturating_sub(connections.len() as u64);
            return Ok((connections, skipped));
        }
        page += 1;
    }
}

/// The window of samples to ask for: the longest T plus two samples, in
/// whole samples, within [`MIN_WINDOW_S`]–[`MAX_WINDOW_S`].
pub fn sample_window_s(longest_t_s: u64) -> u64 {
    let step = STATS_INTERVAL_MS / 1000;
    let want = longest_t_s.saturating_add(2 * step).div_ceil(step) * step;
    want.clamp(MIN_WINDOW_S, MAX_WINDOW_S)
}

/// GET one endpoint and read its JSON.
fn get_json<T: DeserializeOwned>(
    agent: &ureq::Agent,
    api: &ManagementUrl,
    path: &str,
    timeout: Duration,
) -> Result<T, ApiFailure> {
    let body = get_body(agent, api, path, timeout)?;
    parse_json(&body, api, path)
}

/// How a failure names the request: the URL without its query, redacted.
fn failure(api: &ManagementUrl, path: &str, kind: ApiFailureKind) -> ApiFailure {
    ApiFailure {
        url: api.shown(path.split('?').next().unwrap_or(path)),
        user: api.user().to_string(),
        kind,
    }
}

/// GET one endpoint: its body, at most [`MAX_BODY`] decoded bytes.
fn get_body(
    agent: &ureq::Agent,
    api: &ManagementUrl,
    path: &str,
    timeout: Duration,
) -> Result<Vec<u8>, ApiFailure> {
    let fail = |kind| failure(api, path, kind);
    let mut response = agent
        .get(api.endpoint(path))
        .header("Authorization", api.authorization())
        .header("Accept", "application/json")
        .call()
        .map_err(|e| fail(failure_kind(&e, timeout)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(ApiFailureKind::Status {
            code: status.as_u16(),
            reason: status.canonical_reason().map(str::to_string),
            location: response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(|l| l.chars().take(200).collect()),
        }));
    }
    // The cap applies to the decoded bytes: ureq's own limit counts the
    // compressed ones, and a small gzip body can inflate without bound.
    let mut body = Vec::new();
    response
        .body_mut()
        .with_config()
        .limit(MAX_BODY + 1)
        .reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|e| fail(io_failure_kind(&e, timeout)))?;
    if body.len() as u64 > MAX_BODY {
        return Err(fail(ApiFailureKind::TooLarge { limit: MAX_BODY }));
    }
    Ok(body)
}

/// Read `body` as JSON into `T`, borrowing from it (no tree is built).
fn parse_json<'a, T: Deserialize<'a>>(
    body: &'a [u8],
    api: &ManagementUrl,
    path: &str,
) -> Result<T, ApiFailure> {
    serde_json::from_slice(body).map_err(|e| not_json(api, path, &e))
}

fn not_json(api: &ManagementUrl, path: &str, e: &serde_json::Error) -> ApiFailure {
    failure(
        api,
        path,
        ApiFailureKind::NotJson {
            detail: format!("{} at line {} column {}", category(e), e.line(), e.column()),
        },
    )
}

fn category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "not the expected JSON shape",
        serde_json::error::Category::Eof => "JSON cut short",
    }
}

/// What a ureq error says about the exchange.
fn failure_kind(e: &ureq::Error, timeout: Duration) -> ApiFailureKind {
    use ureq::Error as E;
    match e {
        E::Timeout(_) => ApiFailureKind::Timeout {
            after_ms: crate::vocab::units::duration_ms(timeout),
        },
        E::Io(io) => io_failure_kind(io, timeout),
        E::HostNotFound => ApiFailureKind::Dns,
        E::ConnectionFailed => ApiFailureKind::Network {
            errno: None,
            detail: "connection failed".into(),
        },
        E::BodyExceedsLimit(_) => ApiFailureKind::TooLarge { limit: MAX_BODY },
        E::Tls(_) | E::Rustls(_) | E::Pem(_) | E::TlsRequired => ApiFailureKind::Tls {
            detail: e.to_string(),
        },
        other => ApiFailureKind::Protocol {
            detail: other.to_string(),
        },
    }
}

/// An I/O error, which may carry a ureq error inside (body reads do).
fn io_failure_kind(e: &std::io::Error, timeout: Duration) -> ApiFailureKind {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
        return failure_kind(inner, timeout);
    }
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => ApiFailureKind::Timeout {
            after_ms: crate::vocab::units::duration_ms(timeout),
        },
        _ => ApiFailureKind::Network {
            errno: e.raw_os_error(),
            detail: crate::vocab::units::describe_io_error(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Heartbeat;

    #[test]
    fn urls_parse_with_defaults_and_never_show_the_password() {
        // (URL, shown, user, password, endpoint of /api/overview)
        let rows: &[(&str, &str, &str, &str, &str)] = &[
            (
                "http://localhost:15672",
                "http://guest:***@localhost:15672",
                "guest",
                "guest",
                "http://localhost:15672/api/overview",
            ),
            (
                "https://mon:S3cr%2Ft@rabbit.example/rabbitmq/",
                "https://mon:***@rabbit.example:443/rabbitmq",
                "mon",
                "S3cr/t",
                "https://rabbit.example:443/rabbitmq/api/overview",
            ),
            (
                "http://u%40x:p@[::1]:15672/api/",
                "http://u%40x:***@[::1]:15672",
                "u@x",
                "p",
                "http://[::1]:15672/api/overview",
            ),
            (
                "http://onlyuser@h:1",
                "http://onlyuser:***@h:1",
                "onlyuser",
                "",
                "http://h:1/api/overview",
            ),
        ];
        for &(raw, shown, user, password, endpoint) in rows {
            let u = ManagementUrl::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(u.to_string(), shown, "{raw}");
            assert_eq!(format!("{u:?}"), format!("ManagementUrl({shown})"));
            assert_eq!((u.user.as_str(), u.password.as_str()), (user, password));
            assert_eq!(u.endpoint("/api/overview"), endpoint);
        }
    }

    #[test]
    fn bad_urls_are_usage_errors_without_the_password() {
        for raw in [
            "ftp://u:S3cr3tPw@h/",
            "amqp://u:S3cr3tPw@h:5672/",
            "http://u:S3cr3tPw@h:notaport",
            "http://u:S3cr3tPw@:15672",
            "u:S3cr3tPw@h:15672",
            "http://u:S3cr3tPw@h:0",
            "http://u:S3cr3tPw@h:15672/?x=1",
            "http://u:S3cr3tPw/x@h:15672",
            "",
        ] {
            let e = ManagementUrl::parse(raw).expect_err(raw).to_string();
            assert!(!e.contains("S3cr3tPw"), "{raw}: {e}");
            assert!(e.starts_with("--management"), "{e}");
        }
        assert!(ManagementUrl::parse("amqp://h/")
            .unwrap_err()
            .to_string()
            .contains("rabbitmq_management"));
    }

    #[test]
    fn basic_credentials() {
        // RFC 4648's test vectors, then RFC 7617's example.
        let rows = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ];
        for (text, want) in rows {
            assert_eq!(base64_lite::encode(text), want, "{text}");
        }
        let u = ManagementUrl::parse("http://guest:guest@h:1").unwrap();
        assert_eq!(u.authorization(), "Basic Z3Vlc3Q6Z3Vlc3Q=");
    }

    #[test]
    fn the_window_covers_the_longest_t() {
        let rows = [
            (0, 30),
            (2, 30),
            (60, 70),
            (61, 75),
            (590, 600),
            (3600, 600),
        ];
        for (t, want) in rows {
            assert_eq!(sample_window_s(t), want, "T = {t}");
        }
    }

    #[test]
    fn pages_and_whole_arrays() {
        // RabbitMQ 3.10.8's paged answer (GET /api/connections?page=1&page_size=1).
        let paged = br#"{"filtered_count":3,"item_count":1,"items":[{"name":"a"}],"page":1,"page_count":3,"page_size":1,"total_count":3}"#;
        match json::page_of::<10>(paged).unwrap() {
            json::PageOf::Paged {
                items,
                page_count,
                total_count,
            } => {
                assert_eq!((items.items.len(), page_count, total_count), (1, 3, 3));
            }
            json::PageOf::Whole(_) => panic!("a page read as a whole array"),
        }
        let whole = b" [{\"name\":\"a\"},{\"name\":\"b\"}]";
        assert!(
            matches!(json::page_of::<10>(whole).unwrap(), json::PageOf::Whole(c) if c.items.len() == 2)
        );
        assert!(
            json::page_of::<10>(b"{\"error\":1}").is_err(),
            "no items: not a page"
        );
        assert_eq!(
            json::node_alarms(
                br#"[{"name":"rabbit@a","mem_alarm":true,"disk_free_alarm":false},{}]"#
            ),
            ["memory alarm on rabbit@a"]
        );
        assert!(json::node_alarms(b"not json").is_empty());
    }

    #[test]
    fn connections_are_read_leniently() {
        // As RabbitMQ 3.10.8 answered for a pika client (trimmed), then a
        // row of wrong types, then a direct connection.
        let text = r#"[
          {"name":"127.0.0.1:37374 -> 127.0.0.1:5672","node":"rabbit@localhost",
           "type":"network","peer_host":"127.0.0.1","peer_port":37374,"host":"127.0.0.1",
           "port":5672,"user":"guest","vhost":"/","protocol":"AMQP 0-9-1","ssl":false,
           "ssl_protocol":null,"state":"running","channels":1,"connected_at":1795298867241,
           "timeout":60,"client_properties":{"capabilities":{"basic.nack":true},
           "connection_name":"audit-explore-1","platform":"Python 3.11.7",
           "product":"Pika Python Client Library","version":"1.3.2"},
           "recv_oct":466,"send_oct":537,
           "recv_oct_details":{"rate":0.0,"samples":[{"sample":466,"timestamp":1795298895000},
             {"sample":378,"timestamp":1795298875000}]},
           "send_oct_details":{"rate":1.5}},
          {"name":7,"timeout":"x","peer_port":70000,"client_properties":[1,2],
           "recv_oct_details":{"samples":"no"}},
          {"name":"<rabbit@localhost.1.2.3>","type":"direct","client_properties":
           {"product":"py-amqp","product_version":"5.2.0"}},
          {"name":"127.0.0.1:41000 -> 127.0.0.1:5672","protocol":"AMQP 0-8","timeout":0,
           "client_properties":{"library":"Python amqplib","library_version":"1.0.2"}}
        ]"#;
        let raw: Capped<MAX_CONNECTIONS> = serde_json::from_str(text).unwrap();
        let conns = read_connections(&raw);
        assert_eq!(conns.len(), 4);
        let c = &conns[0];
        assert_eq!(c.peer().as_deref(), Some("127.0.0.1:37374"));
        assert_eq!(c.broker_address().as_deref(), Some("127.0.0.1:5672"));
        assert_eq!(c.heartbeat, Some(Heartbeat::from_secs(60)));
        assert_eq!(c.client.version.as_deref(), Some("1.3.2"));
        assert_eq!(c.client.connection_name.as_deref(), Some("audit-explore-1"));
        assert_eq!(c.recv_samples.len(), 2);
        assert_eq!((c.recv_rate, c.send_rate), (Some(0.0), Some(1.5)));
        let odd = &conns[1];
        assert_eq!(
            (odd.name.as_str(), odd.heartbeat, odd.peer_port),
            ("", None, None)
        );
        assert!(odd.recv_samples.is_empty());
        assert_eq!(conns[2].client.version.as_deref(), Some("5.2.0"));
        // py-amqplib 1.0.2 as RabbitMQ 3.10.8's API showed it (measured)
        let old = &conns[3].client;
        assert_eq!(
            (old.product.as_deref(), old.version.as_deref()),
            (Some("Python amqplib"), Some("1.0.2"))
        );
    }
}
