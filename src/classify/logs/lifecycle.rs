//! Connection lifecycles from events: `accepting` → (`client-provided
//! name`) → `authenticated` → (`Error on …` / `Closing connection … because`)
//! → `closing`, joined by the connection's Erlang pid on its node. Only
//! connections still open are kept, at most [`MAX_OPEN`]; past that the
//! oldest is evicted and counted. A close whose opening the log does not
//! hold (it starts mid-life) still counts, with its peer from the closing
//! line and no lifetime; an opening never closed is counted at the end.

use std::collections::{HashMap, VecDeque};

use super::cause::{cause_of, Cause};
use super::event::{Addrs, Event};
use super::parse::Pid;

/// Open connections tracked at once, at most.
pub const MAX_OPEN: usize = 65_536;

/// A connection that ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub node: u16,
    pub pid: Pid,
    /// The client's `host:port`.
    pub peer: String,
    pub name: Option<String>,
    pub user: Option<String>,
    pub vhost: Option<String>,
    pub opened_ms: Option<i64>,
    pub closed_ms: i64,
    pub cause: Cause,
    /// T, when the reason states it.
    pub heartbeat_s: Option<u32>,
    /// The reason as logged (not yet redacted; the report redacts).
    pub reason: Option<String>,
}

impl Closed {
    pub fn lifetime_ms(&self) -> Option<u64> {
        self.opened_ms
            .map(|o| u64::try_from(self.closed_ms - o).unwrap_or(0))
    }
}

/// What one event changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Nothing,
    Opened {
        node: u16,
        peer: String,
        at_ms: i64,
    },
    Closed(Box<Closed>),
    Node {
        node: u16,
        at_ms: i64,
        what: NodeEvent,
    },
}

/// Node-wide events, for the patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeEvent {
    Started,
    Stopping,
    Alarm { set: bool, text: String },
}

#[derive(Debug, Clone, Default)]
struct Open {
    peer: String,
    name: Option<String>,
    user: Option<String>,
    vhost: Option<String>,
    opened_ms: i64,
    authenticated: bool,
    pending: Option<(Cause, Option<u32>, String)>,
}

/// The join's state.
#[derive(Debug, Default)]
pub struct Tracker {
    open: HashMap<(u16, Pid), Open>,
    order: VecDeque<(u16, Pid)>,
    /// Open connections dropped to stay within [`MAX_OPEN`].
    pub evicted: u64,
    /// Closes whose opening the log does not hold.
    pub closes_without_open: u64,
    /// Reasons already read (a log repeats a few reasons many times):
    /// at most [`MAX_CAUSES`].
    causes: HashMap<String, (Cause, Option<u32>)>,
}

/// Distinct reasons remembered by [`Tracker`].
const MAX_CAUSES: usize = 4096;

