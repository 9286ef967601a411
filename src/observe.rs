//! The socket observer: times the moment a peer resets (RST) or closes (FIN)
//! a connection that the application is not reading, without changing what
//! the application will see.
//!
//! It polls a duplicate of the socket's fd for POLLRDHUP only (POLLERR and
//! POLLHUP always come too). It never asks for POLLIN — unread heartbeats
//! would wake it constantly — and never reads the stream. When poll fires it
//! reads the TCP state from TCP_INFO: CLOSE means the peer reset the
//! connection, CLOSE_WAIT that it closed it.
//!
//! It must not read SO_ERROR: that read clears the pending error, and the
//! application's next write would then report EPIPE instead of the
//! ECONNRESET it would really have seen (measured; see FACTS.md).
//!
//! A plain thread, not a tokio task: poll(2) blocks, and a thread per probed
//! connection is cheap. It wakes every [`STOP_CHECK`] to notice it was
//! stopped.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::getsockopt;
use nix::{getsockopt_impl, sockopt_impl};

use crate::timeline::TcpEnd;

// nix 0.31 has no TCP_INFO option; its macro builds one over libc's struct.
sockopt_impl!(
    /// TCP_INFO: the kernel's view of a TCP connection.
    TcpInfoOpt,
    GetOnly,
    libc::IPPROTO_TCP,
    libc::TCP_INFO,
    libc::tcp_info
);

/// How often the observer thread checks whether it was stopped.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// The parts of TCP_INFO we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfo {
    pub state: u8,
    /// Bytes the peer acknowledged (≈ bytes we sent).
    pub bytes_acked: u64,
    pub bytes_received: u64,
    /// Milliseconds since we last sent / received data.
    pub last_data_sent_ms: u32,
    pub last_data_recv_ms: u32,
}

/// Read TCP_INFO for a socket.
pub fn tcp_info<F: AsFd>(fd: &F) -> nix::Result<TcpInfo> {
    let i = getsockopt(fd, TcpInfoOpt)?;
    Ok(TcpInfo {
        state: i.tcpi_state,
        bytes_acked: i.tcpi_bytes_acked,
        bytes_received: i.tcpi_bytes_received,
        last_data_sent_ms: i.tcpi_last_data_sent,
        last_data_recv_ms: i.tcpi_last_data_recv,
    })
}

impl TcpInfo {
    /// `struct tcp_info` as the kernel sends it in an INET_DIAG_INFO
    /// attribute (include/uapi/linux/tcp.h), read by offset: the struct
    /// only ever grows at its end, so a longer one from a newer kernel is
    /// fine; one too short to hold `tcpi_bytes_received` (before Linux
    /// 4.1) is None.
    pub fn from_diag_bytes(b: &[u8]) -> Option<TcpInfo> {
        let u32_at = |o: usize| Some(u32::from_ne_bytes(b.get(o..o + 4)?.try_into().ok()?));
        let u64_at = |o: usize| Some(u64::from_ne_bytes(b.get(o..o + 8)?.try_into().ok()?));
        Some(TcpInfo {
            state: *b.first()?,
            last_data_sent_ms: u32_at(44)?,
            last_data_recv_ms: u32_at(52)?,
            bytes_acked: u64_at(120)?,
            bytes_received: u64_at(128)?,
        })
    }
}

/// Linux TCP state names (include/net/tcp_states.h).
pub fn tcp_state_name(state: u8) -> &'static str {
    match state {
        1 => "ESTABLISHED",
        2 => "SYN_SENT",
        3 => "SYN_RECV",
        4 => "FIN_WAIT1",
        5 => "FIN_WAIT2",
        6 => "TIME_WAIT",
        7 => "CLOSE",
        8 => "CLOSE_WAIT",
        9 => "LAST_ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        _ => "UNKNOWN",
    }
}

/// What the TCP state says about how the peer ended the connection.
pub fn end_from_state(state: u8) -> Option<TcpEnd> {
    match state {
        7 => Some(TcpEnd::Reset),
        8 | 9 => Some(TcpEnd::Fin),
        _ => None,
    }
}

/// The moment the observer saw the peer end the connection.
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    pub at: Instant,
    pub how: TcpEnd,
    pub info: TcpInfo,
}

/// A running observer. Drop or [`Observer::stop`] to end it.
pub struct Observer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Option<Observation>>>,
    fired: Option<tokio::sync::oneshot::Receiver<Observation>>,
}

