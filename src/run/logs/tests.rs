use std::io::Write;
use std::path::PathBuf;

use super::*;
use crate::classify::logs::Cause;

/// Lines the local RabbitMQ 3.10.8 wrote (/var/log/rabbitmq), pids and
/// ports as they were.
const LOCAL: &str = "\
2026-12-04 17:45:11.538315+00:00 [info] <0.788.0> accepting AMQP connection <0.788.0> (127.0.0.1:52780 -> 127.0.0.1:5672)
2026-12-04 17:45:11.538900+00:00 [info] <0.788.0> connection <0.788.0> (127.0.0.1:52780 -> 127.0.0.1:5672): user 'guest' authenticated and granted access to vhost '/'
2026-12-04 17:45:11.600000+00:00 [info] <0.900.0> Feature flags: something unrelated
2026-12-04 17:45:14.539715+00:00 [error] <0.788.0> closing AMQP connection <0.788.0> (127.0.0.1:52780 -> 127.0.0.1:5672):
2026-12-04 17:45:14.539715+00:00 [error] <0.788.0> missed heartbeats from client, timeout: 1s
2026-12-04 17:45:18.248298+00:00 [info] <0.793.0> accepting AMQP connection <0.793.0> (127.0.0.1:49126 -> 127.0.0.1:5672)
2026-12-04 17:45:18.250329+00:00 [warning] <0.793.0> closing AMQP connection <0.793.0> (127.0.0.1:49126 -> 127.0.0.1:5672):
2026-12-04 17:45:18.250329+00:00 [warning] <0.793.0> client unexpectedly closed TCP connection
";

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("amqpdoctor-logs-unit-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn gz(text: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text).unwrap();
    e.finish().unwrap()
}

fn spec(paths: Vec<PathBuf>) -> LogsSpec {
    LogsSpec {
        paths,
        filter: Filter::default(),
        cancelled: Box::new(|| false),
    }
}

#[test]
fn lines_are_bounded() {
    let mut r: &[u8] = b"one\r\ntwo-is-long\nthree";
    let mut buf = Vec::new();
    assert_eq!(read_line(&mut r, &mut buf, 5).unwrap(), Some(false));
    assert_eq!(buf, b"one");
    assert_eq!(read_line(&mut r, &mut buf, 5).unwrap(), Some(true));
    assert_eq!(buf, b"two-i");
    assert_eq!(read_line(&mut r, &mut buf, 5).unwrap(), Some(false));
    assert_eq!(buf, b"three");
    assert_eq!(read_line(&mut r, &mut buf, 5).unwrap(), None);
}

#[test]
fn rotated_gzip_and_plain_of_one_node_in_order() {
    let (old, new) = LOCAL.split_at(LOCAL.find("2026-12-04 17:45:18.248").unwrap());
    let a = temp("rabbit@a.log.1.gz");
    let b = temp("rabbit@a.log");
    std::fs::write(&a, gz(old.as_bytes())).unwrap();
    std::fs::write(&b, new).unwrap();
    let mut deaths = Vec::new();
    let o = read(&spec(vec![b.clone(), a.clone()]), |n, c| {
        deaths.push((n.to_string(), c.cause))
    })
    .unwrap();
    assert_eq!(o.nodes, ["rabbit@a"]);
    assert_eq!(
        deaths,
        [
            ("rabbit@a".to_string(), Cause::BrokerHeartbeatTimeout),
            ("rabbit@a".to_string(), Cause::ClosedDuringHandshake)
        ]
    );
    assert_eq!(o.summary.opened, 2);
    assert_eq!(
        o.files[0].path,
        a.display().to_string(),
        "the older file first"
    );
    assert!(o.files.iter().all(|f| f.error.is_none()));
}

#[test]
fn a_truncated_gzip_is_said_and_the_rest_is_read() {
    let whole = gz(LOCAL.as_bytes());
    let cut = temp("rabbit@t.log.2.gz");
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let o = read(&spec(vec![cut]), |_, _| {}).unwrap();
    let e = o.files[0].error.as_deref().unwrap_or("");
    assert!(e.contains("truncated") || e.contains("gzip"), "{e}");
}

#[test]
fn binary_junk_and_docker_json_lines() {
    let mut junk: Vec<u8> = (0..=255u8).cycle().take(50_000).collect();
    junk.push(b'\n');
    // docker's json-file escapes < and > (Go's encoding/json).
    for l in LOCAL.lines() {
        let esc = l.replace('<', "\\u003c").replace('>', "\\u003e");
        junk.extend_from_slice(format!("{{\"log\":\"{esc}\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-04T17:45:11.5Z\"}}\n").as_bytes());
    }
    let f = temp("docker.log");
    std::fs::write(&f, junk).unwrap();
    let mut n = 0;
    let o = read(&spec(vec![f]), |_, _| n += 1).unwrap();
    assert_eq!(n, 2, "both deaths through docker's JSON");
    assert_eq!(o.summary.opened, 2);
}

#[test]
fn two_nodes_merge_by_time_and_keep_their_pids_apart() {
    let a = temp("rabbit@n1.log");
    let b = temp("rabbit@n2.log");
    std::fs::write(&a, LOCAL).unwrap();
    // The same pids on another node: not the same connections.
    std::fs::write(&b, LOCAL.replace("17:45:1", "17:45:2")).unwrap();
    let mut seen = Vec::new();
    let o = read(&spec(vec![a, b]), |n, c| {
        seen.push((n.to_string(), c.closed_ms))
    })
    .unwrap();
    assert_eq!(o.nodes.len(), 2);
    assert_eq!(seen.len(), 4);
    assert!(seen.windows(2).all(|w| w[0].1 <= w[1].1), "{seen:?}");
    assert_eq!(o.closes_without_open, 0);
}

#[test]
fn filters() {
    let f = temp("rabbit@f.log");
    std::fs::write(&f, LOCAL).unwrap();
    let mut s = spec(vec![f]);
    s.filter.peer = Some("127.0.0.1:49126".into());
    let mut n = Vec::new();
    read(&s, |_, c| n.push(c.cause)).unwrap();
    assert_eq!(n, [Cause::ClosedDuringHandshake], "never authenticated");
    s.filter.peer = None;
    s.filter.since_ms = crate::classify::logs::time::parse_iso("2026-12-04 17:45:16Z").map(|p| p.0);
    let mut n = Vec::new();
    read(&s, |_, c| n.push(c.cause)).unwrap();
    assert_eq!(n, [Cause::ClosedDuringHandshake], "never authenticated");
}
