//! Conversions between REST JSON field values and SQLite values, per the storage convention.

use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use salesforce::SfId;
use serde_json::{Number, Value};
use soql::schema::{FieldSchema, FieldType};

/// The datetime text form stored and returned: UTC with milliseconds, `+0000` offset.
pub const DATETIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f+0000";

/// Formats a time the way the store keeps datetimes (Salesforce's own form).
pub fn format_datetime(t: DateTime<Utc>) -> String {
    salesforce::time::format_datetime(t)
}

/// Parses a datetime in any shape `salesforce::time` accepts (`...000+0000`, `Z`, other
/// offsets) and returns it in the stored form; `None` when it is not a datetime.
pub fn normalize_datetime(text: &str) -> Option<String> {
    if is_stored_datetime(text) {
        return Some(text.to_owned());
    }
    parse_datetime(text).map(format_datetime)
}

/// Whether `text` is a valid datetime already in the stored form
/// (`YYYY-MM-DDTHH:MM:SS.sss+0000`), the form Salesforce sends: checked without the
/// general parser, which downloads would otherwise run on every datetime they store.
fn is_stored_datetime(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 28 || &b[23..] != b"+0000" {
        return false;
    }
    let punctuation = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.')];
    if punctuation.iter().any(|&(i, c)| b[i] != c) {
        return false;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        b[from..to]
            .iter()
            .try_fold(0u32, |n, d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    let parts = (
        number(0, 4),
        number(5, 7),
        number(8, 10),
        number(11, 13),
        number(14, 16),
        number(17, 19),
        number(20, 23),
    );
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s), Some(ms)) = parts else {
        return false;
    };
    chrono::NaiveDate::from_ymd_opt(y as i32, mo, d)
        .and_then(|date| date.and_hms_milli_opt(h, mi, s, ms))
        .is_some_and(|_| s < 60)
}

/// Parses a stored (or any accepted) datetime back into a time.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    salesforce::time::parse_datetime(text).ok()
}

/// Normalizes an id-like text: a valid record id becomes its 18-character form; anything
/// else (a local id, for instance) stays as it is.
pub fn normalize_id(text: &str) -> String {
    match SfId::parse(text) {
        Ok(id) => id.to_string(),
        Err(_) => text.to_owned(),
    }
}

/// Converts one JSON value to the SQLite value the field is stored as; the error says why
/// the value does not fit.
pub(crate) fn json_to_sql(field: &FieldSchema, value: &Value) -> Result<SqlValue, String> {
    if value.is_null() {
        return Ok(SqlValue::Null);
    }
    let wrong = || {
        format!(
            "field {}: {} value does not fit type {}",
            field.name,
            kind(value),
            field.field_type.describe_name()
        )
    };
    Ok(match field.field_type {
        FieldType::Boolean => match value {
            Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
            Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                SqlValue::Integer(n.as_i64().unwrap_or_default())
            }
            _ => return Err(wrong()),
        },
        FieldType::Int => match value {
            Value::Number(n) => match n.as_i64() {
                Some(i) => SqlValue::Integer(i),
                None => match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => SqlValue::Integer(f as i64),
                    _ => return Err(wrong()),
                },
            },
            _ => return Err(wrong()),
        },
        FieldType::Double | FieldType::Currency | FieldType::Percent => match value {
            Value::Number(n) => SqlValue::Real(n.as_f64().ok_or_else(wrong)?),
            _ => return Err(wrong()),
        },
        FieldType::Date => match value {
            Value::String(s) if salesforce::time::parse_date(s).is_ok() => {
                SqlValue::Text(s.clone())
            }
            _ => return Err(wrong()),
        },
        FieldType::DateTime => match value {
            Value::String(s) => SqlValue::Text(normalize_datetime(s).ok_or_else(wrong)?),
            _ => return Err(wrong()),
        },
        FieldType::Id | FieldType::Reference => match value {
            Value::String(s) => SqlValue::Text(normalize_id(s)),
            _ => return Err(wrong()),
        },
        FieldType::String
        | FieldType::TextArea
        | FieldType::Picklist
        | FieldType::MultiPicklist
        | FieldType::Email
        | FieldType::Phone
        | FieldType::Url => match value {
            Value::String(s) => SqlValue::Text(s.clone()),
            Value::Number(n) => SqlValue::Text(n.to_string()),
            Value::Bool(b) => SqlValue::Text(b.to_string()),
            _ => return Err(wrong()),
        },
    })
}

