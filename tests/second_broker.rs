//! amqpdoctor against a second AMQP 0-9-1 broker that is not RabbitMQ:
//! GarageMQ (Debian's `garagemq` package) on 127.0.0.1:5682, guest/guest,
//! vhost `/`, which `bash .ci/broker` installs and starts. docs/brokers.md
//! lists every difference from RabbitMQ measured here and why each
//! expectation is what it is.
//!
//! What GarageMQ does, from its source (server/connection.go and
//! connectionMethods.go at the commit Debian packages, 15e6a9d) and measured:
//!
//! - Tune proposes heartbeat 10 s (compiled in), frame_max 65536 and
//!   channel_max 4096 (its config). It adopts the *lower* of its proposal
//!   and the client's Tune-Ok, where RabbitMQ adopts Tune-Ok as it is.
//! - A heartbeat-starved connection: after every frame it receives it sets a
//!   read deadline of 3T; when it passes, it closes the socket, with no
//!   Connection.Close frame and nothing unread, so the client sees a FIN
//!   (RabbitMQ: RST, between 2T and 3T). For a client that sends nothing
//!   that is exactly 3T after its last byte.
//! - It sends a heartbeat every T (RabbitMQ: every T/2).
//! - It refuses server-named queues (Queue.Declare with an empty name) with
//!   Channel.Close 503, so the probe's own queue cannot be declared: the
//!   probes here publish through `amq.direct` to a queue this test holds.
//! - A wrong password gets Connection.Close 530 NOT_ALLOWED "login failure"
//!   (RabbitMQ: 403 ACCESS_REFUSED).
//!
//! The probes use T = 2 s and 8 s idles, in parallel; the longest test (a
//! Tune-Ok above the proposal) idles 32 s, so the file takes about 32 s.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The second broker, as `.ci/broker` starts it.
const URL: &str = "amqp://guest:guest@127.0.0.1:5682";
const ADDR: &str = "127.0.0.1:5682";
/// The same with a wrong password.
const WRONG_PASSWORD_URL: &str = "amqp://guest:wrong@127.0.0.1:5682";

/// How long the broker gets to answer the protocol header, and each read of
/// the test's own client.
const TIMEOUT: Duration = Duration::from_secs(5);

/// End the test binary with one line unless GarageMQ answers on 127.0.0.1:5682: the
/// protocol header must get a Connection.Start whose server properties name
/// garagemq (another broker on that port would make every expectation here
/// wrong). Checked once per test binary.
fn require_second_broker() {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    common::fixture::require(
        &CHECK,
        &format!(
            "the second AMQP 0-9-1 broker, GarageMQ, on {ADDR} (log in .ci/.broker2/garagemq.log)"
        ),
        check_second_broker,
    );
}

fn check_second_broker() -> Result<(), String> {
    let addr = ADDR.parse().unwrap();
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT)
        .map_err(|e| format!("connecting to {ADDR}: {e}"))?;
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s.write_all(b"AMQP\x00\x00\x09\x01")
        .map_err(|e| format!("sending the protocol header: {e}"))?;
    let mut conn = Amqp { s };
    let (ch, class, method, args) = conn
        .read_method()
        .map_err(|e| format!("waiting for Connection.Start: {e}"))?;
    if (ch, class, method) != (0, 10, 10) {
        return Err(format!(
            "it answered method {class}.{method} on channel {ch}, not Connection.Start"
        ));
    }
    if !args.windows(8).any(|w| w == b"garagemq") {
        return Err(format!(
            "something answers AMQP there, but its Connection.Start does not name garagemq: {:?}",
            String::from_utf8_lossy(&args)
        ));
    }
    Ok(())
}

/// Run amqpdoctor with `args`; return its exit code, stdout as JSON, and
/// stderr.
fn amqpdoctor_json(args: &[&str]) -> (i32, Value, String) {
    require_second_broker();
    let out = Command::new(env!("CARGO_BIN_EXE_amqpdoctor"))
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("running amqpdoctor");
    let doc = common::run::json_of(&out);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.code().unwrap_or(-1), doc, stderr)
}

fn run<'a>(doc: &'a Value, mode: &str) -> &'a Value {
    doc["runs"]
        .as_array()
        .expect("runs is an array")
        .iter()
        .find(|r| r["mode"] == mode)
        .unwrap_or_else(|| panic!("no {mode} run in {doc:#}"))
}

