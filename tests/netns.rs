//! The broker behind a REAL middlebox: a NAT gateway / stateful firewall
//! built from network namespaces, conntrack and nftables, with one unbroken
//! TCP flow from the client to the broker's side — where `tests/proxy.rs`
//! has two TCP connections and a proxy that acts on a timer.
//!
//! Opt-in (`#[ignore]`): it needs root, `ip` (iproute2), `nft` (nftables)
//! and `sysctl` (procps), and a kernel with network namespaces, veth,
//! nf_conntrack, nf_nat and nf_tables (reject, masquerade). `.ci/run` runs
//! it with `cargo test --locked --test netns -- --ignored`; `.ci/broker
//! start` installs nftables when absent. A missing prerequisite fails the
//! test with what to install, it never skips.
//!
//! # Topology
//!
//! ```text
//!  netns C (client)         netns M (middlebox)                root namespace
//!  amqpdoctor probe         ip_forward=1, conntrack:           amqpdoctor proxy (no idle timeout)
//!  eth0 100.64.0.2/30 ─veth─ lan0 100.64.0.1/30                  listens on R's address only
//!  default via 100.64.0.1    wan0 198.18.X.Y+1/30 ──veth── R 198.18.X.Y+2/30 ──> 127.0.0.1:5672
//!                            masquerade out of wan0                                (RabbitMQ)
//! ```
//!
//! The broker listens only on 127.0.0.1 and the root namespace's netfilter
//! rules and sysctls are not ours to change (no DNAT there), so a forwarder
//! — our own `amqpdoctor proxy` without `--idle-timeout`, which never acts —
//! listens only on the root-side veth address R and relays to the broker.
//! The path C → M → R is one TCP flow; M sees every segment of it. R's /30
//! is carved from 198.18.0.0/16 (in RFC 2544's range for benchmarking
//! network devices) by the test process's pid and the lab's letter in
//! [`LABS`], skipping any /30 the root namespace already uses; C's side,
//! 100.64.0.0/30 (RFC 6598, the address space behind carrier-grade NAT),
//! exists only inside C and M. Every name carries the pid and the lab's
//! letter (`amqpdoctor-<pid>-r-client`, veth `adn<pid>r`), so parallel
//! tests and concurrent runs do not collide; a [`Lab`] guard kills the
//! forwarder and deletes the root veth and both namespaces when the test
//! ends, passes or panics (deleting a namespace deletes its veths). Only a
//! SIGKILL of the test binary leaves them behind; the next run with the
//! same pid clears its names first.
//!
//! In M only (`ip netns exec M sysctl -w …`; these sysctls are per
//! namespace): `net.netfilter.nf_conntrack_tcp_timeout_established` =
//! [`CT_TIMEOUT_S`], `nf_conntrack_tcp_loose=0` (a mid-stream segment of a
//! forgotten flow does not start a new entry: it is INVALID), and
//! `ip_forward=1`. Its nftables ruleset (`ip netns exec M nft -f -`):
//!
//! ```text
//! table inet middlebox {
//!     chain forward {
//!         type filter hook forward priority filter; policy accept;
//!         meta l4proto tcp ct state invalid counter reject with tcp reset   # or: drop
//!     }
//!     chain postrouting {
//!         type nat hook postrouting priority srcnat; policy accept;
//!         oifname "wan0" masquerade
//!     }
//! }
//! ```
//!
//! `reject with tcp reset` is a NAT gateway answering the next packet of a
//! forgotten flow with RST (AWS NAT gateway, NLB); `drop` a blackhole (Azure
//! LB, GCP Cloud NAT without reset).
//!
//! # What a real middlebox does
//!
//! - Conntrack acts on nothing at its timeout. An entry past its timeout
//!   may stay in the table until the garbage collector gets to it, but every
//!   lookup treats it as gone, so the flow dies at exactly its timeout, for
//!   reject and drop alike. Nobody is told.
//! - The client learns only when it speaks: its first segment after the
//!   idle is INVALID and is answered with RST (reject) or vanishes with its
//!   retransmissions (drop). The probe sees the end at the end of its idle,
//!   not at the middlebox's timeout; `idle-timeout` sees its casualties die
//!   only once they speak (`seen_dying_while_idle` false).
//! - The RST goes to the sender only. The broker's side never learns: the
//!   forwarder still has the connection open (so the broker does, too)
//!   until it is stopped — with heartbeats off, a half-open connection left
//!   on the broker forever.
//! - Verdicts: reject gives `path_idle_timeout` (an RST answering the
//!   client's first write after an idle silent both ways), drop gives
//!   `silent_loss`.
//!
//! `amqpdoctor proxy --on-idle forget` imitates reject and `--on-idle drop`
//! the blackhole; [`the_proxy_reproduces_conntrack`] runs the same probe
//! through both and wants the same verdict and the same end.
//! docs/middleboxes.md ("A real middlebox") has the measured figures.
// The test harness's own libc calls (mkfifo, kill, wait4, geteuid), each
// with its reason beside it; the crate denies unsafe code elsewhere.
#![allow(unsafe_code)]

