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
    parse_datetime(text).map(format_datetime)
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
}
