//! Real client applications for the tests: pika's BlockingConnection run by
//! `tests/clients/pika_app.py` in the virtualenv `.ci/broker` makes
//! (`.ci/.venv`, pika pinned there).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The pika version `.ci/broker` installs (pinned in .ci/requirements.txt).
pub const PIKA_VERSION: &str = "1.3.2";

/// A running pika application (killed when dropped).
pub struct PikaApp {
    child: Child,
    /// Its end of the connection to the broker.
    pub local_port: u16,
    pub name: String,
}

impl PikaApp {
    /// Start `pika_app.py URL MODE HEARTBEAT NAME` and wait until it has
    /// connected and published (it prints `ready PORT`).
    pub fn start(mode: &str, heartbeat: u16, name: &str) -> PikaApp {
        super::require_broker();
        let root = env!("CARGO_MANIFEST_DIR");
        let mut cmd = Command::new(super::fixture::python());
        cmd.arg(format!("{root}/tests/clients/pika_app.py")).args([
            &super::broker_url(),
            mode,
            &heartbeat.to_string(),
            name,
        ]);
        let (child, local_port) = start_ready(cmd, &format!("pika_app.py {mode}"));
        PikaApp {
            child,
            local_port,
            name: name.to_string(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Spawn a client application and wait (15 s at most) for its first line,
/// `ready PORT`: PORT is its end of the connection. Fails the test with
/// the application's stderr when it says anything else.
pub fn start_ready(cmd: Command, what: &str) -> (Child, u16) {
    let (mut child, rest) = start_ready_line(cmd, what);
    match rest.split_whitespace().next().and_then(|p| p.parse().ok()) {
        Some(port) => (child, port),
        None => {
            let _ = child.kill();
            panic!("{what} said `ready {rest}`, not `ready PORT`");
        }
    }
}

/// Spawn a client application and wait (15 s at most) for its first line,
/// `ready …`: what follows `ready `. Fails the test with the application's
/// stderr when it says anything else.
pub fn start_ready_line(mut cmd: Command, what: &str) -> (Child, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {what}: {e}"));
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(15)).unwrap_or_default();
    if let Some(rest) = line.trim().strip_prefix("ready ") {
        return (child, rest.to_string());
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    panic!(
        "{what} did not get ready (said {line:?}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Drop for PikaApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