/// Converts a stored value back to REST JSON for a field of this type.
pub(crate) fn sql_to_json(field_type: FieldType, value: SqlValue) -> Value {
    match (field_type, value) {
        (_, SqlValue::Null) => Value::Null,
        (FieldType::Boolean, SqlValue::Integer(i)) => Value::Bool(i != 0),
        (_, SqlValue::Integer(i)) => Value::Number(i.into()),
        (_, SqlValue::Real(f)) => Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null),
        (_, SqlValue::Text(s)) => Value::String(s),
        (_, SqlValue::Blob(_)) => Value::Null,
    }
}

/// Converts a JSON value and back, giving the canonical JSON form the store returns.
pub(crate) fn canonical(field: &FieldSchema, value: &Value) -> Result<Value, String> {
    Ok(sql_to_json(field.field_type, json_to_sql(field, value)?))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(t: FieldType) -> FieldSchema {
        FieldSchema {
            name: "F".into(),
            field_type: t,
            reference_to: vec![],
            relationship_name: None,
        }
    }

    #[test]
    fn values_follow_the_storage_convention() {
        assert_eq!(json_to_sql(&field(FieldType::Boolean), &json!(true)), Ok(SqlValue::Integer(1)));
        assert_eq!(json_to_sql(&field(FieldType::Int), &json!(42.0)), Ok(SqlValue::Integer(42)));
        assert_eq!(json_to_sql(&field(FieldType::Currency), &json!(2)), Ok(SqlValue::Real(2.0)));
        assert_eq!(
            json_to_sql(&field(FieldType::DateTime), &json!("2024-05-08T23:20:00+02:00")),
            Ok(SqlValue::Text("2024-05-08T21:20:00.000+0000".into()))
        );
        assert_eq!(
            json_to_sql(&field(FieldType::Reference), &json!("001M000000qfPyS")),
            Ok(SqlValue::Text("001M000000qfPySIAU".into()))
        );
        assert!(json_to_sql(&field(FieldType::Date), &json!("2024-13-01")).is_err());
        assert!(json_to_sql(&field(FieldType::Int), &json!("7")).is_err());
        assert!(json_to_sql(&field(FieldType::String), &json!([1])).is_err());
        assert_eq!(sql_to_json(FieldType::Boolean, SqlValue::Integer(0)), json!(false));
    }

    #[test]
    fn datetimes_in_the_stored_form_pass_as_they_are_and_others_are_parsed() {
        let general = |t: &str| parse_datetime(t).map(format_datetime);
        for t in [
            "2024-05-08T21:20:00.000+0000",
            "2024-02-29T23:59:59.999+0000",
            "1999-12-31T00:00:00.001+0000",
        ] {
            assert!(is_stored_datetime(t), "{t}");
            assert_eq!(normalize_datetime(t), general(t));
            assert_eq!(normalize_datetime(t).as_deref(), Some(t));
        }
        for t in [
            "2023-02-29T10:00:00.000+0000",
            "2024-05-08T24:00:00.000+0000",
            "2024-05-08T21:60:00.000+0000",
            "2024-05-08T21:20:60.000+0000",
            "2024-05-08T21:20:00.000+0100",
            "2024-05-08T21:20:00.000Z",
            "2024-05-08 21:20:00.000+0000",
            "2024-5-08T21:20:00.000+00000",
            "+024-05-08T21:20:00.000+0000",
        ] {
            assert!(!is_stored_datetime(t), "{t}");
            assert_eq!(normalize_datetime(t), general(t), "{t}");
        }
    }
}
