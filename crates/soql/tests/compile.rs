//! Compiles queries against a real SQLite database laid out by the storage convention,
//! runs them the way an executor does, and checks the Salesforce-shaped JSON.

mod sqlite_rows;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde_json::{Map, Value, json};
use soql::schema::{
    Catalog, ChildRelationship, FieldSchema, FieldType, ObjectSchema, RowFilter, SqlValue,
};
use soql::{CompileOptions, ErrorKind, Position, child_result, compile, parse};
use sqlite_rows::rows;

fn field(name: &str, field_type: FieldType) -> FieldSchema {
    FieldSchema { name: name.into(), field_type, reference_to: vec![], relationship_name: None }
}

fn reference(name: &str, to: &str, relationship: &str) -> FieldSchema {
    FieldSchema {
        name: name.into(),
        field_type: FieldType::Reference,
        reference_to: vec![to.into()],
        relationship_name: Some(relationship.into()),
    }
}

fn child(name: &str, object: &str, field: &str) -> ChildRelationship {
    ChildRelationship { name: name.into(), child_object: object.into(), field: field.into() }
}

struct TestCatalog {
    objects: Vec<ObjectSchema>,
    /// Hide rows whose `_visible` column is 0.
    filter: bool,
}

impl Catalog for TestCatalog {
    fn object(&self, name: &str) -> Option<&ObjectSchema> {
        self.objects.iter().find(|o| o.name.eq_ignore_ascii_case(name))
    }

    /// Two parameters of different kinds, so that a parameter bound out of order makes
    /// the filter (or the condition beside it) fail.
    fn row_filter(&self, object: &str, alias: &str) -> Option<RowFilter> {
        self.filter.then(|| RowFilter {
            sql: format!("(\"{alias}\".\"_visible\" = ? AND length(?) = {})", object.len()),
            params: vec![SqlValue::Integer(1), SqlValue::Text(object.to_string())],
        })
    }
}

fn catalog() -> TestCatalog {
    use FieldType::*;
    let objects = vec![
        ObjectSchema {
            name: "Account".into(),
            fields: vec![
                field("Id", Id),
                field("Name", String),
                field("Industry", Picklist),
                field("Tags__c", MultiPicklist),
                field("AnnualRevenue", Currency),
                field("NumberOfEmployees", Int),
                field("Active__c", Boolean),
                reference("OwnerId", "User", "Owner"),
                field("CreatedDate", DateTime),
                field("LastActivityDate", Date),
                field("IsDeleted", Boolean),
            ],
            child_relationships: vec![
                child("Contacts", "Contact", "AccountId"),
                child("WorkOrders", "WorkOrder", "AccountId"),
            ],
            name_field: None,
        },
        ObjectSchema {
            name: "Contact".into(),
            fields: vec![
                field("Id", Id),
                field("FirstName", String),
                field("LastName", String),
                reference("AccountId", "Account", "Account"),
                reference("OwnerId", "User", "Owner"),
                field("IsDeleted", Boolean),
            ],
            child_relationships: vec![],
            name_field: None,
        },
        ObjectSchema {
            name: "User".into(),
            fields: vec![
                field("Id", Id),
                field("Name", String),
                reference("ManagerId", "User", "Manager"),
            ],
            child_relationships: vec![],
            name_field: None,
        },
        ObjectSchema {
            name: "WorkOrder".into(),
            fields: vec![
                field("Id", Id),
                field("Subject", String),
                field("Status", Picklist),
                reference("AccountId", "Account", "Account"),
                reference("ContactId", "Contact", "Contact"),
                field("StartDate", DateTime),
                field("IsDeleted", Boolean),
            ],
            child_relationships: vec![],
            name_field: None,
        },
    ];
    TestCatalog { objects, filter: true }
}

const ACME: &str = "001M000000qfPySIAU";
const BETA: &str = "001000000000002AAA";
const GAMMA: &str = "001000000000003AAA";
const DELETED: &str = "001000000000004AAA";
const HIDDEN: &str = "001000000000005AAA";
const ADA: &str = "005000000000001AAA";
const BOB: &str = "005000000000002AAA";
const CY: &str = "005000000000003AAA";

