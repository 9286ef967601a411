//! Scripted AMQP peers on 127.0.0.1:0 for hostile-server tests: each serves
//! one connection and says, frame by frame, what a broker (or something
//! pretending to be one) does.

#![allow(dead_code)] // each test binary uses some of these

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use amq_protocol::frame::AMQPFrame;
use amq_protocol::protocol::{connection, AMQPClass};
use amq_protocol::types::{AMQPValue, FieldTable, LongString};
use amqpdoctor::wire::codec::encode;

/// Serve one connection with `behave` on 127.0.0.1:0; the URL to reach it
/// (password `S3cr3tPw` so tests can grep for it).
pub fn serve(behave: impl FnOnce(TcpStream) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        if let Ok((conn, _)) = listener.accept() {
            let _ = conn.set_read_timeout(Some(Duration::from_secs(20)));
            behave(conn);
        }
    });
    format!("amqp://guest:S3cr3tPw@127.0.0.1:{port}/%2f")
}

pub fn send(c: &mut TcpStream, frame: AMQPFrame) {
    let _ = c.write_all(&encode(&frame).unwrap());
}

/// Read and discard `n` bytes (or until the peer stops).
pub fn skip(c: &mut TcpStream, n: usize) {
    let mut buf = vec![0u8; n];
    let _ = c.read_exact(&mut buf);
}

/// Read one frame's worth of bytes (header, payload, end marker).
pub fn read_frame(c: &mut TcpStream) -> Vec<u8> {
    let mut head = [0u8; 7];
    if c.read_exact(&mut head).is_err() {
        return Vec::new();
    }
    let size = u32::from_be_bytes([head[3], head[4], head[5], head[6]]) as usize;
    let mut rest = vec![0u8; size.min(1 << 20) + 1];
    let _ = c.read_exact(&mut rest);
    [head.to_vec(), rest].concat()
}

/// Connection.Start with these product strings and mechanisms.
pub fn start(product: &str, version: &str, platform: &str, mechanisms: &str) -> AMQPFrame {
    let mut props = FieldTable::default();
    for (k, v) in [
        ("product", product),
        ("version", version),
        ("platform", platform),
    ] {
        props.insert(k.into(), AMQPValue::LongString(v.into()));
    }
    AMQPFrame::Method(
        0,
        AMQPClass::Connection(connection::AMQPMethod::Start(connection::Start {
            version_major: 0,
            version_minor: 9,
            server_properties: props,
            mechanisms: LongString::from(mechanisms),
            locales: "en_US".into(),
        })),
    )
}

pub fn tune(frame_max: u32, heartbeat: u16) -> AMQPFrame {
    AMQPFrame::Method(
        0,
        AMQPClass::Connection(connection::AMQPMethod::Tune(connection::Tune {
            channel_max: 2047,
            frame_max,
            heartbeat,
        })),
    )
}

pub fn open_ok() -> AMQPFrame {
    AMQPFrame::Method(
        0,
        AMQPClass::Connection(connection::AMQPMethod::OpenOk(connection::OpenOk {})),
    )
}

pub fn close(code: u16, text: &str) -> AMQPFrame {
    AMQPFrame::Method(
        0,
        AMQPClass::Connection(connection::AMQPMethod::Close(connection::Close {
            reply_code: code,
            reply_text: text.into(),
            class_id: 0,
            method_id: 0,
        })),
    )
}

/// The handshake up to Open-Ok as RabbitMQ would do it, with this Start
/// and this Tune frame_max.
pub fn handshake(c: &mut TcpStream, start_frame: AMQPFrame, frame_max: u32) {
    skip(c, 8); // protocol header
    send(c, start_frame);
    read_frame(c); // Start-Ok
    send(c, tune(frame_max, 60));
    read_frame(c); // Tune-Ok
    read_frame(c); // Open
    send(c, open_ok());
}

/// RabbitMQ's Connection.Start, with the capabilities a check relies on.
pub fn rabbit_start() -> AMQPFrame {
    let mut frame = start("RabbitMQ", "3.10.8", "Erlang", "PLAIN AMQPLAIN");
    if let AMQPFrame::Method(_, AMQPClass::Connection(connection::AMQPMethod::Start(s))) =
        &mut frame
    {
        let mut caps = FieldTable::default();
        for cap in [
            "publisher_confirms",
            "basic.nack",
            "authentication_failure_close",
        ] {
            caps.insert(cap.into(), AMQPValue::Boolean(true));
        }
        s.server_properties
            .insert("capabilities".into(), AMQPValue::FieldTable(caps));
    }
    frame
}

