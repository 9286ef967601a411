//! Helpers shared by the integration tests: where the test broker is, a
//! loud check that it really answers AMQP, the binary under test, and
//! `rabbitmqctl` wrappers to see what the broker saw.
//!
//! Tests that need a broker call [`require_broker`] first. It fails with
//! one line naming the setup command instead of skipping ([`fixture`]): a
//! test suite that silently passes without a broker proves nothing. `.ci/run` starts the broker before
//! `cargo test`, so in CI the check only costs one round trip.
//!
//! Each test file compiles this module separately and uses a subset of it,
//! hence the `dead_code` allowances.

#![allow(dead_code)]

pub mod fake;
pub mod fixture;
pub mod management;
pub mod pika;
pub mod run;
pub mod serve;
pub mod tls_server;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::Command as StdCommand;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The broker the integration tests use unless `AMQPDOCTOR_TEST_URL` says otherwise.
pub const DEFAULT_TEST_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// How long the broker gets to answer the protocol header. A local broker
/// answers in milliseconds; 3 s leaves room for a loaded CI machine.
const BROKER_CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The AMQP 0-9-1 protocol header a client sends first.
const PROTOCOL_HEADER: &[u8; 8] = b"AMQP\x00\x00\x09\x01";

/// The test broker's URL: `$AMQPDOCTOR_TEST_URL`, else [`DEFAULT_TEST_URL`].
pub fn broker_url() -> String {
    std::env::var("AMQPDOCTOR_TEST_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_URL.to_string())
}

/// End the test binary with one line ([`fixture::missing`]) unless the test
/// broker answers the AMQP protocol header with Connection.Start within 3 s
/// (or set AMQPDOCTOR_TEST_URL=amqp://user:pass@host:port/vhost to use
/// another broker). Checked once per test binary.
pub fn require_broker() {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let url = broker_url();
    fixture::require(
        &CHECK,
        &format!("a RabbitMQ broker answering AMQP at {}", redact(&url)),
        || check_broker(&url),
    );
}

/// Connect, send the protocol header, and expect a Connection.Start method
/// frame back. Only the first 11 bytes are read: frame type, channel, size,
/// class id and method id are all we need to know an AMQP 0-9-1 broker is there.
pub fn check_broker(url: &str) -> Result<(), String> {
    let deadline = Instant::now() + BROKER_CHECK_TIMEOUT;
    let authority = host_port(url)?;
    let addrs: Vec<_> = authority
        .to_socket_addrs()
        .map_err(|e| format!("resolving {authority}: {e}"))?
        .collect();
    let mut last_err = format!("{authority} resolved to no address");
    let mut stream = None;
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_err = format!("connecting to {addr}: {e}"),
        }
    }
    let mut stream = stream.ok_or(last_err)?;
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    stream
        .set_read_timeout(Some(left))
        .and_then(|()| stream.set_write_timeout(Some(left)))
        .map_err(|e| format!("setting socket timeouts: {e}"))?;
    stream
        .write_all(PROTOCOL_HEADER)
        .map_err(|e| format!("sending the AMQP protocol header to {authority}: {e}"))?;

    let mut reply = [0u8; 11];
    let mut got = 0;
    while got < reply.len() {
        match stream.read(&mut reply[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            // A read timeout surfaces as EAGAIN (WouldBlock) on Linux.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(format!(
                    "{authority} accepted the connection but sent no Connection.Start within \
                     {BROKER_CHECK_TIMEOUT:?} (got {got} bytes)"
                ))
            }
            Err(e) => {
                return Err(format!(
                    "waiting for Connection.Start from {authority} (got {got} bytes): {e}"
                ))
            }
        }
    }
    let reply = &reply[..got];
    if reply.starts_with(b"AMQP") {
        return Err(format!(
            "{authority} rejected AMQP 0-9-1 and proposed another protocol version {:02x?}",
            &reply[4..]
        ));
    }
    // Method frame (type 1) on channel 0, class 10 (connection), method 10 (start).
    let is_start = reply.len() == 11
        && reply[0] == 1
        && reply[1..3] == [0, 0]
        && reply[7..11] == [0, 10, 0, 10];
    if is_start {
        Ok(())
    } else {
        Err(format!(
            "{authority} answered {:?} ({reply:02x?}), not a Connection.Start frame \
             (is that an AMQP 0-9-1 broker?)",
            String::from_utf8_lossy(reply)
        ))
    }
}

/// The test broker's `host:port` (from [`broker_url`]).
pub fn broker_host_port() -> String {
    host_port(&broker_url()).unwrap_or_else(|e| panic!("{e}"))
}

/// `host:port` from an `amqp://[user[:pass]@]host[:port][/vhost]` URL: just
/// enough parsing for the broker check, defaults as in the RabbitMQ URI spec.
fn host_port(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("amqp://")
        .ok_or_else(|| format!("{} is not an amqp:// URL", redact(url)))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("unclosed `[` in {}", redact(url)))?;
        (format!("[{host}]"), after.strip_prefix(':').unwrap_or(""))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p),
            None => (hostport.to_string(), ""),
        }
    };
    let host = if host.is_empty() {
        "localhost".to_string()
    } else {
        host
    };
    let port = if port.is_empty() { "5672" } else { port };
    Ok(format!("{host}:{port}"))
}

