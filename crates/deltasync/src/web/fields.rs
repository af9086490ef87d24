//! Form fields built from the object's cached describe: each field's label, input type,
//! whether a save needs it, whether it may be written, its picklist values and length.
//! The same describe is what the engine's edit validation checks the values against.

use std::collections::HashMap;

use salesforce::wire::{FieldDescribe, SObjectDescribe};

use engine::edit::EditKind;

use super::objects::{SYSTEM, label};

/// How a field is entered.
#[derive(Debug, Clone, PartialEq)]
pub enum InputKind {
    Text,
    TextArea,
    /// A whole number.
    Int,
    /// A number with `step` (`any` or the describe's scale, e.g. `0.01`).
    Decimal(String),
    Date,
    DateTime,
    Checkbox,
    Email,
    Phone,
    Url,
    /// The active values, as `(value, label)`.
    Picklist(Vec<(String, String)>),
    /// The objects a lookup may point at.
    Reference(Vec<String>),
}

/// One field of a create or edit form.
#[derive(Debug, Clone)]
pub struct FormField {
    /// The field's API name, as the describe spells it.
    pub name: String,
    /// The describe's label, or one made from the name.
    pub label: String,
    /// The describe type (`string`, `picklist`, ...), which values are read by.
    pub describe_type: String,
    pub kind: InputKind,
    /// A create must give a value.
    pub required: bool,
    /// Shown but not writable in this form.
    pub read_only: bool,
    /// The most characters the field holds, for text fields.
    pub max_length: Option<u32>,
}

/// The form's fields: the synced fields the describe knows, in the order given, without
/// the record's system fields. On a create, fields that cannot be set are left out; on an
/// edit they are shown read-only.
pub fn form_fields(
    describe: &SObjectDescribe,
    synced: &[String],
    kind: EditKind,
) -> Vec<FormField> {
    synced
        .iter()
        .filter(|name| !SYSTEM.contains(&name.as_str()))
        .filter_map(|name| describe.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name)))
        .filter(|f| f.field_type != "id")
        .filter_map(|f| {
            let read_only = match kind {
                EditKind::Create => !f.createable,
                EditKind::Update => !f.updateable,
            };
            if read_only && kind == EditKind::Create {
                return None;
            }
            Some(FormField {
                name: f.name.clone(),
                label: if f.label.trim().is_empty() { label(&f.name) } else { f.label.clone() },
                describe_type: f.field_type.clone(),
                kind: input_kind(f),
                required: is_required(f),
                read_only,
                max_length: text_length(f),
            })
        })
        .collect()
}

/// The describe's label of each field of `object`, when its describe is cached.
pub fn field_labels(store: &store::Store, object: &str) -> HashMap<String, String> {
    let Ok(Some(describe)) = engine::edit::cached_describe(store, object) else {
        return HashMap::new();
    };
    describe
        .fields
        .into_iter()
        .filter(|f| !f.label.trim().is_empty())
        .map(|f| (f.name, f.label))
        .collect()
}

/// The object's plural label from its cached describe (`Products`), else one made from
/// its name.
pub fn plural_label(store: &store::Store, object: &str) -> String {
    match engine::edit::cached_describe(store, object) {
        Ok(Some(d)) if !d.label_plural.trim().is_empty() => d.label_plural,
        _ => super::objects::object_label(object),
    }
}

/// A field a create must give: writable, not nillable, with no default, not a boolean.
/// This is the rule the engine's validation applies.
pub fn is_required(f: &FieldDescribe) -> bool {
    f.createable && !f.nillable && !f.defaulted_on_create && f.field_type != "boolean"
}

fn text_length(f: &FieldDescribe) -> Option<u32> {
    let text = matches!(
        f.field_type.as_str(),
        "string" | "textarea" | "email" | "phone" | "url" | "encryptedstring" | "combobox"
    );
    (text && f.length > 0).then_some(f.length)
}

fn input_kind(f: &FieldDescribe) -> InputKind {
    match f.field_type.as_str() {
        "boolean" => InputKind::Checkbox,
        "int" => InputKind::Int,
        "double" | "currency" | "percent" => InputKind::Decimal(step(f.scale)),
        "date" => InputKind::Date,
        "datetime" => InputKind::DateTime,
        "email" => InputKind::Email,
        "phone" => InputKind::Phone,
        "url" => InputKind::Url,
        "textarea" => InputKind::TextArea,
        "picklist" => InputKind::Picklist(
            f.picklist_values
                .iter()
                .filter(|p| p.active)
                .map(|p| {
                    let shown = p.label.as_deref().filter(|l| !l.is_empty()).unwrap_or(&p.value);
                    (p.value.clone(), shown.to_owned())
                })
                .collect(),
        ),
        "reference" => InputKind::Reference(f.reference_to.clone()),
        _ => InputKind::Text,
    }
}

/// `0.01` for scale 2; `any` when the describe gives no scale.
fn step(scale: u32) -> String {
    if scale == 0 || scale > 12 {
        return "any".into();
    }
    format!("0.{}1", "0".repeat(scale as usize - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use salesforce::wire::PicklistEntry;

    fn field(name: &str, field_type: &str) -> FieldDescribe {
        FieldDescribe {
            name: name.into(),
            field_type: field_type.into(),
            nillable: true,
            createable: true,
            updateable: true,
            ..FieldDescribe::default()
        }
    }

    #[test]
    fn fields_follow_the_describe() {
        let mut subject = field("Name", "string");
        subject.nillable = false;
        subject.length = 80;
        subject.label = "Account Name".into();
        let mut status = field("Status", "picklist");
        status.picklist_values = vec![
            PicklistEntry { value: "New".into(), active: true, ..PicklistEntry::default() },
            PicklistEntry { value: "Old".into(), active: false, ..PicklistEntry::default() },
        ];
        let mut number = field("Number", "string");
        number.createable = false;
        number.updateable = false;
        let mut parent = field("ParentId", "reference");
        parent.updateable = false;
        parent.nillable = false;
        let describe = SObjectDescribe {
            name: "Thing".into(),
            fields: vec![
                field("Id", "id"),
                subject,
                status,
                number,
                parent,
                field("Cost", "currency"),
            ],
            ..SObjectDescribe::default()
        };
        let synced: Vec<String> =
            ["Id", "Name", "Status", "Number", "ParentId", "Cost", "Gone"].map(String::from).into();

        let create = form_fields(&describe, &synced, EditKind::Create);
        let names: Vec<&str> = create.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Name", "Status", "ParentId", "Cost"]);
        assert_eq!(create[0].label, "Account Name");
        assert!(create[0].required && create[2].required && !create[1].required);
        assert_eq!(create[0].max_length, Some(80));
        assert_eq!(create[1].kind, InputKind::Picklist(vec![("New".into(), "New".into())]));
        assert!(create.iter().all(|f| !f.read_only));

        let edit = form_fields(&describe, &synced, EditKind::Update);
        let read_only: Vec<&str> =
            edit.iter().filter(|f| f.read_only).map(|f| f.name.as_str()).collect();
        assert_eq!(read_only, ["Number", "ParentId"]);
        assert_eq!(step(2), "0.01");
        assert_eq!(step(0), "any");
    }
}
