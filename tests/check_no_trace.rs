//! `check` leaves nothing on the broker: after passing and failing checks
//! (by expectation, and by a step failing with the connection still open)
//! the broker has no queue and no connection it did not have before.
//!
//! A test binary of its own: cargo runs test binaries one at a time, so no
//! other test's connections come and go while the broker is compared.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{amqpdoctor, broker_url, list_connections, list_queues, require_broker};

fn snapshot() -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    (
        list_queues().into_iter().collect(),
        list_connections().into_iter().collect(),
    )
}

#[test]
fn passing_and_failing_checks_leave_nothing_behind() {
    require_broker();
    let url = broker_url();
    let (queues_before, conns_before) = snapshot();
    let runs: [(&[&str], i32); 4] = [
        (&[&url], 0),
        (&[&url, &url, &url, &url, &url], 0),
        (&[&url, "--expect-heartbeat", "1s..2s"], 1),
        (&[&url, "--exchange", "amqpdoctor.test.no-such-exchange"], 1),
    ];
    for (args, want) in runs {
        let out = amqpdoctor().arg("check").args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(want),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    // The broker drops a closed connection and its exclusive queue a moment
    // after Close-Ok; give it a few seconds before calling anything left.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (queues, conns) = snapshot();
        let new_queues: Vec<_> = queues.difference(&queues_before).collect();
        let new_conns: Vec<_> = conns.difference(&conns_before).collect();
        if new_queues.is_empty() && new_conns.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "left behind: queues {new_queues:?}, connections {new_conns:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // And no check queue of any run, whatever existed before.
    assert!(
        !list_queues()
            .iter()
            .any(|q| q.starts_with("amqpdoctor.check.")),
        "{:?}",
        list_queues()
    );
}
