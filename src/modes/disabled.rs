//! disabled: Tune-Ok heartbeat 0, whatever the server proposed.
//!
//! RabbitMQ adopts the client's value, so neither side sends heartbeats or
//! watches for silence. The connection survives on a clean path — and is
//! exposed to every middlebox that drops idle flows.

use super::experiment::{self, Policy};
use super::{RunOutcome, RunSpec};
use crate::cli::HeartbeatRequest;

pub async fn run(spec: RunSpec) -> RunOutcome {
    let policy = Policy {
        tune_ok: HeartbeatRequest::Seconds(0),
        pump_every: None,
    };
    experiment::run(spec, policy).await
}