fn outcomes(run: &Value) -> Vec<&str> {
    run["publishes"]
        .as_array()
        .expect("publishes")
        .iter()
        .map(|p| p["outcome"].as_str().unwrap_or("?"))
        .collect()
}

fn ms(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("{v} is not a number of ms"))
}

// --- a minimal AMQP 0-9-1 client of the test's own ---------------------------

/// Just enough AMQP 0-9-1 to hold a queue for the probes and to see what
/// the broker answers a declare with: handshake (PLAIN, heartbeat 0),
/// channel 1, Queue.Declare, Queue.Bind. Blocking, every read bounded.
struct Amqp {
    s: TcpStream,
}

/// A Channel.Close or Connection.Close from the broker.
#[derive(Debug, PartialEq)]
struct Closed {
    reply_code: u16,
    reply_text: String,
}

fn shortstr(buf: &mut Vec<u8>, s: &str) {
    buf.push(u8::try_from(s.len()).expect("a short string"));
    buf.extend_from_slice(s.as_bytes());
}

impl Amqp {
    /// Log in as guest on vhost `/` with heartbeats off, and open channel 1.
    fn open() -> Amqp {
        require_second_broker();
        let mut s = TcpStream::connect(ADDR).expect("connecting to the second broker");
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        s.write_all(b"AMQP\x00\x00\x09\x01").unwrap();
        let mut c = Amqp { s };
        c.expect(0, (10, 10)); // Connection.Start
        let mut start_ok = 0u32.to_be_bytes().to_vec(); // no client properties
        shortstr(&mut start_ok, "PLAIN");
        let response = b"\0guest\0guest";
        start_ok.extend_from_slice(&(response.len() as u32).to_be_bytes());
        start_ok.extend_from_slice(response);
        shortstr(&mut start_ok, "en_US");
        c.send_method(0, 10, 11, &start_ok);
        let tune = c.expect(0, (10, 30));
        // Tune-Ok: the broker's channel_max and frame_max (GarageMQ closes a
        // connection that asks for more), heartbeat 0.
        let mut tune_ok = tune[..6].to_vec();
        tune_ok.extend_from_slice(&0u16.to_be_bytes());
        c.send_method(0, 10, 31, &tune_ok);
        let mut open = Vec::new();
        shortstr(&mut open, "/");
        shortstr(&mut open, "");
        open.push(0);
        c.send_method(0, 10, 40, &open);
        c.expect(0, (10, 41));
        c.send_method(1, 20, 10, &[0]); // Channel.Open
        c.expect(1, (20, 11));
        c
    }

    fn send_method(&mut self, ch: u16, class: u16, method: u16, args: &[u8]) {
        let mut f = vec![1];
        f.extend_from_slice(&ch.to_be_bytes());
        f.extend_from_slice(&(4 + args.len() as u32).to_be_bytes());
        f.extend_from_slice(&class.to_be_bytes());
        f.extend_from_slice(&method.to_be_bytes());
        f.extend_from_slice(args);
        f.push(0xCE);
        self.s.write_all(&f).expect("writing to the second broker");
    }

