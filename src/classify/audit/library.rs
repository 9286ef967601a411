//! Which library sent a connection's client properties, and its row in
//! the knowledge base.

use crate::knowledge::{self, ClientLib, ClientVersion};
use crate::vocab::audit::ClientProperties;
use crate::vocab::check::parse_version;

/// How to compare a client property with a signature.
#[derive(Debug, Clone, Copy)]
enum Text {
    /// Equal, ignoring case.
    Is(&'static str),
    /// Contains, ignoring case.
    Has(&'static str),
}

impl Text {
    fn matches(self, s: &str) -> bool {
        let s = s.trim().to_lowercase();
        match self {
            Text::Is(t) => s == t,
            Text::Has(t) => s.contains(t),
        }
    }
}

/// How a library names itself in its client properties (product, then
/// platform when the product is ambiguous), its entry in
/// data/knowledge/clients.toml, and what to call it in a sentence. First
/// match wins. Applications may override `product`; a connection that does
/// is not recognised.
const SIGNATURES: &[(Text, Option<Text>, &str, &str)] = &[
    // "Pika Python Client Library", the same for every adapter.
    (Text::Has("pika"), None, "pika-blocking", "pika"),
    (Text::Is("aiormq"), None, "aio-pika", "aiormq"),
    // py-amqp, under kombu and Celery; its version is `product_version`.
    (Text::Is("py-amqp"), None, "kombu", "py-amqp"),
    (
        Text::Is("amqplib"),
        Some(Text::Has("node")),
        "node-amqplib",
        "amqplib",
    ),
    // php-amqplib says "AMQPLib" on platform "PHP".
    (
        Text::Is("amqplib"),
        Some(Text::Is("php")),
        "php-amqplib",
        "php-amqplib",
    ),
    (Text::Is("rabbitmq-c"), None, "rabbitmq-c", "rabbitmq-c"),
    (
        Text::Is("amqp 0.9.1 client"),
        Some(Text::Is("golang")),
        "go-amqp091",
        "amqp091-go",
    ),
    (
        Text::Has("streadway/amqp"),
        None,
        "go-streadway",
        "streadway/amqp",
    ),
    (
        Text::Is("rabbitmq"),
        Some(Text::Has("java")),
        "java",
        "Java client",
    ),
    (
        Text::Is("rabbitmq"),
        Some(Text::Has(".net")),
        "dotnet",
        ".NET client",
    ),
    (Text::Is("bunny"), None, "bunny", "Bunny"),
    (Text::Is("lapin"), None, "lapin", "lapin"),
];

/// The knowledge base's id for the library that sent these properties,
/// and its short name.
pub fn library_id(client: &ClientProperties) -> Option<(&'static str, &'static str)> {
    let product = client.product.as_deref()?;
    let platform = client.platform.as_deref().unwrap_or("");
    SIGNATURES
        .iter()
        .find(|(p, pl, _, _)| p.matches(product) && pl.is_none_or(|pl| pl.matches(platform)))
        .map(|(_, _, id, short)| (*id, *short))
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