mod common;

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The middlebox's conntrack timeout for established TCP flows, seconds:
/// the path's idle timeout.
const CT_TIMEOUT_S: u64 = 3;
const CT_TIMEOUT_MS: u64 = CT_TIMEOUT_S * 1000;
/// The idle the middlebox kills: twice its timeout.
const LONG_IDLE_MS: u64 = 6000;
/// The control's idle: a second under the timeout.
const SHORT_IDLE_MS: u64 = 2000;
const _: () = assert!(SHORT_IDLE_MS < CT_TIMEOUT_MS && LONG_IDLE_MS > CT_TIMEOUT_MS);
/// When the flow's conntrack entry is looked at, from when it appeared
/// (the connect, a few ms before the idle begins): inside the timeout, and
/// past it but before the long idle ends.
const BEFORE_TIMEOUT: Duration = Duration::from_millis(1500);
const AFTER_TIMEOUT: Duration = Duration::from_millis(4500);
/// `probe --confirm-timeout`: how long a publish waits for its confirm.
const CONFIRM_TIMEOUT: &str = "2s";
/// `idle-timeout`'s settings: 8 connections idling 1 s … 8 s
/// (geometric: 1, 1.346, 1.811, 2.438, 3.281, 4.416, 5.944, 8 s), then one
/// round trip each, given 2 s to come back.
const IDLE_TIMEOUT_ARGS: [&str; 6] = ["--max", "8s", "--probes", "8", "--connect-timeout", "2s"];
/// The shortest casualty must be under this: the idle above M's 3 s is
/// 3.281 s, the one after it 4.416 s.
const BRACKET_CEILING_MS: u64 = 4500;
/// How long a run may take before the test kills it.
const DEADLINE: Duration = Duration::from_secs(60);

/// Every lab one test process builds, by its letter (in its names); the
/// letter's place picks its /30 (see [`free_subnet`]).
const LABS: &str = "rdcsijxy";

/// The client's side of M: only inside C and M.
const CLIENT_ADDR: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 2);
const LAN_ADDR: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 1);
/// R's /30s are carved from 198.18.0.0/16.
const WAN_BASE: u32 = u32::from_be_bytes([198, 18, 0, 0]);
const WAN_SLOTS: u32 = 1 << 14;

/// What M does with a segment of a flow it has forgotten.
#[derive(Clone, Copy, Debug)]
enum Forgotten {
    /// `reject with tcp reset`: RST to the sender.
    Reset,
    /// `drop`: a blackhole.
    Drop,
}

impl Forgotten {
    /// M's nftables verdict for it.
    fn rule(self) -> &'static str {
        match self {
            Forgotten::Reset => "reject with tcp reset",
            Forgotten::Drop => "drop",
        }
    }

    /// The `amqpdoctor proxy --on-idle` mode that imitates it.
    fn proxy_mode(self) -> &'static str {
        match self {
            Forgotten::Reset => "forget",
            Forgotten::Drop => "drop",
        }
    }

    /// How `idle-timeout` sees a connection die of it.
    fn fate(self) -> &'static str {
        match self {
            Forgotten::Reset => "reset",
            Forgotten::Drop => "silence",
        }
    }
}

// ---------------------------------------------------------------------------
// Prerequisites

/// The programs the lab runs, found on PATH or in the sbin directories a
/// non-login shell's PATH may lack.
struct Tools {
    ip: PathBuf,
    nft: PathBuf,
    sysctl: PathBuf,
}

impl Tools {
    /// Where `word` is, if it names one of the tools; else `word`.
    fn path<'a>(&'a self, word: &'a str) -> &'a str {
        let found = match word {
            "ip" => &self.ip,
            "nft" => &self.nft,
            "sysctl" => &self.sysctl,
            _ => return word,
        };
        found.to_str().unwrap()
    }
}

/// Panic with what to install or run unless the lab can be built.
fn tools() -> &'static Tools {
    static TOOLS: OnceLock<Result<Tools, String>> = OnceLock::new();
    match TOOLS.get_or_init(find_tools) {
        Ok(t) => t,
        Err(why) => panic!("{why}"),
    }
}

fn find_tools() -> Result<Tools, String> {
    let mut missing = Vec::new();
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        missing.push(
            "root: the lab creates network namespaces, veths and nftables rules \
             (run as root, e.g. `sudo -E cargo test --locked --test netns -- --ignored`)"
                .to_string(),
        );
    }
    let mut find = |name: &str, install: &str| {
        let found = which(name);
        if found.is_none() {
            missing.push(format!("`{name}`: {install}"));
        }
        found.unwrap_or_default()
    };
    let tools = Tools {
        ip: find("ip", "apt-get install -y iproute2"),
        nft: find(
            "nft",
            "apt-get install -y nftables (or `bash .ci/broker start`, which installs it)",
        ),
        sysctl: find("sysctl", "apt-get install -y procps"),
    };
    if missing.is_empty() {
        Ok(tools)
    } else {
        Err(format!(
            "the netns tests build a NAT gateway from network namespaces and cannot run here; \
             missing:\n  - {}\n`bash .ci/run` runs them as root after `.ci/broker start` \
             installed the tools.",
            missing.join("\n  - ")
        ))
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let mut dirs: Vec<&str> = path.split(':').filter(|d| !d.is_empty()).collect();
    dirs.extend(["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
    dirs.into_iter()
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| p.is_file())
}

// ---------------------------------------------------------------------------
// Processes

/// A child's output, read on threads so a full pipe never blocks it.
struct Output {
    lines: mpsc::Receiver<String>,
    stdout: Vec<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Output {
    fn capture(child: &mut Child) -> Output {
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut err = child.stderr.take().unwrap();
        let stderr = Some(thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        }));
        Output {
            lines,
            stdout: Vec::new(),
            stderr,
        }
    }

    /// Everything, once the child has exited (its pipes are closed).
    fn finish(&mut self) -> (String, String) {
        self.stdout.extend(self.lines.iter());
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        (self.stdout.join("\n"), stderr)
    }
}

