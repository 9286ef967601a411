//! The management API's JSON, read leniently into typed structs with a
//! bounded footprint (issue 24 item 5).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::Overview;
use crate::classify::audit::{BrokerConnection, ClientProperties, RateSample};
use crate::vocab::audit::ConnState;
use crate::vocab::Heartbeat;

// ---------------------------------------------------------------------------
// The API's JSON, read leniently: a field of an unexpected type reads as
// absent instead of failing the whole answer.

//
// Memory stays bounded by the body (issue 24 item 5): nothing is read into
// a `serde_json::Value` tree (a 16 MiB body of tiny elements made 6.4 GB of
// them). An array is kept as borrowed slices of the body, at most N, and
// each element is parsed by itself into typed structs that skip unknown
// fields; a field is parsed from its own slice, so a wrong type costs
// nothing but that field.

/// At most this many connections are read from one answer; the rest are
/// skipped and counted (the report says so). With the report built from
/// them this keeps a 16 MiB answer of empty rows under 64 MiB of RSS.
pub const MAX_CONNECTIONS: usize = 10_000;

/// At most this many samples per connection (600 s of 5 s samples is 121).
const MAX_SAMPLES: usize = 1024;

fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    let raw = <&serde_json::value::RawValue>::deserialize(d)?;
    Ok(serde_json::from_str(raw.get()).ok())
}

/// A JSON array as at most `N` borrowed slices of the body; past `N`,
/// elements are skipped (never stored) and counted.
pub(super) struct Capped<'a, const N: usize> {
    pub(super) items: Vec<&'a serde_json::value::RawValue>,
    pub(super) skipped: u64,
}

impl<'de: 'a, 'a, const N: usize> Deserialize<'de> for Capped<'a, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Seq<'a, const N: usize>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a, const N: usize> serde::de::Visitor<'de> for Seq<'a, N> {
            type Value = Capped<'a, N>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Capped {
                    items: Vec::new(),
                    skipped: 0,
                };
                while out.items.len() < N {
                    match seq.next_element::<&'de serde_json::value::RawValue>()? {
                        Some(item) => out.items.push(item),
                        None => return Ok(out),
                    }
                }
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    out.skipped += 1;
                }
                Ok(out)
            }
        }
        d.deserialize_seq(Seq(std::marker::PhantomData))
    }
}

/// One answer of `/api/connections?page=N&page_size=M` (RabbitMQ 3.6 and
/// later), or the plain array an older broker (or a proxy that drops the
/// query) sends.
pub(super) enum PageOf<'a, const N: usize> {
    Paged {
        items: Capped<'a, N>,
        page_count: u64,
        total_count: u64,
    },
    Whole(Capped<'a, N>),
}

#[derive(Deserialize)]
struct ApiPage<'a, const N: usize> {
    #[serde(borrow)]
    items: Capped<'a, N>,
    #[serde(default)]
    page_count: u64,
    #[serde(default)]
    total_count: u64,
}

/// `body` as a page or as a whole array.
pub(super) fn page_of<const N: usize>(body: &[u8]) -> Result<PageOf<'_, N>, serde_json::Error> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        return serde_json::from_slice(body).map(PageOf::Whole);
    }
    let p: ApiPage<'_, N> = serde_json::from_slice(body)?;
    Ok(PageOf::Paged {
        items: p.items,
        page_count: p.page_count,
        total_count: p.total_count,
    })
}

/// Each element parsed by itself: one that is not a connection is skipped.
pub(super) fn read_connections<const N: usize>(raw: &Capped<'_, N>) -> Vec<BrokerConnection> {
    raw.items
        .iter()
        .filter_map(|v| serde_json::from_str::<ApiConnection>(v.get()).ok())
        .map(ApiConnection::into_broker_connection)
        .collect()
}

/// `samples`, leniently and at most [`MAX_SAMPLES`] of them.
fn lenient_samples<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<ApiSample>>, D::Error> {
    let raw = <&serde_json::value::RawValue>::deserialize(d)?;
    let Ok(list) = serde_json::from_str::<Capped<MAX_SAMPLES>>(raw.get()) else {
        return Ok(None);
    };
    Ok(Some(
        list.items
            .iter()
            .filter_map(|s| serde_json::from_str(s.get()).ok())
            .collect(),
    ))
}

/// The first request's rows: only the heartbeat.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ApiTimeout {
    #[serde(default, deserialize_with = "lenient")]
    pub(super) timeout: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ApiOverview {
    #[serde(default, deserialize_with = "lenient")]
    product_name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    product_version: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    rabbitmq_version: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    management_version: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    cluster_name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    node: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    erlang_version: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    rates_mode: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    disable_stats: Option<bool>,
}