fn database(catalog: &TestCatalog) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    for object in &catalog.objects {
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
        INSERT INTO "User" VALUES ('{ADA}', 'Ada Admin', '{BOB}', 1), ('{BOB}', 'Bob Boss', NULL, 1),
            ('{CY}', 'Cy Hidden', NULL, 0);
        INSERT INTO "Account" VALUES
            ('{ACME}', 'Acme', 'Tech', 'red;blue', 1000.5, 10, 1, '{ADA}',
             '2024-05-10T08:00:00.000+0000', '2024-05-14', 0, 1),
            ('{BETA}', 'Beta Corp', NULL, 'blue', NULL, 200, 0, '{BOB}',
             '2024-04-01T12:00:00.000+0000', '2024-04-02', 0, 1),
            ('{GAMMA}', 'Gamma 50%', 'Retail', NULL, 5, NULL, 0, '{CY}',
             '2024-05-15T01:00:00.000+0000', NULL, 0, 1),
            ('{DELETED}', 'Deleted Co', 'Tech', NULL, NULL, NULL, 0, '{ADA}',
             '2024-05-01T00:00:00.000+0000', NULL, 1, 1),
            ('{HIDDEN}', 'Hidden Inc', 'Tech', NULL, NULL, NULL, 0, '{ADA}',
             '2024-05-01T00:00:00.000+0000', NULL, 0, 0);
        INSERT INTO "Contact" VALUES
            ('003000000000001AAA', 'Ann', 'Smith', '{ACME}', '{ADA}', 0, 1),
            ('003000000000002AAA', 'Ben', 'Jones', '{ACME}', '{BOB}', 0, 1),
            ('003000000000003AAA', 'Cat', 'Young', '{BETA}', '{BOB}', 0, 1),
            ('003000000000004AAA', NULL, 'NoAccount', NULL, '{ADA}', 0, 1),
            ('003000000000005AAA', 'Hid', 'Hidden', '{ACME}', '{ADA}', 0, 0),
            ('003000000000006AAA', 'Dee', 'Orphan', '{HIDDEN}', '{ADA}', 0, 1),
            ('003000000000007AAA', 'Del', 'Gone', '{ACME}', '{ADA}', 1, 1);
        INSERT INTO "WorkOrder" VALUES
            ('0WO000000000001AAA', 'Fix pump', 'New', '{ACME}', '003000000000001AAA',
             '2024-05-16T09:00:00.000+0000', 0, 1),
            ('0WO000000000002AAA', 'Inspect', 'Done', '{GAMMA}', NULL, NULL, 0, 1);
        "#
    ))
    .unwrap();
    conn
}

fn opts() -> CompileOptions {
    let now: DateTime<Utc> = "2024-05-15T12:00:00Z".parse().unwrap();
    CompileOptions::new(now)
}

fn count(conn: &Connection, (sql, params): (String, Vec<SqlValue>)) -> i64 {
    match rows(conn, &sql, &params)[0][0] {
        SqlValue::Integer(n) => n,
        ref other => panic!("{other:?}"),
    }
}

/// Runs a query as an executor would and returns the response body.
fn run_with(conn: &Connection, catalog: &TestCatalog, soql: &str, opts: &CompileOptions) -> Value {
    let compiled = compile(&parse(soql).unwrap(), catalog, opts).unwrap();
    if compiled.is_count() {
        let n = count(conn, (compiled.sql.clone(), compiled.params.clone()));
        assert_eq!(n, count(conn, compiled.count_sql()));
        return json!({"totalSize": n, "done": true, "records": []});
    }
    let page = rows(conn, &compiled.sql, &compiled.params);
    let mut records: Vec<Map<String, Value>> = page.iter().map(|r| compiled.assemble(r)).collect();
    let ids: Vec<String> =
        page.iter().filter_map(|r| compiled.row_id(r).map(str::to_string)).collect();
    let mut nested_by_record: Vec<Vec<(String, Value)>> = vec![Vec::new(); records.len()];
    for child in compiled.children() {
        let (sql, params) = child.sql_for_parents(&ids);
        let mut groups: HashMap<String, Vec<Map<String, Value>>> = HashMap::new();
        for row in rows(conn, &sql, &params) {
            let parent = child.parent_id(&row).unwrap().to_string();
            groups.entry(parent).or_default().push(child.assemble(&row));
        }
        for ((record, id), nested_here) in records.iter_mut().zip(&ids).zip(&mut nested_by_record) {
            let nested = child_result(groups.remove(id).unwrap_or_default());
            record.insert(child.relationship.clone(), nested.clone());
            nested_here.push((child.relationship.clone(), nested));
        }
    }

    // Records written straight to JSON text read exactly as the assembled ones.
    for ((row, record), nested) in page.iter().zip(&records).zip(&nested_by_record) {
        let children: Vec<(&str, &Value)> = nested.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let mut written = Vec::new();
        compiled.write_record(row, &children, &mut written);
        assert_eq!(String::from_utf8(written).unwrap(), serde_json::to_string(record).unwrap());
    }
    let total = count(conn, compiled.count_sql());
    json!({"totalSize": total, "done": true, "records": records})
}

struct Fixture {
    conn: Connection,
    catalog: TestCatalog,
}

impl Fixture {
    fn new() -> Fixture {
        let catalog = catalog();
        Fixture { conn: database(&catalog), catalog }
    }

    fn run(&self, soql: &str) -> Value {
        run_with(&self.conn, &self.catalog, soql, &opts())
    }

