//! Loads custom objects and custom fields from a JSON or TOML schema file.
//!
//! ```toml
//! [[objects]]
//! name = "Site__c"
//! keyPrefix = "a01"
//! sharing = "ReadWrite"      # Private | Read | ReadWrite | ControlledByParent:<Field>
//! owner = true
//! [[objects.fields]]
//! name = "Code__c"
//! type = "string"            # describe type names
//! length = 40
//! externalId = true
//! required = true
//! ```
//!
//! An entry naming a standard object adds its fields and rules to that object.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use soql::schema::FieldType;

use super::{FieldDef, ObjectDef, Sharing, ValidationRule};
use crate::error::StartError;

#[derive(Debug, Deserialize)]
struct SchemaFile {
    #[serde(default)]
    objects: Vec<ObjectEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectEntry {
    name: String,
    label: Option<String>,
    label_plural: Option<String>,
    key_prefix: Option<String>,
    sharing: Option<String>,
    #[serde(default = "yes")]
    owner: bool,
    #[serde(default)]
    fields: Vec<FieldEntry>,
    #[serde(default)]
    validation_rules: Vec<RuleEntry>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FieldEntry {
    name: String,
    #[serde(rename = "type")]
    field_type: String,
    label: Option<String>,
    length: Option<u32>,
    precision: Option<u32>,
    scale: Option<u32>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    external_id: bool,
    #[serde(default)]
    unique: bool,
    reference_to: Option<String>,
    relationship_name: Option<String>,
    child_relationship: Option<String>,
    #[serde(default)]
    cascade_delete: bool,
    #[serde(default)]
    picklist_values: Vec<String>,
    #[serde(default)]
    restricted: bool,
    default_value: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleEntry {
    name: String,
    field: String,
    values: Vec<String>,
    required_field: String,
    message: String,
}

/// Reads a schema file (`.toml`, otherwise JSON) into object definitions.
pub fn load_schema_file(path: &Path) -> Result<Vec<ObjectDef>, StartError> {
    let fail = |message: String| StartError::Schema { path: path.display().to_string(), message };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let file: SchemaFile = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str(&text).map_err(|e| fail(e.to_string()))?
    } else {
        serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?
    };
    file.objects.into_iter().enumerate().map(|(i, o)| object_def(o, i).map_err(fail)).collect()
}

fn object_def(entry: ObjectEntry, index: usize) -> Result<ObjectDef, String> {
    let sharing = match entry.sharing.as_deref() {
        None => Sharing::ReadWrite,
        Some(s) => Sharing::parse(s).ok_or_else(|| format!("unknown sharing '{s}'"))?,
    };
    let mut fields = super::standard::system_fields(entry.owner);
    for f in entry.fields {
        fields.push(field_def(f)?);
    }
    let custom = entry.name.ends_with("__c");
    Ok(ObjectDef {
        label: entry.label.unwrap_or_else(|| super::default_label(&entry.name)),
        label_plural: entry.label_plural.unwrap_or_else(|| format!("{}s", entry.name)),
        key_prefix: entry.key_prefix.unwrap_or_else(|| format!("a{:02}", index + 1)),
        custom,
        createable: true,
        sharing,
        fields,
        validation_rules: entry
            .validation_rules
            .into_iter()
            .map(|r| ValidationRule {
                name: r.name,
                field: r.field,
                values: r.values,
                required_field: r.required_field,
                message: r.message,
            })
            .collect(),
        user_access_fields: if entry.owner { vec!["OwnerId".to_string()] } else { Vec::new() },
        name: entry.name,
    })
}

fn field_def(f: FieldEntry) -> Result<FieldDef, String> {
    let t = FieldType::from_describe_name(&f.field_type)
        .ok_or_else(|| format!("field {}: unknown type '{}'", f.name, f.field_type))?;
    let mut d = FieldDef::new(&f.name, t);
    if let Some(l) = f.label {
        d.label = l;
    }
    if let Some(n) = f.length {
        d.length = n;
    }
    if let Some(p) = f.precision {
        d.precision = p;
    }
    if let Some(s) = f.scale {
        d.scale = s;
    }
    if f.required {
        d.required = true;
        d.nillable = false;
    }
    d.external_id = f.external_id;
    d.unique = f.unique;
    if t == FieldType::Reference {
        let to = f.reference_to.ok_or_else(|| format!("field {}: referenceTo missing", f.name))?;
        d.reference_to = vec![to];
        d.relationship_name =
            Some(f.relationship_name.unwrap_or_else(|| match f.name.strip_suffix("__c") {
                Some(base) => format!("{base}__r"),
                None => f.name.trim_end_matches("Id").to_string(),
            }));
        d.child_relationship = f.child_relationship;
        d.cascade_delete = f.cascade_delete;
    }
    d.picklist = f.picklist_values;
    d.restricted_picklist = f.restricted;
    if f.default_value.is_some() {
        d.default_value = f.default_value;
        d.defaulted_on_create = true;
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_files_declare_objects_fields_and_rules() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schema.toml");
        std::fs::write(
            &path,
            r#"
[[objects]]
name = "Site__c"
keyPrefix = "a07"
sharing = "ControlledByParent:Account__c"

[[objects.fields]]
name = "Account__c"
type = "reference"
referenceTo = "Account"
childRelationship = "Sites__r"
required = true

[[objects.fields]]
name = "Code__c"
type = "string"
length = 12
externalId = true
unique = true

[[objects.validationRules]]
name = "Closed_Needs_Code"
field = "Status__c"
values = ["Closed"]
requiredField = "Code__c"
message = "Code needed"
"#,
        )
        .unwrap();
        let objects = load_schema_file(&path).unwrap();
        let site = &objects[0];
        assert_eq!(site.key_prefix, "a07");
        assert_eq!(site.sharing, Sharing::ControlledByParent("Account__c".into()));
        let account = site.field("Account__c").unwrap();
        assert_eq!(account.relationship_name.as_deref(), Some("Account__r"));
        assert!(account.required);
        let code = site.field("Code__c").unwrap();
        assert!(code.external_id && code.unique);
        assert_eq!(code.length, 12);
        assert_eq!(site.validation_rules[0].message, "Code needed");

        std::fs::write(&path, "[[objects]]\nname = 1").unwrap();
        assert!(matches!(load_schema_file(&path), Err(StartError::Schema { .. })));
    }
}