    /// The next method frame (heartbeats skipped): channel, class, method,
    /// arguments.
    fn read_method(&mut self) -> Result<(u16, u16, u16, Vec<u8>), String> {
        loop {
            let mut head = [0u8; 7];
            self.read_exact(&mut head)?;
            let size = u32::from_be_bytes(head[3..7].try_into().unwrap()) as usize;
            let mut payload = vec![0u8; size + 1];
            self.read_exact(&mut payload)?;
            if payload[size] != 0xCE {
                return Err(format!("frame end is {:#x}, not 0xCE", payload[size]));
            }
            match head[0] {
                1 if size >= 4 => {
                    let ch = u16::from_be_bytes([head[1], head[2]]);
                    let class = u16::from_be_bytes([payload[0], payload[1]]);
                    let method = u16::from_be_bytes([payload[2], payload[3]]);
                    return Ok((ch, class, method, payload[4..size].to_vec()));
                }
                8 => continue,
                t => return Err(format!("unexpected frame type {t}")),
            }
        }
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), String> {
        self.s.read_exact(buf).map_err(|e| match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => format!("nothing within {TIMEOUT:?}"),
            _ => e.to_string(),
        })
    }

    /// The reply `want` (class, method) on channel `ch`, or the Close that
    /// came instead.
    fn reply(&mut self, ch: u16, want: (u16, u16)) -> Result<Vec<u8>, Closed> {
        let (got_ch, class, method, args) = self
            .read_method()
            .unwrap_or_else(|e| panic!("waiting for {want:?} from the second broker: {e}"));
        if (got_ch, class, method) == (ch, want.0, want.1) {
            return Ok(args);
        }
        if (class, method) == (20, 40) || (class, method) == (10, 50) {
            let len = args[2] as usize;
            return Err(Closed {
                reply_code: u16::from_be_bytes([args[0], args[1]]),
                reply_text: String::from_utf8_lossy(&args[3..3 + len]).to_string(),
            });
        }
        panic!("expected {want:?} on channel {ch}, got {class}.{method} on channel {got_ch}")
    }

    fn expect(&mut self, ch: u16, want: (u16, u16)) -> Vec<u8> {
        self.reply(ch, want)
            .unwrap_or_else(|c| panic!("the second broker closed instead of {want:?}: {c:?}"))
    }

    /// Queue.Declare on channel 1; the queue's name and message count.
    fn declare(&mut self, queue: &str, passive: bool) -> Result<(String, u32), Closed> {
        let mut args = 0u16.to_be_bytes().to_vec();
        shortstr(&mut args, queue);
        // passive 1, exclusive 4 (durable, auto-delete and no-wait off)
        args.push(if passive { 1 } else { 4 });
        args.extend_from_slice(&0u32.to_be_bytes());
        self.send_method(1, 50, 10, &args);
        let ok = self.reply(1, (50, 11))?;
        let len = ok[0] as usize;
        let name = String::from_utf8_lossy(&ok[1..=len]).to_string();
        let count = u32::from_be_bytes(ok[1 + len..5 + len].try_into().unwrap());
        Ok((name, count))
    }

    fn bind(&mut self, queue: &str, exchange: &str, key: &str) {
        let mut args = 0u16.to_be_bytes().to_vec();
        shortstr(&mut args, queue);
        shortstr(&mut args, exchange);
        shortstr(&mut args, key);
        args.push(0);
        args.extend_from_slice(&0u32.to_be_bytes());
        self.send_method(1, 50, 20, &args);
        self.expect(1, (50, 21));
    }
}

/// An exclusive queue bound to `amq.direct` with its own name as routing
/// key, held open for the probes to publish to (`--exchange amq.direct
/// --routing-key NAME`): GarageMQ refuses the probe's server-named queue.
/// It goes away with the connection.
struct HeldQueue {
    conn: Amqp,
    name: String,
}

impl HeldQueue {
    fn new(test: &str) -> HeldQueue {
        let name = format!("amqpdoctor.second-broker.{test}.{}", std::process::id());
        let mut conn = Amqp::open();
        conn.declare(&name, false)
            .unwrap_or_else(|c| panic!("declaring {name}: {c:?}"));
        conn.bind(&name, "amq.direct", &name);
        HeldQueue { conn, name }
    }

    fn message_count(&mut self) -> u32 {
        let name = self.name.clone();
        self.conn
            .declare(&name, true)
            .unwrap_or_else(|c| panic!("passive declare of {name}: {c:?}"))
            .1
    }
}

// --- the tests ----------------------------------------------------------------

#[test]
fn heartbeat_shows_garagemqs_tune_proposal_and_capabilities() {
    let (code, doc, stderr) = amqpdoctor_json(&["heartbeat", URL]);
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    let server = &doc["server"];
    assert_eq!(server["product"], "garagemq", "{server:#}");
    assert_eq!(server["version"], "0.1", "{server:#}");
    // RabbitMQ 3.10 proposes 60 s, frame_max 131072, channel_max 2047.
    assert_eq!(server["proposed_heartbeat_s"], 10, "{server:#}");
    assert_eq!(server["frame_max"], 65536, "{server:#}");
    assert_eq!(server["channel_max"], 4096, "{server:#}");
    // It announces these true; it sends exchange_exchange_bindings,
    // connection.blocked and consumer_priorities as false, and no
    // direct_reply_to. RabbitMQ announces all nine.
    let mut caps: Vec<&str> = server["capabilities"]
        .as_array()
        .expect("capabilities")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    caps.sort_unstable();
    assert_eq!(
        caps,
        [
            "authentication_failure_close",
            "basic.nack",
            "consumer_cancel_notify",
            "per_consumer_qos",
            "publisher_confirms"
        ]
    );
    assert_eq!(server["mechanisms"], serde_json::json!(["PLAIN"]));
    assert_eq!(doc["negotiation"]["negotiated_heartbeat_s"], 10, "{doc:#}");

    let (code, doc, stderr) = amqpdoctor_json(&["heartbeat", URL, "--interval", "2s"]);
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(doc["negotiation"]["negotiated_heartbeat_s"], 2, "{doc:#}");
}

