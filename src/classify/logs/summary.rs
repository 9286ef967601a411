//! Everything the report says, gathered as the steps go by, in bounded
//! memory: counts per cause, per peer host, per connection name, user and
//! vhost (each map at most [`MAX_KEYS`] keys, the rest under `(other)`),
//! lifetimes as log-scale histograms, the last [`MAX_KEPT`] abnormal
//! deaths in full, and the online state of the burst and storm detectors.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use super::cause::Cause;
use super::lifecycle::{host_of, Closed, NodeEvent, Step};

pub const MAX_KEYS: usize = 4096;
pub const MAX_KEPT: usize = 1000;
/// Deaths within this window, from at least [`BURST_PEERS`] peer hosts and
/// [`BURST_DEATHS`] in all, make a burst.
pub const BURST_WINDOW_MS: i64 = 10_000;
pub const BURST_DEATHS: usize = 5;
pub const BURST_PEERS: usize = 3;
/// A death after less than this lifetime, followed by an opening from the
/// same host within [`STORM_REOPEN_MS`], is one reconnect cycle.
pub const STORM_LIFETIME_MS: u64 = 60_000;
pub const STORM_REOPEN_MS: i64 = 10_000;
const OTHER: &str = "(other)";

/// Lifetimes in buckets 2% wide (ms).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hist {
    buckets: BTreeMap<u16, u64>,
    pub count: u64,
}

const GROWTH: f64 = 1.02;

impl Hist {
    pub fn add(&mut self, ms: u64) {
        let b = ((ms as f64 + 1.0).ln() / GROWTH.ln()) as u16;
        *self.buckets.entry(b).or_default() += 1;
        self.count += 1;
    }

    /// The q-quantile (0..=1), to within 2%.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((self.count as f64 - 1.0) * q).round() as u64;
        let mut seen = 0;
        for (b, n) in &self.buckets {
            seen += n;
            if seen > rank {
                return Some((GROWTH.powf(f64::from(*b) + 0.5) - 1.0).max(0.0) as u64);
            }
        }
        None
    }
}

/// One peer host's connections.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerStats {
    pub opened: u64,
    pub closed: u64,
    pub by_cause: BTreeMap<Cause, u64>,
    pub lifetimes: Hist,
    /// Lifetimes of abrupt deaths, whole seconds → count (bounded).
    pub abrupt_s: BTreeMap<u64, u32>,
    pub heartbeat_s: BTreeSet<u32>,
    pub names: BTreeSet<String>,
    last_death: Option<(i64, u64)>,
    /// Reconnect cycles: died young, reopened within [`STORM_REOPEN_MS`].
    pub quick_reopens: u64,
    pub first_death_ms: Option<i64>,
    pub last_death_ms: Option<i64>,
}

/// Per name / user / vhost: connections closed and abnormal deaths.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub closed: u64,
    pub abnormal: u64,
}

/// A burst of deaths across peers.
#[derive(Debug, Clone, PartialEq)]
pub struct Burst {
    pub start_ms: i64,
    pub end_ms: i64,
    pub deaths: u64,
    pub peers: BTreeSet<String>,
    pub by_cause: BTreeMap<Cause, u64>,
}

#[derive(Debug, Default)]
pub struct Summary {
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    pub opened: u64,
    pub closed: u64,
    pub by_cause: BTreeMap<Cause, u64>,
    pub peers: HashMap<String, PeerStats>,
    pub names: HashMap<String, Tally>,
    pub users: HashMap<String, Tally>,
    pub vhosts: HashMap<String, Tally>,
    pub lifetimes: Hist,
    /// The last [`MAX_KEPT`] abnormal deaths, oldest first.
    pub kept: VecDeque<Closed>,
    pub dropped_from_kept: u64,
    pub bursts: Vec<Burst>,
    pub node_events: Vec<(u16, i64, NodeEvent)>,
    /// The abnormal deaths of the last [`BURST_WINDOW_MS`] (at most
    /// [`MAX_WINDOW`]) and how many of them each host has.
    window: VecDeque<(i64, String)>,
    window_hosts: HashMap<String, u32>,
}

