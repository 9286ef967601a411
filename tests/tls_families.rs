//! amqpdoctor's predictions against real clients (issue 19 item 5). For
//! each certificate shape, made here with `openssl` and served by socat in
//! front of the broker: what `amqpdoctor tls` says the OpenSSL and Java
//! families do, and what pika 1.3.2 (Python's ssl, from .ci/.venv),
//! `openssl s_client -verify_return_error`, Node's `tls.connect` (system
//! OpenSSL) and Java's JSSE (SSLSocket with HTTPS endpoint identification,
//! as the RabbitMQ Java client's `enableHostnameVerification()` sets it) do.
//! Any disagreement fails, with the whole table.

mod common;

use std::process::{Command, Stdio};

use common::fixture::{self, run_python, tls_file};
use common::run::json_of;
use common::tls_server::{make, Terminator};

/// pika's BlockingConnection over TLS, as an application makes it
/// (`ssl.create_default_context(cafile=…)`); stdin: `host port cafile`.
const PIKA: &str = r#"
import sys, ssl, pika
host, port, cafile = sys.stdin.read().split()
ctx = ssl.create_default_context(cafile=cafile)
try:
    c = pika.BlockingConnection(pika.ConnectionParameters(
        host=host, port=int(port), connection_attempts=1, socket_timeout=5,
        credentials=pika.PlainCredentials("guest", "guest"),
        ssl_options=pika.SSLOptions(ctx, server_hostname=host)))
    c.close()
    print("accept")
except Exception as e:
    print("refuse", type(e).__name__)
"#;

fn pika(host: &str, port: u16, ca: &str) -> bool {
    let out = run_python(PIKA, &format!("{host} {port} {ca}"));
    out.trim() == "accept"
}

fn s_client(host: &str, port: u16, ca: &str) -> bool {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(["-CAfile", ca, "-verify_return_error"]);
    if host.parse::<std::net::IpAddr>().is_ok() {
        cmd.args(["-verify_ip", host]);
    } else {
        cmd.args(["-servername", host, "-verify_hostname", host]);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| fixture::missing(&format!("openssl ({e})")))
        .success()
}

/// Node's `tls.connect` with the CA file as its only CA; args: host port ca.
const NODE: &str = r#"
const tls = require("tls"), fs = require("fs"), net = require("net");
const [host, port, ca] = process.argv.slice(1);
const s = tls.connect({ host: "127.0.0.1", port: +port, ca: fs.readFileSync(ca),
  servername: net.isIP(host) ? undefined : host,
  checkServerIdentity: (_, cert) => tls.checkServerIdentity(host, cert) },
  () => { console.log("accept"); s.end(); });
s.on("error", (e) => console.log("refuse " + e.code));
"#;

fn node(host: &str, port: u16, ca: &str) -> bool {
    let out = Command::new("node")
        .args(["-e", NODE, host, &port.to_string(), ca])
        .output()
        .unwrap_or_else(|e| fixture::missing(&format!("node ({e})")));
    String::from_utf8_lossy(&out.stdout).trim() == "accept"
}

/// JSSE: a trust store of the CA file, HTTPS endpoint identification for
/// `host`; args: host port ca.
const JAVA: &str = r#"
import javax.net.ssl.*; import java.security.KeyStore; import java.security.cert.*;
public class TlsFamily { public static void main(String[] a) throws Exception {
  KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType()); ks.load(null, null);
  int i = 0;
  for (Certificate c : CertificateFactory.getInstance("X.509")
      .generateCertificates(new java.io.FileInputStream(a[2]))) ks.setCertificateEntry("c" + i++, c);
  TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
  tmf.init(ks);
  SSLContext ctx = SSLContext.getInstance("TLS"); ctx.init(null, tmf.getTrustManagers(), null);
  try (java.net.Socket plain = new java.net.Socket("127.0.0.1", Integer.parseInt(a[1]));
       SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(plain, a[0], plain.getPort(), true)) {
    SSLParameters p = s.getSSLParameters(); p.setEndpointIdentificationAlgorithm("HTTPS");
    s.setSSLParameters(p); s.startHandshake(); System.out.println("accept");
  } catch (Exception e) { System.out.println("refuse " + e.getClass().getSimpleName()); }
} }
"#;