/// Spawn `program ARGS` with colour off, no inherited `AMQP_URL` and its
/// output captured.
fn spawn(program: &str, args: &[String]) -> (Child, Output) {
    let mut child = Command::new(program)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("AMQP_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let output = Output::capture(&mut child);
    (child, output)
}

/// Wait for `child` until `deadline`; kill it (by its own pid) past that.
/// None when it had to be killed.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The test broker's URL (its credentials and vhost) pointed at `addr`.
fn broker_url_via(addr: &str) -> String {
    let url = common::broker_url();
    let (front, rest) = url.split_once('@').unwrap();
    let vhost = rest.split_once('/').map_or("", |(_, v)| v);
    format!("{front}@{addr}/{vhost}")
}

/// `amqpdoctor COMMAND URL --format json ARGS`, in namespace `netns` when
/// given (`ip netns exec` execs it: the child's pid is amqpdoctor's);
/// killed if dropped before it finished.
struct Running {
    child: Option<Child>,
    output: Output,
    /// The command line, password redacted.
    shown: String,
}

impl Running {
    fn start(netns: Option<&str>, command: &str, url: &str, args: &[&str]) -> Running {
        let mut words: Vec<String> = match netns {
            Some(ns) => ["ip", "netns", "exec", ns].map(String::from).to_vec(),
            None => Vec::new(),
        };
        words.extend(
            [
                env!("CARGO_BIN_EXE_amqpdoctor"),
                command,
                url,
                "--format",
                "json",
            ]
            .map(String::from),
        );
        words.extend(args.iter().map(|a| a.to_string()));
        let program = if netns.is_some() {
            tools().path("ip")
        } else {
            &words[0]
        };
        let (child, output) = spawn(program, &words[1..]);
        let shown = words.join(" ").replace(url, &common::redact(url));
        Running {
            child: Some(child),
            output,
            shown,
        }
    }

    /// Wait for it (killing it past [`DEADLINE`]): its exit code and the
    /// one JSON document it printed.
    fn finish(mut self) -> Finished {
        let mut child = self.child.take().unwrap();
        let status = wait_until(&mut child, Instant::now() + DEADLINE);
        let (stdout, stderr) = self.output.finish();
        let shown = std::mem::take(&mut self.shown);
        let status = status.unwrap_or_else(|| {
            panic!("`{shown}` ran past {DEADLINE:?} and was killed\n{stdout}\n{stderr}")
        });
        let doc = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "`{shown}` printed no JSON ({e}; {status})\nstdout:\n{stdout}\nstderr:\n{stderr}"
            )
        });
        Finished {
            code: status.code(),
            doc,
            stderr,
        }
    }

    /// Its status and output if it has already exited.
    fn exited(&mut self) -> Option<(ExitStatus, String, String)> {
        let status = self.child.as_mut()?.try_wait().ok()??;
        let (out, err) = self.output.finish();
        Some((status, out, err))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `amqpdoctor probe URL --format json --confirm-timeout 2s ARGS`.
fn probe(netns: Option<&str>, url: &str, args: &[&str]) -> Running {
    let mut all = vec!["--confirm-timeout", CONFIRM_TIMEOUT];
    all.extend_from_slice(args);
    Running::start(netns, "probe", url, &all)
}

struct Finished {
    code: Option<i32>,
    doc: Value,
    stderr: String,
}

/// `amqpdoctor proxy --listen LISTEN --upstream <the test broker> ARGS`,
/// running once it said `listening on ADDR`; killed if dropped before
/// [`Forwarder::stop`].
struct Forwarder {
    child: Option<Child>,
    output: Output,
    /// Its `listening on ADDR` address.
    addr: String,
    /// Its command line.
    shown: String,
}

impl Forwarder {
    fn start(listen: &str, args: &[&str]) -> Forwarder {
        let upstream = common::broker_host_port();
        let mut words = vec!["proxy", "--listen", listen, "--upstream", &upstream];
        words.extend_from_slice(args);
        let words: Vec<String> = words.into_iter().map(String::from).collect();
        let program = env!("CARGO_BIN_EXE_amqpdoctor");
        let (mut child, mut output) = spawn(program, &words);
        let shown = format!("{program} {} &", words.join(" "));
        let first = output.lines.recv_timeout(Duration::from_secs(10));
        let addr = first
            .as_deref()
            .ok()
            .and_then(|l| l.trim().strip_prefix("listening on "));
        let Some(addr) = addr.map(str::to_string) else {
            let _ = child.kill();
            let _ = child.wait();
            let (out, err) = output.finish();
            panic!("`{shown}` did not say `listening on`: {first:?}\n{out}\n{err}");
        };
        Forwarder {
            child: Some(child),
            output,
            addr,
            shown,
        }
    }

    fn url(&self) -> String {
        broker_url_via(&self.addr)
    }

    fn port(&self) -> u16 {
        self.addr.rsplit_once(':').unwrap().1.parse().unwrap()
    }

    /// Stop it with SIGINT, as Ctrl-C would; what it printed (its
    /// per-connection report).
    fn stop(mut self) -> String {
        let mut child = self.child.take().unwrap();
        // SAFETY: kill(2) on our own child's pid, which has not been reaped.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGINT);
        }
        let status = wait_until(&mut child, Instant::now() + Duration::from_secs(10));
        let (out, err) = self.output.finish();
        assert!(
            status.is_some_and(|s| s.success()),
            "`{}` did not exit 0 on SIGINT ({status:?}):\n{out}\n{err}",
            self.shown
        );
        out
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// What a run ended with, and what the forwarder it went through saw:
/// what the assertions read, and (Display) what their messages show.
struct Outcome {
    finished: Finished,
    /// The forwarder's per-connection report.
    forwarder: String,
    /// Packets M's `ct state invalid` rule rejected or dropped; None
    /// through the proxy on loopback.
    invalid: Option<u64>,
    /// How it was set up: the lab's commands, or the proxy's and the
    /// probe's.
    setup: String,
}

impl Outcome {
    fn code(&self) -> Option<i32> {
        self.finished.code
    }

    /// The whole document (`idle-timeout`'s report).
    fn doc(&self) -> &Value {
        &self.finished.doc
    }

    /// A probe's run.
    fn run(&self) -> &Value {
        &self.finished.doc["runs"][0]
    }

    fn invalid(&self) -> u64 {
        self.invalid.expect("a run through M")
    }

    /// How the forwarder's connection for a probe's run (its last, after
    /// the preflight's) ended: `"proxy stopped (Ctrl-C)"` when the
    /// forwarder still had it open on both sides.
    fn broker_side(&self) -> String {
        forwarder_endings(&self.forwarder)
            .into_iter()
            .max_by_key(|(conn, _)| *conn)
            .map(|(_, how)| how)
            .unwrap_or_else(|| panic!("no `#N ended:` line in the forwarder's report\n{self}"))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit code {:?}\nJSON:\n{:#}\nstderr:\n{}\nforwarder:\n{}\nset up with:\n{}",
            self.finished.code, self.finished.doc, self.finished.stderr, self.forwarder, self.setup
        )
    }
}

/// Every `#N ended: HOW` line of a forwarder's report, as `(N, HOW)`.
fn forwarder_endings(out: &str) -> Vec<(u32, String)> {
    out.lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let _time = words.next()?;
            let conn: u32 = words.next()?.strip_prefix('#')?.parse().ok()?;
            (words.next()? == "ended:").then(|| (conn, words.collect::<Vec<_>>().join(" ")))
        })
        .collect()
}

