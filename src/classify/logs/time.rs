//! Timestamps as RabbitMQ's loggers print them, to milliseconds since the
//! Unix epoch (UTC when the line carries an offset; a line without one,
//! 3.7–3.8's `2019-06-26 10:25:41.541` or 3.6's `7-Dec-2018::20:43:18`, is
//! taken as it reads: the node's local time, treated as UTC).

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter().try_fold(0u32, |n, d| {
        n.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

fn civil_ms(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    Some(((days * 24 + i64::from(h)) * 60 + i64::from(mi)) * 60_000 + i64::from(s) * 1000)
}

/// `YYYY-MM-DD[ T]HH:MM:SS[.frac][Z|±HH:MM|±HHMM]` at the start of `s`:
/// the instant and how many bytes it took.
pub fn parse_iso(s: &str) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let mut ms = civil_ms(
        num(&b[0..4])?,
        num(&b[5..7])?,
        num(&b[8..10])?,
        num(&b[11..13])?,
        num(&b[14..16])?,
        num(&b[17..19])?,
    )?;
    let mut i = 19;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &b[start..i.min(start + 3)];
        let mut f = i64::from(num(frac).unwrap_or(0));
        for _ in frac.len()..3 {
            f *= 10;
        }
        ms += f;
    }
    match b.get(i) {
        Some(b'Z') => i += 1,
        Some(&c @ (b'+' | b'-')) => {
            let off = &b[i + 1..];
            let (hh, mm, used) = if off.len() >= 5 && off[2] == b':' {
                (num(&off[0..2])?, num(&off[3..5])?, 5)
            } else if off.len() >= 4 {
                (num(&off[0..2])?, num(&off[2..4])?, 4)
            } else {
                return None;
            };
            let o = (i64::from(hh) * 60 + i64::from(mm)) * 60_000;
            ms += if c == b'+' { -o } else { o };
            i += 1 + used;
        }
        _ => {}
    }
    Some((ms, i))
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A month's number from its English three-letter name.
pub fn month(name: &str) -> Option<u32> {
    MONTHS.iter().position(|m| *m == name).map(|p| p as u32 + 1)
}

/// 3.6's `7-Dec-2018::20:43:18`.
pub fn parse_erlang(s: &str) -> Option<i64> {
    let (date, clock) = s.split_once("::")?;
    let mut d = date.split('-');
    let day = num(d.next()?.as_bytes())?;
    let mo = month(d.next()?)?;
    let y = num(d.next()?.as_bytes())?;
    let mut c = clock.split(':');
    let h = num(c.next()?.as_bytes())?;
    let mi = num(c.next()?.as_bytes())?;
    let sec = num(c.next()?.trim().as_bytes())?;
    civil_ms(y, mo, day, h, mi, sec)
}

/// Milliseconds since the epoch as `2026-12-03 20:03:27.651Z`.
pub fn format_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = crate::vocab::units::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_forms() {
        let utc = parse_iso("2026-12-03 20:03:27.651023+00:00 [error]").unwrap();
        assert_eq!(utc.1, 32);
        assert_eq!(format_ms(utc.0), "2026-12-03 20:03:27.651Z");
        let table = [
            (
                "2024-01-07 01:46:12.019000-04:00",
                "2024-01-07 05:46:12.019Z",
            ),
            ("2017-09-26 08:04:53.596", "2017-09-26 08:04:53.596Z"),
            ("2026-12-03T20:03:27.651023123Z", "2026-12-03 20:03:27.651Z"),
            ("2026-12-03T20:03:27+0100", "2026-12-03 19:03:27.000Z"),
            ("2000-02-29 00:00:00", "2000-02-29 00:00:00.000Z"),
        ];
        for (s, want) in table {
            assert_eq!(format_ms(parse_iso(s).unwrap().0), want, "{s}");
        }
        for bad in [
            "2026-13-03 20:03:27",
            "2026-12-03",
            "x026-12-03 20:03:27",
            "",
        ] {
            assert!(parse_iso(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn erlang_form() {
        let ms = parse_erlang("14-May-2015::14:52:07").unwrap();
        assert_eq!(format_ms(ms), "2015-05-14 14:52:07.000Z");
        assert!(parse_erlang("14-Mai-2015::14:52:07").is_none());
    }
}
