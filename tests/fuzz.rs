//! Property tests ("fuzzing" on stable Rust) for the two parsers that take
//! input we do not control: the frame reader (bytes from any server) and
//! the URL parser (text from any user).
//!
//! `cargo test` runs a fixed number of cases (proptest's default, 256 per
//! property, or `PROPTEST_CASES`); `bench/fuzz.sh DURATION` runs them in a
//! loop with fresh seeds and prints how many cases ran and how many failed.
//!
//! What must hold: arbitrary bytes never panic the reader, never make it
//! buffer more than one frame_max, and never keep it waiting past its
//! deadline; arbitrary text never panics the URL parser, and a password in
//! a URL never reaches any message or display, however the URL is broken.

use std::time::{Duration, Instant};

use amqpdoctor::target::{redact_url_text, Target};
use amqpdoctor::timeline::Timeline;
use amqpdoctor::vocab::HeartbeatRequest;
use amqpdoctor::wire::codec::{decode, Decoded, CLIENT_FRAME_MAX, PRE_TUNE_FRAME_MAX};
use amqpdoctor::wire::{HandshakeParams, WireConn};
use proptest::prelude::*;
use tokio::io::AsyncWriteExt;

/// Bytes that look like AMQP often enough to get past the first checks:
/// a valid frame type, a channel, a size, then anything.
fn framish() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(1u8), Just(2), Just(3), Just(8), any::<u8>()],
        any::<u16>(),
        prop_oneof![0u32..64, 0u32..200_000, any::<u32>()],
        proptest::collection::vec(any::<u8>(), 0..512),
    )
        .prop_map(|(kind, ch, size, rest)| {
            let mut v = vec![kind];
            v.extend(ch.to_be_bytes());
            v.extend(size.to_be_bytes());
            v.extend(rest);
            v
        })
}

proptest! {
    /// The decoder never panics, never claims more bytes than it was given,
    /// and never asks for more input once the buffer could no longer hold a
    /// frame within frame_max: what it buffers is bounded by that limit.
    #[test]
    fn decode_is_total_and_bounded(
        bytes in prop_oneof![framish(), proptest::collection::vec(any::<u8>(), 0..2048)],
        frame_max in prop_oneof![Just(PRE_TUNE_FRAME_MAX), Just(CLIENT_FRAME_MAX), 4096u32..200_000],
    ) {
        match decode(&bytes, frame_max) {
            Decoded::Frame(_, used) => prop_assert!(used <= bytes.len() && used > 0),
            Decoded::NeedMore => prop_assert!(bytes.len() < frame_max as usize + 8),
            Decoded::Invalid(why) => prop_assert!(!why.is_empty() && why.len() < 512),
        }
    }

    /// A whole handshake against a server that sends arbitrary bytes (then
    /// hangs up or goes silent) ends in an error or a handshake, within its
    /// deadline, without panicking.
    #[test]
    fn handshake_against_arbitrary_bytes_ends(
        chunks in proptest::collection::vec(prop_oneof![framish(), proptest::collection::vec(any::<u8>(), 0..256)], 0..4),
        hang_up in proptest::bool::weighted(0.9),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let started = Instant::now();
        let res = rt.block_on(async {
            let (client, mut server) = tokio::io::duplex(1 << 16);
            let feeder = tokio::spawn(async move {
                for c in chunks {
                    if server.write_all(&c).await.is_err() {
                        return;
                    }
                }
                if !hang_up {
                    // Stay silent: the client's step deadline must end it.
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            });
            let mut conn = WireConn::new(client, Timeline::new(false), Duration::from_millis(200));
            let params = HandshakeParams {
                user: "guest".into(),
                password: "S3cr3tPw".into(),
                vhost: "/".into(),
                heartbeat: HeartbeatRequest::Server,
                connection_name: "fuzz".into(),
                mechanisms: Vec::new(),
                channel_max: None,
                frame_max: None,
            };
            let r = conn.handshake(&params).await;
            feeder.abort();
            r.map(|_| ()).map_err(|e| e.to_string())
        });
        // Each step waits at most 200 ms; a handshake has four waits.
        prop_assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
        if let Err(e) = res {
            prop_assert!(!e.contains("S3cr3tPw"));
        }
    }

    /// The URL parser and the redactor never panic on any text.
    #[test]
    fn url_parsing_is_total(raw in ".{0,200}") {
        let _ = Target::parse(&raw);
        let _ = redact_url_text(&raw);
    }

    /// However a URL around a password is broken (a missing slash, a stray
    /// '/', '#', '?' or '@' in the password, a bad port, no host), the
    /// password appears neither in the parse error nor in the display.
    #[test]
    fn a_password_never_leaks_from_any_url_shape(
        scheme in prop_oneof![Just("amqp://"), Just("amqp:/"), Just("amqp:"), Just("AMQP://"), Just("amqps://"), Just("")],
        user in "[a-z]{1,8}",
        password in "[A-Za-z0-9]{6,12}[/#?@!:]?[A-Za-z0-9]{0,6}",
        host in prop_oneof![Just("127.0.0.1"), Just("h"), Just("[::1]"), Just("[::1"), Just("")],
        port in prop_oneof![Just(""), Just(":5672"), Just(":0"), Just(":x"), Just(":99999")],
        tail in prop_oneof![Just(""), Just("/"), Just("/%2f"), Just("/a/b"), Just("?heartbeat=5"), Just("#f")],
    ) {
        // Only passwords that cannot be mistaken for the rest of the URL.
        prop_assume!(!format!("{scheme}{user}{host}{port}{tail}").contains(&password));
        let url = format!("{scheme}{user}:{password}@{host}{port}{tail}");
        match Target::parse(&url) {
            Ok(t) => {
                prop_assert!(!t.to_string().contains(&password), "{url} → {t}");
                let debug = format!("{t:?}");
                prop_assert!(!debug.contains(&password));
            }
            Err(e) => prop_assert!(!e.to_string().contains(&password), "{url} → {e}"),
        }
        prop_assert!(!redact_url_text(&url).contains(&password), "{url}");
    }
}