/// The text cut to a bounded length (a reason can be a whole Erlang term).
fn capped(s: &str) -> String {
    const MAX: usize = 400;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn opt(s: Option<&str>) -> Option<String> {
    s.map(capped)
}

impl Tracker {
    /// Connections opened and not (yet) closed.
    pub fn still_open(&self) -> usize {
        self.open.len()
    }

    /// Apply one event logged at `at_ms` on `node`.
    pub fn apply(&mut self, node: u16, at_ms: i64, ev: &Event<'_>) -> Step {
        match ev {
            Event::Accepting { conn, addrs } => self.accept(node, *conn, at_ms, addrs),
            Event::Named { conn, name } => {
                if let Some(o) = self.open.get_mut(&(node, *conn)) {
                    o.name = Some(capped(name));
                }
                Step::Nothing
            }
            Event::Authenticated {
                conn,
                addrs,
                user,
                vhost,
            } => {
                let o = self.open.entry((node, *conn)).or_insert_with(|| Open {
                    peer: capped(addrs.peer),
                    opened_ms: at_ms,
                    ..Open::default()
                });
                o.authenticated = true;
                o.user = Some(capped(user));
                o.vhost = Some(capped(vhost));
                if o.name.is_none() {
                    o.name = opt(addrs.name);
                }
                Step::Nothing
            }
            Event::Error { conn, reason, .. } | Event::ClosedBy { conn, reason } => {
                let key = (node, *conn);
                if self.open.get(&key).is_some_and(|o| o.pending.is_none()) {
                    let (c, t) = self.cause(reason);
                    let c = if matches!(ev, Event::ClosedBy { .. }) {
                        Cause::ForcedByOperator
                    } else {
                        c
                    };
                    if let Some(o) = self.open.get_mut(&key) {
                        o.pending = Some((c, t, capped(reason)));
                    }
                    // A shutdown's connection exception is its last line: no
                    // `closing AMQP connection` follows (RabbitMQ 3.10.8's
                    // log on stop_app, measured on the private node).
                    if let (Cause::BrokerShutdown, Event::Error { addrs, .. }) = (c, ev) {
                        return self.close(node, *conn, at_ms, addrs, None);
                    }
                }
                Step::Nothing
            }
            Event::Closing {
                conn,
                addrs,
                reason,
            } => self.close(node, *conn, at_ms, addrs, *reason),
            Event::Alarm { set, text } => Step::Node {
                node,
                at_ms,
                what: NodeEvent::Alarm {
                    set: *set,
                    text: capped(text),
                },
            },
            Event::Started => Step::Node {
                node,
                at_ms,
                what: NodeEvent::Started,
            },
            Event::Stopping => Step::Node {
                node,
                at_ms,
                what: NodeEvent::Stopping,
            },
        }
    }

    fn accept(&mut self, node: u16, conn: Pid, at_ms: i64, addrs: &Addrs<'_>) -> Step {
        if self.open.len() >= MAX_OPEN {
            self.evict_one();
        }
        let key = (node, conn);
        let o = Open {
            peer: capped(addrs.peer),
            opened_ms: at_ms,
            ..Open::default()
        };
        if self.open.insert(key, o).is_none() {
            self.order.push_back(key);
        }
        Step::Opened {
            node,
            peer: capped(addrs.peer),
            at_ms,
        }
    }

    /// [`cause_of`], remembered.
    fn cause(&mut self, reason: &str) -> (Cause, Option<u32>) {
        if let Some(c) = self.causes.get(reason) {
            return *c;
        }
        let c = cause_of(reason);
        if self.causes.len() < MAX_CAUSES {
            self.causes.insert(reason.to_string(), c);
        }
        c
    }

    fn evict_one(&mut self) {
        while let Some(k) = self.order.pop_front() {
            if self.open.remove(&k).is_some() {
                self.evicted += 1;
                return;
            }
        }
    }

    fn close(
        &mut self,
        node: u16,
        conn: Pid,
        at_ms: i64,
        addrs: &Addrs<'_>,
        reason: Option<&str>,
    ) -> Step {
        let seen = self.open.remove(&(node, conn));
        if self.order.len() > 2 * MAX_OPEN {
            let open = &self.open;
            self.order.retain(|k| open.contains_key(k));
        }
        if seen.is_none() {
            self.closes_without_open += 1;
        }
        let opened_ms = seen.as_ref().map(|s| s.opened_ms);
        let was_seen = seen.is_some();
        let mut o = seen.unwrap_or_else(|| Open {
            peer: capped(addrs.peer),
            ..Open::default()
        });
        let (cause, t, why) = match (reason, o.pending.take()) {
            (Some(r), _) => {
                let (c, t) = self.cause(r);
                (c, t, Some(capped(r)))
            }
            (None, Some((c, t, r))) => (c, t, Some(r)),
            (None, None) => (Cause::NormalClose, None, None),
        };
        let before_open = was_seen && !o.authenticated && addrs.vhost.is_none();
        let cause = match cause {
            Cause::ClientClosedAbruptly if before_open => Cause::ClosedDuringHandshake,
            c => c,
        };
        Step::Closed(Box::new(Closed {
            node,
            pid: conn,
            peer: o.peer,
            name: o.name.or_else(|| opt(addrs.name)),
            user: o.user.or_else(|| opt(addrs.user)),
            vhost: o.vhost.or_else(|| opt(addrs.vhost)),
            opened_ms,
            closed_ms: at_ms,
            cause,
            heartbeat_s: t,
            reason: why,
        }))
    }
}

/// `host:port` → `host` (`[::1]:5672` → `[::1]`); empty → `(direct)`.
pub fn host_of(peer: &str) -> &str {
    if peer.is_empty() {
        return "(direct)";
    }
    match peer.rfind(':') {
        Some(i) if peer[i + 1..].bytes().all(|b| b.is_ascii_digit()) && !peer[..i].is_empty() => {
            let h = &peer[..i];
            if h.contains(':') && !h.starts_with('[') {
                peer
            } else {
                h
            }
        }
        _ => peer,
    }
}

#[cfg(test)]
mod tests {
    use super::super::event::event;
    use super::*;

    /// Feed (ms, text) records on node 0; the closes.
    fn run(records: &[(i64, &str)]) -> (Vec<Closed>, Tracker) {
        let mut t = Tracker::default();
        let mut out = Vec::new();
        for (at, text) in records {
            if let Some(ev) = event(text) {
                if let Step::Closed(c) = t.apply(0, *at, &ev) {
                    out.push(*c);
                }
            }
        }
        (out, t)
    }

    #[test]
    fn shutdown_and_connection_limits_as_rabbitmq_3_10_8_logs_them() {
        // The private node's log (.ci/faults-node), under stop_app and
        // set_vhost_limits / set_user_limits max-connections 0.
        let (closed, t) = run(&[
            (1, "accepting AMQP connection <0.1236.0> (127.0.0.1:56898 -> 127.0.0.1:5673)"),
            (2, "connection <0.1236.0> (127.0.0.1:56898 -> 127.0.0.1:5673): user 'guest' authenticated and granted access to vhost '/'"),
            (9, "Error on AMQP connection <0.1236.0> (127.0.0.1:56898 -> 127.0.0.1:5673, vhost: '/', user: 'guest', state: running), channel 0:\n operation none caused a connection exception connection_forced: \"broker forced connection closure with reason 'shutdown'\""),
            (10, "accepting AMQP connection <0.1264.0> (127.0.0.1:56902 -> 127.0.0.1:5673)"),
            (11, "Error on AMQP connection <0.1264.0> (127.0.0.1:56902 -> 127.0.0.1:5673, user: 'guest', state: opening):\naccess to vhost '/' refused for user 'guest': connection limit (0) is reached"),
            (12, "closing AMQP connection <0.1264.0> (127.0.0.1:56902 -> 127.0.0.1:5673, vhost: 'none', user: 'guest')"),
            (13, "accepting AMQP connection <0.1287.0> (127.0.0.1:56908 -> 127.0.0.1:5673)"),
            (14, "Error on AMQP connection <0.1287.0> (127.0.0.1:56908 -> 127.0.0.1:5673, user: 'guest', state: opening):\nconnection refused for user 'guest': user connection limit (0) is reached"),
            (15, "closing AMQP connection <0.1287.0> (127.0.0.1:56908 -> 127.0.0.1:5673, vhost: 'none', user: 'guest')"),
        ]);
        let causes: Vec<Cause> = closed.iter().map(|c| c.cause).collect();
        assert_eq!(
            causes,
            [
                Cause::BrokerShutdown,
                Cause::ConnectionLimit,
                Cause::ConnectionLimit
            ]
        );
        assert_eq!(closed[0].lifetime_ms(), Some(8));
        assert_eq!(
            t.still_open(),
            0,
            "the shutdown's connection is not left open"
        );
    }

    #[test]
    fn joins_the_local_brokers_records() {
        // The local RabbitMQ 3.10.8's records (see event.rs).
        let (closed, t) = run(&[
            (0, "accepting AMQP connection <0.996.0> (127.0.0.1:40508 -> 127.0.0.1:5672)"),
            (2, "connection <0.996.0> (127.0.0.1:40508 -> 127.0.0.1:5672) has a client-provided name: starve"),
            (4, "connection <0.996.0> (127.0.0.1:40508 -> 127.0.0.1:5672 - starve): user 'guest' authenticated and granted access to vhost '/'"),
            (10, "accepting AMQP connection <0.1006.0> (127.0.0.1:40524 -> 127.0.0.1:5672)"),
            (11, "Error on AMQP connection <0.1006.0> (127.0.0.1:40524 -> 127.0.0.1:5672, state: starting):\nPLAIN login refused: user 'guest' - invalid credentials"),
            (12, "closing AMQP connection <0.1006.0> (127.0.0.1:40524 -> 127.0.0.1:5672)"),
            (20, "accepting AMQP connection <0.1011.0> (127.0.0.1:40530 -> 127.0.0.1:5672)"),
            (21, "connection <0.1011.0> (127.0.0.1:40530 -> 127.0.0.1:5672 - kill): user 'guest' authenticated and granted access to vhost '/'"),
            (30, "Error on AMQP connection <0.1011.0> (127.0.0.1:40530 -> 127.0.0.1:5672 - kill, vhost: '/', user: 'guest', state: running), channel 0:\n operation none caused a connection exception connection_forced: \"bye\""),
            (31, "Closing connection <0.1011.0> because <<\"bye\">>"),
            (32, "closing AMQP connection <0.1011.0> (127.0.0.1:40530 -> 127.0.0.1:5672 - kill, vhost: '/', user: 'guest')"),
            (3004, "closing AMQP connection <0.996.0> (127.0.0.1:40508 -> 127.0.0.1:5672 - starve):\nmissed heartbeats from client, timeout: 1s"),
            (4000, "accepting AMQP connection <0.749.0> (127.0.0.1:58434 -> 127.0.0.1:5672)"),
            (4003, "closing AMQP connection <0.749.0> (127.0.0.1:58434 -> 127.0.0.1:5672):\nclient unexpectedly closed TCP connection"),
            (5000, "closing AMQP connection <0.7.0> (10.0.0.7:1 -> 10.0.0.5:5672, vhost: '/', user: 'app'):\nclient unexpectedly closed TCP connection"),
        ]);
        let got: Vec<(&str, Cause, Option<u64>, Option<&str>)> = closed
            .iter()
            .map(|c| (c.peer.as_str(), c.cause, c.lifetime_ms(), c.name.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("127.0.0.1:40524", Cause::AuthFailed, Some(2), None),
                (
                    "127.0.0.1:40530",
                    Cause::ForcedByOperator,
                    Some(12),
                    Some("kill")
                ),
                (
                    "127.0.0.1:40508",
                    Cause::BrokerHeartbeatTimeout,
                    Some(3004),
                    Some("starve")
                ),
                (
                    "127.0.0.1:58434",
                    Cause::ClosedDuringHandshake,
                    Some(3),
                    None
                ),
                ("10.0.0.7:1", Cause::ClientClosedAbruptly, None, None),
            ]
        );
        assert_eq!(closed[2].heartbeat_s, Some(1));
        assert_eq!(closed[2].user.as_deref(), Some("guest"));
        assert_eq!((t.closes_without_open, t.still_open()), (1, 0));
    }

    #[test]
    fn open_state_is_bounded() {
        let mut t = Tracker::default();
        for i in 0..(MAX_OPEN as u32 + 10) {
            let text = format!(
                "accepting AMQP connection <0.{i}.0> (10.0.0.1:{} -> 10.0.0.5:5672)",
                i % 60000
            );
            t.apply(0, 0, &event(&text).unwrap());
        }
        assert_eq!((t.still_open(), t.evicted), (MAX_OPEN, 10));
    }

    #[test]
    fn hosts() {
        for (peer, host) in [
            ("127.0.0.1:40508", "127.0.0.1"),
            ("[::1]:60057", "[::1]"),
            ("", "(direct)"),
            ("::1", "::1"),
            ("host", "host"),
        ] {
            assert_eq!(host_of(peer), host, "{peer}");
        }
    }
}
