//! (in progress)

pub mod explain;