/// The most deaths the burst detector holds at once.
pub const MAX_WINDOW: usize = 4096;

fn slot<'m, V: Default>(map: &'m mut HashMap<String, V>, key: &str) -> &'m mut V {
    // Looked up before any key is allocated: most keys are seen before.
    let key = if map.contains_key(key) || map.len() < MAX_KEYS {
        key
    } else {
        OTHER
    };
    if !map.contains_key(key) {
        map.insert(key.to_string(), V::default());
    }
    map.get_mut(key).expect("inserted above")
}

impl Summary {
    /// A record's time seen (every record, for the span read).
    pub fn saw(&mut self, at_ms: i64) {
        self.first_ms = Some(self.first_ms.map_or(at_ms, |f| f.min(at_ms)));
        self.last_ms = Some(self.last_ms.map_or(at_ms, |l| l.max(at_ms)));
    }

    pub fn add(&mut self, step: Step) {
        match step {
            Step::Nothing => {}
            Step::Opened { peer, at_ms, .. } => self.opened_at(host_of(&peer), at_ms),
            Step::Closed(c) => self.closed(*c),
            Step::Node { node, at_ms, what } => {
                if self.node_events.len() < MAX_KEPT {
                    self.node_events.push((node, at_ms, what));
                }
            }
        }
    }

    fn opened_at(&mut self, host: &str, at_ms: i64) {
        self.opened += 1;
        let p = slot(&mut self.peers, host);
        p.opened += 1;
        if let Some((died, lifetime)) = p.last_death.take() {
            if at_ms - died <= STORM_REOPEN_MS && lifetime < STORM_LIFETIME_MS {
                p.quick_reopens += 1;
            }
        }
    }

    fn closed(&mut self, c: Closed) {
        self.closed += 1;
        *self.by_cause.entry(c.cause).or_default() += 1;
        let abnormal = u64::from(c.cause.abnormal());
        let life = c.lifetime_ms();
        if let Some(l) = life {
            self.lifetimes.add(l);
        }
        let host = host_of(&c.peer).to_string();
        self.peer_death(&host, &c, life);
        for (map, key) in [
            (&mut self.names, c.name.as_deref()),
            (&mut self.users, c.user.as_deref()),
            (&mut self.vhosts, c.vhost.as_deref()),
        ] {
            if let Some(k) = key {
                let t = slot(map, k);
                t.closed += 1;
                t.abnormal += abnormal;
            }
        }
        if c.cause.abnormal() {
            self.burst_step(c.closed_ms, &host, c.cause);
            if self.kept.len() >= MAX_KEPT {
                self.kept.pop_front();
                self.dropped_from_kept += 1;
            }
            self.kept.push_back(c);
        }
    }

    fn peer_death(&mut self, host: &str, c: &Closed, life: Option<u64>) {
        let p = slot(&mut self.peers, host);
        p.closed += 1;
        *p.by_cause.entry(c.cause).or_default() += 1;
        if let Some(l) = life {
            p.lifetimes.add(l);
            if c.cause.abrupt()
                && (p.abrupt_s.len() < MAX_KEYS || p.abrupt_s.contains_key(&(l / 1000)))
            {
                *p.abrupt_s.entry(l / 1000).or_default() += 1;
            }
        }
        if let Some(t) = c.heartbeat_s {
            if p.heartbeat_s.len() < 16 {
                p.heartbeat_s.insert(t);
            }
        }
        if let Some(n) = &c.name {
            if p.names.len() < 8 {
                p.names.insert(n.clone());
            }
        }
        if c.cause.abnormal() {
            p.first_death_ms.get_or_insert(c.closed_ms);
            p.last_death_ms = Some(c.closed_ms);
            p.last_death = life.map(|l| (c.closed_ms, l));
        }
    }

