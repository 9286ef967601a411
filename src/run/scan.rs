//! `scan`: the host's AMQP connections, read from the kernel without
//! touching them.
//!
//! ```text
//!   NETLINK_SOCK_DIAG dump (IPv4 + IPv6, tcp_info) ─► filter by peer port / pid
//!        ▲ every 250 ms while --watch                 │
//!        └──────────────── Track::push ◄──────────────┘
//!   /proc/*/fd → socket inode → pid, command line (password redacted)
//! ```
//!
//! The kernel's socket diagnostics (the source of `ss -ti`) list every TCP
//! socket with its `tcp_info`; nothing reads or writes the application's
//! socket, and nothing attaches to the process. A socket that leaves the
//! table during the watch was closed or reset; whether its process still
//! holds it says whether the application has noticed.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP};
use netlink_packet_sock_diag::inet::nlas::Nla;
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_sys::{protocols::NETLINK_SOCK_DIAG, Socket, SocketAddr as NlAddr};

use super::cancelled;
use crate::observe::TcpInfo;
use crate::target::redact_command_line;
use crate::vocab::scan::{Owner, SocketSample, Track};

/// How often a watch samples.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// At most this many connections are followed (the rest are counted).
pub const MAX_TRACKED: usize = 100_000;

/// A netlink reply that does not come within this is an error.
const NETLINK_TIMEOUT: Duration = Duration::from_secs(2);

/// Which sockets to look at.
#[derive(Debug, Clone)]
pub struct ScanSpec {
    pub ports: Vec<u16>,
    pub pid: Option<u32>,
    /// Sample for this long; None: one reading.
    pub watch: Option<Duration>,
    pub cancel: tokio::sync::watch::Receiver<bool>,
}

/// One socket as the kernel listed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagSocket {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub inode: u32,
    pub uid: u32,
    pub info: TcpInfo,
}

/// Everything a scan saw.
#[derive(Debug, Clone)]
pub struct ScanOutcome {
    pub tracks: Vec<Track>,
    /// Socket inode → who holds it (for the sockets seen).
    pub owners: HashMap<u32, Owner>,
    pub duration: Duration,
    pub samples: u32,
    /// Sockets seen but not followed (over [`MAX_TRACKED`]).
    pub untracked: usize,
    pub interrupted: bool,
}

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("the kernel's socket diagnostics (NETLINK_SOCK_DIAG): {0}")]
    Netlink(String),
}

/// The sockets followed so far, keyed by both addresses and the inode.
pub type Tracks = BTreeMap<(SocketAddr, SocketAddr, u32), Track>;

/// One reader of the kernel's socket table, sampled again and again: the
/// tracks it follows and who owns their sockets. `scan` drives it for a
/// watch; `serve --scan` drives it for as long as it runs.
pub struct Scanner {
    nl: Socket,
    ports: Vec<u16>,
    pid: Option<u32>,
    pub owners: HashMap<u32, Owner>,
    owners_read: Instant,
    pub tracks: Tracks,
    /// Sockets seen but not followed (over [`MAX_TRACKED`]), summed over samples.
    pub untracked: usize,
    pub samples: u32,
}

impl Scanner {
    /// Open the netlink socket and read who owns which socket.
    pub fn open(ports: Vec<u16>, pid: Option<u32>) -> Result<Self, ScanError> {
        Ok(Scanner {
            nl: open_netlink()?,
            ports,
            pid,
            owners: owners_by_inode(),
            owners_read: Instant::now(),
            tracks: BTreeMap::new(),
            untracked: 0,
            samples: 0,
        })
    }

