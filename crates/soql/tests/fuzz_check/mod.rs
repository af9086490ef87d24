//! The properties every input to the parser must keep, shared by the coverage-guided
//! fuzzer (`fuzz/afl`) and the test that replays its seeds and the crashes it found; the
//! property tests (`fuzz_parse.rs`) share its catalog.
//!
//! Whatever the text, parsing returns a query or an error with a message and a position
//! inside the text; a query prints back to text that parses to the same query, and
//! compiling it against a small catalog returns SQL or an error with a message. A
//! property that does not hold panics, which the fuzzer records as a crash.

use chrono::{TimeZone, Utc};
use soql::schema::{Catalog, ChildRelationship, FieldSchema, FieldType, ObjectSchema};
use soql::{CompileOptions, compile, parse};

/// A small catalog with references, a child relationship and every common field type.
pub struct Objects(Vec<ObjectSchema>);

impl Catalog for Objects {
    fn object(&self, name: &str) -> Option<&ObjectSchema> {
        self.0.iter().find(|o| o.name.eq_ignore_ascii_case(name))
    }
}

fn field(name: &str, field_type: FieldType) -> FieldSchema {
    FieldSchema { name: name.into(), field_type, reference_to: vec![], relationship_name: None }
}

/// Account and WorkOrder, the catalog every generated query compiles against.
pub fn catalog() -> Objects {
    use FieldType::*;
    let account = ObjectSchema {
        name: "Account".into(),
        fields: vec![
            field("Id", Id),
            field("Name", String),
            field("CreatedDate", DateTime),
            field("LastModifiedDate", DateTime),
            field("Birthday__c", Date),
            field("Amount__c", Currency),
        ],
        child_relationships: vec![ChildRelationship {
            name: "WorkOrders".into(),
            child_object: "WorkOrder".into(),
            field: "AccountId".into(),
        }],
        name_field: None,
    };
    let work_order = ObjectSchema {
        name: "WorkOrder".into(),
        fields: vec![
            field("Id", Id),
            field("Subject", String),
            field("Status", Picklist),
            field("Priority", Picklist),
            field("Amount__c", Double),
            field("Closed__c", Boolean),
            field("Tags__c", MultiPicklist),
            field("Count__c", Int),
            FieldSchema {
                name: "AccountId".into(),
                field_type: Reference,
                reference_to: vec!["Account".into()],
                relationship_name: Some("Account".into()),
            },
        ],
        child_relationships: vec![],
        name_field: None,
    };
    Objects(vec![account, work_order])
}

/// Checks every property on `bytes`; text that is not UTF-8 is not a query and is skipped.
pub fn check_bytes(bytes: &[u8], catalog: &Objects) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        check(text, catalog);
    }
}

/// Parses `text` and, when that works, prints, parses again and compiles.
pub fn check(text: &str, catalog: &Objects) {
    let query = match parse(text) {
        Ok(query) => query,
        Err(e) => {
            assert!(!e.message.is_empty(), "parse error without a message for {text:?}");
            let pos = e.position.unwrap_or_else(|| panic!("parse error without a position: {e}"));
            let lines = text.split('\n').count();
            assert!(pos.line >= 1 && pos.column >= 1, "position {pos} is not 1-based");
            assert!(pos.line as usize <= lines, "position {pos} past the last line of {text:?}");
            return;
        }
    };

    // The printed query parses back to itself, and printing is stable.
    let printed = query.to_string();
    let again = parse(&printed)
        .unwrap_or_else(|e| panic!("printed query {printed:?} of {text:?} does not parse: {e}"));
    assert_eq!(again.to_string(), printed, "printing {text:?} is not stable");

    let now = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
    if let Err(e) = compile(&query, catalog, &CompileOptions::new(now)) {
        assert!(!e.message.is_empty(), "compile error without a message for {text:?}");
    }
}
