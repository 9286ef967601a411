//! `serve`'s HTTP server: std's `TcpListener`, one thread that reads every
//! request head (poll, non-blocking), and a fixed pool of workers that
//! answer complete requests; one request per connection.
//!
//! ```text
//!   reader thread: poll(listener + up to PENDING_MAX heads being read)
//!        │ accept → read (HEAD_MAX, REQUEST_DEADLINE) → parse_head
//!        ▼ complete head (or its error answer)
//!   queue (QUEUE; full: 503 at once) ──► WORKERS threads: handler(&Request) → write, close
//! ```
//!
//! Why this shape: a scrape is one small request, the collectors must
//! never wait for a client, and slow clients must cost almost nothing. A
//! client that trickles its head (slowloris) only holds a slot among
//! [`PENDING_MAX`] in the reader's poll set until [`REQUEST_DEADLINE`]
//! (then 408), never a worker: workers see complete requests only. Beyond
//! the slots or the queue a connection is answered 503 at once. Writing
//! an answer is bounded by the same deadline.

pub mod http;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use http::{parse_head, HeadError, Request, Response};

/// Requests answered at the same time.
pub const WORKERS: usize = 8;

/// Complete requests waiting for a worker; more are answered 503.
pub const QUEUE: usize = 64;

/// Connections whose request head is still coming; more are answered 503
/// (fewer when the open-files limit is low: see [`pending_max`]).
pub const PENDING_MAX: usize = 1024;

/// Descriptors kept for everything but pending heads (stdio, the netlink
/// socket, /proc reads, the checks' connections, the workers' sockets).
const FDS_KEPT: u64 = 128;

/// [`PENDING_MAX`], or less under a low open-files limit (`ulimit -n`), so
/// that slow clients cannot take the descriptors the collectors need.
fn pending_max() -> usize {
    let Some(limit) = crate::observe::open_files_limit() else {
        return PENDING_MAX;
    };
    let spare = limit.saturating_sub(FDS_KEPT).max(16);
    usize::try_from(spare).map_or(PENDING_MAX, |n| n.min(PENDING_MAX))
}

/// A client has this long to send its request head, and to read the answer.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

/// What answers a request (the routes live in the report layer).
pub type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// A connection handed to a worker: its request, or the error answer its
/// head earned.
type Job = (TcpStream, Result<Request, Response>);

/// Serve `listener` on threads of its own until the process ends.
pub fn spawn(listener: TcpListener, handler: Arc<Handler>) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let (tx, rx) = sync_channel::<Job>(QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..WORKERS {
        let rx = rx.clone();
        let handler = handler.clone();
        std::thread::Builder::new()
            .name(format!("serve-http-{i}"))
            .spawn(move || worker(&rx, &*handler))?;
    }
    std::thread::Builder::new()
        .name("serve-read".into())
        .spawn(move || reader(&listener, &tx))?;
    Ok(())
}

/// A connection whose head is being read.
struct Pending {
    stream: TcpStream,
    buf: Vec<u8>,
    deadline: Instant,
}

/// Accept, read heads, hand complete ones on; never blocks on a client.
fn reader(listener: &TcpListener, tx: &SyncSender<Job>) {
    let max = pending_max();
    let mut pending: Vec<Pending> = Vec::new();
    loop {
        let now = Instant::now();
        let wait = pending
            .iter()
            .map(|p| p.deadline.saturating_duration_since(now))
            .min()
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1));
        let ready: Vec<bool> = {
            let mut fds = Vec::with_capacity(pending.len() + 1);
            fds.push(PollFd::new(listener.as_fd(), PollFlags::POLLIN));
            fds.extend(
                pending
                    .iter()
                    .map(|p| PollFd::new(p.stream.as_fd(), PollFlags::POLLIN)),
            );
            let timeout = PollTimeout::try_from(wait).unwrap_or(PollTimeout::ZERO);
            if poll(&mut fds, timeout).is_err() {
                // EINTR; anything else would repeat: do not spin.
                std::thread::sleep(Duration::from_millis(10));
            }
            fds.iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect()
        };
        // Heads first (indices shift as connections leave), newest last.
        let mut i = pending.len();
        while i > 0 {
            i -= 1;
            let expired = pending[i].deadline <= Instant::now();
            if ready.get(i + 1).copied().unwrap_or(false) || expired {
                let p = pending.swap_remove(i);
                if let Some(p) = read_some(p, tx) {
                    pending.push(p);
                }
            }
        }
        if ready[0] {
            accept_all(listener, &mut pending, max);
        }
    }
}

