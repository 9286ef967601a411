//! `logs`: RabbitMQ server logs read for connection lifecycles. Pure: the
//! reader (`run::logs`) hands lines in; nothing here does I/O.
//!
//! | file | concern |
//! |---|---|
//! | [`time`] | the timestamps the versions print, to ms since the epoch |
//! | [`parse`] | a line's shape (3.9+, 3.7–3.8, 3.6 reports, JSON; container prefixes) |
//! | [`record`] | lines into records: a head and the lines that continue it |
//! | [`event`] | a record's text into a connection or node event |
//! | [`cause`] | a close reason into a [`Cause`], through the knowledge base |
//! | [`lifecycle`] | the join by Erlang pid: opened, named, authenticated, closed |
//! | [`summary`] | bounded aggregates: per cause, peer, name, user, vhost; bursts |
//! | [`patterns`] | starving peers, idle timeouts on the path, bursts, reconnect storms |

pub mod cause;
pub mod event;
pub mod lifecycle;
pub mod parse;
pub mod patterns;
pub mod record;
pub mod summary;
pub mod time;

pub use cause::Cause;
#[cfg(test)]
pub use lifecycle::Tracker;
pub use patterns::{patterns, Pattern};
pub use summary::Summary;