#[test]
fn check_passes_with_publisher_confirms() {
    // GarageMQ announces publisher_confirms, so check takes the confirm path
    // (Confirm.Select, then Basic.Ack for its publish).
    let (code, doc, stderr) = amqpdoctor_json(&[
        "check",
        URL,
        "--expect-server",
        "garagemq",
        "--expect-heartbeat",
        "10s",
    ]);
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    let target = &doc["targets"][0];
    assert_eq!(target["passed"], true, "{target:#}");
    assert_eq!(target["confirms"], true, "{target:#}");
    let steps: Vec<(&str, &str)> = target["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    let names = [
        "dns",
        "connect",
        "handshake",
        "channel",
        "queue",
        "publish",
        "get",
        "close",
    ];
    assert_eq!(
        steps,
        names.map(|n| (n, "passed")),
        "every step passes on GarageMQ: {target:#}"
    );
    for e in target["expectations"].as_array().expect("expectations") {
        assert_eq!(e["status"], "passed", "{e:#}");
    }
}

#[test]
fn probe_three_modes_starved_gets_a_fin_at_3t() {
    let mut queue = HeldQueue::new("modes");
    let (code, doc, stderr) = amqpdoctor_json(&[
        "probe",
        URL,
        "--heartbeat",
        "2s",
        "--idle",
        "8s",
        "--exchange",
        "amq.direct",
        "--routing-key",
        &queue.name,
    ]);
    assert_eq!(code, 0, "every run as predicted: {doc:#}\n{stderr}");

    let serviced = run(&doc, "serviced");
    assert_eq!(serviced["verdict"]["code"], "healthy", "{serviced:#}");
    assert_eq!(
        outcomes(serviced),
        ["confirmed", "confirmed"],
        "{serviced:#}"
    );
    // GarageMQ sends a heartbeat every T (2 s), not every T/2: about 4 in
    // 8 s where RabbitMQ sends 8.
    let received = ms(&serviced["heartbeats"]["received"]);
    assert!(
        (3..=5).contains(&received),
        "GarageMQ beats every T = 2 s: {received} in 8 s\n{serviced:#}"
    );

    let starved = run(&doc, "starved");
    assert_eq!(
        starved["verdict"]["code"], "broker_heartbeat_timeout",
        "{starved:#}"
    );
    assert_eq!(starved["verdict"]["expected"], true, "{starved:#}");
    let end = &starved["end"];
    // The broker closes the socket: FIN, no Connection.Close frame
    // (RabbitMQ: RST).
    assert_eq!(end["kind"], "fin", "{end:#}");
    assert_eq!(end["reply_code"], Value::Null, "{end:#}");
    // Its read deadline is 3T after the client's last frame: 6 s.
    let silent = ms(&end["since_last_client_byte_ms"]);
    assert!(
        (5750..=6750).contains(&silent),
        "GarageMQ drops a silent client 3T = 6 s after its last byte: {silent} ms\n{end:#}"
    );
    let starved_outcomes = outcomes(starved);
    assert!(
        !starved_outcomes.contains(&"confirmed") && starved_outcomes.contains(&"failed"),
        "after the FIN nothing is confirmed and a write fails: {starved:#}"
    );

    let disabled = run(&doc, "disabled");
    assert_eq!(disabled["verdict"]["code"], "healthy", "{disabled:#}");
    assert_eq!(
        outcomes(disabled),
        ["confirmed", "confirmed"],
        "{disabled:#}"
    );
    assert_eq!(disabled["heartbeats"]["received"], 0, "{disabled:#}");

    // The confirms were true: the four confirmed messages are in the queue,
    // the starved run's are not.
    assert_eq!(queue.message_count(), 4, "{doc:#}");
}

/// A starved probe whose Tune-Ok asks for 20 s, twice GarageMQ's proposal.
fn starved_above_the_proposal(test: &str) -> Value {
    let queue = HeldQueue::new(test);
    let (code, doc, stderr) = amqpdoctor_json(&[
        "probe",
        URL,
        "--mode",
        "starved",
        "--heartbeat",
        "20s",
        "--idle",
        "32s",
        "--exchange",
        "amq.direct",
        "--routing-key",
        &queue.name,
    ]);
    assert!(code == 0 || code == 1, "{doc:#}\n{stderr}");
    run(&doc, "starved").clone()
}

