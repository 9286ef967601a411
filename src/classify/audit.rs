//! `audit`, judged: the broker's view of one client connection (what the
//! management API reported) turned into flags, the client library behind
//! it with what the knowledge base says about that library, advice in
//! words, and the join with `scan`'s records from the application's host.
//! Pure: `run::management` fetches, `report::audit` renders.
//!
//! Silence is read from the API's sampled `recv_oct`: the management
//! plugin records the counter every `collect_statistics_interval` (5 s by
//! default), so a silence is known to within one sample and is reported as
//! a lower bound (the time between the first and the last sample that show
//! the same count).

mod api;
mod join;
mod judge;
mod library;

pub use crate::vocab::audit::{
    endpoint, BrokerConnection, ClientProperties, Flag, Host, QuietFirst, RateSample, ScanFile,
    ScanRecord, Silence,
};
pub use api::{ApiFailure, ApiFailureKind};
pub use join::{join, joined_summary, quiet_first};
pub use judge::judge;
pub use library::{library, Library};

/// The management plugin's default statistics interval
/// (`collect_statistics_interval`, 5000 ms): the spacing of its samples.
pub const STATS_INTERVAL_MS: u64 = 5000;

/// Two silences closer than this are "at the same time": the scan's
/// `last_*` readings are taken at one instant, but heartbeats and replies
/// cross on the wire.
pub const QUIET_SLACK_MS: u64 = 1000;