/// The Java client compiled once, in this binary's directory.
fn java_dir() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let d = common::tls_server::dir().join("java");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("TlsFamily.java"), JAVA).unwrap();
        let ok = Command::new("javac")
            .arg(d.join("TlsFamily.java"))
            .status()
            .unwrap_or_else(|e| fixture::missing(&format!("javac ({e})")))
            .success();
        assert!(ok, "javac TlsFamily.java failed");
        d
    })
}

fn java(host: &str, port: u16, ca: &str) -> bool {
    let out = Command::new("java")
        .arg("-cp")
        .arg(java_dir())
        .args(["TlsFamily", host, &port.to_string(), ca])
        .output()
        .unwrap_or_else(|e| fixture::missing(&format!("java ({e})")));
    String::from_utf8_lossy(&out.stdout).trim() == "accept"
}

/// `amqpdoctor tls`'s verdict for `family` (None: not known).
fn predicted(host: &str, port: u16, ca: &str, family: &str) -> Option<bool> {
    let out = common::amqpdoctor()
        .args(["tls", &format!("amqps://{host}:{port}"), "--cacert", ca])
        .args(["--format", "json", "--connect-timeout", "3s"])
        .output()
        .unwrap();
    let doc = json_of(&out);
    doc["acceptance"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["family"] == family))
        .and_then(|f| f["accepted"].as_bool())
}

#[test]
fn openssl_predictions_match_pika_and_s_client() {
    let good = tls_file("server.pem");
    let ca = tls_file("ca.pem");
    let a = make(
        "ca-leaf",
        "/CN=localhost",
        &["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
    );
    let b = make("cn-only-ca", "/CN=localhost", &[]);
    let c = make(
        "cn-only",
        "/CN=localhost",
        &["-addext", "basicConstraints=critical,CA:FALSE"],
    );
    let ip = make(
        "ip-in-cn",
        "/CN=127.0.0.1",
        &["-addext", "basicConstraints=critical,CA:FALSE"],
    );
    // (shape, served certificate, CA file given, host connected by)
    let rows = [
        ("verified by rustls", good.clone(), ca.clone(), "localhost"),
        ("self_signed_ca_leaf", a.clone(), a.clone(), "localhost"),
        (
            "self_signed_ca_leaf by IP",
            a.clone(),
            a.clone(),
            "127.0.0.1",
        ),
        (
            "cn_only + self_signed_ca_leaf",
            b.clone(),
            b.clone(),
            "localhost",
        ),
        ("cn_only", c.clone(), c.clone(), "localhost"),
        ("ip_only_in_cn", ip.clone(), ip.clone(), "127.0.0.1"),
        (
            "self-signed, not in the CA file",
            a.clone(),
            ca.clone(),
            "localhost",
        ),
        (
            "wrong name",
            tls_file("wrong-name-server.pem"),
            ca.clone(),
            "localhost",
        ),
        (
            "expired",
            tls_file("expired-server.pem"),
            ca.clone(),
            "localhost",
        ),
    ];
    let mut table = vec![format!(
        "{:<34} {:>9} {:>7} {:>9} {:>7} | {:>9} {:>7}",
        "shape", "openssl", "pika", "s_client", "node", "java", "JSSE"
    )];
    let mut mismatches = 0;
    for (shape, cert, ca, host) in rows {
        let server = Terminator::start(&cert);
        let port = server.port;
        let want = predicted(host, port, &ca, "openssl");
        let want_java = predicted(host, port, &ca, "java");
        let real = [
            pika(host, port, &ca),
            s_client(host, port, &ca),
            node(host, port, &ca),
        ];
        let jsse = java(host, port, &ca);
        let word = |b: bool| if b { "accept" } else { "refuse" };
        if real.iter().any(|r| want != Some(*r)) || want_java != Some(jsse) {
            mismatches += 1;
        }
        table.push(format!(
            "{shape:<34} {:>9} {:>7} {:>9} {:>7} | {:>9} {:>7}",
            want.map_or("unknown", word),
            word(real[0]),
            word(real[1]),
            word(real[2]),
            want_java.map_or("unknown", word),
            word(jsse)
        ));
    }
    let table = table.join("\n");
    eprintln!("{table}");
    assert_eq!(
        mismatches, 0,
        "prediction and real clients disagree:\n{table}"
    );
}
