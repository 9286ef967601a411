//! Durations and errno names as people read them. Naming only: what an
//! errno *means* for a connection is the classifier's business.

use std::io;
use std::time::Duration;

use nix::errno::Errno;

/// Whole milliseconds, saturating.
pub fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `6.007 s`, `120 s`, `350 ms`: for prose and tables.
pub fn secs(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.3} s", ms as f64 / 1000.0)
    }
}

/// A duration as a flag value the CLI accepts (`182s`, `1500ms`): every
/// command line we suggest must parse.
pub fn flag_duration(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// `ECONNRESET` for 104; `errno 999` for what nix does not know.
pub fn errno_name(errno: i32) -> String {
    match Errno::from_raw(errno) {
        Errno::UnknownErrno => format!("errno {errno}"),
        e => format!("{e:?}"),
    }
}

/// The errno name of an I/O error, or its kind when it has no errno.
pub fn errno_label(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(n) => errno_name(n),
        None if err.kind() == io::ErrorKind::UnexpectedEof => "EOF".into(),
        None => format!("{:?}", err.kind()),
    }
}

/// `connection refused (ECONNREFUSED)`.
pub fn describe_io_error(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(n) => format!(
            "{} ({})",
            Errno::from_raw(n).desc().to_lowercase(),
            errno_name(n)
        ),
        None => err.to_string(),
    }
}

/// The civil date (year, month, day) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting() {
        let rows = [
            (350, "350 ms", "350ms"),
            (120_000, "120 s", "120s"),
            (6007, "6.007 s", "6007ms"),
            (182_000, "182 s", "182s"),
        ];
        for (ms, text, flag) in rows {
            assert_eq!(
                (secs(ms).as_str(), flag_duration(ms).as_str()),
                (text, flag)
            );
            assert_eq!(
                humantime::parse_duration(&flag_duration(ms)).map(duration_ms),
                Ok(ms),
                "{flag} must parse back"
            );
        }
        assert_eq!(errno_name(104), "ECONNRESET");
        assert_eq!(errno_name(32), "EPIPE");
        assert_eq!(errno_name(99999), "errno 99999");
        assert_eq!(
            describe_io_error(&io::Error::from_raw_os_error(111)),
            "connection refused (ECONNREFUSED)"
        );
    }
}
