//! Salesforce date and datetime text: `2024-05-08T21:20:00.000+0000` and `2024-05-08`.
//!
//! Salesforce writes datetimes in UTC with millisecond digits and a `+0000` offset. On
//! input this module also accepts `Z`, `+00:00`, other offsets (converted to UTC) and
//! values without fractional seconds, because other servers and users write those.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

/// Why a text is not a Salesforce date or datetime.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Occurs when a datetime text matches none of the accepted shapes.
    #[error("invalid datetime '{0}': expected YYYY-MM-DDTHH:MM:SS[.sss](+0000|Z|+00:00)")]
    DateTime(String),
    /// Occurs when a date text is not `YYYY-MM-DD`.
    #[error("invalid date '{0}': expected YYYY-MM-DD")]
    Date(String),
}

/// Formats a datetime the way Salesforce does: `2024-05-08T21:20:00.000+0000`.
pub fn format_datetime(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// Formats a datetime in RFC 3339 with a `Z`, for query-string parameters such as
/// `start` and `end` of the replication calls, where `+` would need escaping.
pub fn format_datetime_z(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses a datetime in any accepted shape and returns it in UTC.
pub fn parse_datetime(text: &str) -> Result<DateTime<Utc>, TimeError> {
    let trimmed = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(trimmed) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(t) = DateTime::<FixedOffset>::parse_from_str(trimmed, format) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    // A value with no offset at all is taken as UTC, as Salesforce stores it.
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(trimmed, format) {
            return Ok(t.and_utc());
        }
    }
    Err(TimeError::DateTime(text.to_owned()))
}

/// Formats a date as `YYYY-MM-DD`.
pub fn format_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Result<NaiveDate, TimeError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| TimeError::Date(text.to_owned()))
}

/// Serde adapter for a datetime field written in Salesforce's shape.
pub mod serde_datetime {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the datetime as `2024-05-08T21:20:00.000+0000`.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_datetime(*t))
    }

    /// Reads any accepted datetime shape.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_datetime(&text).map_err(serde::de::Error::custom)
    }
}

/// Serde adapter for an optional datetime field (`null` or absent reads as `None`).
pub mod serde_datetime_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the datetime as `2024-05-08T21:20:00.000+0000`, or `null`.
    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format_datetime(*t)),
            None => s.serialize_none(),
        }
    }

    /// Reads any accepted datetime shape, or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => super::parse_datetime(&text).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32, ms: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 8, h, m, s).unwrap()
            + chrono::Duration::milliseconds(ms.into())
    }

    #[test]
    fn formats_like_salesforce() {
        assert_eq!(format_datetime(at(21, 20, 0, 0)), "2024-05-08T21:20:00.000+0000");
        assert_eq!(format_datetime(at(1, 2, 3, 45)), "2024-05-08T01:02:03.045+0000");
        assert_eq!(format_datetime_z(at(21, 20, 5, 123)), "2024-05-08T21:20:05Z");
    }

    #[test]
    fn parses_every_accepted_shape() {
        let expected = at(21, 20, 0, 0);
        for text in [
            "2024-05-08T21:20:00.000+0000",
            "2024-05-08T21:20:00.000Z",
            "2024-05-08T21:20:00Z",
            "2024-05-08T21:20:00+00:00",
            "2024-05-08T21:20:00.000+00:00",
            "2024-05-08T21:20:00+0000",
            "2024-05-08T23:20:00.000+0200",
            "2024-05-08T21:20:00",
        ] {
            assert_eq!(parse_datetime(text), Ok(expected), "{text}");
        }
        assert_eq!(parse_datetime("2024-05-08T21:20:00.250+0000"), Ok(at(21, 20, 0, 250)));
    }

    #[test]
    fn rejects_bad_datetimes() {
        for text in ["", "yesterday", "2024-05-08", "2024-13-08T21:20:00Z", "2024-05-08 21:20"] {
            assert!(parse_datetime(text).is_err(), "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_millisecond_round_trips(ms in 0i64..4_102_444_800_000) {
            let t = DateTime::from_timestamp_millis(ms).unwrap();
            proptest::prop_assert_eq!(parse_datetime(&format_datetime(t)), Ok(t));
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,40}") {
            let _ = parse_datetime(&text);
            let _ = parse_date(&text);
        }
    }

    #[test]
    fn round_trips() {
        let t = at(8, 9, 10, 999);
        assert_eq!(parse_datetime(&format_datetime(t)), Ok(t));
    }

    #[test]
    fn dates() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(format_date(d), "2024-02-29");
        assert_eq!(parse_date("2024-02-29"), Ok(d));
        assert!(parse_date("2023-02-29").is_err());
        assert!(parse_date("2024-2-3x").is_err());
    }
}