    /// The `Name` (or `LastName`) of each returned record.
    fn names(&self, soql: &str) -> Vec<String> {
        self.run(soql)["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.get("Name").or_else(|| r.get("LastName")).unwrap().as_str().unwrap().to_string()
            })
            .collect()
    }

    fn error(&self, soql: &str) -> (ErrorKind, String, Option<Position>) {
        let e = compile(&parse(soql).unwrap(), &self.catalog, &opts()).unwrap_err();
        (e.kind, e.message, e.position)
    }
}

fn url(object: &str, id: &str) -> String {
    format!("/services/data/v62.0/sobjects/{object}/{id}")
}

#[test]
fn nests_parent_paths_two_levels_deep() {
    let f = Fixture::new();
    let body = f.run(
        "select lastname, account.name, ACCOUNT.owner.name, Account.Owner.Manager.Name from contact where lastname in ('smith', 'orphan') order by LastName",
    );
    assert_eq!(body["totalSize"], 2);
    let records = body["records"].as_array().unwrap();
    assert_eq!(
        records[1],
        json!({
            "attributes": {"type": "Contact", "url": url("Contact", "003000000000001AAA")},
            "LastName": "Smith",
            "Account": {
                "attributes": {"type": "Account", "url": url("Account", ACME)},
                "Name": "Acme",
                "Owner": {
                    "attributes": {"type": "User", "url": url("User", ADA)},
                    "Name": "Ada Admin",
                    "Manager": {
                        "attributes": {"type": "User", "url": url("User", BOB)},
                        "Name": "Bob Boss"
                    }
                }
            }
        })
    );
    let keys: Vec<&String> = records[1].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["attributes", "LastName", "Account"]);
    // The account of Orphan is hidden by the row filter, so the path reads as null.
    assert_eq!(records[0]["LastName"], "Orphan");
    assert_eq!(records[0]["Account"], Value::Null);
}

#[test]
fn hidden_grandparent_reads_as_null_under_a_visible_parent() {
    let f = Fixture::new();
    let body = f.run("SELECT Subject, Account.Name, Account.Owner.Name, Contact.LastName FROM WorkOrder ORDER BY Subject");
    let records = body["records"].as_array().unwrap();
    assert_eq!(records[0]["Subject"], "Fix pump");
    assert_eq!(records[0]["Contact"]["LastName"], "Smith");
    assert_eq!(records[1]["Account"]["Name"], "Gamma 50%");
    assert_eq!(records[1]["Account"]["Owner"], Value::Null);
    assert_eq!(records[1]["Contact"], Value::Null);
}

#[test]
fn id_is_used_for_the_url_but_not_output_unless_selected() {
    let f = Fixture::new();
    let body = f.run("SELECT Name, NumberOfEmployees, AnnualRevenue, Active__c, CreatedDate, Tags__c FROM Account WHERE Name = 'ACME'");
    assert_eq!(
        body["records"][0],
        json!({
            "attributes": {"type": "Account", "url": url("Account", ACME)},
            "Name": "Acme",
            "NumberOfEmployees": 10,
            "AnnualRevenue": 1000.5,
            "Active__c": true,
            "CreatedDate": "2024-05-10T08:00:00.000+0000",
            "Tags__c": "red;blue"
        })
    );
    let body = f.run("SELECT id, NAME FROM Account WHERE Name = 'Acme'");
    let keys: Vec<&String> = body["records"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["attributes", "Id", "Name"]);
}

#[test]
fn child_subqueries_nest_visible_children_per_parent() {
    let f = Fixture::new();
    let body = f.run(
        "SELECT Name, (SELECT LastName, Owner.Name FROM Contacts ORDER BY LastName DESC), Industry FROM Account ORDER BY Name",
    );
    let records = body["records"].as_array().unwrap();
    assert_eq!(records.len(), 3);
    let keys: Vec<&String> = records[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["attributes", "Name", "Contacts", "Industry"]);
    let acme = &records[0]["Contacts"];
    assert_eq!(acme["totalSize"], 2);
    assert_eq!(acme["done"], true);
    assert_eq!(acme["records"][0]["LastName"], "Smith");
    assert_eq!(acme["records"][0]["Owner"]["Name"], "Ada Admin");
    assert_eq!(acme["records"][0]["attributes"]["url"], url("Contact", "003000000000001AAA"));
    assert_eq!(acme["records"][1]["LastName"], "Jones");
    assert_eq!(records[1]["Contacts"]["records"][0]["LastName"], "Young");
    assert_eq!(records[2]["Contacts"], Value::Null);

    let body = f.run(
        "SELECT Name, (SELECT LastName FROM Contacts WHERE LastName != 'Young' ORDER BY LastName LIMIT 1 OFFSET 1) FROM Account ORDER BY Name",
    );
    let records = body["records"].as_array().unwrap();
    assert_eq!(records[0]["Contacts"]["totalSize"], 1);
    assert_eq!(records[0]["Contacts"]["records"][0]["LastName"], "Smith");
    assert_eq!(records[1]["Contacts"], Value::Null);
}