    fn burst_step(&mut self, at_ms: i64, host: &str, cause: Cause) {
        self.window.push_back((at_ms, host.to_string()));
        *slot(&mut self.window_hosts, host) += 1;
        while self
            .window
            .front()
            .is_some_and(|(t, _)| at_ms - t > BURST_WINDOW_MS)
            || self.window.len() > MAX_WINDOW
        {
            if let Some((_, h)) = self.window.pop_front() {
                if let Some(n) = self.window_hosts.get_mut(&h) {
                    *n -= 1;
                    if *n == 0 {
                        self.window_hosts.remove(&h);
                    }
                }
            }
        }
        let ongoing = self
            .bursts
            .last_mut()
            .filter(|b| at_ms - b.end_ms <= BURST_WINDOW_MS);
        if let Some(b) = ongoing {
            b.end_ms = at_ms;
            b.deaths += 1;
            *b.by_cause.entry(cause).or_default() += 1;
            if b.peers.len() < 64 {
                b.peers.insert(host.to_string());
            }
            return;
        }
        if self.window.len() >= BURST_DEATHS
            && self.window_hosts.len() >= BURST_PEERS
            && self.bursts.len() < MAX_KEPT
        {
            let peers: BTreeSet<String> = self.window_hosts.keys().take(64).cloned().collect();
            self.bursts.push(Burst {
                start_ms: self.window.front().map_or(at_ms, |w| w.0),
                end_ms: at_ms,
                deaths: self.window.len() as u64,
                peers,
                by_cause: BTreeMap::from([(cause, self.window.len() as u64)]),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::logs::parse::Pid;

    fn death(peer: &str, opened: i64, closed: i64, cause: Cause) -> Step {
        Step::Closed(Box::new(Closed {
            node: 0,
            pid: Pid(0, 1, 0),
            peer: peer.into(),
            name: Some("app".into()),
            user: Some("guest".into()),
            vhost: Some("/".into()),
            opened_ms: Some(opened),
            closed_ms: closed,
            cause,
            heartbeat_s: None,
            reason: None,
        }))
    }

    #[test]
    fn quantiles_within_two_percent() {
        let mut h = Hist::default();
        for ms in 1..=1000u64 {
            h.add(ms * 1000);
        }
        let med = h.quantile(0.5).unwrap() as f64;
        let p95 = h.quantile(0.95).unwrap() as f64;
        assert!((med / 500_000.0 - 1.0).abs() < 0.02, "{med}");
        assert!((p95 / 950_000.0 - 1.0).abs() < 0.02, "{p95}");
        assert_eq!(Hist::default().quantile(0.5), None);
    }

    #[test]
    fn bursts_need_peers_and_deaths() {
        let mut s = Summary::default();
        for i in 0..6 {
            s.add(death(
                &format!("10.0.0.{}:1", i % 3),
                0,
                1000 + i * 100,
                Cause::ClientClosedAbruptly,
            ));
        }
        assert_eq!(s.bursts.len(), 1);
        assert_eq!((s.bursts[0].deaths, s.bursts[0].peers.len()), (6, 3));
        let mut one_peer = Summary::default();
        for i in 0..10 {
            one_peer.add(death(
                "10.0.0.1:1",
                0,
                1000 + i,
                Cause::ClientClosedAbruptly,
            ));
        }
        assert!(one_peer.bursts.is_empty());
    }

    #[test]
    fn reconnect_cycles_and_bounded_keys() {
        let mut s = Summary::default();
        for i in 0..5 {
            let t = i * 20_000;
            s.add(Step::Opened {
                node: 0,
                peer: "10.0.0.9:1".into(),
                at_ms: t,
            });
            s.add(death(
                "10.0.0.9:1",
                t,
                t + 15_000,
                Cause::BrokerHeartbeatTimeout,
            ));
        }
        s.add(Step::Opened {
            node: 0,
            peer: "10.0.0.9:1".into(),
            at_ms: 200_000,
        });
        assert_eq!(s.peers["10.0.0.9"].quick_reopens, 4);
        for i in 0..(MAX_KEYS + 5) {
            s.add(Step::Opened {
                node: 0,
                peer: format!("h{i}:1"),
                at_ms: 0,
            });
        }
        assert_eq!(s.peers.len(), MAX_KEYS + 1);
        assert!(s.peers.contains_key(OTHER));
    }
}
