//! Which library sent a connection's client properties, and its row in
//! the knowledge base.

use crate::knowledge::{self, ClientLib, ClientVersion};
use crate::vocab::audit::ClientProperties;
use crate::vocab::check::parse_version;

/// The knowledge base's id for the library that sent these properties,
/// and its short name (data/knowledge/clients.toml, `[[client.signature]]`).
pub fn library_id(client: &ClientProperties) -> Option<(&'static str, &'static str)> {
    let product = client.product.as_deref()?;
    let platform = client.platform.as_deref().unwrap_or("");
    let protocol = client.protocol.as_deref().unwrap_or("");
    knowledge::client_by_properties(product, platform, protocol)
        .map(|(lib, called)| (lib.id.as_str(), called))
}

/// A library recognised, with the row for its version.
#[derive(Debug, Clone, Copy)]
pub struct Library {
    pub lib: &'static ClientLib,
    pub row: &'static ClientVersion,
    /// What to call it: `pika`, `Java client`.
    pub short: &'static str,
    /// The version named a row; false: the newest row stands in.
    pub version_known: bool,
}

impl Library {
    /// `pika 1.3.2`: the short name and the version as sent.
    pub fn label(&self, version: Option<&str>) -> String {
        match version {
            Some(v) => format!("{} {v}", self.short),
            None => self.short.to_string(),
        }
    }
}

/// The library and its behaviour at this version.
pub fn library(client: &ClientProperties) -> Option<Library> {
    let (id, short) = library_id(client)?;
    let lib = knowledge::client(id)?;
    let row = client
        .version
        .as_deref()
        .and_then(parse_version)
        .and_then(|v| lib.at(&v));
    Some(Library {
        lib,
        row: row.unwrap_or_else(|| lib.latest()),
        short,
        version_known: row.is_some(),
    })
}
