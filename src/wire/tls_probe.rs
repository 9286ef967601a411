//! `amqpdoctor tls`: a TLS handshake and nothing after it (no AMQP, no
//! login). What comes back is facts: the certificates the server sent,
//! what rustls said of them, what was negotiated, or, when no TLS came
//! back at all, what the port answered instead.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::tls;
use crate::target::Target;
use crate::timeline::Timeline;
use crate::vocab::tls::TlsRefusalFacts;
use crate::vocab::TlsFailure;

/// What the handshake agreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub version: String,
    pub cipher: String,
    pub alpn: Option<String>,
}

/// One handshake's facts.
#[derive(Debug, Clone)]
pub struct HandshakeOnly {
    pub peer: String,
    /// The certificates the server sent, leaf first (DER); empty when no
    /// certificate came.
    pub chain: Vec<Vec<u8>>,
    /// What rustls refused, when it did.
    pub refusal: Option<TlsRefusalFacts>,
    pub result: Result<Negotiated, (TlsFailure, String)>,
    /// From the TCP connection to the end of the handshake.
    pub took: Duration,
}

/// Connect to `target` and do the TLS handshake only, each step bounded by
/// `timeout`. Err: no TCP connection (in words).
pub async fn handshake_only(target: &Target, timeout: Duration) -> Result<HandshakeOnly, String> {
    let mut tl = Timeline::new(false);
    let tcp = super::connect_tcp(target, timeout, &mut tl)
        .await
        .map_err(|e| e.to_string())?;
    let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let settings = target.tls().cloned().unwrap_or_default();
    let (config, slot) = tls::configure(&settings).map_err(|e| e.to_string())?;
    let name = target.tls_server_name().to_string();
    let started = Instant::now();
    let shake = tls::handshake(tcp, (config, slot.clone()), &name);
    let result = match tokio::time::timeout(timeout, shake).await {
        Ok(Ok(mut t)) => {
            let negotiated = negotiated(&t);
            let _ = tokio::time::timeout(timeout, t.shutdown()).await;
            Ok(negotiated)
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err((
            TlsFailure::Other,
            format!("no TLS answer within {} ms", timeout.as_millis()),
        )),
    };
    let took = started.elapsed();
    let (chain, refusal) = slot
        .lock()
        .map(|mut s| (std::mem::take(&mut s.chain), s.refusal.take()))
        .unwrap_or_default();
    Ok(HandshakeOnly {
        peer,
        chain,
        refusal,
        result,
        took,
    })
}

fn negotiated(t: &tls::Transport) -> Negotiated {
    let tls::Transport::Tls(s, _) = t else {
        return Negotiated {
            version: String::new(),
            cipher: String::new(),
            alpn: None,
        };
    };
    let c = s.get_ref().1;
    Negotiated {
        version: match c.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3".into(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2".into(),
            Some(v) => v.as_str().unwrap_or("unknown").into(),
            None => "unknown".into(),
        },
        cipher: c
            .negotiated_cipher_suite()
            .and_then(|cs| cs.suite().as_str())
            .unwrap_or("unknown")
            .into(),
        alpn: c
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
    }
}

/// What a port that did not speak TLS answers to a plain AMQP protocol
/// header: "plain AMQP …", "HTTP …", or "nothing …" (pure on the bytes:
/// [`describe_answer`]).
pub async fn what_answers(target: &Target, timeout: Duration) -> String {
    let mut tl = Timeline::new(false);
    let Ok(mut tcp) = super::connect_tcp(target, timeout, &mut tl).await else {
        return "nothing: the port no longer accepts connections".into();
    };
    // The AMQP header, then an empty line: a broker answers the header, a
    // web server the malformed request.
    let _ = tcp.write_all(b"AMQP\x00\x00\x09\x01\r\n\r\n").await;
    let mut buf = [0u8; 64];
    let got = read_some(&mut tcp, &mut buf, timeout).await;
    describe_answer(got.map(|n| &buf[..n]), timeout)
}

async fn read_some(tcp: &mut TcpStream, buf: &mut [u8], timeout: Duration) -> Option<usize> {
    match tokio::time::timeout(timeout, tcp.read(buf)).await {
        Ok(Ok(n)) => Some(n),
        Ok(Err(_)) => Some(0),
        Err(_) => None,
    }
}

/// The first bytes a port sent back to an AMQP protocol header, in words.
/// None: nothing within `timeout`.
pub fn describe_answer(bytes: Option<&[u8]>, timeout: Duration) -> String {
    match bytes {
        None => format!(
            "nothing: no byte within {} ms, and no TLS",
            timeout.as_millis()
        ),
        Some([]) => "nothing: the connection was closed without a byte".into(),
        Some([1, 0, 0, ..]) => {
            "plain AMQP: a Connection.Start in the clear (this is not a TLS port; use amqp://)"
                .into()
        }
        Some(b) if b.starts_with(b"AMQP") => {
            "plain AMQP: a protocol header in the clear (this is not a TLS port; use amqp://)"
                .into()
        }
        Some(b) if b.starts_with(b"HTTP/") => {
            let line = String::from_utf8_lossy(b);
            format!(
                "HTTP: `{}` (a web server, not an AMQP TLS listener)",
                line.lines().next().unwrap_or("").trim()
            )
        }
        Some(b) if tls::looks_like_tls(b) => {
            "TLS, but not a handshake amqpdoctor could finish".into()
        }
        Some(b) => format!("{} bytes that are neither TLS, AMQP nor HTTP", b.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_words() {
        let t = Duration::from_millis(500);
        // (bytes, words start with)
        let rows: [(Option<&[u8]>, &str); 7] = [
            (None, "nothing: no byte within 500 ms"),
            (Some(b""), "nothing: the connection was closed"),
            (
                Some(b"AMQP\x00\x00\x09\x01"),
                "plain AMQP: a protocol header",
            ),
            (
                Some(&[1, 0, 0, 0, 0, 1, 0x3c]),
                "plain AMQP: a Connection.Start",
            ),
            (
                Some(b"HTTP/1.1 400 Bad Request\r\n"),
                "HTTP: `HTTP/1.1 400 Bad Request`",
            ),
            (Some(&[0x15, 3, 3, 0, 2, 2, 10]), "TLS, but"),
            (Some(b"SSH-2.0-OpenSSH"), "15 bytes that are neither"),
        ];
        for (bytes, want) in rows {
            let got = describe_answer(bytes, t);
            assert!(got.starts_with(want), "{bytes:?}: {got}");
        }
    }
}
