//! The little HTTP/1.1 that `serve` speaks, as data: a request head parsed
//! from bytes (bounded), a response turned into bytes. No socket here.

/// A request head larger than this is refused (431) unread.
pub const HEAD_MAX: usize = 8 * 1024;

/// At most this many header lines.
const HEADERS_MAX: usize = 64;

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path without its query string.
    pub path: String,
    /// Header names in lower case, values trimmed.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a head could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// Over [`HEAD_MAX`] bytes or [`HEADERS_MAX`] lines: 431.
    TooLarge,
    /// Not an HTTP/1.x request head: 400.
    Malformed,
}

/// The request head at the start of `buf`: Ok(None) while the blank line
/// that ends it has not come yet.
pub fn parse_head(buf: &[u8]) -> Result<Option<Request>, HeadError> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > HEAD_MAX {
            Err(HeadError::TooLarge)
        } else {
            Ok(None)
        };
    };
    if end + 4 > HEAD_MAX {
        return Err(HeadError::TooLarge);
    }
    let text = std::str::from_utf8(&buf[..end]).map_err(|_| HeadError::Malformed)?;
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or("");
    let mut parts = first.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed);
    };
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase());
    if !token(method) || !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Err(HeadError::Malformed);
    }
    let mut headers = Vec::new();
    for line in lines {
        if headers.len() == HEADERS_MAX {
            return Err(HeadError::TooLarge);
        }
        let (name, value) = line.split_once(':').ok_or(HeadError::Malformed)?;
        if name.is_empty() || name.contains(' ') {
            return Err(HeadError::Malformed);
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    Ok(Some(Request {
        method: method.to_string(),
        path: path.to_string(),
        headers,
    }))
}

/// A response; every one closes the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    /// Extra header lines (name, value).
    pub headers: Vec<(&'static str, &'static str)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A plain-text response.
    pub fn text(status: u16, body: &str) -> Self {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// The bytes on the wire; `head` (a HEAD request): without the body.
    pub fn to_bytes(&self, head: bool) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        for (n, v) in &self.headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        if !head {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

/// The reason phrase of the statuses `serve` answers with.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// `a == b` in a time that depends on their lengths only (a token
/// compared byte by byte would tell an attacker how much of it matched).
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads() {
        let ok = |raw: &str| parse_head(raw.as_bytes()).unwrap().unwrap();
        let r = ok("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\n");
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/metrics"));
        assert_eq!(r.header("accept"), Some("text/plain"));
        assert_eq!(r.header("host"), Some("a"));
        // (raw, expected)
        let rows: [(&[u8], Result<bool, HeadError>); 8] = [
            (b"GET / HTTP/1.1\r\n", Ok(false)),
            (b"GET / HTTP/1.0\r\n\r\n", Ok(true)),
            (b"GET /\r\n\r\n", Err(HeadError::Malformed)),
            (b"get / HTTP/1.1\r\n\r\n", Err(HeadError::Malformed)),
            (b"GET / SPDY/3\r\n\r\n", Err(HeadError::Malformed)),
            (b"GET http://x/ HTTP/1.1\r\n\r\n", Err(HeadError::Malformed)),
            (
                b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
                Err(HeadError::Malformed),
            ),
            (b"\xff\xfe / HTTP/1.1\r\n\r\n", Err(HeadError::Malformed)),
        ];
        for (raw, want) in rows {
            let got = parse_head(raw).map(|r| r.is_some());
            assert_eq!(got, want, "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn heads_are_bounded() {
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.resize(HEAD_MAX + 1, b'a');
        assert_eq!(parse_head(&big), Err(HeadError::TooLarge));
        let mut many = String::from("GET / HTTP/1.1\r\n");
        for i in 0..=HEADERS_MAX {
            many.push_str(&format!("x{i}: 1\r\n"));
        }
        many.push_str("\r\n");
        assert_eq!(parse_head(many.as_bytes()), Err(HeadError::TooLarge));
    }

    #[test]
    fn responses() {
        let r = Response::text(404, "not found\n");
        let bytes = String::from_utf8(r.to_bytes(false)).unwrap();
        assert!(bytes.starts_with("HTTP/1.1 404 Not Found\r\n"), "{bytes}");
        assert!(bytes.contains("Content-Length: 10\r\n"), "{bytes}");
        assert!(bytes.ends_with("\r\n\r\nnot found\n"), "{bytes}");
        let head = String::from_utf8(r.to_bytes(true)).unwrap();
        assert!(head.ends_with("\r\n\r\n"), "{head}");
    }

    #[test]
    fn secrets() {
        for (a, b, want) in [
            ("abc", "abc", true),
            ("abc", "abd", false),
            ("abc", "ab", false),
        ] {
            assert_eq!(same_secret(a.as_bytes(), b.as_bytes()), want, "{a} {b}");
        }
    }
}
