//! The org's metadata: objects, fields with their describe properties, sharing models and
//! validation rules. [`Schema::soql_object`] projects it onto `soql::schema` for queries.

mod file;
mod standard;

use std::collections::HashMap;

use serde_json::Value;
use soql::schema::{ChildRelationship, FieldSchema, FieldType, ObjectSchema};

pub use file::load_schema_file;

/// How records of an object are shared with users who are not admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sharing {
    /// Everyone reads and edits everything.
    ReadWrite,
    /// Everyone reads; only the owner edits.
    Read,
    /// Only the owner reads and edits.
    Private,
    /// Access follows the parent record named by this reference field.
    ControlledByParent(String),
}

impl std::fmt::Display for Sharing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sharing::ReadWrite => f.write_str("ReadWrite"),
            Sharing::Read => f.write_str("Read"),
            Sharing::Private => f.write_str("Private"),
            Sharing::ControlledByParent(field) => write!(f, "ControlledByParent:{field}"),
        }
    }
}

impl Sharing {
    /// Parses what `Display` writes.
    pub fn parse(text: &str) -> Option<Sharing> {
        match text.strip_prefix("ControlledByParent:") {
            Some(field) => Some(Sharing::ControlledByParent(field.to_string())),
            None => Sharing::parse_default(text),
        }
    }

    /// Parses `Private`, `Read`, `ReadWrite` (case-insensitive).
    pub fn parse_default(text: &str) -> Option<Sharing> {
        match text.to_ascii_lowercase().as_str() {
            "private" => Some(Sharing::Private),
            "read" | "publicread" | "publicreadonly" => Some(Sharing::Read),
            "readwrite" | "publicreadwrite" => Some(Sharing::ReadWrite),
            _ => None,
        }
    }
}

/// One field and its describe properties.
#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub label: String,
    pub field_type: FieldType,
    /// Maximum characters for text types; 0 otherwise.
    pub length: u32,
    pub precision: u32,
    pub scale: u32,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    /// Must be present on create (a createable, non-nillable field without a default).
    pub required: bool,
    pub external_id: bool,
    pub unique: bool,
    pub custom: bool,
    pub calculated: bool,
    pub defaulted_on_create: bool,
    pub default_value: Option<Value>,
    pub reference_to: Vec<String>,
    pub relationship_name: Option<String>,
    /// For references: the child relationship name the parent exposes.
    pub child_relationship: Option<String>,
    /// For references: deleting the parent deletes this record.
    pub cascade_delete: bool,
    pub picklist: Vec<String>,
    pub restricted_picklist: bool,
    /// The record's name field.
    pub name_field: bool,
}

impl FieldDef {
    /// A field of this type with neutral properties: nillable, createable, updateable.
    pub fn new(name: &str, field_type: FieldType) -> FieldDef {
        let length = match field_type {
            FieldType::Id | FieldType::Reference => 18,
            FieldType::String | FieldType::Picklist | FieldType::Url => 255,
            FieldType::Email | FieldType::Phone => 80,
            FieldType::TextArea => 32000,
            FieldType::MultiPicklist => 4099,
            _ => 0,
        };
        FieldDef {
            name: name.to_string(),
            label: default_label(name),
            field_type,
            length,
            precision: if matches!(
                field_type,
                FieldType::Double | FieldType::Currency | FieldType::Percent
            ) {
                18
            } else {
                0
            },
            scale: if matches!(
                field_type,
                FieldType::Double | FieldType::Currency | FieldType::Percent
            ) {
                2
            } else {
                0
            },
            nillable: field_type != FieldType::Boolean,
            createable: true,
            updateable: true,
            required: false,
            external_id: false,
            unique: false,
            custom: name.ends_with("__c"),
            calculated: false,
            defaulted_on_create: field_type == FieldType::Boolean,
            default_value: (field_type == FieldType::Boolean).then_some(Value::Bool(false)),
            reference_to: Vec::new(),
            relationship_name: None,
            child_relationship: None,
            cascade_delete: false,
            picklist: Vec::new(),
            restricted_picklist: false,
            name_field: false,
        }
    }

    /// Whether values are stored as text.
    pub fn is_text(&self) -> bool {
        self.field_type.sql_affinity() == "TEXT"
    }
}

/// Turns `Resolution_Note__c` or `AccountId` into a readable label.
pub(crate) fn default_label(name: &str) -> String {
    let base = name.strip_suffix("__c").unwrap_or(name);
    let base = base.strip_suffix("Id").filter(|b| !b.is_empty()).unwrap_or(base);
    let mut out = String::new();
    let mut prev_lower = false;
    for c in base.chars() {
        if c == '_' {
            out.push(' ');
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c);
    }
    if name.ends_with("Id") && name.len() > 2 && !name.ends_with("__c") {
        out.push_str(" ID");
    }
    out
}

/// A validation rule: when `field` holds one of `values`, `required_field` must not be blank.
#[derive(Debug, Clone)]
pub struct ValidationRule {
    pub name: String,
    pub field: String,
    pub values: Vec<String>,
    pub required_field: String,
    pub message: String,
}

