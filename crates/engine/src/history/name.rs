//! The name a person recognizes a record by, for history and messages.

use serde_json::{Map, Value};

/// Fields tried in order for a record's display name.
pub const NAME_FIELDS: &[&str] = &["Name", "Subject", "AppointmentNumber", "WorkOrderNumber"];

/// The first non-empty text among [`NAME_FIELDS`], then `FirstName LastName`; `None` when
/// the record has none of them (callers show the id).
pub fn display_name(record: &Map<String, Value>) -> Option<String> {
    let text = |field: &str| {
        record.get(field).and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty())
    };
    if let Some(name) = NAME_FIELDS.iter().find_map(|f| text(f)) {
        return Some(name.to_string());
    }
    let person: Vec<&str> = ["FirstName", "LastName"].iter().filter_map(|f| text(f)).collect();
    (!person.is_empty()).then(|| person.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn name(v: Value) -> Option<String> {
        display_name(v.as_object().unwrap())
    }

    #[test]
    fn picks_the_first_named_field() {
        assert_eq!(name(json!({"Name": "Acme", "Subject": "x"})).as_deref(), Some("Acme"));
        assert_eq!(name(json!({"Name": "  ", "Subject": "Fix pump"})).as_deref(), Some("Fix pump"));
        assert_eq!(name(json!({"AppointmentNumber": "SA-0001"})).as_deref(), Some("SA-0001"));
        assert_eq!(name(json!({"WorkOrderNumber": "00000012"})).as_deref(), Some("00000012"));
        assert_eq!(
            name(json!({"FirstName": "Ana", "LastName": "Durand"})).as_deref(),
            Some("Ana Durand")
        );
        assert_eq!(name(json!({"LastName": "Durand"})).as_deref(), Some("Durand"));
        assert_eq!(name(json!({"Id": "001", "Name": null})), None);
    }
}
