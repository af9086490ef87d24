//! Times as a person in the field reads them: clock time in their own time zone and
//! "in 12 min".
//!
//! The server does not know the browser's time zone, so a time is rendered as
//! `<time datetime="…Z" data-fmt="…">` with UTC text, and the page script (`app.js`)
//! rewrites the text in the browser's zone. Without the script the UTC text stays, marked
//! `UTC`. Everything is served by the app itself, so this works offline.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

/// The `datetime` attribute: RFC 3339 in UTC, to the second.
pub fn iso(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `14:05` today, otherwise `3 Dec 14:05`, in the browser's time zone.
pub fn clock_time(at: DateTime<Utc>, now: DateTime<Utc>) -> Markup {
    html! { time datetime=(iso(at)) data-fmt="clock" { (clock_text(at, now)) } }
}

/// `3 Dec 2026 14:05`, in the browser's time zone.
pub fn date_time(at: DateTime<Utc>) -> Markup {
    html! { time datetime=(iso(at)) data-fmt="datetime" { (at.format("%-d %b %Y %H:%M")) " UTC" } }
}

/// The UTC text a clock time shows until the script rewrites it.
pub fn clock_text(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if at.date_naive() == now.date_naive() {
        at.format("%H:%M UTC").to_string()
    } else {
        at.format("%-d %b %H:%M UTC").to_string()
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
pub fn when(at: DateTime<Utc>, now: DateTime<Utc>) -> Markup {
    html! { (clock_time(at, now)) " (" (relative(at, now)) ")" }
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

    #[test]
    fn times_carry_utc_for_the_script() {
        let now = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
        let at = Utc.with_ymd_and_hms(2026, 5, 4, 10, 5, 0).unwrap();
        assert_eq!(
            clock_time(at, now).into_string(),
            r#"<time datetime="2026-05-04T10:05:00Z" data-fmt="clock">10:05 UTC</time>"#
        );
        assert_eq!(clock_text(at + chrono::Duration::days(1), now), "5 May 10:05 UTC");
    }
}