    /// Read the table once (`at_ms` after the scan began): push a sample
    /// to every track seen, start tracks for new sockets, and date the
    /// ones that left the table.
    pub fn sample(&mut self, at_ms: u64) -> Result<(), ScanError> {
        let socks = dump(&self.nl)?;
        self.samples += 1;
        // Both ends of a loopback pair inside one process (pika's wake-up
        // socketpair, say) are not connections to a broker.
        let ends: HashMap<(SocketAddr, SocketAddr), u32> = socks
            .iter()
            .map(|s| ((s.local, s.remote), s.inode))
            .collect();
        self.refresh_owners(&socks);
        let owners = &self.owners;
        let pid_of = |inode: &u32| owners.get(inode).map(|o| o.pid);
        let wanted = |s: &DiagSocket| match self.pid {
            Some(pid) => {
                pid_of(&s.inode) == Some(pid)
                    && ends
                        .get(&(s.remote, s.local))
                        .is_none_or(|peer| pid_of(peer) != Some(pid))
            }
            None => self.ports.contains(&s.remote.port()),
        };
        let mut seen = std::collections::HashSet::new();
        for s in socks.iter().filter(|s| wanted(s)) {
            let key = (s.local, s.remote, s.inode);
            seen.insert(key);
            let sample = SocketSample {
                at_ms,
                state: s.info.state,
                bytes_acked: s.info.bytes_acked,
                bytes_received: s.info.bytes_received,
                last_data_sent_ms: s.info.last_data_sent_ms,
                last_data_recv_ms: s.info.last_data_recv_ms,
            };
            let room = self.tracks.len() < MAX_TRACKED;
            match self.tracks.get_mut(&key) {
                Some(t) if t.gone_at_ms.is_none() => t.push(sample),
                Some(_) => {}
                None if room => {
                    self.tracks
                        .insert(key, Track::new(s.local, s.remote, s.inode, sample));
                }
                None => self.untracked += 1,
            }
        }
        for (key, t) in &mut self.tracks {
            if t.gone_at_ms.is_none() && !seen.contains(key) {
                t.gone_at_ms = Some(at_ms);
            }
        }
        Ok(())
    }

    /// Read /proc again when a socket to follow has an owner not known yet
    /// (at most once a second). By peer port, only those sockets' owners
    /// matter: the rest of the host (a busy web server's thousands of
    /// sockets) neither makes /proc be read again nor is kept.
    fn refresh_owners(&mut self, socks: &[DiagSocket]) {
        let by_port = |s: &&DiagSocket| self.pid.is_some() || self.ports.contains(&s.remote.port());
        let first = self.samples == 1;
        let unknown = socks
            .iter()
            .filter(by_port)
            .any(|s| s.inode != 0 && !self.owners.contains_key(&s.inode));
        if !(first || unknown && self.owners_read.elapsed() >= Duration::from_secs(1)) {
            return;
        }
        if !first {
            self.owners = owners_by_inode();
            self.owners_read = Instant::now();
        }
        if self.pid.is_none() {
            // The sockets followed (gone ones too: who still holds a
            // socket that left the table) and those to follow.
            let keep: std::collections::HashSet<u32> = socks
                .iter()
                .filter(by_port)
                .map(|s| s.inode)
                .chain(self.tracks.values().map(|t| t.inode))
                .collect();
            self.owners.retain(|inode, _| keep.contains(inode));
        }
    }
}

/// Scan once, or watch.
pub async fn scan(spec: ScanSpec) -> Result<ScanOutcome, ScanError> {
    let started = Instant::now();
    let mut scanner = Scanner::open(spec.ports.clone(), spec.pid)?;
    let mut cancel = spec.cancel.clone();
    let mut interrupted = false;
    loop {
        let at_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        scanner.sample(at_ms)?;
        let Some(watch) = spec.watch else { break };
        let next = started + SAMPLE_EVERY * scanner.samples;
        if next > started + watch {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => {}
            _ = cancelled(&mut cancel) => { interrupted = true; break; }
        }
    }
    // Gone from the table: does the process still hold the socket now?
    let mut tracks: Vec<Track> = scanner.tracks.into_values().collect();
    for t in tracks.iter_mut().filter(|t| t.gone_at_ms.is_some()) {
        t.still_held = scanner.owners.get(&t.inode).map(|o| holds(o.pid, t.inode));
    }
    Ok(ScanOutcome {
        tracks,
        owners: scanner.owners,
        duration: started.elapsed(),
        samples: scanner.samples,
        untracked: scanner.untracked,
        interrupted,
    })
}

fn open_netlink() -> Result<Socket, ScanError> {
    let err = |e: std::io::Error| ScanError::Netlink(e.to_string());
    let mut socket = Socket::new(NETLINK_SOCK_DIAG).map_err(err)?;
    socket.bind_auto().map_err(err)?;
    socket.connect(&NlAddr::new(0, 0)).map_err(err)?;
    nix::sys::socket::setsockopt(
        &std::os::fd::AsFd::as_fd(&socket),
        nix::sys::socket::sockopt::ReceiveTimeout,
        &nix::sys::time::TimeVal::new(NETLINK_TIMEOUT.as_secs() as i64, 0),
    )
    .map_err(|e| ScanError::Netlink(e.to_string()))?;
    Ok(socket)
}