/// M's imitation: `amqpdoctor proxy --idle-timeout <M's timeout> --on-idle
/// MODE` on loopback.
struct Imitation {
    proxy: Forwarder,
}

impl Imitation {
    fn start(mode: &str) -> Imitation {
        let timeout = format!("{CT_TIMEOUT_S}s");
        let args = ["--idle-timeout", &timeout, "--on-idle", mode];
        Imitation {
            proxy: Forwarder::start("127.0.0.1:0", &args),
        }
    }

    fn probe(&self, args: &[&str]) -> Running {
        probe(None, &self.proxy.url(), args)
    }

    /// The run's end, then the proxy's report.
    fn conclude(self, running: Running) -> Outcome {
        let setup = format!("{}\n{}", self.proxy.shown, running.shown);
        let finished = running.finish();
        Outcome {
            finished,
            forwarder: self.proxy.stop(),
            invalid: None,
            setup,
        }
    }
}

// ---------------------------------------------------------------------------
// The lab

/// C, M, the veths, M's rules and the forwarder; all removed on drop.
struct Lab {
    client_ns: String,
    middlebox_ns: String,
    root_veth: String,
    /// R's address: the forwarder listens here; the client connects here.
    broker_side: Ipv4Addr,
    /// M's outside address, the flow's source as R sees it (masquerade).
    wan: Ipv4Addr,
    forgotten: Forgotten,
    forwarder: Option<Forwarder>,
    /// Every command run to build and use the lab, for messages and the
    /// docs.
    commands: Vec<String>,
}

impl Lab {
    /// Build lab `letter` (one of [`LABS`]) with M doing `forgotten` to
    /// forgotten flows.
    fn new(letter: char, forgotten: Forgotten) -> Lab {
        tools(); // or a panic saying what to install
        common::require_broker();
        let slot = LABS
            .find(letter)
            .unwrap_or_else(|| panic!("lab {letter:?} is not in LABS ({LABS})"));
        let pid = std::process::id();
        let (wan, broker_side) = free_subnet(pid, slot as u32);
        let mut lab = Lab {
            client_ns: format!("amqpdoctor-{pid}-{letter}-client"),
            middlebox_ns: format!("amqpdoctor-{pid}-{letter}-middlebox"),
            root_veth: format!("adn{pid}{letter}"),
            broker_side,
            wan,
            forgotten,
            forwarder: None,
            commands: Vec::new(),
        };
        // Left behind by a killed run that had our pid: ours to clear.
        lab.remove_namespaces();

        let (c, m, r) = (
            lab.client_ns.clone(),
            lab.middlebox_ns.clone(),
            lab.root_veth.clone(),
        );
        let steps = [
            format!("ip netns add {c}"),
            format!("ip netns add {m}"),
            // R in the root namespace, its peer wan0 in M.
            format!("ip link add {r} type veth peer name wan0 netns {m}"),
            // lan0 in M, its peer eth0 in C.
            format!("ip -n {m} link add lan0 type veth peer name eth0 netns {c}"),
            format!("ip addr add {broker_side}/30 dev {r}"),
            format!("ip link set {r} up"),
            format!("ip -n {m} addr add {wan}/30 dev wan0"),
            format!("ip -n {m} addr add {LAN_ADDR}/30 dev lan0"),
            format!("ip -n {m} link set wan0 up"),
            format!("ip -n {m} link set lan0 up"),
            format!("ip -n {c} addr add {CLIENT_ADDR}/30 dev eth0"),
            format!("ip -n {c} link set eth0 up"),
            format!("ip -n {c} link set lo up"),
            format!("ip -n {c} route add default via {LAN_ADDR}"),
            format!(
                "ip netns exec {m} sysctl -w net.ipv4.ip_forward=1 \
                 net.netfilter.nf_conntrack_tcp_loose=0 \
                 net.netfilter.nf_conntrack_tcp_timeout_established={CT_TIMEOUT_S}"
            ),
        ];
        for step in &steps {
            lab.run(step, None);
        }
        let ruleset = format!(
            "table inet middlebox {{\n\
             \x20   chain forward {{\n\
             \x20       type filter hook forward priority filter; policy accept;\n\
             \x20       meta l4proto tcp ct state invalid counter {}\n\
             \x20   }}\n\
             \x20   chain postrouting {{\n\
             \x20       type nat hook postrouting priority srcnat; policy accept;\n\
             \x20       oifname \"wan0\" masquerade\n\
             \x20   }}\n\
             }}\n",
            forgotten.rule()
        );
        let load = format!("ip netns exec {m} nft -f -");
        lab.run(&load, Some(&ruleset));
        // In the root namespace, on R's address only; no idle timeout, so
        // it never acts.
        let forwarder = Forwarder::start(&format!("{broker_side}:0"), &[]);
        lab.commands.push(forwarder.shown.clone());
        lab.forwarder = Some(forwarder);
        lab
    }

