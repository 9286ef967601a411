//! `serve`'s HTTP server: std's `TcpListener`, a fixed pool of workers and
//! a bounded queue in front of them, one request per connection.
//!
//! ```text
//!   accept ──► queue (bounded; full: 503 at once) ──► WORKERS threads
//!                                                        │ read the head (HEAD_MAX, REQUEST_DEADLINE)
//!                                                        ▼
//!                                                handler(&Request) → Response, then close
//! ```
//!
//! Why threads and not the async runtime: a scrape is one small request,
//! the collectors must never wait for a client, and a stuck client must
//! not be able to hold more than one worker for more than the deadline.
//! A slow client (slowloris) loses its connection at the deadline however
//! slowly it trickles bytes; a flood beyond the queue is answered 503
//! without being read, so collection and honest scrapes go on.

pub mod http;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{sync_channel, Receiver, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{parse_head, HeadError, Request, Response};

/// Requests handled at the same time.
pub const WORKERS: usize = 8;

/// Accepted connections waiting for a worker; more are answered 503.
pub const QUEUE: usize = 64;

/// A client has this long to send its request head, and to read the answer.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

/// What answers a request (the routes live in the report layer).
pub type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// Serve `listener` on threads of its own until the process ends.
pub fn spawn(listener: TcpListener, handler: Arc<Handler>) -> std::io::Result<()> {
    let (tx, rx) = sync_channel::<TcpStream>(QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..WORKERS {
        let rx = rx.clone();
        let handler = handler.clone();
        std::thread::Builder::new()
            .name(format!("serve-http-{i}"))
            .spawn(move || worker(&rx, &*handler))?;
    }
    std::thread::Builder::new()
        .name("serve-accept".into())
        .spawn(move || {
            for stream in listener.incoming() {
                // A failed accept (EMFILE, a reset before accept) is the
                // client's loss; keep accepting, but do not spin.
                let Ok(stream) = stream else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                match tx.try_send(stream) {
                    Ok(()) => {}
                    Err(TrySendError::Full(mut s)) => {
                        let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
                        let busy = Response::text(503, "busy: too many requests at once\n");
                        let _ = s.write_all(&busy.to_bytes(false));
                    }
                    Err(TrySendError::Disconnected(_)) => return,
                }
            }
        })?;
    Ok(())
}

fn worker(rx: &Mutex<Receiver<TcpStream>>, handler: &Handler) {
    loop {
        let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(stream) = next else { return };
        answer(stream, handler);
    }
}

/// Read one request head (bounded in size and time), answer it, close.
fn answer(mut stream: TcpStream, handler: &Handler) {
    let deadline = Instant::now() + REQUEST_DEADLINE;
    let _ = stream.set_write_timeout(Some(REQUEST_DEADLINE));
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let response = loop {
        match parse_head(&buf) {
            Ok(Some(req)) => break Some((respond(handler, &req), req.method == "HEAD")),
            Ok(None) => {}
            Err(HeadError::TooLarge) => {
                break Some((Response::text(431, "request head too large\n"), false))
            }
            Err(HeadError::Malformed) => break Some((Response::text(400, "bad request\n"), false)),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Some((Response::text(408, "request timeout\n"), false));
        }
        let _ = stream.set_read_timeout(Some(left));
        match stream.read(&mut chunk) {
            Ok(0) => break None,
            // parse_head refuses a head past HEAD_MAX: buf stays under
            // HEAD_MAX + one chunk.
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break Some((Response::text(408, "request timeout\n"), false))
            }
            Err(_) => break None,
        }
    };
    if let Some((r, head)) = response {
        let _ = stream.write_all(&r.to_bytes(head));
        let _ = stream.flush();
        if r.status >= 400 {
            linger(&mut stream);
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// After an error answer the client may still be sending (a huge head):
/// closing with its bytes unread would send an RST that can destroy the
/// answer before it is read. Half-close, then read and drop what comes,
/// for at most a second and 64 KiB.
fn linger(stream: &mut TcpStream) {
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let until = Instant::now() + Duration::from_secs(1);
    let mut chunk = [0u8; 4096];
    let mut left: usize = 64 * 1024;
    while left > 0 {
        let wait = until.saturating_duration_since(Instant::now());
        if wait.is_zero() || stream.set_read_timeout(Some(wait)).is_err() {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

/// The handler's answer; a handler that panicked is a 500, and the worker
/// lives on.
fn respond(handler: &Handler, req: &Request) -> Response {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(req)))
        .unwrap_or_else(|_| Response::text(500, "internal error\n"))
}