/// One object (sObject type) with its fields and rules.
#[derive(Debug, Clone)]
pub struct ObjectDef {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    pub key_prefix: String,
    pub custom: bool,
    pub createable: bool,
    pub sharing: Sharing,
    pub fields: Vec<FieldDef>,
    pub validation_rules: Vec<ValidationRule>,
    /// User-reference fields whose user may read and edit the record (`OwnerId`, ...).
    pub user_access_fields: Vec<String>,
}

impl ObjectDef {
    /// The field with this name, compared case-insensitively.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Whether records have an owner.
    pub fn has_owner(&self) -> bool {
        self.field("OwnerId").is_some()
    }
}

/// A child relationship as describe lists it on the parent.
#[derive(Debug, Clone)]
pub struct ChildRel {
    pub child_object: String,
    pub field: String,
    pub relationship_name: Option<String>,
    pub cascade_delete: bool,
}

/// All objects of the org, indexed by name and key prefix.
#[derive(Debug)]
pub struct Schema {
    objects: Vec<ObjectDef>,
    by_name: HashMap<String, usize>,
    by_prefix: HashMap<String, usize>,
    children: Vec<Vec<ChildRel>>,
    soql: Vec<ObjectSchema>,
}

impl Schema {
    /// The standard objects plus `extra` (custom objects, or extra fields on standard ones).
    pub fn with_extra(extra: Vec<ObjectDef>) -> Schema {
        let mut objects = standard::standard_objects();
        for obj in extra {
            if let Some(existing) =
                objects.iter_mut().find(|o| o.name.eq_ignore_ascii_case(&obj.name))
            {
                for f in obj.fields {
                    if existing.field(&f.name).is_none() {
                        existing.fields.push(f);
                    }
                }
                existing.validation_rules.extend(obj.validation_rules);
            } else {
                objects.push(obj);
            }
        }
        Schema::build(objects)
    }

    fn build(objects: Vec<ObjectDef>) -> Schema {
        let by_name =
            objects.iter().enumerate().map(|(i, o)| (o.name.to_ascii_lowercase(), i)).collect();
        let by_prefix =
            objects.iter().enumerate().map(|(i, o)| (o.key_prefix.clone(), i)).collect();

        // Child relationships come from every reference field that points at the object.
        let mut children = vec![Vec::new(); objects.len()];
        for child in &objects {
            for f in &child.fields {
                for target in &f.reference_to {
                    if let Some(&pi) =
                        objects.iter().position(|o| o.name.eq_ignore_ascii_case(target)).as_ref()
                    {
                        children[pi].push(ChildRel {
                            child_object: child.name.clone(),
                            field: f.name.clone(),
                            relationship_name: f.child_relationship.clone(),
                            cascade_delete: f.cascade_delete,
                        });
                    }
                }
            }
        }

        let soql = objects
            .iter()
            .zip(&children)
            .map(|(o, kids)| ObjectSchema {
                name: o.name.clone(),
                fields: o
                    .fields
                    .iter()
                    .map(|f| FieldSchema {
                        name: f.name.clone(),
                        field_type: f.field_type,
                        reference_to: f.reference_to.clone(),
                        relationship_name: f.relationship_name.clone(),
                    })
                    .collect(),
                child_relationships: kids
                    .iter()
                    .filter_map(|c| {
                        Some(ChildRelationship {
                            name: c.relationship_name.clone()?,
                            child_object: c.child_object.clone(),
                            field: c.field.clone(),
                        })
                    })
                    .collect(),
                name_field: o.fields.iter().find(|f| f.name_field).map(|f| f.name.clone()),
            })
            .collect();
        Schema { objects, by_name, by_prefix, children, soql }
    }

    /// Every object, in declaration order.
    pub fn objects(&self) -> &[ObjectDef] {
        &self.objects
    }

    /// The object with this name, compared case-insensitively.
    pub fn object(&self, name: &str) -> Option<&ObjectDef> {
        self.by_name.get(&name.to_ascii_lowercase()).map(|&i| &self.objects[i])
    }

    /// The object whose ids start with this key prefix.
    pub fn object_by_prefix(&self, prefix: &str) -> Option<&ObjectDef> {
        self.by_prefix.get(prefix).map(|&i| &self.objects[i])
    }

    /// The child relationships of an object.
    pub fn children(&self, name: &str) -> &[ChildRel] {
        self.by_name.get(&name.to_ascii_lowercase()).map(|&i| &self.children[i][..]).unwrap_or(&[])
    }

    /// The object as the SOQL compiler sees it.
    pub fn soql_object(&self, name: &str) -> Option<&ObjectSchema> {
        self.by_name.get(&name.to_ascii_lowercase()).map(|&i| &self.soql[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_naturally() {
        assert_eq!(default_label("Resolution_Note__c"), "Resolution Note");
        assert_eq!(default_label("AccountId"), "Account ID");
        assert_eq!(default_label("SchedStartTime"), "Sched Start Time");
    }

    #[test]
    fn standard_objects_link_children() {
        let s = Schema::with_extra(Vec::new());
        let wo = s.soql_object("workorder").unwrap();
        assert!(wo.child_relationship("WorkOrderLineItems").is_some());
        assert_eq!(s.object_by_prefix("0WO").unwrap().name, "WorkOrder");
        assert!(s.children("Account").iter().any(|c| c.child_object == "Contact"));
    }
}
