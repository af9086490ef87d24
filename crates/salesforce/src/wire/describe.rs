//! Describe answers: describeGlobal, one object's describe, and its conversion into the
//! query schema that the SOQL compiler reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use soql::schema::{ChildRelationship, FieldSchema, FieldType, ObjectSchema};

/// `GET .../sobjects/`: `{"encoding":"UTF-8","maxBatchSize":200,"sobjects":[...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeGlobal {
    #[serde(default = "utf8")]
    pub encoding: String,
    #[serde(default = "max_batch_size")]
    pub max_batch_size: u32,
    #[serde(default)]
    pub sobjects: Vec<GlobalSObject>,
}

fn utf8() -> String {
    "UTF-8".into()
}

fn max_batch_size() -> u32 {
    200
}

/// One object in describeGlobal.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GlobalSObject {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    /// `null` for objects without their own ids.
    pub key_prefix: Option<String>,
    pub custom: bool,
    pub createable: bool,
    pub updateable: bool,
    pub deletable: bool,
    pub queryable: bool,
    pub replicateable: bool,
    pub retrieveable: bool,
    pub searchable: bool,
    pub urls: BTreeMap<String, String>,
}

/// `GET .../sobjects/{Object}/describe`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SObjectDescribe {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    pub key_prefix: Option<String>,
    pub custom: bool,
    pub createable: bool,
    pub updateable: bool,
    pub deletable: bool,
    pub queryable: bool,
    pub replicateable: bool,
    pub retrieveable: bool,
    pub searchable: bool,
    pub fields: Vec<FieldDescribe>,
    pub child_relationships: Vec<ChildRelationshipDescribe>,
    pub urls: BTreeMap<String, String>,
}

/// One field in an object's describe.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldDescribe {
    pub name: String,
    /// The describe type name: `id`, `string`, `reference`, `datetime`, `picklist`, ...
    #[serde(rename = "type")]
    pub field_type: String,
    pub label: String,
    pub length: u32,
    pub precision: u32,
    pub scale: u32,
    pub digits: u32,
    pub custom: bool,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub filterable: bool,
    pub sortable: bool,
    pub external_id: bool,
    pub id_lookup: bool,
    pub unique: bool,
    pub calculated: bool,
    pub defaulted_on_create: bool,
    pub name_field: bool,
    pub reference_to: Vec<String>,
    /// `null` unless the field is a reference.
    pub relationship_name: Option<String>,
    pub picklist_values: Vec<PicklistEntry>,
    /// For picklists: whether the org refuses values outside `picklist_values`
    /// (`INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`); an unrestricted picklist takes any
    /// value that fits its length.
    pub restricted_picklist: bool,
    pub default_value: Option<serde_json::Value>,
}

impl FieldDescribe {
    /// The field's type, or `None` for types the query schema does not model
    /// (`address`, `location`, `base64`, `time`, `anyType`, ...).
    pub fn schema_type(&self) -> Option<FieldType> {
        FieldType::from_describe_name(&self.field_type)
    }
}

/// One picklist value: `{"value":"New","label":"New","active":true,"defaultValue":false}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PicklistEntry {
    pub value: String,
    pub label: Option<String>,
    pub active: bool,
    pub default_value: bool,
}

/// One child relationship: `{"childSObject":"Contact","field":"AccountId","relationshipName":"Contacts","cascadeDelete":false}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChildRelationshipDescribe {
    #[serde(rename = "childSObject")]
    pub child_sobject: String,
    pub field: String,
    /// `null` for relationships a query cannot name.
    pub relationship_name: Option<String>,
    pub cascade_delete: bool,
    pub restricted_delete: bool,
    pub deprecated_and_hidden: bool,
}

impl SObjectDescribe {
    /// The object's shape as the SOQL compiler sees it. Fields of types the schema does
    /// not model and child relationships without a name are left out.
    pub fn to_schema(&self) -> ObjectSchema {
        let fields = self
            .fields
            .iter()
            .filter_map(|f| {
                let Some(field_type) = f.schema_type() else {
                    tracing::trace!(object = %self.name, field = %f.name, kind = %f.field_type, "field type not modelled");
                    return None;
                };
                Some(FieldSchema {
                    name: f.name.clone(),
                    field_type,
                    reference_to: f.reference_to.clone(),
                    relationship_name: f.relationship_name.clone().filter(|r| !r.is_empty()),
                })
            })
            .collect();
        let child_relationships = self
            .child_relationships
            .iter()
            .filter_map(|c| {
                let name = c.relationship_name.as_ref().filter(|r| !r.is_empty())?;
                Some(ChildRelationship {
                    name: name.clone(),
                    child_object: c.child_sobject.clone(),
                    field: c.field.clone(),
                })
            })
            .collect();
        let name_field = self.fields.iter().find(|f| f.name_field).map(|f| f.name.clone());
        ObjectSchema { name: self.name.clone(), fields, child_relationships, name_field }
    }
}