/// The URL with any password replaced by `***`, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{hostport}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Panic unless every key of every object in `objects` is named (in
/// backticks) in docs/json.md's section headed `heading`.
pub fn assert_documented(heading: &str, objects: &[&serde_json::Value]) {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/json.md"))
        .expect("reading docs/json.md");
    let section = docs
        .split(heading)
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap_or_else(|| panic!("docs/json.md has no section {heading:?}"));
    let missing: Vec<&String> = objects
        .iter()
        .filter_map(|o| o.as_object())
        .flat_map(|o| o.keys())
        .filter(|k| !section.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "undocumented in docs/json.md's {heading:?}: {missing:?}"
    );
}

/// The amqpdoctor binary built for this test run, with colour off and no
/// `AMQP_URL` inherited from the developer's shell (it would change which
/// broker a test without a URL argument talks to).
pub fn amqpdoctor() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_amqpdoctor"));
    cmd.env("NO_COLOR", "1").env_remove("AMQP_URL");
    cmd
}

/// Run `rabbitmqctl ARGS` and return its stdout; panic with its stderr if it
/// fails. It talks to the local node, whatever `AMQPDOCTOR_TEST_URL` says.
pub fn rabbitmqctl(args: &[&str]) -> String {
    let output = StdCommand::new("rabbitmqctl")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "running `rabbitmqctl {}`: {e} (is rabbitmq-server installed?)",
                args.join(" ")
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "`rabbitmqctl {}` failed ({}):\nstderr: {}\nstdout: {stdout}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Names of the queues in the default vhost `/`.
///
/// JSON, because the plain `-q` output still prints a `name` header row and
/// cannot represent names containing newlines.
pub fn list_queues() -> Vec<String> {
    let out = rabbitmqctl(&["list_queues", "-q", "--formatter", "json", "name"]);
    parse_json_rows(&out, "list_queues")
        .iter()
        .map(|row| string_field(row, "name", &out))
        .collect()
}

/// Every AMQP connection on the node: `(name, connection_name)`, where
/// `name` is rabbitmqctl's `"127.0.0.1:57692 -> 127.0.0.1:5672"` and
/// `connection_name` is the client-provided name from the client properties
/// (`""` if the client sent none).
///
/// RabbitMQ 3.10 has no `user_provided_name` column in `list_connections`;
/// the name is only in `client_properties`, which the JSON formatter prints
/// as `[[key, type, value], …]`.
pub fn list_connections() -> Vec<(String, String)> {
    let out = rabbitmqctl(&[
        "list_connections",
        "-q",
        "--formatter",
        "json",
        "name",
        "client_properties",
    ]);
    parse_json_rows(&out, "list_connections")
        .iter()
        .map(|row| {
            let name = string_field(row, "name", &out);
            let provided = row["client_properties"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|prop| prop.as_array())
                .find(|prop| prop.first().and_then(|k| k.as_str()) == Some("connection_name"))
                .and_then(|prop| prop.get(2))
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            (name, provided)
        })
        .collect()
}

fn parse_json_rows(out: &str, what: &str) -> Vec<serde_json::Value> {
    // With no rows, some rabbitmqctl versions print nothing at all.
    if out.trim().is_empty() {
        return Vec::new();
    }
    match serde_json::from_str::<serde_json::Value>(out) {
        Ok(serde_json::Value::Array(rows)) => rows,
        other => panic!("rabbitmqctl {what}: expected a JSON array, got {other:?} from:\n{out}"),
    }
}

fn string_field(row: &serde_json::Value, key: &str, out: &str) -> String {
    row[key]
        .as_str()
        .unwrap_or_else(|| panic!("rabbitmqctl row without a string `{key}`: {row} in:\n{out}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_defaults() {
        let rows = [
            ("amqp://guest:guest@127.0.0.1:5672/%2f", "127.0.0.1:5672"),
            ("amqp://127.0.0.1", "127.0.0.1:5672"),
            ("amqp://u:p@h", "h:5672"),
            ("amqp://u:p@h:5673", "h:5673"),
            ("amqp://u:p@[::1]:5673/v", "[::1]:5673"),
            ("amqp://u:p@[::1]/v", "[::1]:5672"),
            ("amqp://", "localhost:5672"),
            ("amqp://u:p@@h:1/", "h:1"),
        ];
        for (url, want) in rows {
            assert_eq!(host_port(url).as_deref(), Ok(want), "{url}");
        }
        assert!(host_port("http://h/").is_err());
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact("amqp://h:5672/"), "amqp://h:5672/");
        assert_eq!(redact("amqp://u@h/"), "amqp://u@h/");
        assert!(!redact("amqp://u:s3cr@t@h/").contains("s3cr"));
    }
}
