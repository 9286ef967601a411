//! amqpdoctor: finds out why AMQP 0-9-1 connections die, and explains it.
//!
//! # Layout
//!
//! Data flows one way: the network layer records a [`timeline::Timeline`],
//! the pure classifier turns it into a verdict, renderers turn the report into
//! text. Nothing downstream reaches back into a socket.
//!
//! | module | what lives there |
//! |---|---|
//! | [`cli`] | clap definitions: every flag, its help and its value parser |
//! | [`target`] | URL parsing, defaults, password redaction |
//! | [`wire`] | our own AMQP 0-9-1 client on amq-protocol frames (starved, disabled, heartbeat) |
//! | [`observe`] | socket observer: times RST/FIN on a socket nobody reads (poll + TCP_INFO) |
//! | [`modes`] | the three heartbeat modes, one file each |
//! | [`timeline`] | events in ms since connect, heartbeat counts |
//! | [`classify`] | pure: errno classes, end kinds, predictions, verdicts |
//! | [`knowledge`] | pure tables: errno, reply codes, client libraries, log lines |
//! | [`report`] | `Report -> String` renderers: human, json |
//! | [`commands`] | one file per subcommand |
//! | [`error`] | the tool's own failures and their exit codes |

pub mod classify;
pub mod cli;
pub mod commands;
pub mod error;
pub mod knowledge;
pub mod modes;
pub mod observe;
pub mod report;
pub mod target;
pub mod timeline;
pub mod wire;
