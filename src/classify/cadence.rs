//! Heartbeat cadence: were heartbeats on time in one direction?

use serde::Serialize;

/// Heartbeats seen in one direction over an observation window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cadence {
    pub count: u32,
    /// Mean gap between consecutive heartbeats (null with fewer than two).
    pub mean_gap_ms: Option<u64>,
    /// Longest silence, counting the stretches before the first and after
    /// the last heartbeat (null with no heartbeat at all).
    pub max_gap_ms: Option<u64>,
    /// What the protocol asks for: T/2.
    pub expected_gap_ms: u64,
    /// Gaps longer than T/2 by more than the slack.
    pub late: u32,
    /// True when the window was long enough to expect beats and none came
    /// for longer than T.
    pub missing: bool,
}

impl Cadence {
    /// Late or missing beats.
    pub fn faulty(&self) -> bool {
        self.late > 0 || self.missing
    }
}

/// Slack before a heartbeat counts as late: a quarter of T/2 plus 250 ms of
/// scheduling jitter on both hosts.
pub fn late_slack_ms(expected_gap_ms: u64) -> u64 {
    expected_gap_ms / 4 + 250
}

/// Measure the cadence of heartbeats at `times` (ms) within
/// `[start_ms, end_ms]` against the expected gap T/2 (0: none expected).
pub fn cadence(times: &[u64], start_ms: u64, end_ms: u64, expected_gap_ms: u64) -> Cadence {
    let beats: Vec<u64> = times
        .iter()
        .copied()
        .filter(|&t| t >= start_ms && t <= end_ms)
        .collect();
    let inner: Vec<u64> = beats.windows(2).map(|w| w[1] - w[0]).collect();
    let mean_gap_ms = if inner.is_empty() {
        None
    } else {
        Some(inner.iter().sum::<u64>() / inner.len() as u64)
    };
    let max_gap_ms = match (beats.first(), beats.last()) {
        (Some(&first), Some(&last)) => Some(
            inner
                .iter()
                .copied()
                .chain([first - start_ms, end_ms - last])
                .max()
                .unwrap_or(0),
        ),
        _ => None,
    };
    let limit = expected_gap_ms + late_slack_ms(expected_gap_ms);
    let late = if expected_gap_ms == 0 {
        0
    } else {
        inner.iter().filter(|&&g| g > limit).count() as u32
    };
    let longest = max_gap_ms.unwrap_or(end_ms.saturating_sub(start_ms));
    let missing =
        expected_gap_ms > 0 && longest > 2 * expected_gap_ms + late_slack_ms(expected_gap_ms);
    Cadence {
        count: beats.len() as u32,
        mean_gap_ms,
        max_gap_ms,
        expected_gap_ms,
        late,
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cadence_table() {
        // (beats, start, end, expected, count, mean, max, late, missing)
        type Row = (
            &'static [u64],
            u64,
            u64,
            u64,
            u32,
            Option<u64>,
            Option<u64>,
            u32,
            bool,
        );
        let rows: &[Row] = &[
            // RabbitMQ at T = 2 s: a beat every second.
            (
                &[1000, 2000, 3000, 4000, 5000, 6000],
                0,
                7000,
                1000,
                6,
                Some(1000),
                Some(1000),
                0,
                false,
            ),
            // one late beat
            (
                &[1000, 2000, 4000, 5000],
                0,
                5500,
                1000,
                4,
                Some(1333),
                Some(2000),
                1,
                false,
            ),
            // heartbeats off, none expected, none came
            (&[], 0, 7000, 0, 0, None, None, 0, false),
            // expected but silent for the whole window
            (&[], 0, 7000, 1000, 0, None, None, 0, true),
            // beats outside the window do not count
            (
                &[500, 1500, 9000],
                1000,
                3000,
                1000,
                1,
                None,
                Some(1500),
                0,
                false,
            ),
        ];
        for (beats, start, end, exp, count, mean, max, late, missing) in rows {
            let c = cadence(beats, *start, *end, *exp);
            assert_eq!(
                (c.count, c.mean_gap_ms, c.max_gap_ms, c.late, c.missing),
                (*count, *mean, *max, *late, *missing),
                "{beats:?}"
            );
        }
    }
}