    /// Run `line` (words split on whitespace; `ip`, `nft` and `sysctl`
    /// found by [`tools`]) with `stdin`, recording it; panic with what it
    /// said, and a hint, if it fails.
    fn run(&mut self, line: &str, stdin: Option<&str>) -> String {
        let shown = line.split_whitespace().collect::<Vec<_>>().join(" ");
        self.commands.push(match stdin {
            Some(s) => format!("{shown} <<'EOF'\n{s}EOF"),
            None => shown.clone(),
        });
        run_line(&shown, stdin).unwrap_or_else(|e| {
            panic!(
                "`{shown}` failed: {e}\n{}\nthe lab so far:\n{}",
                hint(&shown),
                self.commands.join("\n")
            )
        })
    }

    fn forwarder(&self) -> &Forwarder {
        self.forwarder.as_ref().expect("the forwarder is running")
    }

    /// Start `amqpdoctor probe <the broker through M> --format json
    /// --confirm-timeout 2s ARGS` in C.
    fn probe(&mut self, args: &[&str]) -> Running {
        let running = probe(Some(&self.client_ns), &self.forwarder().url(), args);
        self.record(running)
    }

    /// Start `amqpdoctor idle-timeout <the broker through M> --format json
    /// ARGS` in C.
    fn idle_timeout(&mut self, args: &[&str]) -> Running {
        let url = self.forwarder().url();
        let running = Running::start(Some(&self.client_ns), "idle-timeout", &url, args);
        self.record(running)
    }

    fn record(&mut self, running: Running) -> Running {
        self.commands.push(running.shown.clone());
        running
    }

    /// Wait for `running` to end, read M's counter, stop the forwarder.
    fn conclude(&mut self, running: Running) -> Outcome {
        let finished = running.finish();
        let invalid = self.invalid_packets();
        let forwarder = self.forwarder.take().unwrap().stop();
        Outcome {
            finished,
            forwarder,
            invalid: Some(invalid),
            setup: self.commands.join("\n"),
        }
    }

    /// M's conntrack entry for the client's flow while it is ESTABLISHED.
    /// Reading the table drops entries past their timeout, just as the
    /// flow's next packet would.
    fn flow_entry(&self) -> Entry {
        let table = self.in_middlebox("cat /proc/net/nf_conntrack");
        let dst = format!(" dst={} ", self.broker_side);
        let dport = format!(" dport={} ", self.forwarder().port());
        // The reply direction goes to M's outside address: masqueraded.
        let nat = format!(" dst={} ", self.wan);
        table
            .lines()
            .find(|l| {
                l.contains(" ESTABLISHED ")
                    && l.contains(&dst)
                    && l.contains(&dport)
                    && l.contains(&nat)
            })
            .map(|l| {
                // ipv4 2 tcp 6 <seconds left> ESTABLISHED src=…
                let left = l.split_whitespace().nth(4).and_then(|s| s.parse().ok());
                (left.unwrap_or(u64::MAX), l.to_string())
            })
    }

    /// Wait (up to 10 s) for the flow's entry to appear: the client
    /// connected. Panics with what the client said if it ended first.
    fn wait_for_flow(&self, running: &mut Running) -> Instant {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.flow_entry().is_some() {
                return Instant::now();
            }
            if let Some((status, out, err)) = running.exited() {
                panic!(
                    "`{}` ended ({status}) before its flow was seen in M's conntrack \
                     table\nstdout:\n{out}\nstderr:\n{err}\nthe lab:\n{}",
                    running.shown,
                    self.commands.join("\n")
                );
            }
            thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "no ESTABLISHED flow to {} in M's conntrack table within 10 s; the lab:\n{}",
            self.forwarder().addr,
            self.commands.join("\n")
        );
    }

    /// Packets M's `ct state invalid` rule rejected or dropped.
    fn invalid_packets(&self) -> u64 {
        let chain = self.in_middlebox("nft list chain inet middlebox forward");
        chain
            .split_once("counter packets ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no counter in M's forward chain:\n{chain}"))
    }

    /// `ip netns exec M LINE`'s stdout; panics if it fails.
    fn in_middlebox(&self, line: &str) -> String {
        let line = format!("ip netns exec {} {line}", self.middlebox_ns);
        run_line(&line, None).unwrap_or_else(|e| panic!("`{line}`: {e}"))
    }

    /// Delete the root veth (its peer goes with it) and both namespaces
    /// (their veths go with them); errors ignored: some may not exist.
    fn remove_namespaces(&self) {
        let _ = run_line(&format!("ip link del {}", self.root_veth), None);
        let _ = run_line(&format!("ip netns del {}", self.client_ns), None);
        let _ = run_line(&format!("ip netns del {}", self.middlebox_ns), None);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.forwarder = None; // killed
        self.remove_namespaces();
    }
}

