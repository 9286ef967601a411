//! The test toolkit for running amqpdoctor: read its one JSON document,
//! failing loudly (with what it printed) when stdout is anything else, and
//! a port on 127.0.0.1 that refuses connections.

use std::net::TcpListener;
use std::process::Output;

use serde_json::Value;

/// The one JSON document on `out`'s stdout. Fails the test with the parse
/// error, the exit status, stdout and stderr when stdout is not exactly one
/// JSON document (a stray line of text, a truncated document, nothing).
pub fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}; {})\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Run `cmd` to the end: its exit code (-1 when a signal ended it), its
/// JSON document ([`json_of`]) and its stderr.
pub fn run_json(cmd: &mut assert_cmd::Command) -> (i32, Value, String) {
    let out = cmd.output().expect("running amqpdoctor");
    let doc = json_of(&out);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), doc, stderr)
}

/// A port on 127.0.0.1 where nothing listens: bound by the OS, then
/// released, so a connection to it is refused (RST) at once.
pub fn refused_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    l.local_addr().expect("the bound address").port()
}

/// `amqp://guest:PASSWORD@127.0.0.1:PORT/%2f` on a [`refused_port`].
pub fn refused_url(password: &str) -> String {
    format!("amqp://guest:{password}@127.0.0.1:{}/%2f", refused_port())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    #[should_panic(expected = "stdout is not one JSON document")]
    fn text_on_stdout_fails_loudly() {
        let out = Command::new("sh")
            .args(["-c", "echo '{\"a\": 1}'; echo oops"])
            .output()
            .unwrap();
        json_of(&out);
    }

    #[test]
    fn one_document_is_read() {
        let out = Command::new("sh")
            .args(["-c", "echo '{\"a\": 1}'"])
            .output()
            .unwrap();
        assert_eq!(json_of(&out)["a"], 1);
    }
}