#[test]
fn semi_joins_and_anti_joins() {
    let f = Fixture::new();
    assert_eq!(f.names("SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE LastName LIKE 'j%')"), ["Acme"]);
    // Contacts with a null AccountId must not empty the anti-join.
    assert_eq!(
        f.names("SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)"),
        ["Gamma 50%"]
    );
    // The row filter applies inside the subquery too.
    assert!(f.names("SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE LastName = 'Hidden')").is_empty());
    assert_eq!(
        f.names("SELECT LastName FROM Contact WHERE AccountId IN (SELECT Id FROM Account WHERE Industry = 'Tech') ORDER BY LastName"),
        ["Jones", "Smith"]
    );
    assert_eq!(
        f.names("SELECT LastName FROM Contact WHERE AccountId NOT IN (SELECT Id FROM Account WHERE Industry = 'Tech') ORDER BY LastName"),
        ["NoAccount", "Orphan", "Young"]
    );
}

#[test]
fn every_operator_follows_soql_semantics() {
    let f = Fixture::new();
    let q = |w: &str| f.names(&format!("SELECT Name FROM Account WHERE {w} ORDER BY Name"));
    assert_eq!(q("Name = 'ACME'"), ["Acme"]);
    assert_eq!(q("Industry != 'tech'"), ["Beta Corp", "Gamma 50%"]);
    assert_eq!(q("Industry <> 'Tech'"), ["Beta Corp", "Gamma 50%"]);
    assert_eq!(q("NumberOfEmployees < 200"), ["Acme"]);
    assert_eq!(q("NumberOfEmployees <= 200"), ["Acme", "Beta Corp"]);
    assert_eq!(q("NumberOfEmployees > 10"), ["Beta Corp"]);
    assert_eq!(q("NumberOfEmployees >= 10"), ["Acme", "Beta Corp"]);
    assert_eq!(q("AnnualRevenue > 4.5"), ["Acme", "Gamma 50%"]);
    assert_eq!(q("AnnualRevenue < -1"), Vec::<String>::new());
    assert_eq!(q("Name < 'b'"), ["Acme"]);
    assert_eq!(q("Name LIKE 'gamma 50\\%'"), ["Gamma 50%"]);
    assert_eq!(q("Name LIKE 'acme\\%'"), Vec::<String>::new());
    assert_eq!(q("Name LIKE 'B_ta%'"), ["Beta Corp"]);
    assert_eq!(q("Name LIKE '%M%'"), ["Acme", "Gamma 50%"]);
    assert_eq!(q("Industry IN ('tech', 'Retail')"), ["Acme", "Gamma 50%"]);
    assert_eq!(q("Industry NOT IN ('Tech')"), ["Beta Corp", "Gamma 50%"]);
    assert_eq!(q("Industry IN ('Tech', null)"), ["Acme", "Beta Corp"]);
    assert_eq!(q("Industry NOT IN ('Tech', null)"), ["Gamma 50%"]);
    assert_eq!(q("Tags__c INCLUDES ('blue')"), ["Acme", "Beta Corp"]);
    assert_eq!(q("Tags__c INCLUDES ('RED;blue')"), ["Acme"]);
    assert_eq!(q("Tags__c INCLUDES ('re', 'lue')"), Vec::<String>::new());
    assert_eq!(q("Tags__c INCLUDES ('red', 'blue;green')"), ["Acme"]);
    assert_eq!(q("Tags__c EXCLUDES ('red')"), ["Beta Corp", "Gamma 50%"]);
    assert_eq!(q("Active__c = true"), ["Acme"]);
    assert_eq!(q("Active__c != TRUE"), ["Beta Corp", "Gamma 50%"]);
    assert_eq!(q("AnnualRevenue = null"), ["Beta Corp"]);
    assert_eq!(q("AnnualRevenue != null"), ["Acme", "Gamma 50%"]);
    assert_eq!(q("NOT Name = 'Acme'"), ["Beta Corp", "Gamma 50%"]);
    assert_eq!(q("NOT Industry = 'Tech'"), ["Beta Corp", "Gamma 50%"]);
    assert_eq!(
        q("(Industry = 'Tech' OR Industry = 'Retail') AND NumberOfEmployees = null"),
        ["Gamma 50%"]
    );
    assert_eq!(
        q("Industry = 'Tech' OR NOT (NumberOfEmployees > 5 AND Active__c = false)"),
        ["Acme", "Gamma 50%"]
    );
    assert_eq!(q("Id = '001M000000qfPyS'"), ["Acme"]);
    assert_eq!(q("Owner.Name LIKE 'bob%'"), ["Beta Corp"]);
    // Gamma's owner is hidden, so the path is null for it.
    assert_eq!(q("Owner.Name = null"), ["Gamma 50%"]);
}