/// The silence at the newest sample: how long `recv_oct` had not changed.
/// Samples from before the connection opened (the API pads the window with
/// zeros) are ignored; `recv_oct` (the live counter) beyond the newest
/// sample means bytes came since. None with fewer than two usable samples.
pub fn silence(
    samples: &[RateSample],
    connected_at_ms: Option<u64>,
    recv_oct: Option<u64>,
) -> Option<Silence> {
    let mut usable: Vec<RateSample> = samples
        .iter()
        .copied()
        .filter(|s| connected_at_ms.is_none_or(|c| s.at_ms >= c))
        .collect();
    usable.sort_by_key(|s| s.at_ms);
    usable.dedup_by_key(|s| s.at_ms);
    let (first, newest) = (*usable.first()?, *usable.last()?);
    if usable.len() < 2 {
        return None;
    }
    let observed_ms = newest.at_ms - first.at_ms;
    if recv_oct.is_some_and(|live| live != newest.value) {
        return Some(Silence {
            silent_ms: 0,
            observed_ms,
            whole_window: false,
            samples: usable.len(),
            newest_at_ms: newest.at_ms,
        });
    }
    let since = usable
        .iter()
        .rev()
        .take_while(|s| s.value == newest.value)
        .last()
        .map_or(newest.at_ms, |s| s.at_ms);
    Some(Silence {
        silent_ms: newest.at_ms - since,
        observed_ms,
        whole_window: since == first.at_ms,
        samples: usable.len(),
        newest_at_ms: newest.at_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::judge::talking;
    use super::library::library_id;
    use super::*;
    use crate::knowledge;
    use crate::vocab::Heartbeat;

    fn props(product: &str, platform: &str, version: &str) -> ClientProperties {
        ClientProperties {
            product: Some(product.into()),
            version: Some(version.into()),
            platform: Some(platform.into()),
            connection_name: None,
            protocol: None,
        }
    }

    #[test]
    fn libraries_by_their_client_properties() {
        // (product, platform, knowledge id) as each library sends them.
        let rows: &[(&str, &str, Option<&str>)] = &[
            (
                "Pika Python Client Library",
                "Python 3.11.7",
                Some("pika-blocking"),
            ),
            ("aiormq", "CPython 3.12.1 (main build)", Some("aio-pika")),
            ("py-amqp", "", Some("kombu")),
            ("amqplib", "Node.JS v20.11.0", Some("node-amqplib")),
            ("AMQPLib", "PHP", Some("php-amqplib")),
            ("rabbitmq-c", "Linux", Some("rabbitmq-c")),
            ("AMQP 0.9.1 Client", "golang", Some("go-amqp091")),
            ("AMQP 0.9.1 Client", "swift", None),
            (
                "https://github.com/streadway/amqp",
                "golang",
                Some("go-streadway"),
            ),
            ("RabbitMQ", "Java", Some("java")),
            ("RabbitMQ", ".NET", Some("dotnet")),
            ("RabbitMQ", "Erlang/OTP 25", None),
            ("Bunny", "ruby 3.2.2", Some("bunny")),
            ("lapin", "rust", Some("lapin")),
            // py-amqplib's `library`, read as the product
            ("Python amqplib", "", Some("py-amqplib")),
            ("amqpdoctor", "Rust", None),
            ("MyCompany Billing", ".NET", None),
        ];
        for &(product, platform, want) in rows {
            assert_eq!(
                library_id(&props(product, platform, "1.0.0")).map(|(id, _)| id),
                want,
                "{product} / {platform}"
            );
            if let Some(id) = want {
                assert!(
                    knowledge::client(id).is_some(),
                    "{id} is not in clients.toml"
                );
            }
        }
        assert_eq!(library_id(&ClientProperties::default()), None);
    }

    #[test]
    fn the_version_picks_the_row() {
        let rows: &[(&str, &str, &str, bool)] = &[
            ("Pika Python Client Library", "1.3.2", "≥ 1.0", true),
            ("Pika Python Client Library", "0.13.1", "0.12–0.13", true),
            (
                "Pika Python Client Library",
                "not a version",
                "≥ 1.0",
                false,
            ),
        ];
        for &(product, version, label, known) in rows {
            let l = library(&props(product, "Python", version)).unwrap();
            assert_eq!(
                (l.row.label.as_str(), l.version_known),
                (label, known),
                "{version}"
            );
        }
        let l = library(&props("Pika Python Client Library", "Python", "1.3.2")).unwrap();
        assert_eq!(l.label(Some("1.3.2")), "pika 1.3.2");
        let l = library(&props("RabbitMQ", "Java", "5.16.0")).unwrap();
        assert_eq!(l.label(Some("5.16.0")), "Java client 5.16.0");
    }

    fn samples(rows: &[(u64, u64)]) -> Vec<RateSample> {
        rows.iter()
            .map(|&(at_ms, value)| RateSample { at_ms, value })
            .collect()
    }

    #[test]
    fn silence_from_samples() {
        // (samples newest first as the API sends them, connected_at, live
        // recv_oct) → (silent_ms, observed_ms, whole_window)
        type Row = (
            Vec<(u64, u64)>,
            Option<u64>,
            Option<u64>,
            Option<(u64, u64, bool)>,
        );
        let rows: Vec<Row> = vec![
            // Talking: the counter grows every sample.
            (
                vec![(20_000, 30), (15_000, 20), (10_000, 10)],
                None,
                Some(30),
                Some((0, 10_000, false)),
            ),
            // Quiet since 10 s, observed since 5 s.
            (
                vec![
                    (25_000, 9),
                    (20_000, 9),
                    (15_000, 9),
                    (10_000, 9),
                    (5_000, 4),
                ],
                None,
                Some(9),
                Some((15_000, 20_000, false)),
            ),
            // Quiet over everything observed.
            (
                vec![(25_000, 9), (20_000, 9), (15_000, 9)],
                None,
                None,
                Some((10_000, 10_000, true)),
            ),
            // The padding before the connection opened is not a silence.
            (
                vec![(25_000, 9), (20_000, 9), (15_000, 0), (10_000, 0)],
                Some(17_000),
                Some(9),
                Some((5_000, 5_000, true)),
            ),
            // Bytes came after the newest sample.
            (
                vec![(25_000, 9), (20_000, 9)],
                None,
                Some(12),
                Some((0, 5_000, false)),
            ),
            // One usable sample says nothing.
            (vec![(25_000, 9), (20_000, 0)], Some(21_000), Some(9), None),
            (vec![], None, None, None),
        ];
        for (input, connected, live, want) in rows {
            let got = silence(&samples(&input), connected, live)
                .map(|s| (s.silent_ms, s.observed_ms, s.whole_window));
            assert_eq!(got, want, "{input:?} connected {connected:?} live {live:?}");
        }
    }

    fn conn(t: Option<u16>, state: &str, recv: &[(u64, u64)]) -> BrokerConnection {
        BrokerConnection {
            name: "127.0.0.1:54994 -> 127.0.0.1:5672".into(),
            kind: Some("network".into()),
            peer_host: Some("127.0.0.1".into()),
            peer_port: Some(54994),
            host: Some("127.0.0.1".into()),
            port: Some(5672),
            state: Some(crate::vocab::audit::ConnState::parse(state)),
            heartbeat: t.map(Heartbeat::from_secs),
            client: props("Pika Python Client Library", "Python 3.11.7", "1.3.2"),
            recv_oct: recv.first().map(|s| s.1),
            recv_samples: samples(recv),
            ..Default::default()
        }
    }

    #[test]
    fn flags_per_connection() {
        let quiet_70s: Vec<(u64, u64)> = (0..15).map(|i| (100_000 - i * 5000, 378)).collect();
        let talking: Vec<(u64, u64)> = (0..15).map(|i| (100_000 - i * 5000, 1000 - i)).collect();
        let quiet_15s: Vec<(u64, u64)> = (0..8)
            .map(|i| (100_000 - i * 5000, if i <= 3 { 500 } else { 400 }))
            .collect();
        // A live T = 20 s client: its counter moves with each beat, T/2 apart.
        let beating_every_10s: Vec<(u64, u64)> = (0..8)
            .map(|i| (100_000 - i * 5000, 900 - (i / 2) * 8))
            .collect();
        let rows: Vec<(BrokerConnection, Vec<Flag>)> = vec![
            (conn(Some(60), "running", &talking), vec![]),
            (
                conn(Some(60), "running", &quiet_70s),
                vec![Flag::SilentLongerThanT],
            ),
            (conn(Some(90), "running", &quiet_70s), vec![]),
            (
                conn(Some(0), "running", &quiet_70s),
                vec![Flag::HeartbeatOff],
            ),
            (conn(Some(60), "blocked", &talking), vec![Flag::Blocked]),
            (conn(Some(60), "blocking", &talking), vec![Flag::Blocked]),
            (
                conn(Some(60), "flow", &quiet_70s),
                vec![Flag::SilentLongerThanT, Flag::Blocked],
            ),
            (conn(None, "running", &quiet_70s), vec![]),
            // Issue 20 item 5: a long silence is one at any T…
            (
                conn(Some(2), "running", &quiet_70s),
                vec![Flag::SilentLongerThanT],
            ),
            (
                conn(Some(10), "running", &quiet_70s),
                vec![Flag::SilentLongerThanT],
            ),
            // …and the counters' one-sample lag counts: 15 s in the
            // samples is 20 s on the wire, T = 20 s.
            (
                conn(Some(20), "running", &quiet_15s),
                vec![Flag::SilentLongerThanT],
            ),
            (conn(Some(20), "running", &beating_every_10s), vec![]),
            (
                BrokerConnection {
                    kind: Some("direct".into()),
                    ..conn(Some(0), "running", &[])
                },
                vec![],
            ),
        ];
        for (c, want) in rows {
            assert_eq!(judge(&c).flags, want, "{c:?}");
        }
        // …but at T = 2 s a starving connection is gone before the samples
        // can show it: said, not left as an empty flag list.
        let short = judge(&conn(Some(2), "running", &talking));
        assert!(
            short
                .notes
                .iter()
                .any(|n| n.contains("too short") && n.contains("scan --watch")),
            "{:?}",
            short.notes
        );
    }

    #[test]
    fn talking_means_bytes_after_the_first_exchanges() {
        // (T, connected_at, samples newest first) → talking
        type Row<'a> = (u16, u64, &'a [(u64, u64)], bool);
        let rows: &[Row] = &[
            // A pumped client: bytes in the last sample, long after connecting.
            (20, 0, &[(100_000, 900), (95_000, 890), (90_000, 890)], true),
            // A starving one: quiet since its handshake.
            (
                60,
                88_000,
                &[(100_000, 466), (95_000, 466), (90_000, 400)],
                false,
            ),
            // A young one: its bytes are the handshake.
            (
                60,
                80_000,
                &[(100_000, 466), (95_000, 400), (90_000, 0)],
                false,
            ),
            // Quiet for longer than T/2.
            (20, 0, &[(100_000, 9), (85_000, 9), (80_000, 8)], false),
        ];
        for &(t, connected, recv, want) in rows {
            let c = BrokerConnection {
                connected_at_ms: Some(connected),
                ..conn(Some(t), "running", recv)
            };
            let s = silence(&c.recv_samples, c.connected_at_ms, c.recv_oct);
            assert_eq!(talking(&c, s, Heartbeat::from_secs(t)), want, "{recv:?}");
        }
    }

    #[test]
    fn advice_names_the_library_and_the_explain_topic() {
        let j = judge(&conn(Some(60), "running", &[]));
        assert_eq!(
            j.advice[0],
            "pika 1.3.2 with heartbeat 60 from 127.0.0.1:54994: a BlockingConnection in a \
             publish-only app starves: pika sends heartbeats only inside its own calls, and \
             RabbitMQ drops it 2T–3T (120 s–180 s) after its last byte; see `amqpdoctor explain \
             pika-blocking`"
        );
        assert!(j.advice[1].starts_with("remedy: "), "{:?}", j.advice);
        let j = judge(&conn(Some(0), "running", &[]));
        assert!(
            j.advice[0].starts_with(
                "heartbeat 0 from 127.0.0.1:54994: exposed to middlebox idle timeouts"
            ),
            "{:?}",
            j.advice
        );
        let j = judge(&conn(Some(2), "running", &[]));
        assert!(
            j.advice.iter().any(|a| a.contains("below 5 s")),
            "{:?}",
            j.advice
        );
        // Every topic the advice points to exists.
        for t in [Some(0), Some(2), Some(60)] {
            for state in ["running", "blocked", "flow"] {
                let quiet: Vec<(u64, u64)> = (0..15).map(|i| (100_000 - i * 5000, 1)).collect();
                for a in judge(&conn(t, state, &quiet)).advice {
                    if let Some((_, rest)) = a.split_once("amqpdoctor explain ") {
                        let topic = rest.trim_end_matches('`').split('`').next().unwrap();
                        assert!(
                            knowledge::lookup(topic).is_ok(),
                            "{topic} in {a:?} is not an explain topic"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn an_amqp_0_8_connection_is_told_it_stops_at_rabbitmq_4() {
        // py-amqplib 1.0.2 as RabbitMQ 3.10.8's API showed it (measured)
        let mut c = conn(Some(0), "running", &[]);
        c.protocol = Some("AMQP 0-8".into());
        c.client = ClientProperties {
            product: Some("Python amqplib".into()),
            version: Some("1.0.2".into()),
            ..Default::default()
        };
        let j = judge(&c);
        assert_eq!(j.flags, vec![Flag::HeartbeatOff]);
        assert!(
            j.advice[1].starts_with("py-amqplib cannot have heartbeats (it answers every Tune"),
            "{:?}",
            j.advice
        );
        assert!(
            j.advice
                .iter()
                .any(|a| a.starts_with("127.0.0.1:54994 speaks AMQP 0-8, not 0-9-1: RabbitMQ 4.0")),
            "{:?}",
            j.advice
        );
        // Mono's RabbitMQ.Client names itself as the .NET client does; its
        // 0-8 tells it apart (as RabbitMQ 3.10.8's API showed it, measured).
        let dotnet = |protocol: &str| ClientProperties {
            protocol: Some(protocol.into()),
            ..props("RabbitMQ", ".NET", "4.0.0.0")
        };
        assert_eq!(
            library_id(&dotnet("AMQP 0-8")).map(|(id, _)| id),
            Some("dotnet-mono")
        );
        assert_eq!(
            library_id(&dotnet("AMQP 0-9-1")).map(|(id, _)| id),
            Some("dotnet")
        );
        // 0-9-1 (and 0-9, which RabbitMQ 4 still reads as 0-9-1) says nothing of it
        for p in ["AMQP 0-9-1", "AMQP 0-9"] {
            c.protocol = Some(p.into());
            assert!(!judge(&c).advice.iter().any(|a| a.contains("speaks AMQP")));
        }
    }

    #[test]
    fn endpoints_normalise() {
        let same = [
            ("127.0.0.1:5672", "127.0.0.1:5672"),
            ("[::ffff:127.0.0.1]:5672", "127.0.0.1:5672"),
            ("localhost:5672", "127.0.0.1:5672"),
            ("LOCALHOST:5672", "127.0.0.1:5672"),
            ("[::1]:5672", "[::1]:5672"),
            ("Broker.Example:5672", "broker.example:5672"),
        ];
        for (a, b) in same {
            assert_eq!(endpoint(a), endpoint(b), "{a} vs {b}");
            assert!(endpoint(a).is_some(), "{a}");
        }
        assert_ne!(endpoint("[::1]:5672"), endpoint("127.0.0.1:5672"));
        assert_ne!(endpoint("127.0.0.1:5672"), endpoint("127.0.0.1:5673"));
        for bad in ["", "127.0.0.1", "h:port", "h:70000"] {
            assert_eq!(endpoint(bad), None, "{bad}");
        }
        assert_eq!(Host::parse("::ffff:10.0.0.1"), Host::parse("10.0.0.1"));
    }

    #[test]
    fn which_side_went_quiet_first() {
        let t = |s| Some(Heartbeat::from_secs(s));
        // (last_sent_ms, last_received_ms, T) → side
        type Row = (Option<u64>, Option<u64>, Option<Heartbeat>, QuietFirst);
        let rows: &[Row] = &[
            (Some(50_000), Some(5_000), t(60), QuietFirst::Application),
            (Some(400), Some(600), t(2), QuietFirst::Neither),
            (Some(25_000), Some(2_000), t(60), QuietFirst::Neither),
            (Some(3_000), Some(9_000), t(0), QuietFirst::Broker),
            (Some(3_000), Some(9_000), None, QuietFirst::Broker),
            (Some(9_000), Some(8_500), t(0), QuietFirst::Neither),
            (None, Some(9_000), t(60), QuietFirst::Unknown),
        ];
        for &(sent, received, t, want) in rows {
            assert_eq!(
                quiet_first(sent, received, t),
                want,
                "{sent:?} {received:?} {t:?}"
            );
        }
    }

    #[test]
    fn join_by_address_pair() {
        let broker = vec![
            conn(Some(60), "running", &[]),
            BrokerConnection {
                peer_port: Some(40000),
                ..conn(Some(60), "running", &[])
            },
            BrokerConnection {
                peer_host: Some("::ffff:127.0.0.1".into()),
                peer_port: Some(40001),
                ..conn(Some(60), "running", &[])
            },
        ];
        let rec = |local: &str, remote: &str| ScanRecord {
            local: Some(local.into()),
            remote: Some(remote.into()),
            ..Default::default()
        };
        let scan = vec![
            rec("127.0.0.1:40001", "localhost:5672"),
            rec("[::ffff:127.0.0.1]:54994", "127.0.0.1:5672"),
            rec("127.0.0.1:40000", "127.0.0.1:5673"),
            rec("127.0.0.1:54994", "127.0.0.1:5672"),
        ];
        let j = join(&broker, &scan);
        assert_eq!(j.matched, vec![(0, 1), (2, 0)]);
        assert_eq!(j.broker_only, vec![1]);
        assert_eq!(j.scan_only, vec![2, 3]);
    }

    #[test]
    fn api_failures_say_what_to_try() {
        use ApiFailureKind as K;
        let rows: Vec<(ApiFailureKind, &str)> = vec![
            (
                K::Network {
                    errno: Some(111),
                    detail: "connection refused (ECONNREFUSED)".into(),
                },
                "rabbitmq-plugins enable rabbitmq_management",
            ),
            (
                K::Status {
                    code: 401,
                    reason: Some("Unauthorized".into()),
                    location: None,
                },
                "HTTP 401 Unauthorized — the management API refused user `mon`",
            ),
            (
                K::Status {
                    code: 404,
                    reason: None,
                    location: None,
                },
                "is this the management API?",
            ),
            (
                K::Status {
                    code: 301,
                    reason: None,
                    location: Some("https://u:S3cr3tPw@h/".into()),
                },
                "redirects to https://u:***@h/",
            ),
            (K::Timeout { after_ms: 5000 }, "within 5 s (--timeout)"),
            (K::TooLarge { limit: 16 << 20 }, "larger than 16 MiB"),
        ];
        for (kind, want) in rows {
            let f = ApiFailure {
                url: "http://mon:***@h:15672/api/overview".into(),
                user: "mon".into(),
                kind,
            };
            let line = f.to_string();
            assert!(
                line.starts_with("reading http://mon:***@h:15672/api/overview: "),
                "{line}"
            );
            assert!(line.contains(want), "{line} lacks {want}");
            assert!(!line.contains('\n') && !line.contains("S3cr3tPw"), "{line}");
        }
    }

    #[test]
    fn scan_files_are_read_leniently() {
        let text = r#"{"tool":"amqpdoctor","connections":[{"pid":7,"command":"python3",
            "local":"127.0.0.1:1","remote":"127.0.0.1:5672","state":"ESTABLISHED",
            "last_sent_ms":10,"last_received_ms":null,"inferred_heartbeat_s":null,
            "classification":"healthy","drop_window_s":[120,180],"future_field":{"x":1}},
            {"local":"127.0.0.1:2"}],"other":true}"#;
        let f: ScanFile = serde_json::from_str(text).unwrap();
        assert_eq!(f.connections.len(), 2);
        assert_eq!(f.connections[0].drop_window_s, Some([120, 180]));
        assert_eq!(f.connections[1].remote, None);
        let empty: ScanFile = serde_json::from_str("{}").unwrap();
        assert!(empty.connections.is_empty());
    }
}
