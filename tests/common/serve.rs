//! `amqpdoctor serve` for the tests: started on 127.0.0.1:0, scraped with
//! a plain TcpStream, stopped with SIGTERM; and the Prometheus tools of
//! Debian's `prometheus` package (`.ci/broker` installs it).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `amqpdoctor serve` (killed by its pid when dropped).
pub struct Serve {
    child: Child,
    pub addr: String,
    stderr: mpsc::Receiver<String>,
}

impl Serve {
    /// `serve --scan --max-heartbeat 4s --check BROKER --check-every 1s EXTRA…`
    /// against the test broker: this host's connections and a check a second.
    pub fn scan_and_check(extra: &[&str]) -> Serve {
        let url = super::broker_url();
        let mut args = vec![
            "--scan",
            "--max-heartbeat",
            "4s",
            "--check",
            url.trim_end_matches('/'),
            "--check-every",
            "1s",
        ];
        args.extend_from_slice(extra);
        Serve::start(&args)
    }

    pub fn start(args: &[&str]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_amqpdoctor"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("AMQP_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting amqpdoctor serve");
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let first = rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
        let Some(addr) = first
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
        else {
            let _ = child.kill();
            panic!("serve did not say where it listens: {first:?}");
        };
        Serve {
            addr: addr.to_string(),
            child,
            stderr: rx,
        }
    }

    /// `GET path` with extra header lines: (status, head, body).
    pub fn get(&self, path: &str, headers: &str) -> (u16, String, String) {
        let raw = format!("GET {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
        self.raw(raw.as_bytes())
    }

    /// Send `request` as is and read the answer to the end.
    pub fn raw(&self, request: &[u8]) -> (u16, String, String) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text:?}"));
        (status, head.to_string(), body.to_string())
    }

    /// Scrape /metrics until `ready` holds for the body (at most `tries`
    /// scrapes 250 ms apart), and return that body.
    pub fn scrape_until(&self, tries: u32, ready: impl Fn(&str) -> bool) -> String {
        let mut body = String::new();
        for _ in 0..tries {
            body = self.get("/metrics", "").2;
            if ready(&body) {
                return body;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("the scrapes never showed what was waited for; the last:\n{body}");
    }

    /// SIGTERM, then the exit status and everything said on stderr.
    #[allow(unsafe_code)]
    pub fn terminate(mut self) -> (Option<i32>, String) {
        // SAFETY: kill(2) on the pid of our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        // Everything it wrote: the reader thread ends at EOF (bounded wait).
        let mut said = Vec::new();
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_secs(5)) {
            said.push(line);
        }
        (status.code(), said.join("\n"))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The line of `body` for `name{…labels…}` that has every one of `parts`.
pub fn series<'a>(body: &'a str, name: &str, parts: &[&str]) -> Option<&'a str> {
    body.lines()
        .find(|l| l.starts_with(&format!("{name}{{")) && parts.iter().all(|p| l.contains(p)))
}

pub fn promtool() -> &'static str {
    static CHECK: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    super::fixture::require(
        &CHECK,
        "promtool (Debian package prometheus)",
        || match Command::new("promtool").arg("--version").output() {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).into_owned()),
            Err(e) => Err(e.to_string()),
        },
    );
    "promtool"
}

/// Debian's `prometheus` binary, or the test binary ends naming the fixture.
pub fn prometheus() -> &'static str {
    static CHECK: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    super::fixture::require(
        &CHECK,
        "prometheus (Debian package prometheus)",
        || match Command::new("prometheus").arg("--version").output() {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).into_owned()),
            Err(e) => Err(e.to_string()),
        },
    );
    "prometheus"
}