#[test]
fn date_literals_resolve_against_now() {
    let f = Fixture::new();
    let q = |w: &str| f.names(&format!("SELECT Name FROM Account WHERE {w} ORDER BY Name"));
    assert_eq!(q("CreatedDate = TODAY"), ["Gamma 50%"]);
    assert_eq!(q("CreatedDate = LAST_N_DAYS:7"), ["Acme", "Gamma 50%"]);
    assert_eq!(q("CreatedDate < THIS_MONTH"), ["Beta Corp"]);
    assert_eq!(q("CreatedDate = LAST_MONTH"), ["Beta Corp"]);
    assert_eq!(q("CreatedDate != THIS_WEEK"), ["Acme", "Beta Corp"]);
    assert_eq!(q("CreatedDate >= THIS_WEEK"), ["Gamma 50%"]);
    assert_eq!(q("CreatedDate <= LAST_WEEK"), ["Acme", "Beta Corp"]);
    assert_eq!(q("CreatedDate > YESTERDAY"), ["Gamma 50%"]);
    assert_eq!(q("LastActivityDate = YESTERDAY"), ["Acme"]);
    assert_eq!(q("LastActivityDate = N_DAYS_AGO:43"), ["Beta Corp"]);
    assert_eq!(q("LastActivityDate < LAST_N_WEEKS:1"), ["Beta Corp"]);
    assert_eq!(q("LastActivityDate = 2024-05-14"), ["Acme"]);
    assert_eq!(q("CreatedDate > 2024-05-10T09:00:00+02:00"), ["Acme", "Gamma 50%"]);
    assert_eq!(q("CreatedDate = 2024-05-10T08:00:00Z"), ["Acme"]);
    assert_eq!(q("CreatedDate = 2024-05-10T08:00:00.000+0000"), ["Acme"]);
    let body = f.run("SELECT Subject FROM WorkOrder WHERE StartDate = NEXT_N_DAYS:1");
    assert_eq!(body["totalSize"], 1);
    assert_eq!(body["records"][0]["Subject"], "Fix pump");
    assert_eq!(f.run("SELECT Subject FROM WorkOrder WHERE StartDate = TOMORROW")["totalSize"], 1);
    assert_eq!(f.run("SELECT Subject FROM WorkOrder WHERE StartDate = NEXT_WEEK")["totalSize"], 0);
}

#[test]
fn order_by_nulls_first_and_last() {
    let f = Fixture::new();
    assert_eq!(
        f.names("SELECT Name FROM Account ORDER BY Industry ASC NULLS LAST"),
        ["Gamma 50%", "Acme", "Beta Corp"]
    );
    assert_eq!(
        f.names("SELECT Name FROM Account ORDER BY Industry NULLS FIRST"),
        ["Beta Corp", "Gamma 50%", "Acme"]
    );
    assert_eq!(
        f.names("SELECT Name FROM Account ORDER BY NumberOfEmployees DESC NULLS FIRST"),
        ["Gamma 50%", "Beta Corp", "Acme"]
    );
    assert_eq!(
        f.names("SELECT Name FROM Account ORDER BY NumberOfEmployees DESC"),
        ["Beta Corp", "Acme", "Gamma 50%"]
    );
    assert_eq!(
        f.names("SELECT Name FROM Account ORDER BY Owner.Name DESC NULLS LAST"),
        ["Beta Corp", "Acme", "Gamma 50%"]
    );
    // Without ORDER BY, rows come back in Id order.
    assert_eq!(f.names("SELECT Name FROM Account"), ["Beta Corp", "Gamma 50%", "Acme"]);
}

#[test]
fn limit_and_offset_page_and_count() {
    let f = Fixture::new();
    let body = f.run("SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1");
    assert_eq!(body["totalSize"], 2);
    assert_eq!(body["records"].as_array().unwrap().len(), 2);
    assert_eq!(body["records"][0]["Name"], "Beta Corp");
    assert_eq!(f.run("SELECT Name FROM Account LIMIT 1")["totalSize"], 1);
    assert_eq!(f.run("SELECT Name FROM Account OFFSET 2")["records"][0]["Name"], "Acme");
    assert_eq!(f.run("SELECT Name FROM Account")["totalSize"], 3);
}

#[test]
fn count_queries() {
    let f = Fixture::new();
    assert_eq!(f.run("SELECT COUNT() FROM Contact")["totalSize"], 5);
    assert_eq!(f.run("SELECT count() FROM Contact WHERE Account.Name = 'Acme'")["totalSize"], 2);
    assert_eq!(f.run("SELECT COUNT() FROM Contact LIMIT 3")["totalSize"], 3);
    let body = f.run("SELECT COUNT(Id), COUNT(AccountId) FROM Contact");
    assert_eq!(body["totalSize"], 1);
    assert_eq!(
        body["records"][0],
        json!({"attributes": {"type": "AggregateResult"}, "expr0": 5, "expr1": 4})
    );
}

