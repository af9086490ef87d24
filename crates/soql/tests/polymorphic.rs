//! Paths through a polymorphic relationship (a reference with several targets) reach the
//! `Name` object, as in Salesforce: `Id`, `Name` and `Type` of whichever object the parent
//! is, with `{"type": "Name"}` attributes and a url that names the parent's own object.

mod sqlite_rows;

use rusqlite::Connection;
use serde_json::{Value, json};
use soql::schema::{
    Catalog, ChildRelationship, FieldSchema, FieldType, ObjectSchema, RowFilter, SqlValue,
};
use soql::{CompileOptions, ErrorKind, compile, parse};
use sqlite_rows::rows;

const ACME: &str = "001000000000001AAA";
const SECRET: &str = "001000000000002AAA";
const PUMP: &str = "0WO000000000001AAA";

fn field(name: &str, field_type: FieldType) -> FieldSchema {
    FieldSchema { name: name.into(), field_type, reference_to: vec![], relationship_name: None }
}

/// `Visit.ParentRecordId` may point at an Account, a WorkOrder, or an object the catalog
/// does not hold.
struct Visits(Vec<ObjectSchema>);

impl Catalog for Visits {
    fn object(&self, name: &str) -> Option<&ObjectSchema> {
        self.0.iter().find(|o| o.name.eq_ignore_ascii_case(name))
    }

    /// Hides rows whose `_visible` is 0, with parameters of two kinds so that one bound out
    /// of order fails the filter.
    fn row_filter(&self, object: &str, alias: &str) -> Option<RowFilter> {
        Some(RowFilter {
            sql: format!("(\"{alias}\".\"_visible\" = ? AND length(?) = {})", object.len()),
            params: vec![SqlValue::Integer(1), SqlValue::Text(object.to_string())],
        })
    }
}

fn catalog() -> Visits {
    use FieldType::*;
    let account = ObjectSchema {
        name: "Account".into(),
        fields: vec![field("Id", Id), field("Name", String)],
        child_relationships: vec![ChildRelationship {
            name: "Visits".into(),
            child_object: "Visit".into(),
            field: "ParentRecordId".into(),
        }],
        name_field: None,
    };
    let work_order = ObjectSchema {
        name: "WorkOrder".into(),
        fields: vec![field("Id", Id), field("WorkOrderNumber", String), field("Subject", String)],
        child_relationships: vec![],
        name_field: Some("WorkOrderNumber".into()),
    };
    let visit = ObjectSchema {
        name: "Visit".into(),
        fields: vec![
            field("Id", Id),
            field("Subject", String),
            FieldSchema {
                name: "ParentRecordId".into(),
                field_type: Reference,
                reference_to: vec!["Account".into(), "WorkOrder".into(), "Lead".into()],
                relationship_name: Some("ParentRecord".into()),
            },
        ],
        child_relationships: vec![],
        name_field: None,
    };
    Visits(vec![account, work_order, visit])
}

fn database(catalog: &Visits) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    for object in &catalog.0 {
        let columns: Vec<String> = object
            .fields
            .iter()
            .map(|f| format!("\"{}\" {}", f.name, f.field_type.sql_affinity()))
            .collect();
        conn.execute_batch(&format!(
            "CREATE TABLE \"{}\" ({}, \"_visible\" INTEGER NOT NULL DEFAULT 1)",
            object.name,
            columns.join(", ")
        ))
        .unwrap();
    }
    conn.execute_batch(&format!(
        r#"
        INSERT INTO "Account" VALUES ('{ACME}', 'Acme', 1), ('{SECRET}', 'Secret', 0);
        INSERT INTO "WorkOrder" VALUES ('{PUMP}', '00000042', 'Fix pump', 1);
        INSERT INTO "Visit" VALUES
            ('08p000000000001AAA', 'a at acme', '{ACME}', 1),
            ('08p000000000002AAA', 'b at pump', '{PUMP}', 1),
            ('08p000000000003AAA', 'c at secret', '{SECRET}', 1),
            ('08p000000000004AAA', 'd alone', NULL, 1);
        "#
    ))
    .unwrap();
    conn
}

fn opts() -> CompileOptions {
    CompileOptions::new("2024-05-15T12:00:00Z".parse().unwrap())
}

/// The records a query returns, each written as JSON text exactly as assembled.
fn run(soql: &str) -> Vec<Value> {
    let catalog = catalog();
    let conn = database(&catalog);
    let compiled = compile(&parse(soql).unwrap(), &catalog, &opts()).unwrap();
    // Object names are bound, never spliced into the statement.
    assert!(!compiled.sql.contains("'WorkOrder'") && !compiled.sql.contains("'Account'"));
    rows(&conn, &compiled.sql, &compiled.params)
        .iter()
        .map(|row| {
            let record = compiled.assemble(row);
            let mut written = Vec::new();
            compiled.write_record(row, &[], &mut written);
            assert_eq!(
                String::from_utf8(written).unwrap(),
                serde_json::to_string(&record).unwrap()
            );
            Value::Object(record)
        })
        .collect()
}

