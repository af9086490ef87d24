//! What the screens need to know about an object beyond its schema: which field names a
//! record and how fields are labelled. Which fields a form offers comes from the describe
//! (see [`super::fields`]).

use soql::schema::{FieldType, ObjectSchema};
use store::Record;

use crate::app::AppHandle;

/// Fields the server keeps about a record, shown apart from its details.
pub const SYSTEM: &[&str] = &[
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
    "LastViewedDate",
    "LastReferencedDate",
    "OwnerId",
];

/// Auto-number fields, shown beside a record's name.
const AUTO_NUMBER: &[&str] = &["WorkOrderNumber", "LineItemNumber", "AppointmentNumber"];

/// The field that names a record in lists and lookups.
pub fn name_field(schema: &ObjectSchema, synced: &[String]) -> String {
    let has = |n: &str| {
        schema.fields.iter().any(|f| f.name == n)
            && (synced.is_empty() || synced.iter().any(|s| s == n))
    };
    for candidate in ["Name", "Subject", "LastName", "Title"] {
        if has(candidate) {
            return candidate.to_owned();
        }
    }
    schema
        .fields
        .iter()
        .find(|f| f.field_type == FieldType::String && has(&f.name))
        .map_or_else(|| "Id".to_owned(), |f| f.name.clone())
}

/// The auto-number field shown beside a record's name, if the object has one synced.
pub fn number_field(schema: &ObjectSchema, synced: &[String]) -> Option<String> {
    AUTO_NUMBER
        .iter()
        .find(|n| schema.fields.iter().any(|f| f.name == **n) && synced.iter().any(|s| s == *n))
        .map(|n| (*n).to_owned())
}

/// The fields the device syncs for `object`, in the order the schema lists them.
pub fn synced_fields(handle: &AppHandle, schema: &ObjectSchema) -> Vec<String> {
    let profile = handle.engine().profile();
    let Some(object) = profile.object(&schema.name) else {
        return schema.fields.iter().map(|f| f.name.clone()).collect();
    };
    schema
        .fields
        .iter()
        .filter(|f| object.fetch_fields.iter().any(|s| s.eq_ignore_ascii_case(&f.name)))
        .map(|f| f.name.clone())
        .collect()
}

/// `BillingCity` → `Billing City`, `AccountId` → `Account`, `Technician__c` → `Technician`.
pub fn label(field: &str) -> String {
    let base = field.strip_suffix("__c").unwrap_or(field);
    let base = if base.len() > 2 && base.ends_with("Id") { &base[..base.len() - 2] } else { base };
    let mut out = String::new();
    let chars: Vec<char> = base.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        let prev_lower = i > 0 && chars[i - 1].is_lowercase();
        if i > 0 && c.is_uppercase() && (prev_lower || next_lower) {
            out.push(' ');
        }
        if *c == '_' {
            out.push(' ');
        } else {
            out.push(*c);
        }
    }
    out.replace("  ", " ")
}

/// `WorkOrderLineItem` → `Work Order Line Item`.
pub fn object_label(object: &str) -> String {
    label(object)
}

/// A record's display name: its name field, else its number, else its id.
pub fn display_name(record: &Record, name_field: &str, number_field: Option<&str>) -> String {
    let text = |f: &str| {
        record.get(f).and_then(|v| match v {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    text(name_field)
        .or_else(|| number_field.and_then(text))
        .or_else(|| text("Id"))
        .unwrap_or_else(|| "(unnamed)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_like_words() {
        assert_eq!(label("BillingCity"), "Billing City");
        assert_eq!(label("AccountId"), "Account");
        assert_eq!(label("Technician__c"), "Technician");
        assert_eq!(label("SchedStartTime"), "Sched Start Time");
        assert_eq!(label("Id"), "Id");
        assert_eq!(object_label("WorkOrderLineItem"), "Work Order Line Item");
    }
}