/// Run `line` (words split on whitespace; `ip`, `nft` and `sysctl`
/// replaced by where [`tools`] found them, also after `ip netns exec`),
/// feeding it `stdin`; its stdout, or what went wrong.
fn run_line(line: &str, stdin: Option<&str>) -> Result<String, String> {
    let argv: Vec<&str> = line.split_whitespace().map(|w| tools().path(w)).collect();
    let mut child = Command::new(argv[0])
        .args(&argv[1..])
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", argv[0]))?;
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(text.as_bytes())
            .map_err(|e| format!("writing its stdin: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ))
    }
}

/// What a failed lab step probably lacks.
fn hint(line: &str) -> &'static str {
    let has = |w: &str| line.split_whitespace().any(|a| a == w);
    if has("nft") {
        "Loading M's ruleset needs a kernel with nf_tables, nft_ct, nft_reject and nft_masq \
         (CONFIG_NF_TABLES, CONFIG_NFT_CT, CONFIG_NFT_REJECT, CONFIG_NFT_MASQ)."
    } else if has("sysctl") {
        "M's sysctls need a kernel with conntrack (CONFIG_NF_CONNTRACK; \
         net.netfilter.nf_conntrack_* appear in every namespace once it is loaded)."
    } else if has("veth") {
        "Creating the veths needs CONFIG_VETH (modprobe veth)."
    } else {
        "Network namespaces need root with CAP_SYS_ADMIN and CAP_NET_ADMIN (not an \
         unprivileged container) and a kernel with CONFIG_NET_NS."
    }
}

/// M's outside address and R's: the `slot`th /30 of this pid's share of
/// 198.18.0.0/16 (one /30 per letter of [`LABS`]), or the next one of the
/// same slot that the root namespace does not use yet (a concurrent run
/// whose pid shares our residue).
fn free_subnet(pid: u32, slot: u32) -> (Ipv4Addr, Ipv4Addr) {
    let used =
        run_line("ip -4 -o addr show", None).unwrap_or_else(|e| panic!("ip -4 -o addr show: {e}"));
    let labs = LABS.len() as u32;
    let start = (pid % (WAN_SLOTS / labs)) * labs + slot;
    (0..WAN_SLOTS / labs)
        .map(|k| (start + labs * k) % WAN_SLOTS)
        .map(|s| WAN_BASE + 4 * s)
        .find(|net| (0..4).all(|i| !used.contains(&format!("inet {}/", Ipv4Addr::from(net + i)))))
        .map(|net| (Ipv4Addr::from(net + 1), Ipv4Addr::from(net + 2)))
        .expect("every /30 of 198.18.0.0/16 is in use")
}

// ---------------------------------------------------------------------------
// Reading a run

fn ms(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// A run's first event named `name`.
fn event<'a>(run: &'a Value, name: &str) -> Option<&'a Value> {
    run["events"]
        .as_array()?
        .iter()
        .find(|e| e["event"] == name)
}

/// When the probe's idle began.
fn idle_start(run: &Value) -> u64 {
    event(run, "idle_start")
        .map(|e| ms(&e["at_ms"]))
        .unwrap_or_else(|| panic!("no idle_start in {run:#}"))
}

/// M's conntrack entry for a flow: `(seconds left, the line)`.
type Entry = Option<(u64, String)>;

/// `probe --mode disabled --idle <idle_ms>` in C, with M's conntrack table
/// read at `checks` after the flow appeared; the outcome and each read.
fn idle_in_the_lab(lab: &mut Lab, idle_ms: u64, checks: &[Duration]) -> (Outcome, Vec<Entry>) {
    let idle = format!("{idle_ms}ms");
    let mut running = lab.probe(&["--mode", "disabled", "--idle", &idle]);
    let appeared = lab.wait_for_flow(&mut running);
    let entries = checks
        .iter()
        .map(|&at| {
            thread::sleep(at.saturating_sub(appeared.elapsed()));
            lab.flow_entry()
        })
        .collect();
    (lab.conclude(running), entries)
}

/// A long idle through M: the flow's entry seen inside the timeout, gone
/// past it while the client was still idle, and the broker's side never
/// told.
fn idle_past_the_timeout(lab: &mut Lab) -> Outcome {
    let (out, entries) = idle_in_the_lab(lab, LONG_IDLE_MS, &[BEFORE_TIMEOUT, AFTER_TIMEOUT]);
    // Conntrack used M's timeout for this flow, and forgot it silently.
    let (left, line) = entries[0]
        .clone()
        .unwrap_or_else(|| panic!("no entry {BEFORE_TIMEOUT:?} after the connect\n{out}"));
    assert!(left < CT_TIMEOUT_S, "{left} s left: {line}\n{out}");
    println!("{BEFORE_TIMEOUT:?} after the connect, M had: {line}");
    assert!(
        entries[1].is_none(),
        "the flow was still tracked {AFTER_TIMEOUT:?} after the connect: {:?}\n{out}",
        entries[1]
    );
    let run = out.run();
    assert_eq!(run["mode"], "disabled", "{out}");
    assert_eq!(run["negotiation"]["negotiated_heartbeat_s"], 0, "{out}");
    assert_eq!(
        ms(&run["idle_reached_ms"]) / 1000,
        LONG_IDLE_MS / 1000,
        "{out}"
    );
    // The broker's side never learned: the forwarder still had the
    // connection open, on both sides, when it was stopped.
    let broker_side = out.broker_side();
    assert!(
        broker_side.starts_with("proxy stopped"),
        "the broker side saw the connection end: {broker_side}\n{out}"
    );
    out
}