impl Observer {
    /// Start watching `fd` (a duplicate of the connection's socket).
    pub fn watch(fd: OwnedFd) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("amqpdoctor-observer".into())
            .spawn(move || {
                let obs = watch_loop(&fd, &flag);
                if let Some(o) = obs {
                    let _ = tx.send(o);
                }
                obs
            })
            .ok();
        Observer {
            stop,
            thread,
            fired: Some(rx),
        }
    }

    /// Resolves when the observer sees the peer end the connection. Pending
    /// forever if it never does (or was stopped).
    pub async fn fired(&mut self) -> Observation {
        match self.fired.as_mut() {
            Some(rx) => match rx.await {
                Ok(o) => o,
                Err(_) => {
                    self.fired = None;
                    std::future::pending().await
                }
            },
            None => std::future::pending().await,
        }
    }

    /// Stop and return what was seen, if anything.
    pub fn stop(mut self) -> Option<Observation> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().and_then(|t| t.join().ok().flatten())
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn watch_loop(fd: &OwnedFd, stop: &AtomicBool) -> Option<Observation> {
    // POLLRDHUP: the peer shut down its writing side (FIN) or the connection
    // was reset; POLLERR/POLLHUP are always reported without being asked.
    let flags = PollFlags::from_bits_retain(libc::POLLRDHUP);
    let timeout = PollTimeout::try_from(STOP_CHECK).unwrap_or(PollTimeout::NONE);
    while !stop.load(Ordering::Relaxed) {
        let mut fds = [PollFd::new(fd.as_fd(), flags)];
        match poll(&mut fds, timeout) {
            Ok(0) => continue,
            Ok(_) => {
                let at = Instant::now();
                // poll returned > 0 for our only fd: it fired. (nix's
                // PollFlags does not know POLLRDHUP, so `revents()` is None
                // exactly when that bit is set; don't rely on it.)
                let info = tcp_info(fd).ok()?;
                let how = end_from_state(info.state).unwrap_or(
                    // POLLRDHUP without a closing state: the peer half-closed
                    // and the state has not moved yet; that is a FIN.
                    TcpEnd::Fin,
                );
                return Some(Observation { at, how, info });
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return None,
        }
    }
    None
}

/// The soft limit on open files (`ulimit -n`), if the kernel says.
#[allow(unsafe_code)]
pub fn open_files_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the struct we own and pass by
    // pointer; a failure is its return value.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut lim) } == 0).then_some(lim.rlim_cur)
}

/// Whether the process runs as root (it can then see every process's sockets).
#[allow(unsafe_code)]
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
#[allow(unsafe_code)]
mod tests {
    use super::*;

    #[test]
    fn tcp_info_from_diag_bytes_matches_libc_offsets() {
        // Build a tcp_info through libc's struct and read it back by offset.
        let mut raw: libc::tcp_info = unsafe { std::mem::zeroed() };
        raw.tcpi_state = 8;
        raw.tcpi_last_data_sent = 61_000;
        raw.tcpi_last_data_recv = 12;
        raw.tcpi_bytes_acked = 1234;
        raw.tcpi_bytes_received = 987_654_321_000;
        let size = std::mem::size_of::<libc::tcp_info>();
        let bytes = unsafe { std::slice::from_raw_parts((&raw const raw).cast::<u8>(), size) };
        let info = TcpInfo::from_diag_bytes(bytes).unwrap();
        assert_eq!(
            info,
            TcpInfo {
                state: 8,
                bytes_acked: 1234,
                bytes_received: 987_654_321_000,
                last_data_sent_ms: 61_000,
                last_data_recv_ms: 12,
            }
        );
        // A newer kernel's longer struct still reads; an old short one does not.
        let mut longer = bytes.to_vec();
        longer.extend_from_slice(&[0xff; 64]);
        assert_eq!(TcpInfo::from_diag_bytes(&longer), Some(info));
        assert_eq!(TcpInfo::from_diag_bytes(&bytes[..104]), None);
        assert_eq!(TcpInfo::from_diag_bytes(&[]), None);
    }

    #[test]
    fn tcp_states() {
        let rows = [
            (1, "ESTABLISHED", None),
            (7, "CLOSE", Some(TcpEnd::Reset)),
            (8, "CLOSE_WAIT", Some(TcpEnd::Fin)),
            (9, "LAST_ACK", Some(TcpEnd::Fin)),
            (42, "UNKNOWN", None),
        ];
        for (n, name, end) in rows {
            assert_eq!(tcp_state_name(n), name);
            assert_eq!(end_from_state(n), end);
        }
    }
}
