//! `idle-timeout`, decided: which idles to try, the bracket the results put
//! around the path's idle timeout, and the heartbeat and keepalive that
//! keep a connection inside it. Pure; [`narrate`](super::narrate) words it.

use std::time::Duration;

use serde::Serialize;

use crate::knowledge::{self, RABBITMQ_DEFAULT_HEARTBEAT_S};
use crate::vocab::idle::{Fate, IdleProbe};
use crate::vocab::units::duration_ms;

/// `k` idles from `min` to `max`, evenly spaced on a log scale (each the
/// previous times (max/min)^(1/(k−1))), rounded to the millisecond: the
/// bracket they give is as tight in ratio at 2 s as at 20 min. With
/// `min == max` or `k == 1`, just `max`.
pub fn plan_idles(min: Duration, max: Duration, k: usize) -> Vec<Duration> {
    let (lo, hi) = (
        duration_ms(min).max(1) as f64,
        duration_ms(max).max(1) as f64,
    );
    if k <= 1 || lo >= hi {
        return vec![max];
    }
    let ratio = (hi / lo).powf(1.0 / (k - 1) as f64);
    let mut out: Vec<Duration> = (0..k)
        .map(|i| {
            let ms = if i == k - 1 {
                hi
            } else {
                lo * ratio.powi(i as i32)
            };
            Duration::from_millis(ms.round() as u64)
        })
        .collect();
    out.dedup();
    out
}

/// The default shortest idle for `max`: 1/32 of it (five doublings below),
/// but at least one second.
pub fn default_min(max: Duration) -> Duration {
    (max / 32).max(Duration::from_secs(1)).min(max)
}

/// Where the path's idle timeout lies, from what the connections saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bracket {
    /// The longest idle a connection survived; null when none did.
    pub longest_survivor_ms: Option<u64>,
    /// The shortest idle after which a connection was dead; null when none died.
    pub shortest_casualty_ms: Option<u64>,
    /// False when a connection survived a longer idle than one that died:
    /// not a simple idle timer (several boxes, or deaths for other reasons).
    pub consistent: bool,
    /// How the casualties died, each kind once, in order of idle.
    pub died_by: Vec<Fate>,
    /// Whether a casualty was seen dying while it was still silent (the box
    /// acts at its timeout) rather than only once it spoke (it acts on the
    /// next packet, or never).
    pub seen_dying_while_idle: bool,
}

/// The bracket around the path's idle timeout.
pub fn bracket(probes: &[IdleProbe]) -> Bracket {
    let longest_survivor_ms = probes
        .iter()
        .filter(|p| p.fate == Fate::Survived)
        .map(|p| p.idle_ms)
        .max();
    let mut casualties: Vec<&IdleProbe> = probes.iter().filter(|p| p.fate.is_casualty()).collect();
    casualties.sort_by_key(|p| p.dead_after_ms());
    let shortest_casualty_ms = casualties.first().and_then(|p| p.dead_after_ms());
    let mut died_by = Vec::new();
    for p in &casualties {
        if !died_by.contains(&p.fate) {
            died_by.push(p.fate);
        }
    }
    let consistent = match (longest_survivor_ms, shortest_casualty_ms) {
        (Some(s), Some(c)) => s < c,
        _ => true,
    };
    Bracket {
        longest_survivor_ms,
        shortest_casualty_ms,
        consistent,
        died_by,
        seen_dying_while_idle: casualties.iter().any(|p| p.died_at_ms.is_some()),
    }
}

/// What the bracket means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Finding {
    /// Every connection survived: no idle timeout up to `--max`.
    NoTimeout,
    /// Survivors below, casualties above: the timeout is in the bracket.
    Bracketed,
    /// Even the shortest idle died: the timeout is below `--min`.
    BelowShortest,
    /// Survivors and casualties overlap.
    Inconsistent,
    /// No connection finished (all failed to open, or were interrupted).
    Unknown,
}

pub fn finding(b: &Bracket) -> Finding {
    match (b.longest_survivor_ms, b.shortest_casualty_ms) {
        _ if !b.consistent => Finding::Inconsistent,
        (Some(_), None) => Finding::NoTimeout,
        (Some(_), Some(_)) => Finding::Bracketed,
        (None, Some(_)) => Finding::BelowShortest,
        (None, None) => Finding::Unknown,
    }
}