/// `idle-timeout` in C through M: the bracket holds M's timeout, every
/// casualty died M's way and only once it spoke, and the broker's side
/// never learned of any connection M forgot.
fn idle_timeout_through(letter: char, forgotten: Forgotten) {
    let mut lab = Lab::new(letter, forgotten);
    let started = Instant::now();
    let running = lab.idle_timeout(&IDLE_TIMEOUT_ARGS);
    let out = lab.conclude(running);
    let took = started.elapsed();
    let doc = out.doc();
    let b = &doc["bracket"];
    assert_eq!(out.code(), Some(1), "{out}");
    assert_eq!(doc["finding"], "bracketed", "{out}");
    let survivor = ms(&b["longest_survivor_ms"]);
    let casualty = ms(&b["shortest_casualty_ms"]);
    assert!(
        survivor < CT_TIMEOUT_MS && CT_TIMEOUT_MS <= casualty,
        "the bracket [{survivor}, {casualty}] ms misses M's {CT_TIMEOUT_MS} ms\n{out}"
    );
    assert!(casualty < BRACKET_CEILING_MS, "a loose bracket\n{out}");
    assert_eq!(b["consistent"], true, "{out}");
    assert_eq!(b["died_by"], json!([forgotten.fate()]), "{out}");
    // Conntrack acts only on the next packet: nothing came while idle.
    assert_eq!(b["seen_dying_while_idle"], false, "{out}");
    let probes = doc["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 8, "{out}");
    for p in probes {
        assert!(p["died_at_ms"].is_null(), "{p}\n{out}");
        assert!(
            ["survived", "skipped", forgotten.fate()]
                .contains(&p["fate"].as_str().unwrap_or_default()),
            "{p}\n{out}"
        );
    }
    // The broker's side of every casualty (and of every connection stopped
    // after one died: its close was just as INVALID to M) was still open.
    let gone = probes.iter().filter(|p| p["fate"] != "survived").count();
    let held = forwarder_endings(&out.forwarder)
        .iter()
        .filter(|(_, how)| how.starts_with("proxy stopped"))
        .count();
    assert_eq!(held, gone, "the forwarder still had {held} open\n{out}");
    println!(
        "idle-timeout through {}: [{survivor}, {casualty}] ms, died by {}, fates {}; \
         M's counter {}; the broker side held {held} open; {took:.1?}",
        forgotten.rule(),
        b["died_by"],
        json!(probes.iter().map(|p| &p["fate"]).collect::<Vec<_>>()),
        out.invalid(),
    );
}

// ---------------------------------------------------------------------------
// The tests

#[test]
#[ignore = "needs root, ip and nft (network namespaces); .ci/run runs it: cargo test --locked --test netns -- --ignored"]
fn conntrack_reject_resets_the_client_on_its_next_packet() {
    let mut lab = Lab::new('r', Forgotten::Reset);
    let out = idle_past_the_timeout(&mut lab);
    let run = out.run();
    let end = &run["end"];
    let start = idle_start(run);
    // Nothing happened at the timeout: the client learned at its first
    // publish after the idle, which M answered with RST.
    assert_eq!(end["kind"], "reset", "{out}");
    // Who records the RST first is a race between the second write and
    // the TCP_INFO observer, both within a millisecond of the first
    // publish (seen in CI: the observer won); either is the same death,
    // and the publishes below pin it to the first write after the idle.
    match end["seen_by"].as_str() {
        Some("write") => assert_eq!(end["errno_name"], "ECONNRESET", "{out}"),
        Some("observer") => {}
        other => panic!("the reset was seen by {other:?}\n{out}"),
    }
    assert!(ms(&end["at_ms"]) + 50 >= start + LONG_IDLE_MS, "{out}");
    assert!(ms(&end["since_last_client_byte_ms"]) < 100, "{out}");
    // The first publish's segment was the one rejected: it was written,
    // the RST came back at once, the second write failed.
    let p = &run["publishes"];
    assert_eq!(p[0]["write"], "ok", "{out}");
    assert_eq!(p[0]["outcome"], "lost", "{out}");
    assert_eq!(p[1]["write"], "error", "{out}");
    assert_eq!(p[1]["errno_name"], "ECONNRESET", "{out}");
    let rejected = out.invalid();
    assert_eq!(rejected, 1, "M rejected {rejected} packets\n{out}");
    // The server had been silent for the whole idle when the RST came.
    let ended = event(run, "peer_ended").unwrap_or_else(|| panic!("no peer_ended event\n{out}"));
    assert_eq!(ended["how"], "reset", "{out}");
    assert!(
        ms(&ended["since_last_server_byte_ms"]) >= LONG_IDLE_MS - 100,
        "{out}"
    );
    println!(
        "reject: {} at {} ms ({} ms into the idle), client silent {} ms, server silent {} ms; \
         publishes {} / {}; M rejected {rejected}; broker side: {}",
        run["verdict"]["code"],
        end["at_ms"],
        ms(&end["at_ms"]) - start,
        end["since_last_client_byte_ms"],
        ended["since_last_server_byte_ms"],
        p[0]["outcome"],
        p[1]["errno_name"],
        out.broker_side()
    );
    // Both directions silent for the whole idle, then an RST answering the
    // client's first write: the path forgot the flow. (The RST is seen by
    // the second write, before the observer's peer_ended; the verdict must
    // take the server's silence from there — docs/middleboxes.md, "Known
    // gap".)
    assert_eq!(out.code(), Some(1), "{out}");
    assert_eq!(run["verdict"]["code"], "path_idle_timeout", "{out}");
    assert_eq!(run["verdict"]["expected"], false, "{out}");
    let explanation = run["verdict"]["explanation"].as_str().unwrap_or_default();
    assert!(
        explanation.contains("the RST answered that write"),
        "{explanation}\n{out}"
    );
    println!("the lab:\n{}", out.setup);
}

#[test]
#[ignore = "needs root, ip and nft (network namespaces); .ci/run runs it: cargo test --locked --test netns -- --ignored"]
fn conntrack_drop_is_silent_loss() {
    let mut lab = Lab::new('d', Forgotten::Drop);
    let out = idle_past_the_timeout(&mut lab);
    let run = out.run();
    // As through the proxy: the writes were accepted, nothing came back.
    assert_eq!(out.code(), Some(1), "{out}");
    assert_eq!(run["verdict"]["code"], "silent_loss", "{out}");
    assert_eq!(run["end"]["kind"], "silence", "{out}");
    let publishes = run["publishes"].as_array().unwrap();
    assert_eq!(publishes.len(), 2, "{out}");
    for p in publishes {
        assert_eq!(p["write"], "ok", "{out}");
        assert_eq!(p["outcome"], "lost", "{out}");
    }
    // Unlike the proxy, whose kernel ACKs the writes, M swallowed the
    // segments and the client's kernel kept retransmitting them.
    let dropped = out.invalid();
    assert!(dropped >= 2, "M dropped {dropped} packets\n{out}");
    println!(
        "drop: {} (end {} at {} ms, {} ms into the idle); M dropped {dropped}; broker side: {}",
        run["verdict"]["code"],
        run["end"]["kind"],
        run["end"]["at_ms"],
        ms(&run["end"]["at_ms"]) - idle_start(run),
        out.broker_side()
    );
}

#[test]
#[ignore = "needs root, ip and nft (network namespaces); .ci/run runs it: cargo test --locked --test netns -- --ignored"]
fn an_idle_under_the_conntrack_timeout_survives() {
    let mut lab = Lab::new('c', Forgotten::Reset);
    // Tracked, with M's short timeout (not the default 5 days), a second
    // into the idle.
    let (out, entries) = idle_in_the_lab(&mut lab, SHORT_IDLE_MS, &[Duration::from_secs(1)]);
    let run = out.run();
    let (left, line) = entries[0]
        .clone()
        .unwrap_or_else(|| panic!("no entry a second into the idle\n{out}"));
    assert!(left < CT_TIMEOUT_S, "{line}\n{out}");
    assert_eq!(out.code(), Some(0), "{out}");
    assert_eq!(run["verdict"]["code"], "healthy", "{out}");
    assert_eq!(run["verdict"]["expected"], true, "{out}");
    assert_eq!(run["end"]["kind"], "alive", "{out}");
    for p in run["publishes"].as_array().unwrap() {
        assert_eq!(p["outcome"], "confirmed", "{out}");
    }
    assert_eq!(out.invalid(), 0, "{out}");
    println!(
        "control: {} after a {} ms idle; M had: {line}",
        run["verdict"]["code"], run["idle_reached_ms"]
    );
}

#[test]
#[ignore = "needs root, ip and nft (network namespaces); .ci/run runs it: cargo test --locked --test netns -- --ignored"]
fn serviced_heartbeats_keep_the_conntrack_entry_alive() {
    let mut lab = Lab::new('s', Forgotten::Reset);
    let idle = format!("{LONG_IDLE_MS}ms");
    let running = lab.probe(&["--mode", "serviced", "--heartbeat", "1s", "--idle", &idle]);
    let out = lab.conclude(running);
    let run = out.run();
    // Heartbeats every T/2 = 0.5 s refresh the 3 s entry: twice the
    // timeout of idle, and the flow is still known.
    assert_eq!(out.code(), Some(0), "{out}");
    assert_eq!(run["verdict"]["code"], "healthy", "{out}");
    assert!(ms(&run["heartbeats"]["sent"]) > 0, "{out}");
    assert_eq!(out.invalid(), 0, "{out}");
    println!(
        "serviced: {} after a {} ms idle, {} heartbeats sent",
        run["verdict"]["code"], run["idle_reached_ms"], run["heartbeats"]["sent"]
    );
}

#[test]
#[ignore = "needs root, ip and nft (network namespaces); .ci/run runs it: cargo test --locked --test netns -- --ignored"]
fn idle_timeout_brackets_a_rejecting_conntrack() {
    idle_timeout_through('i', Forgotten::Reset);
}

#[test]
#[ignore = "needs root, ip and nft (network namespaces); .ci/run runs it: cargo test --locked --test netns -- --ignored"]
fn idle_timeout_brackets_a_dropping_conntrack() {
    idle_timeout_through('j', Forgotten::Drop);
}

/// The same probe through M and through its imitation on loopback, for
/// reject (`--on-idle forget`) and drop (`--on-idle drop`), all four at
/// once: the same verdict and the same kind of end.
#[test]
#[ignore = "needs root, ip and nft (network namespaces); .ci/run runs it: cargo test --locked --test netns -- --ignored"]
fn the_proxy_reproduces_conntrack() {
    let idle = format!("{LONG_IDLE_MS}ms");
    let args = ["--mode", "disabled", "--idle", &idle];
    let mut labs = [
        Lab::new('x', Forgotten::Reset),
        Lab::new('y', Forgotten::Drop),
    ];
    let imitations = labs
        .each_ref()
        .map(|lab| Imitation::start(lab.forgotten.proxy_mode()));
    let real = labs.each_mut().map(|lab| lab.probe(&args));
    let imitated = imitations.each_ref().map(|i| i.probe(&args));
    let mut mismatches = Vec::new();
    for (((lab, running), imitation), imitated) in
        labs.iter_mut().zip(real).zip(imitations).zip(imitated)
    {
        let real = lab.conclude(running);
        let imitated = imitation.conclude(imitated);
        let rule = lab.forgotten.rule();
        let mode = lab.forgotten.proxy_mode();
        let seen = |out: &Outcome| {
            let run = out.run();
            (
                run["verdict"]["code"].clone(),
                run["end"]["kind"].clone(),
                format!(
                    "{} / end {} at {} ms seen by {} (exit {:?}; broker side: {})",
                    run["verdict"]["code"],
                    run["end"]["kind"],
                    run["end"]["at_ms"],
                    run["end"]["seen_by"],
                    out.code(),
                    out.broker_side()
                ),
            )
        };
        let (real_verdict, real_end, real_text) = seen(&real);
        let (imitated_verdict, imitated_end, imitated_text) = seen(&imitated);
        println!("M `{rule}`: {real_text}\nproxy --on-idle {mode}: {imitated_text}");
        if (&real_verdict, &real_end) != (&imitated_verdict, &imitated_end) {
            mismatches.push(format!(
                "M `{rule}` and `proxy --on-idle {mode}` disagree: {real_text} vs \
                 {imitated_text}\n--- through M:\n{real}\n--- through the proxy:\n{imitated}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}
