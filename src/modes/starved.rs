//! starved: the heartbeat is agreed, then never serviced.
//!
//! This reproduces pika's BlockingConnection without process_data_events(),
//! kombu without heartbeat_check(), php-amqplib in a publish-only web
//! request: Tune-Ok carries the requested heartbeat (by default the
//! server's proposal), then the client neither sends heartbeats nor reads
//! until the idle ends. `--pump-every DUR` models the remedy: every DUR it
//! reads what has arrived and answers with a heartbeat.

use super::experiment::{self, Policy};
use super::{RunOutcome, RunSpec};

pub async fn run(spec: RunSpec) -> RunOutcome {
    let policy = Policy {
        tune_ok: spec.heartbeat,
        pump_every: spec.pump_every,
    };
    experiment::run(spec, policy).await
}
