//! A whole record's text (head and continuations joined by `\n`) into the
//! connection event it reports, as rabbit_reader.erl words them (read in
//! rabbitmq/rabbitmq-server deps/rabbit/src/rabbit_reader.erl, v3.10.8,
//! and measured on the local 3.10.8 broker):
//!
//! - `accepting AMQP connection <pid> (A -> B)`
//! - `connection <pid> (A -> B) has a client-provided name: NAME`
//! - `connection <pid> (A -> B[ - NAME]): user 'U' authenticated and granted access to vhost 'V'`
//! - `closing AMQP connection <pid> (A -> B[ - NAME][, vhost: 'V', user: 'U'])[:\nREASON]`
//! - `Error on AMQP connection <pid> (A -> B[…], state: S)[, channel 0]:\nREASON`
//! - `Closing connection <pid> because <<"REASON">>` (rabbitmqctl close_connection)
//! - `… resource limit alarm set on node …` / `… alarm cleared …`
//! - `Server startup complete` / `RabbitMQ is asking to stop` (3.9+) or `Stopping RabbitMQ` (older)

use super::parse::Pid;

/// The address block of a connection line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addrs<'a> {
    pub peer: &'a str,
    pub local: &'a str,
    pub name: Option<&'a str>,
    pub vhost: Option<&'a str>,
    pub user: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// What a record says happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    Accepting {
        conn: Pid,
        addrs: Addrs<'a>,
    },
    Named {
        conn: Pid,
        name: &'a str,
    },
    Authenticated {
        conn: Pid,
        addrs: Addrs<'a>,
        user: &'a str,
        vhost: &'a str,
    },
    Closing {
        conn: Pid,
        addrs: Addrs<'a>,
        reason: Option<&'a str>,
    },
    Error {
        conn: Pid,
        addrs: Addrs<'a>,
        reason: &'a str,
    },
    ClosedBy {
        conn: Pid,
        reason: &'a str,
    },
    Alarm {
        set: bool,
        text: &'a str,
    },
    Started,
    Stopping,
}

/// Substrings one of which every record [`event`] reads contains: the
/// reader's prefilter (it looks for these before parsing anything).
pub const NEEDLES: &[&str] = &[
    "AMQP connection <",
    "connection <",
    "alarm",
    "startup complete",
    "asking to stop",
    "Stopping RabbitMQ",
    " REPORT==== ",
];

/// The event in a record's text, if it reports one.
pub fn event(text: &str) -> Option<Event<'_>> {
    let t = text.trim_start();
    for (lead, make) in LEADS {
        if let Some(rest) = t.strip_prefix(lead) {
            return make(rest);
        }
    }
    if t.contains("alarm set") || t.contains("alarm cleared") {
        let set = t.contains("alarm set");
        return Some(Event::Alarm {
            set,
            text: first_line(t),
        });
    }
    if t.starts_with("Server startup complete") {
        return Some(Event::Started);
    }
    if t.starts_with("RabbitMQ is asking to stop") || t.starts_with("Stopping RabbitMQ") {
        return Some(Event::Stopping);
    }
    None
}

type Make = for<'a> fn(&'a str) -> Option<Event<'a>>;

const LEADS: &[(&str, Make)] = &[
    ("accepting AMQP connection ", accepting),
    ("closing AMQP connection ", closing),
    ("Error on AMQP connection ", error_on),
    ("Closing connection ", closed_by),
    ("connection ", connection_line),
];

fn first_line(t: &str) -> &str {
    t.split('\n').next().unwrap_or(t)
}

/// `<pid> (…)` then what follows the `)`.
fn pid_and_block(rest: &str) -> Option<(Pid, &str, &str)> {
    let (pid, n) = Pid::parse(rest)?;
    let rest = rest[n..].strip_prefix(" (")?;
    let line = first_line(rest);
    let close = line.rfind(')')?;
    Some((pid, &rest[..close], &rest[close + 1..]))
}

