//! Conversion between JSON field values and their stored SQLite form, with Salesforce's
//! type, length and picklist checks.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::Value as Sql;
use salesforce::SfId;
use serde_json::{Number, Value};
use soql::schema::FieldType as T;

use crate::clock::{format_datetime, parse_datetime};
use crate::error::ApiError;
use crate::schema::FieldDef;

fn type_error(f: &FieldDef, v: &Value) -> ApiError {
    let shown = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    ApiError::bad_request(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        format!("{}: value not of required type: {shown}", f.label),
    )
    .with_fields(vec![f.name.clone()])
}

/// Converts a JSON value into the stored form of `f`, checking type, length and picklist.
pub fn to_sql(f: &FieldDef, v: &Value) -> Result<Sql, ApiError> {
    if v.is_null() {
        return Ok(Sql::Null);
    }
    match f.field_type {
        T::String | T::TextArea | T::Email | T::Phone | T::Url | T::Picklist => {
            let s = scalar_text(f, v)?;
            if s.is_empty() {
                return Ok(Sql::Null);
            }
            check_length(f, &s)?;
            if f.field_type == T::Email && !looks_like_email(&s) {
                return Err(ApiError::bad_request(
                    "INVALID_EMAIL_ADDRESS",
                    format!("{}: invalid email address: {s}", f.label),
                )
                .with_fields(vec![f.name.clone()]));
            }
            if f.field_type == T::Picklist && f.restricted_picklist {
                return match f.picklist.iter().find(|p| p.eq_ignore_ascii_case(&s)) {
                    Some(p) => Ok(Sql::Text(p.clone())),
                    None => Err(restricted_error(f, &s)),
                };
            }
            Ok(Sql::Text(s))
        }
        T::MultiPicklist => {
            let parts: Vec<String> = match v {
                Value::Array(items) => {
                    items.iter().map(|i| scalar_text(f, i)).collect::<Result<_, _>>()?
                }
                _ => scalar_text(f, v)?.split(';').map(|p| p.trim().to_string()).collect(),
            };
            let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
            if parts.is_empty() {
                return Ok(Sql::Null);
            }
            if f.restricted_picklist
                && let Some(bad) = parts.iter().find(|p| !f.picklist.contains(p))
            {
                return Err(restricted_error(f, bad));
            }
            let joined = parts.join(";");
            check_length(f, &joined)?;
            Ok(Sql::Text(joined))
        }
        T::Boolean => match v {
            Value::Bool(b) => Ok(Sql::Integer(i64::from(*b))),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Sql::Integer(1)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Sql::Integer(0)),
            _ => Err(type_error(f, v)),
        },
        T::Int => match number(v) {
            Some(n) if n.fract() == 0.0 && n.abs() < 1e15 => Ok(Sql::Integer(n as i64)),
            _ => Err(type_error(f, v)),
        },
        T::Double | T::Currency | T::Percent => match number(v) {
            Some(n) if n.is_finite() => Ok(Sql::Real(n)),
            _ => Err(type_error(f, v)),
        },
        T::Date => {
            let s = v.as_str().ok_or_else(|| type_error(f, v))?;
            let day = s.get(..10).unwrap_or(s);
            NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .map(|d| Sql::Text(d.format("%Y-%m-%d").to_string()))
                .map_err(|_| type_error(f, v))
        }
        T::DateTime => {
            let s = v.as_str().ok_or_else(|| type_error(f, v))?;
            parse_datetime_input(s)
                .map(|t| Sql::Text(format_datetime(t)))
                .ok_or_else(|| type_error(f, v))
        }
        T::Id | T::Reference => {
            let s = v.as_str().ok_or_else(|| type_error(f, v))?;
            if s.is_empty() {
                return Ok(Sql::Null);
            }
            SfId::parse(s).map(|id| Sql::Text(id.to_string())).map_err(|_| {
                ApiError::bad_request(
                    "MALFORMED_ID",
                    format!("{}: id value of incorrect type: {s}", f.label),
                )
                .with_fields(vec![f.name.clone()])
            })
        }
    }
}

fn restricted_error(f: &FieldDef, s: &str) -> ApiError {
    ApiError::bad_request(
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        format!("{}: bad value for restricted picklist field: {s}", f.label),
    )
    .with_fields(vec![f.name.clone()])
}

fn check_length(f: &FieldDef, s: &str) -> Result<(), ApiError> {
    let n = s.chars().count();
    if f.length > 0 && n > f.length as usize {
        let preview: String = s.chars().take(40).collect();
        return Err(ApiError::bad_request(
            "STRING_TOO_LONG",
            format!("{}: data value too large: {preview} (max length={})", f.label, f.length),
        )
        .with_fields(vec![f.name.clone()]));
    }
    Ok(())
}

fn scalar_text(f: &FieldDef, v: &Value) -> Result<String, ApiError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(type_error(f, v)),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !s.contains(' '),
        None => false,
    }
}

/// Parses the datetime forms clients send: RFC 3339, `+0000` offsets, a bare date.
pub fn parse_datetime_input(s: &str) -> Option<DateTime<Utc>> {
    if let Some(t) = parse_datetime(s) {
        return Some(t);
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

/// Converts a stored value back to JSON for field `f`.
pub fn to_json(f: &FieldDef, v: Sql) -> Value {
    match (f.field_type, v) {
        (_, Sql::Null) => Value::Null,
        (T::Boolean, Sql::Integer(i)) => Value::Bool(i != 0),
        (T::Int, Sql::Integer(i)) => Value::from(i),
        (T::Double | T::Currency | T::Percent, Sql::Real(r)) => {
            Number::from_f64(r).map(Value::Number).unwrap_or(Value::Null)
        }
        (T::Double | T::Currency | T::Percent, Sql::Integer(i)) => {
            Number::from_f64(i as f64).map(Value::Number).unwrap_or(Value::Null)
        }
        (_, Sql::Integer(i)) => Value::from(i),
        (_, Sql::Real(r)) => Number::from_f64(r).map(Value::Number).unwrap_or(Value::Null),
        (_, Sql::Text(t)) => Value::String(t),
        (_, Sql::Blob(_)) => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn restricted_picklists_reject_unknown_values() {
        let mut f = FieldDef::new("Status", T::Picklist);
        f.picklist = vec!["New".into(), "Closed".into()];
        f.restricted_picklist = true;
        assert_eq!(to_sql(&f, &json!("closed")).unwrap(), Sql::Text("Closed".into()));
        assert_eq!(
            to_sql(&f, &json!("Open")).unwrap_err().code,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        );
    }

    #[test]
    fn datetimes_are_normalised_to_utc() {
        let f = FieldDef::new("SchedStartTime", T::DateTime);
        assert_eq!(
            to_sql(&f, &json!("2024-05-08T23:20:00+02:00")).unwrap(),
            Sql::Text("2024-05-08T21:20:00.000+0000".into())
        );
        assert!(to_sql(&f, &json!("tomorrow")).is_err());
    }

    #[test]
    fn numbers_accept_numeric_text_only() {
        let f = FieldDef::new("Quantity", T::Double);
        assert_eq!(to_sql(&f, &json!("2.5")).unwrap(), Sql::Real(2.5));
        assert_eq!(to_sql(&f, &json!("abc")).unwrap_err().code, "INVALID_TYPE_ON_FIELD_IN_RECORD");
    }
}