/// Heartbeat values people pick, in seconds: suggestions come from these.
const ROUND_HEARTBEATS_S: [u16; 11] = [1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 120];

/// What keeps a connection alive on this path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Advice {
    /// A heartbeat T whose T/2 (how long either side stays silent) is at
    /// most half the longest idle the path is known to allow; null when no
    /// heartbeat fits (the path forgets flows in under a second) or none is
    /// needed.
    pub heartbeat_s: Option<u16>,
    /// TCP keepalive's first probe after this much idle (TCP_KEEPIDLE /
    /// net.ipv4.tcp_keepalive_time) also keeps the flow alive.
    pub keepalive_idle_s: Option<u32>,
    /// The idle the path is known to allow, that the advice keeps under.
    pub safe_idle_ms: Option<u64>,
    /// Warnings about the suggested T (below RabbitMQ's advice, …).
    pub warnings: Vec<String>,
}

/// The advice for a bracket.
///
/// The path is known to keep a flow idle for the longest survivor's idle
/// (or, with none, less than half the shortest casualty's). A heartbeat T
/// means each side sends after T/2 of silence, so T ≤ that idle keeps every
/// gap at half of it or less; a round value at most RabbitMQ's default of
/// 60 s (longer buys nothing and detects a dead peer later).
pub fn advice(b: &Bracket) -> Advice {
    let safe_idle_ms = match (b.longest_survivor_ms, b.shortest_casualty_ms) {
        _ if b.shortest_casualty_ms.is_none() => None,
        (Some(s), Some(c)) => Some(s.min(c)),
        (None, Some(c)) => Some(c / 2),
        (_, None) => None,
    };
    let Some(safe) = safe_idle_ms else {
        return Advice {
            heartbeat_s: None,
            keepalive_idle_s: None,
            safe_idle_ms: None,
            warnings: Vec::new(),
        };
    };
    let heartbeat_s = ROUND_HEARTBEATS_S
        .iter()
        .copied()
        .filter(|&t| u64::from(t) * 1000 <= safe && t <= RABBITMQ_DEFAULT_HEARTBEAT_S)
        .max();
    let keepalive = u32::try_from(safe / 2000).unwrap_or(u32::MAX);
    // Below RabbitMQ's advised 5 s only when the path leaves no better
    // choice, and then the knowledge says what that risks.
    let warnings = heartbeat_s.map_or_else(Vec::new, knowledge::heartbeat_warnings);
    Advice {
        heartbeat_s,
        keepalive_idle_s: (keepalive >= 1).then_some(keepalive),
        safe_idle_ms,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(idle_ms: u64, fate: Fate, died_at_ms: Option<u64>) -> IdleProbe {
        IdleProbe {
            idle_ms,
            fate,
            died_at_ms,
            round_trip_ms: None,
            errno_name: None,
            reply_code: None,
            detail: String::new(),
        }
    }

    fn ms(v: &[Duration]) -> Vec<u64> {
        v.iter().map(|d| duration_ms(*d)).collect()
    }

    #[test]
    fn idles_are_geometric_from_min_to_max() {
        let s = Duration::from_secs;
        // (min, max, k, idles in ms)
        let rows: [(Duration, Duration, usize, Vec<u64>); 5] = [
            (s(1), s(8), 4, vec![1000, 2000, 4000, 8000]),
            (s(1), s(16), 5, vec![1000, 2000, 4000, 8000, 16000]),
            (s(5), s(5), 8, vec![5000]),
            (s(1), s(8), 1, vec![8000]),
            (s(10), s(1000), 3, vec![10000, 100_000, 1_000_000]),
        ];
        for (min, max, k, want) in rows {
            assert_eq!(ms(&plan_idles(min, max, k)), want, "{min:?}..{max:?} k={k}");
        }
        let eight = plan_idles(s(1), s(8), 8);
        assert_eq!(eight.len(), 8);
        assert!(eight.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(eight.first(), Some(&s(1)));
        assert_eq!(eight.last(), Some(&s(8)));
        // Tiny ranges do not repeat an idle.
        let tiny = plan_idles(Duration::from_millis(10), Duration::from_millis(12), 8);
        assert!(tiny.windows(2).all(|w| w[0] < w[1]), "{tiny:?}");
    }

    #[test]
    fn default_min_is_a_32nd_but_at_least_a_second() {
        let s = Duration::from_secs;
        for (max, min) in [
            (s(8), s(1)),
            (s(320), s(10)),
            (s(600), Duration::from_millis(18750)),
        ] {
            assert_eq!(default_min(max), min, "{max:?}");
        }
        assert_eq!(
            default_min(Duration::from_millis(500)),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn brackets() {
        use Fate::*;
        // (probes, longest survivor, shortest casualty, finding, died_by, seen while idle)
        let rows = [
            (
                vec![
                    probe(1000, Survived, None),
                    probe(1810, Survived, None),
                    probe(2440, Reset, Some(2010)),
                    probe(3280, Reset, Some(2011)),
                ],
                Some(1810),
                Some(2010),
                Finding::Bracketed,
                vec![Reset],
                true,
            ),
            (
                vec![
                    probe(1000, Survived, None),
                    probe(2000, Silence, None),
                    probe(4000, Skipped, None),
                ],
                Some(1000),
                Some(2000),
                Finding::Bracketed,
                vec![Silence],
                false,
            ),
            (
                vec![probe(1000, Survived, None), probe(8000, Survived, None)],
                Some(8000),
                None,
                Finding::NoTimeout,
                vec![],
                false,
            ),
            (
                vec![probe(1000, Fin, Some(900)), probe(2000, Fin, Some(901))],
                None,
                Some(900),
                Finding::BelowShortest,
                vec![Fin],
                true,
            ),
            (
                vec![probe(1000, Reset, None), probe(2000, Survived, None)],
                Some(2000),
                Some(1000),
                Finding::Inconsistent,
                vec![Reset],
                false,
            ),
            (
                vec![probe(1000, Error, None), probe(2000, Interrupted, None)],
                None,
                None,
                Finding::Unknown,
                vec![],
                false,
            ),
            (
                vec![
                    probe(1000, Survived, None),
                    probe(3000, Silence, None),
                    probe(5000, Reset, Some(2500)),
                ],
                Some(1000),
                Some(2500),
                Finding::Bracketed,
                vec![Reset, Silence],
                true,
            ),
        ];
        for (probes, s, c, f, died_by, seen) in rows {
            let b = bracket(&probes);
            assert_eq!(b.longest_survivor_ms, s, "{probes:?}");
            assert_eq!(b.shortest_casualty_ms, c, "{probes:?}");
            assert_eq!(finding(&b), f, "{probes:?}");
            assert_eq!(b.died_by, died_by, "{probes:?}");
            assert_eq!(b.seen_dying_while_idle, seen, "{probes:?}");
        }
    }

    #[test]
    fn advice_keeps_half_t_under_the_known_safe_idle() {
        let b = |s: Option<u64>, c: Option<u64>| Bracket {
            longest_survivor_ms: s,
            shortest_casualty_ms: c,
            consistent: true,
            died_by: vec![],
            seen_dying_while_idle: false,
        };
        // (survivor, casualty, heartbeat, keepalive idle, safe idle)
        let rows = [
            (
                Some(222_000),
                Some(350_000),
                Some(60),
                Some(111),
                Some(222_000),
            ),
            (Some(45_000), Some(61_000), Some(45), Some(22), Some(45_000)),
            (Some(1_810), Some(2_010), Some(1), None, Some(1_810)),
            (Some(8_000), None, None, None, None),
            (None, Some(4_000), Some(2), Some(1), Some(2_000)),
            (None, Some(1_500), None, None, Some(750)),
            (
                Some(3_600_000),
                Some(7_200_000),
                Some(60),
                Some(1800),
                Some(3_600_000),
            ),
        ];
        for (s, c, hb, ka, safe) in rows {
            let a = advice(&b(s, c));
            assert_eq!(a.heartbeat_s, hb, "{s:?} {c:?}");
            assert_eq!(a.keepalive_idle_s, ka, "{s:?} {c:?}");
            assert_eq!(a.safe_idle_ms, safe, "{s:?} {c:?}");
        }
        // A heartbeat below 5 s is all a 2 s path allows, and it says so.
        assert!(!advice(&b(Some(1_810), Some(2_010))).warnings.is_empty());
        assert!(advice(&b(Some(222_000), Some(350_000))).warnings.is_empty());
    }
}
