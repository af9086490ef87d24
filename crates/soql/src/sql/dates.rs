//! Date and datetime values in the stored text form, and the day ranges relative date
//! literals stand for.
//!
//! Relative literals resolve against [`super::CompileOptions::now`] in UTC. Weeks start
//! on Sunday, as in Salesforce's default (en_US) locale. Each literal is a half-open
//! range of days `[start, end)`:
//!
//! | literal | range |
//! | --- | --- |
//! | `TODAY`, `YESTERDAY`, `TOMORROW` | that day |
//! | `LAST_WEEK`, `THIS_WEEK`, `NEXT_WEEK` | the Sunday-to-Saturday week |
//! | `LAST_MONTH`, `THIS_MONTH`, `NEXT_MONTH` | the calendar month |
//! | `LAST_N_DAYS:n` | the `n` days before today, and today |
//! | `NEXT_N_DAYS:n` | the `n` days after today |
//! | `N_DAYS_AGO:n` | the single day `n` days before today |
//! | `LAST_N_WEEKS:n` | the `n` whole weeks before this week |
//! | `NEXT_N_WEEKS:n` | the `n` whole weeks after this week |
//!
//! Datetime literals are compared with stored values as text in the stored form, so to
//! the millisecond; Salesforce compares at second granularity, which only differs for
//! stored values with non-zero milliseconds.

use chrono::{DateTime, Datelike, Days, FixedOffset, Months, NaiveDate, Utc};

use crate::ast::DateLiteral;

/// A date as stored: `YYYY-MM-DD`.
pub(crate) fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A datetime as stored: UTC, `YYYY-MM-DDTHH:MM:SS.sss+0000`.
pub(crate) fn datetime_text(dt: DateTime<FixedOffset>) -> String {
    dt.with_timezone(&Utc).format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// Midnight UTC starting day `d`, as stored.
pub(crate) fn day_start_text(d: NaiveDate) -> String {
    format!("{}T00:00:00.000+0000", date_text(d))
}

/// The days `[start, end)` a relative literal covers, or `None` past the calendar's end.
pub(crate) fn day_range(
    literal: DateLiteral,
    now: DateTime<Utc>,
) -> Option<(NaiveDate, NaiveDate)> {
    let today = now.date_naive();
    let day = |d: NaiveDate| Some((d, d.checked_add_days(Days::new(1))?));
    let week_start =
        today.checked_sub_days(Days::new(u64::from(today.weekday().num_days_from_sunday())))?;
    let weeks =
        |from: NaiveDate, count: u64| Some((from, from.checked_add_days(Days::new(7 * count))?));
    let month_start = today.with_day(1)?;
    let month = |offset: i32| {
        let start = if offset >= 0 {
            month_start.checked_add_months(Months::new(offset.unsigned_abs()))?
        } else {
            month_start.checked_sub_months(Months::new(offset.unsigned_abs()))?
        };
        Some((start, start.checked_add_months(Months::new(1))?))
    };
    let tomorrow = today.checked_add_days(Days::new(1))?;
    match literal {
        DateLiteral::Today => day(today),
        DateLiteral::Yesterday => day(today.checked_sub_days(Days::new(1))?),
        DateLiteral::Tomorrow => day(tomorrow),
        DateLiteral::ThisWeek => weeks(week_start, 1),
        DateLiteral::LastWeek => weeks(week_start.checked_sub_days(Days::new(7))?, 1),
        DateLiteral::NextWeek => weeks(week_start.checked_add_days(Days::new(7))?, 1),
        DateLiteral::ThisMonth => month(0),
        DateLiteral::LastMonth => month(-1),
        DateLiteral::NextMonth => month(1),
        DateLiteral::LastNDays(n) => {
            Some((today.checked_sub_days(Days::new(u64::from(n)))?, tomorrow))
        }
        DateLiteral::NextNDays(n) => {
            Some((tomorrow, tomorrow.checked_add_days(Days::new(u64::from(n)))?))
        }
        DateLiteral::NDaysAgo(n) => day(today.checked_sub_days(Days::new(u64::from(n)))?),
        DateLiteral::LastNWeeks(n) => {
            Some((week_start.checked_sub_days(Days::new(7 * u64::from(n)))?, week_start))
        }
        DateLiteral::NextNWeeks(n) => {
            weeks(week_start.checked_add_days(Days::new(7))?, u64::from(n))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(literal: DateLiteral) -> (String, String) {
        // Wednesday 2024-05-15.
        let now = DateTime::parse_from_rfc3339("2024-05-15T23:30:00Z").unwrap().with_timezone(&Utc);
        let (a, b) = day_range(literal, now).unwrap();
        (date_text(a), date_text(b))
    }

    #[test]
    fn resolves_relative_literals_with_sunday_weeks() {
        let r = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(range(DateLiteral::Today), r("2024-05-15", "2024-05-16"));
        assert_eq!(range(DateLiteral::Yesterday), r("2024-05-14", "2024-05-15"));
        assert_eq!(range(DateLiteral::ThisWeek), r("2024-05-12", "2024-05-19"));
        assert_eq!(range(DateLiteral::LastWeek), r("2024-05-05", "2024-05-12"));
        assert_eq!(range(DateLiteral::NextWeek), r("2024-05-19", "2024-05-26"));
        assert_eq!(range(DateLiteral::LastMonth), r("2024-04-01", "2024-05-01"));
        assert_eq!(range(DateLiteral::NextMonth), r("2024-06-01", "2024-07-01"));
        assert_eq!(range(DateLiteral::LastNDays(3)), r("2024-05-12", "2024-05-16"));
        assert_eq!(range(DateLiteral::NextNDays(3)), r("2024-05-16", "2024-05-19"));
        assert_eq!(range(DateLiteral::NDaysAgo(15)), r("2024-04-30", "2024-05-01"));
        assert_eq!(range(DateLiteral::LastNWeeks(2)), r("2024-04-28", "2024-05-12"));
        assert_eq!(range(DateLiteral::NextNWeeks(2)), r("2024-05-19", "2024-06-02"));
    }

    #[test]
    fn normalizes_datetimes_to_utc_text() {
        let dt = DateTime::parse_from_rfc3339("2024-05-01T12:00:00.5+02:00").unwrap();
        assert_eq!(datetime_text(dt), "2024-05-01T10:00:00.500+0000");
    }
}
