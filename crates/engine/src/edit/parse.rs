//! `field=value` text, as the command line takes it, read into typed JSON values by each
//! field's describe type: numbers, booleans, dates, and `null` (or nothing) for empty.

use salesforce::wire::SObjectDescribe;
use serde_json::{Number, Value};
use store::Record;

use super::validate::{FieldError, find_field};

/// Reads `field=value` assignments; field names are matched case-insensitively and come
/// back as the describe spells them. Type checks beyond reading happen in validation.
pub fn parse_assignments(
    describe: &SObjectDescribe,
    assignments: &[String],
) -> Result<Record, Vec<FieldError>> {
    let mut out = Record::new();
    let mut errors = Vec::new();
    for assignment in assignments {
        let Some((name, text)) = assignment.split_once('=') else {
            errors.push(FieldError::new(assignment, "expected field=value"));
            continue;
        };
        let name = name.trim();
        let Some(field) = find_field(describe, name) else {
            errors.push(FieldError::new(name, format!("no such field on {}", describe.name)));
            continue;
        };
        match parse_value(&field.field_type, text) {
            Ok(value) => {
                out.insert(field.name.clone(), value);
            }
            Err(message) => errors.push(FieldError::new(&field.name, message)),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Reads one value for a field of describe type `field_type`.
pub fn parse_value(field_type: &str, text: &str) -> Result<Value, String> {
    if text.is_empty() || text == "null" {
        return Ok(Value::Null);
    }
    match field_type {
        "boolean" => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("'{text}' is not true or false")),
        },
        "int" => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("'{text}' is not a whole number")),
        "double" | "currency" | "percent" => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("'{text}' is not a number")),
        _ => Ok(Value::String(text.to_owned())),
    }
}
