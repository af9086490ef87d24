//! Times as a person in the field reads them: local clock time and "in 12 min".

use chrono::{DateTime, Local, Utc};

/// `14:05` today, otherwise `3 Dec 14:05`, in the machine's time zone.
pub fn clock_time(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = at.with_timezone(&Local);
    if local.date_naive() == now.with_timezone(&Local).date_naive() {
        local.format("%H:%M").to_string()
    } else {
        local.format("%-d %b %H:%M").to_string()
    }
}

/// `in 12 min`, `3 h ago`, `now`.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (at - now).num_seconds();
    let span = secs.unsigned_abs();
    let amount = if span < 45 {
        return "now".into();
    } else if span < 3600 {
        format!("{} min", span.div_ceil(60))
    } else if span < 86_400 {
        format!("{} h", span / 3600)
    } else {
        format!("{} d", span / 86_400)
    };
    if secs > 0 { format!("in {amount}") } else { format!("{amount} ago") }
}

/// Both: `14:05 (in 12 min)`.
pub fn when(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!("{} ({})", clock_time(at, now), relative(at, now))
}

/// A duration in seconds as `1.2 s` or `3 min 4 s`.
pub fn duration(ms: i64) -> String {
    if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn relative_times_read_naturally() {
        let now = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
        assert_eq!(relative(now + chrono::Duration::minutes(15), now), "in 15 min");
        assert_eq!(relative(now - chrono::Duration::hours(3), now), "3 h ago");
        assert_eq!(relative(now, now), "now");
        assert_eq!(duration(1234), "1.2 s");
        assert_eq!(duration(184_000), "3 min 4 s");
    }
}