/// A 0-9-1 broker that announces no capabilities at all (no publisher
/// confirms): does everything else like [`broker_that_never_confirms`].
pub fn plain_spec_broker(mut c: TcpStream) {
    skip(&mut c, 8);
    send(&mut c, start("SpecOnly", "1.0", "test", "PLAIN"));
    read_frame(&mut c);
    send(&mut c, tune(131_072, 60));
    read_frame(&mut c);
    read_frame(&mut c);
    send(&mut c, open_ok());
    broker_loop(c, None);
}

/// Serve every connection with `behave` (each on its own thread).
pub fn serve_many(behave: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
            thread::spawn(move || behave(conn));
        }
    });
    format!("amqp://guest:S3cr3tPw@127.0.0.1:{port}/%2f")
}

/// Reset the connection (RST, not FIN): linger 0, then close.
pub fn reset(c: TcpStream) {
    use nix::sys::socket::{setsockopt, sockopt::Linger};
    let _ = setsockopt(
        &c,
        Linger,
        &libc::linger {
            l_onoff: 1,
            l_linger: 0,
        },
    );
    drop(c);
}

/// The next method frame from the client, decoded (None at EOF).
pub fn next_method(c: &mut TcpStream) -> Option<(u16, AMQPClass)> {
    use amqpdoctor::wire::codec::{decode, Decoded};
    loop {
        let bytes = read_frame(c);
        if bytes.is_empty() {
            return None;
        }
        if let Decoded::Frame(AMQPFrame::Method(ch, m), _) = decode(&bytes, 0) {
            return Some((ch, m));
        }
    }
}

/// A broker that does everything a probe needs except confirm: it opens
/// channels, selects confirms, declares queues and closes politely, but
/// never acks a publish.
pub fn broker_that_never_confirms(c: TcpStream) {
    broker_answering_publish(c, None);
}

/// The same broker, but it nacks every publish.
pub fn broker_that_nacks(c: TcpStream) {
    use amq_protocol::protocol::basic;
    let nack = AMQPClass::Basic(basic::AMQPMethod::Nack(basic::Nack {
        delivery_tag: 1,
        multiple: false,
        requeue: false,
    }));
    broker_answering_publish(c, Some(nack));
}

/// A broker that answers a publish with `answer` (or nothing).
fn broker_answering_publish(mut c: TcpStream, answer: Option<AMQPClass>) {
    handshake(&mut c, rabbit_start(), 131_072);
    broker_loop(c, answer);
}

/// After the handshake: open channels, select confirms, declare queues,
/// answer a publish with `answer`, close politely; ignore the rest.
fn broker_loop(mut c: TcpStream, answer: Option<AMQPClass>) {
    use amq_protocol::protocol::{basic, channel, confirm, queue};
    while let Some((ch, m)) = next_method(&mut c) {
        let reply = match m {
            AMQPClass::Basic(basic::AMQPMethod::Publish(_)) => match &answer {
                Some(a) => a.clone(),
                None => continue,
            },
            AMQPClass::Channel(channel::AMQPMethod::Open(_)) => {
                AMQPClass::Channel(channel::AMQPMethod::OpenOk(channel::OpenOk {}))
            }
            AMQPClass::Confirm(confirm::AMQPMethod::Select(_)) => {
                AMQPClass::Confirm(confirm::AMQPMethod::SelectOk(confirm::SelectOk {}))
            }
            AMQPClass::Queue(queue::AMQPMethod::Declare(_)) => {
                AMQPClass::Queue(queue::AMQPMethod::DeclareOk(queue::DeclareOk {
                    queue: "amq.gen-fake".into(),
                    message_count: 0,
                    consumer_count: 0,
                }))
            }
            AMQPClass::Connection(connection::AMQPMethod::Close(_)) => {
                send(
                    &mut c,
                    AMQPFrame::Method(
                        0,
                        AMQPClass::Connection(connection::AMQPMethod::CloseOk(
                            connection::CloseOk {},
                        )),
                    ),
                );
                return;
            }
            _ => continue,
        };
        send(&mut c, AMQPFrame::Method(ch, reply));
    }
}