/// `A -> B[ - NAME][, vhost: 'V'][, user: 'U'][, state: S]`.
pub fn addrs(block: &str) -> Addrs<'_> {
    let mut a = Addrs::default();
    let mut body = block;
    while let Some(i) = body.rfind(", ") {
        let Some((k, v)) = body[i + 2..].split_once(": ") else {
            break;
        };
        let v = v.trim_matches('\'');
        match k {
            "vhost" => a.vhost = Some(v),
            "user" => a.user = Some(v),
            "state" => a.state = Some(v),
            _ => break,
        }
        body = &body[..i];
    }
    let (peer, rest) = body.split_once(" -> ").unwrap_or((body, ""));
    let (local, name) = match rest
        .strip_prefix("- ")
        .map(|n| ("", n))
        .or_else(|| rest.split_once(" - "))
    {
        Some((l, n)) => (l, Some(n)),
        None => (rest, None),
    };
    a.peer = peer.trim();
    a.local = local.trim();
    a.name = name.filter(|n| !n.is_empty());
    a
}

fn accepting(rest: &str) -> Option<Event<'_>> {
    let (conn, block, _) = pid_and_block(rest)?;
    Some(Event::Accepting {
        conn,
        addrs: addrs(block),
    })
}

/// The reason after `):`, on the same line or the lines that follow.
fn reason_of(after: &str) -> Option<&str> {
    let r = after.strip_prefix(':').unwrap_or(after);
    let r = r.strip_prefix(", channel 0:").unwrap_or(r);
    let r = r.trim();
    (!r.is_empty()).then_some(r)
}

fn closing(rest: &str) -> Option<Event<'_>> {
    let (conn, block, after) = pid_and_block(rest)?;
    Some(Event::Closing {
        conn,
        addrs: addrs(block),
        reason: reason_of(after),
    })
}

fn error_on(rest: &str) -> Option<Event<'_>> {
    let Some((conn, block, after)) = pid_and_block(rest) else {
        // Older forms: `Error on AMQP connection <pid>: reason`.
        let (conn, n) = Pid::parse(rest)?;
        let reason = reason_of(&rest[n..]).unwrap_or("");
        return Some(Event::Error {
            conn,
            addrs: Addrs::default(),
            reason,
        });
    };
    Some(Event::Error {
        conn,
        addrs: addrs(block),
        reason: reason_of(after).unwrap_or(""),
    })
}

fn closed_by(rest: &str) -> Option<Event<'_>> {
    let (conn, n) = Pid::parse(rest)?;
    let reason = rest[n..]
        .trim()
        .strip_prefix("because ")
        .unwrap_or("")
        .trim();
    let reason = reason
        .strip_prefix("<<\"")
        .and_then(|r| r.strip_suffix("\">>"))
        .unwrap_or(reason);
    Some(Event::ClosedBy { conn, reason })
}

