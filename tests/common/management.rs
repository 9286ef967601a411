//! RabbitMQ's management HTTP API, as `.ci/broker` enables it: where it
//! is, and a loud check that it answers.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

use super::fixture;

/// The management API's port: `$AMQPDOCTOR_CI_MANAGEMENT_PORT`, else 15672.
pub fn port() -> u16 {
    std::env::var("AMQPDOCTOR_CI_MANAGEMENT_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(15672)
}

/// The API's URL with guest/guest.
pub fn url() -> String {
    format!("http://guest:guest@127.0.0.1:{}", port())
}

/// Fail (never skip) unless the management API answers guest/guest with 200.
pub fn require() {
    let port = port();
    let check = || -> Result<(), String> {
        let addr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3))
            .map_err(|e| format!("connecting to 127.0.0.1:{port}: {e}"))?;
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(
            s,
            "GET /api/overview HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic \
             Z3Vlc3Q6Z3Vlc3Q=\r\nConnection: close\r\n\r\n"
        )
        .map_err(|e| e.to_string())?;
        let mut line = String::new();
        BufReader::new(s)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        if line.starts_with("HTTP/1.1 200") {
            Ok(())
        } else {
            Err(format!("GET /api/overview as guest answered {line:?}"))
        }
    };
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    fixture::require(
        &CHECK,
        &format!("RabbitMQ's management API on 127.0.0.1:{port} (guest/guest)"),
        check,
    );
}