// Named to sort first: libtest starts tests in name order, so the 30 s one
// runs beside the others instead of after them.
#[test]
fn above_proposal_tune_ok_starved_is_dropped_at_3x_the_proposal() {
    let starved = starved_above_the_proposal("above-proposal");
    // amqpdoctor's Tune-Ok said 20 s, and RabbitMQ would take that ...
    assert_eq!(
        starved["negotiation"]["negotiated_heartbeat_s"], 20,
        "{starved:#}"
    );
    // ... but GarageMQ keeps the lower of its 10 s and the client's 20 s,
    // and drops the silent client at 3 × 10 s = 30 s (RabbitMQ: 40-60 s).
    let end = &starved["end"];
    assert_eq!(end["kind"], "fin", "{end:#}");
    assert_eq!(end["reply_code"], Value::Null, "{end:#}");
    let silent = ms(&end["since_last_client_byte_ms"]);
    assert!(
        (29_500..=30_750).contains(&silent),
        "dropped 3 × min(10 s, 20 s) = 30 s after the client's last byte: {silent} ms\n{end:#}"
    );
    assert!(!outcomes(&starved).contains(&"confirmed"), "{starved:#}");
    // The broker's heartbeat check, at the T it enforces.
    assert_eq!(
        starved["verdict"]["code"], "broker_heartbeat_timeout",
        "{starved:#}"
    );
}

#[test]
fn heartbeat_observe_server_beats_every_t() {
    let (code, doc, stderr) =
        amqpdoctor_json(&["heartbeat", URL, "--interval", "2s", "--observe", "8s"]);
    let observed = &doc["observed"];
    assert_eq!(observed["duration_ms"], 8000, "{doc:#}\n{stderr}");
    let server = &observed["server_to_client"];
    let gap = ms(&server["mean_gap_ms"]);
    assert!(
        (1800..=2300).contains(&gap),
        "GarageMQ beats every T = 2 s (RabbitMQ every T/2): mean gap {gap} ms\n{observed:#}"
    );
    let client = &observed["client_to_server"];
    let gap = ms(&client["mean_gap_ms"]);
    assert!(
        (900..=1150).contains(&gap),
        "amqpdoctor beats every T/2 = 1 s: mean gap {gap} ms\n{observed:#}"
    );
    // The 0-9-1 spec asks for a beat only when nothing else was sent for
    // one interval, which is what GarageMQ does: amqpdoctor holds a broker
    // other than RabbitMQ to T, so its beats are on time.
    assert_eq!(server["expected_gap_ms"], 2000, "{observed:#}");
    assert_eq!(server["late"], 0, "{observed:#}");
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
}

#[test]
fn server_named_queues_are_refused() {
    // The spec (queue.declare, rule default-name) says an empty name makes
    // the server name the queue; GarageMQ closes the channel instead. So
    // `probe` without --exchange fails on it (exit 3, server_closed during
    // the channel), and the probes here publish through amq.direct.
    let mut conn = Amqp::open();
    assert_eq!(
        conn.declare("", false),
        Err(Closed {
            reply_code: 503,
            reply_text: "COMMAND_INVALID - queue name is required".into(),
        })
    );
}

#[test]
fn wrong_password_is_closed_with_530() {
    let started = Instant::now();
    let (code, doc, stderr) = amqpdoctor_json(&["check", WRONG_PASSWORD_URL]);
    assert_eq!(code, 1, "{doc:#}\n{stderr}");
    let handshake = doc["targets"][0]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["step"] == "handshake")
        .expect("a handshake step")
        .clone();
    assert_eq!(handshake["status"], "failed", "{handshake:#}");
    // GarageMQ answers Start-Ok with Connection.Close 530 NOT_ALLOWED (RabbitMQ:
    // 403 ACCESS_REFUSED), at once.
    let failure = &handshake["failure"];
    assert_eq!(failure["reply_code"], 530, "{failure:#}");
    assert_eq!(
        failure["reply_text"], "NOT_ALLOWED - login failure",
        "{failure:#}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // It answers Start-Ok: a refused login, not a vhost.
    assert_eq!(failure["code"], "auth_failed", "{failure:#}");
}