impl ApiOverview {
    pub(super) fn into_overview(self) -> Overview {
        Overview {
            // Before 3.8 the overview has no product_name: it is RabbitMQ.
            product: self
                .product_name
                .or_else(|| self.rabbitmq_version.as_ref().map(|_| "RabbitMQ".into())),
            version: self.product_version.or(self.rabbitmq_version),
            management_version: self.management_version,
            cluster_name: self.cluster_name,
            node: self.node,
            erlang_version: self.erlang_version,
            rates_mode: self.rates_mode,
            stats_disabled: self.disable_stats.unwrap_or(false),
            alarms: Vec::new(),
        }
    }
}

/// One node of `/api/nodes?columns=name,mem_alarm,disk_free_alarm`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ApiNode {
    #[serde(default, deserialize_with = "lenient")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    mem_alarm: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    disk_free_alarm: Option<bool>,
}

/// The most nodes read from `/api/nodes` (a cluster has a handful).
const MAX_NODES: usize = 256;

/// The alarms of `/api/nodes`' answer, in bounded memory like every other
/// answer: at most [`MAX_NODES`] elements, each parsed by itself.
pub(super) fn node_alarms(body: &[u8]) -> Vec<String> {
    let Ok(nodes) = serde_json::from_slice::<Capped<MAX_NODES>>(body) else {
        return Vec::new();
    };
    nodes
        .items
        .iter()
        .filter_map(|n| serde_json::from_str::<ApiNode>(n.get()).ok())
        .flat_map(|n| n.alarms())
        .collect()
}

impl ApiNode {
    /// `memory alarm on NODE`, `disk alarm on NODE`: the resource alarms
    /// that block every publishing connection of the cluster.
    pub(super) fn alarms(&self) -> Vec<String> {
        let node = self.name.as_deref().unwrap_or("a node");
        [(self.mem_alarm, "memory"), (self.disk_free_alarm, "disk")]
            .into_iter()
            .filter(|(on, _)| *on == Some(true))
            .map(|(_, what)| format!("{what} alarm on {node}"))
            .collect()
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ApiSample {
    #[serde(default, deserialize_with = "lenient")]
    sample: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    timestamp: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ApiDetails {
    #[serde(default, deserialize_with = "lenient")]
    rate: Option<f64>,
    #[serde(default, deserialize_with = "lenient_samples")]
    samples: Option<Vec<ApiSample>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ApiClientProperties {
    #[serde(default, deserialize_with = "lenient")]
    product: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    version: Option<String>,
    /// py-amqp's name for its version.
    #[serde(default, deserialize_with = "lenient")]
    product_version: Option<String>,
    /// py-amqplib's names for its product and version.
    #[serde(default, deserialize_with = "lenient")]
    library: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    library_version: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    platform: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    connection_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ApiConnection {
    #[serde(default, deserialize_with = "lenient")]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    node: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    peer_host: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    peer_port: Option<u16>,
    #[serde(default, deserialize_with = "lenient")]
    host: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    port: Option<u16>,
    #[serde(default, deserialize_with = "lenient")]
    user: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    vhost: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    protocol: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    ssl: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    ssl_protocol: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    state: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    channels: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    connected_at: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    timeout: Option<u16>,
    #[serde(default, deserialize_with = "lenient")]
    client_properties: Option<ApiClientProperties>,
    #[serde(default, deserialize_with = "lenient")]
    recv_oct: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    send_oct: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    recv_oct_details: Option<ApiDetails>,
    #[serde(default, deserialize_with = "lenient")]
    send_oct_details: Option<ApiDetails>,
}

impl ApiConnection {
    pub(super) fn into_broker_connection(self) -> BrokerConnection {
        let cp = self.client_properties.unwrap_or_default();
        let recv = self.recv_oct_details.unwrap_or_default();
        BrokerConnection {
            name: self.name.unwrap_or_default(),
            node: self.node,
            kind: self.kind,
            peer_host: self.peer_host,
            peer_port: self.peer_port,
            host: self.host,
            port: self.port,
            user: self.user,
            vhost: self.vhost,
            protocol: self.protocol.clone(),
            tls: self.ssl.unwrap_or(false),
            tls_protocol: self.ssl_protocol,
            state: self.state.as_deref().map(ConnState::parse),
            channels: self.channels,
            connected_at_ms: self.connected_at,
            heartbeat: self.timeout.map(Heartbeat::from_secs),
            client: ClientProperties {
                product: cp.product.or(cp.library),
                version: cp.version.or(cp.product_version).or(cp.library_version),
                platform: cp.platform,
                connection_name: cp.connection_name,
                protocol: self.protocol,
            },
            recv_oct: self.recv_oct,
            send_oct: self.send_oct,
            recv_rate: recv.rate,
            send_rate: self.send_oct_details.and_then(|d| d.rate),
            recv_samples: recv
                .samples
                .unwrap_or_default()
                .into_iter()
                .filter_map(|s| {
                    Some(RateSample {
                        at_ms: s.timestamp?,
                        value: s.sample?,
                    })
                })
                .collect(),
        }
    }
}
