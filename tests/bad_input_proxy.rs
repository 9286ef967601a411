//! Hostile peers and outputs against `proxy` (issue 24 items 3, 4, 7, 17):
//! each row runs the proxy, makes it suffer, stops it with a signal and
//! asserts it ends by itself (a generous guard turns a hang into a
//! failure) with its peak RSS under docs/security.md's bound.
// The test harness's own libc calls (mkfifo, kill, wait4, geteuid), each
// with its reason beside it; the crate denies unsafe code elsewhere.
#![allow(unsafe_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// docs/security.md: no single hostile peer drives the tool past this.
const MAX_RSS_KIB: i64 = 64 * 1024;

/// Past this after the signal the proxy is taken to hang (the row fails).
const KILL_AFTER: Duration = Duration::from_secs(60);

fn vm_hwm_kib(pid: u32) -> i64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// A free loopback port (bound, then released for the proxy to take).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An upstream that floods heartbeat frames at every client, as fast as
/// the socket takes them. Returns HOST:PORT.
fn flooding_upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    thread::spawn(move || {
        for mut c in listener.incoming().flatten() {
            thread::spawn(move || {
                let burst = [8u8, 0, 0, 0, 0, 0, 0, 0xce].repeat(4096);
                while c.write_all(&burst).is_ok() {}
            });
        }
    });
    addr
}

/// An upstream that reads and discards everything, and never answers.
fn discarding_upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    thread::spawn(move || {
        for mut c in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                while c.read(&mut buf).is_ok_and(|n| n > 0) {}
            });
        }
    });
    addr
}

/// Connect to the proxy on `port`, retrying while it starts.
fn connect(port: u16) -> TcpStream {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(c) => return c,
            Err(e) if Instant::now() > until => panic!("proxy never listened: {e}"),
            Err(_) => thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// SIGTERM `child`, then wait (polling its peak RSS) until it exits or the
/// guard kills it. Returns (exit code, killed by the guard, peak RSS KiB).
fn terminate(child: &mut Child) -> (Option<i32>, bool, i64) {
    let pid = child.id();
    let mut rss = vm_hwm_kib(pid);
    // SAFETY: a signal to our own, not yet reaped child.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    let sent = Instant::now();
    loop {
        rss = rss.max(vm_hwm_kib(pid));
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), false, rss);
        }
        if sent.elapsed() > KILL_AFTER {
            let _ = child.kill();
            let _ = child.wait();
            return (None, true, rss);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn proxy(port: u16, upstream: &str, extra: &[&str], stdout: Stdio) -> Child {
    Command::new(env!("CARGO_BIN_EXE_amqpdoctor"))
        .args(["proxy", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--upstream", upstream])
        .args(extra)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn stderr_of(child: &mut Child) -> String {
    let mut s = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut s);
    }
    s
}

/// Items 3 and 4: `--log-frames` against a heartbeat flood, its stdout a
/// FIFO nobody reads. The event queue stays bounded, relaying goes on
/// while stdout is blocked, and SIGTERM ends the proxy.
#[test]
fn log_frames_into_a_fifo_never_read_keeps_relaying_and_obeys_sigterm() {
    let fifo = std::env::temp_dir().join(format!("amqpdoctor-fifo-{}", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0, "mkfifo");
    // Opened read-write so the open does not wait for a reader; nobody
    // ever reads it, so once its buffer is full every write blocks.
    let out = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .unwrap();
    let _ = std::fs::remove_file(&fifo);
    let port = free_port();
    let upstream = flooding_upstream();
    let mut child = proxy(port, &upstream, &["--log-frames"], Stdio::from(out));
    let mut client = connect(port);
    client
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0usize;
    // 32 MiB of heartbeats: 4 Mi frame events, far past the FIFO's buffer
    // and the event queue, all relayed while stdout is blocked.
    while got < 32 << 20 {
        match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    let (code, hung, rss) = terminate(&mut child);
    let stderr = stderr_of(&mut child);
    eprintln!("relayed {got} bytes; peak RSS {rss} KiB; exit {code:?}");
    assert!(
        !hung,
        "still running {KILL_AFTER:?} after SIGTERM: {stderr}"
    );
    assert!(got >= 32 << 20, "relaying stopped after {got} bytes");
    assert!(code.is_some_and(|c| c != 0), "exit {code:?}: {stderr}");
    assert!(stderr.contains("was not read"), "{stderr}");
    assert!(rss <= MAX_RSS_KIB, "peak RSS {rss} KiB");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Item 7: clients that send the start of a huge frame and never the rest
/// pin at most the parse cap each, not 16 MiB per direction.
#[test]
fn incomplete_huge_frames_are_bounded_per_connection() {
    let port = free_port();
    let upstream = discarding_upstream();
    let mut child = proxy(port, &upstream, &["--log-frames"], Stdio::piped());
    let mut clients = Vec::new();
    for _ in 0..20 {
        let mut c = connect(port);
        c.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
        // A method frame declaring 16 MiB - 9 bytes, then 4 MiB of it.
        let mut start = vec![1u8, 0, 0];
        start.extend_from_slice(&(16u32 * 1024 * 1024 - 9).to_be_bytes());
        let _ = c.write_all(&start);
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..4 {
            if c.write_all(&chunk).is_err() {
                break;
            }
        }
        clients.push(c);
    }
    let stdout = child.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = { stdout }.read_to_string(&mut s);
        s
    });
    let (code, hung, rss) = terminate(&mut child);
    let stderr = stderr_of(&mut child);
    let out = reader.join().unwrap();
    eprintln!("20 clients with partial 16 MiB frames: peak RSS {rss} KiB");
    assert!(!hung, "still running after SIGTERM: {stderr}");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(rss <= MAX_RSS_KIB, "peak RSS {rss} KiB");
    assert!(out.contains("forwarding raw"), "{out}");
    assert!(out.contains("frames are parsed up to 1024 KiB"), "{out}");
    drop(clients);
}

/// Item 17: Ctrl-C (SIGTERM here) does not wait for an upstream connect
/// still pending (`--connect-timeout 600s` towards a blackholed address).
#[test]
fn a_stop_does_not_wait_for_a_pending_upstream_connect() {
    let port = free_port();
    // A listener with a full backlog never completes the handshake: bind
    // one and never accept, after filling its queue.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let sock: std::net::SocketAddr = addr.parse().unwrap();
    let mut fillers = Vec::new();
    while let Ok(c) = TcpStream::connect_timeout(&sock, Duration::from_millis(300)) {
        fillers.push(c);
        assert!(fillers.len() < 4096, "the backlog never filled");
    }
    let mut child = proxy(port, &addr, &["--connect-timeout", "600s"], Stdio::piped());
    let _client = connect(port);
    thread::sleep(Duration::from_millis(500));
    let (code, hung, _) = terminate(&mut child);
    let stderr = stderr_of(&mut child);
    assert!(
        !hung,
        "waited for the pending connect after SIGTERM: {stderr}"
    );
    assert_eq!(code, Some(0), "{stderr}");
    drop((listener, fillers));
}