/// Accept every connection waiting; past `max` pending, answer 503.
fn accept_all(listener: &TcpListener, pending: &mut Vec<Pending>, max: usize) {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                if pending.len() >= max || stream.set_nonblocking(true).is_err() {
                    refuse(
                        stream,
                        &Response::text(503, "busy: too many clients at once\n"),
                    );
                    continue;
                }
                pending.push(Pending {
                    stream,
                    buf: Vec::new(),
                    deadline: Instant::now() + REQUEST_DEADLINE,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
            // EMFILE, a reset before accept: that client's loss. Poll would
            // say "readable" again at once: do not spin.
            Err(_) => {
                std::thread::sleep(Duration::from_millis(10));
                return;
            }
        }
    }
}

/// Read what has come; the connection back while its head is incomplete,
/// else None (handed on, answered or dropped).
fn read_some(mut p: Pending, tx: &SyncSender<Job>) -> Option<Pending> {
    let mut chunk = [0u8; 4096];
    loop {
        match p.stream.read(&mut chunk) {
            Ok(0) => return None,
            // parse_head refuses a head past HEAD_MAX: buf stays under
            // HEAD_MAX + one chunk.
            Ok(n) => p.buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(_) => return None,
        }
        if p.buf.len() > http::HEAD_MAX {
            break;
        }
    }
    let job = match parse_head(&p.buf) {
        Ok(Some(req)) => Ok(req),
        Ok(None) if p.deadline > Instant::now() => return Some(p),
        Ok(None) => {
            // Too slow (a slowloris, say): answered here, no worker spent.
            refuse(p.stream, &Response::text(408, "request timeout\n"));
            return None;
        }
        Err(HeadError::TooLarge) => Err(Response::text(431, "request head too large\n")),
        Err(HeadError::Malformed) => Err(Response::text(400, "bad request\n")),
    };
    if p.stream.set_nonblocking(false).is_err() {
        return None;
    }
    match tx.try_send((p.stream, job)) {
        Ok(()) => {}
        Err(TrySendError::Full((s, _))) => {
            refuse(s, &Response::text(503, "busy: too many requests at once\n"));
        }
        Err(TrySendError::Disconnected(_)) => {}
    }
    None
}

/// Answer without a worker (a short write, bounded) and close.
fn refuse(mut s: TcpStream, r: &Response) {
    // Take what the client sent already, so that closing does not reset
    // the connection before it reads the answer.
    let _ = s.set_nonblocking(true);
    let _ = s.read(&mut [0u8; 8192]);
    let _ = s.set_nonblocking(false);
    let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
    let _ = s.write_all(&r.to_bytes(false));
    let _ = s.shutdown(std::net::Shutdown::Write);
}

fn worker(rx: &Mutex<Receiver<Job>>, handler: &Handler) {
    loop {
        let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok((stream, job)) = next else { return };
        answer(stream, job, handler);
    }
}

/// Answer one request (or its head's error), then close.
fn answer(mut stream: TcpStream, job: Result<Request, Response>, handler: &Handler) {
    let _ = stream.set_write_timeout(Some(REQUEST_DEADLINE));
    let (r, head, bad_head) = match job {
        Ok(req) => (respond(handler, &req), req.method == "HEAD", false),
        Err(r) => (r, false, true),
    };
    let _ = stream.write_all(&r.to_bytes(head));
    let _ = stream.flush();
    if bad_head {
        linger(&mut stream);
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// After a bad head's answer the client may still be sending (a huge head):
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
