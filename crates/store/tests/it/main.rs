//! Integration tests of the store over real encrypted SQLite files in temporary directories.

mod history;
mod membership;
mod open;
mod paging;
mod pending;
mod props;
mod query;
mod records;
mod recreate;

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use salesforce::SfId;
use serde_json::{Value, json};
use soql::schema::{ChildRelationship, FieldSchema, FieldType, ObjectSchema};
use store::{Record, Store, StoreKey};

/// A store in a fresh temporary directory; keep the `TempDir` alive while using it.
#[derive(Debug)]
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub key: StoreKey,
    pub store: Store,
}

#[allow(clippy::new_without_default)]
impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let key = StoreKey::generate();
        let store = Store::open(&dir.path().join("store.db"), &key).unwrap();
        store.ensure_object(&account_schema(), &["Industry"]).unwrap();
        store.ensure_object(&contact_schema(), &[]).unwrap();
        Fixture { dir, key, store }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("store.db")
    }

    pub fn reopen(self) -> Fixture {
        let Fixture { dir, key, store } = self;
        drop(store);
        let store = Store::open(&dir.path().join("store.db"), &key).unwrap();
        Fixture { dir, key, store }
    }
}

pub fn field(name: &str, field_type: FieldType) -> FieldSchema {
    FieldSchema { name: name.into(), field_type, reference_to: vec![], relationship_name: None }
}

pub fn reference(name: &str, to: &str, relationship: &str) -> FieldSchema {
    FieldSchema {
        name: name.into(),
        field_type: FieldType::Reference,
        reference_to: vec![to.into()],
        relationship_name: Some(relationship.into()),
    }
}

pub fn account_schema() -> ObjectSchema {
    ObjectSchema {
        name: "Account".into(),
        fields: vec![
            field("Id", FieldType::Id),
            field("Name", FieldType::String),
            field("Industry", FieldType::Picklist),
            field("AnnualRevenue", FieldType::Currency),
            field("NumberOfEmployees", FieldType::Int),
            field("IsActive__c", FieldType::Boolean),
            field("LastActivityDate", FieldType::Date),
            field("SystemModstamp", FieldType::DateTime),
            reference("ParentId", "Account", "Parent"),
        ],
        child_relationships: vec![ChildRelationship {
            name: "Contacts".into(),
            child_object: "Contact".into(),
            field: "AccountId".into(),
        }],
        name_field: None,
    }
}

pub fn contact_schema() -> ObjectSchema {
    ObjectSchema {
        name: "Contact".into(),
        fields: vec![
            field("Id", FieldType::Id),
            field("LastName", FieldType::String),
            field("Email", FieldType::Email),
            reference("AccountId", "Account", "Account"),
            field("SystemModstamp", FieldType::DateTime),
        ],
        child_relationships: vec![],
        name_field: None,
    }
}

pub fn account_id(n: u64) -> String {
    SfId::from_parts("001", "00", n).to_string()
}

pub fn contact_id(n: u64) -> String {
    SfId::from_parts("003", "00", n).to_string()
}

pub fn rec(value: Value) -> Record {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

pub fn account(n: u64, name: &str) -> Record {
    rec(json!({
        "attributes": {"type": "Account", "url": format!("/services/data/v62.0/sobjects/Account/{}", account_id(n))},
        "Id": account_id(n),
        "Name": name,
        "Industry": "Energy",
        "AnnualRevenue": 1000.5,
        "NumberOfEmployees": 12,
        "IsActive__c": true,
        "LastActivityDate": "2024-05-01",
        "SystemModstamp": "2024-05-08T21:20:00.000+0000",
        "Owner": {"attributes": {"type": "User"}, "Name": "Nested parent, not stored"},
    }))
}

pub fn t(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 8, 12, minute, 0).unwrap()
}