#[test]
fn deleted_rows_only_with_include_deleted() {
    let f = Fixture::new();
    let mut o = opts();
    o.include_deleted = true;
    assert_eq!(run_with(&f.conn, &f.catalog, "SELECT Name FROM Account", &o)["totalSize"], 4);
    let body = run_with(
        &f.conn,
        &f.catalog,
        "SELECT Name, (SELECT LastName FROM Contacts) FROM Account WHERE Name = 'Acme'",
        &o,
    );
    assert_eq!(body["records"][0]["Contacts"]["totalSize"], 3);
    assert_eq!(f.run("SELECT Name FROM Account WHERE Name = 'Deleted Co'")["totalSize"], 0);
}

#[test]
fn without_a_row_filter_everything_is_visible() {
    let mut catalog = catalog();
    catalog.filter = false;
    let conn = database(&catalog);
    let body = run_with(
        &conn,
        &catalog,
        "SELECT LastName, Account.Name FROM Contact WHERE LastName = 'Orphan'",
        &opts(),
    );
    assert_eq!(body["records"][0]["Account"]["Name"], "Hidden Inc");
}

#[test]
fn string_literals_are_parameters_not_sql() {
    let f = Fixture::new();
    let soql = r#"SELECT Name FROM Account WHERE Name = '\'); DROP TABLE "Account"; --' OR Name LIKE '%\'; DELETE FROM "Account"; --'"#;
    let compiled = compile(&parse(soql).unwrap(), &f.catalog, &opts()).unwrap();
    assert!(!compiled.sql.contains("DROP"), "{}", compiled.sql);
    assert!(!compiled.sql.contains("DELETE"), "{}", compiled.sql);
    assert!(compiled.params.contains(&SqlValue::Text(r#"'); DROP TABLE "Account"; --"#.into())));
    assert_eq!(f.run(soql)["totalSize"], 0);
    assert_eq!(f.run("SELECT Name FROM Account")["totalSize"], 3);
}

#[test]
fn errors_name_the_problem_and_its_position() {
    let f = Fixture::new();
    assert_eq!(
        f.error("SELECT Id FROM Acount"),
        (
            ErrorKind::InvalidType,
            "sObject type 'Acount' is not supported.".into(),
            Some(Position::new(1, 16))
        )
    );
    assert_eq!(
        f.error("SELECT Id, Nme FROM Account"),
        (
            ErrorKind::InvalidField,
            "No such column 'Nme' on entity 'Account'".into(),
            Some(Position::new(1, 12))
        )
    );
    assert_eq!(
        f.error("SELECT Id FROM Contact\nWHERE Account.Nme = 'x'"),
        (
            ErrorKind::InvalidField,
            "No such column 'Nme' on entity 'Account'".into(),
            Some(Position::new(2, 7))
        )
    );
    assert_eq!(
        f.error("SELECT Acount.Name FROM Contact").1,
        "Didn't understand relationship 'Acount' in field path"
    );
    assert_eq!(
        f.error("SELECT Account FROM Contact").1,
        "No such column 'Account' on entity 'Contact'"
    );
    assert_eq!(f.error("SELECT Id FROM Account ORDER BY Nme").0, ErrorKind::InvalidField);
    assert_eq!(f.error("SELECT (SELECT Id FROM Contactz) FROM Account").0, ErrorKind::InvalidType);
    assert_eq!(
        f.error("SELECT Id FROM Account WHERE Id IN (SELECT Nope FROM Contact)").0,
        ErrorKind::InvalidField
    );

    let (kind, message, position) = f.error("SELECT Id FROM Account WHERE NumberOfEmployees = '5'");
    assert_eq!(kind, ErrorKind::InvalidField);
    assert_eq!(
        message,
        "value of filter criterion for field 'NumberOfEmployees' must be of type int and should not be enclosed in quotes"
    );
    assert_eq!(position, Some(Position::new(1, 30)));
    assert_eq!(
        f.error("SELECT Id FROM Account WHERE Name = 5").1,
        "value of filter criterion for field 'Name' must be of type string and should be enclosed in quotes"
    );
    assert_eq!(
        f.error("SELECT Id FROM Account WHERE Name INCLUDES ('a')").1,
        "INCLUDES operator only valid on multipicklist field: Name"
    );
    assert_eq!(
        f.error("SELECT Id FROM Account WHERE NumberOfEmployees LIKE '5'").0,
        ErrorKind::InvalidField
    );
    assert_eq!(f.error("SELECT Id FROM Account WHERE Active__c > true").0, ErrorKind::InvalidField);
    assert_eq!(f.error("SELECT Id FROM Account WHERE Name = TODAY").0, ErrorKind::InvalidField);
    assert_eq!(
        f.error("SELECT Id FROM Account WHERE CreatedDate > 2024-05-01").0,
        ErrorKind::InvalidField
    );
    assert_eq!(
        f.error("SELECT Id FROM Account WHERE LastActivityDate > 2024-05-01T00:00:00Z").0,
        ErrorKind::InvalidField
    );
    assert_eq!(f.error("SELECT Id FROM Account WHERE Name > null").0, ErrorKind::InvalidField);
    assert_eq!(
        f.error("SELECT Id FROM Account WHERE Name IN (SELECT Id FROM Contact)").0,
        ErrorKind::InvalidField
    );
    let (kind, message, _) = f.error("SELECT Id FROM Account WHERE OwnerId = :user");
    assert_eq!(
        (kind, message.as_str()),
        (ErrorKind::MalformedQuery, "unsubstituted bind variable ':user'")
    );
    assert_eq!(f.error("SELECT COUNT(), Name FROM Account").0, ErrorKind::MalformedQuery);
    assert_eq!(f.error("SELECT COUNT(Id), Name FROM Account").0, ErrorKind::MalformedQuery);
}

#[test]
fn salesforce_message_points_at_the_problem() {
    let e = parse("SELECT Name FORM Account").unwrap_err();
    assert_eq!(e.error_code(), "MALFORMED_QUERY");
    assert_eq!(e.to_string(), "unexpected token: 'FORM' (at Row:1:Column:13)");
    assert_eq!(
        e.salesforce_message("SELECT Name FORM Account"),
        "\nSELECT Name FORM Account\n            ^\nERROR at Row:1:Column:13\nunexpected token: 'FORM'"
    );
}

mod generated {
    //! Generated queries over the fixture: each either fails with a typed error or
    //! compiles to SQL that SQLite runs.

    use super::*;
    use proptest::prelude::*;

    const FIELDS: &[&str] = &[
        "Id",
        "Name",
        "Industry",
        "Tags__c",
        "AnnualRevenue",
        "NumberOfEmployees",
        "Active__c",
        "CreatedDate",
        "LastActivityDate",
        "OwnerId",
        "Owner.Name",
        "Owner.Manager.Name",
    ];

    fn field() -> impl Strategy<Value = String> {
        prop::sample::select(FIELDS).prop_map(str::to_string)
    }

    fn value() -> impl Strategy<Value = String> {
        prop::sample::select(
            &[
                "'Acme'",
                "'a;b'",
                "'%a\\_'",
                "5",
                "-2.5",
                "true",
                "null",
                "2024-05-01",
                "2024-05-01T10:00:00Z",
                "TODAY",
                "LAST_N_DAYS:3",
                "THIS_WEEK",
                "NEXT_N_WEEKS:2",
            ][..],
        )
        .prop_map(str::to_string)
    }

    fn leaf() -> impl Strategy<Value = String> {
        let ops = prop::sample::select(&["=", "!=", "<", "<=", ">", ">=", "LIKE"][..]);
        let lists = prop::sample::select(&["IN", "NOT IN", "INCLUDES", "EXCLUDES"][..]);
        prop_oneof![
            (field(), ops, value()).prop_map(|(f, o, v)| format!("{f} {o} {v}")),
            (field(), lists, prop::collection::vec(value(), 1..3))
                .prop_map(|(f, o, v)| format!("{f} {o} ({})", v.join(", "))),
            (field(), any::<bool>(), field()).prop_map(|(f, neg, sub)| format!(
                "{f} {}IN (SELECT {} FROM Contact WHERE LastName != null)",
                if neg { "NOT " } else { "" },
                if sub.contains('.') { "Account.Id".to_string() } else { "AccountId".to_string() }
            )),
        ]
    }

    fn condition() -> impl Strategy<Value = String> {
        leaf().prop_recursive(3, 10, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4)
                    .prop_map(|v| format!("({})", v.join(" AND "))),
                prop::collection::vec(inner.clone(), 2..4)
                    .prop_map(|v| format!("({})", v.join(" OR "))),
                inner.prop_map(|c| format!("NOT {c}")),
            ]
        })
    }

    fn query() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(field(), 1..4),
            any::<bool>(),
            prop::option::of(condition()),
            prop::option::of((field(), any::<bool>(), any::<bool>())),
            prop::option::of(0u32..4),
            prop::option::of(0u32..3),
        )
            .prop_map(|(fields, child, cond, order, limit, offset)| {
                let mut q = format!("SELECT {}", fields.join(", "));
                if child {
                    q.push_str(
                        ", (SELECT LastName, Owner.Name FROM Contacts ORDER BY LastName LIMIT 1)",
                    );
                }
                q.push_str(" FROM Account");
                if let Some(c) = cond {
                    q.push_str(&format!(" WHERE {c}"));
                }
                if let Some((f, desc, nulls_first)) = order {
                    let dir = if desc { "DESC" } else { "ASC" };
                    let nulls = if nulls_first { "FIRST" } else { "LAST" };
                    q.push_str(&format!(" ORDER BY {f} {dir} NULLS {nulls}"));
                }
                if let Some(n) = limit {
                    q.push_str(&format!(" LIMIT {n}"));
                }
                if let Some(n) = offset {
                    q.push_str(&format!(" OFFSET {n}"));
                }
                q
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn generated_queries_compile_to_runnable_sql_or_fail_typed(soql in query()) {
            let f = Fixture::new();
            let parsed = parse(&soql);
            prop_assert!(parsed.is_ok(), "{soql}: {parsed:?}");
            match compile(&parsed.unwrap(), &f.catalog, &opts()) {
                Err(e) => prop_assert_eq!(e.kind, ErrorKind::InvalidField, "{}: {}", soql, e),
                Ok(_) => {
                    let body = f.run(&soql);
                    let records = body["records"].as_array().unwrap();
                    prop_assert!(records.len() <= 3);
                    prop_assert_eq!(body["totalSize"].as_u64().unwrap() as usize, records.len());
                    for r in records {
                        prop_assert_eq!(&r["attributes"]["type"], "Account");
                    }
                }
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,120}") {
            let _ = parse(&text);
        }

        #[test]
        fn token_soup_never_panics(words in prop::collection::vec(prop::sample::select(&[
            "SELECT", "FROM", "WHERE", "(", ")", ",", "Name", "Account", "=", "'x'", "IN",
            "NOT", "AND", "OR", "ORDER", "BY", "LIMIT", "5", ":", "TODAY", "LAST_N_DAYS",
            "COUNT", ".", "NULLS", "FIRST", "2024-05-01", "-", "\\", "'",
        ][..]), 0..30)) {
            let text = words.join(" ");
            if let Ok(q) = parse(&text) {
                let _ = compile(&q, &catalog(), &opts());
            }
        }
    }
}