/// Every TCP socket (IPv4 and IPv6) but listeners and TIME_WAIT, with its
/// tcp_info.
pub fn dump(socket: &Socket) -> Result<Vec<DiagSocket>, ScanError> {
    let mut out = Vec::new();
    for family in [AF_INET, AF_INET6] {
        dump_family(socket, family, &mut out)?;
    }
    Ok(out)
}

fn dump_family(socket: &Socket, family: u8, out: &mut Vec<DiagSocket>) -> Result<(), ScanError> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let mut socket_id = SocketId::new_v4();
    if family == AF_INET6 {
        socket_id = SocketId::new_v6();
    }
    let mut packet = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::INFO,
            states: StateFlags::all() - StateFlags::LISTEN - StateFlags::TIME_WAIT,
            socket_id,
        })
        .into(),
    );
    packet.finalize();
    let mut buf = vec![0; packet.buffer_len()];
    packet.serialize(&mut buf[..]);
    socket
        .send(&buf[..], 0)
        .map_err(|e| ScanError::Netlink(format!("send: {e}")))?;
    let mut rx = vec![0u8; 64 * 1024];
    loop {
        let mut view = &mut rx[..];
        let n = socket
            .recv(&mut view, 0)
            .map_err(|e| ScanError::Netlink(format!("receive: {e}")))?;
        let mut offset = 0;
        while offset < n {
            let msg = <NetlinkMessage<SockDiagMessage>>::deserialize(&rx[offset..n])
                .map_err(|e| ScanError::Netlink(format!("a reply did not parse: {e}")))?;
            let len = msg.header.length as usize;
            match msg.payload {
                NetlinkPayload::Done(_) => return Ok(()),
                NetlinkPayload::Error(e) => {
                    return Err(ScanError::Netlink(format!(
                        "the kernel refused the dump: {e:?}"
                    )))
                }
                NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(r)) => {
                    let info = r.nlas.iter().find_map(|nla| match nla {
                        Nla::TcpInfo(bytes) => TcpInfo::from_diag_bytes(bytes),
                        _ => None,
                    });
                    if let Some(info) = info {
                        let id = &r.header.socket_id;
                        out.push(DiagSocket {
                            local: SocketAddr::new(unmap(id.source_address), id.source_port),
                            remote: SocketAddr::new(
                                unmap(id.destination_address),
                                id.destination_port,
                            ),
                            inode: r.header.inode,
                            uid: r.header.uid,
                            info,
                        });
                    }
                }
                _ => {}
            }
            if len == 0 {
                break;
            }
            offset += len;
        }
    }
}

/// `::ffff:127.0.0.1` as `127.0.0.1`: a dual-stack socket's IPv4 peer.
fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// Socket inode → owning process, from every /proc/PID/fd this user may
/// read (root: all). Processes that vanish meanwhile are skipped.
pub fn owners_by_inode() -> HashMap<u32, Owner> {
    let mut out = HashMap::new();
    let Ok(procs) = procfs::process::all_processes() else {
        return out;
    };
    for p in procs.flatten() {
        let Ok(fds) = p.fd() else { continue };
        let mut command = None;
        for fd in fds.flatten() {
            if let procfs::process::FDTarget::Socket(inode) = fd.target {
                let Ok(inode) = u32::try_from(inode) else {
                    continue;
                };
                let command = command
                    .get_or_insert_with(|| {
                        let args = p.cmdline().unwrap_or_default();
                        if args.is_empty() {
                            p.stat()
                                .map(|s| format!("[{}]", s.comm))
                                .unwrap_or_default()
                        } else {
                            redact_command_line(&args)
                        }
                    })
                    .clone();
                out.insert(
                    inode,
                    Owner {
                        pid: u32::try_from(p.pid).unwrap_or_default(),
                        command,
                    },
                );
            }
        }
    }
    out
}

/// Whether `pid` still has the socket `inode` open.
fn holds(pid: u32, inode: u32) -> bool {
    let Ok(p) = procfs::process::Process::new(pid as i32) else {
        return false;
    };
    let Ok(fds) = p.fd() else { return false };
    fds.flatten().any(
        |fd| matches!(fd.target, procfs::process::FDTarget::Socket(i) if i == u64::from(inode)),
    )
}