fn url(object: &str, id: &str) -> String {
    format!("/services/data/v62.0/sobjects/{object}/{id}")
}

#[test]
fn a_polymorphic_parent_reads_through_the_name_object() {
    let records = run(
        "SELECT Subject, ParentRecord.Name, ParentRecord.Type, ParentRecord.Id FROM Visit ORDER BY Subject",
    );
    assert_eq!(records.len(), 4);
    assert_eq!(
        records[0]["ParentRecord"],
        json!({
            "attributes": {"type": "Name", "url": url("Account", ACME)},
            "Name": "Acme",
            "Type": "Account",
            "Id": ACME,
        })
    );
    // A work order's name is its name field.
    assert_eq!(
        records[1]["ParentRecord"],
        json!({
            "attributes": {"type": "Name", "url": url("WorkOrder", PUMP)},
            "Name": "00000042",
            "Type": "WorkOrder",
            "Id": PUMP,
        })
    );
    // A parent the row filter hides reads as null, as does a missing one.
    assert_eq!(records[2]["ParentRecord"], Value::Null);
    assert_eq!(records[3]["ParentRecord"], Value::Null);
}

#[test]
fn filters_and_orders_by_the_parent_type_and_name() {
    let subjects = |soql: &str| -> Vec<String> {
        run(soql).iter().map(|r| r["Subject"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(
        subjects("SELECT Subject FROM Visit WHERE ParentRecord.Type = 'workorder'"),
        ["b at pump"]
    );
    assert_eq!(
        subjects(
            "SELECT Subject FROM Visit WHERE ParentRecord.Type IN ('Account', 'Lead') ORDER BY Subject"
        ),
        ["a at acme"]
    );
    assert_eq!(
        subjects("SELECT Subject FROM Visit WHERE ParentRecord.Type != 'Account' ORDER BY Subject"),
        ["b at pump", "c at secret", "d alone"]
    );
    assert_eq!(
        subjects(
            "SELECT Subject FROM Visit WHERE ParentRecord.Name LIKE 'ac%' AND ParentRecord.Id != null"
        ),
        ["a at acme"]
    );
    assert_eq!(
        subjects("SELECT Subject FROM Visit ORDER BY ParentRecord.Name NULLS LAST, Subject"),
        ["b at pump", "a at acme", "c at secret", "d alone"]
    );
}

#[test]
fn child_subqueries_read_the_polymorphic_parent_too() {
    let catalog = catalog();
    let conn = database(&catalog);
    let soql = "SELECT Name, (SELECT Subject, ParentRecord.Type FROM Visits) FROM Account";
    let compiled = compile(&parse(soql).unwrap(), &catalog, &opts()).unwrap();
    let child = &compiled.children()[0];
    let (sql, params) = child.sql_for_parents(&[ACME.to_owned()]);
    let visits = rows(&conn, &sql, &params);
    assert_eq!(visits.len(), 1);
    assert_eq!(
        Value::Object(child.assemble(&visits[0]))["ParentRecord"],
        json!({"attributes": {"type": "Name", "url": url("Account", ACME)}, "Type": "Account"})
    );
}

#[test]
fn fields_off_the_name_object_are_invalid() {
    let catalog = catalog();
    let error = |soql: &str| {
        let e = compile(&parse(soql).unwrap(), &catalog, &opts()).unwrap_err();
        (e.kind, e.message)
    };
    assert_eq!(
        error("SELECT ParentRecord.Subject FROM Visit"),
        (ErrorKind::InvalidField, "No such column 'Subject' on entity 'Name'".to_owned())
    );
    assert_eq!(
        error("SELECT Id FROM Visit WHERE ParentRecord.Owner.Name = 'x'"),
        (
            ErrorKind::InvalidField,
            "Didn't understand relationship 'Owner' in field path".to_owned()
        )
    );
}

#[test]
fn the_name_objects_other_fields_read_as_null_for_parents_without_them() {
    let records = run(
        "SELECT Subject, ParentRecord.Email, ParentRecord.IsActive FROM Visit ORDER BY Subject",
    );
    assert_eq!(
        records[0]["ParentRecord"],
        json!({
            "attributes": {"type": "Name", "url": url("Account", ACME)},
            "Email": null,
            "IsActive": null,
        })
    );
}
