//! Describe data for the field-service objects, for unit tests.

use soql::schema::{ChildRelationship, FieldSchema, FieldType, ObjectSchema};

use crate::profile::Describes;

fn field(name: &str, field_type: FieldType) -> FieldSchema {
    FieldSchema { name: name.into(), field_type, reference_to: Vec::new(), relationship_name: None }
}

fn lookup(name: &str, targets: &[&str]) -> FieldSchema {
    FieldSchema {
        name: name.into(),
        field_type: FieldType::Reference,
        reference_to: targets.iter().map(|t| t.to_string()).collect(),
        relationship_name: Some(name.trim_end_matches("Id").to_string()),
    }
}

fn child(name: &str, child_object: &str, field: &str) -> ChildRelationship {
    ChildRelationship { name: name.into(), child_object: child_object.into(), field: field.into() }
}

fn object(
    name: &str,
    mut fields: Vec<FieldSchema>,
    children: Vec<ChildRelationship>,
) -> ObjectSchema {
    let mut all = vec![field("Id", FieldType::Id), field("SystemModstamp", FieldType::DateTime)];
    all.append(&mut fields);
    ObjectSchema { name: name.into(), fields: all, child_relationships: children, name_field: None }
}

/// The field-service objects.
pub fn schemas() -> Vec<ObjectSchema> {
    use FieldType::*;
    vec![
        object(
            "ServiceAppointment",
            vec![
                field("AppointmentNumber", String),
                field("Subject", String),
                field("Status", Picklist),
                field("SchedStartTime", DateTime),
                field("SchedEndTime", DateTime),
                lookup("ParentRecordId", &["WorkOrder", "WorkOrderLineItem", "Account", "Asset"]),
                lookup("OwnerId", &["User"]),
                lookup("Technician__c", &["User"]),
            ],
            vec![],
        ),
        object(
            "WorkOrder",
            vec![
                field("WorkOrderNumber", String),
                field("Subject", String),
                field("Status", Picklist),
                lookup("AccountId", &["Account"]),
                lookup("AssetId", &["Asset"]),
                lookup("ContactId", &["Contact"]),
                lookup("OwnerId", &["User"]),
            ],
            vec![
                child("WorkOrderLineItems", "WorkOrderLineItem", "WorkOrderId"),
                child("ServiceAppointments", "ServiceAppointment", "ParentRecordId"),
            ],
        ),
        object(
            "WorkOrderLineItem",
            vec![
                field("LineItemNumber", String),
                field("Status", Picklist),
                field("Description", TextArea),
                lookup("WorkOrderId", &["WorkOrder"]),
                lookup("Product2Id", &["Product2"]),
            ],
            vec![],
        ),
        object(
            "Account",
            vec![
                field("Name", String),
                field("Phone", Phone),
                field("BillingCity", String),
                lookup("ParentId", &["Account"]),
                lookup("OwnerId", &["User"]),
            ],
            vec![
                child("Contacts", "Contact", "AccountId"),
                child("WorkOrders", "WorkOrder", "AccountId"),
                child("Assets", "Asset", "AccountId"),
            ],
        ),
        object(
            "Asset",
            vec![
                field("Name", String),
                field("SerialNumber", String),
                lookup("AccountId", &["Account"]),
                lookup("Product2Id", &["Product2"]),
            ],
            vec![],
        ),
        object(
            "Contact",
            vec![
                field("FirstName", String),
                field("LastName", String),
                field("Email", Email),
                field("Phone", Phone),
                field("External_Key__c", String),
                lookup("AccountId", &["Account"]),
            ],
            vec![],
        ),
        object(
            "Product2",
            vec![
                field("Name", String),
                field("ProductCode", String),
                field("Family", Picklist),
                field("IsActive", Boolean),
            ],
            vec![],
        ),
    ]
}

/// Describe data: the field-service objects plus a few the org knows but nobody described.
pub fn describes() -> Describes {
    Describes::new(["User".to_string(), "Case".to_string(), "Lead".to_string()], schemas())
}

/// The example profile shipped with the crate.
pub const FIELD_SERVICE_PROFILE: &str = include_str!("../profiles/field-service.toml");
