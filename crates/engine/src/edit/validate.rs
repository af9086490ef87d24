//! Per-field checks of an edit against an object's describe: the field exists and may be
//! written, the value has the field's type, fits its length and, for restricted picklists,
//! is one of its values; a create gives every required field.

use salesforce::wire::{FieldDescribe, SObjectDescribe};
use serde_json::Value;
use store::Record;

/// One field's problem, shown as `Subject: too long (max 255)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field as the describe spells it (or as given, when unknown).
    pub field: String,
    /// What is wrong with the value.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// Which edit the values are for: creates may set createable fields and must give the
/// required ones; updates may set updateable fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditKind {
    /// A new record.
    Create,
    /// A change to an existing record.
    Update,
}

/// Field names compared case-insensitively, as Salesforce does.
pub(crate) fn find_field<'a>(
    describe: &'a SObjectDescribe,
    name: &str,
) -> Option<&'a FieldDescribe> {
    describe.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

/// Checks every value; returns the values keyed by canonical field names, and one error
/// per field that does not pass.
pub fn validate_fields(
    describe: &SObjectDescribe,
    fields: &Record,
    kind: EditKind,
) -> (Record, Vec<FieldError>) {
    let mut out = Record::new();
    let mut errors = Vec::new();
    for (name, value) in fields {
        let Some(field) = find_field(describe, name) else {
            errors.push(FieldError::new(name, format!("no such field on {}", describe.name)));
            continue;
        };
        match check_field(field, value, kind) {
            Ok(value) => {
                out.insert(field.name.clone(), value);
            }
            Err(message) => errors.push(FieldError::new(&field.name, message)),
        }
    }
    if kind == EditKind::Create {
        for field in describe.fields.iter().filter(|f| is_required(f)) {
            if !out.contains_key(&field.name) && !errors.iter().any(|e| e.field == field.name) {
                errors.push(FieldError::new(&field.name, "required"));
            }
        }
    }
    (out, errors)
}

/// A field a create must give: writable, not nillable, with no default and not a boolean
/// (booleans default to false).
fn is_required(field: &FieldDescribe) -> bool {
    field.createable
        && !field.nillable
        && !field.defaulted_on_create
        && field.field_type != "boolean"
}

/// Checks one value against its field; returns the value in the form the store keeps.
pub fn check_field(field: &FieldDescribe, value: &Value, kind: EditKind) -> Result<Value, String> {
    match kind {
        EditKind::Create if !field.createable => return Err("cannot be set".into()),
        EditKind::Update if !field.updateable => return Err("cannot be changed".into()),
        _ => {}
    }
    if value.is_null() {
        if !field.nillable && field.field_type != "boolean" {
            return Err("required: cannot be empty".into());
        }
        return Ok(Value::Null);
    }
    match field.field_type.as_str() {
        "boolean" => match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => Err("expected true or false".into()),
        },
        "int" => match value.as_i64() {
            Some(_) => Ok(value.clone()),
            None => Err("expected a whole number".into()),
        },
        "double" | "currency" | "percent" => {
            let Some(number) = value.as_f64() else {
                return Err("expected a number".into());
            };
            check_digits(field, number)?;
            Ok(value.clone())
        }
        "date" => {
            let text = expect_text(value)?;
            salesforce::time::parse_date(text)
                .map(|d| Value::String(salesforce::time::format_date(d)))
                .map_err(|_| format!("'{text}' is not a date (YYYY-MM-DD)"))
        }
        "datetime" => {
            let text = expect_text(value)?;
            salesforce::time::parse_datetime(text)
                .map(|t| Value::String(salesforce::time::format_datetime(t)))
                .map_err(|_| format!("'{text}' is not a date and time (YYYY-MM-DDTHH:MM:SSZ)"))
        }
        "reference" | "id" => {
            let text = expect_text(value)?;
            if store::pending::is_local_id(text) {
                return Ok(value.clone());
            }
            salesforce::SfId::parse(text)
                .map(|id| Value::String(id.to_string()))
                .map_err(|_| format!("'{text}' is not a record id"))
        }
        "picklist" => {
            let text = expect_text(value)?;
            check_length(field, text)?;
            check_picklist(field, text)?;
            Ok(value.clone())
        }
        "multipicklist" => {
            let text = expect_text(value)?;
            check_length(field, text)?;
            for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                check_picklist(field, part)?;
            }
            Ok(value.clone())
        }
        "email" => {
            let text = expect_text(value)?;
            check_length(field, text)?;
            let valid = text.split_once('@').is_some_and(|(user, host)| {
                !user.is_empty() && host.contains('.') && !text.contains(char::is_whitespace)
            });
            if !valid {
                return Err(format!("'{text}' is not an email address"));
            }
            Ok(value.clone())
        }
        _ => {
            let text = expect_text(value)?;
            check_length(field, text)?;
            Ok(value.clone())
        }
    }
}

fn expect_text(value: &Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| "expected text".to_string())
}

fn check_length(field: &FieldDescribe, text: &str) -> Result<(), String> {
    let length = text.chars().count();
    if field.length > 0 && length > field.length as usize {
        return Err(format!("too long (max {})", field.length));
    }
    Ok(())
}

/// Digits left of the decimal point, when the describe gives a precision and scale.
fn check_digits(field: &FieldDescribe, number: f64) -> Result<(), String> {
    if field.precision == 0 || !number.is_finite() {
        return if number.is_finite() { Ok(()) } else { Err("expected a finite number".into()) };
    }
    let whole = field.precision.saturating_sub(field.scale);
    let limit = 10f64.powi(whole as i32);
    if number.abs().trunc() >= limit {
        return Err(format!("too large (at most {whole} digits before the decimal point)"));
    }
    Ok(())
}

/// A value of a restricted picklist must be one of the active values; an unrestricted
/// picklist takes any value (its length is checked apart).
fn check_picklist(field: &FieldDescribe, text: &str) -> Result<(), String> {
    if !field.restricted_picklist {
        return Ok(());
    }
    let active: Vec<&str> =
        field.picklist_values.iter().filter(|p| p.active).map(|p| p.value.as_str()).collect();
    if active.is_empty() || active.contains(&text) {
        return Ok(());
    }
    Err(format!("'{text}' is not one of: {}", active.join(", ")))
}
