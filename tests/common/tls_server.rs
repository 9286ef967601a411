//! Certificates made with `openssl` for a test, and a real TLS terminator
//! (socat `openssl-listen`) serving one on a free loopback port in front
//! of the broker.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A directory of this test binary's certificates.
pub fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("amqpdoctor-tls-shapes-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `openssl req -x509 -newkey rsa:2048 -nodes -subj SUBJ ARGS` into
/// NAME.pem and NAME.key: the certificate's path.
pub fn make(name: &str, subj: &str, args: &[&str]) -> String {
    // Tests run at once: each certificate its own files.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "{name}-{}",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let d = dir();
    let (pem, key) = (d.join(format!("{name}.pem")), d.join(format!("{name}.key")));
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", subj, "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&pem)
        .args(args)
        .output()
        .unwrap_or_else(|e| super::fixture::missing(&format!("openssl ({e})")));
    assert!(
        out.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    pem.display().to_string()
}

/// socat terminating TLS with CERT (and its .key) on a free loopback port,
/// relaying to the broker; killed when dropped.
pub struct Terminator {
    child: Child,
    pub port: u16,
}

impl Terminator {
    pub fn start(cert: &str) -> Terminator {
        super::require_broker();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let key = Path::new(cert).with_extension("key");
        let child = Command::new("socat")
            .arg(format!(
                "openssl-listen:{port},bind=127.0.0.1,reuseaddr,fork,cert={cert},key={},verify=0",
                key.display()
            ))
            .arg(format!("tcp:{}", super::broker_host_port()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| super::fixture::missing(&format!("socat ({e})")));
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "socat did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Terminator { child, port }
    }

    pub fn url(&self, host: &str) -> String {
        format!("amqps://guest:guest@{host}:{}/%2f", self.port)
    }
}

impl Drop for Terminator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