fn connection_line(rest: &str) -> Option<Event<'_>> {
    let (conn, block, after) = pid_and_block(rest)?;
    if let Some(name) = after
        .trim_start()
        .strip_prefix("has a client-provided name: ")
    {
        return Some(Event::Named {
            conn,
            name: first_line(name).trim(),
        });
    }
    let a = after.strip_prefix(": user '")?;
    let (user, a) = a.split_once("' authenticated and granted access to vhost '")?;
    let vhost = first_line(a).trim_end().strip_suffix('\'')?;
    Some(Event::Authenticated {
        conn,
        addrs: addrs(block),
        user,
        vhost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "127.0.0.1:40508";
    const B: &str = "127.0.0.1:5672";

    #[test]
    fn the_local_brokers_lines() {
        // Written by the local RabbitMQ 3.10.8 (a starving pika client, a wrong
        // password, rabbitmqctl close_connection, an unknown vhost).
        let e = event("accepting AMQP connection <0.996.0> (127.0.0.1:40508 -> 127.0.0.1:5672)")
            .unwrap();
        let Event::Accepting { conn, addrs } = e else {
            panic!()
        };
        assert_eq!((conn, addrs.peer, addrs.local), (Pid(0, 996, 0), A, B));
        let e = event("connection <0.996.0> (127.0.0.1:40508 -> 127.0.0.1:5672) has a client-provided name: logs-explore-starve").unwrap();
        assert_eq!(
            e,
            Event::Named {
                conn: Pid(0, 996, 0),
                name: "logs-explore-starve"
            }
        );
        let e = event("connection <0.996.0> (127.0.0.1:40508 -> 127.0.0.1:5672 - logs-explore-starve): user 'guest' authenticated and granted access to vhost '/'").unwrap();
        let Event::Authenticated {
            addrs, user, vhost, ..
        } = e
        else {
            panic!()
        };
        assert_eq!(
            (addrs.name, user, vhost),
            (Some("logs-explore-starve"), "guest", "/")
        );
        let e = event("closing AMQP connection <0.996.0> (127.0.0.1:40508 -> 127.0.0.1:5672 - logs-explore-starve):\nmissed heartbeats from client, timeout: 1s").unwrap();
        let Event::Closing { reason, addrs, .. } = e else {
            panic!()
        };
        assert_eq!(reason, Some("missed heartbeats from client, timeout: 1s"));
        assert_eq!(addrs.name, Some("logs-explore-starve"));
        let e = event("Error on AMQP connection <0.1006.0> (127.0.0.1:40524 -> 127.0.0.1:5672, state: starting):\nPLAIN login refused: user 'guest' - invalid credentials").unwrap();
        let Event::Error { reason, addrs, .. } = e else {
            panic!()
        };
        assert_eq!(
            reason,
            "PLAIN login refused: user 'guest' - invalid credentials"
        );
        assert_eq!(addrs.state, Some("starting"));
        let e = event("Error on AMQP connection <0.1011.0> (127.0.0.1:40530 -> 127.0.0.1:5672 - logs-explore-kill, vhost: '/', user: 'guest', state: running), channel 0:\n operation none caused a connection exception connection_forced: \"bye from test\"").unwrap();
        let Event::Error { reason, addrs, .. } = e else {
            panic!()
        };
        assert!(reason.ends_with("\"bye from test\""));
        assert_eq!(
            (addrs.name, addrs.vhost, addrs.user),
            (Some("logs-explore-kill"), Some("/"), Some("guest"))
        );
        let e = event("Closing connection <0.1011.0> because <<\"bye from test\">>").unwrap();
        assert_eq!(
            e,
            Event::ClosedBy {
                conn: Pid(0, 1011, 0),
                reason: "bye from test"
            }
        );
        let e = event("closing AMQP connection <0.1034.0> (127.0.0.1:57164 -> 127.0.0.1:5672, vhost: 'none', user: 'guest')").unwrap();
        let Event::Closing { reason, addrs, .. } = e else {
            panic!()
        };
        assert_eq!((reason, addrs.vhost, addrs.local), (None, Some("none"), B));
    }

    #[test]
    fn older_and_odd_forms() {
        // https://github.com/rabbitmq/rabbitmq-server/issues/159 (3.5)
        let e = event("closing AMQP connection <0.8152.1> ([::1]:60057 -> [::1]:5672): \n{heartbeat_timeout,running} ").unwrap();
        let Event::Closing { reason, addrs, .. } = e else {
            panic!()
        };
        assert_eq!(
            (reason, addrs.peer),
            (Some("{heartbeat_timeout,running}"), "[::1]:60057")
        );
        // http://www.freekb.net/Article?id=3019 (a direct connection, no addresses)
        let e = event("closing AMQP connection <0.14198.805> ( -> - rabbitConnectionFactory#54ad0027:0):\nmissed heartbeats from client, timeout: 60s").unwrap();
        let Event::Closing { addrs, .. } = e else {
            panic!()
        };
        assert_eq!(
            (addrs.peer, addrs.name),
            ("", Some("rabbitConnectionFactory#54ad0027:0"))
        );
        for junk in [
            "closing AMQP connection",
            "connection <0.1.0>",
            "accepting AMQP connection <x>",
            "connection <0.1.0> (a -> b): user 'x",
        ] {
            assert_eq!(event(junk), None, "{junk}");
        }
        assert!(matches!(
            event("memory resource limit alarm set on node rabbit@host."),
            Some(Event::Alarm { set: true, .. })
        ));
        assert_eq!(
            event("Server startup complete; 0 plugins started."),
            Some(Event::Started)
        );
    }
}