/// The `EXPLAIN QUERY PLAN` details of a compiled query.
fn plan(conn: &Connection, catalog: &TestCatalog, soql: &str) -> Vec<String> {
    let compiled = compile(&parse(soql).unwrap(), catalog, &opts()).unwrap();
    let explain = format!("EXPLAIN QUERY PLAN {}", compiled.sql);
    rows(conn, &explain, &compiled.params)
        .into_iter()
        .filter_map(|row| match row.into_iter().nth(3) {
            Some(SqlValue::Text(detail)) => Some(detail),
            _ => None,
        })
        .collect()
}

#[test]
fn lookup_filters_use_the_index_and_accept_ids_in_any_case() {
    let f = Fixture::new();
    f.conn.execute_batch("CREATE INDEX contact_account ON \"Contact\" (\"AccountId\")").unwrap();

    for id in [ACME.to_string(), ACME.to_lowercase(), ACME[..15].to_string()] {
        let soql =
            format!("SELECT LastName FROM Contact WHERE AccountId = '{id}' ORDER BY LastName");
        assert_eq!(f.names(&soql), ["Jones", "Smith"], "{soql}");
        let details = plan(&f.conn, &f.catalog, &soql);
        assert!(
            details.iter().any(|d| d.contains("USING INDEX contact_account")),
            "{soql}: {details:?}"
        );
    }
    let soql = format!("SELECT LastName FROM Contact WHERE AccountId IN ('{ACME}', '{BETA}')");
    let details = plan(&f.conn, &f.catalog, &soql);
    assert!(details.iter().any(|d| d.contains("USING INDEX contact_account")), "{details:?}");
    assert_eq!(f.names(&soql).len(), 3);
}

#[test]
fn keyset_paging_by_id_walks_the_order_it_filters_by() {
    let f = Fixture::new();
    // Ids that sort differently with and without case.
    f.conn
        .execute_batch(
            "INSERT INTO \"Account\" (\"Id\", \"Name\", \"IsDeleted\") VALUES
             ('001a00000000001AAA', 'Lower', 0), ('001B00000000001AAA', 'Upper', 0)",
        )
        .unwrap();
    let ids = |soql: &str| -> Vec<String> {
        f.run(soql)["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Id"].as_str().unwrap().to_string())
            .collect()
    };
    let all = ids("SELECT Id FROM Account ORDER BY Id");
    let mut walked = Vec::new();
    let mut last: Option<String> = None;
    loop {
        let filter = last.as_ref().map(|l| format!("WHERE Id > '{l}' ")).unwrap_or_default();
        let page = ids(&format!("SELECT Id FROM Account {filter}ORDER BY Id LIMIT 2"));
        let Some(end) = page.last().cloned() else { break };
        walked.extend(page);
        last = Some(end);
    }
    assert_eq!(walked, all, "every record once, in order");
    assert!(all.len() >= 5);
}
