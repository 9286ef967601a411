//! amqpdoctor: finds out why AMQP 0-9-1 connections die, and explains it.
//!
//! # Layout
//!
//! Data flows one way: the network layer records a [`timeline::Timeline`],
//! the pure classifier turns it into a verdict, renderers turn the report into
//! text. Nothing downstream reaches back into a socket. Modules are layered;
//! each may use the layers below it and none above or beside it (a test,
//! `tests/layers.rs`, enforces it; docs/architecture.md draws it):
//!
//! ```text
//!   commands/   one file per subcommand: parse → run → report → emit
//!   report/     report types, renderers (human, json, junit, markdown, prometheus), emit, progress
//!   run/        the run driver: one loop over a Connection trait; modes are policies
//!   classify/   pure: timeline + negotiated values → verdict (prose in narrate)
//!   knowledge   pure: data/knowledge/*.toml (errno, replies, clients by version, log lines)
//!   wire/ observe   network: frames, handshake, socket observer; typed errors, no verdicts
//!   cli  error  target  timeline  vocab   the leaves everyone may use
//! ```
//!
//! | module | what lives there |
//! |---|---|
//! | [`vocab`] | the shared vocabulary: modes, verdict codes, T, stages, ops, failures |
//! | [`timeline`] | events in ms since connect, heartbeat counts, publish records |
//! | [`target`] | URL parsing, defaults |
//! | [`error`] | the tool's own failures and their exit codes |
//! | [`cli`] | clap definitions: every flag, its help and its value parser |
//! | [`wire`] | our own AMQP 0-9-1 client on amq-protocol frames |
//! | [`observe`] | socket observer: times RST/FIN on a socket nobody reads (poll + TCP_INFO) |
//! | [`knowledge`] | data/knowledge/*.toml with sources; negotiation rules; lookup; generated docs |
//! | [`classify`] | pure: errno classes, end kinds, predictions, verdicts |
//! | [`run`] | the run driver and its clients (wire, lapin); `heartbeat --observe` |
//! | [`report`] | `Report -> String` renderers, the one stdout path, progress |
//! | [`commands`] | one file per subcommand |

pub mod classify;
pub mod cli;
pub mod commands;
pub mod error;
pub mod knowledge;
pub mod observe;
pub mod report;
pub(crate) mod run;
pub mod target;
pub mod timeline;
pub mod vocab;
pub mod wire;
